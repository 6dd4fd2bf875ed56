"""Layers: each a Module whose forward calls one function of ``ds.nn.functional``."""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Iterable, Mapping

import numpy as np

from ..ops import elementwise as _ew
from ..random import generator
from ..tensor import Tensor, as_dtype, get_default_dtype
from . import functional as F
from .module import Module, Parameter

__all__ = [
    "Linear", "Conv2d", "MaxPool2d", "AvgPool2d", "Flatten", "Dropout", "ReLU", "Sigmoid",
    "Tanh", "LeakyReLU", "Softmax", "LogSoftmax", "Identity", "Sequential", "GELU", "Softplus",
    "ModuleList", "ModuleDict", "Embedding",
    "ELU", "CELU", "SELU", "SiLU", "Mish", "Hardsigmoid", "Hardswish", "Hardtanh", "ReLU6",
    "Softsign", "LogSigmoid", "Threshold", "Softmin", "PReLU",
    "Unflatten", "ParameterList", "ParameterDict", "Dropout1d", "Dropout2d", "ZeroPad2d",
    "ConstantPad2d", "AdaptiveAvgPool2d", "Conv1d", "MaxPool1d", "AvgPool1d",
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
    arr = generator().uniform(-bound, bound, shape).astype(as_dtype(dtype) or get_default_dtype())
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


class Conv1d(Module):
    """1-D cross-correlation over NCL inputs; weight (out, in / groups, k).

    Initialised as PyTorch's: uniform on $\\pm 1/\\sqrt{(in / groups) \\cdot k}$. The sizes
    are kept as PyTorch keeps them, 1-tuples (``kernel_size == (5,)``).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        dtype=None,
    ):
        super().__init__()
        F._not_supported("Conv1d", "padding_mode", padding_mode, "zeros")
        self.in_channels = in_channels = _size(in_channels, "Conv1d", "in_channels")
        self.out_channels = out_channels = _size(out_channels, "Conv1d", "out_channels")
        self.groups = groups = _size(groups, "Conv1d", "groups")
        if groups < 1:
            raise ValueError(f"Conv1d: groups must be positive, got {groups}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"Conv1d: groups={groups} must divide in_channels={in_channels} and "
                f"out_channels={out_channels}"
            )
        self.kernel_size = (F._single(kernel_size, "Conv1d", "kernel_size"),)
        self.stride = (F._single(stride, "Conv1d", "stride"),)
        self.dilation = (F._single(dilation, "Conv1d", "dilation"),)
        # 'valid' and 'same' are F.conv1d's to check
        self.padding = (
            padding if isinstance(padding, str) else (F._single(padding, "Conv1d", "padding"),)
        )
        sizes = [("kernel_size", 1, self.kernel_size), ("stride", 1, self.stride),
                 ("dilation", 1, self.dilation), ("padding", 0, self.padding)]  # fmt: skip
        for name, low, one in sizes:
            if not isinstance(one, str) and one[0] < low:
                rule = "positive" if low else ">= 0"
                raise ValueError(f"Conv1d: {name} must be {rule}, got {one[0]}")
        bound = _bound(in_channels // groups * self.kernel_size[0])
        shape = (out_channels, in_channels // groups, self.kernel_size[0])
        self.weight = _uniform_parameter(shape, bound, dtype)
        self.bias = _uniform_parameter((out_channels,), bound, dtype) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        return F.conv1d(
            x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
        )

    def extra_repr(self) -> str:
        text = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding}"
        )
        if self.dilation != (1,):
            text += f", dilation={self.dilation}"
        return text + (f", groups={self.groups}" if self.groups != 1 else "")


class MaxPool1d(Module):
    """The maximum of each window of NCL inputs (stride defaults to kernel_size)."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1):
        super().__init__()
        F._not_supported("MaxPool1d", "dilation", F._single(dilation, "MaxPool1d", "dilation"), 1)
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def forward(self, x: Tensor) -> Tensor:
        return F.max_pool1d(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(Module):
    """The mean of each window of NCL inputs (stride defaults to kernel_size)."""

    def __init__(self, kernel_size, stride=None, padding=0, count_include_pad: bool = True):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.count_include_pad = count_include_pad

    def forward(self, x: Tensor) -> Tensor:
        return F.avg_pool1d(
            x, self.kernel_size, self.stride, self.padding, count_include_pad=self.count_include_pad
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class Flatten(Module):
    """Dims ``start_dim`` .. ``end_dim`` merged (by default all but the batch dim)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Tensor) -> Tensor:
        return x.flatten(self.start_dim, self.end_dim)


class Dropout(Module):
    """Zeroes each element with probability p in training mode; identity in eval mode."""

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1], got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training, inplace=self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(Dropout):
    """Zeroes whole channels of (N, C, L) or (C, L) inputs with probability p in training
    mode, the rest scaled by 1/(1-p); identity in eval mode."""

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout1d(x, self.p, self.training, inplace=self.inplace)


class Dropout2d(Dropout):
    """Zeroes whole channels of (N, C, H, W) inputs with probability p in training mode,
    the rest scaled by 1/(1-p); identity in eval mode."""

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout2d(x, self.p, self.training, inplace=self.inplace)


class Unflatten(Module):
    """Dim ``dim`` split into ``unflattened_size`` (which may hold one -1): Flatten undone.

    >>> ds.nn.Unflatten(1, (2, 5))(ds.ones(3, 10)).shape
    (3, 2, 5)
    """

    def __init__(self, dim: int, unflattened_size):
        super().__init__()
        if not isinstance(unflattened_size, (tuple, list)) or not all(
            isinstance(n, (int, np.integer)) and not isinstance(n, bool) for n in unflattened_size
        ):
            raise TypeError(
                f"Unflatten: unflattened_size must be a tuple or list of ints, got "
                f"{unflattened_size!r}"
            )
        self.dim, self.unflattened_size = dim, unflattened_size

    def forward(self, x: Tensor) -> Tensor:
        dim = self.dim % x.ndim if -x.ndim <= self.dim < x.ndim else None
        if dim is None:
            raise IndexError(f"Unflatten: dim {self.dim} is out of range for shape {x.shape}")
        return x.reshape(*x.shape[:dim], *self.unflattened_size, *x.shape[dim + 1 :])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


def _four_widths(padding, layer: str) -> tuple[int, int, int, int]:
    """(left, right, top, bottom) from an int or a 4-tuple, as PyTorch's padding layers."""
    widths = (padding,) * 4 if isinstance(padding, (int, np.integer)) else tuple(padding)
    if len(widths) != 4:
        raise ValueError(f"{layer}: padding must be an int or 4 widths, got {padding!r}")
    return tuple(int(n) for n in widths)


class ConstantPad2d(Module):
    """Pads the last two dims with ``value``: (left, right, top, bottom), or one int for all."""

    def __init__(self, padding, value: float):
        super().__init__()
        self.padding = _four_widths(padding, type(self).__name__)
        self.value = value

    def forward(self, x: Tensor) -> Tensor:
        return F.pad(x, self.padding, value=self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ZeroPad2d(ConstantPad2d):
    """Pads the last two dims with zeros: (left, right, top, bottom), or one int for all."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class AdaptiveAvgPool2d(Module):
    """Averages to ``output_size`` (oh, ow), e.g. (1, 1) for global average pooling; the
    input size must be a multiple of it (see ``F.adaptive_avg_pool2d``)."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, x: Tensor) -> Tensor:
        return F.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class ReLU(Module):
    """``F.relu`` as a layer; ``inplace`` as for ``F.relu``."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(x, inplace=self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Sigmoid(Module):
    def forward(self, x: Tensor) -> Tensor:
        return F.sigmoid(x)


class Tanh(Module):
    def forward(self, x: Tensor) -> Tensor:
        return F.tanh(x)


class LeakyReLU(Module):
    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        return F.leaky_relu(x, self.negative_slope, inplace=self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


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


class GELU(Module):
    """$x \\Phi(x)$: exact with erf (approximate='none', PyTorch's default), or PyTorch's
    'tanh' form $\\frac{x}{2} (1 + \\tanh(\\sqrt{2/\\pi} (x + 0.044715 x^3)))$."""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x: Tensor) -> Tensor:
        return F.gelu(x, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Softplus(Module):
    """``F.softplus``: $\\frac{1}{\\beta} \\log(1 + e^{\\beta x})$, linear past ``threshold``."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, x: Tensor) -> Tensor:
        return F.softplus(x, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


def _inplace_repr(inplace: bool, text: str = "") -> str:
    if not inplace:
        return text
    return f"{text}, inplace=True" if text else "inplace=True"


class ELU(Module):
    """``F.elu``: x where x > 0, else $\\alpha (e^x - 1)$."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, x: Tensor) -> Tensor:
        return F.elu(x, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace, f"alpha={self.alpha}")


class CELU(ELU):
    """``F.celu``: x where x > 0, else $\\alpha (e^{x / \\alpha} - 1)$."""

    def forward(self, x: Tensor) -> Tensor:
        return F.celu(x, self.alpha, self.inplace)


class _InplaceActivation(Module):
    """An activation whose only setting is ``inplace``; ``fn`` is its function of F."""

    fn = staticmethod(F.relu)

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        return self.fn(x, inplace=self.inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace)


class _QuietInplaceActivation(_InplaceActivation):
    """One whose printed form, as PyTorch's, does not show ``inplace``."""

    def extra_repr(self) -> str:
        return ""


class SELU(_InplaceActivation):
    """``F.selu``: $\\lambda \\, \\mathrm{elu}(x, \\alpha)$, PyTorch's constants."""

    fn = staticmethod(F.selu)


class SiLU(_InplaceActivation):
    """``F.silu``: $x \\, \\sigma(x)$."""

    fn = staticmethod(F.silu)


class Mish(_InplaceActivation):
    """``F.mish``: $x \\tanh(\\mathrm{softplus}(x))$."""

    fn = staticmethod(F.mish)


class Hardsigmoid(_QuietInplaceActivation):
    """``F.hardsigmoid``: $\\mathrm{relu6}(x + 3) / 6$."""

    fn = staticmethod(F.hardsigmoid)


class Hardswish(_QuietInplaceActivation):
    """``F.hardswish``: $x \\, \\mathrm{relu6}(x + 3) / 6$."""

    fn = staticmethod(F.hardswish)


class Hardtanh(Module):
    """``F.hardtanh``: x clamped to [min_val, max_val]."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
        super().__init__()
        if min_val > max_val:
            raise ValueError(f"Hardtanh: min_val ({min_val}) must not exceed max_val ({max_val})")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, x: Tensor) -> Tensor:
        return F.hardtanh(x, self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace, f"min_val={self.min_val}, max_val={self.max_val}")


class ReLU6(Hardtanh):
    """``F.relu6``: $\\min(\\max(0, x), 6)$ (PyTorch's Hardtanh(0, 6))."""

    def __init__(self, inplace: bool = False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace)


class Softsign(Module):
    """``F.softsign``: $x / (1 + |x|)$."""

    def forward(self, x: Tensor) -> Tensor:
        return F.softsign(x)


class LogSigmoid(Module):
    """``F.logsigmoid``: $\\log \\sigma(x)$."""

    def forward(self, x: Tensor) -> Tensor:
        return F.logsigmoid(x)


class Threshold(Module):
    """``F.threshold``: x where x > threshold, else ``value``."""

    def __init__(self, threshold: float, value: float, inplace: bool = False):
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, x: Tensor) -> Tensor:
        return F.threshold(x, self.threshold, self.value, self.inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace, f"threshold={self.threshold}, value={self.value}")


class Softmin(Softmax):
    """``F.softmin``: $\\mathrm{softmax}(-x)$ along ``dim``."""

    def __init__(self, dim: int | None = None):
        super().__init__(dim)

    def forward(self, x: Tensor) -> Tensor:
        return F.softmin(x, self.dim)


class PReLU(Module):
    """``F.prelu`` with learned slopes: ``weight`` holds ``num_parameters`` slopes (1, or one
    per channel), each starting at ``init``."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters = _size(num_parameters, "PReLU", "num_parameters")
        self.init = init
        arr = np.full(self.num_parameters, init, as_dtype(dtype) or get_default_dtype())
        self.weight = Parameter(arr)

    def forward(self, x: Tensor) -> Tensor:
        return F.prelu(x, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class ModuleList(Module):
    """A list of modules, registered as children '0', '1', ... (keys 'layers.0.weight')."""

    def __init__(self, modules: Iterable[Module] | None = None):
        super().__init__()
        self._list: list[Module] = []
        if modules is not None:
            self.extend(modules)

    def _members(self):
        return ((str(i), m) for i, m in enumerate(self._list))

    @staticmethod
    def _checked(module, i) -> Module:
        if not isinstance(module, Module):
            raise TypeError(f"ModuleList: item {i} is a {type(module).__name__}, not a Module")
        return module

    def append(self, module: Module) -> ModuleList:
        self._list.append(self._checked(module, len(self._list)))
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> None:
        self._list.insert(index, self._checked(module, index))

    def pop(self, index: int = -1) -> Module:
        return self._list.pop(index)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return ModuleList(self._list[i])
        return self._list[i]

    def __setitem__(self, i: int, module: Module) -> None:
        self._list[i] = self._checked(module, i)

    def __delitem__(self, i) -> None:
        del self._list[i]

    def __len__(self) -> int:
        return len(self._list)

    def __iter__(self):
        return iter(self._list)

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        return ModuleList([*self._list, *other])

    def __repr__(self) -> str:
        # as PyTorch's: a run of children that print alike is one line, "(0-2): 3 x ReLU()"
        if not self._list:
            return "ModuleList()"
        lines, start = ["ModuleList("], 0
        bodies = [repr(m).replace("\n", "\n  ") for m in self._list]
        for i in range(1, len(bodies) + 1):
            if i < len(bodies) and bodies[i] == bodies[start]:
                continue
            if i - start == 1:
                lines.append(f"  ({start}): {bodies[start]}")
            else:
                lines.append(f"  ({start}-{i - 1}): {i - start} x {bodies[start]}")
            start = i
        lines.append(")")
        return "\n".join(lines)


class _NamedMembers:
    """The mapping verbs ModuleDict and ParameterDict share, over ``self._dict`` (each
    class checks what ``__setitem__`` puts in)."""

    _dict: OrderedDict

    def _members(self):
        return iter(self._dict.items())

    @staticmethod
    def _check_key(who: str, key) -> None:
        if not isinstance(key, str) or not key or "." in key:
            raise KeyError(f"{who}: a key must be a non-empty string without '.', got {key!r}")

    def __getitem__(self, key: str):
        return self._dict[key]

    def __delitem__(self, key: str) -> None:
        del self._dict[key]

    def __contains__(self, key) -> bool:
        return key in self._dict

    def __len__(self) -> int:
        return len(self._dict)

    def __iter__(self):
        return iter(self._dict)

    def keys(self):
        return self._dict.keys()

    def items(self):
        return self._dict.items()

    def values(self):
        return self._dict.values()

    def pop(self, key: str):
        return self._dict.pop(key)

    def clear(self) -> None:
        self._dict.clear()

    def update(self, members) -> None:
        pairs = members.items() if isinstance(members, Mapping) else members
        for key, value in pairs:
            self[key] = value


class ModuleDict(_NamedMembers, Module):
    """Modules by name, in insertion order (keys 'blocks.encoder.weight')."""

    def __init__(self, modules=None):
        super().__init__()
        self._dict: OrderedDict[str, Module] = OrderedDict()
        if modules is not None:
            self.update(modules)

    def __setitem__(self, key: str, module: Module) -> None:
        self._check_key("ModuleDict", key)
        if not isinstance(module, Module):
            raise TypeError(f"ModuleDict: {key!r} is a {type(module).__name__}, not a Module")
        self._dict[key] = module


def _as_parameter(value, where: str) -> Parameter:
    """A Parameter as is; a Tensor becomes one (as PyTorch's containers do)."""
    if isinstance(value, Parameter):
        return value
    if isinstance(value, Tensor):
        return Parameter(value, requires_grad=True)
    raise TypeError(f"{where} is a {type(value).__name__}, not a Parameter or a Tensor")


_LEGACY_TYPES = {"float32": "FloatTensor", "float64": "DoubleTensor", "int64": "LongTensor",
                 "int32": "IntTensor", "bool": "BoolTensor"}  # fmt: skip


def _parameter_lines(items, legacy_names: bool) -> str:
    """PyTorch's container printing: '(key): Parameter containing: [float32 of size 2x3]'."""
    lines = []
    for key, p in items:
        kind = _LEGACY_TYPES.get(p.dtype.name, p.dtype.name) if legacy_names else p.dtype.name
        size = "x".join(str(n) for n in p.shape)
        lines.append(f"    ({key}): Parameter containing: [{kind} of size {size}]")
    return "\n".join(lines)


class ParameterList(Module):
    """A list of Parameters, registered as '0', '1', ... (keys 'weights.0'); a Tensor
    put in becomes a Parameter."""

    def __init__(self, values: Iterable | None = None):
        super().__init__()
        self._list: list[Parameter] = []
        if values is not None:
            self.extend(values)

    def _members(self):
        return ((str(i), p) for i, p in enumerate(self._list))

    def append(self, value) -> ParameterList:
        self._list.append(_as_parameter(value, f"ParameterList: item {len(self._list)}"))
        return self

    def extend(self, values: Iterable) -> ParameterList:
        for value in values:
            self.append(value)
        return self

    def __getitem__(self, i):
        if isinstance(i, slice):
            return ParameterList(self._list[i])
        return self._list[i]

    def __setitem__(self, i: int, value) -> None:
        self._list[i] = _as_parameter(value, f"ParameterList: item {i}")

    def __len__(self) -> int:
        return len(self._list)

    def __iter__(self):
        return iter(self._list)

    def __iadd__(self, values: Iterable) -> ParameterList:
        return self.extend(values)

    def __repr__(self) -> str:
        if not self._list:
            return "ParameterList()"
        return f"ParameterList(\n{_parameter_lines(self._members(), False)}\n)"


class ParameterDict(_NamedMembers, Module):
    """Parameters by name, in insertion order (keys 'scales.encoder'); a Tensor put in
    becomes a Parameter."""

    def __init__(self, parameters=None):
        super().__init__()
        self._dict: OrderedDict[str, Parameter] = OrderedDict()
        if parameters is not None:
            self.update(parameters)

    def __setitem__(self, key: str, value) -> None:
        self._check_key("ParameterDict", key)
        self._dict[key] = _as_parameter(value, f"ParameterDict: {key!r}")

    def get(self, key: str, default=None):
        return self._dict.get(key, default)

    def __repr__(self) -> str:
        if not self._dict:
            return "ParameterDict()"
        return f"ParameterDict(\n{_parameter_lines(self._members(), True)}\n)"


class Embedding(Module):
    """A lookup table: ``weight[indices]`` with weight (num_embeddings, embedding_dim).

    Initialised N(0, 1), as PyTorch's. The row ``padding_idx`` starts at zero and gets no
    gradient (what it holds is still returned).
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
        _weight: Tensor | None = None,
        _freeze: bool = False,
        device=None,
        dtype=None,
    ):
        super().__init__()
        self.num_embeddings = _size(num_embeddings, "Embedding", "num_embeddings")
        self.embedding_dim = _size(embedding_dim, "Embedding", "embedding_dim")
        if max_norm is not None or scale_grad_by_freq or sparse:
            raise NotImplementedError(
                "Embedding: max_norm, scale_grad_by_freq and sparse are not supported"
            )
        if padding_idx is not None:
            if not -self.num_embeddings <= padding_idx < self.num_embeddings:
                raise ValueError(
                    f"Embedding: padding_idx must be within num_embeddings "
                    f"({self.num_embeddings}), got {padding_idx}"
                )
            padding_idx = padding_idx % self.num_embeddings
        self.padding_idx = padding_idx
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        shape = (self.num_embeddings, self.embedding_dim)
        if _weight is None:
            arr = generator().standard_normal(shape).astype(as_dtype(dtype) or get_default_dtype())
            if padding_idx is not None:
                arr[padding_idx] = 0
        else:
            arr = np.array(_weight._data if isinstance(_weight, Tensor) else _weight)
            if arr.shape != shape:
                raise ValueError(
                    f"Embedding: _weight must have shape {shape}, got {tuple(arr.shape)}"
                )
        self.weight = Parameter(arr, requires_grad=not _freeze)

    @classmethod
    def from_pretrained(
        cls, embeddings: Tensor, freeze: bool = True, padding_idx: int | None = None, **kwargs
    ) -> Embedding:
        """An Embedding holding a copy of ``embeddings`` (2-D), frozen unless freeze=False."""
        if embeddings.ndim != 2:
            raise ValueError(
                f"Embedding.from_pretrained: embeddings must be 2-D, got {tuple(embeddings.shape)}"
            )
        rows, cols = embeddings.shape
        return cls(rows, cols, padding_idx, _weight=embeddings, _freeze=freeze, **kwargs)

    def forward(self, indices) -> Tensor:
        idx = indices._data if isinstance(indices, Tensor) else np.asarray(indices)
        if idx.dtype.kind not in "iu":
            raise TypeError(
                f"Embedding: indices must be integers (int64), got dtype {idx.dtype}; use "
                f"indices.long()"
            )
        if idx.size and (idx.min() < 0 or idx.max() >= self.num_embeddings):
            bad = idx[(idx < 0) | (idx >= self.num_embeddings)].flat[0]
            raise IndexError(
                f"Embedding: index {bad} is out of range for {self.num_embeddings} embeddings "
                f"(indices must be in 0..{self.num_embeddings - 1})"
            )
        rows = self.weight[idx]  # (*idx.shape, embedding_dim)
        if self.padding_idx is None:
            return rows
        keep = (idx != self.padding_idx)[..., None]
        return _ew.where(keep, rows, rows.detach())

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        return text
