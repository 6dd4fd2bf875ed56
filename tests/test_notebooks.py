"""Jupyter: the rich displays (graph, explain, History, estimators, lessons) and every
lesson written as a notebook by `descent lesson NAME --notebook` and run by nbclient."""

from __future__ import annotations

import html
import json
import os
import shutil
import stat
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

import descent as ds
from descent import lessons
from descent.cli import main
from descent.train.history import History
from tests.helpers import computed_results, measured_keys, steady

SVG = "{http://www.w3.org/2000/svg}"


class Tables(HTMLParser):
    """The text of every table cell in an HTML string: tables -> rows -> cells."""

    def __init__(self, text: str):
        super().__init__()
        self.tables, self._cell = [], None
        self.captions, self._caption = [], None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "caption":
            self._caption = []

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.tables[-1][-1].append("".join(self._cell))
            self._cell = None
        elif tag == "caption":
            self.captions.append("".join(self._caption))
            self._caption = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._caption is not None:
            self._caption.append(data)


# ---- ds.viz.graph: drawn by dot, or the DOT text and how to get Graphviz ------------------


def _small_graph():
    w = ds.tensor(0.5, requires_grad=True)
    x = ds.tensor(-2.0)
    return ds.viz.graph((w * x - 1.0) ** 2, names={"w": w, "x": x})


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_graph_is_drawn_as_svg_with_its_node_labels_when_dot_is_installed():
    g = _small_graph()
    bundle = g._repr_mimebundle_()
    assert set(bundle) == {"image/svg+xml", "text/plain"}
    root = ET.fromstring(bundle["image/svg+xml"])
    texts = {t.text for t in root.iter(f"{SVG}text")}
    assert {"parameter w", "x", "Mul", "Sub", "value -2", "value 4"} <= texts
    assert any(t.startswith("Pow") and "(loss)" in t for t in texts if t)
    assert g._repr_svg_() == bundle["image/svg+xml"]


def test_graph_without_dot_shows_its_dot_text_and_how_to_install_graphviz(monkeypatch):
    g = _small_graph()
    monkeypatch.setenv("PATH", "")  # no dot to be found
    assert g._repr_svg_() is None
    bundle = g._repr_mimebundle_()
    assert "image/svg+xml" not in bundle
    for text in (bundle["text/html"], bundle["text/plain"]):
        assert "apt-get install graphviz" in text and "brew install graphviz" in text
        assert "conda install graphviz" in text and "not installed" in text
    assert g.source in bundle["text/plain"]
    # the DOT text is escaped inside a <pre>: quotes and arrows survive the HTML
    assert "<pre>" in bundle["text/html"] and "-&gt;" in bundle["text/html"]
    unescaped = bundle["text/html"].split("<pre>")[1].split("</pre>")[0]
    assert html.unescape(unescaped) == g.source


def _fake_dot(folder: Path, body: str) -> None:
    dot = folder / "dot"
    dot.write_text(f"#!/bin/sh\n{body}\n")
    dot.chmod(dot.stat().st_mode | stat.S_IXUSR)


def test_graph_falls_back_to_text_when_dot_fails_or_runs_too_long(tmp_path, monkeypatch):
    g = _small_graph()
    sleep = shutil.which("sleep")
    monkeypatch.setenv("PATH", str(tmp_path))
    _fake_dot(tmp_path, "echo 'syntax error in line 1' >&2; exit 3")
    bundle = g._repr_mimebundle_()
    assert "dot failed (exit 3): syntax error in line 1" in bundle["text/plain"]
    assert "install graphviz" in bundle["text/html"]
    _fake_dot(tmp_path, f"exec {sleep} 5")
    with pytest.raises(RuntimeError, match="did not finish"):
        g.pipe("svg", timeout=0.2)


# ---- ds.viz.explain: the chain rule as tables --------------------------------------------


