"""ds.train.fit: the loop, History, metrics, callbacks, divergence, exact resume."""

from __future__ import annotations

import csv
import io
import math
import re
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import descent as ds
from descent import nn

sklearn = pytest.importorskip("sklearn")
from sklearn.datasets import load_diabetes, load_digits  # noqa: E402
from sklearn.metrics import accuracy_score, mean_absolute_error, r2_score  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def _digits(n=600):
    d = load_digits()
    X = ds.data.Standardizer().fit_transform(d.data[:n].astype(np.float32))
    return X, d.target[:n].astype(np.int64)


def _classifier(dropout=0.0):
    ds.manual_seed(0)
    return nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Dropout(dropout), nn.Linear(32, 10))


def test_fit_learns_digits_and_history_holds_every_quantity():
    d = load_digits()
    X, y = d.data.astype(np.float32), d.target
    X_tr, X_va, _, y_tr, y_va, _ = ds.data.train_val_test_split(X, y, seed=0, stratify=y)
    scaler = ds.data.Standardizer().fit(X_tr)
    X_tr, X_va = scaler.transform(X_tr), scaler.transform(X_va)
    model = _classifier()
    opt = ds.optim.Adam(model.parameters(), lr=1e-2)
    hist = ds.train.fit(
        model, "cross_entropy", opt, (X_tr, y_tr), (X_va, y_va), epochs=5, batch_size=32,
        metrics=["accuracy"], verbose=0, seed=0,
    )  # fmt: skip
    assert set(hist.keys()) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr"}
    assert all(len(v) == 5 for v in hist.history.values()) and hist.epoch == list(range(5))
    assert hist["loss"][-1] < hist["loss"][0]
    model.eval()
    with ds.no_grad():
        pred = model(ds.tensor(X_va)).numpy().argmax(1)
    assert hist["val_accuracy"][-1] == pytest.approx(accuracy_score(y_va, pred))
    assert hist["val_accuracy"][-1] > 0.9
    assert opt.global_step == 5 * math.ceil(len(X_tr) / 32)


def test_regression_metrics_equal_scikit_learns():
    d = load_diabetes()
    X = ds.data.Standardizer().fit_transform(d.data.astype(np.float32))
    y = ((d.target - d.target.mean()) / d.target.std()).astype(np.float32).reshape(-1, 1)
    ds.manual_seed(0)
    model = nn.Linear(10, 1)
    hist = ds.train.fit(
        model, "mse", ds.optim.SGD(model.parameters(), lr=0.05), (X, y), epochs=3,
        batch_size=400, shuffle=False, metrics=["mse", "mae", "r2"], validation_split=0.2,
        verbose=0,
    )  # fmt: skip
    n_train = len(X) - int(len(X) * 0.2)
    with ds.no_grad():
        pred = model(ds.tensor(X[n_train:])).numpy()
    assert hist["val_r2"][-1] == pytest.approx(r2_score(y[n_train:], pred), rel=1e-5)
    assert hist["val_mae"][-1] == pytest.approx(mean_absolute_error(y[n_train:], pred), rel=1e-5)
    assert hist["val_mse"][-1] == pytest.approx(hist["val_loss"][-1], rel=1e-5)


class _Snapshots(ds.train.Callback):
    """Weights after each epoch and before each step, to compare with what fit kept."""

    def __init__(self):
        self.epochs, self.before_step = [], []

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append({k: v.numpy().copy() for k, v in self.run.model.state_dict().items()})

    def on_batch_end(self, step, logs=None):
        self.before_step = {k: v.numpy().copy() for k, v in self.run.model.state_dict().items()}


def test_early_stopping_restores_the_best_epochs_weights():
    X, y = _digits()
    model = _classifier()
    snaps = _Snapshots()
    stop = ds.train.EarlyStopping(patience=1, restore_best_weights=True)
    hist = ds.train.fit(
        model, "cross_entropy", ds.optim.Adam(model.parameters(), lr=0.2), (X[:400], y[:400]),
        (X[400:], y[400:]), epochs=30, batch_size=16, callbacks=[snaps, stop], verbose=0, seed=0,
    )  # fmt: skip
    assert len(hist) < 30 and stop.stopped_epoch == len(hist) - 1
    best = int(np.argmin(hist["val_loss"]))
    assert stop.best_epoch == best
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), snaps.epochs[best][k])


