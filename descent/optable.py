"""The one table of differentiable ops: it drives ``descent gradcheck`` and the op tests.

Each row names an op of the public API and gives one expression written once for both
frameworks: ``fn(m, F, *xs)`` is called with ``m = descent, F = descent.nn.functional``
and with ``m = torch, F = torch.nn.functional``, so the same line is checked against
PyTorch and by gradcheck. Rows whose op has no PyTorch twin give ``torch_fn``, the same
computation written with torch; ``torch_fn=None`` means "no torch twin, gradcheck only"
(and a closed-form test elsewhere).

``shapes`` lists the shape cases; ``make(rng, shape)`` builds one input array (default:
standard normal); ``draw`` lets hypothesis draw more shapes: ``"any"`` one input of any
shape, ``"pair"`` two inputs of mutually broadcastable shapes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


def normal(rng, shape):
    return rng.standard_normal(shape)


def positive(rng, shape):
    return rng.uniform(0.5, 2.0, shape)


def away_from_zero(rng, shape):
    """Values with |x| in [0.3, 2] (kinks of abs, relu, clamp at 0 are avoided)."""
    return rng.uniform(0.3, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


def distinct(rng, shape):
    """A random permutation of well-separated values: no ties for max/min."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.37 - n * 0.15).reshape(shape)


def within_one(rng, shape):
    """Values in (-1, 1): tan stays far from its poles."""
    return rng.uniform(-1.0, 1.0, shape)


def probabilities(rng, shape):
    return rng.uniform(0.05, 0.95, shape)


def labels(num_classes: int):
    def make(rng, shape):
        return rng.integers(0, num_classes, shape).astype(np.int64)

    return make


def _permutations(n: int):
    """Index rows that are each a permutation of 0 .. n-1 (no repeats: scatter is exact)."""

    def make(rng, shape):
        return np.stack([rng.permutation(n)[: shape[-1]] for _ in range(shape[0])]).astype(np.int64)

    return make


def with_zeros(rng, shape):
    """Standard normal values with about a quarter of them exactly 0 (products' edge case)."""
    x = rng.standard_normal(shape)
    return np.where(rng.random(shape) < 0.25, 0.0, x)


def binary_targets(rng, shape):
    return rng.integers(0, 2, shape).astype(np.float64)


def signs(rng, shape):
    """Targets of -1 and 1 (margin and ranking losses)."""
    return rng.choice([-1.0, 1.0], shape)


@dataclass
class Op:
    """One row: an API name and the expression that exercises it."""

    name: str
    fn: Callable
    shapes: list  # each case: a tuple with one shape per input
    make: tuple | Callable = normal  # one maker for all inputs, or one per input
    torch_fn: Callable | None | str = "same"  # "same": fn itself runs on torch
    draw: str | None = None  # "any" | "pair": hypothesis draws further shapes
    atol: float = 1e-7
    rtol: float = 1e-6
    no_grad_inputs: tuple = field(default_factory=tuple)  # indices never differentiated

    def makers(self, n: int) -> list:
        return list(self.make) if isinstance(self.make, tuple) else [self.make] * n

    def differentiable(self, i: int, array: np.ndarray) -> bool:
        """Whether input ``i`` (this array) is differentiated: floating and not excluded."""
        return array.dtype.kind == "f" and i not in self.no_grad_inputs


S = ((),)  # one 0-d input
U = [((3, 4),), ((),), ((1, 5),), ((2, 3, 4),)]  # unary shape cases
B = [  # binary shape cases, broadcasting included
    ((3, 4), (3, 4)),
    ((), ()),
    ((1, 5), (5, 1)),
    ((2, 3, 4), (4,)),
    ((3, 1), ()),
]
R = [((3, 4),), ((2, 3, 4),), ((5,),)]  # reduction shape cases