def test_explain_html_has_one_row_per_edge_and_the_arithmetic_parenthesised():
    w = ds.tensor(0.5, requires_grad=True)
    x = ds.tensor(-2.0)
    e = ds.viz.explain((w * x - 1.0) ** 2, wrt=w, names={"w": w, "x": x})
    page = e._repr_html_()
    edges, paths = Tables(page).tables
    assert edges[0] == ["edge", "local derivative", "with the values", "="]
    assert [row[0] for row in edges[1:]] == [r.edge for r in e.edges]
    assert [row[3] for row in edges[1:]] == ["-4", "1", "-2"]
    assert edges[1] == ["dJ/d[w*x - 1]", "2 (w*x - 1)", "2 \u00d7 (-2)", "-4"]
    assert paths[1][0] == "1 of 1: J <- w*x - 1 <- w*x <- w"
    assert paths[1][2] == "(2 \u00d7 (-2)) \u00d7 1 \u00d7 (-2)" and paths[1][3] == "8"
    assert "autodiff (ds.grad) gives dJ/dw = 8: equal" in page


def test_explain_html_of_a_truncated_walk_says_how_many_paths_it_leaves_out():
    a = ds.tensor(1.5, requires_grad=True)
    b = a
    for _ in range(3):
        b = b * a + a  # every step uses a twice: more paths than max_paths lists
    e = ds.viz.explain(b, wrt=a, max_paths=2)
    total = e.parts["path_count"]
    assert total > 2 and len(e.paths) == 2
    page = e._repr_html_()
    _, paths = Tables(page).tables
    assert [row[0].split(":")[0] for row in paths[1:]] == [f"1 of {total}", f"2 of {total}"]
    assert f"{total - 2} more paths not listed (max_paths=2)" in page
    assert f"{total - 2} more paths not listed (max_paths=2)" in str(e)


def test_explain_html_escapes_names_and_shows_array_steps():
    lesson = lessons.run("backprop")
    e = lesson.explain()
    page = e._repr_html_()
    assert "-&gt;" in page and "->" not in page.replace("-&gt;", "")
    edges, paths = Tables(page).tables
    assert [row[0] for row in edges[1:]] == [r.edge for r in e.edges]
    assert len(paths) == 1 + len(e.paths)
    assert e._repr_html_().count("<pre>") >= 2  # the forward pass, the path's steps


# ---- History: a small hand-drawn SVG plot -------------------------------------------------


def _history():
    h = History()
    for epoch, (loss, val) in enumerate([(3.0, 3.5), (2.0, 2.6), (1.5, 2.2), (1.2, 2.3)]):
        h.append(epoch, {"loss": loss, "val_loss": val, "accuracy": 0.5 + epoch / 10})
    return h


def test_history_svg_has_a_polyline_per_loss_that_follows_the_values():
    h = _history()
    root = ET.fromstring(h._repr_svg_())
    lines = {p.get("class"): p for p in root.iter(f"{SVG}polyline")}
    assert set(lines) == {"loss", "val_loss"}  # the losses, not accuracy
    for key, line in lines.items():
        points = [tuple(map(float, p.split(","))) for p in line.get("points").split()]
        xs, ys = zip(*points)
        assert list(xs) == sorted(xs) and len(xs) == len(h[key])
        # SVG's y grows downwards: y is one decreasing straight-line map of the loss, the
        # same for every curve (they share the axis from the lowest to the highest value)
        slope, intercept = np.polyfit(h[key], ys, 1)
        assert slope < 0 and np.allclose(np.asarray(h[key]) * slope + intercept, ys, atol=0.01)
        assert np.allclose(np.array([1.2, 3.5]) * slope + intercept, [146, 17], atol=0.05)
    page = h._repr_html_()
    rows = Tables(page).tables[0]
    assert rows[1:] == [["loss", "1.2"], ["val_loss", "2.3"], ["accuracy", "0.8"]]
    assert repr(h) == "History(epochs=4, last={'loss': 1.2, 'val_loss': 2.3, 'accuracy': 0.8})"


