"""Neural-network primitives: linear, conv2d, pooling, one_hot and the fused losses of
``ds.nn.functional``.

Images are NCHW. ``pads`` is always ``((top, bottom), (left, right))`` and ``stride`` a pair;
``descent.nn.functional`` turns the user's ints, pairs and strings into these.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..tensor import Tensor, array_of, make_tensor
from ._util import unbroadcast
from .elementwise import stable_sigmoid

# ---- window helpers shared by conv2d and pooling ---------------------------------------


# The helpers work on the two image dims starting at ``hw`` (pooling: the last two, -2;
# conv2d's channels-last (C, H, W, N) arrays: 1).


def _hw_index(ndim: int, hw: int, rows: slice, cols: slice) -> tuple:
    index = [slice(None)] * ndim
    index[hw % ndim], index[hw % ndim + 1] = rows, cols
    return tuple(index)


def _pad_hw(a: np.ndarray, pads: tuple, value: float, hw: int = -2) -> np.ndarray:
    """``a`` with its image dims padded by ``pads`` with ``value`` (``a`` itself if none)."""
    (top, bottom), (left, right) = pads
    if not (top or bottom or left or right):
        return a
    shape = list(a.shape)
    h, w = shape[hw % a.ndim], shape[hw % a.ndim + 1]
    shape[hw % a.ndim], shape[hw % a.ndim + 1] = h + top + bottom, w + left + right
    out = np.full(shape, value, a.dtype)
    out[_hw_index(a.ndim, hw, slice(top, top + h), slice(left, left + w))] = a
    return out


def _crop_hw(a: np.ndarray, pads: tuple, size: tuple, hw: int = -2) -> np.ndarray:
    """The inverse of ``_pad_hw``: the unpadded ``size`` (H, W) window of ``a``."""
    (top, _), (left, _) = pads
    return a[_hw_index(a.ndim, hw, slice(top, top + size[0]), slice(left, left + size[1]))]


def _window(
    a: np.ndarray, i: int, j: int, stride: tuple, out_hw: tuple, hw: int = -2
) -> np.ndarray:
    """The strided view of ``a`` holding element (i, j) of every window, (Ho, Wo) in the
    image dims."""
    (sh, sw), (ho, wo) = stride, out_hw
    rows, cols = slice(i, i + sh * (ho - 1) + 1, sh), slice(j, j + sw * (wo - 1) + 1, sw)
    return a[_hw_index(a.ndim, hw, rows, cols)]


def out_size(size: int, kernel: int, stride: int, pad_total: int) -> int:
    """Output length of a sliding window: floor((size + pads - kernel) / stride) + 1."""
    return (size + pad_total - kernel) // stride + 1


# ---- linear ----------------------------------------------------------------------------


class Linear(Function):
    """$y = x W^T + b$; $dx = g W$, $dW = g^T x$, $db = \\sum_n g_n$ (x may be (*, in))."""

    saved_for = ((1,), (0,))  # W's gradient reads x; x's reads W

    @staticmethod
    def forward(ctx, x, weight, bias):
        x2 = x.reshape(-1, x.shape[-1])  # (M, in)
        out = x2 @ weight.T  # (M, out)
        if bias is not None:
            out += bias
        ctx.save_for_backward(x2, weight)
        ctx.x_shape = x.shape
        return out.reshape(x.shape[:-1] + (weight.shape[0],))

    @staticmethod
    def backward(ctx, grad):
        x2, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        g2 = grad.reshape(-1, weight.shape[0])  # (M, out)
        gx = (g2 @ weight).reshape(ctx.x_shape) if need_x else None
        gw = g2.T @ x2 if need_w else None
        gb = g2.sum(axis=0) if need_b else None
        return gx, gw, gb


# ---- convolution -------------------------------------------------------------------------


# K-block of _long_product: 8192 rows of a and b (about 0.5 MiB for 17 float32 columns)
_K_BLOCK = 8192


def _long_product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` for a (M, K) @ (K, N) product with a small M * N and a long K.

    NOTE: OpenBLAS takes such a product (conv2d's weight gradient with few channels,
    e.g. (9, 43264) @ (43264, 8)) about 2.5x faster as a sum over blocks of 8192 rows of
    K that stay in the cache than in one call. Larger M * N gain nothing from it.
    """
    m, k = a.shape
    if m * b.shape[1] > 256 or k < 2 * _K_BLOCK:
        return a @ b
    out = a[:, :_K_BLOCK] @ b[:_K_BLOCK]
    for start in range(_K_BLOCK, k, _K_BLOCK):
        out += a[:, start : start + _K_BLOCK] @ b[start : start + _K_BLOCK]
    return out


