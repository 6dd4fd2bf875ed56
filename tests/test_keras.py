"""ds.keras: a Keras program (compile, fit, EarlyStopping, evaluate, predict, summary) on
real data, and each part of the front against what it stands for."""

import re

import numpy as np
import pytest
import torch

import descent as ds


def _iris():
    bunch = ds.datasets.load_iris()
    order = np.random.default_rng(0).permutation(len(bunch.target))
    X, y = bunch.data[order], bunch.target[order]
    X = (X - X[:100].mean(0)) / X[:100].std(0)
    return (X[:100], y[:100]), (X[100:120], y[100:120]), (X[120:], y[120:])


def _summary(model) -> list[str]:
    lines = []
    model.summary(print_fn=lines.append)
    return lines


def _rows(lines: list[str]) -> list[tuple[str, str, int]]:
    """(layer, output shape, params) of each row of a summary table."""
    rows = []
    for line in lines:
        m = re.match(r"^(\S+ \(\w+\))\s+(\(.*?\)|\?)\s+([\d,]+)$", line)
        if m:
            rows.append((m.group(1), m.group(2), int(m.group(3).replace(",", ""))))
    return rows


def test_a_keras_program_trains_stops_early_evaluates_predicts_and_summarises(capsys):
    ds.manual_seed(0)
    (x, y), (x_val, y_val), (x_test, y_test) = _iris()
    model = ds.keras.Sequential([
        ds.keras.Input(shape=(4,)), ds.nn.Linear(4, 16), ds.nn.ReLU(), ds.nn.Linear(16, 3),
        ds.nn.Softmax(dim=1),
    ])  # fmt: skip
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    stop = ds.keras.callbacks.EarlyStopping(patience=5, restore_best_weights=True, verbose=1)
    history = model.fit(x, y, batch_size=16, epochs=500, validation_data=(x_val, y_val),
                        callbacks=[stop], verbose=0)  # fmt: skip
    out = capsys.readouterr().out
    m = re.search(r"early stopping at epoch (\d+); restoring the weights of epoch (\d+)", out)
    assert m, out
    stopped, best = int(m.group(1)), int(m.group(2))
    val_losses = history["val_loss"]
    assert stopped == len(history) == stop.stopped_epoch + 1 < 500
    assert best == int(np.argmin(val_losses)) + 1 == stop.best_epoch + 1
    assert stopped - best == 5  # patience
    assert history is model.history and history.stopped_by == f"EarlyStopping at epoch {stopped}"

    # the weights are the best epoch's: the validation loss is that epoch's again
    val_loss, _ = model.evaluate(x_val, y_val, verbose=0)
    assert val_loss == pytest.approx(min(val_losses), rel=1e-5)

    loss, acc = model.evaluate(x_test, y_test, verbose=0)
    probs = model.predict(x_test)
    assert isinstance(probs, np.ndarray) and probs.shape == (30, 3)
    np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-5)
    assert acc == pytest.approx(np.mean(probs.argmax(1) == y_test))
    picked = np.clip(probs[np.arange(30), y_test], 1e-7, 1 - 1e-7)
    assert loss == pytest.approx(-np.log(picked).mean(), rel=1e-5)
    assert acc > 0.85
    assert model.evaluate(x_test, y_test, verbose=0, return_dict=True) == {
        "loss": pytest.approx(loss), "accuracy": pytest.approx(acc),
    }  # fmt: skip

    lines = _summary(model)
    assert lines[0] == 'Model: "sequential"'
    rows = _rows(lines)
    assert [r[0] for r in rows] == ["0 (Linear)", "1 (ReLU)", "2 (Linear)", "3 (Softmax)"]
    assert [r[1] for r in rows] == ["(None, 16)", "(None, 16)", "(None, 3)", "(None, 3)"]
    layers = model.layers
    assert [r[2] for r in rows] == [sum(p.numel() for p in c.parameters()) for c in layers]
    total = sum(p.numel() for p in model.module.parameters())
    assert total == 4 * 16 + 16 + 16 * 3 + 3
    assert f"Total params: {total:,}" in lines and f"Trainable params: {total:,}" in lines
    assert "Non-trainable params: 0" in lines


