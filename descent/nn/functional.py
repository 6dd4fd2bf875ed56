"""``ds.nn.functional`` (import it as F): activations, linear, conv2d, pooling, dropout, losses.

Names and argument orders are PyTorch's. Where PyTorch only warns about a likely bug (a
loss whose input and target shapes differ but broadcast), these functions raise a
``ValueError`` that names both shapes and how to fix them. float32 in gives float32 out.

The activations (relu, sigmoid, tanh, leaky_relu, softmax, log_softmax), pad and one_hot
are the ops of ``descent`` itself, re-exported under PyTorch's functional names.

>>> import descent.nn.functional as F
>>> logits = ds.tensor([[2.0, 0.5, -1.0]], requires_grad=True)
>>> F.cross_entropy(logits, ds.tensor([0]))
tensor(0.2413, grad_fn=<DivBackward0>)
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable

import numpy as np

from .. import random as _random
from ..ops import elementwise as _ew
from ..ops import nn as _nn
from ..ops.elementwise import _in_place, leaky_relu, relu, sigmoid, tanh
from ..ops.nn import one_hot
from ..ops.reduce import log_softmax, softmax
from ..ops.shape import pad
from ..tensor import Tensor, array_of, as_tensor, make_tensor

__all__ = [
    "relu", "sigmoid", "tanh", "leaky_relu", "gelu", "softmax", "log_softmax", "pad",
    "linear", "conv2d", "max_pool2d", "avg_pool2d", "dropout", "one_hot",
    "mse_loss", "l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "cross_entropy", "nll_loss", "multi_margin_loss", "multiclass_hinge_loss",
    "l1_penalty", "l2_penalty",
    "softplus", "elu", "selu", "celu", "silu", "mish", "hardtanh", "relu6", "hardsigmoid",
    "hardswish", "softsign", "logsigmoid", "threshold", "softmin", "prelu",
    "smooth_l1_loss", "huber_loss", "kl_div", "normalize", "cosine_similarity",
    "pairwise_distance", "margin_ranking_loss", "hinge_embedding_loss", "soft_margin_loss",
    "gaussian_nll_loss", "poisson_nll_loss",
    "dropout1d", "dropout2d", "adaptive_avg_pool2d", "conv1d", "max_pool1d", "avg_pool1d",
]  # fmt: skip

_REDUCTIONS = ("mean", "sum", "none")


# ---- helpers ---------------------------------------------------------------------------


def _tensor(x, name: str, what: str = "input") -> Tensor:
    """``x`` as a floating Tensor (arrays and lists are wrapped as ``ds.tensor`` wraps them)."""
    if not isinstance(x, Tensor):
        x = Tensor(x)
    if x.dtype.kind != "f":
        raise TypeError(
            f"{name}: {what} must be a floating tensor, got {x.dtype}; convert it with .float()"
        )
    return x


def _like(value, like: Tensor, name: str, what: str) -> Tensor | None:
    """``value`` (a Tensor, array or number) as a Tensor of ``like``'s floating dtype."""
    if value is None:
        return None
    t = as_tensor(value, like=like)
    if t.dtype != like.dtype:
        if t.dtype.kind not in "fiub":
            raise TypeError(f"{name}: {what} has unsupported dtype {t.dtype}")
        t = t.to(like.dtype)  # differentiable when t is floating
    return t


def _same_dtype(name: str, x: Tensor, other: Tensor | None, what: str) -> None:
    if other is not None and other.dtype != x.dtype:
        raise TypeError(
            f"{name}: input is {x.dtype} but {what} is {other.dtype}; convert one of them: "
            f"the input with x.to({what}.dtype) (ds.tensor keeps a NumPy array's dtype, so "
            f"pass dtype=ds.{other.dtype} there), or the layer with .to(ds.{x.dtype})"
        )


def _check_reduction(name: str, reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _legacy_reduction(name: str, size_average, reduce, reduction: str) -> str:
    """PyTorch's deprecated ``size_average`` and ``reduce``, where given, as a reduction:
    ``reduce=False`` is 'none', else ``size_average=False`` is 'sum' and True 'mean'."""
    if size_average is None and reduce is None:
        _check_reduction(name, reduction)
        return reduction
    if reduce is not None and not reduce:
        return "none"
    return "sum" if size_average is not None and not size_average else "mean"


def _not_supported(name: str, setting: str, value, default) -> None:
    """Refuse a PyTorch setting descent does not implement, naming it and its one value."""
    if value != default:
        raise NotImplementedError(
            f"{name}: {setting}={value!r} is not supported; descent has {setting}={default!r} only"
        )


def _reduce_loss(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _check_same_shape(name: str, input: Tensor, target: Tensor) -> None:  # noqa: A002
    """Refuse a target whose shape differs from the input's, even when they would broadcast."""
    if input._data.shape == target._data.shape:  # the arrays' shapes: no Size to build
        return
    try:
        wide = np.broadcast_shapes(input.shape, target.shape)
        what = f"they would broadcast to {wide}, comparing every prediction with every target"
    except ValueError:
        what = "they do not broadcast"
    raise ValueError(
        f"{name}: input shape {tuple(input.shape)} and target shape {tuple(target.shape)} differ "
        f"({what}). "
        f"Make them equal, e.g. input.squeeze(-1) or target.reshape{tuple(input.shape)}."
    )


def _pair(value, name: str, what: str) -> tuple[int, int]:
    """An int or a pair of ints as a pair of ints."""
    if isinstance(value, (int, np.integer)):
        return int(value), int(value)
    pair = tuple(value)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) for v in pair):
        raise ValueError(f"{name}: {what} must be an int or a pair of ints, got {value!r}")
    return int(pair[0]), int(pair[1])


def _images(x, name: str) -> tuple[Tensor, bool]:
    """``x`` as a batch of NCHW images; an unbatched (C, H, W) image gets a batch dim."""
    x = _tensor(x, name)
    if x.ndim == 3:
        return x.unsqueeze(0), True
    if x.ndim != 4:
        raise ValueError(
            f"{name}: expected a 4-d input (N, C, H, W) or a 3-d one (C, H, W), got shape "
            f"{tuple(x.shape)}"
        )
    return x, False


def _pool_args(x: Tensor, kernel_size, stride, padding, name: str):
    kernel = _pair(kernel_size, name, "kernel_size")
    stride = kernel if stride is None or stride == () or stride == [] else stride
    stride = _pair(stride, name, "stride")
    padding = _pair(padding, name, "padding")
    if min(kernel) < 1 or min(stride) < 1 or min(padding) < 0:
        raise ValueError(
            f"{name}: kernel_size {kernel} and stride {stride} must be positive and padding "
            f"{padding} non-negative"
        )
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise ValueError(f"{name}: padding {padding} must be at most half of kernel_size {kernel}")
    h, w = x._data.shape[2:]
    if h + 2 * padding[0] < kernel[0] or w + 2 * padding[1] < kernel[1]:
        raise ValueError(
            f"{name}: kernel_size {kernel} is larger than the padded input "
            f"({h + 2 * padding[0]}, {w + 2 * padding[1]}) (input shape {tuple(x.shape)}, padding "
            f"{padding})"
        )
    pads = ((padding[0], padding[0]), (padding[1], padding[1]))
    return kernel, stride, pads


# ---- layers -------------------------------------------------------------------------------


