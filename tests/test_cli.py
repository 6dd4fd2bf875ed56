"""The `descent` command: demo, train, lesson, gradcheck."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import numpy as np
import pytest

import descent as ds
from descent import nn, runs
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
        return model(ds.tensor(scaled, dtype=ds.float32)).numpy()


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
    capsys.readouterr()
    assert main(["gradcheck", "no_such_op"]) == 2
    err = capsys.readouterr().err
    assert "no op named no_such_op; the ops are: " in err and "F.conv2d" in err


def test_every_command_has_help():
    for cmd in ([], ["demo"], ["train"], ["lesson"], ["gradcheck"]):
        done = _descent(*cmd, "--help")
        assert done.returncode == 0 and "usage: descent" in done.stdout


def test_lesson_command_lists_runs_and_prints_json(capsys):
    from descent import lessons

    assert main(["lesson", "--list"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    listed = {line.split()[0] for line in lines if line.startswith("  ")} - {"not"}
    assert listed == set(lessons.names()) and len(listed) >= 13  # grouped by deck
    assert lines[0].startswith("000_3ab0e19925976932.txt: ")
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


# -- trust at the borders: run names, arguments, failed runs, labels -------------------------

_QUICK = ["--dataset", "iris", "--model", "linear", "--epochs", "1", "--quiet"]
_DIVERGES = [*_QUICK, "--dataset", "diabetes", "--model", "mlp", "--optimizer", "sgd",
             "--lr", "1e6", "--epochs", "5"]  # fmt: skip


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def _everything_under(folder) -> list:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


BAD_NAMES = ["../../x", "../x", "..", ".", "/anywhere/x", "a/b", "a\\b", "", ".hidden",
             "x\ny", "tab\there", "nul\x00", "n" * 201]  # fmt: skip


@pytest.mark.parametrize(
    "name", BAD_NAMES, ids=lambda n: repr(n) if len(n) < 20 else f"{len(n)}-chars"
)
def test_a_run_name_is_a_name_not_a_path(tmp_path, capsys, name):
    runs_dir = tmp_path / "a" / "runs"
    assert main(["train", *_QUICK, "--runs-dir", str(runs_dir), "--name", name]) == 2
    assert "run name" in _one_line(capsys.readouterr().err)
    assert _everything_under(tmp_path) == []  # nothing written, inside the runs folder or out
    with pytest.raises(ValueError, match="run name"):
        runs.RunConfig(runs_dir=str(runs_dir), name=name)


def test_demo_refuses_a_run_name_that_leaves_the_runs_folder(tmp_path, capsys):
    runs_dir = tmp_path / "runs"
    assert main(["demo", "--runs-dir", str(runs_dir), "--name", "../x", "--quiet"]) == 2
    assert "run name" in _one_line(capsys.readouterr().err)
    assert _everything_under(tmp_path) == []


def test_run_checks_a_config_changed_after_it_was_made(tmp_path):
    config = runs.RunConfig(dataset="iris", model="linear", epochs=1, runs_dir=str(tmp_path))
    config.name = "../escaped"
    with pytest.raises(ValueError, match="run name"):
        runs.run(config, verbose=0)
    assert not (tmp_path.parent / "escaped").exists()


BAD_FLAGS = [
    (["--epochs", "0"], "--epochs"),
    (["--epochs", "-1"], "--epochs"),
    (["--lr", "0"], "--lr"),
    (["--lr", "-0.1"], "--lr"),
    (["--lr", "inf"], "--lr"),
    (["--lr", "nan"], "--lr"),
    (["--batch-size", "0"], "--batch-size"),
    (["--patience", "-1"], "--patience"),
    (["--seed", "-1"], "--seed"),
    (["--seed", str(2**32)], "--seed"),
    (["--dropout", "1"], "--dropout"),
    (["--dropout", "-0.5"], "--dropout"),
    (["--weight-decay", "-1"], "--weight-decay"),
    (["--weight-decay", "nan"], "--weight-decay"),
    (["--optimizer", "momentum", "--weight-decay", "0.1"], "--weight-decay"),
    (["--target", "species"], "--target"),
]


@pytest.mark.parametrize(
    "flags, named", BAD_FLAGS, ids=lambda v: " ".join(v) if isinstance(v, list) else None
)
def test_hyperparameters_out_of_range_are_refused_before_training(tmp_path, capsys, flags, named):
    assert main(["train", *_QUICK, "--runs-dir", str(tmp_path), *flags]) == 2
    line = _one_line(capsys.readouterr().err)
    assert line.startswith("descent train: ") and named in line
    assert _everything_under(tmp_path) == []


def test_run_config_checks_its_values_where_it_is_made():
    with pytest.raises(ValueError, match="epochs"):
        runs.RunConfig(epochs=0)
    with pytest.raises(ValueError, match="epochs"):
        runs.RunConfig(epochs=1.5)
    with pytest.raises(ValueError, match="lr"):
        runs.RunConfig(lr="0.1")
    with pytest.raises(ValueError, match="seed"):
        runs.RunConfig(seed=-1)
    with pytest.raises(ValueError, match="hidden"):
        runs.RunConfig(hidden=(64, 0))
    with pytest.raises(ValueError, match="dataset"):
        runs.RunConfig(dataset="mnist")


def _write_csv(path, X, y, target="label"):
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow([*(f"x{i}" for i in range(X.shape[1])), target])
        for x, label in zip(X, y):
            w.writerow([*x.tolist(), label])
    return path


def test_user_errors_from_the_shell_are_one_line_and_status_2(tmp_path):
    """Each of these once ended in a traceback (and status 1)."""
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    nan_labels = _write_csv(tmp_path / "nan.csv", np.ones((20, 2)), [1.0] * 19 + ["nan"], "y")
    runs_dir = tmp_path / "runs"
    cases = [
        (["train", *_DIVERGES], "diverged"),
        (["train", "--csv", str(tmp_path), "--target", "y"], "directory"),
        (["train", "--csv", str(nan_labels), "--target", "y", "--epochs", "2"], "holds 'nan'"),
        (["train", *_QUICK, "--runs-dir", str(a_file)], "not a folder"),
        (["lesson", "gravity", "--plot", str(a_file)], "not a folder"),
    ]
    for args, says in cases:
        if args[0] == "train" and "--runs-dir" not in args:
            args = [*args, "--runs-dir", str(runs_dir)]
        done = _descent(*args)
        assert done.returncode == 2, (args, done.stderr)
        line = _one_line(done.stderr)
        assert line.startswith(f"descent {args[0]}: ") and says in line, (args, line)
    assert not runs_dir.exists() or _everything_under(runs_dir) == []  # no half-written run folder


def test_a_failed_run_leaves_no_run_folder(tmp_path, capsys):
    code = main(["train", *_DIVERGES, "--runs-dir", str(tmp_path)])
    assert code == 2
    assert "diverged" in _one_line(capsys.readouterr().err)
    assert _everything_under(tmp_path) == []


def test_a_model_too_big_for_memory_is_refused_at_once(tmp_path, capsys, monkeypatch):
    import time

    monkeypatch.setattr(runs, "available_memory", lambda: 8 * 2**30)
    start = time.perf_counter()
    code = main(["train", *_QUICK, "--model", "mlp", "--hidden", "100000000",
                 "--runs-dir", str(tmp_path)])  # fmt: skip
    assert code == 2 and time.perf_counter() - start < 5
    line = _one_line(capsys.readouterr().err)
    assert "parameters" in line and "--hidden" in line
    assert _everything_under(tmp_path) == []
    # and on this machine, whatever its memory, without the stand-in
    done = _descent("train", *_QUICK, "--model", "mlp", "--hidden", "100000000,100000000",
                    "--runs-dir", str(tmp_path))  # fmt: skip
    assert done.returncode == 2 and "parameters" in _one_line(done.stderr)


def test_ctrl_c_exits_130_with_one_line_and_leaves_no_run_folder(tmp_path):
    import os
    import signal
    import time

    proc = subprocess.Popen(
        [sys.executable, "-m", "descent.cli", "train", "--dataset", "digits", "--epochs",
         "100000", "--patience", "100000", "--quiet", "--runs-dir", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # a shell's background job ignores SIGINT, and its children inherit that: restore
        # the default, so the child's Python turns Ctrl-C into KeyboardInterrupt as a user's
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not any(tmp_path.iterdir()) and time.monotonic() < deadline:  # training has begun
        time.sleep(0.05)
    time.sleep(0.3)
    os.kill(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "interrupted" in _one_line(err)
    assert _everything_under(tmp_path) == []


@pytest.mark.parametrize("labels", [[1, 2, 3], [0, 5, 10], [-1, 1]], ids=str)
def test_train_on_integer_labels_that_are_not_0_to_k_minus_1(tmp_path, labels):
    iris = ds.datasets.load_iris()
    keep = iris.target < len(labels)
    y = np.array(labels)[iris.target[keep]]
    path = _write_csv(tmp_path / "labels.csv", iris.data[keep], y)
    code = main(["train", "--csv", str(path), "--target", "label", "--model", "linear",
                 "--lr", "0.05", "--epochs", "60", "--runs-dir", str(tmp_path / "runs"),
                 "--name", "r", "--quiet"])  # fmt: skip
    assert code == 0
    results = json.loads((tmp_path / "runs" / "r" / "results.json").read_text())
    assert results["classes"] == [str(c) for c in labels]
    assert results["test"]["accuracy"] > 0.85
    cm = np.array(results["confusion_matrix"])
    assert cm.shape == (len(labels), len(labels))
    saved = ds.load(tmp_path / "runs" / "r" / "model.safetensors")
    assert saved["classes"] == [str(c) for c in labels]


def test_a_csv_target_with_one_class_is_refused(tmp_path, capsys):
    path = _write_csv(tmp_path / "one.csv", np.random.default_rng(0).normal(size=(30, 2)),
                      [7] * 30)  # fmt: skip
    assert main(["train", "--csv", str(path), "--target", "label", "--runs-dir",
                 str(tmp_path / "runs")]) == 2  # fmt: skip
    assert "one class" in _one_line(capsys.readouterr().err)


def test_a_usage_error_is_one_line_and_status_2():
    for args in (["train", "--hidden", "64,zero"], ["train", "--model", "cnn"], ["nope"]):
        done = _descent(*args)
        assert done.returncode == 2
        assert "--help" in _one_line(done.stderr)


def test_help_says_what_the_exit_codes_mean():
    done = _descent("--help")
    assert done.returncode == 0
    for code in ("0", "1", "2", "130"):
        assert f" {code} " in done.stdout or f" {code}:" in done.stdout
