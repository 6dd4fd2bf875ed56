"""One converter per layer of ``ds.nn``: ``convert(graph, layer, x, site) -> output name``.

Each writes the arithmetic of the layer's forward in ``descent/nn/`` (not merely the ONNX
op of the same name where the two differ: Softplus's threshold, LogSigmoid's stable form),
so descent and an ONNX runtime agree to rounding. ``site`` has the layer's path in the
model and its example input and output shapes; a setting ONNX cannot express is refused
through ``site.refuse``.
"""

from __future__ import annotations

import math

import numpy as np

from .. import nn
from ..nn import functional as F

__all__ = ["CONVERTERS"]


def _linear(g, m, x, site):
    if len(site.shape_in) == 2:
        inputs = [x, g.const(m.weight, "weight")]
        if m.bias is not None:
            inputs.append(g.const(m.bias, "bias"))
        return g.node("Gemm", *inputs, transB=1)
    y = g.node("MatMul", x, g.const(m.weight.numpy().T, "weight_t"))
    return g.node("Add", y, g.const(m.bias, "bias")) if m.bias is not None else y


def _check_images(site, what: str = "a 4-d (N, C, H, W) input") -> None:
    if len(site.shape_in) != 4:
        raise site.refuse(f"is exported for {what}; the example input has shape "
                          f"{site.shape_in}")  # fmt: skip


def _conv2d(g, m, x, site):
    _check_images(site)
    kh, kw = m.kernel_size
    if m.padding == "valid":
        pads = [0, 0, 0, 0]
    elif m.padding == "same":
        top, left = (kh - 1) // 2, (kw - 1) // 2
        pads = [top, left, kh - 1 - top, kw - 1 - left]
    else:
        ph, pw = m.padding
        pads = [ph, pw, ph, pw]
    inputs = [x, g.const(m.weight, "weight")]
    if m.bias is not None:
        inputs.append(g.const(m.bias, "bias"))
    return g.node("Conv", *inputs, kernel_shape=[kh, kw], strides=list(m.stride), pads=pads,
                  dilations=[1, 1], group=1)  # fmt: skip


def _check_sequences(site) -> None:
    if len(site.shape_in) != 3:
        raise site.refuse(f"is exported for a 3-d (N, C, L) input; the example input has "
                          f"shape {site.shape_in}")  # fmt: skip


