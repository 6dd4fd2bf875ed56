"""ds.train.fit with Keras's keywords and loss names, and callbacks speaking as Keras's."""

import re

import numpy as np
import pytest
import torch

import descent as ds
from descent.train import losses


def _data(n=60, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    return X, y


def _model(seed=0):
    ds.manual_seed(seed)
    return ds.nn.Sequential(ds.nn.Linear(4, 2))


def _fit(model, **kwargs):
    kwargs.setdefault("verbose", 0)
    return ds.train.fit(model, "cross_entropy", ds.optim.SGD(model.parameters(), lr=0.1), **kwargs)


def test_x_and_y_are_train_data_and_validation_data_is_val_data():
    X, y = _data()
    a = _fit(_model(), train_data=(X, y), val_data=(X[:10], y[:10]), epochs=3, seed=1)
    b = _fit(_model(), x=X, y=y, validation_data=(X[:10], y[:10]), epochs=3, seed=1)
    assert a.history == b.history and "val_loss" in b.history
    dataset = ds.data.TensorDataset(ds.tensor(X), ds.tensor(y))
    c = _fit(_model(), x=dataset, validation_data=(X[:10], y[:10]), epochs=3, seed=1)
    assert c.history == a.history


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            dict(train_data=(0, 0), x=np.zeros((2, 4))),
            r"train_data=\(X, y\).*or x=X, y=y.*not both",
        ),
        (dict(y=np.zeros(2)), r"y= was given without x="),
        (dict(), r"no training data"),
        (
            dict(
                x=np.zeros((2, 4)), y=np.zeros(2, np.int64), val_data=(0, 0), validation_data=(0, 0)
            ),
            r"val_data.*or validation_data.*not both",
        ),  # fmt: skip
        (
            dict(x=np.zeros((2, 4)), y=np.zeros(2, np.int64), validation_data=(1, 2, 3)),
            r"3-tuple",
        ),  # fmt: skip
    ],
)
def test_one_spelling_at_a_time(kwargs, message):
    with pytest.raises((TypeError, ValueError), match=message):
        _fit(_model(), **kwargs)


def test_validation_split_takes_the_last_fraction_before_shuffling():
    X, y = _data(50)
    model = _model()
    seen = []

    def loss(pred, target):
        seen.append(target.numpy().copy())
        return ds.nn.functional.cross_entropy(pred, target)

    hist = ds.train.fit(model, loss, ds.optim.SGD(model.parameters(), lr=0.0), x=X, y=y,
                        validation_split=0.2, epochs=1, batch_size=40, verbose=0)  # fmt: skip
    assert sorted(seen[0]) == sorted(y[:40])  # the training batch: the first 40
    expected = ds.train.evaluate(model, "cross_entropy", (X[40:], y[40:]))["loss"]
    assert hist["val_loss"][0] == pytest.approx(expected)


def test_shuffle_false_keeps_the_order():
    X, y = _data(30)
    y = np.arange(30) % 2
    batches = []

    def loss(pred, target):
        batches.append(target.numpy().copy())
        return ds.nn.functional.cross_entropy(pred, target)

    model = _model()
    opt = ds.optim.SGD(model.parameters(), lr=0.1)
    ds.train.fit(model, loss, opt, x=X, y=y, batch_size=7, epochs=2, shuffle=False, verbose=0)
    np.testing.assert_array_equal(np.concatenate(batches), np.concatenate([y, y]))
    batches.clear()
    ds.train.fit(model, loss, opt, x=X, y=y, batch_size=30, epochs=1, verbose=0, seed=3)
    assert not np.array_equal(batches[0], y) and sorted(batches[0]) == sorted(y)