def _channels_last_padded(x: np.ndarray, pads: tuple) -> np.ndarray:
    """x (N, C, H, W) as a C-contiguous (C, Hp, Wp, N) array, zero-padded in H and W."""
    moved = x.transpose(1, 2, 3, 0)  # free when x came out of conv2d or pooling
    return np.ascontiguousarray(_pad_hw(moved, pads, 0, hw=1))


class Conv2d(Function):
    """$y_{n,o,h,w} = b_o + \\sum_{c,i,j} W_{o,c,i,j} x_{n,c,s_h h + i,s_w w + j}$ (no kernel flip).

    im2col: the kh*kw strided windows are copied into one (C*kh*kw, Ho*Wo*N) matrix, so the
    forward is one matmul, dW is one matmul, and dx is col2im (the windows added back).
    """

    # NOTE: inside, images are (C, H, W, N): the batch is the fastest axis, so a window
    # row (Wo columns by N images) is one contiguous run. The window copies of im2col and
    # the adds of col2im then move long runs instead of rows of Wo numbers, several times
    # faster. The output is an (N, O, Ho, Wo) view of (O, Ho, Wo, N) memory; the next
    # conv2d, and pooling in between, keep that layout without copies.

    saved_for = ((1,), (0,))  # the windows of x (a copy) for W's gradient; W for x's

    @staticmethod
    def forward(ctx, x, weight, bias, *, stride, pads):
        n, c, h, w = x.shape
        o, _, kh, kw = weight.shape
        xp = _channels_last_padded(x, pads)
        ho = out_size(h, kh, stride[0], sum(pads[0]))
        wo = out_size(w, kw, stride[1], sum(pads[1]))
        cols = np.empty((c, kh, kw, ho, wo, n), x.dtype)
        for i in range(kh):
            for j in range(kw):
                cols[:, i, j] = _window(xp, i, j, stride, (ho, wo), hw=1)
        cols = cols.reshape(c * kh * kw, ho * wo * n)
        out = weight.reshape(o, -1) @ cols  # (O, Ho*Wo*N)
        if bias is not None:
            out += bias[:, None]
        ctx.save_for_backward(cols, weight)
        ctx.meta = (x.shape, xp.shape, stride, pads)
        return out.reshape(o, ho, wo, n).transpose(3, 0, 1, 2)

    @staticmethod
    def backward(ctx, grad):
        cols, weight = ctx.saved_tensors
        x_shape, xp_shape, stride, pads = ctx.meta
        need_x, need_w, need_b = ctx.needs_input_grad
        n, c, h, w = x_shape
        o, _, kh, kw = weight.shape
        ho, wo = grad.shape[2:]
        g2 = grad.transpose(1, 2, 3, 0).reshape(o, -1)  # (O, Ho*Wo*N)
        gx = gw = gb = None
        if need_b:
            gb = g2.sum(axis=1)
        if need_w:
            # NOTE: the same product as g2 @ cols.T, but OpenBLAS takes this long-K shape
            # (K = Ho*Wo*N) about 1.2-2x faster in this order
            gw = np.ascontiguousarray(_long_product(cols, g2.T).T).reshape(weight.shape)
        if need_x:
            gcols = (weight.reshape(o, -1).T @ g2).reshape(c, kh, kw, ho, wo, n)
            gxp = np.zeros(xp_shape, grad.dtype)  # (C, Hp, Wp, N)
            for i in range(kh):
                for j in range(kw):
                    _window(gxp, i, j, stride, (ho, wo), hw=1)[...] += gcols[:, i, j]
            gx = _crop_hw(gxp, pads, (h, w), hw=1).transpose(3, 0, 1, 2)
        return gx, gw, gb


# ---- pooling -------------------------------------------------------------------------------


def _pooled_hw(x: np.ndarray, kernel: tuple, stride: tuple, pads: tuple) -> tuple[int, int]:
    """(Ho, Wo): how many windows fit along the height and the width."""
    return (
        out_size(x.shape[2], kernel[0], stride[0], sum(pads[0])),
        out_size(x.shape[3], kernel[1], stride[1], sum(pads[1])),
    )


