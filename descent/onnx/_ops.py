"""The ONNX operators ``ds.onnx.load`` runs, each written with descent's ops.

A builder takes one node (its attributes, the default domain's opset, the constants known
when the file is read) and returns the function its forward runs: a list of input values to
a list of output values. A value is a Tensor (it carries the graph, so training works) or a
NumPy array (a constant, or a shape computed from one: Shape, Gather, Concat and Reshape
on shapes run on arrays and never enter the graph). Attributes are checked when the file is
read, so an unsupported setting fails at ``load``, naming the node.
"""

from __future__ import annotations

import math

import numpy as np

from .._extras import require
from ..nn import functional as _F
from ..ops import _special
from ..ops import elementwise as _ew
from ..ops import nn as _nn
from ..ops.linalg import matmul
from ..ops.reduce import amax, amin, log_softmax, softmax
from ..ops.shape import cat
from ..ops.shape import pad as _pad_op
from ..tensor import Tensor, make_tensor


class OnnxError(ValueError):
    """An ONNX file descent cannot read or run, with the file, node or op it is about."""


class Node:
    """One node of the graph as the builders see it."""

    def __init__(self, proto, index: int, opset: int, attrs: dict, consts: dict):
        self.op_type = proto.op_type
        self.domain = proto.domain
        self.name = proto.name
        self.index = index
        self.inputs = list(proto.input)
        self.outputs = list(proto.output)
        self.attrs = attrs
        self.opset = opset
        self.consts = consts  # value name -> array, for the values known at load time

    def where(self) -> str:
        name = f" {self.name!r}" if self.name else ""
        return f"node {self.index}{name} ({self.op_type})"

    def fail(self, message: str):
        raise OnnxError(f"{self.where()}: {message}")

    def attr(self, name: str, default=None):
        return self.attrs.get(name, default)

    def const_input(self, i: int, what: str, default=None):
        """Input ``i`` as an array known at load time (an initializer or a Constant), or
        ``default`` when the input is absent."""
        if i >= len(self.inputs) or not self.inputs[i]:
            return default
        name = self.inputs[i]
        if name not in self.consts:
            self.fail(
                f"input {i} ({what}, {name!r}) must be a constant (an initializer or "
                f"a Constant node), descent cannot use a computed one"
            )
        return self.consts[name]

    def refuse(self, setting: str, value, supported: str):
        self.fail(f"{setting}={value!r} is not supported (descent supports {supported})")


def _is_const(v) -> bool:
    return not isinstance(v, Tensor)


def _tensor(v, like: Tensor | None = None) -> Tensor:
    if isinstance(v, Tensor):
        return v
    a = np.asarray(v)
    if like is not None and a.dtype.kind == "f" and like._data.dtype.kind == "f":
        a = a.astype(like._data.dtype, copy=False)
    return make_tensor(np.ascontiguousarray(a))


def _axis(node: Node, axis: int, ndim: int) -> int:
    if not -ndim <= axis < max(ndim, 1):
        node.fail(f"axis {axis} is out of range for a {ndim}-d input")
    return axis % max(ndim, 1)


# ---- elementwise ------------------------------------------------------------------------


def _binary(np_fn, ds_fn):
    def build(node: Node):
        def run(ins):
            a, b = ins
            if _is_const(a) and _is_const(b):
                return [np_fn(np.asarray(a), np.asarray(b))]
            like = a if isinstance(a, Tensor) else b
            return [ds_fn(_tensor(a, like), _tensor(b, like))]

        return run

    return build


def _np_div(a, b):
    if a.dtype.kind in "iu" and b.dtype.kind in "iu":
        return (np.trunc(a / b)).astype(np.result_type(a, b))  # ONNX truncates
    return a / b


def _unary(np_fn, ds_fn):
    def build(node: Node):
        def run(ins):
            (x,) = ins[:1]
            return [np_fn(x) if _is_const(x) else ds_fn(x)]

        return run

    return build


def _leaky_relu(node: Node):
    alpha = float(node.attr("alpha", 0.01))

    def run(ins):
        return [_ew.leaky_relu(_tensor(ins[0]), negative_slope=alpha)]

    return run


def _identity(node: Node):
    return lambda ins: [ins[0]]


