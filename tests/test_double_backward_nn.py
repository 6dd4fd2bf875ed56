"""Second derivatives of the shape and network ops (``backward_graph`` in
``descent/ops/shape.py`` and ``descent/ops/nn.py``), against PyTorch's double backward and
central differences; and the Hessians of a small MLP and a small CNN.

Each case is one expression ``fn(m, F, *xs, *consts)`` written once for both frameworks
(``m`` is descent or torch); ``make(rng)`` draws the differentiable float64 inputs ``xs`` (of
random sizes) and the constants (indices, labels, weights) that both frameworks get.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
import torch
import torch.nn.functional as torch_F

import descent as ds
import descent.nn.functional as F
from descent.autograd import Function
from descent.ops import elementwise as elementwise_ops
from descent.ops import linalg as linalg_ops
from descent.ops import nn as nn_ops
from descent.ops import reduce as reduce_ops
from descent.ops import shape as shape_ops


@dataclass
class Case:
    id: str
    fn: Callable  # fn(m, F, *xs, *consts)
    make: Callable  # make(rng) -> (xs, consts): float64 inputs and constant arrays
    torch: bool = True  # False: PyTorch cannot take this case (gradgradcheck only)


def _sizes(rng, k: int, lo: int = 1, hi: int = 4) -> tuple:
    return tuple(int(n) for n in rng.integers(lo, hi + 1, k))


def _normal(rng, *shapes) -> list:
    return [rng.standard_normal(s) for s in shapes]


def _distinct(rng, shape) -> np.ndarray:
    """Well-separated values in random order: no ties for a max, even after a tiny step."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.37 - n * 0.15).reshape(shape) / max(n, 1) * 4


def _repeated_rows(rng, n: int, size: int, k: int) -> np.ndarray:
    """(n, k) int64 indices below ``size`` with a repeat in every row."""
    idx = rng.integers(0, size, (n, k))
    idx[:, -1] = idx[:, 0]
    return idx.astype(np.int64)


def _permuted_rows(rng, n: int, size: int, k: int) -> np.ndarray:
    """(n, k) int64 indices below ``size``, no repeat within a row (k <= size)."""
    return np.stack([rng.permutation(size)[:k] for _ in range(n)]).astype(np.int64)


def _labels(rng, shape, classes: int) -> np.ndarray:
    return rng.integers(0, classes, shape).astype(np.int64)


def _probabilities(rng, shape) -> np.ndarray:
    return rng.uniform(0.1, 0.9, shape)


def _image_case(rng, stride, pads, kernel, bias: bool):
    n, c, o = _sizes(rng, 3, 1, 3)
    h = int(rng.integers(kernel[0], kernel[0] + 4)) + (0 if pads[0] else 1)
    w = int(rng.integers(kernel[1], kernel[1] + 4))
    shapes = [(n, c, h, w), (o, c) + kernel] + ([(o,)] if bias else [])
    return _normal(rng, *shapes), []


def _class_rows(rng, smallest: int = 2):
    n, c = int(rng.integers(2, 5)), int(rng.integers(smallest, 5))
    return n, c


