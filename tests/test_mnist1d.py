"""MNIST-1D: the loader (generated in memory, no network, no pickle, the caller's random
streams untouched), the lesson in its quick mode (the paper's story in its numbers), the
bench workloads and the table tool, each run short."""

from __future__ import annotations

import importlib
import json
import random
import sys

import numpy as np
import pytest

import descent as ds
from descent.bench import mnist1d as bench_mnist1d
from descent.cli import main

# the package's name mnist1d is the lesson function; its module holds the constants
lesson_module = importlib.import_module("descent.lessons.mnist1d")

mnist1d_data = pytest.importorskip("mnist1d.data")


# ---- the loader ------------------------------------------------------------------------------


def test_the_paper_split_shapes_and_types():
    (x, y), (x_test, y_test) = ds.datasets.load_mnist1d()
    assert x.shape == (4000, 40) and x_test.shape == (1000, 40)
    assert x.dtype == np.float32 and y.dtype == np.int64
    assert sorted(set(y.tolist())) == list(range(10)) and sorted(set(y_test.tolist())) == list(
        range(10)
    )
    # mnist1d standardises the whole set: mean 0, std 1 over train and test together
    both = np.concatenate([x, x_test])
    assert abs(float(both.mean())) < 1e-4 and abs(float(both.std()) - 1) < 1e-4


def test_it_is_mnist1d_make_dataset_with_the_papers_arguments():
    args = mnist1d_data.get_dataset_args()
    expected = mnist1d_data.make_dataset(args)
    (x, y), (x_test, y_test) = ds.datasets.load_mnist1d()
    np.testing.assert_allclose(x, expected["x"], rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(y_test, expected["y_test"])


def test_shuffled_positions_are_one_permutation_for_every_series():
    (x, y), (x_test, y_test) = ds.datasets.load_mnist1d()
    train, test = ds.datasets.load_mnist1d(shuffle_positions=True)
    order = train.positions
    assert sorted(order.tolist()) == list(range(40)) and not np.array_equal(order, np.arange(40))
    np.testing.assert_array_equal(test.positions, order)
    np.testing.assert_array_equal(train.data, x[:, order])
    np.testing.assert_array_equal(test.data, x_test[:, order])
    np.testing.assert_array_equal(train.target, y)
    other, _ = ds.datasets.load_mnist1d(shuffle_positions=True, seed=7)
    assert not np.array_equal(other.positions, order)  # the seed draws the permutation


def test_the_loader_leaves_the_callers_random_streams_and_its_arrays_alone():
    np.random.seed(123)
    random.seed(123)
    expected = (np.random.rand(), random.random())
    np.random.seed(123)
    random.seed(123)
    (x, _), _ = ds.datasets.load_mnist1d(seed=3)
    assert (np.random.rand(), random.random()) == expected
    x[:] = 0  # the caller's copy: the next call is unchanged
    (again, _), _ = ds.datasets.load_mnist1d(seed=3)
    assert float(np.abs(again).sum()) > 0


def test_no_network_and_no_pickle(monkeypatch, tmp_path):
    """mnist1d's get_dataset downloads and caches a pickle; descent only calls make_dataset."""
    import mnist1d.utils
    import requests

    def refuse(*args, **kwargs):
        raise AssertionError("the network or a pickle was touched")

    monkeypatch.setattr(requests, "get", refuse)
    monkeypatch.setattr(mnist1d_data, "get_dataset", refuse)
    for name in ("to_pickle", "from_pickle"):
        monkeypatch.setattr(mnist1d.utils, name, refuse)
        monkeypatch.setattr(mnist1d_data, name, refuse)
    monkeypatch.setattr("pickle.load", refuse)
    monkeypatch.setattr("pickle.dump", refuse)
    monkeypatch.chdir(tmp_path)
    train, test = ds.datasets.load_mnist1d(seed=11, num_samples=200)
    assert train.data.shape == (160, 40) and test.data.shape == (40, 40)
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_a_missing_mnist1d_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "mnist1d", None)
    with pytest.raises(ImportError, match=r"load_mnist1d .* pip install 'descent\[datasets\]'"):
        ds.datasets.load_mnist1d(seed=99)


# ---- the lesson (quick) ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def quick_lesson():
    return lesson_module.mnist1d(quick=True)


