"""ds.optim against torch.optim, the oracle: trajectories, state, TensorFlow's verbs, clipping.

Every optimizer row of TABLE runs 20 steps of the same float64 problem in descent and in
PyTorch, each library computing its own gradients, and must follow torch's parameters
and optimizer state to 1e-10 relative.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import descent as ds
from descent import optim
from tests.helpers import assert_plain

RNG = np.random.default_rng(0)
X = RNG.standard_normal((6, 3))
Y = RNG.standard_normal((6, 2))
START = [RNG.standard_normal((3, 2)), RNG.standard_normal(2), RNG.standard_normal(4)]


def loss_of(X, Y, W, b):
    """Least squares plus a quartic penalty; the same expression for both libraries."""
    r = X @ W + b - Y
    return (r**2).mean() + 0.1 * (W**4).sum()


def ds_problem(dtype=ds.float64):
    """Parameters W, b (used by the loss) and c (never used, so its grad stays None)."""
    params = [ds.tensor(a, dtype=dtype, requires_grad=True) for a in START]
    data = (ds.tensor(X, dtype=dtype), ds.tensor(Y, dtype=dtype))
    return params, lambda: loss_of(*data, params[0], params[1])


def torch_problem():
    params = [torch.tensor(a, requires_grad=True) for a in START]
    data = (torch.tensor(X), torch.tensor(Y))
    return params, lambda: loss_of(*data, params[0], params[1])


# (id, descent class, its options, torch.optim class, its options (None: the same))
TABLE = [
    ("gd", "GradientDescent", dict(lr=0.1), "SGD", None),
    ("sgd-momentum", "SGD", dict(lr=0.05, momentum=0.9), "SGD", None),
    ("sgd-dampening", "SGD", dict(lr=0.05, momentum=0.9, dampening=0.3), "SGD", None),
    ("sgd-nesterov", "SGD", dict(lr=0.05, momentum=0.8, nesterov=True), "SGD", None),
    ("sgd-weight_decay", "SGD", dict(lr=0.1, weight_decay=0.2), "SGD", None),
    ("sgd-maximize", "SGD", dict(lr=0.01, maximize=True), "SGD", None),
    (
        "sgd-all",
        "SGD",
        dict(lr=0.003, momentum=0.7, dampening=0.1, weight_decay=0.05, maximize=True),
        "SGD",
        None,
    ),
    ("momentum", "Momentum", dict(lr=0.05, momentum=0.9), "SGD", dict(lr=0.05, momentum=0.9)),
    (
        "momentum-nesterov",
        "Momentum",
        dict(lr=0.05, momentum=0.8, nesterov=True),
        "SGD",
        dict(lr=0.05, momentum=0.8, dampening=0, nesterov=True),
    ),
    ("adagrad", "Adagrad", dict(), "Adagrad", None),
    (
        "adagrad-options",
        "Adagrad",
        dict(lr=0.2, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.5, eps=1e-6),
        "Adagrad",
        None,
    ),
    ("adagrad-maximize", "Adagrad", dict(lr=0.05, maximize=True), "Adagrad", None),
    ("rmsprop", "RMSprop", dict(), "RMSprop", None),
    ("rmsprop-momentum", "RMSprop", dict(lr=0.01, momentum=0.9), "RMSprop", None),
    ("rmsprop-centered", "RMSprop", dict(lr=0.01, centered=True), "RMSprop", None),
    (
        "rmsprop-all",
        "RMSprop",
        dict(lr=0.02, alpha=0.9, eps=1e-6, weight_decay=0.1, momentum=0.5, centered=True),
        "RMSprop",
        None,
    ),
    ("rmsprop-maximize", "RMSprop", dict(lr=0.001, maximize=True), "RMSprop", None),
    ("adam", "Adam", dict(lr=0.05), "Adam", None),
    ("adam-defaults", "Adam", dict(), "Adam", None),
    ("adam-amsgrad", "Adam", dict(lr=0.05, amsgrad=True), "Adam", None),
    ("adam-weight_decay", "Adam", dict(lr=0.05, weight_decay=0.1), "Adam", None),
    ("adam-betas", "Adam", dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6), "Adam", None),
    ("adam-maximize", "Adam", dict(lr=0.01, maximize=True, amsgrad=True), "Adam", None),
    ("adamw", "AdamW", dict(lr=0.05), "AdamW", None),
    ("adamw-amsgrad", "AdamW", dict(lr=0.05, weight_decay=0.3, amsgrad=True), "AdamW", None),
    ("adamax", "Adamax", dict(lr=0.05), "Adamax", None),
    ("adamax-defaults", "Adamax", dict(), "Adamax", None),
    (
        "adamax-all",
        "Adamax",
        dict(lr=0.02, betas=(0.8, 0.9), eps=1e-3, weight_decay=0.1, maximize=True),
        "Adamax",
        None,
    ),  # fmt: skip
    ("nadam", "NAdam", dict(lr=0.05), "NAdam", None),
    ("nadam-defaults", "NAdam", dict(), "NAdam", None),
    (
        "nadam-weight_decay",
        "NAdam",
        dict(lr=0.05, weight_decay=0.1, momentum_decay=0.01),
        "NAdam",
        None,
    ),  # fmt: skip
    (
        "nadam-decoupled",
        "NAdam",
        dict(
            lr=0.02, weight_decay=0.2, decoupled_weight_decay=True, betas=(0.8, 0.99), maximize=True
        ),
        "NAdam",
        None,
    ),  # fmt: skip
    ("radam", "RAdam", dict(lr=0.05), "RAdam", None),
    ("radam-defaults", "RAdam", dict(), "RAdam", None),
    ("radam-rectified-early", "RAdam", dict(lr=0.05, betas=(0.9, 0.6)), "RAdam", None),
    ("radam-weight_decay", "RAdam", dict(lr=0.05, weight_decay=0.1, eps=1e-4), "RAdam", None),
    (
        "radam-decoupled",
        "RAdam",
        dict(lr=0.02, weight_decay=0.2, decoupled_weight_decay=True, maximize=True),
        "RAdam",
        None,
    ),  # fmt: skip
    ("adadelta", "Adadelta", dict(), "Adadelta", None),
    (
        "adadelta-all",
        "Adadelta",
        dict(lr=0.5, rho=0.8, eps=1e-4, weight_decay=0.1, maximize=True),
        "Adadelta",
        None,
    ),  # fmt: skip
]
ROWS = [pytest.param(*row[1:], id=row[0]) for row in TABLE]


def make(name: str, params, options: dict):
    return getattr(optim, name)(params, **options)


def run_ds(opt, loss_fn, steps: int) -> None:
    for _ in range(steps):
        opt.zero_grad()
        loss_fn().backward()
        opt.step()


@pytest.mark.parametrize("name, options, torch_name, torch_options", ROWS)
def test_follows_torch_for_20_steps(name, options, torch_name, torch_options):
    params, loss_fn = ds_problem()
    tparams, tloss_fn = torch_problem()
    opt = make(name, params, options)
    topt = getattr(torch.optim, torch_name)(tparams, **(torch_options or options))
    for step in range(20):
        opt.zero_grad()
        loss_fn().backward()
        opt.step()
        topt.zero_grad()
        tloss_fn().backward()
        topt.step()
        for p, tp in zip(params, tparams):
            np.testing.assert_allclose(
                p.numpy(), tp.detach().numpy(), rtol=1e-10, atol=1e-14, err_msg=f"step {step}"
            )
    assert params[0].numpy().dtype == np.float64
    assert all(np.isfinite(p.numpy()).all() for p in params)
    assert not np.array_equal(params[0].numpy(), START[0]), "the parameters did not move"
    np.testing.assert_array_equal(params[2].numpy(), START[2])  # grad None: skipped
    assert not opt.state.get(params[2])
    for p, tp in zip(params[:2], tparams[:2]):  # same state names as torch: compare them too
        ours, theirs = opt.state.get(p, {}), topt.state[tp]
        assert set(ours) == set(theirs)
        for key, value in theirs.items():
            np.testing.assert_allclose(
                np.asarray(ours[key]), value.numpy(), rtol=1e-10, atol=1e-14, err_msg=key
            )


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
def test_param_groups_follow_torch(name):
    params, loss_fn = ds_problem()
    tparams, tloss_fn = torch_problem()
    extra = {"SGD": dict(momentum=0.5), "Adam": dict(amsgrad=True), "RMSprop": dict(alpha=0.9)}
    opt = getattr(optim, name)(
        [{"params": params[:1]}, {"params": params[1:], "lr": 0.2, **extra[name]}], lr=0.05
    )
    topt = getattr(torch.optim, name)(
        [{"params": tparams[:1]}, {"params": tparams[1:], "lr": 0.2, **extra[name]}], lr=0.05
    )
    assert [g["lr"] for g in opt.param_groups] == [0.05, 0.2]
    for _ in range(10):
        opt.zero_grad()
        loss_fn().backward()
        opt.step()
        topt.zero_grad()
        tloss_fn().backward()
        topt.step()
    for p, tp in zip(params, tparams):
        np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=1e-10, atol=1e-14)


def test_sgd_is_gradient_descent():
    assert optim.SGD is optim.GradientDescent


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_lr_defaults_to_torchs(momentum):
    g = np.array([1.0, -2.0, 0.5])
    w = ds.tensor(np.zeros(3), dtype=ds.float64, requires_grad=True)
    tw = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    opt, topt = optim.SGD([w], momentum=momentum), torch.optim.SGD([tw], momentum=momentum)
    assert opt.defaults["lr"] == topt.defaults["lr"] == 0.001
    assert optim.GradientDescent([w]).param_groups[0]["lr"] == 0.001
    for _ in range(5):
        w.grad, tw.grad = ds.tensor(g, dtype=ds.float64), torch.tensor(g)
        opt.step()
        topt.step()
    np.testing.assert_allclose(w.numpy(), tw.detach().numpy(), rtol=1e-12)


# ---- PyTorch verbs -------------------------------------------------------------------


def test_zero_grad_and_step_counter():
    params, loss_fn = ds_problem()
    opt = optim.SGD(params, lr=0.1)
    assert opt.global_step == 0
    loss_fn().backward()
    opt.zero_grad(set_to_none=False)
    assert np.array_equal(params[0].grad.numpy(), np.zeros((3, 2)))
    assert params[2].grad is None
    opt.zero_grad()
    assert all(p.grad is None for p in params)
    opt.step()  # no gradients at all: nothing moves, the step still counts
    assert opt.global_step == 1
    np.testing.assert_array_equal(params[0].numpy(), START[0])


def test_step_with_closure_returns_its_loss():
    params, loss_fn = ds_problem()
    tparams, tloss_fn = torch_problem()
    opt = optim.SGD(params, lr=0.1)
    topt = torch.optim.SGD(tparams, lr=0.1)

    def closure():
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        return loss

    def tclosure():
        topt.zero_grad()
        loss = tloss_fn()
        loss.backward()
        return loss

    loss = opt.step(closure)
    tloss = topt.step(tclosure)
    assert loss.item() == pytest.approx(tloss.item(), rel=1e-12)
    np.testing.assert_allclose(params[0].numpy(), tparams[0].detach().numpy(), rtol=1e-12)


# ---- TensorFlow verbs ------------------------------------------------------------------


def test_compute_gradients_leaves_grad_untouched():
    params, loss_fn = ds_problem()
    tparams, tloss_fn = torch_problem()
    W, b, c = params
    loss_fn().backward()
    W_grad = W.grad
    before = W.grad.numpy().copy()
    b.grad = None
    opt = optim.Adam(params)
    pairs = opt.compute_gradients(loss_fn)
    assert W.grad is W_grad and np.array_equal(W.grad.numpy(), before)
    assert b.grad is None and c.grad is None
    assert [v for _, v in pairs] == params
    assert pairs[2][0] is None  # c is unused
    tgrads = torch.autograd.grad(tloss_fn(), tparams[:2])
    for (g, _), tg in zip(pairs[:2], tgrads):
        np.testing.assert_allclose(g.numpy(), tg.numpy(), rtol=1e-12)
    assert opt.global_step == 0 and not opt.state


def test_apply_gradients_counts_and_returns_global_step():
    params, loss_fn = ds_problem()
    opt = optim.GradientDescent(params, lr=0.1)
    grads = [ds.ones(3, 2, dtype=ds.float64), None, None]
    assert opt.apply_gradients(zip(grads, params)) == 1
    assert opt.apply_gradients(zip(grads, params)) == 2
    assert opt.minimize(loss_fn) == 3
    opt.zero_grad()
    loss_fn().backward()
    opt.step()
    assert opt.global_step == 4


def test_apply_gradients_is_theta_minus_lr_grad():
    params, _ = ds_problem()
    opt = optim.GradientDescent(params, lr=0.25)
    g = RNG.standard_normal((3, 2))
    opt.apply_gradients([(ds.tensor(g, dtype=ds.float64), params[0]), (g[0], params[1])])
    np.testing.assert_allclose(params[0].numpy(), START[0] - 0.25 * g, rtol=1e-15)
    np.testing.assert_allclose(params[1].numpy(), START[1] - 0.25 * g[0], rtol=1e-15)


@pytest.mark.parametrize("name", ["GradientDescent", "SGD", "Momentum", "Adagrad", "Adam"])
@pytest.mark.parametrize("form", ["tensor", "callable"])
def test_minimize_equals_zero_grad_backward_step(name, form):
    options = {"lr": 0.05}
    params_a, loss_a = ds_problem()
    params_b, loss_b = ds_problem()
    opt_a, opt_b = make(name, params_a, options), make(name, params_b, options)
    for _ in range(5):
        opt_a.zero_grad()
        loss_a().backward()
        opt_a.step()
        opt_b.minimize(loss_b() if form == "tensor" else loss_b)
    for a, b in zip(params_a, params_b):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert opt_b.global_step == 5
    assert all(p.grad is None for p in params_b)


@pytest.mark.parametrize("name, options, torch_name, torch_options", ROWS)
def test_every_verb_takes_the_examples_which_most_rules_ignore(
    name, options, torch_name, torch_options
):
    params_a, loss_a = ds_problem()
    params_b, loss_b = ds_problem()
    opt_a, opt_b = make(name, params_a, options), make(name, params_b, options)
    for k in range(3):
        opt_a.zero_grad()
        loss_a().backward()
        opt_a.step()
        opt_b.zero_grad()
        loss_b().backward()
        opt_b.step(examples=np.arange(k, k + 4))
    opt_a.apply_gradients(opt_a.compute_gradients(loss_a))
    opt_b.apply_gradients(opt_b.compute_gradients(loss_b), examples=[0])
    opt_a.minimize(loss_a)
    opt_b.minimize(loss_b, examples=np.array([1, 2]))
    for a, b in zip(params_a, params_b):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert opt_b.global_step == 5


def test_apply_gradients_all_none_names_the_variables():
    params, _ = ds_problem()
    opt = optim.Adam(params)
    with pytest.raises(ValueError, match=r"No gradients provided for any variable") as info:
        opt.apply_gradients([(None, p) for p in params])
    message = str(info.value)
    assert "params[0] (shape (3, 2)" in message and "params[2] (shape (4,)" in message
    assert opt.global_step == 0


def test_compute_gradients_of_unrelated_loss_gives_none():
    params, _ = ds_problem()
    other = ds.tensor(2.0, dtype=ds.float64, requires_grad=True)
    opt = optim.SGD(params, lr=0.1)
    pairs = opt.compute_gradients(lambda: other * other)
    assert [g for g, _ in pairs] == [None, None, None]
    with pytest.raises(ValueError, match="No gradients provided"):
        opt.apply_gradients(pairs)


def test_var_list_subset_updates_only_those():
    params, loss_fn = ds_problem()
    tparams, tloss_fn = torch_problem()
    opt = optim.GradientDescent(params, lr=0.1)
    pairs = opt.compute_gradients(loss_fn, var_list=[params[0]])
    assert [v for _, v in pairs] == [params[0]]
    assert opt.apply_gradients(pairs) == 1
    (tg,) = torch.autograd.grad(tloss_fn(), [tparams[0]])
    np.testing.assert_allclose(params[0].numpy(), START[0] - 0.1 * tg.numpy(), rtol=1e-12)
    np.testing.assert_array_equal(params[1].numpy(), START[1])
    opt.minimize(loss_fn, var_list=[params[1]])
    np.testing.assert_allclose(params[0].numpy(), START[0] - 0.1 * tg.numpy(), rtol=1e-12)
    assert not np.array_equal(params[1].numpy(), START[1])


def test_apply_gradients_rejects_foreign_variables_and_bad_shapes():
    params, _ = ds_problem()
    opt = optim.SGD(params[:2], lr=0.1)
    with pytest.raises(ValueError, match="not a parameter of this optimizer"):
        opt.apply_gradients([(np.ones(4), params[2])])
    with pytest.raises(ValueError, match=r"shape \(2,\) for a parameter of shape \(3, 2\)"):
        opt.apply_gradients([(np.ones(2), params[0])])
    with pytest.raises(ValueError, match="must be a scalar"):
        opt.compute_gradients(params[0] * 2.0)


# ---- state_dict ----------------------------------------------------------------------------


@pytest.mark.parametrize("name, options, torch_name, torch_options", ROWS)
def test_state_dict_round_trip_is_bit_for_bit(name, options, torch_name, torch_options):
    params, loss_fn = ds_problem()
    opt = make(name, params, options)
    run_ds(opt, loss_fn, 10)
    saved = opt.state_dict()
    assert_plain(saved)
    assert saved["global_step"] == 10
    assert [g["params"] for g in saved["param_groups"]] == [[0, 1, 2]]
    fresh_params = [ds.tensor(p.numpy(), dtype=ds.float64, requires_grad=True) for p in params]
    data = (ds.tensor(X, dtype=ds.float64), ds.tensor(Y, dtype=ds.float64))
    fresh = make(name, fresh_params, {**options, "lr": 123.0})
    fresh.load_state_dict(saved)
    assert fresh.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    assert fresh.global_step == 10
    run_ds(opt, loss_fn, 10)
    run_ds(fresh, lambda: loss_of(*data, fresh_params[0], fresh_params[1]), 10)
    for p, q in zip(params, fresh_params):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
    assert fresh.global_step == opt.global_step == 20


def test_state_dict_matches_torch_layout():
    params, loss_fn = ds_problem()
    tparams, tloss_fn = torch_problem()
    opt = optim.Adam(params, lr=0.05, amsgrad=True)
    topt = torch.optim.Adam(tparams, lr=0.05, amsgrad=True)
    run_ds(opt, loss_fn, 3)
    for _ in range(3):
        topt.zero_grad()
        tloss_fn().backward()
        topt.step()
    ours, theirs = opt.state_dict(), topt.state_dict()
    assert set(ours["state"]) == set(theirs["state"]) == {0, 1}
    for i in (0, 1):
        assert set(ours["state"][i]) == set(theirs["state"][i])
    assert ours["param_groups"][0]["params"] == theirs["param_groups"][0]["params"]
    assert set(ours["param_groups"][0]) <= set(theirs["param_groups"][0])
    assert ours["param_groups"][0]["betas"] == [0.9, 0.999]


def test_state_dict_arrays_are_copies():
    params, loss_fn = ds_problem()
    opt = optim.Adam(params, lr=0.05)
    run_ds(opt, loss_fn, 2)
    saved = opt.state_dict()
    kept = saved["state"][0]["exp_avg"].copy()
    run_ds(opt, loss_fn, 1)
    np.testing.assert_array_equal(saved["state"][0]["exp_avg"], kept)


def test_load_state_dict_checks_groups_sizes_and_shapes():
    params, loss_fn = ds_problem()
    opt = optim.Adam(params, lr=0.05)
    run_ds(opt, loss_fn, 2)
    saved = opt.state_dict()
    two_groups = optim.Adam([{"params": params[:1]}, {"params": params[1:]}])
    with pytest.raises(ValueError, match="1 parameter group.*this optimizer has 2"):
        two_groups.load_state_dict(saved)
    smaller = optim.Adam(params[:2])
    with pytest.raises(ValueError, match="has 3 parameter.*this optimizer has 2"):
        smaller.load_state_dict(saved)
    others = [ds.zeros(2, 3, dtype=ds.float64), ds.zeros(2, dtype=ds.float64), params[2]]
    wrong_shape = optim.Adam(others)
    with pytest.raises(ValueError, match=r"'exp_avg' of parameter 0 has shape \(3, 2\)"):
        wrong_shape.load_state_dict(saved)
    assert wrong_shape.global_step == 0 and not wrong_shape.state


def test_load_state_dict_casts_to_the_parameters_dtype_and_copies():
    params, loss_fn = ds_problem()
    opt = optim.RMSprop(params, momentum=0.9)
    run_ds(opt, loss_fn, 2)
    saved = opt.state_dict()
    params32, _ = ds_problem(ds.float32)
    opt32 = optim.RMSprop(params32, momentum=0.9)
    opt32.load_state_dict(saved)
    state = opt32.state[params32[0]]
    assert state["square_avg"].dtype == np.float32 and state["step"] == 2
    np.testing.assert_allclose(state["square_avg"], saved["state"][0]["square_avg"], rtol=1e-6)
    again = optim.RMSprop(params, momentum=0.9)
    again.load_state_dict(saved)
    saved["state"][0]["momentum_buffer"][...] = 0.0
    assert np.abs(again.state[params[0]]["momentum_buffer"]).sum() > 0


# ---- dtypes and validation -------------------------------------------------------------------


@pytest.mark.parametrize("name, options, torch_name, torch_options", ROWS)
def test_float32_parameters_stay_float32(name, options, torch_name, torch_options):
    params, loss_fn = ds_problem(ds.float32)
    as_numpy = {k: np.float64(v) if isinstance(v, float) else v for k, v in options.items()}
    opt = make(name, params, as_numpy)  # NumPy float64 hyperparameters must not upcast
    run_ds(opt, loss_fn, 3)
    opt.apply_gradients([(np.ones((3, 2)), params[0])])  # a float64 gradient
    for p in params:
        assert p.numpy().dtype == np.float32
        for key, value in opt.state.get(p, {}).items():
            if isinstance(value, np.ndarray):
                assert value.dtype == np.float32, key
    assert_plain(opt.state_dict())


BAD = [
    ("lr", lambda p: optim.SGD(p, lr=-0.1), ValueError, "Invalid lr"),
    ("lr-nan", lambda p: optim.Adam(p, lr=float("nan")), ValueError, "Invalid lr"),
    ("lr-type", lambda p: optim.Adam(p, lr="fast"), TypeError, "lr must be a number"),
    ("momentum", lambda p: optim.SGD(p, lr=0.1, momentum=-0.5), ValueError, "momentum"),
    ("nesterov", lambda p: optim.SGD(p, lr=0.1, nesterov=True), ValueError, "Nesterov"),
    (
        "nesterov-dampening",
        lambda p: optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
        ValueError,
        "zero dampening",
    ),
    ("weight_decay", lambda p: optim.SGD(p, lr=0.1, weight_decay=-1), ValueError, "weight_decay"),
    ("beta1", lambda p: optim.Adam(p, betas=(1.0, 0.999)), ValueError, "index 0"),
    ("beta2", lambda p: optim.AdamW(p, betas=(0.9, -0.1)), ValueError, "index 1"),
    ("betas-count", lambda p: optim.Adam(p, betas=(0.9,)), ValueError, "two numbers"),
    ("eps", lambda p: optim.Adam(p, eps=-1e-8), ValueError, "eps"),
    ("lr_decay", lambda p: optim.Adagrad(p, lr_decay=-1), ValueError, "lr_decay"),
    (
        "accumulator",
        lambda p: optim.Adagrad(p, initial_accumulator_value=-1),
        ValueError,
        "initial_accumulator_value",
    ),
    ("alpha", lambda p: optim.RMSprop(p, alpha=-0.1), ValueError, "alpha"),
    ("rms-momentum", lambda p: optim.RMSprop(p, momentum=-0.1), ValueError, "momentum"),
    ("tf-momentum", lambda p: optim.Momentum(p, lr=0.1, momentum=-1), ValueError, "momentum"),
    ("group-lr", lambda p: optim.Adam([{"params": p, "lr": -1}]), ValueError, "Invalid lr"),
    ("empty", lambda p: optim.Adam([]), ValueError, "empty parameter list"),
    ("not-tensor", lambda p: optim.Adam([np.zeros(3)]), TypeError, "only optimize Tensors"),
    ("twice", lambda p: optim.Adam([p[0], p[0]]), ValueError, "more than once"),
    ("integer", lambda p: optim.Adam([ds.tensor([1, 2])]), ValueError, "dtype int64"),
    ("non-leaf", lambda p: optim.Adam([p[0] * 2.0]), ValueError, "non-leaf"),
]


@pytest.mark.parametrize("make_bad, error, match", [pytest.param(*b[1:], id=b[0]) for b in BAD])
def test_bad_hyperparameters_raise(make_bad, error, match):
    params, _ = ds_problem()
    with pytest.raises(error, match=match):
        make_bad(params)


# ---- clipping ------------------------------------------------------------------------------


def _with_grads(lib, dtype):
    grads = [RNG_CLIP.standard_normal(s) for s in [(3, 2), (4,), (2, 2, 2)]]
    if lib is torch:
        params = [torch.zeros(g.shape, dtype=getattr(torch, dtype)) for g in grads] + [
            torch.zeros(2, dtype=torch.float64)
        ]
        for p, g in zip(params, grads):
            p.grad = torch.tensor(g, dtype=getattr(torch, dtype))
    else:
        params = [ds.zeros(*g.shape, dtype=dtype) for g in grads] + [ds.zeros(2)]
        for p, g in zip(params, grads):
            p.grad = ds.tensor(g, dtype=dtype)
    return params  # the last one has no gradient


RNG_CLIP = np.random.default_rng(7)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_clip_grad_norm_matches_torch(norm_type, max_norm, dtype):
    state = RNG_CLIP.bit_generator.state
    params = _with_grads(ds, dtype)
    RNG_CLIP.bit_generator.state = state
    tparams = _with_grads(torch, dtype)
    total = optim.clip_grad_norm_(params, max_norm, norm_type=norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(tparams, max_norm, norm_type=norm_type)
    rtol = 1e-12 if dtype == "float64" else 1e-5
    assert isinstance(total, ds.Tensor) and total.dtype == np.dtype(dtype)
    np.testing.assert_allclose(total.item(), ttotal.item(), rtol=rtol)
    for p, tp in zip(params[:3], tparams[:3]):
        assert p.grad.dtype == np.dtype(dtype)
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=rtol, atol=1e-7)
    assert params[3].grad is None


def test_clip_grad_norm_takes_one_tensor_and_no_grads():
    p = ds.tensor([3.0, 4.0], dtype=ds.float64, requires_grad=True)
    assert optim.clip_grad_norm_(p, 100.0).item() == 0.0
    p.grad = ds.tensor([3.0, 4.0], dtype=ds.float64)
    tp = torch.tensor([3.0, 4.0], dtype=torch.float64, requires_grad=True)
    tp.grad = torch.tensor([3.0, 4.0], dtype=torch.float64)
    total = optim.clip_grad_norm_(p, 1.0)
    assert total.item() == torch.nn.utils.clip_grad_norm_(tp, 1.0).item() == 5.0
    np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-12)
    p.grad = ds.tensor([np.inf, 1.0], dtype=ds.float64)
    with pytest.raises(RuntimeError, match="total norm"):
        optim.clip_grad_norm_(p, 1.0, error_if_nonfinite=True)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_clip_grad_value_matches_torch(dtype):
    state = RNG_CLIP.bit_generator.state
    params = _with_grads(ds, dtype)
    RNG_CLIP.bit_generator.state = state
    tparams = _with_grads(torch, dtype)
    optim.clip_grad_value_(params, 0.7)
    torch.nn.utils.clip_grad_value_(tparams, 0.7)
    for p, tp in zip(params[:3], tparams[:3]):
        assert p.grad.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(p.grad.numpy(), tp.grad.numpy())
    assert params[3].grad is None


@pytest.mark.parametrize("alpha", [-0.01, np.float64(-0.01)], ids=["float", "np.float64"])
@pytest.mark.parametrize("size", [7, 1 << 16, (1 << 17) + 5])
def test_add_scaled_is_the_plain_update_bit_for_bit(size, alpha):
    """The block-by-block ``p += alpha * g`` equals the one-step expression exactly and
    leaves the gradient alone, for sizes below, at and above one block."""
    from descent.optim.optimizer import add_scaled

    rng = np.random.default_rng(size)
    p = rng.standard_normal(size).astype(np.float32).reshape(-1, 1)
    g = rng.standard_normal(size).astype(np.float32).reshape(-1, 1)
    g_before, expected = g.copy(), p.copy()
    expected += alpha * g  # the one-step in-place update
    add_scaled(p, g, alpha)
    assert p.dtype == np.float32
    np.testing.assert_array_equal(p, expected)
    np.testing.assert_array_equal(g, g_before)


def test_add_scaled_takes_strided_arrays():
    from descent.optim.optimizer import add_scaled

    p = np.ones((300, 300))
    g = np.arange(90000.0).reshape(300, 300).T  # not C-contiguous
    add_scaled(p, g, 2.0)
    np.testing.assert_array_equal(p, 1 + 2 * g)


def test_momentum_resumes_from_a_state_that_names_its_buffer_accumulator():
    # states written when Momentum had its own rule call SGD's momentum_buffer 'accumulator'
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal(3).astype(np.float32) for _ in range(4)]

    def run(resume_at=None):
        p = ds.tensor(np.ones(3, np.float32), requires_grad=True)
        opt = ds.optim.Momentum([p], lr=0.1, momentum=0.9)
        for i, g in enumerate(grads):
            if i == resume_at:
                saved = opt.state_dict()
                saved["state"] = {
                    k: {"accumulator": v["momentum_buffer"]} for k, v in saved["state"].items()
                }
                q = ds.tensor(p.numpy().copy(), requires_grad=True)
                opt = ds.optim.Momentum([q], lr=0.1, momentum=0.9)
                opt.load_state_dict(saved)
                p = q
            p.grad = ds.tensor(g)
            opt.step()
        return p.numpy()

    np.testing.assert_array_equal(run(resume_at=2), run())