CASES = [
    # ---- shape ops, each under a sin so that its rule meets a non-constant gradient
    Case(
        "reshape",
        lambda m, F, x: x.reshape(x.shape[1], -1).sin(),
        lambda rng: (_normal(rng, _sizes(rng, 3)), []),
    ),
    Case(
        "permute",
        lambda m, F, x: x.permute(2, 0, 1).sin(),
        lambda rng: (_normal(rng, _sizes(rng, 3)), []),
    ),
    Case(
        "expand",
        lambda m, F, x: x.expand(3, -1, x.shape[2]).sin(),
        lambda rng: (_normal(rng, (1, int(rng.integers(1, 4)), 1)), []),
    ),
    Case(
        "getitem_slices",
        lambda m, F, x: x[1:, ::2, None].sin(),
        lambda rng: (_normal(rng, _sizes(rng, 2, 2, 5)), []),
    ),
    Case(
        "getitem_repeated_ints",
        lambda m, F, x, rows, cols: (
            x[m.tensor(rows)].sum(2) + x[m.tensor(rows), m.tensor(cols)]
        ).sin(),
        lambda rng: (
            _normal(rng, (3, 4)),
            [np.array([[0, 2, 0], [1, 0, 0]]), np.array([[3, 3, 1], [0, 3, 3]])],
        ),
    ),
    Case(
        "getitem_mask",
        lambda m, F, x, mask: x[m.tensor(mask)].sin(),
        lambda rng: ([rng.standard_normal((3, 4))], [rng.random((3, 4)) < 0.5]),
    ),
    Case(
        "cat",
        lambda m, F, a, b: m.cat([a, b * b], 1).sin(),
        lambda rng: (_normal(rng, (2, int(rng.integers(1, 4))), (2, int(rng.integers(1, 4)))), []),
    ),
    Case(
        "stack",
        lambda m, F, a, b: m.stack([a, b], 1).sin(),
        lambda rng: (_normal(rng, *[_sizes(rng, 2)] * 2), []),
    ),
    Case(
        "pad",
        lambda m, F, x: F.pad(x, (1, 2, 0, 1)).sin(),
        lambda rng: (_normal(rng, _sizes(rng, 3)), []),
    ),
    Case(
        "gather_repeated",
        lambda m, F, x, idx: x.gather(1, m.tensor(idx)).sin(),
        lambda rng: ([rng.standard_normal((3, 4))], [_repeated_rows(rng, 3, 4, 5)]),
    ),
    Case(
        "scatter",
        lambda m, F, x, src, idx: x.scatter(1, m.tensor(idx), src).sin(),
        lambda rng: (_normal(rng, (3, 5), (2, 3)), [_permuted_rows(rng, 2, 5, 3)]),
    ),
    Case(
        "scatter_add_repeated",
        lambda m, F, x, src, idx: x.scatter_add(1, m.tensor(idx), src).sin(),
        lambda rng: (_normal(rng, (3, 4), (2, 4)), [_repeated_rows(rng, 2, 4, 4)]),
    ),
    # NOTE: PyTorch's scatter gives src a gradient of index's shape, an error when src
    # is larger than index; descent pads it with zeros, checked here by differences
    Case(
        "scatter_add_src_larger_than_index",
        lambda m, F, x, src, idx: x.scatter_add(1, m.tensor(idx), src).sin(),
        lambda rng: (_normal(rng, (3, 4), (3, 5)), [_repeated_rows(rng, 2, 4, 4)]),
        torch=False,
    ),
    Case(
        "scatter_one_value",
        lambda m, F, x, src, idx: x.scatter(1, m.tensor(idx), src * src).sin(),
        lambda rng: (_normal(rng, (3, 4), ()), [_repeated_rows(rng, 2, 4, 3)]),
        torch=False,
    ),
    # ---- linear and convolution
    Case(
        "linear",
        lambda m, F, x, w, b: F.linear(x, w, b).sin(),
        lambda rng: (lambda n, i, o: (_normal(rng, (n, i), (o, i), (o,)), []))(*_sizes(rng, 3)),
    ),
    Case(
        "linear_3d_no_bias",
        lambda m, F, x, w: F.linear(x, w) * F.linear(x, w),
        lambda rng: (_normal(rng, (2, 3, 4), (2, 4)), []),
    ),
    Case(
        "conv2d_stride2_pad1",
        lambda m, F, x, w, b: F.conv2d(x, w, b, stride=2, padding=1).sin(),
        lambda rng: _image_case(rng, (2, 2), (1, 1), (3, 3), bias=True),
    ),
    Case(
        "conv2d_rect_stride21_pad01",
        lambda m, F, x, w: F.conv2d(x, w, stride=(2, 1), padding=(0, 1)).sin(),
        lambda rng: _image_case(rng, (2, 1), (0, 1), (2, 3), bias=False),
    ),
    Case(
        "conv1d_stride2_pad1_dilation2",
        lambda m, F, x, w, b: F.conv1d(x, w, b, stride=2, padding=1, dilation=2).sin(),
        lambda rng: (lambda n, c, o: (_normal(rng, (n, c, 8), (o, c, 3), (o,)), []))(
            *_sizes(rng, 3, 1, 3)
        ),
    ),
    Case(
        "conv1d_groups2_same",
        lambda m, F, x, w: F.conv1d(x, w, padding="same", groups=2).sin(),
        lambda rng: (_normal(rng, (2, 4, int(rng.integers(3, 7))), (6, 2, 3)), []),
    ),
    # ---- pooling
    Case(
        "max_pool1d_overlapping",
        lambda m, F, x: F.max_pool1d(x, 3, stride=1, padding=1).sin(),
        lambda rng: ([_distinct(rng, (2, 2, int(rng.integers(3, 7))))], []),
    ),
    Case(
        "avg_pool1d_excluding_pad",
        lambda m, F, x: F.avg_pool1d(x, 3, stride=2, padding=1, count_include_pad=False).sin(),
        lambda rng: (_normal(rng, (2, 2, int(rng.integers(3, 8)))), []),
    ),
    Case(
        "max_pool2d_overlapping",
        lambda m, F, x: F.max_pool2d(x, 3, stride=1, padding=1).sin(),
        lambda rng: ([_distinct(rng, (2, 2) + _sizes(rng, 2, 3, 5))], []),
    ),
    Case(
        "max_pool2d_stride2",
        lambda m, F, x: F.max_pool2d(x, (3, 2), stride=2).sin(),
        lambda rng: ([_distinct(rng, (1, 2) + _sizes(rng, 2, 3, 6))], []),
    ),
    Case(
        "avg_pool2d_overlapping",
        lambda m, F, x: F.avg_pool2d(x, 3, stride=2, padding=1).sin(),
        lambda rng: (_normal(rng, (2, 2) + _sizes(rng, 2, 3, 6)), []),
    ),
    Case(
        "avg_pool2d_excluding_pad",
        lambda m, F, x: F.avg_pool2d(x, 2, stride=1, padding=1, count_include_pad=False).sin(),
        lambda rng: (_normal(rng, (1, 2) + _sizes(rng, 2, 2, 5)), []),
    ),
    # ---- losses
    Case(
        "cross_entropy_labels",
        lambda m, F, x, y: F.cross_entropy(x, m.tensor(y)),
        lambda rng: (lambda n, c: (_normal(rng, (n, c)), [_labels(rng, n, c)]))(*_class_rows(rng)),
    ),
    Case(
        "cross_entropy_weight_ignore_smoothing",
        lambda m, F, x, y, w: F.cross_entropy(
            x, m.tensor(y), weight=m.tensor(w, dtype=m.float64), ignore_index=1, label_smoothing=0.2
        ),
        lambda rng: (
            [rng.standard_normal((5, 4))],
            [np.array([0, 1, 3, 2, 1]), rng.uniform(0.5, 2.0, 4)],
        ),
    ),
    Case(
        "cross_entropy_image_sum",
        lambda m, F, x, y: F.cross_entropy(x, m.tensor(y), reduction="sum"),
        lambda rng: ([rng.standard_normal((2, 3, 2, 2))], [_labels(rng, (2, 2, 2), 3)]),
    ),
    Case(
        "cross_entropy_unbatched",
        lambda m, F, x, y: F.cross_entropy(x, m.tensor(y)),
        lambda rng: ([rng.standard_normal(4)], [np.array(2)]),
    ),
    Case(
        "cross_entropy_probabilities",
        lambda m, F, x, t: F.cross_entropy(x, t, label_smoothing=0.1, reduction="sum"),
        lambda rng: ([rng.standard_normal((3, 4)), _probabilities(rng, (3, 4))], []),
    ),
    Case(
        "binary_cross_entropy",
        lambda m, F, x, y: F.binary_cross_entropy(x, y, reduction="sum"),
        lambda rng: ([_probabilities(rng, (3, 4)), _probabilities(rng, (3, 4))], []),
    ),
    Case(
        "binary_cross_entropy_with_logits",
        lambda m, F, x, y, w: F.binary_cross_entropy_with_logits(
            x, y, weight=m.tensor(w, dtype=m.float64), reduction="sum"
        ),
        lambda rng: (
            [rng.standard_normal((3, 4)), _probabilities(rng, (3, 4))],
            [rng.uniform(0.5, 2.0, (3, 4))],
        ),
    ),
    Case(
        "l2_penalty",  # SumOfSquares; PyTorch has no twin
        lambda m, F, a, b: F.l2_penalty([a, b]).sin(),
        lambda rng: (_normal(rng, _sizes(rng, 2), _sizes(rng, 1)), []),
        torch=False,
    ),
    Case(
        "binary_cross_entropy_with_logits_pos_weight",
        lambda m, F, x, y, q: F.binary_cross_entropy_with_logits(
            x, y, pos_weight=m.tensor(q, dtype=m.float64), reduction="sum"
        ),
        lambda rng: (
            [rng.standard_normal((3, 4)), _probabilities(rng, (3, 4))],
            [rng.uniform(0.5, 2.0, 4)],
        ),
    ),
]


