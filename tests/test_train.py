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
from tools.soak import flat_state, same_state

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


class _SeesDtypes(nn.Module):
    """A linear model that notes the dtypes of the batches it is given."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(3, 1)
        self.seen = set()

    def forward(self, x):
        self.seen.add(x.dtype)
        return self.linear(x)


@pytest.mark.parametrize("model_dtype", [ds.float32, ds.float64])
@pytest.mark.parametrize("data_dtype", [np.float64, np.float32, np.float16])
def test_fit_and_evaluate_give_array_data_in_the_models_dtype(model_dtype, data_dtype):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 3)).astype(data_dtype)
    y = (X.astype(np.float64) @ [1.0, -2.0, 0.5]).reshape(-1, 1).astype(data_dtype)
    model = _SeesDtypes().to(model_dtype)
    opt = ds.optim.SGD(model.parameters(), lr=0.1)
    hist = ds.train.fit(model, "mse", opt, (X, y), (X, y), epochs=2, batch_size=8, verbose=0)
    ds.train.evaluate(model, "mse", (X.tolist(), y.tolist()))
    assert model.seen == {model_dtype} and model.linear.weight.dtype == model_dtype
    assert hist["loss"][-1] < hist["loss"][0]


def test_fit_takes_tensors_as_they_are():
    model, X = _SeesDtypes(), ds.tensor(np.ones((4, 3)))  # a float64 tensor
    opt = ds.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(TypeError, match="input is float64 but weight is float32"):
        ds.train.fit(model, "mse", opt, (X, ds.ones(4, 1)), verbose=0)
    ds.train.fit(model, "mse", opt, (X.float(), ds.ones(4, 1)), verbose=0)
    assert model.seen == {ds.float64, ds.float32}


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


def test_nan_in_the_data_is_caught_and_terminate_on_nan_stops_with_a_warning():
    X, y = _digits(100)
    X = X.copy()
    X[37, 5] = np.nan
    model = _classifier()
    with pytest.raises(ds.train.TrainingDivergedError, match="the loss became nan"):
        ds.train.fit(model, "cross_entropy", ds.optim.SGD(model.parameters(), lr=0.1), (X, y),
                     epochs=2, batch_size=10, shuffle=False, verbose=0)  # fmt: skip
    with pytest.warns(RuntimeWarning, match=r"TerminateOnNaN: the loss became nan at epoch 1"):
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

    a, b = ds.load(full / "final.safetensors"), ds.load(cut / "final.safetensors")
    assert any("exp_avg" in k for k, _ in flat_state(a))  # the optimizer state is compared too
    assert same_state(a, b)  # names, dtypes, shapes and bytes
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


# ---- training faults that must not pass silently -------------------------------------------


class _EpochCount(ds.train.Callback):
    def __init__(self):
        self.begun = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.begun += 1


@pytest.mark.parametrize(
    "epochs, error", [(0, ValueError), (-1, ValueError), (1.5, TypeError), (True, TypeError),
                      ("3", TypeError)],
)  # fmt: skip
def test_fit_refuses_epochs_that_are_not_a_positive_int(epochs, error):
    X, y = _digits(50)
    model = _classifier()
    with pytest.raises(error, match=r"fit: epochs must be a positive int"):
        ds.train.fit(model, "cross_entropy", ds.optim.SGD(model.parameters(), lr=0.1), (X, y),
                     epochs=epochs, verbose=0)  # fmt: skip


@pytest.mark.parametrize("lr", ["0.1", True, b"0.1"])
def test_a_learning_rate_must_be_a_number_not_a_string_or_bool(lr):
    model = _classifier()
    with pytest.raises(TypeError, match=r"lr must be a number"):
        ds.optim.SGD(model.parameters(), lr=lr)
    with pytest.raises(TypeError, match=r"eps must be a number"):
        ds.optim.Adam(model.parameters(), eps=lr)


def test_fit_warns_when_the_optimizer_trains_none_of_the_models_parameters():
    X, y = _digits(50)
    model, other = _classifier(), _classifier()
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    with pytest.warns(UserWarning, match=r"none of the model's 4 parameters is in the optimizer"):
        ds.train.fit(model, "cross_entropy", ds.optim.SGD(other.parameters(), lr=0.1), (X, y),
                     verbose=0)  # fmt: skip
    assert all(np.array_equal(v.numpy(), before[k]) for k, v in model.state_dict().items())


class _WithSpare(nn.Module):
    def __init__(self):
        super().__init__()
        self.head, self.spare = nn.Linear(64, 10), nn.Linear(3, 3)

    def forward(self, x):
        return self.head(x)


def test_fit_warns_when_no_parameter_of_the_optimizer_gets_a_gradient():
    X, y = _digits(50)
    model = _WithSpare()
    with pytest.warns(UserWarning, match=r"no parameter of the optimizer got a gradient"):
        ds.train.fit(model, "cross_entropy", ds.optim.SGD(model.spare.parameters(), lr=0.1),
                     (X, y), verbose=0)  # fmt: skip


def test_terminate_on_nan_says_where_it_stopped_and_keeps_the_finished_epochs():
    X, y = _digits(100)
    model = _classifier()
    calls = []

    def loss(pred, target):  # NaN at the third step of the second epoch (5 steps an epoch)
        calls.append(1)
        value = ds.nn.functional.cross_entropy(pred, target)
        return value * float("nan") if len(calls) == 8 else value

    with pytest.warns(RuntimeWarning, match=r"TerminateOnNaN: .* at epoch 2, step 3") as rec:
        hist = ds.train.fit(model, loss, ds.optim.SGD(model.parameters(), lr=0.1), (X, y),
                            epochs=4, batch_size=20, callbacks=[ds.train.TerminateOnNaN()],
                            verbose=0)  # fmt: skip
    assert len(rec) == 1 and "\n" not in str(rec[0].message)
    assert len(hist) == 1 and hist.epoch == [0] and len(hist["loss"]) == 1
    assert hist.stopped_by.startswith("TerminateOnNaN") and "epoch 2, step 3" in hist.stopped_by
    finished = ds.train.fit(model, "cross_entropy", ds.optim.SGD(model.parameters(), lr=0.1),
                            (X, y), epochs=1, verbose=0)  # fmt: skip
    assert finished.stopped_by is None


@pytest.mark.parametrize(
    "template, val, missing",
    [("ckpt-{val_loss:.3f}.safetensors", False, "val_loss"),
     ("ckpt-{epoch}-{acc}.safetensors", True, "acc"),
     ("ckpt-{}.safetensors", True, "{}")],
)  # fmt: skip
def test_model_checkpoint_template_is_checked_before_training(tmp_path, template, val, missing):
    X, y = _digits(100)
    model = _classifier()
    count = _EpochCount()
    ckpt = ds.train.ModelCheckpoint(tmp_path / template)
    with pytest.raises(ValueError, match="ModelCheckpoint") as err:
        ds.train.fit(model, "cross_entropy", ds.optim.SGD(model.parameters(), lr=0.1), (X, y),
                     (X, y) if val else None, metrics=["accuracy"], callbacks=[count, ckpt],
                     verbose=0)  # fmt: skip
    msg = str(err.value)
    assert missing in msg and "'epoch'" in msg and "'loss'" in msg and "'accuracy'" in msg
    assert ("'val_loss'" in msg) == val
    assert count.begun == 0 and not list(tmp_path.iterdir())


def test_a_folder_given_where_a_file_is_expected_is_refused_before_training(tmp_path):
    X, y = _digits(50)
    model = _classifier()
    count = _EpochCount()
    (tmp_path / "afile").write_text("")
    for cb, what in [
        (ds.train.ModelCheckpoint(tmp_path), "is a folder"),
        (ds.train.CSVLogger(tmp_path), "is a folder"),
        (ds.train.CSVLogger(tmp_path / "afile" / "log.csv"), "is a file, not a folder"),
        (ds.train.ModelCheckpoint(tmp_path / "afile" / "c.safetensors"), "is a file, not a"),
    ]:
        with pytest.raises(ValueError, match=f"{type(cb).__name__}: .*{what}"):
            ds.train.fit(model, "cross_entropy", ds.optim.SGD(model.parameters(), lr=0.1),
                         (X, y), callbacks=[count, cb], verbose=0)  # fmt: skip
    assert count.begun == 0


def test_a_loss_must_be_a_scalar_tensor_with_a_graph():
    X, y = _digits(50)
    model = _classifier()
    opt = ds.optim.SGD(model.parameters(), lr=0.1)
    F = ds.nn.functional
    with pytest.raises(TypeError, match=r"returned a float.*scalar Tensor"):
        ds.train.fit(model, lambda p, t: 0.5, opt, (X, y), verbose=0)
    with pytest.raises(ValueError, match=r"shape \(32,\).*must be a scalar.*reduction"):
        ds.train.fit(model, lambda p, t: F.cross_entropy(p, t, reduction="none"), opt, (X, y),
                     verbose=0)  # fmt: skip
    with pytest.raises(ValueError, match=r"no graph.*no_grad"):
        ds.train.fit(model, lambda p, t: F.cross_entropy(p.detach(), t), opt, (X, y), verbose=0)
    with pytest.raises(TypeError, match=r"returned a float.*scalar Tensor"):
        ds.train.evaluate(model, lambda p, t: 0.5, (X, y))


def test_a_batch_whose_every_label_is_ignored_is_named_not_the_learning_rate():
    X, y = _digits(60)
    y = y.copy()
    y[20:40] = -100  # the second batch: every label ignored, so its mean is over nothing
    model = _classifier()
    with pytest.raises(ds.train.TrainingDivergedError) as err:
        ds.train.fit(model, "cross_entropy", ds.optim.SGD(model.parameters(), lr=0.1), (X, y),
                     batch_size=20, shuffle=False, verbose=0)  # fmt: skip
    msg = str(err.value)
    assert "step 2" in msg and "Every target of the batch is -100" in msg
    assert "ignore_index" in msg and "learning rate" not in msg


# ---- the CSV log on resume -----------------------------------------------------------------


class _Killed(BaseException):
    """Stands in for SIGKILL: nothing of fit's runs after it, only what is on disk stays."""