# fmt: off
CORE = [
    # ---- operators
    Op("Tensor.__add__", lambda m, F, a, b: a + b, B, draw="pair"),
    Op("Tensor.__sub__", lambda m, F, a, b: a - b, B, draw="pair"),
    Op("Tensor.__mul__", lambda m, F, a, b: a * b, B, draw="pair"),
    Op("Tensor.__truediv__", lambda m, F, a, b: a / b, B, (normal, away_from_zero), draw="pair"),
    Op("Tensor.__pow__", lambda m, F, a, b: a**b, B, (positive, normal), draw="pair"),
    Op("Tensor.__matmul__", lambda m, F, a, b: a @ b,
       [((3, 4), (4, 5)), ((4,), (4, 2)), ((3, 4), (4,)), ((4,), (4,)), ((2, 3, 4), (4, 2)),
        ((2, 1, 3, 4), (5, 4, 2))]),
    Op("Tensor.__radd__", lambda m, F, a: 1.5 + a, U, draw="any"),
    Op("Tensor.__rmul__", lambda m, F, a: 3.0 * a, U, draw="any"),
    Op("Tensor.__rmatmul__", lambda m, F, a: m.ones((2, 3), dtype=a.dtype).numpy() @ a,
       [((3, 3),), ((3,),)], torch_fn=lambda m, F, a: m.ones((2, 3), dtype=a.dtype) @ a),
    Op("Tensor.__abs__", lambda m, F, a: abs(a), U, away_from_zero, draw="any"),
    Op("Tensor.__neg__", lambda m, F, a: -a, U, draw="any"),
    Op("Tensor.__getitem__", lambda m, F, a: a[1:, ::2] * a[[0, 2, 0], [1, 1, 1]].sum(),
       [((3, 4),), ((4, 5, 2),)]),
    Op("Tensor.__rsub__", lambda m, F, a: 2.5 - a, U, draw="any"),
    Op("Tensor.__rtruediv__", lambda m, F, a: 1.5 / a, U, away_from_zero, draw="any"),
    Op("Tensor.__rpow__", lambda m, F, a: 2.0**a, U, draw="any"),
    # ---- elementwise
    Op("exp", lambda m, F, a: m.exp(a), U, draw="any"),
    Op("log", lambda m, F, a: m.log(a), U, positive, draw="any"),
    Op("sqrt", lambda m, F, a: m.sqrt(a), U, positive, draw="any"),
    Op("abs", lambda m, F, a: m.abs(a), U, away_from_zero, draw="any"),
    Op("sin", lambda m, F, a: m.sin(a), U, draw="any"),
    Op("cos", lambda m, F, a: m.cos(a), U, draw="any"),
    Op("tanh", lambda m, F, a: m.tanh(a), U, draw="any"),
    Op("sigmoid", lambda m, F, a: m.sigmoid(a), U, draw="any"),
    Op("erf", lambda m, F, a: m.erf(a) + a.erf() * m.special.erf(a * 3.0),
       U + [((20, 20),)], draw="any"),
    Op("relu", lambda m, F, a: m.relu(a), U, away_from_zero, draw="any"),
    Op("clamp", lambda m, F, a: m.clamp(a, -0.5, 1.0) + a.clamp(min=0.2), U, away_from_zero,
       draw="any"),
    Op("pow", lambda m, F, a, b: m.pow(a, b) + a.pow(3), B, (positive, normal), draw="pair"),
    Op("maximum", lambda m, F, a, b: m.maximum(a, b), B, draw="pair"),
    Op("minimum", lambda m, F, a, b: m.minimum(a, b), B, draw="pair"),
    Op("where", lambda m, F, a, b: m.where(a > 0, a, b), B, draw="pair"),
    # ---- reductions
    Op("sum", lambda m, F, a: m.sum(a) + a.sum(dim=-1, keepdim=True).sum(), R + [S]),
    Op("mean", lambda m, F, a: m.mean(a, dim=0) * a.mean(), R + [S]),
    Op("var", lambda m, F, a: m.var(a, dim=-1, keepdim=True) + a.var(), R),
    Op("max", lambda m, F, a: m.max(a) + a.max(dim=-1).values.sum(), R + [S], distinct),
    Op("min", lambda m, F, a: m.min(a) + a.min(dim=0, keepdim=True).values.sum(), R + [S], distinct),
    Op("logsumexp", lambda m, F, a: m.logsumexp(a, dim=-1), R),
    Op("softmax", lambda m, F, a: m.softmax(a, dim=-1), R),
    Op("log_softmax", lambda m, F, a: m.log_softmax(a, dim=0), R),
    # ---- shape
    Op("reshape", lambda m, F, a: m.reshape(a, (4, 3)) * a.reshape(2, 6)[0, 0],
       [((3, 4),), ((12,),)]),
    Op("view", lambda m, F, a: a.view(-1, 2) * a.view((2, -1))[0, 0] + a.view(size=(6, 2)),
       [((3, 4),), ((2, 2, 3),)]),  # ds.view is Tensor.view (torch has no function of it)
    Op("flatten", lambda m, F, a: m.flatten(a, 1), [((2, 3, 4),), ((3, 4),)]),
    Op("transpose", lambda m, F, a: m.transpose(a, 0, -1), [((3, 4),), ((2, 3, 4),)]),
    Op("permute", lambda m, F, a: m.permute(a, (2, 0, 1)), [((2, 3, 4),)]),
    Op("Tensor.T", lambda m, F, a: a.T, [((3, 4),), ((1, 5),)]),
    Op("squeeze", lambda m, F, a: m.squeeze(a, 1) * a.squeeze().sum(), [((3, 1, 4),), ((1, 1, 2),)]),
    Op("unsqueeze", lambda m, F, a: m.unsqueeze(a, -1), U),
    Op("expand", lambda m, F, a: a.expand(2, 3, 4), [((3, 1),), ((4,),), ((1, 3, 4),)]),
    Op("matmul", lambda m, F, a, b: m.matmul(a, b), [((3, 4), (4, 5)), ((5, 3, 4), (4, 2))]),
    Op("cat", lambda m, F, a, b: m.cat([a, b, a], dim=1), [((2, 3), (2, 4)), ((2, 1, 3), (2, 2, 3))]),
    Op("stack", lambda m, F, a, b: m.stack([a, b], dim=-1), [((2, 3), (2, 3)), ((), ())]),
    Op("pad", lambda m, F, a: F.pad(a, (1, 2, 0, 1), value=0.5), [((3, 4),), ((2, 3, 4),)]),
    # ---- PyTorch's named forms and further methods
    Op("add", lambda m, F, a, b: m.add(a, b, alpha=0.5) + a.add(b) + m.add(input=a, other=2.0),
       B, draw="pair"),
    Op("sub", lambda m, F, a, b: m.sub(a, b, alpha=2) + a.sub(b), B, draw="pair"),
    Op("mul", lambda m, F, a, b: m.mul(a, b) + a.mul(other=3.0), B, draw="pair"),
    Op("div", lambda m, F, a, b: m.div(a, b) + a.div(2.0), B, (normal, away_from_zero),
       draw="pair"),
    Op("masked_fill", lambda m, F, a, b: m.masked_fill(a, b > 0, -1.5) + a.masked_fill(a < 0, 0.0),
       [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 3, 4), (1, 4)), ((), ())]),
    Op("mm", lambda m, F, a, b: m.mm(a, b) + a.mm(b), [((3, 4), (4, 5)), ((1, 2), (2, 1))]),
    Op("einsum", lambda m, F, a, b: _cat(
        m, m.einsum("ij,jk->ik", a, a), m.einsum("ij,jk", a, a), m.einsum("ij->j", a),
        m.einsum("ij,jk->", a, a), m.einsum("ij,kl->ijkl", a, a), m.einsum("ij,jk->kj", [a, a]),
        m.einsum("ii->i", a), m.einsum("ii", a), m.einsum("bij,bjk->bik", b, b),
        m.einsum("ij,bjj->bi", a, b), m.einsum("bij->", b),
        m.einsum("...ij,...jk->...ik", b, a), m.einsum("...ij,jk", b, a), m.einsum("b...->...b", b),
        m.einsum("...ii->...i", b), m.einsum("i...,i...->...", a, b[0]), m.einsum("...", a),
        m.einsum("bij,jk->bik", b, a[:1]), m.einsum("...j,...j->...", b, a[:1])),
       [((3, 3), (2, 3, 3)), ((2, 2), (1, 2, 2)), ((1, 1), (3, 1, 1))]),
    Op("t", lambda m, F, a: m.t(a) * a.t().sum(), [((3, 4),), ((4,),), ((),)]),
    Op("std", lambda m, F, a: m.std(a, dim=-1, keepdim=True) + a.std() + a.std(0, correction=0).sum(),
       R),
    Op("sort", lambda m, F, a: m.sort(a).values + a.sort(dim=0, descending=True).values,
       [((3, 4),), ((2, 3, 4),), ((5,),)], distinct),
    Op("topk", lambda m, F, a: m.topk(a, 2).values.sum() + a.topk(2, dim=0, largest=False).values,
       [((3, 4),), ((2, 3, 4),)], distinct),
    Op("gather", lambda m, F, a, i: m.gather(a, 1, i) + a.gather(dim=1, index=i),
       [((3, 4), (3, 5)), ((2, 4), (1, 3))], (normal, labels(4))),
    Op("scatter", lambda m, F, a, b, i: m.scatter(a, 1, i[:, :2], b[:, :2]) + a.scatter(0, i[:1], 0.5),
       [((4, 4), (4, 4), (4, 4))], (normal, normal, _permutations(4))),
    Op("scatter_add", lambda m, F, a, b, i: m.scatter_add(a, 1, i, b) + a.scatter_add(0, i, b),
       [((3, 4), (3, 4), (3, 4)), ((4, 4), (2, 3), (2, 3))], (normal, normal, labels(3))),
    Op("split", lambda m, F, a: _cat(m, *m.split(a, 2, dim=1), *a.split([1, 2], 0)),
       [((3, 5),), ((3, 4, 2),)]),
    Op("chunk", lambda m, F, a: _cat(m, *m.chunk(a, 2, dim=-1), *a.chunk(3)), [((3, 5),), ((4, 4),)]),
    # ---- remainder, rounding and the dot product
    Op("remainder", lambda m, F, a, b: a % b + m.remainder(a, 0.7) + a.remainder(b),
       B, (normal, away_from_zero), draw="pair"),
    Op("floor_divide", lambda m, F, a, b: a * m.floor_divide(a.detach(), b) + a * (a.detach() // 0.5)
       + a * (1.5 // b), B, (normal, away_from_zero), no_grad_inputs=(1,)),
    Op("floor", lambda m, F, a: a * m.floor(a) + a.floor(), U, draw="any"),
    Op("ceil", lambda m, F, a: a * m.ceil(a) + a.ceil(), U, draw="any"),
    Op("round", lambda m, F, a: a * m.round(a) + a.round() + a * m.round(a, decimals=1), U,
       draw="any"),
    Op("trunc", lambda m, F, a: a * m.trunc(a * 2.0) + a.trunc(), U, draw="any"),
    Op("sign", lambda m, F, a: a * m.sign(a) + a.sign(), U, away_from_zero, draw="any"),
    Op("dot", lambda m, F, a, b: m.dot(a, b) + a.dot(b) * 2.0, [((4,), (4,)), ((1,), (1,))]),
    # ---- composites: powers, logarithms, tan, one-sided clamps
    Op("square", lambda m, F, a: m.square(a) + a.square() * 0.5, U, draw="any"),
    Op("rsqrt", lambda m, F, a: m.rsqrt(a) + a.rsqrt() * 0.5, U, positive, draw="any"),
    Op("reciprocal", lambda m, F, a: m.reciprocal(a) + a.reciprocal() * 0.5, U, away_from_zero,
       draw="any"),
    Op("log1p", lambda m, F, a: m.log1p(a) + a.log1p() * 0.5, U, positive, draw="any"),
    Op("expm1", lambda m, F, a: m.expm1(a) + a.expm1() * 0.5, U, draw="any"),
    Op("log2", lambda m, F, a: m.log2(a) + a.log2() * 0.5, U, positive, draw="any"),
    Op("log10", lambda m, F, a: m.log10(a) + a.log10() * 0.5, U, positive, draw="any"),
    Op("tan", lambda m, F, a: m.tan(a) + a.tan() * 0.5, U, within_one, draw="any"),
    Op("clamp_min", lambda m, F, a: m.clamp_min(a, 0.0) + a.clamp_min(-1.0) * 0.5, U,
       away_from_zero, draw="any"),
    Op("clamp_max", lambda m, F, a: m.clamp_max(a, 0.0) + a.clamp_max(1.0) * 0.5, U,
       away_from_zero, draw="any"),
    # ---- reductions and scans
    Op("amax", lambda m, F, a: _cat(m, m.amax(a), a.amax(-1), m.amax(a, (0,), keepdim=True)),
       R, distinct),
    Op("amin", lambda m, F, a: _cat(m, m.amin(a), a.amin(0), m.amin(a, -1, keepdim=True)),
       R, distinct),
    Op("cumsum", lambda m, F, a: _cat(m, m.cumsum(a, 0), a.cumsum(-1) * 0.5), R),
    Op("prod", lambda m, F, a: _cat(m, m.prod(a), a.prod(-1), m.prod(a, 0, keepdim=True)), R,
       away_from_zero),
    Op("norm", lambda m, F, a: _cat(m, m.norm(a), a.norm(dim=-1), a.norm("fro", dim=0),
       m.norm(a, 2, -1, keepdim=True), a.norm(1, dim=0), a.norm(3)), R, away_from_zero),
    # ---- shapes
    Op("flip", lambda m, F, a: m.flip(a, (0,)) * a + a.flip(-1, 0) * 0.5,
       [((3, 4),), ((2, 3, 4),)]),
    Op("movedim", lambda m, F, a: _cat(m, m.movedim(a, 0, -1), a.movedim((0, 1), (-1, 0)) * 0.5),
       [((2, 3, 4),)]),
    Op("narrow", lambda m, F, a: _cat(m, m.narrow(a, -1, 1, 2), a.narrow(0, -2, 2) * 0.5),
       [((3, 4),), ((2, 3, 4),)]),
    Op("index_select", lambda m, F, a: _cat(m, m.index_select(a, 0, m.tensor([1, 0, 1])),
       a.index_select(-1, m.tensor([3, 0])) * 0.5), [((3, 4),), ((2, 3, 4),)]),
    Op("broadcast_to", lambda m, F, a: m.broadcast_to(a, (2, 3, 4)) * 1.5 + a.broadcast_to((3, 4)),
       [((3, 4),), ((1, 4),), ((3, 1),)]),
    Op("neg", lambda m, F, a: m.neg(a) * a + a.negative(), R),
    Op("Tensor.repeat", lambda m, F, a: _cat(m, a.repeat(2, 1, 3), a.repeat(1, 2)),
       [((3, 4),), ((1, 5),)]),
    Op("tril", lambda m, F, a: m.tril(a) + a.tril(-1) * 0.5 + m.tril(a, 2) * 0.25,
       [((3, 4),), ((2, 4, 3),)]),
    Op("triu", lambda m, F, a: m.triu(a) + a.triu(1) * 0.5 + m.triu(a, -1) * 0.25,
       [((3, 4),), ((2, 4, 3),)]),
    # ---- products
    Op("outer", lambda m, F, a, b: m.outer(a, b) + a.outer(b) * 0.5, [((3,), (4,)), ((1,), (2,))]),
    Op("bmm", lambda m, F, a, b: m.bmm(a, b) + a.bmm(b) * 0.5, [((2, 3, 4), (2, 4, 5)),
       ((1, 1, 2), (1, 2, 1))]),
    Op("mv", lambda m, F, a, b: m.mv(a, b) + a.mv(b) * 0.5, [((3, 4), (4,)), ((1, 2), (2,))]),
    # ---- stacking, rolling, repeating, picking
    Op("hstack", lambda m, F, a, b: m.hstack([a, b, a]) * 1.5,
       [((3, 4), (3, 2)), ((3,), (2,)), ((), ()), ((2, 1, 3), (2, 2, 3))]),
    Op("vstack", lambda m, F, a, b: m.vstack((a, b)) + m.row_stack([b, a]),
       [((3, 4), (3, 4)), ((3,), (3,)), ((), ()), ((2, 3, 4), (2, 3, 4))]),
    Op("dstack", lambda m, F, a, b: m.dstack([a, b]) * 1.5,
       [((3, 4), (3, 4)), ((3,), (3,)), ((), ()), ((2, 3, 1), (2, 3, 2))]),
    Op("column_stack", lambda m, F, a, b: m.column_stack([a, b, a]) * 1.5,
       [((3, 4), (3,)), ((3,), (3,)), ((), ()), ((2, 3), (2, 1))]),
    Op("atleast_1d", lambda m, F, a: _cat(m, m.atleast_1d(a), m.atleast_2d(a), m.atleast_3d(a))
       + m.atleast_3d(a).sum(), U),
    Op("atleast_2d", lambda m, F, a: m.atleast_2d(a) * 1.5, U),
    Op("atleast_3d", lambda m, F, a: m.atleast_3d(a) * 1.5, U),
    Op("roll", lambda m, F, a: m.roll(a, 1) + a.roll(-2, 0) * 0.5 + m.roll(a, (1, 5), (0, -1)),
       [((3, 4),), ((2, 3, 4),), ((1, 5),)]),
    Op("repeat_interleave", lambda m, F, a: _cat(m, m.repeat_interleave(a, 2),
       a.repeat_interleave(m.tensor([1, 0, 2]), dim=0), a.repeat_interleave(3, -1)),
       [((3, 4),), ((3,),), ((3, 2, 2),)]),
    Op("take_along_dim", lambda m, F, a, i: _cat(m, m.take_along_dim(a, i, dim=1),
       a.take_along_dim(i), m.take_along_dim(a, i, -1)),
       [((3, 4), (3, 5)), ((3, 4), (1, 2)), ((1, 4), (3, 2))], (normal, labels(4))),
    Op("masked_select", lambda m, F, a, b: _cat(m, m.masked_select(a, b > 0),
       a.masked_select(a < 0.5)), [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), ())]),
    Op("select", lambda m, F, a: m.select(a, 1, -1) + a.select(0, 1).sum(),
       [((3, 4),), ((2, 3, 4),)]),
    Op("unbind", lambda m, F, a: _cat(m, *m.unbind(a), *a.unbind(-1)), [((3, 4),), ((2, 3, 4),)]),
    Op("tensor_split", lambda m, F, a: _cat(m, *m.tensor_split(a, 3, dim=1),
       *a.tensor_split([1, 3]), *a.tensor_split((1,), -1)), [((4, 5),), ((3, 4, 2),)]),
    Op("index_add", lambda m, F, a, s: m.index_add(a, 0, m.tensor([0, 2, 0]), s)
       + a.index_add(0, m.tensor([1, 1, 2]), s, alpha=0.5), [((3, 4), (3, 4)), ((4, 2), (3, 2))]),
    Op("index_fill", lambda m, F, a: m.index_fill(a, 1, m.tensor([0, 2]), -1.0)
       + a.index_fill(0, m.tensor([1]), 2.5), [((3, 4),), ((2, 3, 4),)]),
    # ---- diagonals and grids
    Op("diag", lambda m, F, a: _cat(m, m.diag(a), a.diag(1), m.diag(a, diagonal=-1)),
       [((3, 4),), ((4,),), ((1,),), ((4, 2),)]),
    Op("diagonal", lambda m, F, a: _cat(m, m.diagonal(a), a.diagonal(1),
       a.diagonal(offset=-1, dim1=-1, dim2=0)), [((3, 4),), ((2, 3, 4),)]),
    Op("trace", lambda m, F, a: m.trace(a) + a.trace() * 0.5, [((3, 4),), ((4, 3),), ((1, 1),)]),
    Op("meshgrid", lambda m, F, a, b: _cat(m, *m.meshgrid(a, b, indexing="ij"),
       *m.meshgrid([a, b], indexing="xy"), *m.meshgrid(b, a, a, indexing="xy")),
       [((3,), (4,)), ((1,), (2,)), ((), (3,))]),
    Op("Tensor.mT", lambda m, F, a: a.mT * 1.5 + a.mH.mT.mT, [((3, 4),), ((2, 3, 4),)]),
    # ---- products
    Op("addmm", lambda m, F, c, a, b: m.addmm(c, a, b) + m.addmm(c, a, b, beta=0.5, alpha=2.0)
       + c.addmm(a, b, beta=0), [((3, 5), (3, 4), (4, 5)), ((5,), (3, 4), (4, 5)), ((), (2, 2), (2, 2))]),
    Op("baddbmm", lambda m, F, c, a, b: m.baddbmm(c, a, b) + c.baddbmm(a, b, beta=2.0, alpha=-0.5),
       [((2, 3, 5), (2, 3, 4), (2, 4, 5)), ((3, 1), (2, 3, 2), (2, 2, 1)), ((), (1, 2, 2), (1, 2, 2))]),
    Op("cross", lambda m, F, a, b: _cat(m, m.cross(a, b, dim=-1), a.cross(b, -1) * 0.5),
       [((4, 3), (4, 3)), ((3,), (3,)), ((2, 4, 3), (1, 4, 3)), ((1, 3), (5, 3))]),
    Op("kron", lambda m, F, a, b: m.kron(a, b) * 1.5 + a.kron(b),
       [((2, 3), (3, 2)), ((3,), (2, 2)), ((), (2,)), ((2, 1, 2), (2, 3))]),
    # ---- interpolation, replacement, angles
    Op("lerp", lambda m, F, a, b, w: m.lerp(a, b, 0.3) + a.lerp(b, w),
       [((3, 4), (3, 4), (3, 4)), ((), (), ()), ((2, 3, 4), (4,), (3, 1)), ((1, 4), (3, 1), ())]),
    Op("nan_to_num", lambda m, F, a: m.nan_to_num(a) + a.nan_to_num(nan=1.0, posinf=2.0) * 0.5,
       U, draw="any"),
    Op("atan2", lambda m, F, a, b: m.atan2(a, b) + a.atan2(b) * 0.5 + m.arctan2(a, b * 2.0)
       + a.arctan2(b) * 0.25, B, (normal, away_from_zero), draw="pair"),
    # ---- scans, moments, medians
    Op("cumprod", lambda m, F, a: _cat(m, m.cumprod(a, 0), a.cumprod(-1) * 0.5),
       R + [((9,),), ((2, 7),)], with_zeros),
    Op("var_mean", lambda m, F, a: _cat(m, *m.var_mean(a), *m.var_mean(a, dim=-1, keepdim=True),
       *m.var_mean(a, 0, correction=0), *m.var_mean(a, (0,), False)), R),
    Op("std_mean", lambda m, F, a: _cat(m, *m.std_mean(a), *m.std_mean(a, dim=-1, keepdim=True),
       *m.std_mean(a, 0, correction=0)), R),
    Op("median", lambda m, F, a: _cat(m, m.median(a), a.median(-1).values,
       m.median(a, 0, keepdim=True).values), R + [((4, 2),)], distinct),
]
# fmt: on