def _softmax(log: bool):
    def build(node: Node):
        modern = node.opset >= 13
        axis = int(node.attr("axis", -1 if modern else 1))
        fn = log_softmax if log else softmax

        def run(ins):
            x = _tensor(ins[0])
            ax = _axis(node, axis, x.ndim)
            if modern or ax == x.ndim - 1:
                return [fn(x, dim=ax)]
            # before opset 13: the input is seen as 2-d, dims [0, axis) by [axis, ndim)
            shape = tuple(x.shape)
            flat = x.reshape(int(np.prod(shape[:ax])), int(np.prod(shape[ax:])))
            return [fn(flat, dim=1).reshape(shape)]

        return run

    return build


def _np_erf(a):
    return _special.erf(np.asarray(a, np.float64)).astype(np.asarray(a).dtype)


def _np_gelu(a, approximate: str):
    a = np.asarray(a)
    if approximate == "tanh":
        inner = np.sqrt(2 / np.pi) * (a + 0.044715 * a**3)
        return (0.5 * a * (1 + np.tanh(inner))).astype(a.dtype)
    return (0.5 * a * (1 + _np_erf(a / np.sqrt(2)))).astype(a.dtype)


def _gelu(node: Node):
    approximate = node.attr("approximate", b"none")
    approximate = approximate.decode() if isinstance(approximate, bytes) else str(approximate)
    if approximate not in ("none", "tanh"):
        node.refuse("approximate", approximate, "'none' and 'tanh'")

    def run(ins):
        x = ins[0]
        if _is_const(x):
            return [_np_gelu(x, approximate)]
        return [_F.gelu(x, approximate=approximate)]

    return run


def _elu(node: Node):
    alpha = float(node.attr("alpha", 1.0))

    def run(ins):
        x = _tensor(ins[0])
        return [_F.elu(x, alpha=alpha)]

    return run


def _selu(node: Node):
    alpha = float(node.attr("alpha", 1.67326319217681884765625))
    gamma = float(node.attr("gamma", 1.05070102214813232421875))

    def run(ins):
        x = _tensor(ins[0])
        return [_F.elu(x, alpha=alpha) * gamma]

    return run


def _hard_sigmoid(node: Node):
    alpha, beta = float(node.attr("alpha", 0.2)), float(node.attr("beta", 0.5))

    def run(ins):
        x = _tensor(ins[0])
        return [_ew.clamp(x * alpha + beta, 0.0, 1.0)]

    return run


def _softplus(node: Node):
    def run(ins):
        # ONNX's log(e^x + 1): descent's softplus (x itself beyond 20, where they agree)
        return [_F.softplus(_tensor(ins[0]))]

    return run


def _softsign(node: Node):
    def run(ins):
        return [_F.softsign(_tensor(ins[0]))]

    return run


def _prelu(node: Node):
    def run(ins):
        x = _tensor(ins[0])
        slope = _tensor(ins[1], x)
        return [_ew.where(x._data < 0, x * slope, x)]

    return run


def _variadic(np_fn, ds_fn):
    """Min and Max: any number of inputs, broadcast."""

    def build(node: Node):
        def run(ins):
            ins = [v for v in ins if v is not None]
            if all(_is_const(v) for v in ins):
                out = np.asarray(ins[0])
                for v in ins[1:]:
                    out = np_fn(out, np.asarray(v))
                return [out]
            like = next(v for v in ins if isinstance(v, Tensor))
            out = _tensor(ins[0], like)
            for v in ins[1:]:
                out = ds_fn(out, _tensor(v, like))
            return [out]

        return run

    return build


def _data(v) -> np.ndarray:
    return v._data if isinstance(v, Tensor) else np.asarray(v)


def _compare(np_fn):
    """A comparison: a bool array (no gradient flows through it)."""

    def build(node: Node):
        return lambda ins: [np_fn(_data(ins[0]), _data(ins[1]))]

    return build


def _not(node: Node):
    return lambda ins: [np.logical_not(_data(ins[0]))]


def _where(node: Node):
    def run(ins):
        cond, a, b = ins
        cond = _data(cond).astype(bool)
        if _is_const(a) and _is_const(b):
            return [np.where(cond, np.asarray(a), np.asarray(b))]
        like = a if isinstance(a, Tensor) else b
        return [_ew.where(cond, _tensor(a, like), _tensor(b, like))]

    return run