def _inputs(m, xs) -> list:
    return [m.tensor(x, dtype=m.float64, requires_grad=True) for x in xs]


def _derivatives(m, fn, xs, consts, v, *directions) -> list:
    """Derivatives of ``fn`` past the first, one order per direction: the first derivative
    $g = d\\langle v, fn(xs) \\rangle / dxs$ in the direction of ``directions[0]`` (one
    array per input) differentiated with respect to xs and v, then that in the direction
    of ``directions[1]`` (one array per input and v), and so on. Arrays, zeros where a
    derivative is unused."""
    functional = ds.nn.functional if m is ds else torch_F
    grad = ds.grad if m is ds else torch.autograd.grad
    floats = _inputs(m, xs)
    v = m.tensor(v, dtype=m.float64, requires_grad=True)
    grads = grad([fn(m, functional, *floats, *consts)], floats, [v], create_graph=True)
    for k, ws in enumerate(directions):
        pairs = [(g, w) for g, w in zip(grads, ws) if g is not None]
        total = sum((g * m.tensor(w, dtype=m.float64)).sum() for g, w in pairs)
        last = k == len(directions) - 1
        grads = grad([total], floats + [v], create_graph=not last, allow_unused=True)
    return [
        np.zeros(np.shape(a)) if g is None else g.detach().numpy()
        for g, a in zip(grads, xs + [v.detach().numpy()])
    ]