def test_summary_before_and_after_the_model_sees_data():
    class Net(ds.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = ds.nn.Conv2d(1, 4, 3)
            self.flat = ds.nn.Flatten()
            self.head = ds.nn.Linear(4 * 6 * 6, 10)

        def forward(self, x):
            return self.head(self.flat(self.conv(x).relu()))

    net = Net()
    net.head.weight.requires_grad_(False)
    model = ds.keras.Model(net)
    lines = _summary(model)
    assert not model.built and [r[1] for r in _rows(lines)] == ["?", "?", "?"]
    assert any("built" in line for line in lines)
    assert model.predict(np.zeros((5, 1, 8, 8), np.float32)).shape == (5, 10)
    lines = _summary(model)
    assert [r[1] for r in _rows(lines)] == ["(None, 4, 6, 6)", "(None, 144)", "(None, 10)"]
    assert [r[2] for r in _rows(lines)] == [4 * 9 + 4, 0, 144 * 10 + 10]
    assert "Non-trainable params: 1,440" in lines and "Trainable params: 50" in lines
    with pytest.raises(ValueError, match=r"does not run through the model"):
        ds.keras.Model(Net()).build((None, 1, 2, 2))


def test_callbacks_see_the_keras_model_and_can_stop_it():
    (x, y), _, _ = _iris()
    model = ds.keras.Sequential([ds.nn.Linear(4, 3)])
    model.compile("sgd", loss=ds.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    seen = []

    class StopAtThree(ds.train.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append((self.model, self.params["epochs"]))
            if epoch == 2:
                self.model.stop_training = True

    history = model.fit(x, y, epochs=10, callbacks=[StopAtThree()], verbose=0)
    assert len(history) == 3 and history.stopped_by == "StopAtThree at epoch 3"
    assert all(m is model for m, _ in seen) and seen[0][1] == 10
    assert not model.stop_training or model._run is None
    assert len(model.fit(x, y, epochs=2, verbose=0)) == 2  # a new fit starts afresh


def test_compile_takes_keras_optimizer_names_with_keras_defaults_and_refuses_the_unknown():
    model = ds.keras.Sequential([ds.nn.Linear(4, 3)])
    expected = {
        "adam": (ds.optim.Adam, 0.001), "sgd": (ds.optim.SGD, 0.01),
        "rmsprop": (ds.optim.RMSprop, 0.001), "adagrad": (ds.optim.Adagrad, 0.001),
    }  # fmt: skip
    for name, (cls, lr) in expected.items():
        model.compile(optimizer=name.upper(), loss="mse")
        assert type(model.optimizer) is cls and model.optimizer.param_groups[0]["lr"] == lr
        assert model.optimizer.param_groups[0]["params"] == list(model.module.parameters())
    with pytest.raises(ValueError, match=r"unknown optimizer 'adamm'"):
        model.compile(optimizer="adamm", loss="mse")
    with pytest.raises(ValueError, match=r"unknown loss"):
        model.compile(optimizer="adam", loss="mse_typo")
    with pytest.raises(RuntimeError, match=r"not compiled"):
        ds.keras.Sequential([ds.nn.Linear(4, 3)]).fit(np.zeros((4, 4)), np.zeros(4, np.int64))
    with pytest.raises(TypeError, match=r"wraps a descent nn.Module"):
        ds.keras.Model([ds.nn.Linear(4, 3)])


def test_an_unbound_tensorflow_optimizer_and_a_keras_order_loss_function():
    (x, y), _, _ = _iris()
    model = ds.keras.Sequential([ds.nn.Linear(4, 1)])
    calls = []

    def keras_mse(y_true, y_pred):  # Keras's order; y (N,) gets the output's (N, 1)
        calls.append((y_true.requires_grad, y_pred.requires_grad, tuple(y_true.shape)))
        return ((y_pred - y_true) ** 2).mean()

    target = x[:, 2].astype(np.float32)
    model.compile(optimizer=ds.optim.AdamOptimizer(0.05), loss=keras_mse, metrics=["mae"])
    history = model.fit(x, target, epochs=30, verbose=0)
    assert calls[0] == (False, True, (32, 1))
    assert history["loss"][-1] < 0.05 * history["loss"][0]
    assert model.optimizer.param_groups[0]["params"] == list(model.module.parameters())


def test_weights_round_trip(tmp_path):
    model = ds.keras.Sequential([ds.nn.Linear(4, 8), ds.nn.BatchNorm1d(8), ds.nn.Linear(8, 2)])
    weights = model.get_weights()
    assert [w.shape for w in weights] == [
        tuple(v.shape) for v in model.module.state_dict().values()
    ]
    other = ds.keras.Sequential([ds.nn.Linear(4, 8), ds.nn.BatchNorm1d(8), ds.nn.Linear(8, 2)])
    other.set_weights(weights)
    x = np.random.default_rng(1).normal(size=(6, 4)).astype(np.float32)
    np.testing.assert_array_equal(other.predict(x), model.predict(x))
    with pytest.raises(ValueError, match=r"has shape \(8, 4\)"):
        other.set_weights([w.T for w in weights])
    path = tmp_path / "w.safetensors"
    model.save_weights(path)
    third = ds.keras.Sequential([ds.nn.Linear(4, 8), ds.nn.BatchNorm1d(8), ds.nn.Linear(8, 2)])
    third.load_weights(path)
    np.testing.assert_array_equal(third.predict(x), model.predict(x))
    assert model.count_params() == sum(p.numel() for p in model.module.parameters())


@pytest.mark.parametrize("from_logits", [False, True])
def test_keras_loss_classes_agree_with_torch(from_logits):
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(7, 4))
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    labels = rng.integers(0, 4, 7)
    one_hot = np.eye(4)[labels]
    out = logits if from_logits else probs
    pred = ds.tensor(out, requires_grad=True)
    t_out = torch.tensor(out, requires_grad=True)
    # Keras's formula: probabilities divided by their sum, clipped, then the log
    normalised = (t_out / t_out.sum(1, keepdim=True)).clamp(1e-7, 1 - 1e-7)
    t_log = torch.log_softmax(t_out, 1) if from_logits else torch.log(normalised)
    cases = [
        (ds.keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits), labels,
         torch.nn.NLLLoss()(t_log, torch.tensor(labels))),
        (ds.keras.losses.CategoricalCrossentropy(from_logits=from_logits), one_hot,
         -(torch.tensor(one_hot) * t_log).sum(1).mean()),
    ]  # fmt: skip
    for loss, target, expected in cases:
        value = loss(ds.tensor(target), pred)
        (g,) = ds.grad(value, [pred])
        (tg,) = torch.autograd.grad(expected, [t_out], retain_graph=True)
        assert value.item() == pytest.approx(expected.item(), rel=1e-10)
        np.testing.assert_allclose(g.numpy(), tg.numpy(), rtol=1e-9, atol=1e-12)
    binary = rng.uniform(0.05, 0.95, size=(7, 1)) if not from_logits else logits[:, :1]
    b_target = (rng.uniform(size=7) > 0.5).astype(np.float64)
    b = ds.keras.losses.BinaryCrossentropy(from_logits=from_logits)(
        ds.tensor(b_target), ds.tensor(binary)
    )
    t_fn = torch.nn.BCEWithLogitsLoss() if from_logits else torch.nn.BCELoss()
    expected = t_fn(torch.tensor(binary), torch.tensor(b_target).reshape(7, 1))
    assert b.item() == pytest.approx(expected.item(), rel=1e-10)


def test_keras_loss_classes_take_only_the_default_reduction():
    with pytest.raises(ValueError, match=r"only Keras's default reduction"):
        ds.keras.losses.MeanSquaredError(reduction="sum")
    mse = ds.keras.losses.MeanSquaredError()
    assert mse(ds.tensor([1.0, 2.0]), ds.tensor([2.0, 4.0])).item() == pytest.approx(2.5)
    mae = ds.keras.losses.MeanAbsoluteError()
    assert mae(ds.tensor([1.0, 2.0]), ds.tensor([2.0, 4.0])).item() == pytest.approx(1.5)
