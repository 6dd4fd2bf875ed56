"""SAGA: checked against a NumPy transcription of the rule, against the least-squares
solution, and through fit, checkpoints and both verb sets."""

from __future__ import annotations

import numpy as np
import pytest

import descent as ds
from descent import optim
from descent.nn import functional as F

RNG = np.random.default_rng(3)
N, D = 30, 4
X = RNG.standard_normal((N, D))
Y = X @ RNG.standard_normal(D) + 0.5 + 0.3 * RNG.standard_normal(N)
BEST = np.linalg.lstsq(np.c_[X, np.ones(N)], Y, rcond=None)[0]


def _model():
    model = ds.nn.Linear(D, 1, dtype=ds.float64)
    model.weight.numpy()[...] = 0.0
    model.bias.numpy()[...] = 0.0
    return model


def _dataset():
    return ds.data.TensorDataset(
        ds.tensor(X, dtype=ds.float64), ds.tensor(Y[:, None], dtype=ds.float64)
    )


def _example_loss(model, i):
    x = ds.tensor(X[i : i + 1], dtype=ds.float64)
    y = ds.tensor(Y[i : i + 1, None], dtype=ds.float64)
    return F.mse_loss(model(x), y)


def _numpy_saga(order, lr):
    """SAGA by hand on theta = [w, b]: one gradient 2 r_i [x_i, 1] remembered per example."""
    a = np.c_[X, np.ones(N)]
    theta, table, mean = np.zeros(D + 1), np.zeros((N, D + 1)), np.zeros(D + 1)
    for i in order:
        g = 2 * (a[i] @ theta - Y[i]) * a[i]
        theta = theta - lr * (g - table[i] + mean)
        mean = mean + (g - table[i]) / N
        table[i] = g
    return theta


def _run(model, opt, order):
    for i in order:
        opt.zero_grad()
        _example_loss(model, i).backward()
        opt.step(examples=[i])


def _theta(model):
    return np.r_[model.weight.numpy().ravel(), model.bias.numpy()]


def test_saga_follows_the_rule_written_out_in_numpy():
    order = np.random.default_rng(0).integers(0, N, 200)  # repeats and gaps both occur
    model = _model()
    opt = optim.SAGA(model.parameters(), lr=0.02, n_examples=N)
    _run(model, opt, order)
    np.testing.assert_allclose(_theta(model), _numpy_saga(order, 0.02), rtol=1e-12, atol=1e-12)
    assert opt.global_step == 200


def test_saga_converges_with_a_constant_rate_where_sgd_does_not():
    lr, epochs = 0.02, 150
    orders = [np.random.default_rng(e).permutation(N) for e in range(epochs)]
    saga_model, sgd_model = _model(), _model()
    saga = optim.SAGA(saga_model.parameters(), lr=lr, n_examples=N)
    sgd = optim.SGD(sgd_model.parameters(), lr=lr)
    for order in orders:
        _run(saga_model, saga, order)
        for i in order:
            sgd.zero_grad()
            _example_loss(sgd_model, i).backward()
            sgd.step()
    saga_error = np.linalg.norm(_theta(saga_model) - BEST) / np.linalg.norm(BEST)
    sgd_error = np.linalg.norm(_theta(sgd_model) - BEST) / np.linalg.norm(BEST)
    assert saga_error < 1e-10
    assert sgd_error > 1e-3  # plain SGD wanders at a distance set by its rate


def test_fit_passes_each_step_its_example():
    model = _model()
    opt = optim.SAGA(model.parameters(), lr=0.02, n_examples=N)
    data = _dataset()
    loader = ds.data.DataLoader(data, batch_size=1, shuffle=True, seed=5)
    ds.train.fit(model, "mse", opt, loader, epochs=3, verbose=0)
    replay = ds.data.DataLoader(data, batch_size=1, shuffle=True, seed=5)
    order = [int(replay.batch_indices[0]) for _ in range(3) for _ in replay]
    assert sorted(order) == sorted(list(range(N)) * 3)
    np.testing.assert_allclose(_theta(model), _numpy_saga(order, 0.02), rtol=1e-12, atol=1e-12)