@pytest.mark.filterwarnings("ignore:overflow encountered", "ignore:invalid value encountered")
def test_divergence_names_the_step_and_keeps_the_last_good_weights():
    X, y = _digits(200)
    model = _classifier()
    snaps = _Snapshots()
    opt = ds.optim.SGD(model.parameters(), lr=1e6)
    with pytest.raises(ds.train.TrainingDivergedError) as err:
        ds.train.fit(model, "cross_entropy", opt, (X, y), epochs=5, batch_size=20,
                     callbacks=[snaps], verbose=0)  # fmt: skip
    msg = str(err.value)
    assert re.search(r"at epoch \d+, step \d+ \(global step \d+\)", msg)
    assert "learning rate" in msg and "log of zero" in msg
    assert all(np.isfinite(p.numpy()).all() for p in model.parameters())
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), snaps.before_step[k])


def test_a_huge_but_finite_gradient_is_no_divergence():
    """A float32 gradient of 1e20 is finite (its square is not): fit takes the step."""
    model = nn.Linear(1, 1, bias=False)
    model.weight.data[...] = 0.0
    X, y = np.ones((4, 1), np.float32), np.zeros((4, 1), np.float32)
    opt = ds.optim.SGD(model.parameters(), lr=1e-21)
    ds.train.fit(model, lambda pred, t: (pred * 1e20).mean(), opt, (X, y), epochs=1,
                 batch_size=4, verbose=0)  # fmt: skip
    assert model.weight.dtype == np.float32 and opt.global_step == 1
    np.testing.assert_allclose(model.weight.numpy(), [[-0.1]], rtol=1e-5)


def test_nan_in_the_data_is_caught_and_terminate_on_nan_stops_quietly():
    X, y = _digits(100)
    X = X.copy()
    X[37, 5] = np.nan
    model = _classifier()
    with pytest.raises(ds.train.TrainingDivergedError, match="the loss became nan"):
        ds.train.fit(model, "cross_entropy", ds.optim.SGD(model.parameters(), lr=0.1), (X, y),
                     epochs=2, batch_size=10, shuffle=False, verbose=0)  # fmt: skip
    hist = ds.train.fit(
        model, "cross_entropy", ds.optim.SGD(model.parameters(), lr=0.1), (X, y), epochs=2,
        batch_size=10, shuffle=False, verbose=0, callbacks=[ds.train.TerminateOnNaN()],
    )  # fmt: skip
    assert len(hist) == 0
    assert all(np.isfinite(p.numpy()).all() for p in model.parameters())


def test_learning_rate_scheduler_and_csv_logger(tmp_path):
    X, y = _digits(200)
    model = _classifier()
    path = tmp_path / "log.csv"
    hist = ds.train.fit(
        model, "cross_entropy", ds.optim.SGD(model.parameters(), lr=1.0), (X, y), epochs=4,
        batch_size=50, verbose=0, metrics=["accuracy"],
        callbacks=[ds.train.LearningRateScheduler(lambda epoch, lr: 0.1 * 0.5**epoch),
                   ds.train.CSVLogger(path)],
    )  # fmt: skip
    assert hist["lr"] == pytest.approx([0.1, 0.05, 0.025, 0.0125])
    rows = list(csv.DictReader(path.open()))
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2, 3]
    assert [float(r["loss"]) for r in rows] == pytest.approx(hist["loss"])
    assert [float(r["accuracy"]) for r in rows] == pytest.approx(hist["accuracy"])


@pytest.mark.parametrize("validation", [True, False])
def test_fit_steps_every_scheduler_with_the_epochs_metric(validation):
    """val_loss (loss without validation data) goes to every scheduler's step; those
    that have no use for it ignore it."""
    X, y = _digits(200)
    val = (X[:50], y[:50]) if validation else None
    runs = []
    for make in (
        lambda opt: ds.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5),
        lambda opt: ds.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max", patience=0),
    ):
        model = _classifier()
        opt = ds.optim.SGD(model.parameters(), lr=0.1)
        scheduler = make(opt)
        hist = ds.train.fit(model, "cross_entropy", opt, (X, y), val, epochs=3, batch_size=50,
                            scheduler=scheduler, verbose=0)  # fmt: skip
        runs.append((scheduler, hist))
    (step_lr, step_hist), (plateau, plateau_hist) = runs
    assert step_hist["lr"] == pytest.approx([0.1, 0.05, 0.025])
    assert plateau.best == max(plateau_hist["val_loss" if validation else "loss"])
    assert plateau.last_epoch == step_lr.last_epoch == 3


def test_model_checkpoint_save_best_only_keeps_the_best_weights(tmp_path):
    X, y = _digits(300)
    model = _classifier()
    snaps = _Snapshots()
    ckpt = ds.train.ModelCheckpoint(tmp_path / "best.safetensors", save_best_only=True,
                                    save_weights_only=True)  # fmt: skip
    hist = ds.train.fit(
        model, "cross_entropy", ds.optim.Adam(model.parameters(), lr=0.1), (X[:200], y[:200]),
        (X[200:], y[200:]), epochs=6, batch_size=20, callbacks=[snaps, ckpt], verbose=0,
    )  # fmt: skip
    best = int(np.argmin(hist["val_loss"]))
    saved = ds.load(tmp_path / "best.safetensors")
    for k, v in saved.items():
        np.testing.assert_array_equal(v.numpy(), snaps.epochs[best][k])