def test_history_svg_breaks_its_line_at_a_nan_and_is_none_when_empty():
    assert History()._repr_svg_() is None
    assert "History</b>: 0 epochs" in History()._repr_html_()
    h = History({"loss": [2.0, float("nan"), 1.0, 0.5]}, [0, 1, 2, 3])
    h.stopped_by = "TerminateOnNaN: the loss became nan at epoch 1"
    root = ET.fromstring(h._repr_svg_())
    runs = [p.get("points").split() for p in root.iter(f"{SVG}polyline")]
    assert [len(r) for r in runs] == [1, 2]
    assert "Stopped early by TerminateOnNaN" in h._repr_html_()


# ---- estimators: scikit-learn's HTML convention, our own HTML -----------------------------


def test_estimator_html_lists_parameters_fitted_state_and_learned_attributes():
    est = ds.models.LogisticRegression(C=0.5, max_iter=3, tol=None)
    bundle = est._repr_mimebundle_()
    assert bundle["text/plain"] == repr(est) == "LogisticRegression(C=0.5, max_iter=3, tol=None)"
    page = bundle["text/html"]
    assert page == est._repr_html_() and page.startswith("<details")
    assert "(not fitted)" in page and "<b>0.5</b>" in page and "<b>3</b>" in page
    params = Tables(page).tables[0]
    assert [row[0] for row in params[1:]] == sorted(est.get_params())
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 3))
    est.fit(X, (X[:, 0] > 0).astype(int))
    page = est._repr_html_()
    assert "(fitted)" in page
    learned = dict(Tables(page).tables[1][1:])
    assert learned["coef_"] == "shape (1, 3)" and learned["classes_"] == "shape (2,)"
    assert "&#x27;adam&#x27;" in page  # repr of a string parameter, escaped


# ---- lessons: HTML tables -----------------------------------------------------------------


def test_lesson_html_shows_its_paragraphs_and_tables_in_order():
    lesson = lessons.run("gravity")
    page = lesson._repr_html_()
    parsed = Tables(page)
    assert parsed.captions == [t.title for t in lesson.tables()]
    for table, rows in zip(lesson.tables(), parsed.tables):
        assert rows[0] == table.columns and len(rows) == len(table.rows) + 1
        rendered = [line.split("  ") for line in table.render().splitlines()[3:]]
        assert rows[1:] == [[c.strip() for c in r if c.strip()] for r in rendered]
    assert page.index(lesson.sections[0][:40]) < page.index("<table")
    assert "--plot DIR" in page  # gravity has a picture
    first_row = Tables(lesson.tables()[0]._repr_html_()).tables[0][1]
    assert first_row == ["8", "16", "36", "80", "402.57"]


# ---- every lesson as a notebook, run by nbclient ------------------------------------------

ROOT = Path(ds.__file__).resolve().parents[1]


@pytest.fixture
def kernel_env(monkeypatch):
    """The kernel imports this descent, finds the venv's own kernelspec first, and uses one
    BLAS thread like the test process (so the numbers are computed the same way)."""
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    path = os.environ.get("PYTHONPATH")
    monkeypatch.setenv("PYTHONPATH", str(ROOT) + (os.pathsep + path if path else ""))
    monkeypatch.setenv("JUPYTER_PATH", os.path.join(sys.prefix, "share", "jupyter"))
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(var, "1")


def _texts(cell, kind: str) -> str:
    out = []
    for o in cell.outputs:
        if kind == "stdout" and o.output_type == "stream" and o.name == "stdout":
            out.append(o.text)
        elif o.output_type in ("execute_result", "display_data") and kind in o.data:
            out.append(o.data[kind])
    return "".join(out)