# ---- ds.nn.functional ---------------------------------------------------------------------
# Each row exercises several settings of its function at once (strides, paddings, kernel
# shapes, the three reductions), joined into one output so that a random output gradient
# checks them all. relu, sigmoid, tanh, softmax, log_softmax and pad are the ops of
# descent itself, re-exported, so their rows are above.


def _cat(m, *outs):
    """Several outputs of any shapes as one flat tensor."""
    return m.cat([o.reshape(-1) for o in outs])


def _hinge_torch(m, F, s, y, margin, reduction):
    """The lectures' multiclass SVM loss written with torch ops: sum_{j != y} max(0, s_j - s_y + margin)."""
    s2 = s.reshape(-1, s.shape[-1])
    y2 = y.reshape(-1)
    z = (s2 - s2.gather(1, y2[:, None]) + margin).clamp(min=0)
    per_example = (z * (1 - F.one_hot(y2, s2.shape[1]))).sum(1).reshape(y.shape)
    if reduction == "none":
        return per_example
    return per_example.mean() if reduction == "mean" else per_example.sum()


def _hinge_row(m, F, s, y):
    return (
        F.multiclass_hinge_loss(s, y)
        + F.multiclass_hinge_loss(s, y, margin=2.0, reduction="none")
        + F.multiclass_hinge_loss(s, y, 0.5, reduction="sum")
    )