def _clip(node: Node):
    def bound(ins, i, name):
        if node.opset >= 11:
            v = ins[i] if len(ins) > i else None
        else:
            v = node.attr(name)
        return v

    def run(ins):
        x, lo, hi = ins[0], bound(ins, 1, "min"), bound(ins, 2, "max")
        if _is_const(x):
            lo = -np.inf if lo is None else np.asarray(lo)
            hi = np.inf if hi is None else np.asarray(hi)
            return [np.minimum(np.maximum(np.asarray(x), lo), hi).astype(np.asarray(x).dtype)]
        scalar = all(v is None or (_is_const(v) and np.ndim(v) == 0) for v in (lo, hi))
        if scalar:
            return [
                _ew.clamp(
                    x,
                    None if lo is None else float(np.asarray(lo)),
                    None if hi is None else float(np.asarray(hi)),
                )
            ]
        if lo is not None:
            x = _ew.maximum(x, _tensor(lo, x))
        if hi is not None:
            x = _ew.minimum(x, _tensor(hi, x))
        return [x]

    return run


def _arg_extreme(largest: bool):
    def build(node: Node):
        axis = int(node.attr("axis", 0))
        keepdims = bool(int(node.attr("keepdims", 1)))
        if int(node.attr("select_last_index", 0)):
            node.refuse("select_last_index", 1, "0 only: the first of equal values")

        def run(ins):
            a = _data(ins[0])
            ax = _axis(node, axis, a.ndim)
            fn = np.argmax if largest else np.argmin
            out = fn(a, axis=ax).astype(np.int64)
            return [np.expand_dims(out, ax) if keepdims else out]

        return run

    return build


def _layer_norm(node: Node):
    axis = int(node.attr("axis", -1))
    eps = float(node.attr("epsilon", 1e-5))
    if len([o for o in node.outputs if o]) > 1:
        node.fail("the Mean and InvStdDev outputs of LayerNormalization are not supported")

    def run(ins):
        x = _tensor(ins[0])
        ax = _axis(node, axis, x.ndim)
        dims = tuple(range(ax, x.ndim))
        centred = x - x.mean(dim=dims, keepdim=True)
        y = centred / ((centred * centred).mean(dim=dims, keepdim=True) + eps).sqrt()
        if len(ins) > 1 and ins[1] is not None:
            y = y * _tensor(ins[1], x)
        if len(ins) > 2 and ins[2] is not None:
            y = y + _tensor(ins[2], x)
        return [y]

    return run


def _pad(node: Node):
    mode = node.attr("mode", b"constant")
    mode = mode.decode() if isinstance(mode, bytes) else str(mode)
    if mode != "constant":
        node.refuse("mode", mode, "'constant' only")

    def run(ins):
        x = ins[0]
        if node.opset >= 11:
            if not _is_const(ins[1]):
                node.fail("the pads must be constant or computed from shapes")
            pads = [int(p) for p in np.asarray(ins[1]).reshape(-1)]
            value = ins[2] if len(ins) > 2 and ins[2] is not None else 0.0
            axes = ins[3] if len(ins) > 3 and ins[3] is not None else None
        else:
            pads, value, axes = list(node.attr("pads")), node.attr("value", 0.0), None
        nd = len(x.shape)
        axes = list(range(nd)) if axes is None else [int(a) % nd for a in np.asarray(axes)]
        k = len(axes)
        if len(pads) != 2 * k:
            node.fail(f"pads has {len(pads)} values for {k} axes (2 per axis are needed)")
        if any(p < 0 for p in pads):
            node.refuse("pads", pads, "non-negative widths")
        widths = [(0, 0)] * nd
        for i, a in enumerate(axes):
            widths[a] = (pads[i], pads[k + i])
        value = float(np.asarray(value).reshape(-1)[0]) if np.size(value) else 0.0
        if _is_const(x):
            return [np.pad(np.asarray(x), widths, constant_values=value)]
        flat = [w for lo_hi in reversed(widths) for w in lo_hi]  # last dim first
        return [_pad_op(x, tuple(flat), value=value)]

    return run


# ---- linear algebra ---------------------------------------------------------------------


