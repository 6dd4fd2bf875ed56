"""The backward engine: accumulation, deep graphs, freed graphs, grad modes, ds.grad,
custom Functions, the engine's checks of backward rules, memory release, in-place ops.

Oracles: PyTorch (float64), closed forms and hand-derived gradients.
"""

from __future__ import annotations

import copy
import gc
import sys
import threading
import weakref

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import descent as ds
from descent import autograd
from descent.autograd import Function
from tests.helpers import as_torch, assert_close, f64

# ---- accumulation -----------------------------------------------------------------------------


def test_a_tensor_used_several_times_gets_every_paths_gradient():
    values = [-1.5, 0.25, 2.0]
    v = np.array([0.3, -1.2, 2.5])  # a non-trivial upstream gradient
    x = f64(values)
    y = x * x + x * 3 + x.exp()
    y.backward(ds.tensor(v, dtype=ds.float64))

    xv = np.array(values)
    assert_close(x.grad, v * (2 * xv + 3 + np.exp(xv)))  # closed form
    t = as_torch(values)
    (t * t + t * 3 + t.exp()).backward(torch.tensor(v))
    assert_close(x.grad, t.grad)


def test_grad_accumulates_across_two_backward_calls():
    values = [0.5, -2.0, 3.0]
    x = f64(values)
    y = (x * x.sin()).sum()
    y.backward(retain_graph=True)
    y.backward()

    t = as_torch(values)
    z = (t * t.sin()).sum()
    z.backward(retain_graph=True)
    z.backward()
    assert_close(x.grad, t.grad)
    xv = np.array(values)
    assert_close(x.grad, 2 * (np.sin(xv) + xv * np.cos(xv)))  # twice d/dx sum(x sin x)


def test_a_rule_runs_once_with_the_gradient_of_every_use_added_up():
    calls = []

    class Recorder(Function):
        @staticmethod
        def forward(ctx, x):
            return x.copy()

        @staticmethod
        def backward(ctx, grad):
            calls.append(grad.copy())
            return grad

    x = f64([1.0, 2.0])
    h = Recorder.apply(x)
    y = (h * 2 + h.exp() + (h * 5).sin()).sum()  # three uses of h, on paths of unequal length
    y.backward()

    assert len(calls) == 1
    xv = np.array([1.0, 2.0])
    expected = 2 + np.exp(xv) + 5 * np.cos(5 * xv)
    assert_close(calls[0], expected)
    assert_close(x.grad, expected)


def test_backward_with_a_gradient_on_a_non_scalar_matches_torch():
    rng = np.random.default_rng(0)
    a, b, v = rng.standard_normal((3, 4)), rng.standard_normal((4, 2)), rng.standard_normal((3, 2))
    x, w = f64(a), f64(b)
    (x @ w).tanh().backward(ds.tensor(v, dtype=ds.float64))
    tx, tw = as_torch(a), as_torch(b)
    (tx @ tw).tanh().backward(torch.tensor(v))
    assert_close(x.grad, tx.grad)
    assert_close(w.grad, tw.grad)


# Random graphs: each step applies one op to nodes drawn from those made so far, so nodes are
# reused (fan-out), paths have unequal lengths and (3,) meets (2, 3) (broadcasting).
_UNARY = {
    "tanh": lambda a: a.tanh(),
    "sin": lambda a: a.sin(),
    "sigmoid": lambda a: a.sigmoid(),
    "scale": lambda a: a * 1.5,
}
_BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (1 + b * b),
}


@st.composite
def _random_graph(draw):
    steps = []
    for n in range(2, 2 + draw(st.integers(1, 10))):
        name = draw(st.sampled_from(sorted(_UNARY) + sorted(_BINARY)))
        steps.append((name, draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))))
    return steps


def _evaluate(steps, x, y):
    nodes = [x, y]
    for name, i, j in steps:
        if name in _UNARY:
            nodes.append(_UNARY[name](nodes[i]))
        else:
            nodes.append(_BINARY[name](nodes[i], nodes[j]))
    # every node made counts, with its own weight
    return sum((node * (k + 1)).sum() for k, node in enumerate(nodes[2:]))


@settings(max_examples=40, deadline=None)
@given(steps=_random_graph())
def test_random_graphs_match_torch(steps):
    rng = np.random.default_rng(len(steps))
    a, b = rng.standard_normal(3), rng.standard_normal((2, 3))
    x, y = f64(a), f64(b)
    tx, ty = as_torch(a), as_torch(b)
    loss, expected = _evaluate(steps, x, y), _evaluate(steps, tx, ty)
    assert_close(loss, expected, rtol=1e-10)
    if not expected.requires_grad:
        return
    tgrads = torch.autograd.grad(expected, [tx, ty], allow_unused=True)
    grads = ds.grad(loss, [x, y], retain_graph=True, allow_unused=True)
    loss.backward()
    for g, leaf, tg in zip(grads, (x, y), tgrads):
        if tg is None:
            assert g is None and leaf.grad is None
        else:
            assert_close(g, tg, rtol=1e-10)
            assert_close(leaf.grad, tg, rtol=1e-10)


# ---- deep graphs ------------------------------------------------------------------------------


def test_a_chain_100000_ops_deep_backpropagates_without_recursion():
    depth = 100_000
    assert depth > sys.getrecursionlimit()  # a recursive walk would fail here
    a = 1.00001
    x = f64(1.0)
    y = x
    for _ in range(depth):
        y = y * a
    y.backward()
    # d/dx (x a^n) = a^n
    assert_close(x.grad, a**depth, rtol=1e-9)


# ---- freed graphs -----------------------------------------------------------------------------


