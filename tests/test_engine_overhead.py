"""The engine's fast paths: Function.apply by input count, the operators that skip the
ops' shared front, the backward walk that holds a lone waiting tensor aside, and the
release of a node's own attributes. Each fast path must behave as the general one.

Oracles: hand-derived gradients in NumPy, PyTorch (float64), and the general paths
themselves (``ds.mul`` for the operators, retain_graph for the release).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import descent as ds
from descent import autograd
from descent.autograd import Function
from tests.helpers import assert_close

RNG = np.random.default_rng(7)


def _f32(shape, requires_grad=False, low=-1.0, high=1.0):
    return ds.tensor(RNG.uniform(low, high, shape).astype(np.float32), requires_grad=requires_grad)


# ---- the operators ----------------------------------------------------------------------


@pytest.mark.parametrize(("op", "name", "fn"), [
    (lambda a, b: a * b, "mul", ds.mul),
    (lambda a, b: a + b, "add", ds.add),
    (lambda a, b: a - b, "sub", ds.sub),
])  # fmt: skip
def test_shapes_that_do_not_broadcast_give_the_ops_error(op, name, fn):
    a, b = _f32((2, 3)), _f32((4,))
    with pytest.raises(ValueError) as fast:
        op(a, b)
    with pytest.raises(ValueError) as general:
        fn(a, b)
    assert str(fast.value) == str(general.value)
    assert str(fast.value).startswith(f"{name}: shapes (2, 3) and (4,) cannot be broadcast")
    assert fast.value.__cause__ is None and fast.value.__suppress_context__


@pytest.mark.parametrize("op", [lambda a, b: a * b, lambda a, b: a + b, lambda a, b: a - b])
def test_tensors_of_two_dtypes_are_promoted_as_the_ops_promote_them(op):
    a = _f32((3,), requires_grad=True)
    b = ds.tensor(RNG.uniform(-1, 1, 3), dtype=ds.float64, requires_grad=True)
    out = op(a, b)
    ta = torch.tensor(a.numpy(), requires_grad=True)
    tb = torch.tensor(b.numpy(), requires_grad=True)
    expected = op(ta, tb)
    assert out.dtype == ds.float64
    assert_close(out, expected.detach())
    out.sum().backward()
    expected.sum().backward()
    assert a.grad.dtype == ds.float32 and b.grad.dtype == ds.float64
    assert_close(a.grad, ta.grad)
    assert_close(b.grad, tb.grad)


def test_parameters_take_the_operators_fast_path_and_get_gradients():
    w = ds.nn.Parameter(_f32((2, 2)))
    x = _f32((2, 2))
    y = (w * x + w - x).tanh().sigmoid()
    y.sum().backward()
    wn, xn = w.numpy().astype(np.float64), x.numpy().astype(np.float64)
    h = np.tanh(wn * xn + wn - xn)
    s = 1 / (1 + np.exp(-h))
    expected = s * (1 - s) * (1 - h * h) * (xn + 1)
    np.testing.assert_allclose(w.grad.numpy(), expected, rtol=1e-5, atol=1e-6)
    assert x.grad is None


# ---- Function.apply by input count ---------------------------------------------------------


class _Scale(Function):
    """Two positional inputs and a keyword option: ``a * b * k``."""

    @staticmethod
    def forward(ctx, a, b, *, k=1.0):
        ctx.save_for_backward(a, b)
        ctx.k = k
        return a * b * k

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad * b * ctx.k, grad * a * ctx.k


class _Affine(Function):
    """Three positional inputs, one of them a number: ``a * s + c``."""

    @staticmethod
    def forward(ctx, a, s, c):
        ctx.s = s
        return a * s + c

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.s, None, grad


def test_a_keyword_option_reaches_forward_with_two_inputs():
    a, b = _f32((3,), requires_grad=True), _f32((3,))
    out = _Scale.apply(a, b, k=2.5)
    np.testing.assert_allclose(out.numpy(), a.numpy() * b.numpy() * 2.5, rtol=1e-6)
    assert out.grad_fn is not None and out._ctx.needs_input_grad == (True, False)
    out.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), b.numpy() * 2.5, rtol=1e-6)


def test_an_op_of_three_inputs_with_a_number_among_them():
    a, c = _f32((2, 2), requires_grad=True), _f32((2, 2), requires_grad=True)
    out = _Affine.apply(a, 3.0, c)
    assert out._ctx.needs_input_grad == (True, False, True)
    np.testing.assert_allclose(out.numpy(), a.numpy() * 3.0 + c.numpy(), rtol=1e-6)
    out.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), np.full((2, 2), 3.0))
    np.testing.assert_allclose(c.grad.numpy(), np.ones((2, 2)))


@pytest.mark.parametrize("make", [
    lambda x, y: x.tanh(),
    lambda x, y: x * y,
    lambda x, y: _Scale.apply(x, y, k=2.0),
    lambda x, y: _Affine.apply(x, 2.0, y),
])  # fmt: skip
def test_no_grad_records_nothing_whatever_the_input_count(make):
    x, y = _f32((2,), requires_grad=True), _f32((2,), requires_grad=True)
    with ds.no_grad():
        out = make(x, y)
    assert not out.requires_grad and out.grad_fn is None
    recorded = make(x, y)
    assert recorded.requires_grad and recorded.grad_fn is not None


def test_an_op_on_inputs_that_need_no_gradient_records_nothing():
    x, y = _f32((2,)), _f32((2,))
    for out in (x * y, x + y, x.tanh(), _Affine.apply(x, 1.0, y)):
        assert not out.requires_grad and out.grad_fn is None


def test_ops_are_numbered_in_the_order_they_run():
    x = _f32((2,), requires_grad=True)
    before = autograd.next_seq()
    a = x * x
    b = a.tanh()
    with ds.no_grad():
        b.add_(1.0)  # an in-place change draws a number from the same sequence
    changed = autograd.next_seq()
    c = _Affine.apply(x, 2.0, b)
    after = autograd.next_seq()
    assert before < a._ctx.seq < b._ctx.seq < changed < c._ctx.seq < after
    assert autograd.version_of(b._data) == 1


# ---- the backward walk ----------------------------------------------------------------------


def test_the_ops_tiny_chain_gives_the_hand_derived_gradient():
    x0 = RNG.standard_normal((4, 4)).astype(np.float32)
    an = RNG.uniform(0.9, 1.1, (4, 4)).astype(np.float32)
    bn = RNG.uniform(-0.1, 0.1, (4, 4)).astype(np.float32)
    kinds = ["tanh" if i % 10 == 9 else ("mul" if i % 2 == 0 else "add") for i in range(60)]
    x = ds.tensor(x0, requires_grad=True)
    a, b = ds.tensor(an), ds.tensor(bn)
    y, values = x, []
    for kind in kinds:
        y = y * a if kind == "mul" else (y + b if kind == "add" else y.tanh())
        values.append(y.numpy())
    y.backward(ds.ones(4, 4))
    g = np.ones((4, 4), np.float32)
    for kind, out in zip(reversed(kinds), reversed(values)):
        if kind == "mul":
            g = g * an
        elif kind == "tanh":
            g = g * (1 - out * out)
    np.testing.assert_array_equal(x.grad.numpy(), g)  # the same float32 steps, bit for bit


def test_a_graph_that_branches_and_joins_gets_every_share():
    # y feeds two consumers of different depth, so the walk holds one tensor aside,
    # then has two waiting (the heap) and then one again
    xv = RNG.uniform(-1, 1, (3,))
    x = ds.tensor(xv, dtype=ds.float64, requires_grad=True)
    b = ds.tensor(np.array([0.5, -0.25, 2.0]), dtype=ds.float64)
    y = x * x
    u = (y * b).tanh()
    v = y + b
    w = (u * v + y) * b
    w.sum().backward()
    t = torch.tensor(xv, requires_grad=True)
    tb = torch.tensor([0.5, -0.25, 2.0], dtype=torch.float64)
    ty = t * t
    (((ty * tb).tanh() * (ty + tb) + ty) * tb).sum().backward()
    assert_close(x.grad, t.grad)


def test_a_walk_that_failed_at_a_freed_node_leaves_no_gradient_on_it():
    x = _f32((3,), requires_grad=True)
    loss = (x * x).sum()
    loss.backward()
    first = x.grad.numpy().copy()
    with pytest.raises(RuntimeError, match="second time"):
        loss.backward()
    # a new graph on top of the freed one must reach the freed node and be refused,
    # not sum its share into a gradient left behind by the failed walk
    with pytest.raises(RuntimeError, match="second time"):
        (loss * ds.tensor(2.0)).backward()
    np.testing.assert_array_equal(x.grad.numpy(), first)


def test_a_walk_that_failed_in_a_rule_leaves_the_next_walk_right():
    class Broken(Function):
        @staticmethod
        def forward(ctx, a):
            return a * 1.0

        @staticmethod
        def backward(ctx, grad):
            raise ValueError("broken rule")

    x = _f32((3,), requires_grad=True)
    y = x * x
    z = Broken.apply(y.tanh())
    with pytest.raises(ValueError, match="broken rule"):
        z.backward(ds.ones(3), retain_graph=True)
    assert x.grad is None
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.numpy(), rtol=1e-6)


def test_a_freed_node_drops_its_rules_attributes_and_a_retained_one_keeps_them():
    a, b = _f32((2,), requires_grad=True), _f32((2,))
    out = _Scale.apply(a, b, k=3.0)
    ctx = out._ctx
    out.sum().backward(retain_graph=True)
    assert ctx.k == 3.0 and not ctx.freed
    out.sum().backward()  # the retained graph walked again, then freed
    np.testing.assert_allclose(a.grad.numpy(), 2 * 3.0 * b.numpy(), rtol=1e-6)
    assert ctx.freed and ctx.saved_tensors == () and ctx.inputs == ()
    assert not hasattr(ctx, "k") and vars(ctx) == {}
    ctx.k = 1.0  # a freed Context still takes attributes
    assert vars(ctx) == {"k": 1.0}