def _matmul(node: Node):
    def run(ins):
        a, b = ins
        if _is_const(a) and _is_const(b):
            return [np.matmul(a, b)]
        like = a if isinstance(a, Tensor) else b
        return [matmul(_tensor(a, like), _tensor(b, like))]

    return run


def _gemm(node: Node):
    alpha, beta = float(node.attr("alpha", 1.0)), float(node.attr("beta", 1.0))
    trans_a, trans_b = int(node.attr("transA", 0)), int(node.attr("transB", 0))

    def run(ins):
        a, b = ins[0], ins[1]
        c = ins[2] if len(ins) > 2 else None
        like = next((v for v in (a, b, c) if isinstance(v, Tensor)), None)
        a, b = _tensor(a, like), _tensor(b, like)
        if a.ndim != 2 or b.ndim != 2:
            node.fail(f"Gemm needs 2-d inputs, got {tuple(a.shape)} and {tuple(b.shape)}")
        y = matmul(a.t() if trans_a else a, b.t() if trans_b else b)
        if alpha != 1.0:
            y = y * alpha
        if c is not None:
            c = _tensor(c, like)
            y = y + (c * beta if beta != 1.0 else c)
        return [y]

    return run


# ---- convolution and pooling ------------------------------------------------------------


def spatial(node: Node, what: str, kernel_rank: int | None):
    """(strides, pads) of a 2-d window op, checked: descent convolves and pools 2-d images
    (NCHW) with dilation 1. ``pads`` is ((top, bottom), (left, right)), or the string
    'SAME_UPPER' or 'SAME_LOWER' for an auto_pad that depends on the input's size
    (``resolve_pads``). The loader's Conv2d layers read it too."""
    kernel = node.attr("kernel_shape")
    rank = len(kernel) if kernel is not None else kernel_rank
    if rank != 2:
        node.fail(
            f"{what} over {rank}-d windows is not supported (descent has 1-d and 2-d ones: NCL "
            "and NCHW inputs)"
        )
    strides = tuple(int(s) for s in node.attr("strides", (1, 1)))
    dilations = tuple(int(d) for d in node.attr("dilations", (1, 1)))
    if dilations != (1, 1):
        node.refuse("dilations", list(dilations), "[1, 1] only")
    auto_pad = node.attr("auto_pad", b"NOTSET")
    auto_pad = auto_pad.decode() if isinstance(auto_pad, bytes) else str(auto_pad)
    if auto_pad == "NOTSET":
        p = [int(v) for v in node.attr("pads", (0, 0, 0, 0))]
        pads = ((p[0], p[2]), (p[1], p[3]))
    elif auto_pad == "VALID":
        pads = ((0, 0), (0, 0))
    elif auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        pads = auto_pad
    else:
        node.refuse("auto_pad", auto_pad, "NOTSET, VALID, SAME_UPPER and SAME_LOWER")
    return strides, pads


def resolve_pads(pads, hw: tuple, kernel: tuple, strides: tuple) -> tuple:
    """Explicit ((top, bottom), (left, right)) pads; auto_pad SAME_* computed for ``hw``."""
    if not isinstance(pads, str):
        return pads
    out = []
    for size, k, s in zip(hw, kernel, strides):
        total = max((math.ceil(size / s) - 1) * s + k - size, 0)
        small, large = total // 2, total - total // 2
        out.append((small, large) if pads == "SAME_UPPER" else (large, small))
    return tuple(out)


def _images(node: Node, x) -> Tensor:
    x = _tensor(x)
    if x.ndim != 4:
        node.fail(f"expected a 4-d (N, C, H, W) input, got shape {tuple(x.shape)}")
    return x


def _kernel_rank(node: Node, default: int) -> int:
    kernel = node.attr("kernel_shape")
    return len(kernel) if kernel is not None else default


def spatial_1d(node: Node, what: str, dilation_ok: bool) -> tuple:
    """(stride, dilation, pads) of a 1-d window op (NCL inputs), checked. ``pads`` is
    (left, right), or the auto_pad string 'SAME_UPPER' or 'SAME_LOWER' (``resolve_pads_1d``).
    The loader's Conv1d layers read it too."""
    (stride,) = (int(s) for s in node.attr("strides", (1,)))
    (dilation,) = (int(d) for d in node.attr("dilations", (1,)))
    if dilation != 1 and not dilation_ok:
        node.refuse("dilations", [dilation], "[1] only")
    auto_pad = node.attr("auto_pad", b"NOTSET")
    auto_pad = auto_pad.decode() if isinstance(auto_pad, bytes) else str(auto_pad)
    if auto_pad == "NOTSET":
        left, right = (int(v) for v in node.attr("pads", (0, 0)))
        pads = (left, right)
    elif auto_pad == "VALID":
        pads = (0, 0)
    elif auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        pads = auto_pad
    else:
        node.refuse("auto_pad", auto_pad, "NOTSET, VALID, SAME_UPPER and SAME_LOWER")
    return stride, dilation, pads