def _check_weight_and_bias(name: str, x: Tensor, weight: Tensor, bias: Tensor | None) -> None:
    """One bias per output (weight's first dim), and weight and bias of the input's dtype."""
    if bias is not None and bias._data.shape != (weight._data.shape[0],):
        raise ValueError(
            f"{name}: bias has shape {tuple(bias.shape)} but weight {tuple(weight.shape)} needs "
            f"({weight.shape[0]},)"
        )
    _same_dtype(name, x, weight, "weight")
    _same_dtype(name, x, bias, "bias")


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:  # noqa: A002
    """$y = x W^T + b$ with ``weight`` of shape (out_features, in_features); x is (*, in).

    >>> F.linear(ds.ones(2, 3), ds.ones(4, 3)).shape
    descent.Size([2, 4])
    """
    x = _tensor(input, "linear")
    weight = _tensor(weight, "linear", "weight")
    bias = None if bias is None else _tensor(bias, "linear", "bias")
    if weight.ndim != 2:
        raise ValueError(
            f"linear: weight must be 2-d (out_features, in_features), got shape "
            f"{tuple(weight.shape)}"
        )
    if x.ndim == 0 or x._data.shape[-1] != weight._data.shape[1]:
        n = x.shape[-1] if x.ndim else 0
        raise ValueError(
            f"linear: input has {n} features (last dim of shape {tuple(x.shape)}) but weight "
            f"{tuple(weight.shape)} expects {weight.shape[1]}"
        )
    _check_weight_and_bias("linear", x, weight, bias)
    return _nn.Linear.apply(x, weight, bias)


