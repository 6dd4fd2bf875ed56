"""TensorFlow 1's optimizer verbs and classes: a lecture's program, and each keyword."""

import inspect

import numpy as np
import pytest
import torch

import descent as ds


def _regression(n=50, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = X @ np.array([1.5, -2.0, 0.5]) + 0.7 + 0.1 * rng.normal(size=n)
    return X, y


def test_a_tensorflow_1_program_minimizes_with_a_global_step():
    X, y = _regression()
    W = ds.zeros(3, dtype=ds.float64, requires_grad=True)
    b = ds.zeros(1, dtype=ds.float64, requires_grad=True)
    Xt, yt = ds.tensor(X), ds.tensor(y)

    def loss():
        return ((Xt @ W + b - yt) ** 2).mean()

    global_step = ds.tensor(0)
    train = ds.optim.GradientDescentOptimizer(learning_rate=0.1)
    for _ in range(400):
        train.minimize(loss, global_step=global_step, var_list=[W, b])
    assert global_step.item() == 400 and train.global_step == 400
    closed, *_ = np.linalg.lstsq(np.c_[X, np.ones(len(X))], y, rcond=None)
    np.testing.assert_allclose(np.r_[W.numpy(), b.numpy()], closed, atol=1e-8)


def test_compute_then_apply_gradients_with_the_counter_passed_second():
    X, y = _regression()
    W = ds.zeros(3, dtype=ds.float64, requires_grad=True)
    opt = ds.optim.GradientDescentOptimizer(0.05)
    gs = ds.tensor(7)
    pairs = opt.compute_gradients(lambda: ((ds.tensor(X) @ W - ds.tensor(y)) ** 2).mean(), [W])
    expected = W.numpy() - 0.05 * pairs[0][0].numpy()
    assert opt.apply_gradients(pairs, gs, name="train") == 1
    assert gs.item() == 8 and gs.dtype == ds.int64
    np.testing.assert_allclose(W.numpy(), expected)


def test_var_list_restricts_the_update():
    W = ds.ones(2, requires_grad=True)
    b = ds.ones(1, requires_grad=True)
    opt = ds.optim.SGD([W, b], lr=0.5)
    opt.minimize(lambda: (W.sum() + b.sum()) ** 2, var_list=[W], global_step=ds.tensor(0))
    assert np.all(W.numpy() != 1) and b.numpy().tolist() == [1.0]


@pytest.mark.parametrize("counter", [3, ds.tensor(0.0), ds.tensor([0, 0])])
def test_a_counter_that_cannot_count_is_refused_before_anything_moves(counter):
    W = ds.ones(2, requires_grad=True)
    opt = ds.optim.SGD([W], lr=0.5)
    with pytest.raises(
        TypeError, match=r"global_step must be a 0-d integer Tensor.*ds.tensor\(0\)"
    ):
        opt.minimize(lambda: W.sum(), global_step=counter)
    assert W.numpy().tolist() == [1.0, 1.0] and opt.global_step == 0


def test_the_counter_given_where_var_list_goes_and_no_variables_yet_are_explained():
    W = ds.ones(2, requires_grad=True)
    with pytest.raises(
        TypeError, match=r"looks like a global step counter; pass it as global_step"
    ):
        ds.optim.SGD([W], lr=0.5).minimize(lambda: W.sum(), ds.tensor(0))
    with pytest.raises(ValueError, match=r"holds no variables yet.*pass var_list"):
        ds.optim.GradientDescentOptimizer(0.1).minimize(lambda: W.sum())


def test_learning_rate_is_lr_on_every_optimizer():
    classes = [
        ds.optim.SGD, ds.optim.Adagrad, ds.optim.RMSprop, ds.optim.Adam, ds.optim.AdamW,
        ds.optim.Adamax, ds.optim.NAdam, ds.optim.RAdam, ds.optim.Adadelta, ds.optim.Momentum,
    ]  # fmt: skip
    for cls in classes:
        w = ds.zeros(2, requires_grad=True)
        assert cls([w], learning_rate=0.125).param_groups[0]["lr"] == 0.125, cls
        assert "learning_rate" in inspect.signature(cls).parameters, cls
        with pytest.raises(TypeError, match=r"lr and learning_rate are one parameter"):
            cls([w], 0.1, learning_rate=0.1)
        with pytest.raises(TypeError, match=r"lr and learning_rate are one parameter"):
            cls([w], lr=0.1, learning_rate=0.1)
    w = ds.zeros(2, requires_grad=True)
    assert ds.optim.SAGA([w], learning_rate=0.5, n_examples=3).param_groups[0]["lr"] == 0.5

    class Mine(ds.optim.Optimizer):  # a user's own optimizer gets it too
        rule = staticmethod(lambda params, grads, states, lr: None)

        def __init__(self, params, lr=0.01):
            super().__init__(params, dict(lr=lr))

    assert Mine([w], learning_rate=0.25).param_groups[0]["lr"] == 0.25


def _trajectory(opt, w, steps=5):
    path = []
    for k in range(steps):
        opt.apply_gradients([(np.array([1.0, -2.0]) * (k + 1) + w.numpy(), w)])
        path.append(w.numpy().copy())
    return np.array(path)


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_optimizer_is_torch_sgd_with_momentum(nesterov):
    w = ds.tensor([0.5, 0.5], dtype=ds.float64, requires_grad=True)
    ours = _trajectory(ds.optim.MomentumOptimizer(0.1, 0.9, use_nesterov=nesterov), w)
    tw = torch.tensor([0.5, 0.5], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([tw], lr=0.1, momentum=0.9, nesterov=nesterov)
    theirs = []
    for k in range(5):
        tw.grad = torch.tensor([1.0, -2.0], dtype=torch.float64) * (k + 1) + tw.detach()
        opt.step()
        theirs.append(tw.detach().numpy().copy())
    np.testing.assert_allclose(ours, np.array(theirs), rtol=1e-12)


def test_adam_optimizer_takes_tensorflow_names_and_defaults():
    opt = ds.optim.AdamOptimizer()
    assert opt.defaults["lr"] == 0.001 and opt.defaults["betas"] == (0.9, 0.999)
    assert opt.defaults["eps"] == 1e-8 and opt.name == "Adam"
    w = ds.tensor([0.5, 0.5], dtype=ds.float64, requires_grad=True)
    ours = _trajectory(ds.optim.AdamOptimizer(0.01, beta1=0.8, beta2=0.99, epsilon=1e-6), w)
    w2 = ds.tensor([0.5, 0.5], dtype=ds.float64, requires_grad=True)
    same = _trajectory(ds.optim.Adam([w2], lr=0.01, betas=(0.8, 0.99), eps=1e-6), w2)
    np.testing.assert_array_equal(ours, same)
    # TensorFlow 1's first step: lr * sqrt(1 - b2) / (1 - b1) * m / (sqrt(v) + eps) with
    # m = (1 - b1) g, v = (1 - b2) g^2, which is about lr * sign(g)
    g = np.array([1.0, -2.0]) + 0.5
    tf1 = 0.5 - 0.01 * np.sqrt(0.01) / 0.2 * (0.2 * g) / (np.sqrt(0.01 * g * g) + 1e-6)
    np.testing.assert_allclose(ours[0], tf1, atol=1e-7)


def test_fit_binds_an_optimizer_built_without_params():
    X, y = _regression()
    model = ds.nn.Linear(3, 1).double()
    opt = ds.optim.GradientDescentOptimizer(0.1)
    hist = ds.train.fit(model, "mse", opt, x=X, y=y[:, None], epochs=30, verbose=0)
    assert opt.param_groups[0]["params"] == list(model.parameters())
    assert hist["loss"][-1] < 0.02


def test_variables_join_an_unbound_optimizer_only_when_the_update_is_accepted():
    W = ds.ones(2, requires_grad=True)
    b = ds.ones(1, requires_grad=True)
    opt = ds.optim.GradientDescentOptimizer(0.5)
    with pytest.raises(ValueError, match=r"gradient of shape \(3,\)"):
        opt.apply_gradients([(np.ones(2), W), (np.ones(3), b)])
    assert opt.param_groups == [] and W.numpy().tolist() == [1.0, 1.0]
    opt.apply_gradients([(np.ones(2), W)])
    opt.apply_gradients([(np.ones(2), W), (np.ones(1), b)])
    assert [g["params"] for g in opt.param_groups] == [[W], [b]]
    assert W.numpy().tolist() == [0.0, 0.0] and b.numpy().tolist() == [0.5]
    with pytest.raises(ValueError, match=r"is not a parameter of this optimizer"):
        ds.optim.SGD([W], lr=0.1).apply_gradients([(np.ones(1), b)])