def resolve_pads_1d(pads, length: int, kernel: int, stride: int, dilation: int) -> tuple:
    """Explicit (left, right) pads; auto_pad SAME_* computed for ``length``."""
    if not isinstance(pads, str):
        return pads
    span = dilation * (kernel - 1) + 1
    total = max((math.ceil(length / stride) - 1) * stride + span - length, 0)
    small, large = total // 2, total - total // 2
    return (small, large) if pads == "SAME_UPPER" else (large, small)


def _sequences(node: Node, x) -> Tensor:
    x = _tensor(x)
    if x.ndim != 3:
        node.fail(f"expected a 3-d (N, C, L) input, got shape {tuple(x.shape)}")
    return x


def _conv1d(node: Node):
    stride, dilation, pads = spatial_1d(node, "Conv", dilation_ok=True)
    group = int(node.attr("group", 1))

    def run(ins):
        x = _sequences(node, ins[0])
        w = _tensor(ins[1], x)
        b = _tensor(ins[2], x) if len(ins) > 2 and ins[2] is not None else None
        if w.ndim != 3 or w.shape[1] * group != x.shape[1] or w.shape[0] % group:
            node.fail(f"weight {tuple(w.shape)} does not fit input {tuple(x.shape)} with "
                      f"group {group}")  # fmt: skip
        p = resolve_pads_1d(pads, x.shape[2], w.shape[2], stride, dilation)
        return [_nn.Conv1d.apply(x, w, b, geom=(stride, dilation, p, group))]

    return run


def _pool_1d(node: Node, kind: str):
    """A 1-d MaxPool or AveragePool: the 2-d rules on sequences as images of height 1."""
    stride, _, pads = spatial_1d(node, kind, dilation_ok=False)
    (kernel,) = (int(k) for k in node.attr("kernel_shape"))
    include_pad = bool(int(node.attr("count_include_pad", 0)))

    def run(ins):
        x = _sequences(node, ins[0])
        left, right = resolve_pads_1d(pads, x.shape[2], kernel, stride, 1)
        settings = {"kernel": (1, kernel), "stride": (1, stride), "pads": ((0, 0), (left, right))}
        if kind == "MaxPool":
            y = _nn.MaxPool2d.apply(x.unsqueeze(2), **settings)
        else:
            y = _nn.AvgPool2d.apply(x.unsqueeze(2), count_include_pad=include_pad, **settings)
        return [y.squeeze(2)]

    return run


def _conv(node: Node):
    if _kernel_rank(node, 2) == 1:
        return _conv1d(node)
    strides, pads = spatial(node, "Conv", 2)
    group = int(node.attr("group", 1))
    if group != 1:
        node.refuse("group", group, "1 only")

    def run(ins):
        x = _images(node, ins[0])
        w = _tensor(ins[1], x)
        b = _tensor(ins[2], x) if len(ins) > 2 and ins[2] is not None else None
        if w.ndim != 4 or w.shape[1] != x.shape[1]:
            node.fail(f"weight {tuple(w.shape)} does not fit input {tuple(x.shape)}")
        p = resolve_pads(pads, tuple(x.shape[2:]), tuple(w.shape[2:]), strides)
        return [_nn.Conv2d.apply(x, w, b, stride=strides, pads=p)]

    return run