def _fold_windows(ufunc, xp: np.ndarray, kernel: tuple, stride: tuple, out_hw: tuple):
    """``ufunc`` (np.maximum, np.add) applied across the kh*kw elements of every window.

    The result has xp's memory layout (NumPy's order 'K'), channels-last included.
    """
    views = [_window(xp, i, j, stride, out_hw) for i in range(kernel[0]) for j in range(kernel[1])]
    if len(views) == 1:
        return views[0].copy(order="K")
    out = ufunc(views[0], views[1])
    for view in views[2:]:
        ufunc(out, view, out=out)
    return out


class MaxPool2d(Function):
    """$y = \\max$ over each window; the gradient goes to the first maximum (as PyTorch)."""

    @staticmethod
    def forward(ctx, x, *, kernel, stride, pads):
        xp = _pad_hw(x, pads, -np.inf)
        # NOTE: pairwise np.maximum of kh*kw strided views, ~10x faster than a reshape + max
        out = _fold_windows(np.maximum, xp, kernel, stride, _pooled_hw(x, kernel, stride, pads))
        ctx.save_for_backward(xp, out)
        ctx.meta = (x.shape[2:], kernel, stride, pads)
        return out

    @staticmethod
    def backward(ctx, grad):
        xp, out = ctx.saved_tensors
        hw, (kh, kw), stride, pads = ctx.meta
        ho, wo = out.shape[2:]
        # Windows that do not overlap (stride >= kernel, as in 2x2 pooling with stride 2)
        # give each element to at most one window: its share is written, not added. When
        # they also tile xp exactly, every element is written and none needs zeroing first.
        disjoint = stride[0] >= kh and stride[1] >= kw
        tiled = (ho * stride[0], wo * stride[1]) == xp.shape[2:] == (ho * kh, wo * kw)
        # in xp's layout, so the window views below walk memory in order
        gxp = np.empty_like(xp, dtype=grad.dtype) if tiled else np.zeros_like(xp, dtype=grad.dtype)
        # the gradient of windows whose first maximum is not found yet, in out's layout
        left = np.empty_like(out, dtype=grad.dtype)
        np.copyto(left, grad)
        hit = np.empty_like(out, dtype=np.bool_)
        for i in range(kh):
            for j in range(kw):
                np.equal(_window(xp, i, j, stride, (ho, wo)), out, out=hit)
                target = _window(gxp, i, j, stride, (ho, wo))
                if disjoint:
                    routed = np.multiply(left, hit, out=target)
                else:
                    routed = left * hit
                    target += routed
                if i < kh - 1 or j < kw - 1:
                    left -= routed  # exactly 0 where routed: later ties get nothing
        gx = _crop_hw(gxp, pads, hw)
        return gx if gx.shape == gxp.shape else gx.copy(order="K")


class AvgPool2d(Function):
    """$y$ = mean of each window; every element of a window gets $g / \\text{divisor}$."""

    @staticmethod
    def forward(ctx, x, *, kernel, stride, pads, count_include_pad):
        kh, kw = kernel
        xp = _pad_hw(x, pads, 0)
        ho, wo = _pooled_hw(x, kernel, stride, pads)
        out = _fold_windows(np.add, xp, kernel, stride, (ho, wo))
        if count_include_pad:
            divisor = np.asarray(kh * kw, x.dtype)
        else:  # count only the window's elements that lie inside the input: (Ho, Wo)
            inside = _pad_hw(np.ones(x.shape[2:], x.dtype), pads, 0)
            divisor = sum(
                _window(inside, i, j, stride, (ho, wo)) for i in range(kh) for j in range(kw)
            )
        out /= divisor
        ctx.meta = (x.shape, xp.shape, kernel, stride, pads, divisor)
        return out

    @staticmethod
    def backward(ctx, grad):
        x_shape, xp_shape, (kh, kw), stride, pads, divisor = ctx.meta
        share = grad / divisor
        gxp = np.zeros(xp_shape, grad.dtype)
        for i in range(kh):
            for j in range(kw):
                _window(gxp, i, j, stride, share.shape[2:])[...] += share
        return np.ascontiguousarray(_crop_hw(gxp, pads, x_shape[2:]))


# ---- softmax cross-entropy: the rules of F.cross_entropy -------------------------------------


def weighted_labels(y: np.ndarray, w: np.ndarray | None, ignore_index: int, dtype):
    """(labels with ignored ones set to 0, each example's class weight, 0 where ignored)."""
    valid = y != ignore_index
    safe = np.where(valid, y, 0)
    weight_y = valid.astype(dtype) if w is None else w[safe] * valid
    return safe, weight_y