def _conv1d(g, m, x, site):
    _check_sequences(site)
    (k,), (d,) = m.kernel_size, m.dilation
    if m.padding == "valid":
        pads = [0, 0]
    elif m.padding == "same":
        span = d * (k - 1)  # the positions padded in all, more of them at the end
        pads = [span // 2, span - span // 2]
    else:
        pads = [m.padding[0], m.padding[0]]
    inputs = [x, g.const(m.weight, "weight")]
    if m.bias is not None:
        inputs.append(g.const(m.bias, "bias"))
    return g.node("Conv", *inputs, kernel_shape=[k], strides=list(m.stride), pads=pads,
                  dilations=[d], group=m.groups)  # fmt: skip


def _pool1d_settings(m):
    kernel = F._single(m.kernel_size, "pool", "kernel_size")
    stride = m.stride
    stride = kernel if stride is None or stride == () or stride == [] else stride
    p = F._single(m.padding, "pool", "padding")
    return {"kernel_shape": [kernel], "strides": [F._single(stride, "pool", "stride")],
            "pads": [p, p]}  # fmt: skip


def _max_pool1d(g, m, x, site):
    _check_sequences(site)
    return g.node("MaxPool", x, **_pool1d_settings(m))


def _avg_pool1d(g, m, x, site):
    _check_sequences(site)
    include = int(bool(m.count_include_pad))
    return g.node("AveragePool", x, count_include_pad=include, **_pool1d_settings(m))


def _pool_settings(m):
    kernel = F._pair(m.kernel_size, "pool", "kernel_size")
    stride = m.stride
    stride = kernel if stride is None or stride == () or stride == [] else stride
    stride = F._pair(stride, "pool", "stride")
    ph, pw = F._pair(m.padding, "pool", "padding")
    return {"kernel_shape": list(kernel), "strides": list(stride), "pads": [ph, pw, ph, pw]}


def _max_pool2d(g, m, x, site):
    _check_images(site)
    return g.node("MaxPool", x, **_pool_settings(m))


def _avg_pool2d(g, m, x, site):
    _check_images(site)
    # nn.AvgPool2d divides every window by kh * kw, padding included (PyTorch's default)
    return g.node("AveragePool", x, count_include_pad=1, **_pool_settings(m))


def _adaptive_avg_pool2d(g, m, x, site):
    _check_images(site)
    (h, w), (oh, ow) = site.shape_in[-2:], site.shape_out[-2:]
    if (oh, ow) == (1, 1):
        return g.node("GlobalAveragePool", x)
    kernel = [h // oh, w // ow]  # descent pools equal blocks only: h and w are multiples
    return g.node("AveragePool", x, kernel_shape=kernel, strides=kernel, pads=[0, 0, 0, 0])


def _reshape(g, x, site, batch_kept: bool):
    """Reshape to the example output's shape, the batch dim copied from the input (0) when
    it is kept, so any batch size runs."""
    shape = list(site.shape_out)
    if batch_kept:
        shape[0] = 0
    elif shape:
        # the batch was merged into dim 0 (or split): infer that one from the rest
        shape[0] = -1
    return g.node("Reshape", x, g.ints(shape, "shape"))


def _flatten(g, m, x, site):
    nd = len(site.shape_in)
    start = m.start_dim % nd if nd else 0
    end = m.end_dim % nd if nd else 0
    if start == 1 and end == nd - 1:
        return g.node("Flatten", x, axis=1)
    if start > end:
        return g.node("Identity", x)
    return _reshape(g, x, site, batch_kept=start > 0)


def _unflatten(g, m, x, site):
    return _reshape(g, x, site, batch_kept=m.dim % len(site.shape_in) > 0)


def _identity(g, m, x, site):
    return g.node("Identity", x)


def _batch_norm(g, m, x, site):
    if m.running_mean is None:
        raise site.refuse(
            "has track_running_stats=False, so even in eval mode it normalises with each "
            "batch's own statistics; ONNX's BatchNormalization uses stored ones"
        )
    c = m.num_features
    scale = m.weight if m.weight is not None else np.ones(c)
    bias = m.bias if m.bias is not None else np.zeros(c)
    return g.node(
        "BatchNormalization", x, g.const(scale, "bn_scale"), g.const(bias, "bn_bias"),
        g.const(m.running_mean, "bn_mean"), g.const(m.running_var, "bn_var"),
        epsilon=float(m.eps),
    )  # fmt: skip


def _layer_norm(g, m, x, site):
    k = len(m.normalized_shape)
    shape = m.normalized_shape
    scale = m.weight if m.weight is not None else np.ones(shape)
    bias = m.bias if m.bias is not None else np.zeros(shape)
    if g.opset >= 17:
        return g.node("LayerNormalization", x, g.const(scale, "ln_scale"),
                      g.const(bias, "ln_bias"), axis=-k, epsilon=float(m.eps))  # fmt: skip
    axes = list(range(-k, 0))
    centred = g.node("Sub", x, g.reduce("ReduceMean", x, axes))
    var = g.reduce("ReduceMean", g.node("Mul", centred, centred), axes)
    std = g.node("Sqrt", g.node("Add", var, g.scalar(m.eps, "eps")))
    y = g.node("Div", centred, std)
    return g.node("Add", g.node("Mul", y, g.const(scale, "ln_scale")), g.const(bias, "ln_bias"))


def _pad(g, m, x, site):
    nd = len(site.shape_in)
    if nd < 2:
        raise site.refuse(f"pads the last two dims; the example input has shape {site.shape_in}")
    left, right, top, bottom = m.padding
    begins = [0] * (nd - 2) + [top, left]
    ends = [0] * (nd - 2) + [bottom, right]
    return g.node("Pad", x, g.ints(begins + ends, "pads"), g.scalar(m.value, "pad_value"),
                  mode="constant")  # fmt: skip


def _embedding(g, m, x, site):
    return g.node("Gather", g.const(m.weight, "embedding"), x, axis=0)


# ---- activations ------------------------------------------------------------------------


def _simple(op: str, **attrs):
    def convert(g, m, x, site):
        return g.node(op, x, **attrs)

    convert.__name__ = f"_{op.lower()}"
    return convert


def _leaky_relu(g, m, x, site):
    return g.node("LeakyRelu", x, alpha=float(m.negative_slope))


def _softmax_axis(m, site) -> int:
    if m.dim is None:  # descent takes the last dim of a tensor of at most 2 dims
        return -1
    return int(m.dim)


def _softmax(g, m, x, site):
    return g.node("Softmax", x, axis=_softmax_axis(m, site))


def _log_softmax(g, m, x, site):
    return g.node("LogSoftmax", x, axis=_softmax_axis(m, site))


def _softmin(g, m, x, site):
    return g.node("Softmax", g.node("Neg", x), axis=_softmax_axis(m, site))


def _gelu(g, m, x, site):
    if g.opset >= 20:
        return g.node("Gelu", x, approximate=m.approximate)
    half_x = g.node("Mul", x, g.scalar(0.5, "half"))
    if m.approximate == "none":
        inner = g.node("Erf", g.node("Mul", x, g.scalar(math.sqrt(0.5), "sqrt_half")))
    else:
        cube = g.node("Mul", g.node("Mul", x, x), x)
        z = g.node("Add", x, g.node("Mul", cube, g.scalar(0.044715, "k")))
        inner = g.node("Tanh", g.node("Mul", z, g.scalar(math.sqrt(2 / math.pi), "s")))
    return g.node("Mul", half_x, g.node("Add", inner, g.scalar(1.0, "one")))


def softplus_nodes(g, x: str, beta: float, threshold: float) -> str:
    """descent's softplus: x where beta x > threshold, else log(1 + e^{min(beta x,
    threshold)}) / beta (ONNX's Softplus has neither beta nor the threshold)."""
    z = g.node("Mul", x, g.scalar(beta, "beta")) if beta != 1 else x
    limit = g.scalar(threshold, "threshold")
    smooth = g.node("Log", g.node("Add", g.node("Exp", g.node("Min", z, limit)),
                                  g.scalar(1.0, "one")))  # fmt: skip
    if beta != 1:
        smooth = g.node("Div", smooth, g.scalar(beta, "beta"))
    return g.node("Where", g.node("Greater", z, limit), x, smooth)


def _softplus(g, m, x, site):
    return softplus_nodes(g, x, float(m.beta), float(m.threshold))


def _elu(g, m, x, site):
    return g.node("Elu", x, alpha=float(m.alpha))


def _celu(g, m, x, site):
    # x where x > 0, else alpha (e^{min(x, 0) / alpha} - 1), as F.celu
    zero = g.scalar(0.0, "zero")
    e = g.node("Exp", g.node("Div", g.node("Min", x, zero), g.scalar(m.alpha, "alpha")))
    neg = g.node("Mul", g.node("Sub", e, g.scalar(1.0, "one")), g.scalar(m.alpha, "alpha"))
    return g.node("Where", g.node("Greater", x, zero), x, neg)


def _selu(g, m, x, site):
    return g.node("Selu", x, alpha=F._SELU_ALPHA, gamma=F._SELU_SCALE)


def _silu(g, m, x, site):
    return g.node("Mul", x, g.node("Sigmoid", x))


def _mish(g, m, x, site):
    return g.node("Mul", x, g.node("Tanh", softplus_nodes(g, x, 1.0, 20.0)))


def _hardsigmoid(g, m, x, site):
    return g.node("HardSigmoid", x, alpha=1.0 / 6.0, beta=0.5)


def _hardswish(g, m, x, site):
    return g.node("Mul", x, g.node("HardSigmoid", x, alpha=1.0 / 6.0, beta=0.5))


def _hardtanh(g, m, x, site):
    return g.node("Clip", x, g.scalar(m.min_val, "min"), g.scalar(m.max_val, "max"))


def _log_sigmoid(g, m, x, site):
    # min(x, 0) - log(1 + e^{-|x|}), F.logsigmoid's stable form
    below = g.node("Min", x, g.scalar(0.0, "zero"))
    tail = g.node("Log", g.node("Add", g.node("Exp", g.node("Neg", g.node("Abs", x))),
                                g.scalar(1.0, "one")))  # fmt: skip
    return g.node("Sub", below, tail)


def _threshold(g, m, x, site):
    keep = g.node("Greater", x, g.scalar(m.threshold, "threshold"))
    return g.node("Where", keep, x, g.scalar(m.value, "value"))


def _prelu(g, m, x, site):
    slopes = m.weight.numpy()
    nd = len(site.shape_in)
    if slopes.shape[0] > 1:
        slopes = slopes.reshape((-1,) + (1,) * max(nd - 2, 0))  # lines up with dim 1
    return g.node("PRelu", x, g.const(slopes, "slope"))


CONVERTERS = {
    nn.Linear: _linear,
    nn.Conv2d: _conv2d,
    nn.Conv1d: _conv1d,
    nn.MaxPool1d: _max_pool1d,
    nn.AvgPool1d: _avg_pool1d,
    nn.MaxPool2d: _max_pool2d,
    nn.AvgPool2d: _avg_pool2d,
    nn.AdaptiveAvgPool2d: _adaptive_avg_pool2d,
    nn.Flatten: _flatten,
    nn.Unflatten: _unflatten,
    nn.Identity: _identity,
    nn.Dropout: _identity,  # exported in eval mode, where dropout passes x through
    nn.Dropout1d: _identity,
    nn.Dropout2d: _identity,
    nn.BatchNorm1d: _batch_norm,
    nn.BatchNorm2d: _batch_norm,
    nn.LayerNorm: _layer_norm,
    nn.ConstantPad2d: _pad,
    nn.ZeroPad2d: _pad,
    nn.Embedding: _embedding,
    nn.ReLU: _simple("Relu"),
    nn.Sigmoid: _simple("Sigmoid"),
    nn.Tanh: _simple("Tanh"),
    nn.LeakyReLU: _leaky_relu,
    nn.Softmax: _softmax,
    nn.LogSoftmax: _log_softmax,
    nn.Softmin: _softmin,
    nn.GELU: _gelu,
    nn.Softplus: _softplus,
    nn.ELU: _elu,
    nn.CELU: _celu,
    nn.SELU: _selu,
    nn.SiLU: _silu,
    nn.Mish: _mish,
    nn.Hardsigmoid: _hardsigmoid,
    nn.Hardswish: _hardswish,
    nn.Hardtanh: _hardtanh,
    nn.ReLU6: _hardtanh,
    nn.Softsign: _simple("Softsign"),
    nn.LogSigmoid: _log_sigmoid,
    nn.Threshold: _threshold,
    nn.PReLU: _prelu,
}
