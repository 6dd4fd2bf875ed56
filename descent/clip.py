"""Gradient clipping, in place on ``.grad``: torch.nn.utils' ``clip_grad_norm_`` and
``clip_grad_value_``, one implementation that ``ds.nn.utils`` (PyTorch's path) and
``ds.optim`` both offer."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from .tensor import Tensor, make_tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _grads(parameters) -> list[np.ndarray]:
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p.grad._data for p in params if p.grad is not None]


def _vector_norm(values: np.ndarray, norm_type: float) -> float:
    """||values||_p of a flattened array, p > 0 or inf."""
    if values.size == 0:
        return 0.0
    magnitudes = np.abs(values)
    if norm_type == math.inf:
        return float(magnitudes.max())
    if norm_type == 2.0:
        return math.sqrt(float(np.sum(magnitudes * magnitudes)))
    return float(np.sum(magnitudes**norm_type)) ** (1.0 / norm_type)


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """Scale all gradients together so that their joint p-norm is at most ``max_norm``.

    The joint norm is the p-norm of the per-tensor p-norms (``norm_type`` p > 0, or
    ``float('inf')`` for the largest magnitude); gradients are multiplied by
    ``min(1, max_norm / (norm + 1e-6))``. Parameters without ``.grad`` are skipped.
    Returns the joint norm before clipping, as a scalar Tensor. ``foreach`` (PyTorch's
    choice of kernel) is accepted and changes nothing here.

    >>> total = ds.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    """
    norm_type = float(norm_type)
    if not norm_type > 0:
        raise ValueError(f"clip_grad_norm_: norm_type must be > 0 or inf, got {norm_type}")
    grads = _grads(parameters)
    if not grads:
        return make_tensor(np.asarray(0.0, dtype=np.float32))
    norms = np.array([_vector_norm(g, norm_type) for g in grads])
    total = _vector_norm(norms, norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is "
            f"{total}; pass error_if_nonfinite=False to clip anyway"
        )
    clip_coef = float(max_norm) / (total + 1e-6)
    if not clip_coef >= 1.0:  # NOTE: a NaN norm spreads to the gradients, as in PyTorch
        for g in grads:
            g *= clip_coef
    return make_tensor(np.asarray(total, dtype=grads[0].dtype))


def clip_grad_value_(
    parameters: Tensor | Iterable[Tensor], clip_value: float, foreach: bool | None = None
) -> None:
    """Clamp every gradient element into ``[-clip_value, clip_value]``, in place.

    >>> ds.nn.utils.clip_grad_value_(model.parameters(), clip_value=0.5)
    """
    clip_value = float(clip_value)
    for g in _grads(parameters):
        np.clip(g, -clip_value, clip_value, out=g)