def _pool(kind: str):
    def build(node: Node):
        if int(node.attr("ceil_mode", 0)):
            node.refuse("ceil_mode", 1, "0 only")
        if len([o for o in node.outputs if o]) > 1:
            node.fail("the Indices output of MaxPool is not supported")
        if _kernel_rank(node, 2) == 1:
            return _pool_1d(node, kind)
        strides, pads = spatial(node, kind, None)
        kernel = tuple(int(k) for k in node.attr("kernel_shape"))
        include_pad = bool(int(node.attr("count_include_pad", 0)))

        def run(ins):
            x = _images(node, ins[0])
            p = resolve_pads(pads, tuple(x.shape[2:]), kernel, strides)
            if kind == "MaxPool":
                return [_nn.MaxPool2d.apply(x, kernel=kernel, stride=strides, pads=p)]
            return [
                _nn.AvgPool2d.apply(
                    x, kernel=kernel, stride=strides, pads=p, count_include_pad=include_pad
                )
            ]

        return run

    return build


def _global_average_pool(node: Node):
    def run(ins):
        x = _tensor(ins[0])
        return [x.mean(dim=tuple(range(2, x.ndim)), keepdim=True)]

    return run


def _batch_norm(node: Node):
    eps = float(node.attr("epsilon", 1e-5))
    if node.opset < 9:
        node.fail("BatchNormalization before opset 9 (its 'spatial' attribute) is not supported")
    if int(node.attr("training_mode", 0)):
        node.refuse(
            "training_mode",
            1,
            "0: inference; a BatchNormalization whose inputs "
            "are initializers becomes a descent BatchNorm layer, whose .train() "
            "uses batch statistics",
        )
    if len([o for o in node.outputs if o]) > 1:
        node.fail("the running-statistics outputs of BatchNormalization are not supported")

    def run(ins):
        x = _tensor(ins[0])
        shape = (1, -1) + (1,) * (x.ndim - 2)
        scale, bias, mean, var = (_tensor(v, x).reshape(shape) for v in ins[1:5])
        return [(x - mean) / (var + eps).sqrt() * scale + bias]

    return run


def dropout_ratio(node: Node) -> float:
    if node.opset >= 12:
        ratio = node.const_input(1, "ratio", default=np.asarray(0.5))
    else:
        ratio = node.attr("ratio", 0.5)
    if len([o for o in node.outputs if o]) > 1:
        node.fail("the mask output of Dropout is not supported")
    return float(np.asarray(ratio))


# ---- shapes -------------------------------------------------------------------------------


def _flatten(node: Node):
    axis = int(node.attr("axis", 1))

    def run(ins):
        x = ins[0]
        shape = tuple(x.shape)
        ax = axis + len(shape) if axis < 0 else axis
        if not 0 <= ax <= len(shape):
            node.fail(f"axis {axis} is out of range for a {len(shape)}-d input")
        new = (int(np.prod(shape[:ax])), int(np.prod(shape[ax:])))
        return [np.reshape(x, new) if _is_const(x) else x.reshape(new)]

    return run


def _reshape(node: Node):
    allowzero = int(node.attr("allowzero", 0))

    def run(ins):
        x, shape = ins
        if not _is_const(shape):
            node.fail("the target shape must be a constant or computed from shapes")
        shape = [int(d) for d in np.asarray(shape).reshape(-1)]
        if not allowzero:
            shape = [x.shape[i] if d == 0 else d for i, d in enumerate(shape)]
        new = tuple(int(d) for d in shape)
        return [np.reshape(x, new) if _is_const(x) else x.reshape(new)]

    return run


def _transpose(node: Node):
    perm = node.attr("perm")

    def run(ins):
        x = ins[0]
        order = tuple(perm) if perm is not None else tuple(reversed(range(len(x.shape))))
        return [np.transpose(x, order) if _is_const(x) else x.permute(order)]

    return run


def _axes(node: Node, ins, what: str):
    if node.opset >= 13:
        if len(ins) > 1 and ins[1] is not None:
            if not _is_const(ins[1]):
                node.fail(f"the {what} axes must be constant")
            return [int(a) for a in np.asarray(ins[1]).reshape(-1)]
        return None
    axes = node.attr("axes")
    return None if axes is None else [int(a) for a in axes]


def _unsqueeze(node: Node):
    def run(ins):
        x = ins[0]
        axes = _axes(node, ins, "Unsqueeze")
        if axes is None:
            node.fail("Unsqueeze needs axes")
        rank = len(x.shape) + len(axes)
        for a in sorted(a % rank for a in axes):
            x = np.expand_dims(x, a) if _is_const(x) else x.unsqueeze(a)
        return [x]

    return run


