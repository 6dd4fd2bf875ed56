"""The `descent` command: demo, train, lesson, gradcheck."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import numpy as np
import pytest

import descent as ds
from descent import nn
from descent.cli import main

pytest.importorskip("sklearn")


def _descent(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "descent.cli", *args], capture_output=True, text=True, cwd=cwd
    )


def _reload_and_predict(run, X: np.ndarray) -> np.ndarray:
    """Rebuild the saved MLP from model.safetensors alone and predict."""
    saved = ds.load(run / "model.safetensors")
    weights = saved["model"]
    sizes = [weights[k].shape for k in weights if k.endswith(".weight")]
    layers = []
    for i, (n_out, n_in) in enumerate(sizes):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 1:
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers)
    model.load_state_dict(weights)
    scaled = (X - saved["standardizer"]["mean"]) / saved["standardizer"]["scale"]
    with ds.no_grad():
        return model(ds.tensor(scaled)).numpy()


def test_demo_writes_a_run_folder_whose_numbers_agree_with_each_other(tmp_path):
    done = _descent("demo", "--runs-dir", str(tmp_path), "--seed", "1")
    assert done.returncode == 0, done.stderr
    run = tmp_path / "demo-seed1"
    assert {p.name for p in run.iterdir()} == {
        "metrics.csv", "history.json", "model.safetensors", "results.json", "report.html"
    }  # fmt: skip
    results = json.loads((run / "results.json").read_text())
    history = json.loads((run / "history.json").read_text())
    rows = list(csv.DictReader((run / "metrics.csv").open()))
    assert [float(r["val_loss"]) for r in rows] == pytest.approx(history["val_loss"])
    assert "early stopping" in done.stdout and "confusion matrix" in done.stdout

    # the test accuracy, recomputed from the saved model on the same split
    digits = ds.datasets.load_digits()
    *_, X_te, _, _, y_te = ds.data.train_val_test_split(
        digits.data, digits.target, seed=1, stratify=digits.target
    )
    accuracy = float(np.mean(_reload_and_predict(run, X_te).argmax(1) == y_te))
    assert results["test"]["accuracy"] == pytest.approx(accuracy)
    assert accuracy > 0.93
    cm = np.array(results["confusion_matrix"])
    assert cm.sum() == len(y_te) and np.trace(cm) / cm.sum() == pytest.approx(accuracy)
    assert (cm.sum(axis=1) == np.bincount(y_te, minlength=10)).all()


def test_demo_report_is_html_whose_every_image_is_a_picture(tmp_path):
    image = pytest.importorskip("matplotlib.image")
    import base64
    import io

    from tests.helpers import PageParts

    assert main(["demo", "--runs-dir", str(tmp_path), "--quiet"]) == 0
    page = PageParts((tmp_path / "demo-seed0" / "report.html").read_text())
    assert page.tags[:2] == ["html", "head"] and "table" in page.tags
    assert len(page.images) == 2  # the curves and the confusion matrix
    for src in page.images:
        prefix = "data:image/png;base64,"
        assert src.startswith(prefix)
        pixels = image.imread(io.BytesIO(base64.b64decode(src[len(prefix) :])), format="png")
        assert pixels.shape[0] > 100 and pixels.shape[1] > 100
        assert pixels[..., :3].var() > 1e-3  # not blank


def test_train_on_a_csv_file_with_a_named_target(tmp_path):
    iris = ds.datasets.load_iris()
    path = tmp_path / "iris.csv"
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow([*iris.feature_names, "species"])
        for x, y in zip(iris.data, iris.target):
            w.writerow([*x.tolist(), iris.target_names[y]])
    code = main(["train", "--csv", str(path), "--target", "species", "--model", "linear",
                 "--lr", "0.05", "--epochs", "60", "--runs-dir", str(tmp_path / "runs"),
                 "--name", "iris", "--quiet"])  # fmt: skip
    assert code == 0
    results = json.loads((tmp_path / "runs" / "iris" / "results.json").read_text())
    assert results["classes"] == list(iris.target_names)
    assert results["test"]["accuracy"] > 0.85


def test_train_regression_reports_r2_in_the_targets_units(tmp_path, capsys):
    code = main(["train", "--dataset", "diabetes", "--model", "linear", "--lr", "0.05",
                 "--epochs", "40", "--runs-dir", str(tmp_path), "--name", "d"])  # fmt: skip
    assert code == 0
    results = json.loads((tmp_path / "d" / "results.json").read_text())
    assert results["task"] == "regression"
    assert 0.3 < results["test"]["r2"] < 0.7  # a linear model explains about half the variance
    assert "test: mse" in capsys.readouterr().out


def test_run_folders_are_never_overwritten(tmp_path):
    for _ in range(2):
        assert main(["train", "--dataset", "iris", "--model", "linear", "--epochs", "2",
                     "--runs-dir", str(tmp_path), "--name", "same", "--quiet"]) == 0  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == ["same", "same-2"]


def test_bad_arguments_give_a_clear_message_and_status_2(tmp_path, capsys):
    assert main(["train", "--csv", str(tmp_path / "missing.csv"), "--target", "y"]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["train", "--csv", str(tmp_path / "x.csv")]) == 2
    assert "--target" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train", "--hidden", "64,zero"])


def test_gradcheck_command_checks_the_ops_it_is_given(capsys):
    assert main(["gradcheck", "exp", "F.conv2d", "Tensor.__matmul__"]) == 0
    out = capsys.readouterr().out
    assert "3 of 3 ops pass gradcheck" in out
    for name in ("exp", "F.conv2d", "Tensor.__matmul__"):
        assert name in out
    assert main(["gradcheck", "no_such_op"]) == 2


def test_every_command_has_help():
    for cmd in ([], ["demo"], ["train"], ["lesson"], ["gradcheck"]):
        done = _descent(*cmd, "--help")
        assert done.returncode == 0 and "usage: descent" in done.stdout


def test_lesson_command_lists_runs_and_prints_json(capsys):
    from descent import lessons

    assert main(["lesson", "--list"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.strip().splitlines()]
    assert listed == lessons.names() and len(listed) >= 13
    assert main(["lesson", "gravity"]) == 0
    text = capsys.readouterr().out
    assert "Gradient descent from a = 8" in text and "9.8" in text
    assert main(["lesson", "conv-forward", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["name"] == "conv-forward" and data["sections"]
    assert main(["lesson", "no-such-lesson"]) == 2
    assert "the lessons are" in capsys.readouterr().err


def test_lesson_plot_writes_the_lessons_pictures(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    assert main(["lesson", "gravity", "--plot", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == ["gravity-descent.png"] and f"wrote {tmp_path}" in out


def test_explain_walks_the_chain_rule_of_a_lesson(capsys):
    from descent.cli import EXPLAINED

    assert main(["explain", "gravity"]) == 0
    text = capsys.readouterr().out
    xs, ys, a = np.array([2.0, 4.5, 10.0]), np.array([19.6, 44.1, 98.0]), 8.0
    assert f"{2 * np.sum(xs * (a * xs - ys)):g}" in text  # -447.3, the closed form
    assert "equal" in text
    for name in EXPLAINED:
        assert main(["explain", name]) == 0
    capsys.readouterr()
    assert main(["explain", "conv-forward"]) == 2
    assert "no chain-rule walk-through" in capsys.readouterr().err