def _hinge_row_torch(m, F, s, y):
    return (
        _hinge_torch(m, F, s, y, 1.0, "mean")
        + _hinge_torch(m, F, s, y, 2.0, "none")
        + _hinge_torch(m, F, s, y, 0.5, "sum")
    )


IMAGES = [  # (input, weight, bias): batch 1, non-square kernels and images, 1x1 and full-size kernels
    ((2, 3, 7, 6), (4, 3, 3, 2), (4,)),
    ((1, 2, 5, 5), (3, 2, 3, 3), (3,)),
    ((2, 1, 4, 5), (2, 1, 1, 1), (2,)),
    ((1, 2, 3, 4), (2, 2, 3, 4), (2,)),
]
POOL = [((2, 3, 6, 5),), ((1, 1, 4, 4),), ((1, 2, 5, 7),)]
SEQUENCES = [  # (input, weight, bias) with 4 input channels so that groups=2 fits; batch 1
    ((2, 4, 9), (6, 4, 3), (6,)),
    ((1, 4, 7), (2, 4, 2), (2,)),
    ((3, 4, 5), (4, 4, 1), (4,)),
    ((1, 4, 5), (2, 4, 5), (2,)),
]
POOL1D = [((2, 3, 7),), ((1, 1, 4),), ((3, 2, 9),)]
PAIR = [((3, 4), (3, 4)), ((1,), (1,)), ((2, 3, 4), (2, 3, 4)), ((), ())]
CLASSES = [  # (input, labels, probabilities, class weight): (N, C), batch 1, (C,), (N, C, d1, d2)
    ((4, 5), (4,), (4, 5), (5,)),
    ((1, 3), (1,), (1, 3), (3,)),
    ((5,), (), (5,), (5,)),
    ((2, 3, 4, 2), (2, 4, 2), (2, 3, 4, 2), (3,)),
]
MARGIN = [((4, 5), (4,), (5,)), ((1, 3), (1,), (3,)), ((6,), (), (6,)), ((3, 3), (3,), (3,))]

