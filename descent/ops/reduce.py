"""Reductions and normalisations: sum, mean, var, max/min, logsumexp, softmax, log_softmax."""

from __future__ import annotations

import builtins
from collections import namedtuple

import numpy as np

from .. import compile as _compile
from ..autograd import Function
from ..tensor import Tensor, as_dtype, make_tensor
from . import elementwise as ew
from . import shape
from ._util import expand_reduced, normalize_dim, normalize_dims, spread_to

MaxResult = namedtuple("MaxResult", ["values", "indices"])


class Sum(Function):
    """$f(x) = \\sum_i x_i$ over the axes; each input gets the upstream gradient."""

    @staticmethod
    def forward(ctx, x, *, axes, keepdim):
        ctx.meta = (x.shape, axes, keepdim)
        return np.sum(x, axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        shape, axes, keepdim = ctx.meta
        g = expand_reduced(grad, shape, axes, keepdim)
        return _spread(g, shape, ctx.buffer("grad", g, shape))

    @staticmethod
    def backward_graph(ctx, grad, out):
        shape, axes, keepdim = ctx.meta
        return spread_to(grad, shape, axes, keepdim)


class Mean(Function):
    """$f(x) = \\frac{1}{n} \\sum_i x_i$ over the axes."""

    @staticmethod
    def forward(ctx, x, *, axes, keepdim):
        # NOTE: the sum divided by the count, as np.mean computes it, minus its Python layer
        total = np.add.reduce(x, axis=axes, keepdims=keepdim)
        count = x.size // total.size if total.size else 0
        ctx.meta = (x.shape, axes, keepdim, count)
        return np.true_divide(total, count, dtype=x.dtype) if count else total * np.nan

    @staticmethod
    def backward(ctx, grad):
        shape, axes, keepdim, count = ctx.meta
        g = expand_reduced(grad, shape, axes, keepdim) / np.asarray(count, grad.dtype)
        return _spread(g, shape, ctx.buffer("grad", g, shape))

    @staticmethod
    def backward_graph(ctx, grad, out):
        shape, axes, keepdim, count = ctx.meta
        return spread_to(grad, shape, axes, keepdim) / count


def _spread(g: np.ndarray, shape: tuple, out: np.ndarray | None = None) -> np.ndarray:
    """An array of ``shape`` filled by broadcasting ``g`` (a reduction's gradient): ``out``,
    or a new one."""
    if out is None:
        out = np.empty(shape, g.dtype)
    out[...] = g
    return out


class Amax(Function):
    """$f(x) = \\max_i x_i$ over the axes; ties share the gradient evenly (as torch.amax)."""

    @staticmethod
    def forward(ctx, x, *, axes, keepdim, largest):
        out = (
            np.max(x, axis=axes, keepdims=True) if largest else np.min(x, axis=axes, keepdims=True)
        )
        ctx.save_for_backward(x, out)
        ctx.meta = (axes, keepdim)
        return out if keepdim else np.squeeze(out, axis=axes)

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        axes, keepdim = ctx.meta
        hit = x == out
        count = np.sum(hit, axis=axes, keepdims=True)
        g = expand_reduced(grad, x.shape, axes, keepdim)
        return (hit * (g / count)).astype(x.dtype, copy=False)

    @staticmethod
    def backward_graph(ctx, grad, out):
        x, top = ctx.saved_tensors  # where the extremes are is constant: amax is piecewise linear
        axes, keepdim = ctx.meta
        hit = x == top
        return spread_to(grad, x.shape, axes, keepdim) / np.sum(hit, axis=axes, keepdims=True) * hit


class MaxAlongDim(Function):
    """Values at given indices along one dim (max/min with ``dim``); the gradient goes there."""

    @staticmethod
    def forward(ctx, x, *, indices, dim, keepdim):
        idx = indices if keepdim else np.expand_dims(indices, dim)  # indices in keepdim's shape
        ctx.meta = (x.shape, idx, dim)
        out = np.take_along_axis(x, idx, axis=dim)
        return out if keepdim else np.squeeze(out, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        shape, idx, dim = ctx.meta
        g = grad if grad.ndim == len(shape) else np.expand_dims(grad, dim)
        out = np.zeros(shape, grad.dtype)
        np.put_along_axis(out, idx, g, axis=dim)
        return out

    @staticmethod
    def backward_graph(ctx, grad, out):
        shape, idx, dim = ctx.meta
        picked = np.zeros(shape, bool)  # constant: which element each index picks
        np.put_along_axis(picked, idx, True, axis=dim)
        return spread_to(grad, shape, (dim,), grad.ndim == len(shape)) * picked


class LogSumExp(Function):
    """$f(x) = \\log \\sum_i e^{x_i}$ as $m + \\log \\sum e^{x - m}$; $f' = softmax(x)$."""

    @staticmethod
    def forward(ctx, x, *, axes, keepdim):
        m = np.max(x, axis=axes, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)  # all -inf (or inf) rows: no shift
        out = np.log(np.sum(np.exp(x - m), axis=axes, keepdims=True)) + m
        ctx.save_for_backward(x, out)
        ctx.meta = (axes, keepdim)
        return out if keepdim else np.squeeze(out, axis=axes)

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        axes, keepdim = ctx.meta
        g = expand_reduced(grad, x.shape, axes, keepdim)
        return g * np.exp(x - out)

    @staticmethod
    def backward_graph(ctx, grad, out):
        (x,) = ctx.inputs
        axes, keepdim = ctx.meta
        softmax = (x - spread_to(out, x.shape, axes, keepdim)).exp()
        return spread_to(grad, x.shape, axes, keepdim) * softmax


class Softmax(Function):
    """$s_i = e^{x_i} / \\sum_j e^{x_j}$; $dx = s (g - \\sum_j g_j s_j)$"""

    @staticmethod
    def forward(ctx, x, *, dim):
        e = np.exp(x - np.max(x, axis=dim, keepdims=True))
        out = e / np.sum(e, axis=dim, keepdims=True)
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx, grad):
        (s,) = ctx.saved_tensors
        return s * (grad - np.sum(grad * s, axis=ctx.dim, keepdims=True))

    @staticmethod
    def backward_graph(ctx, grad, out):
        return out * (grad - (grad * out).sum(dim=ctx.dim, keepdim=True))


class LogSoftmax(Function):
    """$y_i = x_i - \\log \\sum_j e^{x_j}$; $dx = g - softmax(x) \\sum_j g_j$"""

    @staticmethod
    def forward(ctx, x, *, dim):
        shifted = x - np.max(x, axis=dim, keepdims=True)
        out = shifted - np.log(np.sum(np.exp(shifted), axis=dim, keepdims=True))
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad - np.exp(out) * np.sum(grad, axis=ctx.dim, keepdims=True)

    @staticmethod
    def backward_graph(ctx, grad, out):
        return grad - out.exp() * grad.sum(dim=ctx.dim, keepdim=True)


# ---- the functional forms -----------------------------------------------------------------


def _as(input: Tensor, dtype) -> Tensor:  # noqa: A002
    """PyTorch's ``dtype=`` of a reduction: the input cast to it first (differentiably)."""
    return input if dtype is None else ew.cast(input, as_dtype(dtype))


def sum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A001, A002
    """Sum over ``dim`` (an int, a tuple, or None for all), in ``dtype`` if given."""
    if dtype is not None:
        input = _as(input, dtype)  # noqa: A001
    return Sum.apply(input, axes=normalize_dims(dim, input.ndim, "sum"), keepdim=keepdim)


def mean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A002
    """Arithmetic mean over ``dim`` (an int, a tuple, or None for all), in ``dtype`` if given."""
    if dtype is not None:
        input = _as(input, dtype)  # noqa: A001
    if input.dtype.kind != "f":
        raise TypeError(
            f"mean: needs a floating tensor, got {input.dtype}; use x.float().mean() or "
            f"mean(dtype=ds.float32)"
        )
    return Mean.apply(input, axes=normalize_dims(dim, input.ndim, "mean"), keepdim=keepdim)


def _correction(name: str, dim, unbiased, correction) -> tuple:
    """PyTorch's two spellings of the divisor: ``unbiased`` (a bool; also ``var(x, True)``,
    where it stands in dim's place) or ``correction`` (n - correction), never both."""
    if isinstance(dim, bool):  # var(x, False): the old signature var(input, unbiased)
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError(f"{name}(): give unbiased or correction, not both")
    if unbiased is not None:
        return dim, 1 if unbiased else 0
    return dim, 1 if correction is None else correction


def var(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *,  # noqa: A002
        correction=None) -> Tensor:  # fmt: skip
    """Variance over ``dim``: $\\sum (x - \\bar x)^2 / (n - correction)$ (PyTorch's default 1;
    ``unbiased=False`` is correction 0). Positional arguments follow PyTorch's
    ``var(input, dim, unbiased, keepdim)``."""
    dim, correction = _correction("var", dim, unbiased, correction)
    axes = normalize_dims(dim, input.ndim, "var")
    n = input._data.size if axes is None else int(np.prod([input.shape[a] for a in axes]))
    centred = input - mean(input, dim=axes, keepdim=True)
    return sum(centred * centred, dim=axes, keepdim=keepdim) / builtins.max(n - correction, 0)


def _extreme(x: Tensor, dim, keepdim: bool, largest: bool, name: str, other=None):
    if other is not None:  # max(input, other=...): the elementwise maximum
        if dim is not None:
            raise TypeError(f"{name}(): give dim or other, not both")
        dim = other
    if isinstance(dim, Tensor):  # ds.max(a, b) is the elementwise maximum, as in PyTorch
        return ew.maximum(x, dim) if largest else ew.minimum(x, dim)
    if x._data.size == 0:
        raise RuntimeError(f"{name}: the tensor is empty, so it has no {name}imum")
    if dim is None or isinstance(dim, (tuple, list)):
        axes = normalize_dims(dim, x.ndim, name)
        return Amax.apply(x, axes=axes, keepdim=keepdim, largest=largest)
    d = normalize_dim(dim, x.ndim, name)
    if d is None:  # a 0-d tensor: its one element, at index 0
        return MaxResult(Amax.apply(x, axes=None, keepdim=False, largest=largest), argmax(x))
    indices = ew.computed(_arg_extreme, x, axis=d, keepdims=keepdim, largest=largest)
    values = MaxAlongDim.apply(x, indices=indices._data, dim=d, keepdim=keepdim)
    return MaxResult(values, indices)


def _arg_extreme(x: np.ndarray, axis, keepdims: bool, largest: bool) -> np.ndarray:
    """The int64 index of the first maximum (or minimum) along ``axis`` (all when None)."""
    find = np.argmax if largest else np.argmin
    if axis is None:
        return np.asarray(find(x), dtype=np.int64)
    return find(x, axis=axis, keepdims=keepdims).astype(np.int64)


def max(input: Tensor, dim=None, keepdim: bool = False, *, other=None):  # noqa: A001, A002
    """The largest value; with an int ``dim``, ``(values, indices)`` along it; with a tensor
    ``other`` (or in dim's place), the elementwise maximum, as PyTorch."""
    return _extreme(input, dim, keepdim, True, "max", other)


def min(input: Tensor, dim=None, keepdim: bool = False, *, other=None):  # noqa: A001, A002
    """The smallest value; with an int ``dim``, ``(values, indices)`` along it; with a tensor
    ``other`` (or in dim's place), the elementwise minimum, as PyTorch."""
    return _extreme(input, dim, keepdim, False, "min", other)


def argmax(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A002
    d = None if dim is None or input.ndim == 0 else normalize_dim(dim, input.ndim, "argmax")
    return ew.computed(_arg_extreme, input, axis=d, keepdims=keepdim, largest=True)


def argmin(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A002
    d = None if dim is None or input.ndim == 0 else normalize_dim(dim, input.ndim, "argmin")
    return ew.computed(_arg_extreme, input, axis=d, keepdims=keepdim, largest=False)


def logsumexp(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A002
    """$\\log \\sum e^x$ over ``dim``, stable for large inputs."""
    axes = normalize_dims(dim, input.ndim, "logsumexp")
    return LogSumExp.apply(input, axes=axes, keepdim=keepdim)


def _softmax_dim(input: Tensor, dim, name: str) -> int | None:  # noqa: A002
    """``dim``, or where it is left out, the last dim of a tensor of at most 2 dims.

    NOTE: PyTorch guesses a dim for more dims (0 for 3-d, 1 for 4-d) and warns that the
    guess is deprecated; descent asks for it instead (a likely bug is an error)."""
    if dim is None:
        if input.ndim > 2:
            raise ValueError(
                f"{name}: give dim for a tensor of {input.ndim} dims (shape {tuple(input.shape)}), "
                f"e.g. {name}(x, dim=-1); PyTorch's implicit choice here would be dim "
                f"{0 if input.ndim == 3 else 1}"
            )
        dim = -1
    return normalize_dim(dim, input.ndim, name)


def softmax(input: Tensor, dim=None, *, dtype=None) -> Tensor:  # noqa: A002
    """$e^{x_i} / \\sum_j e^{x_j}$ along ``dim`` (in ``dtype`` if given), stable for large x."""
    if dtype is not None:
        input = _as(input, dtype)  # noqa: A001
    return Softmax.apply(input, dim=_softmax_dim(input, dim, "softmax"))


def log_softmax(input: Tensor, dim=None, *, dtype=None) -> Tensor:  # noqa: A002
    """$x_i - \\log \\sum_j e^{x_j}$ along ``dim`` (in ``dtype`` if given), stable for large x."""
    if dtype is not None:
        input = _as(input, dtype)  # noqa: A001
    return LogSoftmax.apply(input, dim=_softmax_dim(input, dim, "log_softmax"))


def std(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *,  # noqa: A002
        correction=None) -> Tensor:  # fmt: skip
    """Standard deviation over ``dim``: the square root of ``var`` (correction 1 by default)."""
    dim, correction = _correction("std", dim, unbiased, correction)
    return ew.sqrt(var(input, dim, keepdim=keepdim, correction=correction))


SortResult = namedtuple("SortResult", ["values", "indices"])
TopkResult = namedtuple("TopkResult", ["values", "indices"])


def _order(x: np.ndarray, d: int, descending: bool, k: int | None = None) -> np.ndarray:
    """int64 indices that sort x along d (stable; NaN counts as the largest, as in
    PyTorch); the first ``k`` of them along d when k is given."""
    if not descending:
        idx = np.argsort(x, axis=d, kind="stable")
    else:  # stable descending: sort the reversed dim ascending, then flip it back
        rev = np.flip(x, axis=d)
        idx = x.shape[d] - 1 - np.flip(np.argsort(rev, axis=d, kind="stable"), axis=d)
    if k is not None:
        idx = np.take(idx, np.arange(k), axis=d)
    return idx.astype(np.int64)


def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False):  # noqa: A002
    """``(values, indices)`` of input sorted along ``dim``; the gradient follows the values."""
    if input.ndim == 0:
        return SortResult(input * 1, make_tensor(np.zeros((), np.int64)))
    d = normalize_dim(dim, input.ndim, "sort")
    idx = ew.computed(_order, input, d=d, descending=descending)
    return SortResult(shape.gather(input, d, idx), idx)


def topk(input: Tensor, k: int, dim: int | None = None, largest: bool = True,  # noqa: A002
         sorted: bool = True):  # noqa: A002 - PyTorch's names  # fmt: skip
    """``(values, indices)`` of the ``k`` largest (or smallest) along ``dim`` (the last by
    default), largest first."""
    dim = -1 if dim is None else dim
    n = input.shape[normalize_dim(dim, input.ndim, "topk")] if input.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError("selected index k out of range")
    if input.ndim == 0:
        return TopkResult(input * 1, make_tensor(np.zeros((), np.int64)))
    d = normalize_dim(dim, input.ndim, "topk")
    idx = ew.computed(_order, input, d=d, descending=largest, k=k)
    return TopkResult(shape.gather(input, d, idx), idx)


# ---- more reductions and scans --------------------------------------------------------------


class Cumsum(Function):
    """$y_i = \\sum_{j \\le i} x_j$ along ``dim``; the gradient is the reversed cumulative sum
    of the upstream gradient."""

    @staticmethod
    def forward(ctx, x, *, dim):
        ctx.meta = dim
        return np.cumsum(x, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        d = ctx.meta
        return np.flip(np.cumsum(np.flip(grad, d), axis=d), d)

    @staticmethod
    def backward_graph(ctx, grad, out):
        d = ctx.meta
        return shape.flip(Cumsum.apply(shape.flip(grad, (d,)), dim=d), (d,))


def cumsum(input: Tensor, dim: int, *, dtype=None) -> Tensor:  # noqa: A002
    """Cumulative sums along ``dim``; integers and bools sum as int64 (as PyTorch)."""
    x = _as(input, dtype)
    if x._data.dtype.kind in "biu":  # the cast by an op, so that ds.compile replays it
        x = ew.computed(np.ndarray.astype, x, dtype=np.int64)
    if x.ndim == 0:
        return x * 1
    return Cumsum.apply(x, dim=normalize_dim(dim, x.ndim, "cumsum"))


def amax(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:  # noqa: A002
    """The largest value over ``dim`` (an int or tuple; all dims by default); ties share the
    gradient evenly."""
    return _amax(input, dim, keepdim, True, "amax")


def amin(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:  # noqa: A002
    """The smallest value over ``dim``; ties share the gradient evenly."""
    return _amax(input, dim, keepdim, False, "amin")


def _amax(x: Tensor, dim, keepdim: bool, largest: bool, name: str) -> Tensor:
    if x._data.size == 0:
        raise RuntimeError(f"{name}: the tensor is empty, so it has no extreme value")
    axes = normalize_dims(None if dim == () or dim == [] else dim, x.ndim, name)
    return Amax.apply(x, axes=axes, keepdim=keepdim, largest=largest)


def prod(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A002
    """$\\prod_i x_i$ over ``dim`` (one int; all elements by default).

    NOTE: the product of the halves, halving until one element is left (log2 n products),
    so it is a composite of indexing and ``*``: exact where an element is zero (its
    gradient is the product of the others, as PyTorch's) and differentiable to any order.
    """
    x = _as(input, dtype)
    if x._data.dtype.kind in "biu":  # integers: exact, as int64, no gradient
        axes = None if dim is None else normalize_dims(dim, x.ndim, "prod")
        return ew.computed(np.prod, x, axis=axes, keepdims=keepdim, dtype=np.int64)
    if dim is None:
        x, d = x.reshape(-1), 0
    else:
        d = normalize_dim(dim, x.ndim, "prod")
        if d is None:  # a 0-d tensor is its own product
            return x * 1.0
    if d != x.ndim - 1:  # (..., n): the product runs along the last dim
        x = shape.transpose(x, d, -1)
    while x._data.shape[-1] > 1:
        n = x._data.shape[-1]
        half = n // 2
        paired = x[..., :half] * x[..., half : 2 * half]
        x = shape.cat([paired, x[..., 2 * half :]], dim=-1) if n % 2 else paired
    if x._data.shape[-1] == 0:  # an empty product is 1
        x = make_tensor(np.ones(x._data.shape[:-1] + (1,), x._data.dtype)) + x.sum(-1, True)
    out = x[..., 0]
    if dim is None:
        return out.reshape((1,) * input.ndim) if keepdim else out
    if d == input.ndim - 1:
        return out.unsqueeze(d) if keepdim else out
    kept = shape.transpose(out.unsqueeze(-1), d, -1)  # the dims back in their order
    return kept if keepdim else kept.squeeze(d)


def norm(input: Tensor, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:  # noqa: A002
    """The vector p-norm over ``dim`` (all elements by default): ``p`` a number, ``inf``,
    ``-inf`` or ``"fro"`` (the 2-norm of the elements)."""
    x = _as(input, dtype)
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"norm(): input dtype should be floating point, but got {x._data.dtype}")
    axes = normalize_dims(dim, x.ndim, "norm")
    if p == "fro" or p == 2:
        # NOTE: the norm of a zero vector has gradient 0, as PyTorch's: sqrt is taken of 1
        # there (so its derivative stays finite) and the answer masked back to 0.
        # The mask is a comparison and every norm takes this form (where a zero vector is
        # rare, the mask is all True and the result sqrt(squares) exactly), so that
        # ds.compile replays the mask of each call's values.
        squares = sum(x * x, dim=axes, keepdim=keepdim)
        mask = squares > 0
        return ew.where(mask, ew.sqrt(ew.where(mask, squares, 1.0)), 0.0)
    if p in (float("inf"), float("-inf")):
        return _amax(ew.abs(x), () if axes is None else axes, keepdim, p > 0, "norm")
    if isinstance(p, str):
        raise RuntimeError(f"norm: p={p!r} is not supported (only 'fro' and numbers)")
    if p == 1:
        return sum(ew.abs(x), dim=axes, keepdim=keepdim)
    return sum(ew.abs(x) ** p, dim=axes, keepdim=keepdim) ** (1.0 / p)


def argsort(input: Tensor, dim: int = -1, descending: bool = False,  # noqa: A002
            stable: bool = False) -> Tensor:  # fmt: skip
    """The indices that sort ``input`` along ``dim`` (int64; no gradient)."""
    if input.ndim == 0:
        return make_tensor(np.zeros((), np.int64))
    d = normalize_dim(dim, input.ndim, "argsort")
    return ew.computed(_order, input, d=d, descending=descending)


def cumprod(input: Tensor, dim: int, *, dtype=None) -> Tensor:  # noqa: A002
    """Cumulative products along ``dim``; integers and bools multiply as int64 (as PyTorch).

    NOTE: a scan of log2 n steps (each position times the one ``s`` before it, s = 1, 2,
    4, ...), so, like ``prod``, it is a composite of indexing and ``*``: exact where an
    element is zero and differentiable to any order.
    """
    x = _as(input, dtype)
    if x._data.dtype.kind in "biu":
        d = normalize_dim(dim, x.ndim, "cumprod")
        if d is None:
            return ew.computed(np.ndarray.astype, x, dtype=np.int64)
        return ew.computed(np.cumprod, x, axis=d, dtype=np.int64)
    d = normalize_dim(dim, x.ndim, "cumprod")
    if d is None:
        return x * 1
    if d != x.ndim - 1:
        x = shape.transpose(x, d, -1)
    n, s = x._data.shape[-1], 1
    while s < n:
        x = shape.cat([x[..., :s], x[..., s:] * x[..., : n - s]], dim=-1)
        s *= 2
    return x if d == input.ndim - 1 else shape.transpose(x, d, -1)


def var_mean(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *,  # noqa: A002
             correction=None) -> tuple:  # fmt: skip
    """``(var, mean)`` over ``dim``, with ``var``'s arguments."""
    dim, correction = _correction("var_mean", dim, unbiased, correction)
    axes = normalize_dims(dim, input.ndim, "var_mean")
    return (
        var(input, axes, keepdim=keepdim, correction=correction),
        mean(input, axes, keepdim=keepdim),
    )


def std_mean(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *,  # noqa: A002
             correction=None) -> tuple:  # fmt: skip
    """``(std, mean)`` over ``dim``, with ``std``'s arguments."""
    dim, correction = _correction("std_mean", dim, unbiased, correction)
    axes = normalize_dims(dim, input.ndim, "std_mean")
    return (
        std(input, axes, keepdim=keepdim, correction=correction),
        mean(input, axes, keepdim=keepdim),
    )


MedianResult = namedtuple("MedianResult", ["values", "indices"])


def _median_index(x: np.ndarray, d: int, keepdim: bool = False) -> np.ndarray:
    """The int64 index along d of the lower median (of the first NaN where there is one)."""
    k = (x.shape[d] - 1) // 2
    idx = np.take(np.argsort(x, axis=d, kind="stable"), k, axis=d)
    if x.dtype.kind == "f":
        nans = np.isnan(x)
        idx = np.where(nans.any(axis=d), np.argmax(nans, axis=d), idx)
    return (np.expand_dims(idx, d) if keepdim else idx).astype(np.int64)


def median(input: Tensor, dim=None, keepdim: bool = False):  # noqa: A002 - PyTorch's names
    """The lower median of all elements; with ``dim``, ``(values, indices)`` along it. The
    gradient goes to the median element (NaN, where there is one, is the median)."""
    if input._data.size == 0:
        raise IndexError("median(): Expected reduction dim to be specified for input.numel() == 0.")
    if dim is None:
        flat = shape.reshape(input, (-1,))
        return shape.getitem(flat, ew.computed(_median_index, flat, d=0)._data)
    d = normalize_dim(dim, input.ndim, "median")
    if d is None:
        return MedianResult(input * 1, make_tensor(np.zeros((), np.int64)))
    idx = ew.computed(_median_index, input, d=d, keepdim=keepdim)
    values = MaxAlongDim.apply(input, indices=idx._data, dim=d, keepdim=keepdim)
    return MedianResult(values, idx)


# ---- counting and finding (integer answers, no gradient) ------------------------------------
# Their shapes follow the values (how many distinct values, how many non-zero elements), so a
# compiled step, which replays one program of fixed shapes, refuses them.


def _shape_from_values(name: str) -> None:
    _compile.untraceable(
        f"{name}, whose result's shape follows the values,",
        "a replay would keep the first call's shape. Call it outside the compiled step.",
    )


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
           return_counts: bool = False, dim=None):  # fmt: skip
    """The distinct values (sorted; ``sorted=False`` sorts too, as PyTorch on the CPU), and
    if asked the index of each element's value (``inverse``, input's shape) and how often
    each value occurs; with ``dim``, the distinct slices along it."""
    _shape_from_values("unique")
    arr = input._data
    if dim is None:
        values, inverse, counts = np.unique(arr, return_inverse=True, return_counts=True)
        inverse = inverse.reshape(arr.shape)
    else:
        d = normalize_dim(dim, arr.ndim, "unique")
        values, inverse, counts = np.unique(arr, return_inverse=True, return_counts=True, axis=d)
        inverse = inverse.reshape(-1)
    out = [make_tensor(values)]
    if return_inverse:
        out.append(make_tensor(inverse.astype(np.int64)))
    if return_counts:
        out.append(make_tensor(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def bincount(input: Tensor, weights=None, minlength: int = 0) -> Tensor:  # noqa: A002
    """How often each of 0 .. max(input) occurs in a 1-d non-negative integer tensor (at
    least ``minlength`` counts); with ``weights``, the sum of their weights."""
    _shape_from_values("bincount")
    arr = input._data
    if arr.ndim != 1 or arr.dtype.kind not in "biu":
        raise RuntimeError(
            f"bincount only supports 1-d non-negative integral inputs, got {arr.ndim}-d {arr.dtype}"
        )
    if arr.size and arr.min() < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if weights is None:
        return make_tensor(np.bincount(arr, minlength=minlength).astype(np.int64))
    w = weights._data if isinstance(weights, Tensor) else np.asarray(weights)
    if w.shape != arr.shape:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    out = np.bincount(arr, weights=w, minlength=minlength)
    return make_tensor(out.astype(w.dtype if w.dtype.kind == "f" else np.float64))


def nonzero(input: Tensor, *, as_tuple: bool = False):  # noqa: A002 - PyTorch's names
    """The indices of the non-zero elements: an (n, ndim) int64 tensor, or with
    ``as_tuple=True`` one 1-d index tensor per dim (a 0-d input counts as 1-d)."""
    _shape_from_values("nonzero")
    arr = input._data
    if as_tuple:
        return tuple(make_tensor(i.astype(np.int64)) for i in np.nonzero(np.atleast_1d(arr)))
    return make_tensor(np.argwhere(arr).astype(np.int64))


def argwhere(input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's names
    """The indices of the non-zero elements as an (n, ndim) int64 tensor."""
    return nonzero(input)