def test_initial_epoch_numbers_the_epochs_and_epochs_is_the_total():
    X, y = _data()
    begun = []

    class Note(ds.train.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            begun.append(epoch)

    hist = _fit(_model(), x=X, y=y, epochs=5, initial_epoch=3, callbacks=[Note()])
    assert hist.epoch == [3, 4] and begun == [3, 4] and len(hist["loss"]) == 2
    with pytest.raises(ValueError, match=r"initial_epoch=5 with epochs=5 trains no epoch"):
        _fit(_model(), x=X, y=y, epochs=5, initial_epoch=5)
    with pytest.raises(TypeError, match=r"initial_epoch must be an int"):
        _fit(_model(), x=X, y=y, epochs=5, initial_epoch=1.0)


def test_verbose_auto_is_one_and_batch_size_none_is_32(capsys):
    X, y = _data(64)
    hist = _fit(_model(), x=X, y=y, epochs=1, verbose="auto", batch_size=None)
    assert hist.params == {"epochs": 1, "steps": 2, "verbose": 1}
    assert "epoch 1/1" in capsys.readouterr().out  # not a terminal: one line per epoch
    with pytest.raises(TypeError, match=r"verbose must be 0, 1, 2 or 'auto'"):
        _fit(_model(), x=X, y=y, verbose="loud")


def test_callbacks_get_the_model_and_params():
    X, y = _data()
    got = []

    class Look(ds.train.Callback):
        def on_train_begin(self, logs=None):
            got.append((self.model, self.params))

    model = _model()
    _fit(model, x=X, y=y, epochs=2, callbacks=[Look()])
    assert got == [(model, {"epochs": 2, "steps": 2, "verbose": 0})]


# ---- the Keras loss names, against closed forms and torch ----------------------------
def _probs(n=9, c=3, seed=4):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, c))
    return np.exp(logits) / np.exp(logits).sum(1, keepdims=True), rng.integers(0, c, n)


def test_sparse_and_categorical_crossentropy_take_probabilities():
    p, labels = _probs()
    closed = -np.log(p[np.arange(9), labels]).mean()
    sparse = losses.LOSSES["sparse_categorical_crossentropy"]
    categorical = losses.LOSSES["categorical_crossentropy"]
    assert sparse(ds.tensor(p), ds.tensor(labels)).item() == pytest.approx(closed, rel=1e-12)
    assert sparse(ds.tensor(p), ds.tensor(labels[:, None])).item() == pytest.approx(closed)
    one_hot = np.eye(3)[labels]
    assert categorical(ds.tensor(p), ds.tensor(one_hot)).item() == pytest.approx(closed, rel=1e-12)
    expected = torch.nn.NLLLoss()(torch.log(torch.tensor(p)), torch.tensor(labels)).item()
    assert closed == pytest.approx(expected, rel=1e-12)
    # a zero probability is clipped at 1e-7, as Keras clips: large and finite
    zero = np.array([[1.0, 0.0]])
    value = sparse(ds.tensor(zero), ds.tensor([1])).item()
    assert value == pytest.approx(-np.log(1e-7))
    with pytest.raises(ValueError, match=r"one-hot targets take 'categorical_crossentropy'"):
        sparse(ds.tensor(p), ds.tensor(one_hot))
    with pytest.raises(ValueError, match=r"class indices take 'sparse_categorical_crossentropy'"):
        categorical(ds.tensor(p), ds.tensor(labels))


def test_binary_crossentropy_takes_probabilities_and_gives_the_target_its_axis():
    rng = np.random.default_rng(5)
    p = rng.uniform(0.01, 0.99, size=(8, 1))
    t = (rng.uniform(size=8) > 0.5).astype(np.int64)
    closed = -(t * np.log(p[:, 0]) + (1 - t) * np.log(1 - p[:, 0])).mean()
    bce = losses.LOSSES["binary_crossentropy"]
    pred = ds.tensor(p, requires_grad=True)
    value = bce(pred, ds.tensor(t))
    assert value.item() == pytest.approx(closed, rel=1e-12)
    t_pred = torch.tensor(p, requires_grad=True)
    expected = torch.nn.BCELoss()(t_pred, torch.tensor(t, dtype=torch.float64)[:, None])
    expected.backward()
    value.backward()
    np.testing.assert_allclose(pred.grad.numpy(), t_pred.grad.numpy(), rtol=1e-10)
    with pytest.raises(ValueError, match=r"differs from the output's"):
        bce(ds.tensor(p), ds.tensor(np.zeros(3)))