def _along_class_dim(a: np.ndarray, ndim: int) -> np.ndarray:
    """A per-example array (the target's shape) expanded to broadcast along the class dim
    of an ndim-d input."""
    return a[None] if ndim == 1 else np.expand_dims(a, 1)


def class_vector(w: np.ndarray, ndim: int) -> np.ndarray:
    """A (C,) array shaped to broadcast along the class dim of an ndim-d input: (C,),
    (1, C) or (1, C, 1, ...)."""
    return w if ndim == 1 else w.reshape((1, -1) + (1,) * (ndim - 2))


def label_coefficients(y, w, ignore_index: int, smoothing: float, shape: tuple, dtype):
    """The coefficients T of ``SoftmaxCrossEntropy`` for class indices y of logits of
    ``shape``, and each example's weight $w_y$ (0 where ignored).

    $T = (1 - \\varepsilon) w_y$ at the label plus $\\varepsilon w_c / C$ at every class c;
    0 for ignored examples. Without weight and smoothing it is the one-hot of y.
    """
    dim = 0 if len(shape) == 1 else 1
    num_classes = shape[dim]
    safe, weight_y = weighted_labels(y, w, ignore_index, dtype)
    coeffs = np.zeros(shape, dtype)
    np.put_along_axis(
        coeffs,
        _along_class_dim(safe, len(shape)).astype(np.intp),
        _along_class_dim(weight_y * (1 - smoothing), len(shape)),
        axis=dim,
    )
    if smoothing:
        valid = _along_class_dim((y != ignore_index).astype(dtype), len(shape))
        spread = np.ones(num_classes, dtype) if w is None else w
        coeffs += (smoothing / num_classes) * class_vector(spread, len(shape)) * valid
    return coeffs.astype(dtype, copy=False), weight_y