def test_a_second_backward_through_a_freed_graph_raises():
    x = f64([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = f64([1.0, 2.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward(retain_graph=True)
    y.backward()
    assert_close(x.grad, 3 * 2 * np.array([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_an_intermediate_used_after_its_graph_was_freed_raises():
    x = f64([1.0, 2.0])
    h = x * 2
    h.sum().backward()
    z = (h * 3).sum()
    with pytest.raises(RuntimeError, match="retain_graph"):
        z.backward()


def test_ds_grad_frees_the_graph_unless_asked_to_retain_it():
    x = f64([1.0, 2.0])
    y = (x * x).sum()
    ds.grad(y, [x], retain_graph=True)
    (g,) = ds.grad(y, [x])
    assert_close(g, [2.0, 4.0])
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


# ---- grad modes -------------------------------------------------------------------------------


def test_no_grad_as_a_context_manager_records_no_graph():
    x = f64([1.0, 2.0])
    assert ds.is_grad_enabled()
    with ds.no_grad():
        assert not ds.is_grad_enabled()
        y = (x * 2).exp()
    assert ds.is_grad_enabled()
    assert not y.requires_grad
    assert y.grad_fn is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.sum().backward()


def test_no_grad_as_a_decorator_records_no_graph_and_keeps_the_name():
    @ds.no_grad()
    def double(t):
        """Doubles."""
        assert not ds.is_grad_enabled()
        return t * 2

    x = f64([1.0, 2.0])
    y = double(x)
    assert not y.requires_grad and y.grad_fn is None
    assert ds.is_grad_enabled()
    assert double.__name__ == "double" and double.__doc__ == "Doubles."


def test_enable_grad_inside_no_grad_records_the_graph():
    x = f64([1.0, 2.0])

    @ds.enable_grad()
    def sum_of_squares(t):
        return (t * t).sum()

    with ds.no_grad():
        with ds.enable_grad():
            assert ds.is_grad_enabled()
            y = (x * x).sum()
        assert not ds.is_grad_enabled()
        z = sum_of_squares(x)
        assert not ds.is_grad_enabled()
    assert y.requires_grad and z.requires_grad
    y.backward()
    z.backward()
    assert_close(x.grad, 2 * 2 * np.array([1.0, 2.0]))


def test_grad_modes_nest():
    with ds.no_grad():
        with ds.no_grad():
            assert not ds.is_grad_enabled()
        assert not ds.is_grad_enabled()
        with ds.enable_grad():
            with ds.no_grad():
                assert not ds.is_grad_enabled()
            assert ds.is_grad_enabled()
        assert not ds.is_grad_enabled()
    assert ds.is_grad_enabled()


def test_grad_mode_is_restored_after_an_exception():
    with pytest.raises(ValueError):
        with ds.no_grad():
            raise ValueError("boom")
    assert ds.is_grad_enabled()

    @ds.no_grad()
    def fails():
        raise ValueError("boom")

    with pytest.raises(ValueError):
        fails()
    assert ds.is_grad_enabled()

    with ds.no_grad():
        with pytest.raises(ValueError):
            with ds.enable_grad():
                raise ValueError("boom")
        assert not ds.is_grad_enabled()


def test_grad_mode_belongs_to_the_thread():
    seen = []
    with ds.no_grad():
        worker = threading.Thread(target=lambda: seen.append(ds.is_grad_enabled()))
        worker.start()
        worker.join()
    assert seen == [True]


# ---- ds.grad ----------------------------------------------------------------------------------


def test_ds_grad_returns_gradients_and_leaves_every_grad_untouched():
    x = f64([1.0, -2.0])
    w = f64([0.5, 3.0])
    w.grad = ds.tensor([7.0, 8.0], dtype=ds.float64)
    before = w.grad
    h = x * w
    h.retain_grad()
    y = (h * h).sum()
    gx, gw = ds.grad(y, [x, w])

    assert x.grad is None
    assert w.grad is before
    np.testing.assert_array_equal(w.grad.numpy(), [7.0, 8.0])
    assert h.grad is None
    xv, wv = np.array([1.0, -2.0]), np.array([0.5, 3.0])
    assert_close(gx, 2 * xv * wv**2)  # d/dx sum (x w)^2
    assert_close(gw, 2 * wv * xv**2)


def test_ds_grad_matches_torch_with_grad_outputs_and_several_inputs_and_outputs():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal(3)
    v1, v2 = rng.standard_normal((2, 3)), rng.standard_normal(2)
    x, w = f64(a), f64(b)
    grads = ds.grad(
        [x * w.exp(), (x * w).sum(1)],
        [x, w],
        grad_outputs=[ds.tensor(v1, dtype=ds.float64), ds.tensor(v2, dtype=ds.float64)],
    )
    tx, tw = as_torch(a), as_torch(b)
    expected = torch.autograd.grad(
        [tx * tw.exp(), (tx * tw).sum(1)],
        [tx, tw],
        grad_outputs=[torch.tensor(v1), torch.tensor(v2)],
    )
    assert isinstance(grads, tuple) and len(grads) == 2
    for g, e in zip(grads, expected):
        assert_close(g, e)


@pytest.mark.parametrize(
    "wrap", [lambda v: v, lambda v: [v], lambda v: (v,)], ids=["alone", "list", "tuple"]
)
def test_ds_grad_takes_the_gradient_of_a_single_output_alone_or_in_a_sequence(wrap):
    v = np.array([1.0, -2.0, 0.5])
    x = f64([0.1, 0.2, 0.3])
    (g,) = ds.grad(x.sin(), [x], grad_outputs=wrap(ds.tensor(v, dtype=ds.float64)))
    t = as_torch([0.1, 0.2, 0.3])
    (e,) = torch.autograd.grad(t.sin(), [t], grad_outputs=wrap(torch.tensor(v)))
    assert_close(g, e)


def test_ds_grad_refuses_a_wrong_number_of_grad_outputs():
    x = f64([1.0, 2.0])
    with pytest.raises(RuntimeError, match="2 grad_outputs for 1 output"):
        ds.grad(x * 2, [x], grad_outputs=[ds.ones(2), ds.ones(2)])


def test_ds_grad_with_respect_to_an_intermediate_matches_torch():
    x = f64([1.0, 2.0])
    h = x.exp()
    gh, gx = ds.grad((h * h).sum(), [h, x])
    t = as_torch([1.0, 2.0])
    th = t.exp()
    eh, ex = torch.autograd.grad((th * th).sum(), [th, t])
    assert_close(gh, eh)
    assert_close(gx, ex)


def test_ds_grad_allow_unused():
    x, unused = f64([1.0, 2.0]), f64([3.0])
    with pytest.raises(RuntimeError, match="allow_unused"):
        ds.grad((x * x).sum(), [x, unused])
    gx, gu = ds.grad((x * x).sum(), [x, unused], allow_unused=True)
    assert_close(gx, [2.0, 4.0])
    assert gu is None


def test_ds_grad_refuses_an_input_that_does_not_require_grad():
    x, c = f64([1.0, 2.0]), f64([3.0, 4.0], requires_grad=False)
    with pytest.raises(RuntimeError, match="input 1 does not require grad"):
        ds.grad((x * c).sum(), [x, c])


# ---- errors of backward -----------------------------------------------------------------------


def test_backward_on_a_non_scalar_needs_a_gradient():
    x = f64([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"only for scalar outputs.*\(2,\)"):
        (x * 2).backward()


def test_backward_refuses_a_gradient_of_the_wrong_shape():
    x = f64([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"shape \(3,\).*shape \(2,\)"):
        (x * 2).backward(ds.ones(3, dtype=ds.float64))


def test_backward_on_a_tensor_that_does_not_require_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        (ds.tensor([1.0, 2.0]) * 2).sum().backward()


# ---- custom Functions -------------------------------------------------------------------------


class Cube(Function):
    """$f(x) = x^3$"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 3 * x**2 * grad


class Softplus(Function):
    """$f(x) = \\log(1 + e^x)$, $f' = \\sigma(x)$"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (1 + np.exp(-x))


class WrongCube(Function):
    """$x^3$ with a wrong derivative, $2x$ instead of $3x^2$."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 2 * grad * x


def test_custom_functions_pass_gradcheck_and_match_torch():
    values = [-2.0, -0.3, 0.7, 1.5]
    x = f64(values)
    assert ds.gradcheck(Cube.apply, [x])
    assert ds.gradcheck(Softplus.apply, [x])

    (Cube.apply(x) + Softplus.apply(x)).sum().backward()
    t = as_torch(values)
    (t**3 + torch.nn.functional.softplus(t)).sum().backward()
    assert_close(x.grad, t.grad)


def test_gradcheck_catches_a_wrong_backward():
    x = f64([0.5, 1.5, -2.0])
    with pytest.raises(ds.GradcheckError, match=r"input 0 .*index \(0,\)"):
        ds.gradcheck(WrongCube.apply, [x])
    assert ds.gradcheck(WrongCube.apply, [x], raise_exception=False) is False


def test_custom_function_with_several_inputs_and_options():
    seen = []

    class ScaledProduct(Function):
        """$f(a, b, s) = s a b$ with ``s`` a number and a keyword option ``shift``."""

        @staticmethod
        def forward(ctx, a, b, s, *, shift):
            seen.append(ctx.needs_input_grad)
            ctx.save_for_backward(a, b)
            ctx.s = s
            return s * a * b + shift

        @staticmethod
        def backward(ctx, grad):
            a, b = ctx.saved_tensors
            need_a, need_b, need_s = ctx.needs_input_grad
            assert not need_s
            ga = ctx.s * b * grad if need_a else None
            gb = ctx.s * a * grad if need_b else None
            return ga, gb, None

    a, b = f64([1.0, 2.0]), f64([3.0, -1.0])
    c = f64([3.0, -1.0], requires_grad=False)
    y = ScaledProduct.apply(a, c, 2.0, shift=10.0)
    assert_close(y, [16.0, 6.0])
    y.sum().backward()
    assert_close(a.grad, [6.0, -2.0])
    assert c.grad is None
    assert ds.gradcheck(lambda a, b: ScaledProduct.apply(a, b, 2.0, shift=1.0), [a, b])
    assert seen[0] == (True, False, False)
    assert (True, True, False) in seen


# ---- the engine's checks of backward rules ----------------------------------------------------


class BadCount(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return grad * 2, grad


class BadShape(Function):
    @staticmethod
    def forward(ctx, x):
        return x.sum(axis=0)

    @staticmethod
    def backward(ctx, grad):
        return grad  # forgot to broadcast back to (2, 3)


class BadDtype(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return (grad * 2).astype(np.float64)


@pytest.mark.parametrize(
    "fn, pattern",
    [
        (BadCount, r"BadCount\.backward returned 2 gradient.*1 positional input"),
        (BadShape, r"BadShape\.backward .*shape \(3,\) .*shape is \(2, 3\)"),
        (BadDtype, r"BadDtype\.backward .*dtype float64 .*dtype is float32"),
    ],
    ids=["count", "shape", "dtype"],
)
def test_the_engine_checks_every_rule_and_names_the_op(fn, pattern):
    x = ds.ones(2, 3, requires_grad=True)
    y = fn.apply(x).sum()
    with pytest.raises(RuntimeError, match=pattern):
        y.backward()


def test_a_rule_may_return_none_for_an_input_it_does_not_differentiate():
    class StopGradient(Function):
        @staticmethod
        def forward(ctx, x):
            return x.copy()

        @staticmethod
        def backward(ctx, grad):
            return None

    x = f64([1.0, 2.0])
    (StopGradient.apply(x) * x).sum().backward()
    assert_close(x.grad, [1.0, 2.0])  # only the direct path


# ---- needs_input_grad, retain_grad, detach ----------------------------------------------------


def test_needs_input_grad_tells_which_positional_inputs_need_gradients():
    seen = []

    class Probe(Function):
        @staticmethod
        def forward(ctx, a, b, c):
            seen.append(ctx.needs_input_grad)
            return a + b

        @staticmethod
        def backward(ctx, grad):
            seen.append(ctx.needs_input_grad)
            return grad, grad, None

    x, k = f64([1.0]), f64([2.0], requires_grad=False)
    Probe.apply(x, k, 3).sum().backward()
    Probe.apply(k, x, x).sum().backward()
    assert seen == [(True, False, False)] * 2 + [(False, True, True)] * 2


def test_retain_grad_keeps_the_grad_of_a_non_leaf():
    values = [1.0, -2.0, 0.5]
    x = f64(values)
    h = x * 3
    h.retain_grad()
    k = h.exp()
    (k * h).sum().backward()
    t = as_torch(values)
    th = t * 3
    th.retain_grad()
    (th.exp() * th).sum().backward()
    assert_close(h.grad, th.grad)
    assert_close(x.grad, t.grad)
    assert k.grad is None  # a non-leaf keeps no .grad unless asked
    assert h.is_leaf is False and x.is_leaf is True


def test_detach_cuts_the_graph():
    x = f64([1.0, 2.0, 3.0])
    d = x.detach()
    assert not d.requires_grad and d.grad_fn is None
    assert np.shares_memory(d.numpy(), x.numpy())
    (x * d).sum().backward()  # d is a constant: d/dx sum(x c) = c
    assert_close(x.grad, [1.0, 2.0, 3.0])
    t = as_torch([1.0, 2.0, 3.0])
    (t * t.detach()).sum().backward()
    assert_close(x.grad, t.grad)


# ---- memory: the graph is released ------------------------------------------------------------


def _graph_with_an_intermediate():
    x = f64(np.linspace(-1, 1, 5))
    h = x.exp()  # Exp saves h's array; Sin saves it too and keeps h as its input
    refs = (weakref.ref(h), weakref.ref(h.numpy()))
    return x, h.sin(), refs


def test_backward_releases_the_graph_without_the_cycle_collector():
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        x, out, (tensor_ref, array_ref) = _graph_with_an_intermediate()
        assert tensor_ref() is not None and array_ref() is not None  # the graph holds them
        out.backward(ds.ones_like(out))
        assert tensor_ref() is None  # out's node no longer holds its input...
        assert array_ref() is None  # ...nor the array it saved
        assert out.grad_fn is not None
        assert x.grad is not None
    finally:
        if was_enabled:
            gc.enable()


def test_retain_graph_keeps_the_graph_alive_until_the_output_goes():
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        x, out, (tensor_ref, array_ref) = _graph_with_an_intermediate()
        out.backward(ds.ones_like(out), retain_graph=True)
        assert tensor_ref() is not None and array_ref() is not None
        del out  # no reference cycle: dropping the output frees the whole graph
        assert tensor_ref() is None and array_ref() is None
    finally:
        if was_enabled:
            gc.enable()


# ---- in-place operations ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "update",
    [
        lambda x: x.__iadd__(1),
        lambda x: x.__isub__(1),
        lambda x: x.__imul__(2),
        lambda x: x.__itruediv__(2),
    ],
    ids=["+=", "-=", "*=", "/="],
)
def test_in_place_arithmetic_on_a_leaf_that_requires_grad_raises(update):
    x = ds.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"in-place .*requires grad.*no_grad"):
        update(x)
    np.testing.assert_array_equal(x.numpy(), [1.0, 2.0])


def test_in_place_arithmetic_under_no_grad_updates_the_data_in_place():
    x = ds.tensor([1.0, 2.0], requires_grad=True)
    before = x.numpy()
    with ds.no_grad():
        x += 1
        x *= ds.tensor([2.0, 3.0])
        x -= 0.5
        x /= 2
    assert x.numpy() is before
    np.testing.assert_allclose(x.numpy(), [1.75, 4.25])
    assert x.dtype == np.float32 and x.requires_grad and x.is_leaf


def test_item_assignment_on_a_leaf_that_requires_grad_raises_unless_under_no_grad():
    x = ds.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="no_grad"):
        x[0] = 5.0
    with ds.no_grad():
        x[ds.tensor([0, 2])] = 5.0
    np.testing.assert_array_equal(x.numpy(), [5.0, 2.0, 5.0])


def test_gradients_never_share_memory_even_when_a_rule_returns_one_array_twice():
    # Add hands the same upstream array to both inputs; reshape passes a view on. Clipping
    # or an optimizer changes .grad in place, so shared memory would corrupt another .grad.
    a = f64([1.0, 2.0])
    b = f64([3.0, 4.0])
    c = f64([[5.0, 6.0]])
    s = a + b.reshape(2) + c.reshape(2)
    s.sum().backward()
    grads = [a.grad.numpy(), b.grad.numpy(), c.grad.numpy()]
    for i in range(3):
        for j in range(i + 1, 3):
            assert not np.shares_memory(grads[i], grads[j])
    a.grad.numpy()[...] *= 10
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(c.grad.numpy(), [[1.0, 1.0]])


def test_a_given_output_gradient_is_copied_not_aliased():
    x = f64([1.0, 2.0])
    seed = np.array([3.0, 4.0])
    x.backward(seed)
    seed[...] = 0
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 4.0])


class FailsOnce(Function):
    """x * 2, whose backward raises the first time it runs."""

    calls = 0

    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        FailsOnce.calls += 1
        if FailsOnce.calls == 1:
            raise ArithmeticError("boom")
        return grad * 2


def test_a_backward_that_fails_half_way_leaves_nothing_behind():
    """The walk stops at the failing rule; the gradients already on their way are dropped,
    so a second backward over the same graph gives exactly the right answer."""
    FailsOnce.calls = 0
    x = ds.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3  # receives a gradient before the failing rule runs
    y = (FailsOnce.apply(h) + h).sum()
    with pytest.raises(ArithmeticError, match="boom"):
        y.backward(retain_graph=True)
    assert x.grad is None
    assert all(t._pending is None for t in (x, h, y))
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [9.0, 9.0])  # d/dx (6x + 3x)


def test_a_copied_graph_is_numbered_afresh_inputs_first():
    """copy.deepcopy (and pickle) rebuild a graph with the numbers of where it was made;
    they are drawn again, inputs before the ops that use them, after everything so far,
    so a graph extended after the copy still walks backward in the right order."""
    w = ds.tensor([1.0, 2.0], dtype=ds.float64, requires_grad=True)
    y = (w * 3.0).tanh() * 2.0
    mark = (w * 1.0)._ctx.seq
    y2 = copy.deepcopy(y)
    seqs, t = [], y2
    while t._ctx is not None:
        seqs.append(t._ctx.seq)
        t = t._ctx.inputs[0]
    assert min(seqs) > mark
    assert seqs == sorted(seqs, reverse=True)  # each op after its input's op
    w2 = t
    (y2 * ds.tensor([1.0, 1.0], dtype=ds.float64, requires_grad=True)).sum().backward()
    expected = 6 * (1 - np.tanh(3 * np.array([1.0, 2.0])) ** 2)
    np.testing.assert_allclose(w2.grad.numpy(), expected, rtol=1e-12)
    assert w.grad is None


# ---- versions: a saved value changed in place is refused at backward ----------------------
# Each program runs under torch and under descent (``m`` is the module) and returns the
# leaves whose gradients are compared where neither raises. The outcome is "version" (the
# backward refuses a changed saved value), "refused" (the in-place call itself raises) or
# None. The last column is descent's outcome; where it differs from torch's the case says why.


def _leaf(m, values):
    return m.tensor(values, requires_grad=True)


def v_exp_output_under_no_grad(m):
    x = _leaf(m, [1.0, 2.0])
    y = x.exp()
    with m.no_grad():
        y.add_(1)
    y.sum().backward()
    return [x]


def v_exp_output_through_detach(m):
    x = _leaf(m, [1.0, 2.0])
    y = x.exp()
    y.detach().mul_(2)
    y.sum().backward()
    return [x]


def v_exp_output_through_data(m):  # .data is the escape hatch: nothing sees the change
    x = _leaf(m, [1.0, 2.0])
    y = x.exp()
    y.data.add_(1)
    y.sum().backward()
    return [x]


def v_constant_factor_of_mul(m):
    x, a = _leaf(m, [1.0, 2.0]), m.tensor([3.0, 4.0])
    y = x * a
    a.add_(1)
    y.sum().backward()
    return [x]


def v_leaf_factor_of_mul_whose_partner_needs_no_grad(m):  # mul keeps x only for a's gradient
    x, a = _leaf(m, [1.0, 2.0]), m.tensor([3.0, 4.0])
    y = x * a
    with m.no_grad():
        x.add_(1)
    y.sum().backward()
    return [x]


def v_output_of_mul(m):  # mul does not keep its output
    x = _leaf(m, [1.0, 2.0])
    y = x * 2
    with m.no_grad():
        y.add_(1)
    y.sum().backward()
    return [x]


def v_operand_of_add(m):  # add keeps nothing
    x, a = _leaf(m, [1.0, 2.0]), m.tensor([3.0, 4.0])
    y = x + a
    a.add_(1)
    with m.no_grad():
        x.mul_(3)
    y.sum().backward()
    return [x]


def v_input_of_sin(m):
    x = _leaf(m, [1.0, 2.0])
    y = x.sin()
    with m.no_grad():
        x.mul_(2)
    y.sum().backward()
    return [x]


def v_changed_before_use(m):
    x, a = _leaf(m, [1.0, 2.0]), m.tensor([3.0, 4.0])
    a.add_(1)
    a[0] = 7.0
    y = x * a
    y.sum().backward()
    return [x]


def v_slice_of_detach(m):  # a view shares its base's version
    x = _leaf(m, [1.0, 2.0, 3.0])
    y = x.exp()
    y.detach()[1:].add_(1)
    y.sum().backward()
    return [x]


def v_view_of_detach(m):
    x = _leaf(m, [1.0, 2.0, 3.0, 4.0])
    y = x.tanh()
    y.detach().view(2, 2).mul_(2)
    y.sum().backward()
    return [x]


def v_transpose_of_a_saved_input(m):
    w = _leaf(m, [[1.0, 2.0], [3.0, 4.0]])
    a = m.tensor([[0.5, -1.0], [2.0, 1.0]])
    y = a @ w  # w's gradient reads a
    a.t().mul_(2)
    y.sum().backward()
    return [w]


def v_matmul_weight_when_the_other_needs_no_grad(m):  # w is kept only for a's gradient
    w = _leaf(m, [[1.0, 2.0], [3.0, 4.0]])
    a = m.tensor([[0.5, -1.0], [2.0, 1.0]])
    y = a @ w
    with m.no_grad():
        w.sub_(1)
    y.sum().backward()
    return [w]


def v_item_assignment(m):
    x = _leaf(m, [1.0, 2.0])
    y = x.sigmoid()
    with m.no_grad():
        y[0] = 5.0
    y.sum().backward()
    return [x]


def v_relu_output_zeroed(m):
    x = _leaf(m, [-1.0, 2.0])
    y = x.relu()
    y.detach().zero_()
    (y * y).sum().backward()
    return [x]


def v_copy_into_a_saved_divisor(m):
    x, b = _leaf(m, [1.0, 2.0]), m.tensor([3.0, 4.0])
    y = x / b
    b.copy_(m.tensor([1.0, 1.0]))
    y.sum().backward()
    return [x]


def v_numerator_of_div_whose_divisor_needs_no_grad(m):  # div keeps x only for b's gradient
    x, b = _leaf(m, [1.0, 2.0]), m.tensor([3.0, 4.0])
    y = x / b
    with m.no_grad():
        x.fill_(9.0)
    y.sum().backward()
    return [x]


def v_base_of_pow(m):
    x = _leaf(m, [1.0, 2.0])
    y = x**2
    with m.no_grad():
        x.clamp_(min=1.5)
    y.sum().backward()
    return [x]


def v_input_of_sum(m):
    x = _leaf(m, [1.0, 2.0])
    y = (x * 3).sum()
    with m.no_grad():
        x.exp_()
    y.backward()
    return [x]


def v_second_backward_after_a_change(m):
    x = _leaf(m, [1.0, 2.0])
    y = x.exp()
    s = y.sum()
    s.backward(retain_graph=True)
    with m.no_grad():
        y.mul_(2)
    s.backward()
    return [x]


def _net(m, rows):
    """A 2-3-1 tanh network with fixed weights, its SGD optimizer and its loss on ``rows``."""
    first, last = m.nn.Linear(2, 3), m.nn.Linear(3, 1)
    with m.no_grad():
        first.weight.copy_(m.tensor([[0.1, -0.2], [0.3, 0.4], [-0.5, 0.6]]))
        first.bias.copy_(m.tensor([0.0, 0.1, -0.1]))
        last.weight.copy_(m.tensor([[0.7, -0.8, 0.9]]))
        last.bias.copy_(m.tensor([0.2]))
    params = [first.weight, first.bias, last.weight, last.bias]
    loss = (last(first(rows).tanh()) ** 2).sum()
    return params, m.optim.SGD(params, lr=0.1), loss


def v_optimizer_step_before_the_second_backward(m):  # the GAN mistake
    params, opt, loss = _net(m, m.tensor([[1.0, 2.0], [-1.0, 0.5]]))
    loss.backward(retain_graph=True)
    opt.step()
    loss.backward()
    return params


def v_optimizer_step_before_the_first_backward_of_a_new_graph(m):
    rows = m.tensor([[1.0, 2.0], [-1.0, 0.5]])
    params, opt, loss = _net(m, rows)
    loss.backward()
    opt.step()
    opt.zero_grad()
    params, opt, loss = _net(m, rows)
    loss.backward()
    return params


def v_leaf_that_requires_grad_outside_no_grad(m):
    x = _leaf(m, [1.0, 2.0])
    x.add_(1)
    return [x]


def v_made_tensor_outside_no_grad(m):  # torch records the add_ in the graph; descent refuses it
    x = _leaf(m, [1.0, 2.0])
    y = x * 2
    y.add_(1)
    y.sum().backward()
    return [x]


VERSION_CASES = [
    (v_exp_output_under_no_grad, "version", "version"),
    (v_exp_output_through_detach, "version", "version"),
    (v_exp_output_through_data, None, None),
    (v_constant_factor_of_mul, "version", "version"),
    (v_leaf_factor_of_mul_whose_partner_needs_no_grad, None, None),
    (v_output_of_mul, None, None),
    (v_operand_of_add, None, None),
    (v_input_of_sin, "version", "version"),
    (v_changed_before_use, None, None),
    (v_slice_of_detach, "version", "version"),
    (v_view_of_detach, "version", "version"),
    (v_transpose_of_a_saved_input, "version", "version"),
    (v_matmul_weight_when_the_other_needs_no_grad, None, None),
    (v_item_assignment, "version", "version"),
    (v_relu_output_zeroed, "version", "version"),
    (v_copy_into_a_saved_divisor, "version", "version"),
    (v_numerator_of_div_whose_divisor_needs_no_grad, None, None),
    (v_base_of_pow, "version", "version"),
    (v_input_of_sum, None, None),
    (v_second_backward_after_a_change, "version", "version"),
    (v_optimizer_step_before_the_second_backward, "version", "version"),
    (v_optimizer_step_before_the_first_backward_of_a_new_graph, None, None),
    (v_leaf_that_requires_grad_outside_no_grad, "refused", "refused"),
    (v_made_tensor_outside_no_grad, None, "refused"),
]


def _outcome(program, m):
    """("version" | "refused" | None, the leaves' gradients when nothing raised)."""
    try:
        leaves = program(m)
    except RuntimeError as e:
        if "modified by an inplace operation" in str(e):
            return "version", None
        return "refused", None
    return None, [None if t.grad is None else np.asarray(t.grad.detach().numpy()) for t in leaves]


@pytest.mark.parametrize(
    "program, in_torch, in_descent", VERSION_CASES, ids=[c[0].__name__[2:] for c in VERSION_CASES]
)
def test_a_saved_value_changed_in_place_is_refused_where_torch_refuses_it(
    program, in_torch, in_descent
):
    torch_says, torch_grads = _outcome(program, torch)
    assert torch_says == in_torch  # the table's claim about torch
    descent_says, grads = _outcome(program, ds)
    assert descent_says == in_descent
    if descent_says is None and torch_says is None:
        assert len(grads) == len(torch_grads)
        for g, tg in zip(grads, torch_grads):
            assert (g is None) == (tg is None)
            if g is not None:
                np.testing.assert_allclose(g, tg, rtol=1e-6, atol=1e-7)


def test_the_version_error_names_the_op_the_tensor_and_both_versions():
    x = ds.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.exp()
    y.detach().add_(1)
    z = y * 1  # Mul's x-gradient reads 1, not y: only Exp's saved output matters
    y.detach()[0] = 0.0
    with pytest.raises(RuntimeError) as caught:
        z.sum().backward()
    message = str(caught.value)
    assert message.startswith(
        "one of the variables needed for gradient computation has been modified by an "
        "inplace operation: [descent.FloatTensor [3]], which is output 0 of ExpBackward0, is "
        "at version 2; expected version 0 instead. Exp saved its output for its backward"
    )
    assert x.grad is None  # nothing half-done

    a = ds.tensor([[1.0, 2.0]], dtype=ds.float64)
    a.mul_(2)  # version 1 when matmul runs
    w = ds.tensor([[1.0], [2.0]], dtype=ds.float64, requires_grad=True)
    out = a @ w
    a[0, 0] = 5.0
    with pytest.raises(RuntimeError, match=r"\[descent.DoubleTensor \[1, 2\]\] is at version 2; "
                       r"expected version 1 instead. MatMul saved its input 0"):  # fmt: skip
        out.sum().backward()


def test_version_counts_match_torchs_and_are_shared_as_torch_shares_them():
    def program(m):
        x = m.tensor([[1.0, 2.0], [3.0, 4.0]])
        seen = [x._version]
        x.add_(1)
        x[0] = 2.0
        x.detach().mul_(2)
        x[1:].zero_()  # a view
        x.t().clamp_(max=3.0)
        seen.append(x._version)
        x.data.add_(1)  # its own counter in torch: x does not see it
        seen.append(x._version)
        return seen

    assert program(ds) == program(torch) == [0, 5, 5]


def test_an_optimizer_step_is_a_new_version_of_each_parameter_it_changes():
    w = ds.tensor([1.0, 2.0], requires_grad=True)
    b = ds.tensor([0.5], requires_grad=True)
    opt = ds.optim.SGD([w, b], lr=0.1)
    (w * w).sum().backward()  # b gets no gradient and is not changed
    opt.step()
    assert (w._version, b._version) == (1, 0)


@pytest.mark.parametrize(
    "op, shapes",
    [
        (lambda a, b: a * b, [(2, 3), (2, 3)]),
        (lambda a, b: a / b, [(2, 3), (3,)]),
        (lambda a, b: a**b, [(2, 3), (2, 3)]),
        (lambda a, b: a @ b, [(2, 3), (3, 4)]),
        (lambda x, w, b: ds.nn.functional.linear(x, w, b), [(4, 3), (2, 3), (2,)]),
        (lambda x, w, b: ds.nn.functional.conv2d(x, w, b), [(1, 2, 4, 4), (3, 2, 3, 3), (3,)]),
        (lambda x, y: ds.nn.functional.binary_cross_entropy(x, y, reduction="none"), [(5,), (5,)]),
    ],
    ids=["mul", "div", "pow", "matmul", "linear", "conv2d", "binary_cross_entropy"],
)
def test_saved_for_names_every_saved_value_a_gradient_reads(op, shapes):
    # Only input i needs a gradient; every saved value that saved_for does not give to i is
    # spoiled with NaN after the forward, and i's gradient must not change.
    rng = np.random.default_rng(0)
    values = [rng.uniform(0.2, 0.8, s) for s in shapes]
    for i in range(len(shapes)):
        spoiled = _gradient_of_one_input(op, values, i, spoil=True)
        np.testing.assert_array_equal(spoiled, _gradient_of_one_input(op, values, i, spoil=False))


def _gradient_of_one_input(op, values, i, spoil):
    xs = [ds.tensor(v, dtype=ds.float64, requires_grad=(k == i)) for k, v in enumerate(values)]
    out = op(*xs)
    ctx = out._ctx
    saved_for = ctx.fn.saved_for
    assert saved_for is not None and len(saved_for) == len(ctx.saved_tensors)
    if spoil:
        for k, saved in enumerate(ctx.saved_tensors):
            if i not in saved_for[k]:
                saved[...] = np.nan  # through NumPy: no version is bumped
    out.sum().backward()
    return xs[i].grad.numpy()


def test_a_forgotten_array_takes_its_version_with_it():
    x = ds.tensor([1.0, 2.0])
    x.add_(1)
    key = id(x.numpy())
    assert key in autograd._versions
    del x
    gc.collect()
    assert key not in autograd._versions


def test_a_version_long_after_many_changes_is_said_as_a_bound(monkeypatch):
    monkeypatch.setattr(autograd, "_KEPT_STAMPS", 4)
    x = ds.tensor([1.0, 2.0], requires_grad=True)
    a = ds.tensor([3.0, 4.0])
    a.add_(1)
    y = x * a
    for _ in range(6):
        a.add_(1)
    assert a._version == 7
    with pytest.raises(RuntimeError, match="is at version 7; expected version 4 or lower"):
        y.sum().backward()


# ---- PyTorch's grad-mode forms: bare decorators, inference_mode, set_grad_enabled -----------


def _modes_seen(lib, make):
    """What is_grad_enabled says inside a function decorated by ``make(lib)``, and after."""

    @make(lib)
    def inside():
        """doc"""
        return lib.is_grad_enabled()

    return inside(), lib.is_grad_enabled(), inside.__name__, inside.__doc__


@pytest.mark.parametrize(
    "make",
    [
        lambda lib: lib.no_grad, lambda lib: lib.no_grad(), lambda lib: lib.inference_mode,
        lambda lib: lib.inference_mode(), lambda lib: lib.inference_mode(True),
        lambda lib: lib.inference_mode(False), lambda lib: lib.set_grad_enabled(False),
        lambda lib: lib.set_grad_enabled(True), lambda lib: lib.enable_grad,
        lambda lib: lib.enable_grad(),
    ],
)  # fmt: skip
def test_grad_mode_decorators_match_torch(make):
    assert _modes_seen(ds, make) == _modes_seen(torch, make)
    with torch.no_grad(), ds.no_grad():  # the same forms inside a no-grad block
        assert _modes_seen(ds, make) == _modes_seen(torch, make)
    assert ds.is_grad_enabled()


def test_bare_no_grad_decorator_records_no_graph():
    x = ds.tensor([1.0, 2.0], requires_grad=True)

    @ds.no_grad
    def double(t):
        return t * 2

    y = double(x)
    assert y.grad_fn is None and not y.requires_grad
    assert (x * 2).requires_grad


@pytest.mark.parametrize("mode", [True, False])
def test_inference_mode_as_a_context_manager_matches_torch(mode):
    for outer in (True, False):
        with ds.set_grad_enabled(outer), torch.set_grad_enabled(outer):
            with ds.inference_mode(mode), torch.inference_mode(mode):
                assert ds.is_grad_enabled() == torch.is_grad_enabled()
                y = ds.tensor([1.0], requires_grad=True) * 2
                t = torch.tensor([1.0], requires_grad=True) * 2
                assert y.requires_grad == t.requires_grad
            assert ds.is_grad_enabled() == torch.is_grad_enabled() == outer
    assert ds.is_grad_enabled()


def test_set_grad_enabled_as_a_function_and_a_context_manager_matches_torch():
    try:
        ds.set_grad_enabled(False)
        torch.set_grad_enabled(False)
        assert ds.is_grad_enabled() == torch.is_grad_enabled() is False
        assert not (ds.tensor([1.0], requires_grad=True) * 2).requires_grad
        ds.set_grad_enabled(True)
        torch.set_grad_enabled(True)
        assert ds.is_grad_enabled() == torch.is_grad_enabled() is True
        for mode in (False, True):
            with ds.set_grad_enabled(mode), torch.set_grad_enabled(mode):
                assert ds.is_grad_enabled() == torch.is_grad_enabled() == mode
            assert ds.is_grad_enabled() == torch.is_grad_enabled() is True
        with ds.no_grad():
            with ds.set_grad_enabled(True):
                assert ds.is_grad_enabled()
            assert not ds.is_grad_enabled()
    finally:
        ds.set_grad_enabled(True)
        torch.set_grad_enabled(True)


def test_grad_modes_restore_the_mode_when_the_body_raises():
    @ds.no_grad
    def fails():
        raise ValueError("inside")

    with pytest.raises(ValueError, match="inside"):
        fails()
    assert ds.is_grad_enabled()
    with pytest.raises(ValueError, match="inside"), ds.inference_mode():
        raise ValueError("inside")
    assert ds.is_grad_enabled()


# ---- grad_fn as PyTorch's graph node, and assignment to .grad ------------------------


def _walk_names(node) -> list:
    """Every node's name, depth first along next_functions, as a tutorial walks it."""
    if node is None:
        return [None]
    names = [node.name()]
    for child, index in node.next_functions:
        assert index == 0
        names += _walk_names(child)
    return names


def test_grad_fn_is_a_node_with_pytorchs_name_and_next_functions():
    x = np.array([1.0, 2.0, 3.0], np.float32)
    a, ta = ds.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    b, tb = ds.tensor(x), torch.tensor(x)
    y, ty = (a * b + a).mean(), (ta * tb + ta).mean()
    assert y.grad_fn.name() == ty.grad_fn.name() == "MeanBackward0"
    assert repr(y) == f"tensor({y.item():.4f}, grad_fn=<MeanBackward0>)"
    assert repr(y).split("grad_fn=")[1] == repr(ty).split("grad_fn=")[1]
    assert repr(y.grad_fn).startswith("<MeanBackward0 object at 0x")
    torch_names = [n.replace("torch::", "descent::") if n else n for n in _walk_names(ty.grad_fn)]
    assert torch_names == _walk_names(y.grad_fn)  # Mean, Add, Mul, AccumulateGrad, None, ...
    assert "descent::autograd::AccumulateGrad" in torch_names
    add = y.grad_fn.next_functions[0][0]
    mul, leaf = add.next_functions[0][0], add.next_functions[1][0]
    assert mul.next_functions[1] == (None, 0)  # b needs no gradient
    assert leaf.variable is a and mul.next_functions[0][0].variable is a
    assert repr(leaf).startswith("<AccumulateGrad object at 0x")
    tleaf = ty.grad_fn.next_functions[0][0].next_functions[1][0]
    assert leaf.next_functions == tleaf.next_functions == () and tleaf.variable is ta


def test_grad_fn_is_none_where_pytorchs_is():
    a, ta = ds.tensor([1.0], requires_grad=True), torch.tensor([1.0], requires_grad=True)
    with ds.no_grad(), torch.no_grad():
        made, tmade = a * 2, ta * 2
    cases = [(a, ta), (ds.tensor([1.0]) * 2, torch.tensor([1.0]) * 2), (made, tmade)]
    cases.append(((a * 2).detach(), (ta * 2).detach()))
    for t, tt in cases:
        assert t.grad_fn is None and tt.grad_fn is None


def test_grad_fn_is_one_node_per_op_as_pytorchs():
    a, ta = ds.tensor([1.0], requires_grad=True), torch.tensor([1.0], requires_grad=True)
    y, ty = a * a, ta * ta
    assert y.grad_fn is y.grad_fn and ty.grad_fn is ty.grad_fn
    (first, _), (second, _) = y.grad_fn.next_functions
    (tfirst, _), (tsecond, _) = ty.grad_fn.next_functions
    assert first is second and tfirst is tsecond  # one leaf, one AccumulateGrad


def test_grad_fn_keeps_its_name_and_edges_after_backward():
    a, ta = ds.tensor([1.0, 2.0], requires_grad=True), torch.tensor([1.0, 2.0], requires_grad=True)
    y, ty = (a * 3).sum(), (ta * 3).sum()
    node, tnode = y.grad_fn, ty.grad_fn
    y.backward()
    ty.backward()
    assert y.grad_fn is node and node.name() == tnode.name() == "SumBackward0"
    assert node.next_functions[0][0].name() == tnode.next_functions[0][0].name() == "MulBackward0"


def test_grad_fn_forms_no_cycle_and_keeps_nothing_alive():
    gc.collect()
    gc.disable()
    try:
        a = ds.tensor(np.ones(4), requires_grad=True)
        h = a * 2
        probe = weakref.ref(h)
        y = (h * 3).sum()
        held = y.grad_fn
        _walk_names(held)
        del h
        y.backward()  # frees the graph: the intermediate goes, held nodes or not
        assert probe() is None
        assert held.next_functions[0][0].name() == "MulBackward0"
        del held
        node = weakref.ref(y.grad_fn)
        assert node() is None  # nobody held it: freed by its count alone, no cycle
        del y
        assert probe() is None
    finally:
        gc.enable()


def test_assigning_grad_is_checked_as_in_pytorch():
    x, tx = ds.tensor([1.0, 2.0, 3.0], requires_grad=True), torch.ones(3, requires_grad=True)
    for value in (0.0, [1.0, 2.0, 3.0]):
        with pytest.raises(TypeError) as ours:
            x.grad = value
        with pytest.raises(TypeError) as theirs:
            tx.grad = value
        assert str(ours.value) == str(theirs.value)
    with pytest.raises(RuntimeError) as ours:
        x.grad = ds.ones(2)
    with pytest.raises(RuntimeError) as theirs:
        tx.grad = torch.ones(2)
    assert str(ours.value) == str(theirs.value)
    assert x.grad is None
    g = ds.tensor([4.0, 5.0, 6.0])
    x.grad = g
    assert x.grad is g
    (x * x).sum().backward()  # accumulates onto what was assigned
    assert_close(x.grad.numpy(), [6.0, 9.0, 12.0])
    x.grad = None
    assert x.grad is None


@pytest.mark.parametrize("uses", [1, 2, 3])
def test_a_0d_leafs_gradient_is_a_0d_array_that_zero_can_clear(uses):
    # NumPy sums a broadcast gradient down to () as a scalar, and 0-d + 0-d is a scalar too
    a = ds.tensor(0.5, requires_grad=True)
    x = ds.linspace(-1.0, 1.0, 5)
    for _ in range(2):  # the second backward accumulates into the first's .grad
        sum(a * x**k for k in range(uses)).sum().backward()
        assert a.grad._data.__class__ is np.ndarray and a.grad.shape == ()
    assert a.grad.item() == pytest.approx(2 * sum((x**k).sum().item() for k in range(uses)))
    a.grad.zero_()
    assert a.grad.item() == 0.0