def test_tensorflow_verbs_take_the_example_too():
    by_step, by_apply, by_minimize = _model(), _model(), _model()
    models = (by_step, by_apply, by_minimize)
    opts = [optim.SAGA(m.parameters(), lr=0.05, n_examples=N) for m in models]
    order = [3, 7, 3, 0, 29]
    _run(by_step, opts[0], order)
    for i in order:
        pairs = opts[1].compute_gradients(_example_loss(by_apply, i))
        opts[1].apply_gradients(pairs, examples=[i])
        opts[2].minimize(lambda i=i: _example_loss(by_minimize, i), examples=np.array([i]))
    for m in (by_apply, by_minimize):
        np.testing.assert_array_equal(_theta(m), _theta(by_step))
    assert [o.global_step for o in opts] == [5, 5, 5]


def test_state_round_trips_through_a_checkpoint_file(tmp_path):
    model = _model()
    opt = optim.SAGA(model.parameters(), lr=0.02, n_examples=N)
    _run(model, opt, range(N))
    saved = opt.state_dict()
    assert saved["state"][0]["table"].shape == (N, 1, D)
    ds.save({"model": model.state_dict(), "optimizer": saved}, tmp_path / "saga.safetensors")
    loaded = ds.load(tmp_path / "saga.safetensors")
    twin = _model()
    twin.load_state_dict(loaded["model"])
    twin_opt = optim.SAGA(twin.parameters(), lr=1.0, n_examples=N)
    twin_opt.load_state_dict(loaded["optimizer"])
    _run(model, opt, range(N - 1, -1, -1))
    _run(twin, twin_opt, range(N - 1, -1, -1))
    np.testing.assert_array_equal(_theta(twin), _theta(model))


@pytest.mark.parametrize("steps", [0, 1])
def test_a_state_for_another_dataset_size_is_refused(steps):
    model = _model()
    opt = optim.SAGA(model.parameters(), lr=0.02, n_examples=N)
    _run(model, opt, range(steps))
    other = optim.SAGA(_model().parameters(), lr=0.02, n_examples=N + 1)
    with pytest.raises(ValueError, match=f"saved for n_examples={N}.*built for n_examples={N + 1}"):
        other.load_state_dict(opt.state_dict())
    assert other.param_groups[0]["n_examples"] == N + 1 and not other.state


def test_bad_use_is_explained():
    model = _model()
    opt = optim.SAGA(model.parameters(), lr=0.02, n_examples=N)
    _example_loss(model, 0).backward()
    before = _theta(model)
    with pytest.raises(ValueError, match="exactly one example.*got no examples.*batch_size=1"):
        opt.step()
    with pytest.raises(ValueError, match="got 2 examples"):
        opt.step(examples=[0, 1])
    with pytest.raises(IndexError, match=f"example {N} is outside the {N} examples"):
        opt.step(examples=[N])
    with pytest.raises(TypeError, match="must be an integer"):
        opt.step(examples=[2.7])
    np.testing.assert_array_equal(_theta(model), before)  # nothing moved
    assert opt.global_step == 0
    with pytest.raises(ValueError, match="n_examples must be a positive integer"):
        optim.SAGA(model.parameters(), lr=0.1, n_examples=0)
    data = _dataset()
    with pytest.raises(ValueError, match="got 4 examples. Train with batch_size=1"):
        ds.train.fit(model, "mse", opt, data, batch_size=4, epochs=1, verbose=0)


def test_an_index_outside_any_group_moves_nothing():
    """Groups may be built for different sizes; an index one of them cannot take is
    refused before any group takes its step."""
    model = _model()
    opt = optim.SAGA(
        [{"params": [model.weight], "n_examples": N}, {"params": [model.bias], "n_examples": 5}],
        lr=0.02,
        n_examples=N,
    )
    _example_loss(model, 10).backward()
    before = _theta(model)
    with pytest.raises(IndexError, match="example 10 is outside the 5 examples"):
        opt.step(examples=[10])
    np.testing.assert_array_equal(_theta(model), before)
    assert opt.global_step == 0 and not opt.state