@pytest.mark.parametrize("name", lessons.names())
def test_lesson_notebook_runs_and_prints_the_lessons_numbers(name, tmp_path, kernel_env, capsys):
    nbformat = pytest.importorskip("nbformat")
    from nbclient import NotebookClient

    path = tmp_path / f"{name}.ipynb"
    assert main(["lesson", name, "--notebook", str(path)]) == 0
    assert f"wrote {path}" in capsys.readouterr().out
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    for cell in code:
        assert cell.execution_count is not None
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert not errors, f"{name}: cell {cell.source!r} failed: {errors}"

    lesson = lessons.run(name)
    # a lesson that measures times prints other numbers in each run: compare those by shape
    same = (lambda a, b: steady(a) == steady(b)) if measured_keys(name) else str.__eq__
    expected = json.dumps(lesson.to_dict()["results"], indent=1) + "\n"
    numbers = [c for c in code if 'lesson.to_dict()["results"]' in c.source]
    assert len(numbers) == 1 and same(_texts(numbers[0], "stdout"), expected)
    printed = json.loads(_texts(numbers[0], "stdout"))
    assert computed_results(printed, name) == computed_results(lesson.to_dict()["results"], name)

    # each step: the paragraphs printed as the lesson has them, then the table
    shown_tables, shown_text = [], []
    for cell in code:
        if "lesson.sections[" not in cell.source:
            continue
        shown_text.append(_texts(cell, "stdout"))
        if _texts(cell, "text/html"):
            shown_tables.append((_texts(cell, "text/plain"), _texts(cell, "text/html")))
    tables = [(t.render(), t._repr_html_()) for t in lesson.tables()]
    assert len(shown_tables) == len(tables)
    assert all(same(a, b) for shown, table in zip(shown_tables, tables)
               for a, b in zip(shown, table))  # fmt: skip
    paragraphs = [s for s in lesson.sections if isinstance(s, str)]
    assert same("".join(shown_text), "".join(p + "\n" for p in paragraphs))
    if lesson.explain is not None:
        (cell,) = [c for c in code if c.source == "lesson.explain()"]
        assert _texts(cell, "text/plain") == lesson.explain().text
        assert "<table" in _texts(cell, "text/html")
    pictures = sum(o.get("data", {}).get("image/png") is not None for c in code for o in c.outputs)
    assert pictures == len(lesson.figures)


def test_lesson_notebook_says_what_it_is_and_where_it_comes_from(tmp_path, capsys):
    nbformat = pytest.importorskip("nbformat")
    path = tmp_path / "deep" / "curvature.ipynb"
    assert main(["lesson", "curvature", "--notebook", str(path), "--json"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["name"] == "curvature" and "wrote" in out.err
    nb = nbformat.read(path, as_version=4)
    title = nb.cells[0].source
    assert title.startswith("# ") and "deck `001_06db21ae3b045989.txt`" in title
    assert "slides 34-69" in title
    assert nb.metadata.descent.lesson == "curvature"
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def test_nbconvert_turns_a_lesson_notebook_into_an_html_page(tmp_path, kernel_env, capsys):
    pytest.importorskip("nbconvert")
    path = tmp_path / "backprop.ipynb"
    assert main(["lesson", "backprop", "--notebook", str(path)]) == 0
    done = subprocess.run(
        [sys.executable, "-m", "nbconvert", "--to", "html", "--execute", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "backprop.html").read_text()
    lesson = lessons.run("backprop")
    for table in lesson.tables():
        assert html.escape(table.title) in page
    assert 'class="descent-explain"' in page and "Traceback" not in page


def test_lesson_notebook_without_nbformat_names_the_extra(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "nbformat", None)  # as if it were not installed
    assert main(["lesson", "gravity", "--notebook", str(tmp_path / "g.ipynb")]) == 2
    assert "pip install 'descent[notebook]'" in capsys.readouterr().err
    assert not (tmp_path / "g.ipynb").exists()


def test_notebook_without_a_lesson_or_into_a_folder_is_refused(tmp_path, capsys):
    from descent.cli import main

    assert main(["lesson", "--notebook", str(tmp_path / "x.ipynb")]) == 2
    assert "--notebook needs a lesson's name" in capsys.readouterr().err
    assert main(["lesson", "gravity", "--notebook", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"cannot write {tmp_path}: it is a folder" in err and ".tmp" not in err
    assert list(tmp_path.iterdir()) == []