def test_progress_one_line_per_epoch_off_a_terminal_silent_with_verbose_0(capsys):
    X, y = _digits(100)
    model = _classifier()
    opt = ds.optim.SGD(model.parameters(), lr=0.1)
    ds.train.fit(model, "cross_entropy", opt, (X, y), epochs=3, batch_size=50, verbose=1)
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split(" - ")[0] for line in lines] == ["epoch 1/3", "epoch 2/3", "epoch 3/3"]
    assert all("loss" in line for line in lines)
    ds.train.fit(model, "cross_entropy", opt, (X, y), epochs=2, batch_size=50, verbose=0)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_on_a_terminal(monkeypatch):
    X, y = _digits(100)
    model = _classifier()
    term = _Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    ds.train.fit(model, "cross_entropy", ds.optim.SGD(model.parameters(), lr=0.1), (X, y),
                 epochs=2, batch_size=25, metrics=["accuracy"], verbose=1)  # fmt: skip
    text = term.getvalue()
    assert "epoch 1/2" in text and "epoch 2/2" in text and "4/4" in text
    assert "accuracy" in text


def test_bad_arguments_get_clear_errors():
    X, y = _digits(50)
    model = _classifier()
    opt = ds.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="unknown loss 'hinge'"):
        ds.train.fit(model, "hinge", opt, (X, y))
    with pytest.raises(ValueError, match="unknown metric"):
        ds.train.fit(model, "cross_entropy", opt, (X, y), metrics=["precision@5"])
    with pytest.raises(ValueError, match="dataset is empty"):
        ds.train.fit(model, "cross_entropy", opt, (X[:0], y[:0]))
    with pytest.raises(ValueError, match="differ"):  # (N, 10) outputs against (N, 1) targets
        ds.train.fit(model, "mse", opt, (X, np.zeros((50, 1), np.float32)), verbose=0)


# ---- exact resume in a new process ---------------------------------------------------------