class _KillAt(ds.train.Callback):
    def __init__(self, epoch: int, hook: str):
        self.epoch, self.hook = epoch, hook

    def on_epoch_begin(self, epoch, logs=None):
        if self.hook == "begin" and epoch == self.epoch:
            raise _Killed

    def on_epoch_end(self, epoch, logs=None):
        if self.hook == "end" and epoch == self.epoch:
            raise _Killed


def _logged_run(folder: Path, order: str, kill=None, resume=None, append=False, epochs=4):
    X, y = _digits(120)
    model = _classifier(dropout=0.2)
    opt = ds.optim.Adam(model.parameters(), lr=1e-2)
    ckpt = ds.train.ModelCheckpoint(folder / "ckpt-{epoch}.safetensors")
    log = ds.train.CSVLogger(folder / "metrics.csv", append=append)
    callbacks = {"csv,ckpt": [log, ckpt], "ckpt,csv": [ckpt, log]}[order]
    if kill is not None:  # (epoch, position among the callbacks, hook)
        callbacks.insert(kill[1], _KillAt(kill[0], kill[2]))
    return ds.train.fit(
        model, "cross_entropy", opt, (X, y), (X[:30], y[:30]), epochs=epochs, batch_size=32,
        metrics=["accuracy"], callbacks=callbacks, verbose=0, seed=1, resume_from=resume,
    )  # fmt: skip