class SoftmaxCrossEntropy(Function):
    """$\\ell = -\\sum_c T_c \\log p_c$, p = softmax(x); $dx = g (p \\sum T - T)$, $dT = -g \\log p$

    ``coeffs`` T holds each class's coefficient (for class indices: the weighted one-hot,
    plus label smoothing), so with a plain one-hot the gradient is the closed form $p - y$.
    """

    @staticmethod
    def forward(ctx, x, coeffs, *, dim):
        shifted = x - np.max(x, axis=dim, keepdims=True)
        log_p = shifted - np.log(np.sum(np.exp(shifted), axis=dim, keepdims=True))
        ctx.save_for_backward(log_p, coeffs)
        ctx.dim = dim
        return -np.sum(coeffs * log_p, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        log_p, coeffs = ctx.saved_tensors
        need_x, need_t = ctx.needs_input_grad
        g = np.expand_dims(grad, ctx.dim)
        gx = gt = None
        if need_x:
            total = np.sum(coeffs, axis=ctx.dim, keepdims=True)
            gx = g * (np.exp(log_p) * total - coeffs)
        if need_t:
            gt = -g * log_p
        return gx, gt


class LabelCrossEntropy(Function):
    """The mean over N examples of $-\\log \\mathrm{softmax}(x_n)_{y_n}$, x of shape (N, C), y
    class indices; $dx = g (\\mathrm{softmax}(x) - \\mathrm{onehot}(y)) / N$.

    The common case of ``cross_entropy`` (no class weights, ignored labels or smoothing)
    in one op: no dense target, no separate sum and division.
    """

    @staticmethod
    def forward(ctx, x, labels):
        rows = np.arange(len(labels))
        shifted = x - np.max(x, axis=1, keepdims=True)
        log_norm = np.log(np.sum(np.exp(shifted), axis=1))
        # a copy: the caller may change its label array before backward runs
        ctx.save_for_backward(shifted, log_norm[:, None], labels.copy())
        return np.asarray(np.mean(log_norm - shifted[rows, labels]), dtype=x.dtype)

    @staticmethod
    def backward(ctx, grad):
        shifted, log_norm, labels = ctx.saved_tensors
        n = len(labels)
        gx = np.exp(shifted - log_norm)  # softmax, in place of the saved logits
        gx[np.arange(n), labels] -= 1
        gx *= grad / n
        return gx, None


# ---- other fused losses ----------------------------------------------------------------------


class SumOfSquares(Function):
    """$\\sum_k \\sum_i (x_k)_i^2$ over any number of floating tensors, in one op;
    $dx_k = 2 g x_k$."""

    @staticmethod
    def forward(ctx, *xs):
        ctx.save_for_backward(*xs)
        total = np.zeros((), np.result_type(*xs))
        for x in xs:
            flat = x.reshape(-1)
            total += np.dot(flat, flat)
        return total

    @staticmethod
    def backward(ctx, grad):
        twice = 2 * grad
        return tuple((x * twice).astype(x.dtype, copy=False) for x in ctx.saved_tensors)


class BinaryCrossEntropy(Function):
    """$\\ell = -(y \\log x + (1 - y) \\log(1 - x))$, each log clamped at -100 (as PyTorch).

    $dx = (x - y) / \\max(x (1 - x), 10^{-12})$, $dy = \\log(1 - x) - \\log x$.
    """

    saved_for = ((0,), (0,), (1,), (1,))

    @staticmethod
    def forward(ctx, x, y):
        with np.errstate(divide="ignore"):
            log_x = np.maximum(np.log(x), -100)
            log_1mx = np.maximum(np.log1p(-x), -100)
        ctx.save_for_backward(x, y, log_x, log_1mx)
        return -(y * log_x + (1 - y) * log_1mx)

    @staticmethod
    def backward(ctx, grad):
        x, y, log_x, log_1mx = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        gx = grad * (x - y) / np.maximum(x * (1 - x), 1e-12) if need_x else None
        gy = grad * (log_1mx - log_x) if need_y else None
        return gx, gy


class BinaryCrossEntropyWithLogits(Function):
    """$\\ell = (1 - y) x + (1 + (q - 1) y) \\log(1 + e^{-x})$ for pos_weight q (1 if absent).

    $\\log(1 + e^{-x})$ is computed as $\\max(-x, 0) + \\log(1 + e^{-|x|})$, which never
    overflows; $dx = (1 - y) - (1 + (q - 1) y) \\sigma(-x)$, i.e. $\\sigma(x) - y$ for q = 1.
    """

    @staticmethod
    def forward(ctx, x, y, pos_weight):
        softplus = np.maximum(-x, 0) + np.log1p(np.exp(-np.abs(x)))  # log(1 + e^{-x})
        if pos_weight is None:
            out = (1 - y) * x + softplus
        else:
            out = (1 - y) * x + (1 + (pos_weight - 1) * y) * softplus
        ctx.save_for_backward(x, y, pos_weight, softplus)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, y, pos_weight, softplus = ctx.saved_tensors
        need_x, need_y, need_q = ctx.needs_input_grad
        gx = gy = gq = None
        if need_x:
            if pos_weight is None:
                gx = grad * (stable_sigmoid(x) - y)
            else:
                gx = grad * ((1 - y) - (1 + (pos_weight - 1) * y) * stable_sigmoid(-x))
        if need_y:
            gy = grad * (-x if pos_weight is None else (pos_weight - 1) * softplus - x)
        if need_q:
            gq = unbroadcast(grad * y * softplus, pos_weight.shape, pos_weight.dtype)
        return gx, gy, gq


# ---- class labels (no gradient) -------------------------------------------------------------


def one_hot(input, num_classes: int = -1) -> Tensor:  # noqa: A002 - PyTorch's names
    """int64 one-hot codes: shape ``input.shape + (num_classes,)``, a 1 at each label.

    ``num_classes=-1`` uses the largest label + 1.

    >>> F.one_hot(ds.tensor([0, 2]), 3)
    tensor([[1, 0, 0],
            [0, 0, 1]])
    """
    y = np.asarray(array_of(input))
    if y.dtype.kind not in "iu":
        raise TypeError(
            f"one_hot: target must hold integer class labels, got dtype {y.dtype}; "
            f"convert it with .long()"
        )
    if num_classes == -1:
        if y.size == 0:
            raise ValueError("one_hot: cannot infer num_classes from an empty target; pass it")
        num_classes = int(y.max()) + 1
    if num_classes < 0:
        raise ValueError(f"one_hot: num_classes must be positive or -1, got {num_classes}")
    if y.size:
        lo, hi = int(y.min()), int(y.max())
        if lo < 0:
            raise ValueError(
                f"one_hot: label {lo} is negative; labels must be in 0..{num_classes - 1}"
            )
        if hi >= num_classes:
            raise ValueError(
                f"one_hot: label {hi} is out of range for num_classes={num_classes} "
                f"(labels must be in 0..{num_classes - 1})"
            )
    out = np.zeros(y.shape + (num_classes,), np.int64)
    np.put_along_axis(out, y[..., None].astype(np.intp), 1, axis=-1)
    return make_tensor(out)