def test_keras_names_train_a_softmax_model_and_keras_regression_names_are_ours():
    X, y = _data(80)
    ds.manual_seed(0)
    model = ds.nn.Sequential(ds.nn.Linear(4, 2), ds.nn.Softmax(dim=1))
    hist = ds.train.fit(model, "sparse_categorical_crossentropy",
                        ds.optim.Adam(model.parameters(), learning_rate=0.05), x=X, y=y,
                        epochs=20, metrics=["accuracy"], verbose=0)  # fmt: skip
    assert hist["accuracy"][-1] > 0.9 and hist["loss"][-1] < hist["loss"][0]
    assert losses.LOSSES["mean_squared_error"] is losses.LOSSES["mse"]
    assert losses.LOSSES["mean_absolute_error"] is losses.LOSSES["mae"]
    with pytest.raises(ValueError, match=r"unknown loss 'categorical_cross_entropy'"):
        ds.train.fit(model, "categorical_cross_entropy", ds.optim.SGD(model.parameters()), x=X, y=y)


# ---- callbacks that say what they did -----------------------------------------------
def test_early_stopping_and_model_checkpoint_speak_when_verbose(tmp_path, capsys):
    X, y = _data()
    val = _data(20, seed=1)
    scores = iter([0.5, 0.3, 0.4, 0.45, 0.2])

    stop = ds.train.EarlyStopping(monitor=lambda: -next(scores), patience=2, verbose=1)
    path = tmp_path / "best-{epoch}.safetensors"
    save = ds.train.ModelCheckpoint(path, monitor="val_loss", save_best_only=True, verbose=1)
    hist = _fit(_model(), x=X, y=y, validation_data=val, epochs=10, callbacks=[stop, save])
    out = capsys.readouterr().out.splitlines()
    assert len(hist) == 4 and "early stopping at epoch 4" in out
    v = hist["val_loss"]
    assert out[0] == f"Epoch 1: val_loss improved from inf to {v[0]:.5f}, saving model to " + str(
        tmp_path / "best-1.safetensors"
    )
    assert all(re.match(r"Epoch \d: val_loss (improved from|did not improve from)", o)
               for o in out[:4])  # fmt: skip
    quiet = ds.train.EarlyStopping(monitor="loss", patience=0)
    _fit(_model(), x=X, y=y, epochs=3, callbacks=[quiet])
    assert capsys.readouterr().out == ""


def test_terminate_on_nan_prints_why_and_keeps_the_epochs_before(capsys):
    X, y = _data(40)
    calls = []

    def loss(pred, target):  # NaN at the second step of the third epoch (2 steps an epoch)
        calls.append(1)
        value = ds.nn.functional.cross_entropy(pred, target)
        return value * float("nan") if len(calls) == 6 else value

    model = _model()
    with pytest.warns(RuntimeWarning, match=r"TerminateOnNaN: the loss became nan"):
        hist = ds.train.fit(model, loss, ds.optim.SGD(model.parameters(), lr=0.1), x=X, y=y,
                            batch_size=20, epochs=5, callbacks=[ds.train.TerminateOnNaN()],
                            verbose=0)  # fmt: skip
    assert hist.epoch == [0, 1]
    out = capsys.readouterr().out
    assert (
        "Epoch 3, batch 2: invalid loss (the loss became nan), terminating training; the "
        "history keeps 2 finished epochs"
    ) in out


def test_a_checkpoint_names_a_missing_callback_with_its_article(tmp_path):
    X, y = _data()
    path = tmp_path / "ckpt.safetensors"
    model = _model()
    opt = ds.optim.SGD(model.parameters(), lr=0.1)
    stop = ds.train.EarlyStopping(monitor="loss", patience=5)
    ds.train.fit(model, "cross_entropy", opt, x=X, y=y, epochs=2, verbose=0,
                 callbacks=[stop, ds.train.ModelCheckpoint(path)])  # fmt: skip
    with pytest.raises(
        ds.io.CheckpointError, match=r"holds the state of an EarlyStopping callback"
    ):
        ds.train.fit(model, "cross_entropy", opt, x=X, y=y, epochs=4, verbose=0,
                     resume_from=path)  # fmt: skip