def _job(out: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tests.resume_job", str(out), *args],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def _flat(state, prefix=""):
    if isinstance(state, dict):
        for k, v in state.items():
            yield from _flat(v, f"{prefix}/{k}")
    elif isinstance(state, (list, tuple)):
        for i, v in enumerate(state):
            yield from _flat(v, f"{prefix}/{i}")
    else:
        yield prefix, state


@pytest.mark.parametrize("shuffle, dropout", [(0, 0.0), (1, 0.3)], ids=["plain", "shuffle+dropout"])
def test_killed_and_resumed_run_equals_the_uninterrupted_run_bit_for_bit(
    tmp_path, shuffle, dropout
):
    full, cut = tmp_path / "full", tmp_path / "cut"
    settings = ["4", str(shuffle), str(dropout)]
    done = _job(full, *settings)
    assert done.returncode == 0, done.stderr
    killed = _job(cut, *settings, "--kill-after", "2")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert not (cut / "final.safetensors").exists()
    assert ds.load(cut / "ckpt.safetensors")["epoch"] == 2
    resumed = _job(cut, *settings, "--resume", str(cut / "ckpt.safetensors"))
    assert resumed.returncode == 0, resumed.stderr
    assert "epochs run in this process: 4" in done.stdout
    assert "epochs run in this process: 2" in resumed.stdout  # it continued, not restarted

    a = dict(_flat(ds.load(full / "final.safetensors")))
    b = dict(_flat(ds.load(cut / "final.safetensors")))
    assert a.keys() == b.keys()
    assert any("exp_avg" in k for k in a)  # the optimizer state is compared too
    for k in a:
        va, vb = a[k], b[k]
        if isinstance(va, ds.Tensor | np.ndarray):
            va, vb = np.asarray(va), np.asarray(vb)
            assert va.dtype == vb.dtype and va.tobytes() == vb.tobytes(), k
        else:
            assert va == vb, k
    # and the resumed run's history is the whole run's
    ha = ds.load(full / "ckpt.safetensors")["history"]
    hb = ds.load(cut / "ckpt.safetensors")["history"]
    assert ha == hb


@pytest.mark.parametrize(
    "rule, stopped, best",
    [
        # Keras: only a gain of more than min_delta is an improvement (best stays 0.6), and
        # patience=1 stops at the first epoch without one
        (dict(min_delta=0.01), 2, 0.6),
        # scikit-learn: a gain under tol counts towards patience, but best follows it
        (dict(tol=0.01), 3, 0.608),
        # no threshold: every gain resets the count
        (dict(), None, 0.9),
    ],
)
def test_early_stopping_counts_a_callable_score_as_keras_or_scikit_learn(rule, stopped, best):
    X, y = _digits(64)
    model = _classifier()
    scores = iter([0.5, 0.6, 0.605, 0.608, 0.9])
    stop = ds.train.EarlyStopping(lambda: next(scores), mode="max", patience=1, **rule)
    hist = ds.train.fit(model, "cross_entropy", ds.optim.SGD(model.parameters(), lr=0.01),
                        (X, y), epochs=5, callbacks=[stop], verbose=0)  # fmt: skip
    assert stop.stopped_epoch == stopped and stop.best == best
    assert stop.scores == [0.5, 0.6, 0.605, 0.608, 0.9][: len(hist)]


def test_r2_with_weights_and_the_confusion_matrix_agree_with_scikit_learn():
    from sklearn.metrics import confusion_matrix

    rng = np.random.default_rng(0)
    t, p, w = rng.normal(size=(50, 2)), rng.normal(size=(50, 2)), rng.uniform(size=50)
    assert ds.train.r2(p, t, sample_weight=w) == pytest.approx(r2_score(t, p, sample_weight=w))
    labels, guesses = rng.integers(0, 4, 60), rng.integers(0, 4, 60)
    np.testing.assert_array_equal(
        ds.train.confusion_matrix(labels, guesses, 4), confusion_matrix(labels, guesses)
    )


def test_fit_refuses_at_once_an_optimizer_or_scheduler_step_that_cannot_take_its_context():
    X = np.random.default_rng(0).normal(size=(8, 2)).astype(np.float32)
    y = X.sum(axis=1, keepdims=True)

    class OldStyle(ds.optim.SGD):
        def step(self, closure=None):  # takes no examples
            return super().step(closure)

    class NewStyle(ds.optim.SGD):
        def step(self, closure=None, examples=None):
            return super().step(closure, examples=examples)

    class EpochScheduler:  # PyTorch's old step(epoch): fit's metric must not land in epoch
        def step(self, epoch=None):
            raise AssertionError("must not be called")

    model = ds.nn.Linear(2, 1)
    before = model.weight.numpy().copy()
    with pytest.raises(TypeError, match=r"OldStyle.step must accept examples="):
        ds.train.fit(model, "mse", OldStyle(model.parameters(), lr=0.1), (X, y), verbose=0)
    opt = NewStyle(model.parameters(), lr=0.1)
    with pytest.raises(TypeError, match=r"EpochScheduler.step must accept metrics="):
        ds.train.fit(model, "mse", opt, (X, y), scheduler=EpochScheduler(), verbose=0)
    np.testing.assert_array_equal(model.weight.numpy(), before)  # refused before training
    ds.train.fit(model, "mse", opt, (X, y), epochs=2, verbose=0)
    assert opt.global_step == 2 and not np.array_equal(model.weight.numpy(), before)


@pytest.mark.parametrize("patience, stopped", [(0, 2), (1, 2), (2, 3), (3, 4)])
def test_early_stopping_stops_where_keras_does(patience, stopped):
    # Keras: wait counts the epochs since the last improvement; stop once wait >= patience
    # (never at the first epoch). Losses 1, 0.9, then worse every epoch.
    losses = iter([1.0, 0.9, 0.95, 0.96, 0.97, 0.98, 0.99])
    stop = ds.train.EarlyStopping(lambda: next(losses), mode="min", patience=patience)
    X, y = _digits(32)
    model = _classifier()
    ds.train.fit(model, "cross_entropy", ds.optim.SGD(model.parameters(), lr=0.01), (X, y),
                 epochs=7, callbacks=[stop], verbose=0)  # fmt: skip
    assert stop.stopped_epoch == stopped and stop.best == 0.9 and stop.best_epoch == 1


def test_early_stopping_baseline_holds_the_count_but_not_the_best():
    # Keras 3: only an epoch better than the baseline resets the count, while best and its
    # epoch follow every improvement; an improving epoch never stops training
    losses = iter([0.8, 0.7, 0.75, 0.6, 0.65])
    stop = ds.train.EarlyStopping(lambda: next(losses), mode="min", patience=2, baseline=0.5)
    X, y = _digits(32)
    model = _classifier()
    ds.train.fit(model, "cross_entropy", ds.optim.SGD(model.parameters(), lr=0.01), (X, y),
                 epochs=5, callbacks=[stop], verbose=0)  # fmt: skip
    assert stop.stopped_epoch == 2 and stop.best == 0.7 and stop.best_epoch == 1