def _squeeze(node: Node):
    def run(ins):
        x = ins[0]
        axes = _axes(node, ins, "Squeeze")
        shape = tuple(x.shape)
        if axes is None:
            axes = [i for i, d in enumerate(shape) if d == 1]
        axes = sorted((a % len(shape) for a in axes), reverse=True)
        for a in axes:
            x = np.squeeze(x, a) if _is_const(x) else x.squeeze(a)
        return [x]

    return run


def _concat(node: Node):
    axis = int(node.attr("axis"))

    def run(ins):
        if all(_is_const(v) for v in ins):
            return [np.concatenate([np.asarray(v) for v in ins], axis=axis)]
        like = next(v for v in ins if isinstance(v, Tensor))
        return [cat([_tensor(v, like) for v in ins], dim=axis)]

    return run


def _shape(node: Node):
    start, end = node.attr("start", 0), node.attr("end")

    def run(ins):
        return [np.asarray(tuple(ins[0].shape), np.int64)[start:end]]

    return run


def _gather(node: Node):
    axis = int(node.attr("axis", 0))

    def run(ins):
        data, idx = ins
        idx = _data(idx)  # indices carry no gradient: an array, known or computed
        if idx.dtype.kind not in "iu":
            node.fail(f"the indices must be integers, got {idx.dtype}")
        ax = _axis(node, axis, len(data.shape))
        size = data.shape[ax]
        if idx.size and (idx.min() < -size or idx.max() >= size):
            node.fail(
                f"an index is out of range for axis {axis} of size {size} "
                f"(indices from {int(idx.min())} to {int(idx.max())})"
            )
        if _is_const(data):
            return [np.take(np.asarray(data), idx, axis=ax)]
        return [data[(slice(None),) * ax + (idx.astype(np.int64, copy=False),)]]

    return run


def _reduce(kind: str):
    def build(node: Node):
        keepdims = bool(int(node.attr("keepdims", 1)))
        noop = bool(int(node.attr("noop_with_empty_axes", 0)))
        axes_in_input = node.opset >= (13 if kind == "ReduceSum" else 18)

        def run(ins):
            x = ins[0]
            if axes_in_input:
                axes = ins[1] if len(ins) > 1 and ins[1] is not None else None
                if axes is not None and not _is_const(axes):
                    node.fail("the axes must be constant")
            else:
                axes = node.attr("axes")
            axes = None if axes is None else [int(a) for a in np.asarray(axes).reshape(-1)]
            if not axes:
                if noop:
                    return [x]
                axes = list(range(len(x.shape)))
            dims = tuple(a % len(x.shape) for a in axes)
            if _is_const(x):
                a = np.asarray(x)
                fn = {"ReduceMean": np.mean, "ReduceMax": np.max, "ReduceMin": np.min,
                      "ReduceProd": np.prod}.get(kind, np.sum)  # fmt: skip
                if kind == "ReduceSumSquare":
                    a = a * a
                return [fn(a, axis=dims, keepdims=keepdims)]
            if kind == "ReduceMean":
                return [x.mean(dim=dims, keepdim=keepdims)]
            if kind == "ReduceMax":
                return [amax(x, dim=dims, keepdim=keepdims)]
            if kind == "ReduceMin":
                return [amin(x, dim=dims, keepdim=keepdims)]
            if kind == "ReduceProd":
                for d in sorted(dims, reverse=True):
                    x = x.prod(dim=d, keepdim=keepdims)
                return [x]
            if kind == "ReduceSumSquare":
                x = x * x
            return [x.sum(dim=dims, keepdim=keepdims)]

        return run

    return build


_NP_TYPES = {1: np.float32, 11: np.float64, 6: np.int32, 7: np.int64, 9: np.bool_}


def _cast(node: Node):
    to = int(node.attr("to"))
    if to not in _NP_TYPES:
        node.refuse("to", to, "float32 (1), float64 (11), int32 (6), int64 (7), bool (9)")
    dtype = _NP_TYPES[to]

    def run(ins):
        x = ins[0]
        if _is_const(x):
            return [np.asarray(x).astype(dtype)]
        if np.dtype(dtype).kind != "f":
            node.fail(f"casting a computed tensor to {np.dtype(dtype)} is not supported")
        return [x.to(dtype=np.dtype(dtype))]

    return run


