"""tools/lecture_numbers.py: the table of the lectures' worked numbers stays true."""

from __future__ import annotations

import pytest

from descent import lessons
from tools import lecture_numbers as ln


@pytest.fixture(scope="module")
def computed():
    return {name: lessons.run(name).to_dict() for name in lessons.names()}


def test_docs_lectures_md_is_the_table_and_every_row_holds(capsys):
    assert ln.main(["--check"]) == 0, capsys.readouterr().err
    problems = [
        line
        for line in capsys.readouterr().err.splitlines()
        if "the decks are not found" not in line
    ]
    assert problems == []


def test_every_row_holds_against_the_lessons(computed):
    checked = ln.check_rows(decks=ln.find_decks(), lessons=computed)
    assert [r for r in checked if r["problems"]] == []
    statuses = {r["status"] for r in checked}
    assert {"MATCH", "slide slip, flagged"} <= statuses
    assert "MISMATCH" not in statuses


def test_every_slip_a_lesson_flags_has_its_row(computed):
    rows = {(r["deck"], r["line"]) for r in ln.ROWS if "correct" in r}
    for name, data in computed.items():
        for slip in data["slips"]:
            assert (slip["deck"], slip["line"]) in rows, f"{name}: {slip['deck']}:{slip['line']}"


def test_a_wrong_value_a_missing_flag_and_a_wrong_quote_are_caught(computed):
    wrong = ln.match(ln.D1, 667, 24, "= 402.57", "L(8) = 402.57", 402.57, "gravity",
                 "results/loss_at/9")  # fmt: skip
    (row,) = ln.check_rows([wrong], decks=None, lessons=computed)
    assert row["status"] == "MISMATCH" and "gravity has 79.52" in row["problems"][0]
    unflagged = ln.slip(ln.D1, 667, 24, "= 402.57", "L(8)", 402.57, 402.57, "gravity",
                     "results/loss_at/8")  # fmt: skip
    (row,) = ln.check_rows([unflagged], decks=None, lessons=computed)
    assert any("does not flag" in p for p in row["problems"])
    assert any("no slip" in p for p in row["problems"])
    not_quoted = ln.match(ln.D1, 667, 24, "= 402.57", "L(8)", 402.58, "gravity",
                          "results/loss_at/8")  # fmt: skip
    (row,) = ln.check_rows([not_quoted], decks=None, lessons=computed)
    assert any("not the quote's numbers" in p for p in row["problems"])
    decks = ln.find_decks()
    if decks is not None:
        elsewhere = ln.match(ln.D1, 668, 24, "= 402.57", "L(8)", 402.57, "gravity",
                         "results/loss_at/8")  # fmt: skip
        (row,) = ln.check_rows([elsewhere], decks=decks, lessons=computed)
        assert any("not on line 668" in p for p in row["problems"])


def test_paths_and_precision():
    data = {"a": [{"line": 3, "v": [1, 2]}, {"line": 4, "v": [5]}], "b": {"c": 7.0}}
    assert ln._get(data, "a/line=4/v/0") == 5
    assert ln._get(data, "a/0/v+b/c") == [1, 2, 7.0]
    assert ln._get(data, "a/-1/v") == [5]
    assert ln._agrees(402.57, 402.5704, approx=False)
    assert not ln._agrees(402.57, 402.58, approx=False)
    assert ln._agrees(402, 402.57, approx=True) and not ln._agrees(402, 402.57, approx=False)
    assert ln._agrees([3, -2], [[3.0, -2.0]], approx=False)


def test_every_row_is_tied_to_a_lesson_but_the_schedules_topics(computed):
    checked = ln.check_rows(decks=None, lessons=computed)
    statuses = {r["status"] for r in checked}
    assert statuses == {"MATCH", "slide slip, flagged", ln.SCHEDULE}
    schedule = [r for r in checked if r["status"] == ln.SCHEDULE]
    assert [r["says"] for r in schedule] == ["ML: K-Nearest Neighbors & Naive Bayes"]


def test_a_formula_row_holds_only_where_the_lesson_checked_it(computed):
    row = ln.formula(ln.D2, 1248, 67, "30x^2y^2 + 5y^3 + 4", "df/dx", "30x^2y^2 + 5y^3 + 4",
                     "partial-derivatives", "results/polynomial/df/dx",
                     "results/polynomial/largest_difference")  # fmt: skip
    (held,) = ln.check_rows([row], decks=None, lessons=computed)
    assert held["status"] == "MATCH" and held["problems"] == []
    unchecked = {**row, "verified": "results/number_like_7/by_hand"}  # 3189: not a difference
    (failed,) = ln.check_rows([unchecked], decks=None, lessons=computed)
    assert failed["status"] == "MISMATCH" and "3189 apart" in failed["problems"][0]
    other = {**row, "value": "30x^2y^2 + 5y^3"}
    (wrong,) = ln.check_rows([other], decks=None, lessons=computed)
    assert wrong["status"] == "MISMATCH"


def test_a_path_step_may_be_a_key_with_a_slash():
    data = {"formulas": {"dl/dy^": "(1 - y)/(1 - y^) - y/y^", "z": 1}}
    assert ln._get(data, "formulas/dl/dy^") == "(1 - y)/(1 - y^) - y/y^"
    assert ln._get(data, "formulas/z") == 1
    with pytest.raises(KeyError):
        ln._get(data, "formulas/dl/dx")
