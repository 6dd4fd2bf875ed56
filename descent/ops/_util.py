"""Helpers every backward rule shares: undoing broadcasting, normalising dims."""

from __future__ import annotations

import numpy as np


def unbroadcast(grad: np.ndarray, shape: tuple, dtype) -> np.ndarray:
    """Sum ``grad`` down to ``shape`` (undoing NumPy broadcasting) and cast it to ``dtype``.

    This is the one place where broadcasting is undone; every rule of an op that
    broadcasts its inputs calls it.
    """
    if grad.shape != shape:
        extra = grad.ndim - len(shape)
        if extra:
            grad = grad.sum(axis=tuple(range(extra)))
        axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
        if axes:
            grad = grad.sum(axis=axes, keepdims=True)
        if grad.__class__ is not np.ndarray:  # a sum down to () gives a NumPy scalar
            grad = np.asarray(grad)
    if grad.dtype is not dtype and grad.dtype != dtype:  # identity first: it is cheaper
        grad = grad.astype(dtype)
    return grad


def normalize_dims(dim, ndim: int, op: str) -> tuple | None:
    """``dim`` (None, int or tuple, negatives allowed) as a sorted tuple of axes, or None."""
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    out = []
    for d in dims:
        d = int(d)
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexError(
                f"{op}: dimension {d} is out of range for a tensor with {ndim} dimension(s) "
                f"(expected a dim in [{-max(ndim, 1)}, {max(ndim, 1) - 1}])."
            )
        out.append(d % ndim if ndim else 0)
    if ndim == 0:
        return None  # a 0-d tensor reduces over nothing but itself
    return tuple(sorted(set(out)))


def normalize_dim(dim: int, ndim: int, op: str) -> int:
    """One dimension index, negatives allowed, checked against ``ndim`` (None for 0-d)."""
    dims = normalize_dims(dim, ndim, op)
    return None if dims is None else dims[0]


def expand_reduced(grad: np.ndarray, shape: tuple, axes: tuple | None, keepdim: bool) -> np.ndarray:
    """Reshape the gradient of a reduction so it broadcasts against the input's shape."""
    if axes is None:
        return grad.reshape((1,) * len(shape)) if shape else grad
    if not keepdim:
        grad = np.expand_dims(grad, axes)
    return grad


def sum_to(grad, shape: tuple, dtype):
    """``unbroadcast`` for Tensors (the rules of ``backward_graph``): ``grad`` summed down
    to ``shape`` with Tensor operations, so the sum is itself differentiable."""
    if grad.shape != shape:
        extra = grad.ndim - len(shape)
        if extra:
            grad = grad.sum(dim=tuple(range(extra)))
        axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
        if axes:
            grad = grad.sum(dim=axes, keepdim=True)
    if grad.dtype != dtype:
        grad = grad.to(dtype)
    return grad


def spread_to(grad, shape: tuple, axes: tuple | None, keepdim: bool):
    """The gradient of a reduction over ``axes`` spread back over ``shape``, with Tensor
    operations (for ``backward_graph``): ``expand_reduced`` then a broadcast."""
    if not shape:
        return grad
    if axes is None:
        kept = (1,) * len(shape)
    elif keepdim:
        kept = grad.shape
    else:
        kept = list(grad.shape)
        for a in axes:
            kept.insert(a, 1)
    return grad.reshape(tuple(kept)).expand(*shape)
