"""tools/estimator_table.py: every estimator gets its rows beside its scikit-learn twin."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("sklearn")
pytest.importorskip("threadpoolctl")

from tools import estimator_table  # noqa: E402


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def test_quick_table_has_a_row_for_every_pair(capsys):
    text = estimator_table.main(["--quick"])
    assert capsys.readouterr().out.strip() == text.strip()
    names = [name for name, *_ in estimator_table.PAIRS]
    scores = [_cells(line) for line in text.splitlines() if line.startswith("| ")]
    for name in names:
        row = next(r for r in scores if r[0] == name and r[2] in ("accuracy", "R^2", "ARI"))
        ours, theirs = float(row[3]), float(row[4])
        assert -1 <= ours <= 1 and -1 <= theirs <= 1
        assert all(float(t) > 0 for t in row[5:7])
    params = {r[0]: r for r in scores if len(r) == 7 and r[0] in names and r[2] not in
              ("accuracy", "R^2", "ARI")}  # fmt: skip
    assert set(params) == set(names)
    assert "missing" not in " ".join(" ".join(r) for r in params.values())
    assert "C, fit_intercept" in params["LogisticRegression"][1]
    assert re.search(r"\| descent \| 4 \| [\d.]+ \| 0\.\d+ \|", text)
    assert "the backward engine" in text