def _compare(ours: list, theirs: list, name: str) -> None:
    for i, (a, b) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-10, err_msg=f"{name}: input {i}")


def _draw(case: Case, seed: int) -> tuple:
    """A case's inputs and constants, the output gradient v and a direction per input."""
    rng = np.random.default_rng(seed)
    xs, consts = case.make(rng)
    out = case.fn(ds, F, *[ds.tensor(x, dtype=ds.float64) for x in xs], *consts)
    v = rng.standard_normal(out.shape)
    return xs, consts, v, [rng.standard_normal(np.shape(x)) for x in xs], rng


TORCH_CASES = [c for c in CASES if c.torch]


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("case", TORCH_CASES, ids=[c.id for c in TORCH_CASES])
def test_second_derivatives_match_torch(case, seed):
    xs, consts, v, ws, _ = _draw(case, seed)
    ours = _derivatives(ds, case.fn, xs, consts, v, ws)
    _compare(ours, _derivatives(torch, case.fn, xs, consts, v, ws), case.id)


# the ops whose second derivatives are ops with rules of their own (the adjoint pairs)
THIRD_ORDER = [
    c
    for c in TORCH_CASES
    if c.id.startswith(
        (
            "conv2d",
            "conv1d",
            "max_pool2d",
            "max_pool1d",
            "avg_pool2d",
            "avg_pool1d",
            "getitem",
            "gather",
            "linear",
        )
    )
]


@pytest.mark.parametrize("case", THIRD_ORDER, ids=[c.id for c in THIRD_ORDER])
def test_third_derivatives_match_torch(case):
    xs, consts, v, ws, rng = _draw(case, 3)
    us = [rng.standard_normal(np.shape(a)) for a in xs + [v]]
    ours = _derivatives(ds, case.fn, xs, consts, v, ws, us)
    _compare(ours, _derivatives(torch, case.fn, xs, consts, v, ws, us), case.id)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_gradgradcheck(case):
    rng = np.random.default_rng(2)
    xs, consts = case.make(rng)
    assert ds.gradgradcheck(lambda *a: case.fn(ds, F, *a, *consts), _inputs(ds, xs))