# fmt: off
NN = [
    # ---- activations and layers
    Op("F.gelu", lambda m, F, a: F.gelu(a) + F.gelu(a * 2.0, approximate="tanh")
       + F.gelu(a - 1.0, approximate="none"), U + [((20, 20),)], draw="any"),
    Op("F.leaky_relu", lambda m, F, a: F.leaky_relu(a, 0.2) + F.leaky_relu(a),
       [((3, 4),), ((),), ((1, 5),), ((2, 3, 4),)], away_from_zero, draw="any"),
    Op("F.linear", lambda m, F, x, w, b: F.linear(x, w, b) + F.linear(x, w),
       [((4, 3), (5, 3), (5,)), ((1, 3), (2, 3), (2,)), ((2, 3, 4), (5, 4), (5,)),
        ((4,), (3, 4), (3,))]),
    Op("F.conv2d", lambda m, F, x, w, b: _cat(
        m, F.conv2d(x, w, b), F.conv2d(x, w, None, stride=2, padding=1),
        F.conv2d(x, w, b, stride=(2, 1), padding=(0, 1))), IMAGES),
    Op("F.conv1d", lambda m, F, x, w, b: _cat(
        m, F.conv1d(x, w, b), F.conv1d(x, w, None, stride=2, padding=1),
        F.conv1d(x, w, b, padding="same", dilation=2),
        F.conv1d(x, w[:, :2], b, groups=2, padding=(1,), stride=(2,)),
        F.conv1d(x[0], w, b, padding="valid")), SEQUENCES),
    Op("F.max_pool1d", lambda m, F, x: _cat(
        m, F.max_pool1d(x, 2), F.max_pool1d(x, 3, stride=1, padding=1),
        F.max_pool1d(x, (3,), stride=2, padding=1), F.max_pool1d(x[0], 1)), POOL1D, distinct),
    Op("F.avg_pool1d", lambda m, F, x: _cat(
        m, F.avg_pool1d(x, 2), F.avg_pool1d(x, 3, stride=1, padding=1),
        F.avg_pool1d(x, 3, stride=2, padding=1, count_include_pad=False),
        F.avg_pool1d(x[0], (2,), 1)), POOL1D),
    Op("F.max_pool2d", lambda m, F, x: _cat(
        m, F.max_pool2d(x, 2), F.max_pool2d(x, (3, 2), stride=(2, 1), padding=1),
        F.max_pool2d(x, 3, stride=2, padding=1), F.max_pool2d(x, 1)), POOL, distinct),
    Op("F.avg_pool2d", lambda m, F, x: _cat(
        m, F.avg_pool2d(x, 2), F.avg_pool2d(x, (3, 2), stride=(2, 1), padding=1),
        F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)), POOL),
    Op("F.dropout", lambda m, F, a: F.dropout(a, 0.3, training=False) + 2 * F.dropout(a, p=0.0),
       [((3, 4),), ((),), ((2, 3, 4),)], draw="any"),
    Op("F.dropout1d", lambda m, F, a: F.dropout1d(a, 0.3, training=False) + 2 * F.dropout1d(a, p=0.0),
       [((2, 3, 4),), ((3, 4),), ((1, 1, 5),)]),
    Op("F.dropout2d", lambda m, F, a: F.dropout2d(a, 0.3, training=False) + 2 * F.dropout2d(a, p=0.0),
       [((2, 3, 4, 2),), ((1, 1, 3, 3),)]),
    Op("F.adaptive_avg_pool2d", lambda m, F, x: _cat(
        m, F.adaptive_avg_pool2d(x, 1), F.adaptive_avg_pool2d(x, (2, 3)),
        F.adaptive_avg_pool2d(x, output_size=(None, 1)), F.adaptive_avg_pool2d(x, (2, None))),
       [((2, 3, 4, 6),), ((1, 2, 6, 3),), ((3, 4, 6),), ((1, 1, 2, 3),)]),
    Op("F.one_hot", lambda m, F, a, y: a * F.one_hot(y, 4),
       [((3, 4), (3,)), ((2, 5, 4), (2, 5)), ((4,), ())], (normal, labels(4))),
    # ---- more activations (composites) and their settings
    Op("F.softplus", lambda m, F, a: F.softplus(a) + F.softplus(a, beta=2.0, threshold=1.5)
       + F.softplus(a * 3.0, 0.5, 2.0), U, draw="any"),
    Op("F.elu", lambda m, F, a: F.elu(a) + F.elu(a * 2.0, alpha=0.5), U, away_from_zero, draw="any"),
    Op("F.selu", lambda m, F, a: F.selu(a), U, away_from_zero, draw="any"),
    Op("F.celu", lambda m, F, a: F.celu(a) + F.celu(a, alpha=2.0), U, away_from_zero, draw="any"),
    Op("F.silu", lambda m, F, a: F.silu(a), U, draw="any"),
    Op("F.mish", lambda m, F, a: F.mish(a) + F.mish(a * 15.0), U, draw="any"),
    Op("F.hardtanh", lambda m, F, a: F.hardtanh(a) + F.hardtanh(a, min_val=-0.5, max_val=1.5),
       U, away_from_zero, draw="any"),
    Op("F.relu6", lambda m, F, a: F.relu6(a * 4.0 + 0.1), U, away_from_zero, draw="any"),
    Op("F.hardsigmoid", lambda m, F, a: F.hardsigmoid(a * 2.0 + 0.1), U, away_from_zero, draw="any"),
    Op("F.hardswish", lambda m, F, a: F.hardswish(a * 2.0 + 0.1), U, away_from_zero, draw="any"),
    Op("F.softsign", lambda m, F, a: F.softsign(a), U, away_from_zero, draw="any"),
    Op("F.logsigmoid", lambda m, F, a: F.logsigmoid(a) + F.logsigmoid(a * 30.0), U, away_from_zero,
       draw="any"),
    Op("F.threshold", lambda m, F, a: F.threshold(a, 0.1, 20.0) + F.threshold(a, -0.5, value=-2.0),
       U, away_from_zero, draw="any"),
    Op("F.softmin", lambda m, F, a: F.softmin(a, dim=-1) + F.softmin(a, 0), R),
    Op("F.prelu", lambda m, F, x, w: _cat(m, F.prelu(x, w), F.prelu(x, w[:1])),
       [((2, 3, 4), (3,)), ((4, 3), (3,)), ((3,), (1,)), ((), (1,)), ((2, 3, 2, 2), (3,))],
       away_from_zero),
    # ---- regression and binary losses: all three reductions in one expression
    Op("F.mse_loss", lambda m, F, a, b: F.mse_loss(a, b) + 0.5 * F.mse_loss(a, b, reduction="sum")
       + F.mse_loss(a, b, reduction="none"), PAIR),
    Op("F.l1_loss", lambda m, F, a, b: F.l1_loss(a, b) + 0.5 * F.l1_loss(a, b, reduction="sum")
       + F.l1_loss(a, b, reduction="none"), PAIR),
    Op("F.binary_cross_entropy", lambda m, F, p, y, w: F.binary_cross_entropy(p, y)
       + F.binary_cross_entropy(p, y, w, reduction="none")
       + F.binary_cross_entropy(p, y, reduction="sum"),
       [((3, 4), (3, 4), (4,)), ((1,), (1,), (1,)), ((2, 3), (2, 3), (2, 3)), ((), (), ())],
       (probabilities, binary_targets, positive), no_grad_inputs=(2,)),
    Op("F.binary_cross_entropy_with_logits", lambda m, F, x, y, w, q:
       F.binary_cross_entropy_with_logits(x, y, w)
       + F.binary_cross_entropy_with_logits(x, y, pos_weight=q, reduction="none")
       + F.binary_cross_entropy_with_logits(x, y, w, reduction="sum", pos_weight=q),
       [((3, 4), (3, 4), (4,), (4,)), ((5,), (5,), (5,), (1,)), ((1, 2, 3), (1, 2, 3), (2, 3), (3,))],
       (normal, binary_targets, positive, positive), no_grad_inputs=(2, 3)),
    # ---- more losses and distances (composites)
    Op("F.smooth_l1_loss", lambda m, F, a, b: F.smooth_l1_loss(a, b)
       + F.smooth_l1_loss(a, b, beta=0.5, reduction="none") + F.smooth_l1_loss(a, b, reduction="sum",
       beta=2.0) + F.smooth_l1_loss(a, b, beta=0.0), PAIR),
    Op("F.huber_loss", lambda m, F, a, b: F.huber_loss(a, b) + F.huber_loss(a, b, "none", 0.5)
       + F.huber_loss(a, b, reduction="sum", delta=2.0), PAIR),
    Op("F.kl_div", lambda m, F, x, t: F.kl_div(x, t, reduction="batchmean")
       + F.kl_div(x, t, reduction="none") + F.kl_div(x, t, reduction="sum")
       + F.kl_div(x, t.log(), reduction="batchmean", log_target=True)
       + F.kl_div(x, t.log(), log_target=True, reduction="none"),
       PAIR, (normal, probabilities)),
    Op("F.normalize", lambda m, F, a: _cat(m, F.normalize(a), F.normalize(a, dim=0),
       F.normalize(a, p=1.0, dim=-1), F.normalize(a, 3.0, 1)), [((3, 4),), ((2, 3, 4),), ((1, 5),)],
       away_from_zero),
    Op("F.cosine_similarity", lambda m, F, a, b: _cat(m, F.cosine_similarity(a, b),
       F.cosine_similarity(a, b, dim=-1), F.cosine_similarity(a, b[:1], dim=0, eps=1e-6)),
       [((3, 4), (3, 4)), ((2, 3, 4), (2, 3, 4)), ((4, 2), (4, 2))]),
    Op("F.pairwise_distance", lambda m, F, a, b: _cat(m, F.pairwise_distance(a, b),
       F.pairwise_distance(a, b, p=1.0, keepdim=True), F.pairwise_distance(a, b, 3.0, eps=1e-3),
       F.pairwise_distance(a, b[:1])), [((3, 4), (3, 4)), ((2, 3, 4), (2, 3, 4)), ((5,), (5,))]),
    Op("F.margin_ranking_loss", lambda m, F, a, b, y: F.margin_ranking_loss(a, b, y)
       + F.margin_ranking_loss(a, b, y, margin=0.5, reduction="none")
       + F.margin_ranking_loss(a, b, y, 0.2, reduction="sum"),
       [((5,), (5,), (5,)), ((3, 4), (3, 4), (3, 4)), ((), (), ())], (normal, normal, signs),
       no_grad_inputs=(2,)),
    Op("F.hinge_embedding_loss", lambda m, F, a, y: F.hinge_embedding_loss(a, y)
       + F.hinge_embedding_loss(a, y, margin=0.5, reduction="none")
       + F.hinge_embedding_loss(a, y, 2.0, reduction="sum"),
       [((5,), (5,)), ((3, 4), (3, 4)), ((), ())], (normal, signs), no_grad_inputs=(1,)),
    Op("F.soft_margin_loss", lambda m, F, a, y: F.soft_margin_loss(a, y)
       + F.soft_margin_loss(a, y, reduction="none") + F.soft_margin_loss(a, y, reduction="sum"),
       [((5,), (5,)), ((3, 4), (3, 4)), ((), ())], (normal, signs), no_grad_inputs=(1,)),
    Op("F.gaussian_nll_loss", lambda m, F, x, t, v: F.gaussian_nll_loss(x, t, v)
       + F.gaussian_nll_loss(x, t, v, full=True, reduction="none")
       + F.gaussian_nll_loss(x, t, v[..., :1], reduction="sum")
       + F.gaussian_nll_loss(x, t, v[..., 0], eps=0.7),
       [((4, 3), (4, 3), (4, 3)), ((2, 3, 2), (2, 3, 2), (2, 3, 2)), ((5,), (5,), (5,))],
       (normal, normal, positive)),
    Op("F.poisson_nll_loss", lambda m, F, x, t: F.poisson_nll_loss(x, t)
       + F.poisson_nll_loss(x, t, log_input=False, reduction="none")
       + F.poisson_nll_loss(x, t, full=True, reduction="sum")
       + F.poisson_nll_loss(x, t, False, True, eps=1e-3), PAIR, positive),
    # ---- classification losses
    Op("F.cross_entropy", lambda m, F, x, y, t, w: F.cross_entropy(x, y)
       + F.cross_entropy(x, y, w, label_smoothing=0.1, reduction="sum")
       + F.cross_entropy(x, y, w, ignore_index=1, label_smoothing=0.2, reduction="none")
       + F.cross_entropy(x, y, reduction="none", ignore_index=2)
       + F.cross_entropy(x, t, label_smoothing=0.3) + F.cross_entropy(x, t, w, reduction="sum"),
       CLASSES, (normal, labels(3), probabilities, positive), no_grad_inputs=(3,)),
    Op("F.nll_loss", lambda m, F, x, y, w: F.nll_loss(x, y) + F.nll_loss(x, y, w, reduction="sum")
       + F.nll_loss(x, y, w, ignore_index=1, reduction="none"),
       [(x, y, w) for x, y, _, w in CLASSES], (normal, labels(3), positive), no_grad_inputs=(2,)),
    Op("F.multi_margin_loss", lambda m, F, x, y, w: F.multi_margin_loss(x, y)
       + F.multi_margin_loss(x, y, p=2, margin=0.5, weight=w, reduction="none")
       + F.multi_margin_loss(x, y, margin=2.0, reduction="sum"),
       MARGIN, (normal, labels(3), positive), no_grad_inputs=(2,)),
    Op("F.multiclass_hinge_loss", _hinge_row, [(x, y) for x, y, _ in MARGIN],
       (normal, labels(3)), torch_fn=_hinge_row_torch),
    # ---- regularisation
    Op("F.l1_penalty", lambda m, F, a, b: F.l1_penalty([a, b]) + F.l1_penalty(a),
       [((3, 4), (5,)), ((), (2, 2))], away_from_zero,
       torch_fn=lambda m, F, a, b: 2 * a.abs().sum() + b.abs().sum()),
    Op("F.l2_penalty", lambda m, F, a, b: F.l2_penalty(x for x in (a, b)) + F.l2_penalty(b),
       [((3, 4), (5,)), ((), (2, 2))],
       torch_fn=lambda m, F, a, b: (a * a).sum() + 2 * (b * b).sum()),
]
# fmt: on


TABLE = CORE + NN
