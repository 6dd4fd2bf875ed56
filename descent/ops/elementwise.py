"""Elementwise primitives: arithmetic, exp/log, trigonometry, activations, clamp, where."""

from __future__ import annotations

import math

import numpy as np

from ..autograd import Function, is_grad_enabled
from ..tensor import Tensor, as_tensor, get_default_dtype, make_tensor
from . import _special as special
from ._util import sum_to, unbroadcast

_BOOL = np.dtype(np.bool_)  # a dtype object, as ``Context.buffer`` compares them fastest


def _operands(a, b) -> tuple[Tensor, Tensor]:
    """Both operands as tensors of one floating dtype where either is floating."""
    if isinstance(a, Tensor):
        b = as_tensor(b, like=a)
    else:
        a = as_tensor(a, like=b)
    ka, kb = a._data.dtype.kind, b._data.dtype.kind
    # NumPy would promote int64 with float32 to float64; keep the float operand's dtype.
    # The casts are ops (no gradient), so that ds.compile replays them on new values.
    if ka == "f" and kb != "f":
        b = computed(np.ndarray.astype, b, dtype=a._data.dtype)
    elif kb == "f" and ka != "f":
        a = computed(np.ndarray.astype, a, dtype=b._data.dtype)
    return a, b


# ---- binary arithmetic -----------------------------------------------------------


class Add(Function):
    """$f(a, b) = a + b$"""

    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, grad):
        # the inputs that need a gradient are Tensors: their arrays give shape and dtype
        a, b = ctx.inputs
        need_a, need_b = ctx.needs_input_grad
        return (
            unbroadcast(grad, a._data.shape, a._data.dtype) if need_a else None,
            unbroadcast(grad, b._data.shape, b._data.dtype) if need_b else None,
        )

    @staticmethod
    def backward_graph(ctx, grad, out):
        a, b = ctx.inputs
        need_a, need_b = ctx.needs_input_grad
        return (
            sum_to(grad, a.shape, a.dtype) if need_a else None,
            sum_to(grad, b.shape, b.dtype) if need_b else None,
        )


class Sub(Function):
    """$f(a, b) = a - b$"""

    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.inputs
        need_a, need_b = ctx.needs_input_grad
        ga = unbroadcast(grad, a._data.shape, a._data.dtype) if need_a else None
        gb = unbroadcast(-grad, b._data.shape, b._data.dtype) if need_b else None
        return ga, gb

    @staticmethod
    def backward_graph(ctx, grad, out):
        a, b = ctx.inputs
        need_a, need_b = ctx.needs_input_grad
        return (
            sum_to(grad, a.shape, a.dtype) if need_a else None,
            sum_to(-grad, b.shape, b.dtype) if need_b else None,
        )


class Mul(Function):
    """$f(a, b) = a b$"""

    saved_for = ((1,), (0,))  # b's gradient reads a; a's reads b

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        ga = unbroadcast(grad * b, a.shape, a.dtype) if need_a else None
        gb = unbroadcast(grad * a, b.shape, b.dtype) if need_b else None
        return ga, gb

    @staticmethod
    def backward_graph(ctx, grad, out):
        a, b = ctx.inputs
        need_a, need_b = ctx.needs_input_grad
        return (
            sum_to(grad * b, a.shape, a.dtype) if need_a else None,
            sum_to(grad * a, b.shape, b.dtype) if need_b else None,
        )


class Div(Function):
    """$f(a, b) = a / b$"""

    saved_for = ((1,), (0, 1))

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        ga = unbroadcast(grad / b, a.shape, a.dtype) if need_a else None
        gb = unbroadcast(-grad * a / (b * b), b.shape, b.dtype) if need_b else None
        return ga, gb

    @staticmethod
    def backward_graph(ctx, grad, out):
        a, b = ctx.inputs
        need_a, need_b = ctx.needs_input_grad
        return (
            sum_to(grad / b, a.shape, a.dtype) if need_a else None,
            sum_to(-grad * a / (b * b), b.shape, b.dtype) if need_b else None,
        )