@pytest.mark.parametrize("order", ["csv,ckpt", "ckpt,csv"])
@pytest.mark.parametrize(
    "kill",
    [(1, 0, "end"), (1, 1, "end"), (1, 2, "end"), (2, 0, "begin")],
    ids=["before-both", "between", "after-both", "next-epoch"],
)
@pytest.mark.parametrize("append", [False, True], ids=["new", "append"])
def test_the_csv_log_after_a_kill_and_resume_equals_the_uninterrupted_runs(
    tmp_path, order, kill, append
):
    full, cut = tmp_path / "full", tmp_path / "cut"
    old = "epoch,accuracy,loss,lr,val_accuracy,val_loss\n0,0.5,1.0,0.01,0.5,1.0\n"
    for folder in (full, cut):
        folder.mkdir()
        if append:  # a log of an earlier run, which append keeps
            (folder / "metrics.csv").write_text(old)
    done = _logged_run(full, order, append=append)
    with pytest.raises(_Killed):
        _logged_run(cut, order, kill=kill, append=append)
    if kill[2] == "end" and kill[1] == 1 and order == "ckpt,csv":
        (cut / "metrics.csv").open("a").write("2,0.4")  # and a row cut short by the kill
    latest = max(cut.glob("ckpt-*.safetensors"), key=lambda p: int(p.stem.split("-")[1]))
    resumed = _logged_run(cut, order, resume=latest, append=append)
    assert (cut / "metrics.csv").read_text() == (full / "metrics.csv").read_text()
    assert resumed.history == done.history
    rows = list(csv.reader((full / "metrics.csv").open()))
    assert len(rows) == 1 + 4 + (1 if append else 0)


def test_fit_and_evaluate_name_themselves_and_the_bad_member():
    X, y = np.ones((4, 2), np.float32), np.zeros((4, 1), np.float32)
    model = ds.nn.Linear(2, 1)
    opt = ds.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(
        TypeError, match=r"callbacks must be descent.train.Callback objects, got a dict"
    ):
        ds.train.fit(model, "mse", opt, (X, y), callbacks=[{}], verbose=0)

    class NoStep:
        pass

    with pytest.raises(TypeError, match=r"the NoStep given has no step\(\) method"):
        ds.train.fit(model, "mse", NoStep(), (X, y), verbose=0)
    with pytest.raises(
        TypeError, match=r"^evaluate: the loss function returned a float on a batch"
    ):
        ds.train.evaluate(model, lambda p, t: 1.0, (X, y))