def conv2d(
    input: Tensor,  # noqa: A002 - PyTorch's name
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] | str = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
) -> Tensor:
    """2-d cross-correlation of NCHW images with ``weight`` (out_channels, in_channels, kh, kw).

    ``stride`` and ``padding`` are ints or (h, w) pairs; ``padding`` may also be 'valid'
    (none) or 'same' (output as large as the input, stride 1 only). An unbatched (C, H, W)
    input gives a (O, Ho, Wo) output. Output size: floor((H + 2 p - kh) / s) + 1.
    ``dilation`` and ``groups`` are PyTorch's; descent has their defaults (1) only.

    >>> F.conv2d(ds.ones(1, 3, 8, 8), ds.ones(4, 3, 3, 3), padding=1).shape
    descent.Size([1, 4, 8, 8])
    """
    _not_supported("conv2d", "dilation", _pair(dilation, "conv2d", "dilation"), (1, 1))
    _not_supported("conv2d", "groups", groups, 1)
    x, unbatched = _images(input, "conv2d")
    weight = _tensor(weight, "conv2d", "weight")
    bias = None if bias is None else _tensor(bias, "conv2d", "bias")
    if weight.ndim != 4:
        raise ValueError(
            f"conv2d: weight must be 4-d (out_channels, in_channels, kh, kw), got shape "
            f"{tuple(weight.shape)}"
        )
    if x._data.shape[1] != weight._data.shape[1]:
        raise ValueError(
            f"conv2d: input has {x.shape[1]} channels (shape {tuple(input.shape)}) but weight "
            f"{tuple(weight.shape)} expects {weight.shape[1]}"
        )
    _check_weight_and_bias("conv2d", x, weight, bias)
    stride = _pair(stride, "conv2d", "stride")
    kh, kw = weight._data.shape[2:]
    if isinstance(padding, str):
        if padding == "valid":
            pads = ((0, 0), (0, 0))
        elif padding == "same":
            if stride != (1, 1):
                raise ValueError(f"conv2d: padding='same' needs stride 1, got stride {stride}")
            pads = tuple((k - 1) // 2 for k in (kh, kw))
            pads = ((pads[0], kh - 1 - pads[0]), (pads[1], kw - 1 - pads[1]))
        else:
            raise ValueError(
                f"conv2d: padding must be an int, a pair, 'valid' or 'same', got {padding!r}"
            )
    else:
        ph, pw = _pair(padding, "conv2d", "padding")
        pads = ((ph, ph), (pw, pw))
    if min(stride) < 1 or min(min(p) for p in pads) < 0:
        raise ValueError(
            f"conv2d: stride {stride} must be positive and padding {padding} non-negative"
        )
    hp, wp = x._data.shape[2] + sum(pads[0]), x._data.shape[3] + sum(pads[1])
    if hp < kh or wp < kw:
        raise ValueError(
            f"conv2d: kernel ({kh}, {kw}) is larger than the padded input ({hp}, {wp}) "
            f"(input shape {tuple(input.shape)}, padding {padding})"
        )
    out = _nn.Conv2d.apply(x, weight, bias, stride=stride, pads=pads)
    return out.squeeze(0) if unbatched else out


def max_pool2d(
    input: Tensor,  # noqa: A002 - PyTorch's name
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor:
    """The maximum of each kernel_size window of NCHW images (stride defaults to kernel_size).

    Padding counts as -inf. The gradient goes to the first maximum of each window.
    ``dilation``, ``ceil_mode`` and ``return_indices`` are PyTorch's; descent has their
    defaults only.

    >>> F.max_pool2d(ds.randn(1, 1, 4, 4), 2).shape
    descent.Size([1, 1, 2, 2])
    """
    _not_supported("max_pool2d", "dilation", _pair(dilation, "max_pool2d", "dilation"), (1, 1))
    _not_supported("max_pool2d", "ceil_mode", bool(ceil_mode), False)
    _not_supported("max_pool2d", "return_indices", bool(return_indices), False)
    x, unbatched = _images(input, "max_pool2d")
    kernel, stride, pads = _pool_args(x, kernel_size, stride, padding, "max_pool2d")
    out = _nn.MaxPool2d.apply(x, kernel=kernel, stride=stride, pads=pads)
    return out.squeeze(0) if unbatched else out


def avg_pool2d(
    input: Tensor,  # noqa: A002 - PyTorch's name
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """The mean of each kernel_size window of NCHW images (stride defaults to kernel_size).

    Padding counts as zeros and, with count_include_pad=True (PyTorch's default), each
    window is divided by kh * kw; otherwise by the number of its elements inside the input.
    ``ceil_mode`` and ``divisor_override`` are PyTorch's; descent has their defaults only.
    """
    _not_supported("avg_pool2d", "ceil_mode", bool(ceil_mode), False)
    _not_supported("avg_pool2d", "divisor_override", divisor_override, None)
    x, unbatched = _images(input, "avg_pool2d")
    kernel, stride, pads = _pool_args(x, kernel_size, stride, padding, "avg_pool2d")
    out = _nn.AvgPool2d.apply(
        x, kernel=kernel, stride=stride, pads=pads, count_include_pad=count_include_pad
    )
    return out.squeeze(0) if unbatched else out


# ---- 1-d convolution and pooling (NCL sequences) -------------------------------------------


def _single(value, name: str, what: str) -> int:
    """An int or a 1-tuple of an int as an int (PyTorch's 1-d arguments take both)."""
    if isinstance(value, (int, np.integer)):
        return int(value)
    one = tuple(value)
    if len(one) != 1 or not isinstance(one[0], (int, np.integer)):
        raise ValueError(f"{name}: {what} must be an int or a 1-tuple of an int, got {value!r}")
    return int(one[0])


def _sequences(x, name: str) -> tuple[Tensor, bool]:
    """``x`` as a batch of NCL sequences; an unbatched (C, L) sequence gets a batch dim."""
    x = _tensor(x, name)
    if x.ndim == 2:
        return x.unsqueeze(0), True
    if x.ndim != 3:
        raise ValueError(
            f"{name}: expected a 3-d input (N, C, L) or a 2-d one (C, L), got shape "
            f"{tuple(x.shape)}"
        )
    return x, False


def conv1d(
    input: Tensor,  # noqa: A002 - PyTorch's name
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | tuple[int] = 1,
    padding: int | tuple[int] | str = 0,
    dilation: int | tuple[int] = 1,
    groups: int = 1,
) -> Tensor:
    """1-d cross-correlation of NCL sequences with ``weight`` (out_channels, in_channels /
    groups, k).

    ``padding`` is an int (zeros on both ends), 'valid' (none) or 'same' (output as long
    as the input, stride 1 only); ``dilation`` d spaces the taps d apart; ``groups`` G
    splits the channels into G blocks, output block g seeing input block g only. An
    unbatched (C, L) input gives a (O, Lo) output. Output length:
    floor((L + 2 p - d (k - 1) - 1) / s) + 1.

    >>> F.conv1d(ds.ones(2, 1, 40), ds.ones(25, 1, 5), stride=2, padding=1).shape
    descent.Size([2, 25, 19])
    """
    x, unbatched = _sequences(input, "conv1d")
    weight = _tensor(weight, "conv1d", "weight")
    bias = None if bias is None else _tensor(bias, "conv1d", "bias")
    if weight.ndim != 3:
        raise ValueError(
            f"conv1d: weight must be 3-d (out_channels, in_channels / groups, k), got shape "
            f"{tuple(weight.shape)}"
        )
    if not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"conv1d: groups must be a positive int, got {groups!r}")
    o, c_per_group, k = weight._data.shape
    c = x._data.shape[1]
    if c % groups or o % groups:
        raise ValueError(
            f"conv1d: groups={groups} must divide both the input's {c} channels and the "
            f"weight's {o} output channels"
        )
    if c != c_per_group * groups:
        raise ValueError(
            f"conv1d: input has {c} channels (shape {tuple(input.shape)}) but weight "
            f"{tuple(weight.shape)} with groups={groups} expects {c_per_group * groups}"
        )
    _check_weight_and_bias("conv1d", x, weight, bias)
    stride = _single(stride, "conv1d", "stride")
    dilation = _single(dilation, "conv1d", "dilation")
    if stride < 1 or dilation < 1:
        raise ValueError(f"conv1d: stride {stride} and dilation {dilation} must be positive")
    span = dilation * (k - 1) + 1  # the positions one window covers
    if isinstance(padding, str):
        if padding == "valid":
            pads = (0, 0)
        elif padding == "same":
            if stride != 1:
                raise ValueError(f"conv1d: padding='same' needs stride 1, got stride {stride}")
            pads = ((span - 1) // 2, span - 1 - (span - 1) // 2)
        else:
            raise ValueError(f"conv1d: padding must be an int, 'valid' or 'same', got {padding!r}")
    else:
        p = _single(padding, "conv1d", "padding")
        if p < 0:
            raise ValueError(f"conv1d: padding must be non-negative, got {p}")
        pads = (p, p)
    length = x._data.shape[2] + sum(pads)
    if length < span:
        raise ValueError(
            f"conv1d: the kernel spans {span} positions (k={k}, dilation={dilation}) but the "
            f"padded input has {length} (input shape {tuple(input.shape)}, padding {padding})"
        )
    out = _nn.Conv1d.apply(x, weight, bias, geom=(stride, dilation, pads, int(groups)))
    return out.squeeze(0) if unbatched else out


def _pool1d_args(x: Tensor, kernel_size, stride, padding, name: str):
    """(kernel, stride, pads) of a 1-d pooling, as the 2-d primitives take them (height 1)."""
    kernel = _single(kernel_size, name, "kernel_size")
    stride = kernel if stride is None or stride == () or stride == [] else stride
    stride = _single(stride, name, "stride")
    padding = _single(padding, name, "padding")
    if kernel < 1 or stride < 1 or padding < 0:
        raise ValueError(
            f"{name}: kernel_size {kernel} and stride {stride} must be positive and padding "
            f"{padding} non-negative"
        )
    if padding > kernel // 2:
        raise ValueError(f"{name}: padding {padding} must be at most half of kernel_size {kernel}")
    if x._data.shape[2] + 2 * padding < kernel:
        raise ValueError(
            f"{name}: kernel_size {kernel} is larger than the padded input "
            f"{x.shape[2] + 2 * padding} (input shape {tuple(x.shape)}, padding {padding})"
        )
    return (1, kernel), (1, stride), ((0, 0), (padding, padding))


def max_pool1d(
    input: Tensor,  # noqa: A002 - PyTorch's name
    kernel_size: int | tuple[int],
    stride: int | tuple[int] | None = None,
    padding: int | tuple[int] = 0,
    dilation: int | tuple[int] = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor:
    """The maximum of each kernel_size window of NCL sequences (stride defaults to
    kernel_size). Padding counts as -inf; the gradient goes to each window's first
    maximum. ``dilation``, ``ceil_mode`` and ``return_indices`` are PyTorch's; descent has
    their defaults only.

    >>> F.max_pool1d(ds.randn(2, 3, 8), 2).shape
    descent.Size([2, 3, 4])
    """
    _not_supported("max_pool1d", "dilation", _single(dilation, "max_pool1d", "dilation"), 1)
    _not_supported("max_pool1d", "ceil_mode", bool(ceil_mode), False)
    _not_supported("max_pool1d", "return_indices", bool(return_indices), False)
    x, unbatched = _sequences(input, "max_pool1d")
    kernel, stride, pads = _pool1d_args(x, kernel_size, stride, padding, "max_pool1d")
    # NOTE: a sequence is an image of height 1: the 2-d rules (and their double backward)
    # serve, and the two reshapes around them are views
    out = _nn.MaxPool2d.apply(x.unsqueeze(2), kernel=kernel, stride=stride, pads=pads)
    return out.squeeze(2).squeeze(0) if unbatched else out.squeeze(2)


def avg_pool1d(
    input: Tensor,  # noqa: A002 - PyTorch's name
    kernel_size: int | tuple[int],
    stride: int | tuple[int] | None = None,
    padding: int | tuple[int] = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """The mean of each kernel_size window of NCL sequences (stride defaults to kernel_size).

    Padding counts as zeros; with count_include_pad=True (PyTorch's default) each window
    is divided by k, otherwise by the number of its elements inside the input.
    ``ceil_mode`` is PyTorch's; descent has its default only.

    >>> F.avg_pool1d(ds.ones(2, 3, 8), 4).shape
    descent.Size([2, 3, 2])
    """
    _not_supported("avg_pool1d", "ceil_mode", bool(ceil_mode), False)
    x, unbatched = _sequences(input, "avg_pool1d")
    kernel, stride, pads = _pool1d_args(x, kernel_size, stride, padding, "avg_pool1d")
    out = _nn.AvgPool2d.apply(
        x.unsqueeze(2), kernel=kernel, stride=stride, pads=pads,
        count_include_pad=count_include_pad,
    )  # fmt: skip
    return out.squeeze(2).squeeze(0) if unbatched else out.squeeze(2)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:  # noqa: A002
    """Inverted dropout: each element is zeroed with probability p, the rest scaled by 1/(1-p).

    The mask comes from descent's generator (``ds.manual_seed`` repeats it). When not
    training, or p == 0, ``input`` is returned unchanged; p == 1 gives zeros.
    ``inplace=True`` writes the result into input where no graph needs it (as ``F.relu``).
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability p must be in [0, 1], got {p}")
    x = _tensor(input, "dropout")
    if not training or p == 0:
        return x
    if p == 1:
        mask = np.zeros(x.shape, x.dtype)
    else:
        mask = _random.draw(functools.partial(_dropout_mask, x.shape, x.dtype, p))
    out = _ew.mul(x, make_tensor(mask))
    return _in_place(x, out) if inplace else out


def _dropout_mask(shape: tuple, dtype, p: float, rng) -> np.ndarray:
    """Inverted dropout's mask: 0 with probability p, else 1/(1-p) (drawn through
    ``random.draw``, so a compiled step draws it afresh on every replay)."""
    keep = rng.random(shape, dtype=dtype) >= p
    return np.where(keep, np.asarray(1.0 / (1.0 - p), dtype), np.asarray(0, dtype))


def _channel_dropout(x: Tensor, p: float, training: bool, inplace: bool, name: str) -> Tensor:
    """Whole channels zeroed: one keep-or-drop draw per (example, channel), scaled by 1/(1-p).

    ``x`` is (N, C, *spatial) or, unbatched, (C, *spatial) as the caller has decided; the
    mask has x's leading dims and 1 in each of the ``spatial`` ones.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{name}: probability p must be in [0, 1], got {p}")
    if not training or p == 0:
        return x
    spatial = 1 if name == "dropout1d" else 2
    shape = x.shape[:-spatial] + (1,) * spatial  # (N, C, 1, 1) for dropout2d
    if p == 1:
        mask = np.zeros(shape, x.dtype)
    else:
        mask = _random.draw(functools.partial(_dropout_mask, shape, x.dtype, p))
    out = _ew.mul(x, make_tensor(mask))
    return _in_place(x, out) if inplace else out


def dropout1d(
    input: Tensor,  # noqa: A002
    p: float = 0.5,
    training: bool = True,
    inplace: bool = False,
) -> Tensor:
    """Channel dropout of (N, C, L) or unbatched (C, L) inputs: each channel is zeroed
    whole with probability p, the rest scaled by 1/(1-p); identity when not training.

    The mask comes from descent's generator (``ds.manual_seed`` repeats it).
    """
    x = _tensor(input, "dropout1d")
    if x.ndim not in (2, 3):
        raise ValueError(
            f"dropout1d: Expected 2D or 3D input, but received a {x.ndim}D input (shape "
            f"{tuple(x.shape)}); give (N, C, L) or (C, L)"
        )
    return _channel_dropout(x, p, training, inplace, "dropout1d")


def dropout2d(
    input: Tensor,  # noqa: A002
    p: float = 0.5,
    training: bool = True,
    inplace: bool = False,
) -> Tensor:
    """Channel dropout of (N, C, H, W) inputs: each channel is zeroed whole with
    probability p, the rest scaled by 1/(1-p); identity when not training.

    As PyTorch's, a 3-D input is taken as (N, C, L) and gets 1-D channel dropout.
    """
    x = _tensor(input, "dropout2d")
    if x.ndim == 3:
        return _channel_dropout(x, p, training, inplace, "dropout1d")
    if x.ndim != 4:
        raise ValueError(
            f"dropout2d: Expected 3D or 4D input, but received a {x.ndim}D input (shape "
            f"{tuple(x.shape)}); give (N, C, H, W)"
        )
    return _channel_dropout(x, p, training, inplace, "dropout2d")


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:  # noqa: A002
    """Average pooling to ``output_size`` (oh, ow) over (N, C, H, W) or (C, H, W) inputs;
    an int is (n, n), and None keeps that input size.

    Supported where H and W are multiples of oh and ow, as in global pooling (1, 1): the
    pools are then the (H/oh, W/ow) blocks, a reshape and a mean, so every derivative
    follows from those ops.

    >>> F.adaptive_avg_pool2d(ds.ones(2, 3, 8, 6), 1).shape
    (2, 3, 1, 1)
    """
    x = _tensor(input, "adaptive_avg_pool2d")
    if x.ndim not in (3, 4):
        raise ValueError(
            f"adaptive_avg_pool2d: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got "
            f"shape {tuple(x.shape)}"
        )
    h, w = x.shape[-2:]
    sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * 2
    if len(sizes) != 2:
        raise ValueError(
            f"adaptive_avg_pool2d: output_size must be an int or a pair, got {output_size!r}"
        )
    oh, ow = (h if sizes[0] is None else sizes[0]), (w if sizes[1] is None else sizes[1])
    for n in (oh, ow):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(
                f"adaptive_avg_pool2d: output_size must hold positive ints (or None), got "
                f"{output_size!r}"
            )
    if h % oh or w % ow:
        raise NotImplementedError(
            f"adaptive_avg_pool2d: input size ({h}, {w}) is not a multiple of output size "
            f"({oh}, {ow}); descent pools equal blocks only, so choose an output size that "
            f"divides the input size"
        )
    blocks = x.reshape(*x.shape[:-2], oh, h // oh, ow, w // ow)  # (N, C, oh, kh, ow, kw)
    return blocks.mean(dim=(-3, -1))


def gelu(input: Tensor, approximate: str = "none") -> Tensor:  # noqa: A002 - PyTorch's names
    """$x \\Phi(x) = \\frac{x}{2} (1 + \\mathrm{erf}(x / \\sqrt 2))$, PyTorch's default; with
    ``approximate='tanh'``, $\\frac{x}{2} (1 + \\tanh(\\sqrt{2/\\pi} (x + 0.044715 x^3)))$.

    A composite of erf (or tanh) and arithmetic, so its gradient needs no rule of its own.

    >>> F.gelu(ds.tensor([-1.0, 0.0, 1.0]))
    tensor([-0.1587,  0.    ,  0.8413])
    """
    x = _tensor(input, "gelu")
    if approximate == "none":
        return x * 0.5 * (_ew.erf(x * _SQRT_HALF) + 1.0)
    if approximate == "tanh":
        inner = (x + x * x * x * 0.044715) * _SQRT_2_OVER_PI
        return x * 0.5 * (_ew.tanh(inner) + 1.0)
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


_SQRT_HALF = math.sqrt(0.5)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


# ---- more losses and distances: composites of descent's ops ---------------------------------


def _loss_pair(name: str, input, target) -> tuple[Tensor, Tensor]:  # noqa: A002
    x = _tensor(input, name)
    t = _like(target, x, name, "target")
    _check_same_shape(name, x, t)
    return x, t


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,  # noqa: A002
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:  # fmt: skip
    """$0.5 d^2 / \\beta$ where $|d| < \\beta$, else $|d| - 0.5 \\beta$ ($d = x - y$);
    beta = 0 is the L1 loss."""
    reduction = _legacy_reduction("smooth_l1_loss", size_average, reduce, reduction)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
    x, t = _loss_pair("smooth_l1_loss", input, target)
    d = x - t
    if beta == 0:
        return _reduce_loss(_ew.abs(d), reduction)
    size = _ew.abs(d)
    small = size < beta  # a comparison, which ds.compile replays on each call's values
    return _reduce_loss(_ew.where(small, d * d * (0.5 / beta), size - 0.5 * beta), reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,  # noqa: A002
               weight: Tensor | None = None) -> Tensor:  # fmt: skip
    """$0.5 d^2$ where $|d| \\le \\delta$, else $\\delta (|d| - 0.5 \\delta)$ ($d = x - y$)."""
    _check_reduction("huber_loss", reduction)
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be > 0, got {delta}")
    x, t = _loss_pair("huber_loss", input, target)
    d = x - t
    size = _ew.abs(d)
    small = size < delta
    errors = _ew.where(small, d * d * 0.5, (size - 0.5 * delta) * delta)
    if weight is not None:
        return _weighted_errors("huber_loss", errors, weight, reduction)
    return _reduce_loss(errors, reduction)


def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None,  # noqa: A002
           reduction: str = "mean", log_target: bool = False) -> Tensor:  # fmt: skip
    """$y (\\log y - x)$ with x log-probabilities and y probabilities (0 where y = 0); with
    ``log_target``, $e^y (y - x)$. 'batchmean' divides the sum by the batch size (dim 0),
    the true KL divergence; 'mean' (PyTorch's default) divides by every element."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction("kl_div", size_average, reduce, "mean")
    elif reduction != "batchmean":
        _check_reduction("kl_div", reduction)
    x, t = _loss_pair("kl_div", input, target)
    if log_target:
        pointwise = _ew.exp(t) * (t - x)
    else:
        positive = t > 0
        one = make_tensor(np.ones((), x.dtype))
        log_t = _ew.log(_ew.where(positive, t, one))  # log 1 = 0 where y = 0: no nan
        pointwise = _ew.where(positive, t * (log_t - x), t * 0.0)
    if reduction == "batchmean":
        total = pointwise.sum()
        return total / x.shape[0] if x.ndim > 0 else total
    return _reduce_loss(pointwise, reduction)


def _norm(x: Tensor, p: float, dim, keepdim: bool) -> Tensor:
    """The p-norm along ``dim``: $(\\sum |x|^p)^{1/p}$ (p = 2: the square root of sum x^2)."""
    if p == 2:
        return (x * x).sum(dim=dim, keepdim=keepdim).sqrt()
    if p == 1:
        return _ew.abs(x).sum(dim=dim, keepdim=keepdim)
    if p <= 0 or math.isinf(p):
        raise NotImplementedError(f"p-norm with p = {p} is not supported; give p > 0, finite")
    return (_ew.abs(x) ** p).sum(dim=dim, keepdim=keepdim) ** (1.0 / p)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out=None) -> Tensor:  # noqa: A002
    """$x / \\max(\\|x\\|_p, \\epsilon)$ along ``dim``."""
    _not_supported("normalize", "out", out, None)
    x = _tensor(input, "normalize")
    return x / _norm(x, p, dim, keepdim=True).clamp(min=eps)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """$\\sum \\hat x_1 \\hat x_2$ along ``dim``, each x divided by $\\max(\\|x\\|, \\epsilon)$
    (PyTorch's order, which keeps the result within [-1, 1]); x1 and x2 are broadcast first."""
    a = _tensor(x1, "cosine_similarity", "x1")
    b = _like(x2, a, "cosine_similarity", "x2")
    shape = np.broadcast_shapes(a.shape, b.shape)
    a, b = a.expand(*shape), b.expand(*shape)
    a1 = a / _norm(a, 2, dim, keepdim=True).clamp(min=eps)
    b1 = b / _norm(b, 2, dim, keepdim=True).clamp(min=eps)
    return (a1 * b1).sum(dim=dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:  # fmt: skip
    """$\\|x_1 - x_2 + \\epsilon\\|_p$ along the last dim (x1 and x2 broadcast)."""
    a = _tensor(x1, "pairwise_distance", "x1")
    b = _like(x2, a, "pairwise_distance", "x2")
    d = a - b + eps
    return _norm(d, p, -1 if d.ndim else None, keepdim)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                        size_average=None, reduce=None,
                        reduction: str = "mean") -> Tensor:  # fmt: skip
    """$\\max(0, -y (x_1 - x_2) + m)$ with y = 1 (x1 should rank higher) or -1."""
    reduction = _legacy_reduction("margin_ranking_loss", size_average, reduce, reduction)
    a = _tensor(input1, "margin_ranking_loss", "input1")
    b = _like(input2, a, "margin_ranking_loss", "input2")
    y = _like(target, a, "margin_ranking_loss", "target")
    return _reduce_loss(relu(-y * (a - b) + margin), reduction)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, size_average=None,  # noqa: A002
                         reduce=None, reduction: str = "mean") -> Tensor:  # fmt: skip
    """x where y = 1, $\\max(0, m - x)$ where y = -1."""
    reduction = _legacy_reduction("hinge_embedding_loss", size_average, reduce, reduction)
    x = _tensor(input, "hinge_embedding_loss")
    y = _like(target, x, "hinge_embedding_loss", "target").detach()
    zero = make_tensor(np.zeros((), x.dtype))
    below = _ew.where(y != 1, relu(-x + margin), zero)
    above = _ew.where(y != -1, x, zero)
    return _reduce_loss(below + above, reduction)


def soft_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,  # noqa: A002
                     reduction: str = "mean") -> Tensor:  # fmt: skip
    """$\\log(1 + e^{-y x})$ with y = 1 or -1."""
    reduction = _legacy_reduction("soft_margin_loss", size_average, reduce, reduction)
    x, y = _loss_pair("soft_margin_loss", input, target)
    return _reduce_loss(softplus(-y * x), reduction)


def gaussian_nll_loss(input: Tensor, target: Tensor, var, full: bool = False, eps: float = 1e-6,  # noqa: A002
                      reduction: str = "mean") -> Tensor:  # fmt: skip
    """$\\frac12 (\\log \\max(v, \\epsilon) + (x - y)^2 / \\max(v, \\epsilon))$, plus
    $\\frac12 \\log 2\\pi$ when ``full``. var has the input's shape, or one dim fewer, or
    size 1 in the last dim (one variance for a whole vector), or is a number."""
    _check_reduction("gaussian_nll_loss", reduction)
    x, t = _loss_pair("gaussian_nll_loss", input, target)
    v = _like(var, x, "gaussian_nll_loss", "var")
    if v.shape != x.shape:
        if x.ndim and v.shape == x.shape[:-1]:
            v = v.unsqueeze(-1)
        elif not (v.ndim == x.ndim and v.shape[:-1] == x.shape[:-1] and v.shape[-1:] == (1,)):
            if v.numel() != 1:
                raise ValueError(
                    f"gaussian_nll_loss: var of shape {v.shape} does not fit the input's "
                    f"{x.shape}: give the input's shape, one dim fewer, or 1 in the last dim"
                )
    if np.any(v._data < 0):  # a check of the values: it raises, it computes nothing
        raise ValueError("gaussian_nll_loss: var has a negative entry")
    # NOTE: PyTorch clamps var without recording it, so the gradient passes the clamp as
    # if it were not there; here the clamp is a where() on a detached bound, the same
    v = _ew.where(v < eps, v - v.detach() + eps, v)
    loss = (_ew.log(v) + (x - t) * (x - t) / v) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce_loss(loss, reduction)


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,  # noqa: A002
                     size_average=None, eps: float = 1e-8, reduce=None,
                     reduction: str = "mean") -> Tensor:  # fmt: skip
    """$e^x - y x$ for a log-rate x (``log_input``), else $x - y \\log(x + \\epsilon)$; with
    ``full``, Stirling's $y \\log y - y + \\frac12 \\log(2 \\pi y)$ added where y > 1."""
    reduction = _legacy_reduction("poisson_nll_loss", size_average, reduce, reduction)
    x, t = _loss_pair("poisson_nll_loss", input, target)
    loss = _ew.exp(x) - t * x if log_input else x - t * _ew.log(x + eps)
    if full:
        big = t > 1
        one = make_tensor(np.ones((), x.dtype))
        safe = _ew.where(big, t, one)
        stirling = safe * _ew.log(safe) - safe + _ew.log(safe * (2 * math.pi)) * 0.5
        loss = loss + _ew.where(big, stirling, t * 0.0)
    return _reduce_loss(loss, reduction)


# ---- more activations: composites of descent's ops, so they need no rules of their own ----


def _activation_out(x: Tensor, out: Tensor, inplace: bool) -> Tensor:
    return _in_place(x, out) if inplace else out


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:  # noqa: A002
    """$\\frac{1}{\\beta} \\log(1 + e^{\\beta x})$, and x itself where $\\beta x$ > threshold.

    >>> F.softplus(ds.tensor([0.0, 30.0]))
    tensor([ 0.6931, 30.    ])
    """
    x = _tensor(input, "softplus")
    z = x * beta
    linear = z > threshold
    # NOTE: exp of the clamped z stays finite, so the branch where() drops has a finite
    # gradient (0 * inf would give nan)
    smooth = (_ew.exp(z.clamp(max=threshold)) + 1.0).log() / beta
    return _ew.where(linear, x, smooth)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """x where x > 0, else $\\alpha (e^x - 1)$."""
    x = _tensor(input, "elu")
    # NOTE: exp of min(x, 0), so the branch where() drops cannot overflow
    out = _ew.where(x > 0, x, (_ew.exp(x.clamp(max=0.0)) - 1.0) * alpha)
    return _activation_out(x, out, inplace)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """$\\lambda \\, \\mathrm{elu}(x, \\alpha)$ with PyTorch's $\\lambda \\approx 1.0507$ and
    $\\alpha \\approx 1.6733$ (self-normalising)."""
    x = _tensor(input, "selu")
    return _activation_out(x, elu(x, _SELU_ALPHA) * _SELU_SCALE, inplace)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """x where x > 0, else $\\alpha (e^{x / \\alpha} - 1)$."""
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0 (it divides x)")
    x = _tensor(input, "celu")
    out = _ew.where(x > 0, x, (_ew.exp(x.clamp(max=0.0) / alpha) - 1.0) * alpha)
    return _activation_out(x, out, inplace)


def silu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """$x \\, \\sigma(x)$ (swish)."""
    x = _tensor(input, "silu")
    return _activation_out(x, x * sigmoid(x), inplace)


def mish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """$x \\tanh(\\mathrm{softplus}(x))$."""
    x = _tensor(input, "mish")
    return _activation_out(x, x * tanh(softplus(x)), inplace)


def hardtanh(
    input: Tensor,  # noqa: A002 - PyTorch's names
    min_val: float = -1.0,
    max_val: float = 1.0,
    inplace: bool = False,
) -> Tensor:
    """x clamped to [min_val, max_val]; gradient 1 strictly between the bounds, else 0."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) must not exceed max_val ({max_val})")
    x = _tensor(input, "hardtanh")
    bounded = x.detach().clamp(min_val, max_val)
    out = _ew.where((x > min_val).logical_and(x < max_val), x, bounded)
    return _activation_out(x, out, inplace)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """$\\min(\\max(0, x), 6)$."""
    return hardtanh(input, 0.0, 6.0, inplace)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """$\\mathrm{relu6}(x + 3) / 6$: 0 below -3, 1 above 3, linear between (gradient 0 at
    -3 and 3, as PyTorch's)."""
    x = _tensor(input, "hardsigmoid")
    return _activation_out(x, hardtanh(x + 3.0, 0.0, 6.0) / 6.0, inplace)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """$x \\, \\mathrm{relu6}(x + 3) / 6$: 0 up to -3, x from 3 on (gradients 0 and 1 there,
    as PyTorch's)."""
    x = _tensor(input, "hardswish")
    zero = make_tensor(np.zeros((), x.dtype))
    middle = _ew.where(x < 3.0, x * (x + 3.0) / 6.0, x)
    return _activation_out(x, _ew.where(x <= -3.0, zero, middle), inplace)


def softsign(input: Tensor) -> Tensor:  # noqa: A002
    """$x / (1 + |x|)$."""
    x = _tensor(input, "softsign")
    return x / (_ew.abs(x) + 1.0)


def logsigmoid(input: Tensor) -> Tensor:  # noqa: A002
    """$\\log \\sigma(x)$: $x - \\log(1 + e^x)$ for x < 0, $-\\log(1 + e^{-x})$ otherwise (no
    overflow on either side; gradient 1/2 at 0)."""
    x = _tensor(input, "logsigmoid")
    negative = x < 0
    zero = make_tensor(np.zeros((), x.dtype))
    below, above = _ew.where(negative, x, zero), _ew.where(negative, zero, x)
    return below - (_ew.exp(below - above) + 1.0).log()


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:  # noqa: A002
    """x where x > threshold, else ``value``."""
    x = _tensor(input, "threshold")
    filler = make_tensor(np.full(x.shape, value, x.dtype))
    return _activation_out(x, _ew.where(x > threshold, x, filler), inplace)


def softmin(input: Tensor, dim=None, _stacklevel: int = 3, dtype=None) -> Tensor:  # noqa: A002
    """$\\mathrm{softmax}(-x)$ along ``dim``."""
    return softmax(-_tensor(input, "softmin"), dim, dtype=dtype)


def prelu(input: Tensor, weight: Tensor) -> Tensor:  # noqa: A002
    """x where x > 0, else $a x$, with one slope a per channel (dim 1) or one slope for all
    (a weight of one element, the only choice for inputs of fewer than 2 dims, as in PyTorch).
    """
    x = _tensor(input, "prelu")
    w = _like(weight, x, "prelu", "weight")
    if w.ndim != 1:
        raise ValueError(f"prelu: weight must be 1-D, got shape {w.shape}")
    channels = x.shape[1] if x.ndim >= 2 else 1
    if w.shape[0] == 1:
        slope = w.reshape(())
    elif w.shape[0] == channels:
        slope = w.reshape((channels,) + (1,) * (x.ndim - 2))  # (C, 1, ..., 1): lines up with dim 1
    else:
        raise ValueError(
            f"prelu: weight has {w.shape[0]} slopes but the input {x.shape} has {channels} "
            f"channels; give one slope or one per channel"
        )
    return _ew.where(x > 0, x, x * slope)


# ---- regression and binary losses -----------------------------------------------------------


def _weighted_errors(name: str, errors: Tensor, weight, reduction: str) -> Tensor:
    """Elementwise errors times ``weight`` (the input's shape); 'mean' divides by its sum."""
    w = _like(weight, errors, name, "weight")
    if w.shape != errors.shape:
        raise ValueError(
            f"{name}: weight must have the input's shape {tuple(errors.shape)}, got "
            f"{tuple(w.shape)}"
        )
    weighted = errors * w
    if reduction == "mean":
        return weighted.sum() / w.sum()
    return _reduce_loss(weighted, reduction)


def mse_loss(input: Tensor, target: Tensor, *, size_average=None, reduce=None,  # noqa: A002
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:  # fmt: skip
    """Squared error $(x - y)^2$, averaged (or summed) over all elements.

    input and target must have one shape: (B, 1) predictions against (B,) targets raise a
    ValueError instead of silently broadcasting to (B, B). A ``weight`` of the input's
    shape scales each error, and 'mean' is then divided by its sum, as in PyTorch;
    ``size_average`` and ``reduce`` are PyTorch's deprecated forms of ``reduction``.
    """
    reduction = _legacy_reduction("mse_loss", size_average, reduce, reduction)
    input = _tensor(input, "mse_loss")  # noqa: A001
    target = _like(target, input, "mse_loss", "target")
    _check_same_shape("mse_loss", input, target)
    diff = input - target
    if weight is not None:
        return _weighted_errors("mse_loss", diff * diff, weight, reduction)
    return _reduce_loss(diff * diff, reduction)


def l1_loss(input: Tensor, target: Tensor, *, size_average=None, reduce=None,  # noqa: A002
            reduction: str = "mean", weight: Tensor | None = None) -> Tensor:  # fmt: skip
    """Absolute error $|x - y|$, averaged (or summed) over all elements; shapes must match.

    ``weight``, ``size_average`` and ``reduce`` as for ``mse_loss``."""
    reduction = _legacy_reduction("l1_loss", size_average, reduce, reduction)
    input = _tensor(input, "l1_loss")  # noqa: A001
    target = _like(target, input, "l1_loss", "target")
    _check_same_shape("l1_loss", input, target)
    if weight is not None:
        return _weighted_errors("l1_loss", _ew.abs(input - target), weight, reduction)
    return _reduce_loss(_ew.abs(input - target), reduction)


def _elementwise_weight(weight, x: Tensor, name: str, what: str = "weight") -> Tensor | None:
    """A weight that must broadcast to the input's shape without enlarging it."""
    w = _like(weight, x, name, what)
    if w is not None:
        try:
            fits = np.broadcast_shapes(w.shape, x.shape) == x.shape
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(
                f"{name}: {what} of shape {tuple(w.shape)} does not broadcast to the input's shape "
                f"{tuple(x.shape)}"
            )
    return w


def _within_0_1(a: np.ndarray) -> bool:
    """Every value in [0, 1] (NaN is not). NOTE: the ufuncs' own reductions, about half the
    cost of np.min/np.max on the small arrays of a loss called every step."""
    return bool(np.minimum.reduce(a, axis=None) >= 0 and np.maximum.reduce(a, axis=None) <= 1)


def _check_binary_targets(name: str, target: Tensor) -> None:
    """Targets of a binary cross-entropy are probabilities of the positive class, in [0, 1].

    NOTE: PyTorch checks this for ``binary_cross_entropy`` only. Outside [0, 1] both forms
    stop being a cross-entropy and have no minimum (with a target of 2 the loss falls
    without end as the prediction grows), so training on such targets goes wrong silently;
    both refuse them here (principle 6: a likely bug is an error). A target that requires
    grad is a computed value being differentiated (soft targets, or a numerical gradient
    check stepping off 0 and 1), not data, and is not checked.
    """
    t = target._data
    if target.requires_grad or t.size == 0 or _within_0_1(t):
        return
    bad = ~((t >= 0) & (t <= 1))
    raise ValueError(
        f"{name}: target values must be in [0, 1] (the probability of the positive class), "
        f"got {float(t[bad].flat[0])} ({int(bad.sum())} of {t.size} values outside); map "
        f"class labels such as -1/1 or 1/2 to 0/1, and for more than two classes use "
        f"cross_entropy"
    )


def binary_cross_entropy(
    input: Tensor,  # noqa: A002 - PyTorch's name
    target: Tensor,
    weight: Tensor | None = None,
    *,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """$-w (y \\log x + (1 - y) \\log(1 - x))$ for probabilities x in [0, 1].

    Each log is clamped at -100, as PyTorch does, so x = 0 or 1 gives a finite loss. For
    logits use ``binary_cross_entropy_with_logits``, which is more stable. Targets must
    lie in [0, 1], as PyTorch requires.
    """
    name = "binary_cross_entropy"
    reduction = _legacy_reduction(name, size_average, reduce, reduction)
    input = _tensor(input, name)  # noqa: A001
    target = _like(target, input, name, "target")
    _check_same_shape(name, input, target)
    _check_binary_targets(name, target)
    w = _elementwise_weight(weight, input, name)
    x = input._data
    if x.size and not _within_0_1(x):
        raise ValueError(
            f"{name}: all input values must be probabilities in [0, 1], got values in "
            f"[{np.min(x)}, {np.max(x)}]; apply sigmoid first or use "
            f"binary_cross_entropy_with_logits"
        )
    loss = _nn.BinaryCrossEntropy.apply(input, target)
    if w is not None:
        loss = loss * w
    return _reduce_loss(loss, reduction)


def binary_cross_entropy_with_logits(
    input: Tensor,  # noqa: A002 - PyTorch's name
    target: Tensor,
    weight: Tensor | None = None,
    *,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """$-w (q y \\log \\sigma(x) + (1 - y) \\log(1 - \\sigma(x)))$ from logits x, computed stably.

    Uses $\\max(x, 0) - x y + \\log(1 + e^{-|x|})$ (for pos_weight q = 1), finite for any x;
    ``pos_weight`` (e.g. one per class, shape (C,)) weighs the positive targets. Targets
    must lie in [0, 1]: PyTorch does not check them here, descent does (outside [0, 1] the
    loss has no minimum).
    """
    name = "binary_cross_entropy_with_logits"
    reduction = _legacy_reduction(name, size_average, reduce, reduction)
    input = _tensor(input, name)  # noqa: A001
    target = _like(target, input, name, "target")
    _check_same_shape(name, input, target)
    _check_binary_targets(name, target)
    w = _elementwise_weight(weight, input, name)
    q = _elementwise_weight(pos_weight, input, name, "pos_weight")
    loss = _nn.BinaryCrossEntropyWithLogits.apply(input, target, q)
    if w is not None:
        loss = loss * w
    return _reduce_loss(loss, reduction)


# ---- classification losses -----------------------------------------------------------------


def _class_input(value, name: str) -> Tensor:
    x = _tensor(value, name)
    if x.ndim == 0:
        raise ValueError(f"{name}: input must have a class dim: (C,), (N, C) or (N, C, d1, ...)")
    return x


def _class_weight(weight, x: Tensor, num_classes: int, name: str) -> np.ndarray | None:
    """A per-class weight as a constant array of x's dtype (not differentiated)."""
    if weight is None:
        return None
    w = weight._data if isinstance(weight, Tensor) else np.asarray(weight)
    if w.dtype != x.dtype:  # cast by an op, so that ds.compile replays it on new weights
        w = _ew.computed(np.asarray, w, dtype=x.dtype)._data
    if w.shape != (num_classes,):
        raise ValueError(
            f"{name}: weight must have one entry per class, shape ({num_classes},), got "
            f"{tuple(w.shape)}"
        )
    return w


def _class_labels(target, x: Tensor, ignore_index: int | None, name: str) -> np.ndarray:
    """Checked integer class labels for input x of shape (C,), (N, C) or (N, C, d1, ...)."""
    y = target._data if isinstance(target, Tensor) else np.asarray(target)
    dim = 0 if x.ndim == 1 else 1
    num_classes = x.shape[dim]
    expected = () if x.ndim == 1 else (x.shape[0],) + x.shape[2:]
    if y.dtype.kind not in "iu":
        raise TypeError(
            f"{name}: class-index targets must be integers (int64), got dtype {y.dtype} with "
            f"shape {tuple(y.shape)}; use target.long(), or pass class probabilities of the "
            f"input's "
            f"shape {tuple(x.shape)}"
        )
    if y.shape != expected:
        if x.ndim >= 2 and y.ndim >= 1 and y.shape[0] != x.shape[0]:
            raise ValueError(
                f"{name}: input batch size {x.shape[0]} (shape {tuple(x.shape)}) does not match "
                f"target batch size {y.shape[0]} (shape {tuple(y.shape)})"
            )
        raise ValueError(
            f"{name}: for input of shape {tuple(x.shape)}, class-index targets must have shape "
            f"{expected}, got {tuple(y.shape)}"
        )
    bad = (y < 0) | (y >= num_classes)  # a check of the values: it raises, it computes nothing
    if ignore_index is not None:
        bad &= y != ignore_index
    if bad.any():
        raise _nn.label_range_error(name, int(y[bad].flat[0]), num_classes, ignore_index)
    return y


def _mean_over(total: Tensor, weights: Tensor) -> Tensor:
    """``total / weights.sum()``; a zero sum (everything ignored) gives nan, as in PyTorch."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return total / weights.sum()


def cross_entropy(
    input: Tensor,  # noqa: A002 - PyTorch's name
    target: Tensor,
    weight: Tensor | None = None,
    *,
    size_average=None,
    ignore_index: int = -100,
    reduce=None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Softmax cross-entropy from logits: $-\\sum_c t_c \\log \\mathrm{softmax}(x)_c$ per example.

    ``input`` is (N, C), (C,) or (N, C, d1, ...); ``target`` holds class indices (int64,
    shape (N,) or (N, d1, ...)) or class probabilities (input's shape). Exactly PyTorch's
    semantics: ``weight`` scales each class, examples whose label is ``ignore_index`` count
    for nothing, ``label_smoothing`` eps mixes the target with the uniform distribution,
    and 'mean' over class indices divides by the summed weights of the counted examples.

    Three paths (p = softmax(x)); the derivative of each is in ``descent/ops/nn.py``, under
    "softmax cross-entropy", forward beside backward:

    - the mean over (N, C) logits of class indices, without weight, ignored labels or
      smoothing: one fused op, ``LabelCrossEntropy``, $dx = (p - \\mathrm{onehot}(y)) / N$;
    - other class indices: ``SoftmaxCrossEntropy`` with coefficients T from
      ``label_coefficients`` (the weighted one-hot, smoothed), $dx = p \\sum_c T_c - T$;
      'mean' then divides the sum by the summed weights (ops of their own);
    - class probabilities: ``SoftmaxCrossEntropy`` with T the (smoothed, weighted)
      probabilities, differentiable in them too, then the reduction.
    """
    name = "cross_entropy"
    reduction = _legacy_reduction(name, size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{name}: label_smoothing must be in [0, 1], got {label_smoothing}")
    x = _class_input(input, name)
    dim = 0 if x.ndim == 1 else 1
    num_classes = x.shape[dim]
    w = _class_weight(weight, x, num_classes, name)
    t_dtype = target.dtype if isinstance(target, Tensor) else np.asarray(target).dtype
    eps = label_smoothing

    if t_dtype.kind == "f":  # class probabilities
        probs = _like(target, x, name, "target")
        if probs.shape != x.shape:
            raise ValueError(
                f"{name}: float targets are class probabilities and need the input's shape "
                f"{tuple(x.shape)}, got {tuple(probs.shape)}; for class indices pass an int64 "
                f"tensor of "
                f"shape {() if x.ndim == 1 else (x.shape[0],) + x.shape[2:]}"
            )
        if ignore_index >= 0:
            raise ValueError(
                f"{name}: ignore_index is not supported with class-probability targets"
            )
        coeffs = probs if eps == 0 else probs * (1 - eps) + eps / num_classes
        if w is not None:
            coeffs = coeffs * _ew.computed(_nn.class_vector, w, ndim=x.ndim)
        loss = _nn.SoftmaxCrossEntropy.apply(x, coeffs, dim=dim)
        return _reduce_loss(loss, reduction)

    y = _class_labels(target, x, ignore_index, name)
    # NOTE: what the labels hold (ignored ones among them) is decided inside the ops, never
    # here, so that a compiled step computes it anew for every batch
    if w is None and not eps and reduction == "mean" and x.ndim == 2 and len(y):
        return _nn.LabelCrossEntropy.apply(x, y, ignore_index=ignore_index)
    coeffs = _ew.computed(
        _nn.label_targets, y, w=w, ignore_index=ignore_index, smoothing=eps, shape=x.shape,
        dtype=x.dtype,
    )  # fmt: skip
    loss = _nn.SoftmaxCrossEntropy.apply(x, coeffs._data, dim=dim)
    if reduction == "mean":
        weight_y = _ew.computed(_nn.label_weights, y, w=w, ignore_index=ignore_index, dtype=x.dtype)
        return _mean_over(loss.sum(), weight_y)
    return _reduce_loss(loss, reduction)


def nll_loss(
    input: Tensor,  # noqa: A002 - PyTorch's name
    target: Tensor,
    weight: Tensor | None = None,
    *,
    size_average=None,
    ignore_index: int = -100,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood $-w_y x_y$ of log-probabilities x (e.g. from log_softmax).

    Shapes, ``weight``, ``ignore_index`` and 'mean' (divided by the summed weights of the
    counted examples) as in PyTorch and ``cross_entropy``.
    """
    name = "nll_loss"
    reduction = _legacy_reduction(name, size_average, reduce, reduction)
    x = _class_input(input, name)
    w = _class_weight(weight, x, x.shape[0 if x.ndim == 1 else 1], name)
    y = _class_labels(target, x, ignore_index, name)
    safe = _ew.computed(_nn.safe_labels, y, ignore_index=ignore_index)
    weight_y = _ew.computed(_nn.label_weights, y, w=w, ignore_index=ignore_index, dtype=x.dtype)
    # pick x[n, y_n, d1, ...]: the label along the class dim, open ranges along the others
    index = list(np.indices(y.shape, sparse=True))
    index.insert(0 if x.ndim == 1 else 1, safe._data)
    loss = -(x[tuple(index)] * weight_y)
    if reduction == "mean":
        return _mean_over(loss.sum(), weight_y)
    return _reduce_loss(loss, reduction)


def _margin_violations(scores, target, margin: float, name: str):
    """(z, y) with z[n, j] = max(0, margin - s[n, y_n] + s[n, j]) for j != y_n, 0 at j = y_n.

    scores is (N, C) or (C,) (then seen as (1, C)); y are the checked (N,) labels.
    """
    s = _tensor(scores, name)
    if s.ndim not in (1, 2):
        raise ValueError(f"{name}: input must be (N, C) or (C,), got shape {tuple(s.shape)}")
    y = target if isinstance(target, Tensor) else make_tensor(np.asarray(target))
    if s.ndim == 1:
        s = s.unsqueeze(0)
        y = y.reshape(1) if y.shape in ((), (1,)) else y  # an op: a replay reshapes anew
    _class_labels(y, s, None, name)
    rows = np.arange(s.shape[0])
    true = s[rows, y._data].unsqueeze(1)  # (N, 1)
    # NOTE: at j = y the margin is exactly `margin`; the mask (made by an op from the
    # labels) removes it and its gradient
    others = _ew.computed(_others, y, shape=s.shape, dtype=s.dtype)
    z = _ew.relu(s - true + margin) * others
    return z, y


def _others(y: np.ndarray, *, shape: tuple, dtype) -> np.ndarray:
    """Ones of ``shape`` (N, C) with a 0 at each example's label."""
    others = np.ones(shape, dtype)
    others[np.arange(shape[0]), y] = 0
    return others


def multi_margin_loss(
    input: Tensor,  # noqa: A002 - PyTorch's name
    target: Tensor,
    p: int = 1,
    margin: float = 1.0,
    weight: Tensor | None = None,
    *,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """PyTorch's multi-class margin loss: $\\sum_{j \\ne y} w_y \\max(0, m - x_y + x_j)^p / C$.

    Note the division by the number of classes C; ``multiclass_hinge_loss`` is the
    lectures' version without it. input (N, C) or (C,), target int64 (N,) (or () / (1,)).
    """
    name = "multi_margin_loss"
    reduction = _legacy_reduction(name, size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError(f"{name}: only p = 1 and p = 2 are supported, got {p}")
    z, y = _margin_violations(input, target, margin, name)
    num_classes = z.shape[1]
    if p == 2:
        z = z * z
    loss = z.sum(dim=1)
    if weight is not None:
        loss = loss * _ew.computed(np.take, _class_weight(weight, z, num_classes, name), y)
    loss = loss / num_classes
    if reduction == "none" and input.ndim == 1 and np.ndim(array_of(target)) == 0:
        loss = loss.squeeze(0)
    return _reduce_loss(loss, reduction)


def multiclass_hinge_loss(
    scores: Tensor,
    target: Tensor,
    margin: float = 1.0,
    *,
    reduction: str = "mean",
) -> Tensor:
    """The lectures' multiclass SVM loss: per example $\\sum_{j \\ne y} \\max(0, s_j - s_y + m)$.

    'mean' averages over examples only (no division by the number of classes, unlike
    ``multi_margin_loss``, which this equals times C for margin m). All-zero scores give
    C - 1 with margin 1. scores (N, C) or (C,), target int64 (N,) (or () / (1,)).

    >>> F.multiclass_hinge_loss(ds.tensor([[3.2, 5.1, -1.7]]), ds.tensor([0]))
    tensor(2.9000)
    """
    name = "multiclass_hinge_loss"
    _check_reduction(name, reduction)
    z, _ = _margin_violations(scores, target, margin, name)
    loss = z.sum(dim=1)
    if reduction == "none" and scores.ndim == 1 and np.ndim(array_of(target)) == 0:
        loss = loss.squeeze(0)
    return _reduce_loss(loss, reduction)


# ---- regularisation --------------------------------------------------------------------------


def _param_list(params, name: str) -> list[Tensor]:
    if isinstance(params, Tensor):
        return [params]
    if not isinstance(params, Iterable):
        raise TypeError(f"{name}: params must be a Tensor or an iterable of Tensors")
    params = list(params)
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"{name}: params[{i}] is a {type(p).__name__}, not a Tensor")
    return params


def l1_penalty(params) -> Tensor:
    """$\\sum_p \\sum_i |p_i|$ over a Tensor or an iterable of Tensors (e.g. model.parameters()).

    Add ``lam * F.l1_penalty(model.parameters())`` to a loss for L1 (lasso) regularisation.
    """
    params = _param_list(params, "l1_penalty")
    if not params:
        return make_tensor(np.zeros((), np.float32))
    total = _ew.abs(params[0]).sum()
    for p in params[1:]:
        total = total + _ew.abs(p).sum()
    return total


def l2_penalty(params) -> Tensor:
    """$\\sum_p \\sum_i p_i^2$ (no 1/2) over a Tensor or an iterable of Tensors.

    Add ``lam * F.l2_penalty(model.parameters())`` to a loss for L2 (ridge, weight-decay)
    regularisation; its gradient is 2 p.
    """
    params = _param_list(params, "l2_penalty")
    if not params:
        return make_tensor(np.zeros((), np.float32))
    if all(p._data.dtype.kind == "f" for p in params):
        return _nn.SumOfSquares.apply(*params)  # one op: the common case
    # integer or boolean tensors: NumPy's own sums and promotions, term by term
    total = (params[0] * params[0]).sum()
    for p in params[1:]:
        total = total + (p * p).sum()
    return total