class Pow(Function):
    """$f(a, b) = a^b$; $df/da = b a^{b-1}$, $df/db = a^b \\ln a$"""

    saved_for = ((0, 1), (0,), (1,))  # b's own gradient reads only b's shape

    @staticmethod
    def forward(ctx, a, b):
        out = np.power(a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        ga = gb = None
        if need_a:
            # NOTE: b * a**(b-1), not b * out / a, so that a = 0 gives 0 (not nan) for b >= 1
            ga = unbroadcast(grad * b * np.power(a, b - 1), a.shape, a.dtype)
        if need_b:
            # d/db a^b = a^b ln a, taken as 0 where a = 0 (PyTorch's convention)
            with np.errstate(divide="ignore", invalid="ignore"):
                log_a = np.where(a > 0, np.log(np.where(a > 0, a, 1)), np.where(a == 0, 0, np.nan))
            gb = unbroadcast(grad * out * log_a, b.shape, b.dtype)
        return ga, gb

    @staticmethod
    def backward_graph(ctx, grad, out):
        a, b = ctx.inputs
        need_a, need_b = ctx.needs_input_grad
        ga = sum_to(grad * b * a ** (b - 1), a.shape, a.dtype) if need_a else None
        gb = None
        if need_b:  # ln a as in backward: 0 where a = 0, nan where a < 0
            x = ctx.saved_tensors[0]
            log_a = where(x > 0, as_tensor(a, like=b), 1.0).log() + np.where(x < 0, np.nan, 0.0)
            gb = sum_to(grad * out * log_a, b.shape, b.dtype)
        return ga, gb


class Atan2(Function):
    """$f(a, b) = \\operatorname{atan2}(a, b)$, the angle of the point (b, a);
    $df/da = b / (a^2 + b^2)$, $df/db = -a / (a^2 + b^2)$"""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.arctan2(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        scale = grad / (a * a + b * b)
        ga = unbroadcast(scale * b, a.shape, a.dtype) if need_a else None
        gb = unbroadcast(-scale * a, b.shape, b.dtype) if need_b else None
        return ga, gb

    @staticmethod
    def backward_graph(ctx, grad, out):
        a, b = ctx.inputs
        need_a, need_b = ctx.needs_input_grad
        scale = grad / (a * a + b * b)
        return (
            sum_to(scale * b, a.shape, a.dtype) if need_a else None,
            sum_to(-scale * a, b.shape, b.dtype) if need_b else None,
        )


class Remainder(Function):
    """$f(a, b) = a - b \\lfloor a / b \\rfloor$ (Python's ``%``: the sign of b);
    $df/da = 1$, $df/db = -\\lfloor a / b \\rfloor$"""

    saved_for = ((1,), (1,))  # only b's gradient reads a and b

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.remainder(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        ga = unbroadcast(grad, a.shape, a.dtype) if need_a else None
        gb = unbroadcast(-grad * np.floor_divide(a, b), b.shape, b.dtype) if need_b else None
        return ga, gb

    @staticmethod
    def backward_graph(ctx, grad, out):
        a, b = ctx.inputs
        need_a, need_b = ctx.needs_input_grad
        quotient = make_tensor(np.floor_divide(*ctx.saved_tensors))  # piecewise constant
        return (
            sum_to(grad, a.shape, a.dtype) if need_a else None,
            sum_to(-grad * quotient, b.shape, b.dtype) if need_b else None,
        )


class FloorDivide(Function):
    """$f(a, b) = \\lfloor a / b \\rfloor$; PyTorch defines no derivative for it."""

    @staticmethod
    def forward(ctx, a, b):
        return np.floor_divide(a, b)

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError(
            "the derivative for 'floor_divide' is not implemented (as in PyTorch); for a "
            "gradient, use (a / b).floor() (zero almost everywhere) or a - a % b"
        )

    @staticmethod
    def backward_graph(ctx, grad, out):
        return FloorDivide.backward(ctx, grad)


class Maximum(Function):
    """$f(a, b) = \\max(a, b)$; where a = b the gradient is split evenly (as PyTorch)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        share = (a > b) + 0.5 * (a == b)
        need_a, need_b = ctx.needs_input_grad
        return (
            unbroadcast(grad * share, a.shape, a.dtype) if need_a else None,
            unbroadcast(grad * (1 - share), b.shape, b.dtype) if need_b else None,
        )

    @staticmethod
    def backward_graph(ctx, grad, out):
        a, b = ctx.saved_tensors  # the share is constant: max and min are piecewise linear
        share = (a > b) + 0.5 * (a == b)
        x, y = ctx.inputs
        need_a, need_b = ctx.needs_input_grad
        return (
            sum_to(grad * share, x.shape, x.dtype) if need_a else None,
            sum_to(grad * (1 - share), y.shape, y.dtype) if need_b else None,
        )


class Minimum(Function):
    """$f(a, b) = \\min(a, b)$; where a = b the gradient is split evenly (as PyTorch)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.minimum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        share = (a < b) + 0.5 * (a == b)
        need_a, need_b = ctx.needs_input_grad
        return (
            unbroadcast(grad * share, a.shape, a.dtype) if need_a else None,
            unbroadcast(grad * (1 - share), b.shape, b.dtype) if need_b else None,
        )

    @staticmethod
    def backward_graph(ctx, grad, out):
        a, b = ctx.saved_tensors  # the share is constant: max and min are piecewise linear
        share = (a < b) + 0.5 * (a == b)
        x, y = ctx.inputs
        need_a, need_b = ctx.needs_input_grad
        return (
            sum_to(grad * share, x.shape, x.dtype) if need_a else None,
            sum_to(grad * (1 - share), y.shape, y.dtype) if need_b else None,
        )


class Where(Function):
    """$f(c, a, b) = a$ where c else $b$; the condition gets no gradient."""

    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.save_for_backward(cond)
        ctx.shapes = (a.shape, a.dtype, b.shape, b.dtype)
        return np.where(cond, a, b)

    @staticmethod
    def backward(ctx, grad):
        (cond,) = ctx.saved_tensors
        sa, da, sb, db = ctx.shapes
        zero = np.zeros((), grad.dtype)
        return (
            None,
            unbroadcast(np.where(cond, grad, zero), sa, da),
            unbroadcast(np.where(cond, zero, grad), sb, db),
        )

    @staticmethod
    def backward_graph(ctx, grad, out):
        (cond,) = ctx.saved_tensors
        sa, da, sb, db = ctx.shapes
        _, need_a, need_b = ctx.needs_input_grad
        return (
            None,
            sum_to(where(cond, grad, 0.0), sa, da) if need_a else None,
            sum_to(where(cond, 0.0, grad), sb, db) if need_b else None,
        )


class Computed(Function):
    """$f(x, \\dots) = fn(x, \\dots)$ for an array function without a gradient: the indices
    of max or sort, a mask, a one-hot code. Computed by an op rather than beside the graph,
    so that ``ds.compile`` records it and every replay computes it from its own values."""

    @staticmethod
    def forward(ctx, *arrays, fn, **options):
        return fn(*arrays, **options)

    @staticmethod
    def backward(ctx, grad):
        return (None,) * len(ctx.inputs)

    @staticmethod
    def backward_graph(ctx, grad, out):
        return (None,) * len(ctx.inputs)


def computed(fn, *inputs, **options) -> Tensor:
    """``fn(*arrays, **options)`` on the inputs' arrays, as a Tensor without gradient."""
    arrays = [x._data if isinstance(x, Tensor) else x for x in inputs]
    return Computed.apply(*arrays, fn=fn, **options)


# ---- unary ----------------------------------------------------------------------


class Neg(Function):
    """$f(x) = -x$"""

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, grad):
        return -grad

    @staticmethod
    def backward_graph(ctx, grad, out):
        return -grad


class Exp(Function):
    """$f(x) = e^x$, $f' = e^x$"""

    @staticmethod
    def forward(ctx, x):
        out = np.exp(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out

    @staticmethod
    def backward_graph(ctx, grad, out):
        return grad * out


class Log(Function):
    """$f(x) = \\ln x$, $f' = 1/x$"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / x

    @staticmethod
    def backward_graph(ctx, grad, out):
        return grad / ctx.inputs[0]


class Log1p(Function):
    """$f(x) = \\ln(1 + x)$, $f' = 1/(1 + x)$ (NumPy's log1p: exact for tiny x)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log1p(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (1 + x)

    @staticmethod
    def backward_graph(ctx, grad, out):
        return grad / (ctx.inputs[0] + 1.0)


class Expm1(Function):
    """$f(x) = e^x - 1$, $f' = e^x$ (NumPy's expm1: exact for tiny x)"""

    @staticmethod
    def forward(ctx, x):
        out = np.expm1(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (out + 1)

    @staticmethod
    def backward_graph(ctx, grad, out):
        return grad * (out + 1.0)


class Sqrt(Function):
    """$f(x) = \\sqrt{x}$, $f' = 1 / (2 \\sqrt{x})$"""

    @staticmethod
    def forward(ctx, x):
        out = np.sqrt(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad / (2 * out)

    @staticmethod
    def backward_graph(ctx, grad, out):
        return grad / (2 * out)


class Abs(Function):
    """$f(x) = |x|$, $f' = \\mathrm{sign}(x)$ (0 at 0, as PyTorch)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * np.sign(x)

    @staticmethod
    def backward_graph(ctx, grad, out):
        return grad * np.sign(ctx.saved_tensors[0])  # piecewise constant, as PyTorch


class Sin(Function):
    """$f(x) = \\sin x$, $f' = \\cos x$"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * np.cos(x)

    @staticmethod
    def backward_graph(ctx, grad, out):
        return grad * ctx.inputs[0].cos()


class Cos(Function):
    """$f(x) = \\cos x$, $f' = -\\sin x$"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cos(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return -grad * np.sin(x)

    @staticmethod
    def backward_graph(ctx, grad, out):
        return -grad * ctx.inputs[0].sin()


class Tanh(Function):
    """$f(x) = \\tanh x$, $f' = 1 - \\tanh^2 x$"""

    @staticmethod
    def forward(ctx, x):
        out = np.tanh(x, out=ctx.buffer("out", x))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        kept = ctx.buffer("slope", out)  # None eagerly: NumPy allocates (a 0-d gives a scalar)
        slope = np.subtract(1, np.multiply(out, out, out=kept), out=kept)  # 1 - tanh^2
        return np.multiply(grad, slope, out=ctx.buffer("grad", grad))

    @staticmethod
    def backward_graph(ctx, grad, out):
        return grad * (1 - out * out)


class Sigmoid(Function):
    """$\\sigma(x) = 1 / (1 + e^{-x})$, $\\sigma' = \\sigma (1 - \\sigma)$"""

    @staticmethod
    def forward(ctx, x):
        out = stable_sigmoid(x, ctx)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        kept = ctx.buffer("grad", grad)  # None eagerly: NumPy allocates (a 0-d gives a scalar)
        rest = np.subtract(1, out, out=ctx.buffer("rest", out))  # 1 - sigma
        return np.multiply(np.multiply(grad, out, out=kept), rest, out=kept)

    @staticmethod
    def backward_graph(ctx, grad, out):
        return grad * out * (1 - out)


class Erf(Function):
    """$f(x) = \\mathrm{erf}(x)$, $f' = \\frac{2}{\\sqrt\\pi} e^{-x^2}$"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return special.erf(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (np.exp(-(x * x)) * np.asarray(_TWO_OVER_SQRT_PI, x.dtype))

    @staticmethod
    def backward_graph(ctx, grad, out):
        x = ctx.inputs[0]
        return grad * ((-(x * x)).exp() * _TWO_OVER_SQRT_PI)


_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def stable_sigmoid(x: np.ndarray, ctx=None) -> np.ndarray:
    """$\\sigma(x)$ without overflow: $e^{-|x|}$ never exceeds 1; $1 / (1 + z)$ where
    $x \\ge 0$, $z / (1 + z)$ elsewhere. With ``ctx``, in its buffers (``Context.buffer``)."""
    if ctx is None or x.dtype.kind != "f" or not x.ndim:  # (NumPy makes a 0-d a scalar)
        z = np.exp(-np.abs(x))
        return np.where(x >= 0, 1 / (1 + z), z / (1 + z))
    z = np.abs(x, out=ctx.buffer("sigmoid_z", x))
    z = np.exp(np.negative(z, out=z), out=z)
    denominator = np.add(z, 1, out=ctx.buffer("sigmoid_d", x))
    out = np.divide(z, denominator, out=ctx.buffer("sigmoid", x))
    positive = np.greater_equal(x, 0, out=ctx.buffer("sigmoid_at", x, dtype=_BOOL))
    return np.divide(1, denominator, out=out, where=positive)


class Relu(Function):
    """$f(x) = \\max(0, x)$, $f' = [x > 0]$"""

    @staticmethod
    def forward(ctx, x):
        out = np.maximum(x, 0, out=ctx.buffer("out", x))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        positive = np.greater(out, 0, out=ctx.buffer("positive", out, dtype=_BOOL))
        return np.multiply(grad, positive, out=ctx.buffer("grad", grad))

    @staticmethod
    def backward_graph(ctx, grad, out):
        return grad * (out > 0)


class LeakyRelu(Function):
    """$f(x) = x$ for $x > 0$ else $a x$"""

    @staticmethod
    def forward(ctx, x, *, negative_slope):
        ctx.save_for_backward(x)
        ctx.slope = negative_slope
        return np.where(x > 0, x, x * np.asarray(negative_slope, x.dtype))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return np.where(x > 0, grad, grad * np.asarray(ctx.slope, grad.dtype))

    @staticmethod
    def backward_graph(ctx, grad, out):
        return where(ctx.inputs[0] > 0, grad, grad * ctx.slope)


class Clamp(Function):
    """$f(x) = \\min(\\max(x, lo), hi)$; the gradient passes where lo <= x <= hi (as PyTorch)."""

    @staticmethod
    def forward(ctx, x, *, lo, hi):
        ctx.save_for_backward(x)
        ctx.bounds = (lo, hi)
        return np.clip(x, lo, hi).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        lo, hi = ctx.bounds
        inside = np.ones(x.shape, bool)
        if lo is not None:
            inside &= x >= lo
        if hi is not None:
            inside &= x <= hi
        return grad * inside

    @staticmethod
    def backward_graph(ctx, grad, out):
        (x,) = ctx.saved_tensors  # the mask is constant: clamp is piecewise linear
        lo, hi = ctx.bounds
        return grad * ((lo is None or x >= lo) & (hi is None or x <= hi))


class _Step(Function):
    """A piecewise-constant function (``ufunc`` of the subclass): its gradient is zero
    wherever it exists, and PyTorch takes it as zero everywhere."""

    ufunc = None

    @staticmethod
    def forward(ctx, x):
        return ctx.fn.ufunc(x)

    @staticmethod
    def backward(ctx, grad):
        return np.zeros_like(grad)

    @staticmethod
    def backward_graph(ctx, grad, out):
        return make_tensor(np.zeros_like(grad._data))


class Floor(_Step):
    """$\\lfloor x \\rfloor$"""

    ufunc = np.floor


class Ceil(_Step):
    """$\\lceil x \\rceil$"""

    ufunc = np.ceil


class Round(_Step):
    """x rounded to the nearest integer, halves to even (as PyTorch's)."""

    ufunc = np.round


class Trunc(_Step):
    """x rounded toward zero."""

    ufunc = np.trunc


class Sign(_Step):
    """-1, 0 or 1 as x is negative, zero or positive."""

    ufunc = np.sign


class Cast(Function):
    """$f(x) = x$ in another dtype; the gradient is cast back."""

    @staticmethod
    def forward(ctx, x, *, dtype, copy):
        ctx.dtype = x.dtype
        return x.astype(dtype, copy=copy)

    @staticmethod
    def backward(ctx, grad):
        return grad.astype(ctx.dtype)

    @staticmethod
    def backward_graph(ctx, grad, out):
        return cast(grad, ctx.dtype)


# ---- the functional forms (ds.exp, Tensor.exp, ...) ------------------------------------


_PYTHON_NUMBERS = (float, int)


def _binary(fn: type[Function], a, b, name: str) -> Tensor:
    # Fast path for ``x * 2.0``: the Python number goes to NumPy as it is, which keeps x's
    # floating dtype (NumPy treats Python numbers as weakly typed); no Tensor is made.
    # And two tensors of one dtype need no conversion either.
    if isinstance(a, Tensor):
        if isinstance(b, Tensor):
            da, db = a._data.dtype, b._data.dtype
            convert = da is not db and da != db  # identity first: it is cheaper
        else:
            convert = not (b.__class__ in _PYTHON_NUMBERS and a._data.dtype.kind == "f")
    else:
        convert = not (
            a.__class__ in _PYTHON_NUMBERS and isinstance(b, Tensor) and b._data.dtype.kind == "f"
        )
    if convert:
        a, b = _operands(a, b)
    try:
        return fn.apply(a, b)
    except ValueError as e:
        if "broadcast" not in str(e):
            raise
        raise broadcast_error(name, a.shape, b.shape) from None


def broadcast_error(name: str, sa: tuple, sb: tuple) -> ValueError:
    """The error for two shapes that do not broadcast, naming the op and the dim."""
    return ValueError(
        f"{name}: shapes {tuple(sa)} and {tuple(sb)} cannot be broadcast together "
        f"({_mismatch(tuple(sa), tuple(sb))}; aligned from the right, dims must be equal or 1)"
    )


def _mismatch(sa: tuple, sb: tuple) -> str:
    """Which dim stops two shapes from broadcasting, counted from the right."""
    for k in range(1, min(len(sa), len(sb)) + 1):
        if sa[-k] != sb[-k] and 1 not in (sa[-k], sb[-k]):
            return f"dim {-k}: {sa[-k]} vs {sb[-k]}"
    return "no single dim"


def add(input, other, *, alpha=1) -> Tensor:  # noqa: A002 - PyTorch's names
    """``input + alpha * other`` (PyTorch's ``torch.add``)."""
    if alpha != 1:
        other = mul(other, alpha)
    return _binary(Add, input, other, "add")


def sub(input, other, *, alpha=1) -> Tensor:  # noqa: A002 - PyTorch's names
    """``input - alpha * other`` (PyTorch's ``torch.sub``)."""
    if alpha != 1:
        other = mul(other, alpha)
    return _binary(Sub, input, other, "sub")


def mul(input, other) -> Tensor:  # noqa: A002 - PyTorch's names
    return _binary(Mul, input, other, "mul")


def div(input, other) -> Tensor:  # noqa: A002 - PyTorch's names
    """True division; integer operands give floats, as in PyTorch."""
    a, b = _operands(input, other)
    if a._data.dtype.kind != "f":  # true division of integers gives floats, as in PyTorch
        a = computed(np.ndarray.astype, a, dtype=np.float32)
        b = computed(np.ndarray.astype, b, dtype=np.float32)
    return _binary(Div, a, b, "div")


def pow(input, exponent) -> Tensor:  # noqa: A001, A002 - PyTorch's names
    return _binary(Pow, input, exponent, "pow")


def remainder(input, other) -> Tensor:  # noqa: A002 - PyTorch's names
    """``input % other``, Python's modulus (the result takes the sign of ``other``)."""
    return _binary(Remainder, input, other, "remainder")


def floor_divide(input, other) -> Tensor:  # noqa: A002 - PyTorch's names
    """``input // other``: the quotient rounded down (not differentiable, as in PyTorch)."""
    return _binary(FloorDivide, input, other, "floor_divide")


def maximum(input, other) -> Tensor:  # noqa: A002 - PyTorch's names
    return _binary(Maximum, input, other, "maximum")


def minimum(input, other) -> Tensor:  # noqa: A002 - PyTorch's names
    return _binary(Minimum, input, other, "minimum")


def where(condition, input, other) -> Tensor:  # noqa: A002 - PyTorch's names
    """Elements of ``input`` where ``condition`` holds, else of ``other`` (all broadcast)."""
    cond = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    a, b = _operands(input, other)
    try:
        np.broadcast_shapes(cond.shape, a._data.shape, b._data.shape)
    except ValueError:
        raise ValueError(
            f"where: shapes {tuple(cond.shape)} (condition), {tuple(a.shape)} and "
            f"{tuple(b.shape)} cannot be "
            f"broadcast together (trailing dims must be equal or 1)"
        ) from None
    return Where.apply(cond.astype(bool, copy=False), a, b)


# The unary ops take PyTorch's parameter name, ``input``.


def neg(input: Tensor) -> Tensor:  # noqa: A002
    return Neg.apply(input)


negative = neg  # PyTorch's alias


def exp(input: Tensor) -> Tensor:  # noqa: A002
    return Exp.apply(input)


def log(input: Tensor) -> Tensor:  # noqa: A002
    return Log.apply(input)


def sqrt(input: Tensor) -> Tensor:  # noqa: A002
    return Sqrt.apply(input)


def abs(input: Tensor) -> Tensor:  # noqa: A001, A002 - PyTorch's names
    return Abs.apply(input)


def sin(input: Tensor) -> Tensor:  # noqa: A002
    return Sin.apply(input)


def cos(input: Tensor) -> Tensor:  # noqa: A002
    return Cos.apply(input)


def tanh(input: Tensor) -> Tensor:  # noqa: A002
    return Tanh.apply(input)


def sigmoid(input: Tensor) -> Tensor:  # noqa: A002
    return Sigmoid.apply(input)


def erf(input: Tensor) -> Tensor:  # noqa: A002
    """The error function $\\frac{2}{\\sqrt\\pi} \\int_0^x e^{-t^2} dt$ (``torch.erf``)."""
    return Erf.apply(input)


def _step(fn: type[_Step], input: Tensor) -> Tensor:  # noqa: A002
    if input._data.dtype.kind != "f":  # integers are whole already (sign: -1, 0, 1)
        return make_tensor(np.sign(input._data) if fn is Sign else input._data.copy())
    return fn.apply(input)


def floor(input: Tensor) -> Tensor:  # noqa: A002
    return _step(Floor, input)


def ceil(input: Tensor) -> Tensor:  # noqa: A002
    return _step(Ceil, input)


def round(input: Tensor, *, decimals: int = 0) -> Tensor:  # noqa: A001, A002 - PyTorch's names
    """Round to the nearest integer (halves to even), or to ``decimals`` decimal places."""
    if decimals == 0:
        return _step(Round, input)
    scale = 10.0**decimals
    return _step(Round, input * scale) / scale


def trunc(input: Tensor) -> Tensor:  # noqa: A002
    return _step(Trunc, input)


def sign(input: Tensor) -> Tensor:  # noqa: A002
    return _step(Sign, input)


def _in_place(input: Tensor, out: Tensor) -> Tensor:  # noqa: A002
    """PyTorch's ``inplace=True``: ``out``'s values written into ``input``, which is returned.

    NOTE: descent records no in-place op, so a tensor in a graph (it requires grad while
    grad mode is on) is left as it is and the new tensor returned: code that uses the
    result, as ``x = F.relu(x, inplace=True)`` and ``nn.ReLU(inplace=True)`` do, gets the
    same values and gradients as with PyTorch.
    """
    if input.requires_grad and is_grad_enabled():
        return out
    return input.copy_(out)


def relu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """$\\max(0, x)$; ``inplace=True`` writes the result into input (see ``_in_place``)."""
    out = Relu.apply(input)
    return _in_place(input, out) if inplace else out


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:  # noqa: A002
    """x for x > 0, else ``negative_slope`` x; ``inplace`` as for ``relu``."""
    out = LeakyRelu.apply(input, negative_slope=negative_slope)
    return _in_place(input, out) if inplace else out


def clamp(input: Tensor, min=None, max=None) -> Tensor:  # noqa: A001, A002 - PyTorch's names
    """Limit values to [min, max]; either bound may be None."""
    if min is None and max is None:
        raise ValueError("clamp: give at least one of min and max")
    return Clamp.apply(input, lo=min, hi=max)


clip = clamp


def masked_fill(input, mask, value) -> Tensor:  # noqa: A002 - PyTorch's names
    """``value`` where ``mask`` is True, else ``input``; ``mask`` broadcasts to input's shape."""
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise RuntimeError(
            f"masked_fill_ only supports boolean masks, but got mask with dtype {m.dtype}"
        )
    try:
        shape = np.broadcast_shapes(m.shape, input._data.shape)
    except ValueError:
        shape = None
    if shape != input._data.shape:
        raise RuntimeError(
            f"masked_fill: the mask of shape {tuple(m.shape)} must broadcast to the input's shape "
            f"{tuple(input.shape)}"
        )
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError(
            f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
            f"{value.ndim} dimension(s)."
        )
    if not isinstance(value, Tensor):
        value = make_tensor(np.asarray(value, dtype=input.dtype))
    elif value.dtype != input.dtype:
        value = cast(value, input.dtype)
    return Where.apply(m, value, input)


def cast(x: Tensor, dtype, copy: bool = False) -> Tensor:
    if dtype.kind != "f" and x.requires_grad:
        # no gradient through ints: an op without one (which ds.compile replays)
        return computed(np.ndarray.astype, x, dtype=dtype, copy=copy)
    return Cast.apply(x, dtype=dtype, copy=copy)


# ---- composites of the primitives above (their gradients come from those) -----------------


def square(input: Tensor) -> Tensor:  # noqa: A002
    """$x^2$"""
    return input * input


def reciprocal(input: Tensor) -> Tensor:  # noqa: A002
    """$1 / x$"""
    return 1.0 / _floating(input)


def rsqrt(input: Tensor) -> Tensor:  # noqa: A002
    """$1 / \\sqrt{x}$"""
    return 1.0 / sqrt(_floating(input))


def log1p(input: Tensor) -> Tensor:  # noqa: A002
    """$\\log(1 + x)$, exact for tiny x."""
    return Log1p.apply(_floating(input))


def expm1(input: Tensor) -> Tensor:  # noqa: A002
    """$e^x - 1$, exact for tiny x."""
    return Expm1.apply(_floating(input))


def log2(input: Tensor) -> Tensor:  # noqa: A002
    """$\\log_2 x$"""
    return log(_floating(input)) * (1.0 / math.log(2.0))


def log10(input: Tensor) -> Tensor:  # noqa: A002
    """$\\log_{10} x$"""
    return log(_floating(input)) * (1.0 / math.log(10.0))


def tan(input: Tensor) -> Tensor:  # noqa: A002
    """$\\tan x = \\sin x / \\cos x$"""
    x = _floating(input)
    return sin(x) / cos(x)


def clamp_min(input: Tensor, min) -> Tensor:  # noqa: A001, A002 - PyTorch's names
    return clamp(input, min=min)


def clamp_max(input: Tensor, max) -> Tensor:  # noqa: A001, A002 - PyTorch's names
    return clamp(input, max=max)


def _floating(x: Tensor) -> Tensor:
    """Integer and bool tensors promoted to the default float dtype (as PyTorch's unary
    float functions do)."""
    if x._data.dtype.kind == "f":
        return x
    return make_tensor(x._data.astype(get_default_dtype()))


def atan2(input, other) -> Tensor:  # noqa: A002 - PyTorch's names
    """The angle of the point (other, input) in radians, in [-pi, pi] (integers as floats)."""
    a, b = _operands(input, other)
    if a._data.dtype.kind != "f":
        a, b = _floating(a), _floating(b)
    return _binary(Atan2, a, b, "atan2")


arctan2 = atan2  # PyTorch's alias


def lerp(input, end, weight) -> Tensor:  # noqa: A002 - PyTorch's names
    """``input + weight * (end - input)``: a number or a tensor of weights, all broadcast."""
    if not isinstance(weight, Tensor) and not isinstance(weight, _PYTHON_NUMBERS):
        raise TypeError(f"lerp(): weight must be a number or a Tensor, got {type(weight).__name__}")
    shapes = [np.shape(v._data if isinstance(v, Tensor) else v) for v in (input, end, weight)]
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        bad = shapes[2] if len(set(shapes[:2])) == 1 else shapes[1]
        raise broadcast_error("lerp", shapes[0], bad) from None
    return add(input, mul(weight, sub(end, input)))


def nan_to_num(input: Tensor, nan: float = 0.0, posinf=None, neginf=None) -> Tensor:  # noqa: A002
    """NaN replaced by ``nan``, +inf by ``posinf`` and -inf by ``neginf`` (by default the
    dtype's largest and smallest finite numbers); replaced elements get no gradient."""
    arr = input._data
    if arr.dtype.kind != "f":
        return make_tensor(arr.copy())
    info = np.finfo(arr.dtype)
    hi = info.max if posinf is None else posinf
    lo = info.min if neginf is None else neginf
    out = input
    for mask, value in ((np.isnan(arr), nan), (arr == np.inf, hi), (arr == -np.inf, lo)):
        if mask.any():
            out = Where.apply(mask, make_tensor(np.asarray(value, arr.dtype)), out)
    return out if out is not input else input * 1
