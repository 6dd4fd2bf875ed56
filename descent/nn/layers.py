"""Layers: each a Module whose forward calls one function of ``ds.nn.functional``."""

from __future__ import annotations

import math

import numpy as np

from ..random import generator
from ..tensor import Tensor, as_dtype, float32
from . import functional as F
from .module import Module, Parameter

__all__ = [
    "Linear", "Conv2d", "MaxPool2d", "AvgPool2d", "Flatten", "Dropout", "ReLU", "Sigmoid",
    "Tanh", "LeakyReLU", "Softmax", "LogSoftmax", "Identity", "Sequential",
]  # fmt: skip


def _size(value, layer: str, name: str) -> int:
    """A count of features or channels: an int >= 0 (0 gives an empty weight, as in PyTorch)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{layer}: {name} must be an int, got {value!r}")
    if value < 0:
        raise ValueError(f"{layer}: {name} must be >= 0, got {value}")
    return int(value)


def _bound(fan_in: int) -> float:
    """PyTorch's default bound $1/\\sqrt{fan\\_in}$; 0 (an all-zero init) when fan_in is 0."""
    return 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0


def _uniform_parameter(shape: tuple, bound: float, dtype) -> Parameter:
    arr = generator().uniform(-bound, bound, shape).astype(as_dtype(dtype) or float32)
    return Parameter(arr)


class Linear(Module):
    """$y = x W^T + b$ with W of shape (out_features, in_features).

    Initialised as PyTorch's: W and b uniform on $\\pm 1/\\sqrt{in\\_features}$.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype=None):
        super().__init__()
        self.in_features = in_features = _size(in_features, "Linear", "in_features")
        self.out_features = out_features = _size(out_features, "Linear", "out_features")
        bound = _bound(in_features)
        self.weight = _uniform_parameter((out_features, in_features), bound, dtype)
        self.bias = _uniform_parameter((out_features,), bound, dtype) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class Conv2d(Module):
    """2-D cross-correlation over NCHW inputs; weight (out, in, kh, kw).

    Initialised as PyTorch's: uniform on $\\pm 1/\\sqrt{in \\cdot kh \\cdot kw}$.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        bias: bool = True,
        dtype=None,
    ):
        super().__init__()
        self.in_channels = in_channels = _size(in_channels, "Conv2d", "in_channels")
        self.out_channels = out_channels = _size(out_channels, "Conv2d", "out_channels")
        self.kernel_size = F._pair(kernel_size, "Conv2d", "kernel_size")
        self.stride = F._pair(stride, "Conv2d", "stride")
        # 'valid' and 'same' are F.conv2d's to check
        self.padding = (
            padding if isinstance(padding, str) else F._pair(padding, "Conv2d", "padding")
        )
        for name, low, pair in [("kernel_size", 1, self.kernel_size), ("stride", 1, self.stride),
                                ("padding", 0, self.padding)]:  # fmt: skip
            if not isinstance(pair, str) and min(pair) < low:
                rule = "positive" if low else ">= 0"
                raise ValueError(f"Conv2d: {name} must be {rule}, got {pair}")
        fan_in = in_channels * self.kernel_size[0] * self.kernel_size[1]
        bound = _bound(fan_in)
        self.weight = _uniform_parameter(
            (out_channels, in_channels, *self.kernel_size), bound, dtype
        )
        self.bias = _uniform_parameter((out_channels,), bound, dtype) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding)

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding}"
        )


class MaxPool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def forward(self, x: Tensor) -> Tensor:
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(MaxPool2d):
    def forward(self, x: Tensor) -> Tensor:
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding)


class Flatten(Module):
    """Dims ``start_dim`` .. ``end_dim`` merged (by default all but the batch dim)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Tensor) -> Tensor:
        return x.flatten(self.start_dim, self.end_dim)


class Dropout(Module):
    """Zeroes each element with probability p in training mode; identity in eval mode."""

    def __init__(self, p: float = 0.5):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1], got {p}")
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class ReLU(Module):
    def forward(self, x: Tensor) -> Tensor:
        return F.relu(x)


class Sigmoid(Module):
    def forward(self, x: Tensor) -> Tensor:
        return F.sigmoid(x)


class Tanh(Module):
    def forward(self, x: Tensor) -> Tensor:
        return F.tanh(x)


class LeakyReLU(Module):
    def __init__(self, negative_slope: float = 0.01):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x: Tensor) -> Tensor:
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Softmax(Module):
    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        return F.softmax(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    def forward(self, x: Tensor) -> Tensor:
        return F.log_softmax(x, self.dim)


class Identity(Module):
    def forward(self, x: Tensor) -> Tensor:
        return x


class Sequential(Module):
    """Layers applied in order; ``state_dict`` keys are '0.weight', '0.bias', ... as PyTorch."""

    def __init__(self, *layers: Module):
        super().__init__()
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential: item {i} is a {type(layer).__name__}, not a Module")
        self.layers = list(layers)

    def _members(self):
        # named 0, 1, 2 ... (not layers.0) so the keys match PyTorch's
        return ((str(i), m) for i, m in enumerate(self.layers))

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            try:
                x = layer(x)
            except (ValueError, RuntimeError) as e:
                raise type(e)(f"Sequential layer {i} ({type(layer).__name__}): {e}") from e
        return x

    def append(self, layer: Module) -> Sequential:
        self.layers.append(layer)
        return self

    def __getitem__(self, i):
        if isinstance(i, slice):
            return Sequential(*self.layers[i])
        return self.layers[i]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)
