"""Higher-order gradients: create_graph, custom Functions twice, ds.autograd.functional
and gradgradcheck, each against torch and closed forms."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.autograd.functional as TAF

import descent as ds
import descent.autograd.functional as AF
from descent.ops import elementwise

X = np.array([0.5, -1.25, 2.0])


def f_both(m, x):
    """$\\sum e^x \\sin x - x$: a function both libraries write the same way."""
    return (x.exp() * x.sin() - x).sum()


def test_grad_of_grad_is_the_second_derivative_to_third_order():
    x = ds.tensor(X, dtype=ds.float64, requires_grad=True)
    (g,) = ds.grad(f_both(ds, x), [x], create_graph=True)
    assert g.requires_grad and g.grad_fn is not None
    (h,) = ds.grad(g.sum(), [x], create_graph=True)
    (t,) = ds.grad(h.sum(), [x])
    e, s, c = np.exp(X), np.sin(X), np.cos(X)
    np.testing.assert_allclose(g.numpy(), e * (s + c) - 1, rtol=1e-14)
    np.testing.assert_allclose(h.numpy(), 2 * e * c, rtol=1e-14)
    np.testing.assert_allclose(t.numpy(), 2 * e * (c - s), rtol=1e-14)
    assert not t.requires_grad  # the last call made no graph


@pytest.mark.filterwarnings(r"ignore:Using backward\(\) with create_graph=True")
def test_backward_create_graph_leaves_a_differentiable_grad_like_torch():
    x = ds.tensor(X, dtype=ds.float64, requires_grad=True)
    tx = torch.tensor(X, requires_grad=True)
    f_both(ds, x).backward(create_graph=True)
    f_both(torch, tx).backward(create_graph=True)
    assert x.grad.requires_grad and tx.grad.requires_grad
    (gx,) = ds.grad((x.grad * x.grad).sum(), [x])
    (tgx,) = torch.autograd.grad((tx.grad * tx.grad).sum(), [tx])
    np.testing.assert_allclose(gx.numpy(), tgx.numpy(), rtol=1e-13)


def test_create_graph_gives_each_leaf_its_own_grad_like_torch():
    # Add hands one gradient to both inputs, a view passes the seed on: each .grad must
    # still be its own memory, so an in-place change of one leaves the others alone
    for lib in (ds, torch):
        a = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        b = lib.tensor([3.0, 4.0], dtype=lib.float64, requires_grad=True)
        (a + b).sum().backward(create_graph=True)
        with lib.no_grad():
            a.grad.zero_()
        np.testing.assert_array_equal(b.grad.detach().numpy(), [1.0, 1.0])
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        v = lib.tensor([5.0, 6.0], dtype=lib.float64)
        x.view(2).backward(v, create_graph=True)
        with lib.no_grad():
            x.grad.zero_()
        np.testing.assert_array_equal(v.numpy(), [5.0, 6.0])


def test_create_graph_retains_the_graph_by_default_and_false_still_frees_it():
    x = ds.tensor(X, dtype=ds.float64, requires_grad=True)
    y = f_both(ds, x)
    ds.grad(y, [x], create_graph=True)
    ds.grad(y, [x])  # retained by the create_graph call: a second walk works
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        ds.grad(y, [x])


def test_a_grad_output_that_requires_grad_is_differentiated_too():
    x = ds.tensor(X, dtype=ds.float64, requires_grad=True)
    v = ds.tensor([1.0, 2.0, 3.0], dtype=ds.float64, requires_grad=True)
    (g,) = ds.grad(x.sin(), [x], grad_outputs=[v], create_graph=True)
    (dv,) = ds.grad(g.sum(), [v])
    np.testing.assert_allclose(dv.numpy(), np.cos(X), rtol=1e-15)


class Cube(ds.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 3 * x * x * grad  # Tensor operations when a graph is wanted


class NumpyCube(Cube):
    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 3 * np.square(x) * grad


def test_a_custom_function_written_with_tensor_operations_differentiates_twice():
    x = ds.tensor(X, dtype=ds.float64, requires_grad=True)
    (g,) = ds.grad(Cube.apply(x).sum(), [x], create_graph=True)
    (h,) = ds.grad(g.sum(), [x])
    np.testing.assert_allclose(g.numpy(), 3 * X**2, rtol=1e-15)
    np.testing.assert_allclose(h.numpy(), 6 * X, rtol=1e-15)


def test_a_custom_function_written_in_numpy_gives_its_gradient_then_a_clear_error():
    x = ds.tensor(X, dtype=ds.float64, requires_grad=True)
    (g,) = ds.grad(NumpyCube.apply(x).sum(), [x], create_graph=True)
    np.testing.assert_allclose(g.numpy(), 3 * X**2, rtol=1e-15)
    with pytest.raises(RuntimeError, match="NumpyCube.backward is written with NumPy"):
        ds.grad(g.sum(), [x])


def test_gradgradcheck_passes_good_rules_and_catches_a_wrong_second_derivative(monkeypatch):
    x = ds.tensor(X, dtype=ds.float64, requires_grad=True)
    w = ds.tensor([[0.3], [-0.7]], dtype=ds.float64, requires_grad=True)
    assert ds.gradgradcheck(lambda x: (x.sin() * x.exp()).sum(), [x])
    assert ds.gradgradcheck(lambda x, w: x.sin() * w + x * x, [x, w])

    def wrong(ctx, grad, out):  # right values, but cos(x) taken as a constant
        return grad * ctx.inputs[0].detach().cos()

    monkeypatch.setattr(elementwise.Sin, "backward_graph", staticmethod(wrong))
    assert not ds.gradgradcheck(lambda x: x.sin() * x, [x], raise_exception=False)
    with pytest.raises(ds.GradcheckError, match=r"gradgradcheck: gradient of input 0"):
        ds.gradgradcheck(lambda x: x.sin() * x, [x])


def _torch_twin(fn):
    """fn written once for both libraries, as torch sees it."""
    return lambda *xs: fn(torch, *xs)


def _pair(rng, *shapes):
    arrays = [rng.standard_normal(s) for s in shapes]
    return [ds.tensor(a, dtype=ds.float64) for a in arrays], [torch.tensor(a) for a in arrays]


def two_inputs(m, x, y):
    return (x.sin() * y.exp()).sum() + (x * x * y).sum()


def vector_valued(m, x, y):
    return x.exp() * y.sum() - x.cos()


@pytest.mark.parametrize("create_graph", [False, True])
def test_jacobian_matches_torch_for_one_and_two_inputs(create_graph):
    rng = np.random.default_rng(0)
    (x, y), (tx, ty) = _pair(rng, (3,), (3,))
    ours = AF.jacobian(lambda a: vector_valued(ds, a, y), x, create_graph=create_graph)
    theirs = TAF.jacobian(lambda a: vector_valued(torch, a, ty), tx)
    assert ours.shape == tuple(theirs.shape) == (3, 3)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-13)
    ours = AF.jacobian(lambda a, b: vector_valued(ds, a, b), (x, y))
    theirs = TAF.jacobian(lambda a, b: vector_valued(torch, a, b), (tx, ty))
    assert isinstance(ours, tuple) and len(ours) == 2
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-13)


def test_hessian_matches_torch_and_is_symmetric():
    rng = np.random.default_rng(1)
    (x, y), (tx, ty) = _pair(rng, (4,), (4,))
    ours = AF.hessian(lambda a, b: two_inputs(ds, a, b), (x, y))
    theirs = TAF.hessian(lambda a, b: two_inputs(torch, a, b), (tx, ty))
    for i in range(2):
        for j in range(2):
            np.testing.assert_allclose(ours[i][j].numpy(), theirs[i][j].numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours[0][1].numpy(), ours[1][0].numpy().T, rtol=1e-12)


def test_vjp_jvp_hvp_vhp_match_torch():
    rng = np.random.default_rng(2)
    (x, y, v), (tx, ty, tv) = _pair(rng, (3,), (3,), (3,))
    out, got = AF.vjp(lambda a: vector_valued(ds, a, y), x, v)
    tout, want = TAF.vjp(lambda a: vector_valued(torch, a, ty), tx, tv)
    np.testing.assert_allclose(out.numpy(), tout.numpy(), rtol=1e-14)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-13)
    out, got = AF.jvp(lambda a: vector_valued(ds, a, y), x, v)
    _, want = TAF.jvp(lambda a: vector_valued(torch, a, ty), tx, tv)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-13)
    for ours, theirs in ((AF.hvp, TAF.hvp), (AF.vhp, TAF.vhp)):
        out, got = ours(lambda a: two_inputs(ds, a, y), x, v)
        tout, want = theirs(lambda a: two_inputs(torch, a, ty), tx, tv)
        assert out.item() == pytest.approx(tout.item(), rel=1e-14)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)
    hess = AF.hessian(lambda a: two_inputs(ds, a, y), x)
    _, hv = AF.hvp(lambda a: two_inputs(ds, a, y), x, v)
    np.testing.assert_allclose(hv.numpy(), hess.numpy() @ v.numpy(), rtol=1e-12)


def test_functional_results_are_detached_unless_create_graph():
    x = ds.tensor(X, dtype=ds.float64, requires_grad=True)
    h = AF.hessian(lambda a: f_both(ds, a), x)
    assert not h.requires_grad
    h = AF.hessian(lambda a: f_both(ds, a), x, create_graph=True)
    assert h.requires_grad  # differentiable with respect to x itself
    (d,) = ds.grad(h.sum(), [x])
    e, s, c = np.exp(X), np.sin(X), np.cos(X)
    np.testing.assert_allclose(d.numpy(), 2 * e * (c - s), rtol=1e-13)


def test_functional_refusals_are_clear():
    x = ds.tensor(X, dtype=ds.float64)
    with pytest.raises(RuntimeError, match="independent of input 1"):
        AF.jacobian(lambda a, b: a.exp(), (x, ds.tensor(X, dtype=ds.float64)), strict=True)
    zeros = AF.jacobian(lambda a, b: a.exp(), (x, ds.tensor(X, dtype=ds.float64)))[1]
    np.testing.assert_array_equal(zeros.numpy(), np.zeros((3, 3)))
    with pytest.raises(NotImplementedError, match="strategy='forward-mode' is not supported"):
        AF.jacobian(lambda a: a.exp(), x, strategy="forward-mode")
    with pytest.raises(RuntimeError, match="single Tensor with one element"):
        AF.hessian(lambda a: a.exp(), x)
    with pytest.raises(RuntimeError, match="v can be left out only"):
        AF.vjp(lambda a: a.exp(), x)
    with pytest.raises(TypeError, match="input 0 is a list"):
        AF.jacobian(lambda a: a, [[1.0]])
