"""Normalisation layers: BatchNorm1d, BatchNorm2d and LayerNorm, written from the ops.

Each is a composite of mean, subtraction, multiplication and square root, so the engine
differentiates it and no rule of its own is needed.
"""

from __future__ import annotations

import numpy as np

from ..autograd import no_grad
from ..tensor import Tensor, as_dtype, get_default_dtype, int64, make_tensor
from .module import Module, Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d", "LayerNorm"]


def _filled(shape: tuple, value: float, dtype) -> np.ndarray:
    return np.full(shape, value, dtype=as_dtype(dtype) or get_default_dtype())


class _BatchNorm(Module):
    """$y = (x - \\mu) / \\sqrt{\\sigma^2 + \\epsilon} \\cdot \\gamma + \\beta$ per channel (dim 1).

    In training mode $\\mu$ and $\\sigma^2$ are the batch's mean and biased variance over
    every dim but the channel, and the running statistics move towards the batch's mean
    and *unbiased* variance by ``momentum`` (``momentum=None``: their cumulative average
    over ``num_batches_tracked`` batches). In eval mode the running statistics are used.
    Exactly PyTorch's semantics, buffers and state_dict keys.
    """

    _dims: tuple = ()  # the input ranks allowed

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
    ):
        super().__init__()
        name = type(self).__name__
        if isinstance(num_features, bool) or not isinstance(num_features, (int, np.integer)):
            raise TypeError(f"{name}: num_features must be an int, got {num_features!r}")
        self.num_features = int(num_features)
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        shape = (self.num_features,)
        self.weight = Parameter(_filled(shape, 1.0, dtype)) if affine else None
        has_bias = affine and bias
        self.bias = Parameter(_filled(shape, 0.0, dtype)) if has_bias else None
        if track_running_stats:
            self.register_buffer("running_mean", make_tensor(_filled(shape, 0.0, dtype)))
            self.register_buffer("running_var", make_tensor(_filled(shape, 1.0, dtype)))
            self.register_buffer("num_batches_tracked", make_tensor(np.zeros((), int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def _optional_state(self) -> tuple[str, ...]:
        return ("num_batches_tracked",)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean._data[...] = 0
            self.running_var._data[...] = 1
            self.num_batches_tracked._data[...] = 0

    def _check_input(self, x: Tensor) -> None:
        name = type(self).__name__
        if not isinstance(x, Tensor):
            raise TypeError(f"{name}: input must be a Tensor, got a {type(x).__name__}")
        if x.ndim not in self._dims:
            dims = " or ".join(f"{d}D" for d in self._dims)
            raise ValueError(f"{name}: expected {dims} input, got {x.ndim}D input {tuple(x.shape)}")
        if x.shape[1] != self.num_features:
            raise ValueError(
                f"{name}: input {tuple(x.shape)} has {x.shape[1]} channels (dim 1), the layer "
                f"expects num_features={self.num_features}"
            )

    def forward(self, x: Tensor) -> Tensor:
        self._check_input(x)
        axes = (0, *range(2, x.ndim))  # every dim but the channel
        per_channel = (1, self.num_features) + (1,) * (x.ndim - 2)  # (1, C, 1, ...)
        use_batch = self.training or not self.track_running_stats
        if use_batch:
            n = x._data.size // max(self.num_features, 1)
            if n <= 1:  # also in eval without running statistics, as PyTorch
                raise ValueError(
                    f"{type(self).__name__}: expected more than 1 value per channel when "
                    f"training, got input {tuple(x.shape)}; use a larger batch or eval()"
                )
            mean = x.mean(dim=axes, keepdim=True)
            centred = x - mean
            # NOTE: ds.var(correction=0) written out, since the output reuses ``centred``
            var = (centred * centred).mean(dim=axes, keepdim=True)  # biased
            if self.training and self.track_running_stats:
                self._update_running_stats(mean, var, n)
        else:
            mean = make_tensor(self.running_mean._data.reshape(per_channel))
            var = make_tensor(self.running_var._data.reshape(per_channel))
            centred = x - mean
        y = centred / (var + self.eps).sqrt()
        if self.weight is not None:
            y = y * self.weight.reshape(per_channel)
        if self.bias is not None:
            y = y + self.bias.reshape(per_channel)
        return y

    def _update_running_stats(self, mean: Tensor, var: Tensor, n: int) -> None:
        with no_grad():
            self.num_batches_tracked._data += 1
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked._data)
            else:
                factor = self.momentum
            rm, rv = self.running_mean._data, self.running_var._data
            batch_mean = mean._data.reshape(-1).astype(rm.dtype)
            unbiased = var._data.reshape(-1).astype(rv.dtype) * (n / (n - 1))
            rm *= 1 - factor
            rm += factor * batch_mean
            rv *= 1 - factor
            rv += factor * unbiased

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.bias is not None}, "
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs over N (and L), per channel C."""

    _dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) images over N, H and W, per channel C."""

    _dims = (4,)


class LayerNorm(Module):
    """$y = (x - \\mu) / \\sqrt{\\sigma^2 + \\epsilon} \\cdot \\gamma + \\beta$ over the last dims.

    $\\mu$ and the biased $\\sigma^2$ are taken over the trailing ``normalized_shape``
    dims of each example, in training and eval mode alike, as PyTorch's.
    """

    def __init__(
        self,
        normalized_shape,
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        if isinstance(normalized_shape, (int, np.integer)):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(int(d) for d in normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        shape = self.normalized_shape
        self.weight = Parameter(_filled(shape, 1.0, dtype)) if elementwise_affine else None
        has_bias = elementwise_affine and bias
        self.bias = Parameter(_filled(shape, 0.0, dtype)) if has_bias else None

    def forward(self, x: Tensor) -> Tensor:
        k = len(self.normalized_shape)
        if not isinstance(x, Tensor) or x.shape[x.ndim - k :] != self.normalized_shape:
            shape = x.shape if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(
                f"LayerNorm: input {shape} must end in normalized_shape {self.normalized_shape}"
            )
        axes = tuple(range(x.ndim - k, x.ndim))
        mean = x.mean(dim=axes, keepdim=True)
        centred = x - mean
        var = (centred * centred).mean(dim=axes, keepdim=True)  # as above: reuses centred
        y = centred / (var + self.eps).sqrt()
        if self.weight is not None:
            y = y * self.weight
        if self.bias is not None:
            y = y + self.bias
        return y

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}"
        )