def test_the_quick_lesson_tells_the_papers_story(quick_lesson):
    r = quick_lesson.results
    acc, shuffled = r["accuracy"], r["accuracy_shuffled"]
    assert r["steps"] == lesson_module.QUICK_STEPS
    assert 0.28 < acc["linear"] < 0.36  # the paper: 32%
    assert acc["cnn"] > acc["mlp"] + 0.15 > acc["linear"] + 0.25  # CNN >> MLP >> linear
    assert acc["cnn"] - shuffled["cnn"] > 0.2  # the CNN's assumption, broken
    assert abs(shuffled["mlp"] - acc["mlp"]) < 0.07  # the MLP assumes nothing about order
    assert abs(shuffled["linear"] - acc["linear"]) < 0.02
    assert r["cnn_drop_points"] == pytest.approx(100 * (acc["cnn"] - shuffled["cnn"]))
    text = quick_lesson.render()
    assert "neighbouring positions belong together" in text and "Greydanus" in text
    table = next(t for t in quick_lesson.tables() if t.title.startswith("Test accuracy (%): the"))
    cnn = next(row for row in table.rows if row[0] == "cnn")
    assert cnn == [
        "cnn", 94, round(100 * acc["cnn"], 1), 56, round(100 * shuffled["cnn"], 1)
    ]  # fmt: skip


def test_the_lesson_and_the_bench_train_the_same_cnn(quick_lesson):
    """Two writings of the paper's recipe (the lesson's classes, the bench's code for any
    framework) give the same final accuracy from the same seed."""
    data = bench_mnist1d.mnist1d_arrays(False)
    run = bench_mnist1d.train_run(ds, "cnn", data, seed=0, steps=lesson_module.QUICK_STEPS)
    assert run["accuracy"] == pytest.approx(quick_lesson.results["accuracy"]["cnn"], abs=2e-3)


def test_the_environment_switch_and_the_command(monkeypatch, capsys):
    monkeypatch.setenv("DESCENT_LESSON_QUICK", "0")
    assert main(["lesson", "mnist1d", "--quick", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["results"]["steps"] == lesson_module.QUICK_STEPS  # --quick wins over the 0


# ---- the bench workloads and the table tool ------------------------------------------------------


def test_bench_workloads_train_descent_and_torch_from_the_same_recipe():
    entry = bench_mnist1d.time_mnist1d("mnist1d-mlp", 30, torch_ok=True)
    assert entry["status"]["descent"] == entry["status"]["torch"] == "ok"
    for framework in ("descent", "torch"):
        assert entry["seconds"][framework] > 0 and 0.2 < entry["accuracy"][framework] < 0.7
    assert entry["ratios"]["descent/torch"] == pytest.approx(
        entry["seconds"]["descent"] / entry["seconds"]["torch"]
    )
    text = bench_mnist1d.render_mnist1d([entry])
    assert "mnist1d-mlp" in text and "30 steps" in text


def test_the_table_tool_prints_every_row(capsys):
    from tools import mnist1d_table

    assert mnist1d_table.main(["--steps", "20", "--seeds", "1", "--quiet"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == 2 * (1 + 6)  # two tables, a header and six rows each
    assert "| cnn | shuffled | 56 |" in out and "| mlp | plain | 68 |" in out


def test_the_lesson_draws_nothing_until_plot(monkeypatch, tmp_path):
    """mnist1d's own __init__ imports matplotlib, so the no-matplotlib check of every lesson
    (tests/test_lesson_plots.py) leaves this one out: here, no figure is made before plot()."""
    from descent.viz import charts  # the lesson's pictures are charts

    made = []
    real = charts.figure
    monkeypatch.setattr(charts, "figure", lambda *a, **k: made.append(1) or real(*a, **k))
    lesson = lesson_module.mnist1d(quick=True)
    lesson.render()
    assert made == []
    assert [p.name for p in lesson.plot(tmp_path)] == [f for f, _ in lesson.figures]
    assert len(made) == 4


def test_quick_is_refused_by_a_lesson_without_it(capsys):
    assert main(["lesson", "gravity", "--quick"]) == 2
    assert "descent lesson: gravity has no --quick mode" in capsys.readouterr().err