def _numpy_helper():
    return require("onnx.numpy_helper", "onnx", "ds.onnx.load")


def constant_value(node: Node):
    """The array of a Constant node (known when the file is read)."""
    numpy_helper = _numpy_helper()
    a = node.attrs
    if "value" in a:
        return numpy_helper.to_array(a["value"])
    for key, dtype in (
        ("value_float", np.float32),
        ("value_floats", np.float32),
        ("value_int", np.int64),
        ("value_ints", np.int64),
    ):
        if key in a:
            return np.asarray(a[key], dtype)
    node.fail(
        f"a Constant with attribute(s) {sorted(a)} is not supported (value, "
        f"value_float(s), value_int(s) are)"
    )


def _constant_of_shape(node: Node):
    numpy_helper = _numpy_helper()
    value = node.attr("value")
    fill = (
        numpy_helper.to_array(value).reshape(-1) if value is not None else np.zeros(1, np.float32)
    )

    def run(ins):
        shape = tuple(int(d) for d in np.asarray(ins[0]).reshape(-1))
        return [np.full(shape, fill[0], fill.dtype)]

    return run


OPS = {
    "Add": _binary(np.add, _ew.add),
    "Sub": _binary(np.subtract, _ew.sub),
    "Mul": _binary(np.multiply, _ew.mul),
    "Div": _binary(_np_div, _ew.div),
    "Neg": _unary(np.negative, _ew.neg),
    "Exp": _unary(np.exp, _ew.exp),
    "Log": _unary(np.log, _ew.log),
    "Sqrt": _unary(np.sqrt, _ew.sqrt),
    "Pow": _binary(np.power, _ew.pow),
    "Abs": _unary(np.abs, _ew.abs),
    "Reciprocal": _unary(np.reciprocal, _ew.reciprocal),
    "Erf": _unary(_np_erf, _ew.erf),
    "Gelu": _gelu,
    "Elu": _elu,
    "Selu": _selu,
    "HardSigmoid": _hard_sigmoid,
    "Softplus": _softplus,
    "Softsign": _softsign,
    "PRelu": _prelu,
    "Min": _variadic(np.minimum, _ew.minimum),
    "Max": _variadic(np.maximum, _ew.maximum),
    "Greater": _compare(np.greater),
    "Less": _compare(np.less),
    "Equal": _compare(np.equal),
    "GreaterOrEqual": _compare(np.greater_equal),
    "LessOrEqual": _compare(np.less_equal),
    "Not": _not,
    "Where": _where,
    "Clip": _clip,
    "ArgMax": _arg_extreme(largest=True),
    "ArgMin": _arg_extreme(largest=False),
    "LayerNormalization": _layer_norm,
    "Pad": _pad,
    "ReduceSumSquare": _reduce("ReduceSumSquare"),
    "ReduceMax": _reduce("ReduceMax"),
    "ReduceMin": _reduce("ReduceMin"),
    "ReduceProd": _reduce("ReduceProd"),
    "Relu": _unary(lambda a: np.maximum(a, 0), _ew.relu),
    "Sigmoid": _unary(lambda a: 1 / (1 + np.exp(-a)), _ew.sigmoid),
    "Tanh": _unary(np.tanh, _ew.tanh),
    "LeakyRelu": _leaky_relu,
    "Softmax": _softmax(log=False),
    "LogSoftmax": _softmax(log=True),
    "Identity": _identity,
    "MatMul": _matmul,
    "Gemm": _gemm,
    "Conv": _conv,
    "MaxPool": _pool("MaxPool"),
    "AveragePool": _pool("AveragePool"),
    "GlobalAveragePool": _global_average_pool,
    "ReduceMean": _reduce("ReduceMean"),
    "ReduceSum": _reduce("ReduceSum"),
    "BatchNormalization": _batch_norm,
    "Flatten": _flatten,
    "Reshape": _reshape,
    "Transpose": _transpose,
    "Unsqueeze": _unsqueeze,
    "Squeeze": _squeeze,
    "Concat": _concat,
    "Shape": _shape,
    "Gather": _gather,
    "Cast": _cast,
    "ConstantOfShape": _constant_of_shape,
}
# Dropout and Constant are handled by the loader itself (a Dropout layer; a constant value).
SUPPORTED = sorted([*OPS, "Dropout", "Constant"])