def test_l2_penalty_hessian_is_twice_the_identity():
    x = ds.tensor(np.random.default_rng(4).standard_normal(5), dtype=ds.float64)
    hessian = ds.autograd.functional.hessian(lambda p: F.l2_penalty([p, 3 * p]), x)
    np.testing.assert_array_equal(hessian.numpy(), 20 * np.eye(5))  # d^2 (x^2 + 9 x^2)


@pytest.mark.parametrize(
    "module",
    [shape_ops, nn_ops, elementwise_ops, reduce_ops, linalg_ops],
    ids=["shape", "nn", "elementwise", "reduce", "linalg"],
)
def test_every_op_has_a_graph_rule(module):
    ops = [
        c
        for _, c in inspect.getmembers(module, inspect.isclass)
        if issubclass(c, Function) and c.__module__ == module.__name__
    ]
    assert len(ops) >= 2
    assert [c.__name__ for c in ops if c.backward_graph is None] == []


# ---- whole networks: the Hessian of the loss in all parameters at once ----------------------


def _unflatten(m, theta, shapes) -> list:
    parts, start = [], 0
    for shape in shapes:
        n = int(np.prod(shape))
        parts.append(theta[start : start + n].reshape(shape))
        start += n
    return parts


MLP_SHAPES = [(5, 4), (5,), (3, 5), (3,)]
CNN_SHAPES = [(2, 1, 3, 3), (2,), (3, 8), (3,)]


def _mlp_loss(m, F, x, y):
    def loss(theta):
        w1, b1, w2, b2 = _unflatten(m, theta, MLP_SHAPES)
        hidden = F.linear(m.tensor(x, dtype=m.float64), w1, b1).tanh()
        return F.cross_entropy(F.linear(hidden, w2, b2), m.tensor(y))

    return loss


def _cnn_loss(m, F, x, y):
    def loss(theta):
        w1, b1, w2, b2 = _unflatten(m, theta, CNN_SHAPES)
        maps = F.relu(F.conv2d(m.tensor(x, dtype=m.float64), w1, b1, stride=1, padding=1))
        pooled = F.max_pool2d(maps, 3, stride=2)  # (N, 2, 2, 2): overlapping windows
        return F.cross_entropy(F.linear(pooled.reshape(x.shape[0], -1), w2, b2), m.tensor(y))

    return loss


NETWORKS = {
    "mlp": (_mlp_loss, MLP_SHAPES, (6, 4)),
    "cnn": (_cnn_loss, CNN_SHAPES, (3, 1, 5, 5)),
}


def _network(name: str, seed: int = 0):
    make_loss, shapes, x_shape = NETWORKS[name]
    rng = np.random.default_rng(seed)
    size = sum(int(np.prod(s)) for s in shapes)
    theta = rng.standard_normal(size) * 0.7
    x, y = rng.standard_normal(x_shape), rng.integers(0, 3, x_shape[0]).astype(np.int64)
    return make_loss, theta, x, y, rng.standard_normal(size)


@pytest.mark.parametrize("name", NETWORKS)
def test_network_hessian_matches_torch(name):
    make_loss, theta, x, y, _ = _network(name)
    params = ds.tensor(theta, dtype=ds.float64)
    ours = ds.autograd.functional.hessian(make_loss(ds, F, x, y), params)
    theirs = torch.autograd.functional.hessian(make_loss(torch, torch_F, x, y), torch.tensor(theta))
    assert ours.shape == (theta.size, theta.size)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(ours.numpy(), ours.numpy().T, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", NETWORKS)
def test_network_hvp_is_hessian_times_v(name):
    make_loss, theta, x, y, v = _network(name, seed=1)
    loss = make_loss(ds, F, x, y)
    params = ds.tensor(theta, dtype=ds.float64)
    value, product = ds.autograd.functional.hvp(loss, params, ds.tensor(v, dtype=ds.float64))
    hessian = ds.autograd.functional.hessian(loss, params).numpy()
    np.testing.assert_allclose(product.numpy(), hessian @ v, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(value.numpy(), loss(params).numpy(), rtol=1e-12)
