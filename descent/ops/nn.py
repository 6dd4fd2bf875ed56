"""Neural-network primitives: linear, conv2d, conv1d, pooling, one_hot and the fused losses
of ``ds.nn.functional``.

Images are NCHW (conv1d's sequences NCL, under its heading). ``pads`` is always
``((top, bottom), (left, right))`` and ``stride`` a pair; ``descent.nn.functional`` turns
the user's ints, pairs and strings into these.
"""

from __future__ import annotations

import functools

import numpy as np

from .. import compile as _compile
from ..autograd import Function
from ..tensor import Tensor, array_of, as_tensor, make_tensor
from . import elementwise as ew
from ._util import sum_to, unbroadcast
from .elementwise import stable_sigmoid
from .reduce import log_softmax, softmax
from .shape import GetItem, GetItemBackward

_BOOL = np.dtype(np.bool_)  # dtype objects, as ``Context.buffer`` compares them fastest
_INTP = np.dtype(np.intp)

# ---- window helpers shared by conv2d and pooling ---------------------------------------


# The helpers work on the two image dims starting at ``hw`` (pooling: the last two, -2;
# conv2d's channels-last (C, H, W, N) arrays: 1).


def _hw_index(ndim: int, hw: int, rows: slice, cols: slice) -> tuple:
    index = [slice(None)] * ndim
    index[hw % ndim], index[hw % ndim + 1] = rows, cols
    return tuple(index)


def _pad_hw(a: np.ndarray, pads: tuple, value: float, hw: int = -2, out=None) -> np.ndarray:
    """``a`` with its image dims padded by ``pads`` with ``value`` (``a`` itself if none),
    written into ``out`` when given (a copy even without pads)."""
    (top, bottom), (left, right) = pads
    padded = top or bottom or left or right
    if out is None and not padded:
        return a
    shape = list(a.shape)
    h, w = shape[hw % a.ndim], shape[hw % a.ndim + 1]
    if out is None:
        shape[hw % a.ndim], shape[hw % a.ndim + 1] = h + top + bottom, w + left + right
        out = np.full(shape, value, a.dtype)
    elif padded:
        out.fill(value)
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


def _product_type(a: np.ndarray, b: np.ndarray):
    """The dtype of ``a @ b`` (a buffer's for it)."""
    dtype = a.dtype
    return dtype if dtype is b.dtype or dtype == b.dtype else np.result_type(a, b)


class Linear(Function):
    """$y = x W^T + b$; $dx = g W$, $dW = g^T x$, $db = \\sum_n g_n$ (x may be (*, in))."""

    saved_for = ((1,), (0,))  # W's gradient reads x; x's reads W

    @staticmethod
    def forward(ctx, x, weight, bias):
        x2 = x.reshape(-1, x.shape[-1])  # (M, in)
        m, n = x2.shape[0], weight.shape[0]
        out = np.matmul(x2, weight.T, out=ctx.buffer("out", x2, (m, n), _product_type(x2, weight)))
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
        gx = gw = gb = None
        if need_x:
            shape = (g2.shape[0], weight.shape[1])
            gx = np.matmul(g2, weight, out=ctx.buffer("gx", g2, shape, _product_type(g2, weight)))
            gx = gx.reshape(ctx.x_shape)
        if need_w:
            gw = np.matmul(g2.T, x2, out=ctx.buffer("gw", g2, weight.shape, _product_type(g2, x2)))
        if need_b:
            gb = np.add.reduce(g2, axis=0, out=ctx.buffer("gb", g2, (g2.shape[1],)))
        return gx, gw, gb

    @staticmethod
    def backward_graph(ctx, grad, out):
        x, weight, _ = ctx.inputs
        need_x, need_w, need_b = ctx.needs_input_grad
        # NOTE: both products are linear() again (a @ b.T), so the rule is closed under
        # differentiation: derivatives of any order are linear, transposes and sums
        g2 = grad.reshape(-1, weight.shape[0])  # (M, out)
        gx = Linear.apply(grad, weight.T, None) if need_x else None  # g W, of x's shape
        gw = Linear.apply(g2.T, x.reshape(-1, weight.shape[1]).T, None) if need_w else None
        gb = g2.sum(dim=0) if need_b else None
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


def _channels_last_padded(x: np.ndarray, pads: tuple, ctx=None) -> np.ndarray:
    """x (N, C, H, W) as a C-contiguous (C, Hp, Wp, N) array, zero-padded in H and W (in
    ``ctx``'s buffer where it needs a copy)."""
    moved = x.transpose(1, 2, 3, 0)  # free when x came out of conv2d or pooling
    (top, bottom), (left, right) = pads
    if not (top or bottom or left or right) and moved.flags.c_contiguous:
        return moved
    c, h, w, n = moved.shape
    shape = (c, h + top + bottom, w + left + right, n)
    kept = None if ctx is None else ctx.buffer("padded", x, shape)
    return np.ascontiguousarray(_pad_hw(moved, pads, 0, hw=1, out=kept))


def _im2col(x: np.ndarray, kernel: tuple, stride: tuple, pads: tuple, ctx=None) -> tuple:
    """The windows of x (N, C, H, W) as one (C*kh*kw, Ho*Wo*N) matrix, and (Ho, Wo)."""
    n, c, h, w = x.shape
    kh, kw = kernel
    xp = _channels_last_padded(x, pads, ctx)
    ho = out_size(h, kh, stride[0], sum(pads[0]))
    wo = out_size(w, kw, stride[1], sum(pads[1]))
    shape = (c, kh, kw, ho, wo, n)
    cols = None if ctx is None else ctx.buffer("cols", x, shape)
    if cols is None:
        cols = np.empty(shape, x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, i, j] = _window(xp, i, j, stride, (ho, wo), hw=1)
    return cols.reshape(c * kh * kw, ho * wo * n), (ho, wo)


def _conv_of_cols(cols: np.ndarray, weight: np.ndarray, bias, n: int, out_hw: tuple, ctx=None):
    """The convolution from im2col's matrix: (N, O, Ho, Wo), a view of (O, Ho, Wo, N)."""
    o = weight.shape[0]
    w2 = weight.reshape(o, -1)
    kept = (
        None
        if ctx is None
        else ctx.buffer("out", cols, (o, cols.shape[1]), _product_type(w2, cols))
    )
    out = np.matmul(w2, cols, out=kept)  # (O, Ho*Wo*N)
    if bias is not None:
        out += bias[:, None]
    return out.reshape(o, *out_hw, n).transpose(3, 0, 1, 2)


def _grad_rows(grad: np.ndarray) -> np.ndarray:
    """An output gradient (N, O, Ho, Wo) as the (O, Ho*Wo*N) matrix the products use."""
    return grad.transpose(1, 2, 3, 0).reshape(grad.shape[1], -1)


def _conv_grad_weight(cols: np.ndarray, g2: np.ndarray, weight_shape: tuple) -> np.ndarray:
    """dW = g2 @ cols.T, shaped as the weight (O, C, kh, kw)."""
    # NOTE: the same product as g2 @ cols.T, but OpenBLAS takes this long-K shape
    # (K = Ho*Wo*N) about 1.2-2x faster in this order
    return np.ascontiguousarray(_long_product(cols, g2.T).T).reshape(weight_shape)


def _conv_grad_input(weight, g2, x_shape: tuple, stride: tuple, pads: tuple, out_hw: tuple,
                     ctx=None):  # fmt: skip
    """dx (N, C, H, W): W^T g2 is every window's share (col2im adds them back in place)."""
    n, c, h, w = x_shape
    o, _, kh, kw = weight.shape
    ho, wo = out_hw
    wt = weight.reshape(o, -1).T
    shape = (wt.shape[0], g2.shape[1])
    kept = None if ctx is None else ctx.buffer("gcols", g2, shape, _product_type(wt, g2))
    gcols = np.matmul(wt, g2, out=kept).reshape(c, kh, kw, ho, wo, n)
    padded = (c, h + sum(pads[0]), w + sum(pads[1]), n)  # (C, Hp, Wp, N)
    gxp = None if ctx is None else ctx.buffer("gxp", g2, padded)
    if gxp is None:
        gxp = np.zeros(padded, g2.dtype)
    else:
        gxp.fill(0)
    for i in range(kh):
        for j in range(kw):
            _window(gxp, i, j, stride, (ho, wo), hw=1)[...] += gcols[:, i, j]
    return _crop_hw(gxp, pads, (h, w), hw=1).transpose(3, 0, 1, 2)


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
        cols, out_hw = _im2col(x, weight.shape[2:], stride, pads, ctx)
        ctx.save_for_backward(cols, weight)
        ctx.meta = (x.shape, stride, pads)
        return _conv_of_cols(cols, weight, bias, x.shape[0], out_hw, ctx)

    @staticmethod
    def backward(ctx, grad):
        cols, weight = ctx.saved_tensors
        x_shape, stride, pads = ctx.meta
        need_x, need_w, need_b = ctx.needs_input_grad
        g2 = _grad_rows(grad)  # (O, Ho*Wo*N)
        gb = np.add.reduce(g2, axis=1, out=ctx.buffer("gb", g2, (g2.shape[0],))) if need_b else None
        gw = _conv_grad_weight(cols, g2, weight.shape) if need_w else None
        gx = None
        if need_x:
            gx = _conv_grad_input(weight, g2, x_shape, stride, pads, grad.shape[2:], ctx)
        return gx, gw, gb

    @staticmethod
    def backward_graph(ctx, grad, out):
        x, weight, _ = ctx.inputs
        x_shape, stride, pads = ctx.meta
        need_x, need_w, need_b = ctx.needs_input_grad
        gx = gw = gb = None
        if need_x:
            gx = Conv2dGradInput.apply(grad, weight, x_shape=x_shape, stride=stride, pads=pads)
        if need_w:
            kernel = weight.shape[2:]
            gw = Conv2dGradWeight.apply(x, grad, kernel=kernel, stride=stride, pads=pads)
        if need_b:
            gb = grad.sum(dim=(0, 2, 3))
        return gx, gw, gb


# Conv2d's two gradients as ops of their own. Each is bilinear, and the three ops are one
# another's gradients: $\langle g, \mathrm{conv}(x, W) \rangle$ is the one form that all
# three differentiate, so second (and higher) derivatives of a convolution run at the
# speed of the first.


class Conv2dGradInput(Function):
    """Conv2d's gradient for its input: the transposed convolution of ``grad``
    (N, O, Ho, Wo) with ``weight``, of shape ``x_shape``. Its gradients are conv2d (for
    grad) and ``Conv2dGradWeight`` (for weight)."""

    @staticmethod
    def forward(ctx, grad, weight, *, x_shape, stride, pads):
        ctx.save_for_backward(grad, weight)
        ctx.meta = (stride, pads)
        return _conv_grad_input(weight, _grad_rows(grad), x_shape, stride, pads, grad.shape[2:])

    @staticmethod
    def backward(ctx, gx):
        grad, weight = ctx.saved_tensors
        stride, pads = ctx.meta
        need_g, need_w = ctx.needs_input_grad
        cols, out_hw = _im2col(gx, weight.shape[2:], stride, pads)
        gg = _conv_of_cols(cols, weight, None, gx.shape[0], out_hw) if need_g else None
        gw = _conv_grad_weight(cols, _grad_rows(grad), weight.shape) if need_w else None
        return gg, gw

    @staticmethod
    def backward_graph(ctx, gx, out):
        grad, weight = ctx.inputs
        stride, pads = ctx.meta
        need_g, need_w = ctx.needs_input_grad
        gg = Conv2d.apply(gx, weight, None, stride=stride, pads=pads) if need_g else None
        gw = None
        if need_w:
            kernel = weight.shape[2:]
            gw = Conv2dGradWeight.apply(gx, grad, kernel=kernel, stride=stride, pads=pads)
        return gg, gw


class Conv2dGradWeight(Function):
    """Conv2d's gradient for its weight: the correlation of ``x`` (N, C, H, W) with
    ``grad`` (N, O, Ho, Wo), of shape (O, C, kh, kw). Its gradients are
    ``Conv2dGradInput`` (for x) and conv2d (for grad)."""

    @staticmethod
    def forward(ctx, x, grad, *, kernel, stride, pads):
        cols, _ = _im2col(x, kernel, stride, pads)
        ctx.save_for_backward(cols, grad)
        ctx.meta = (x.shape, stride, pads)
        return _conv_grad_weight(cols, _grad_rows(grad), (grad.shape[1], x.shape[1], *kernel))

    @staticmethod
    def backward(ctx, gw):
        cols, grad = ctx.saved_tensors
        x_shape, stride, pads = ctx.meta
        need_x, need_g = ctx.needs_input_grad
        gx = gg = None
        if need_x:
            gx = _conv_grad_input(gw, _grad_rows(grad), x_shape, stride, pads, grad.shape[2:])
        if need_g:
            gg = _conv_of_cols(cols, gw, None, x_shape[0], grad.shape[2:])
        return gx, gg

    @staticmethod
    def backward_graph(ctx, gw, out):
        x, grad = ctx.inputs
        x_shape, stride, pads = ctx.meta
        need_x, need_g = ctx.needs_input_grad
        gx = gg = None
        if need_x:
            gx = Conv2dGradInput.apply(grad, gw, x_shape=x_shape, stride=stride, pads=pads)
        if need_g:
            gg = Conv2d.apply(x, gw, None, stride=stride, pads=pads)
        return gx, gg


# ---- 1-d convolution -----------------------------------------------------------------------


# Sequences are NCL; ``pads`` is (left, right). Like conv2d, the rules work channels-last,
# on (C, L, N) arrays whose batch is the fastest axis, and the output is an (N, O, Lo) view
# of (O, Lo, N) memory that the next conv1d takes without a copy. ``geom`` is the tuple
# (stride, dilation, pads, groups); with groups G the C input and O output channels split
# into G blocks and block g of the output sees only block g of the input.


def conv1d_out_size(size: int, kernel: int, geom: tuple) -> int:
    """floor((L + pads - dilation (k - 1) - 1) / stride) + 1."""
    stride, dilation, pads, _ = geom
    return (size + sum(pads) - dilation * (kernel - 1) - 1) // stride + 1


def _tap(i: int, geom: tuple, out_len: int) -> slice:
    """The positions of the padded sequence that tap ``i`` of the kernel reads, one per output."""
    stride, dilation, _, _ = geom
    return slice(i * dilation, i * dilation + stride * (out_len - 1) + 1, stride)


def _im2col_1d(x: np.ndarray, kernel: int, geom: tuple) -> tuple:
    """The windows of x (N, C, L) as one (C*k, Lo*N) matrix, and Lo."""
    n, c, length = x.shape
    left, right = geom[2]
    moved = x.transpose(1, 2, 0)  # (C, L, N), free when x came out of conv1d
    if left or right:
        xp = np.zeros((c, length + left + right, n), x.dtype)
        xp[:, left : left + length] = moved
    else:
        xp = moved
    lo = conv1d_out_size(length, kernel, geom)
    cols = np.empty((c, kernel, lo, n), x.dtype)
    for i in range(kernel):
        cols[:, i] = xp[:, _tap(i, geom, lo)]
    return cols.reshape(c * kernel, lo * n), lo


def _by_group(a: np.ndarray, groups: int) -> np.ndarray:
    """A (G*r, q) matrix (or (G*r, ...) weight) as G stacked (r, q) blocks."""
    return a.reshape(groups, a.shape[0] // groups, -1)


def _conv1d_of_cols(cols: np.ndarray, weight: np.ndarray, bias, n: int, lo: int, groups: int):
    """The convolution from im2col's matrix: (N, O, Lo), a view of (O, Lo, N)."""
    o = weight.shape[0]
    if groups == 1:
        out = weight.reshape(o, -1) @ cols  # (O, Lo*N)
    else:  # block g: (O/G, C/G*k) @ (C/G*k, Lo*N)
        out = np.matmul(_by_group(weight, groups), _by_group(cols, groups)).reshape(o, -1)
    if bias is not None:
        out += bias[:, None]
    return out.reshape(o, lo, n).transpose(2, 0, 1)


def _rows_1d(grad: np.ndarray) -> np.ndarray:
    """An output gradient (N, O, Lo) as the (O, Lo*N) matrix the products use."""
    return grad.transpose(1, 2, 0).reshape(grad.shape[1], -1)


def _conv1d_grad_weight(cols: np.ndarray, g2: np.ndarray, weight_shape: tuple, groups: int):
    """dW = g2 @ cols.T per group, shaped as the weight (O, C/G, k)."""
    if groups == 1:
        return np.ascontiguousarray(_long_product(cols, g2.T).T).reshape(weight_shape)
    blocks = np.matmul(_by_group(g2, groups), _by_group(cols, groups).transpose(0, 2, 1))
    return blocks.reshape(weight_shape)


def _conv1d_grad_input(weight, g2, x_shape: tuple, geom: tuple, lo: int) -> np.ndarray:
    """dx (N, C, L): W^T g2 is every window's share, added back at the positions it read."""
    n, c, length = x_shape
    k, groups, (left, right) = weight.shape[2], geom[3], geom[2]
    if groups == 1:
        gcols = weight.reshape(weight.shape[0], -1).T @ g2  # (C*k, Lo*N)
    else:
        gcols = np.matmul(_by_group(weight, groups).transpose(0, 2, 1), _by_group(g2, groups))
    gcols = gcols.reshape(c, k, lo, n)
    gxp = np.zeros((c, length + left + right, n), g2.dtype)  # (C, Lp, N)
    for i in range(k):
        gxp[:, _tap(i, geom, lo)] += gcols[:, i]
    return gxp[:, left : left + length].transpose(2, 0, 1)


class Conv1d(Function):
    """$y_{n,o,l} = b_o + \\sum_{c,i} W_{o,c,i} x_{n,c,s l + d i}$ (c over o's group; no flip).

    im2col as in conv2d: the k strided taps are copied into one (C*k, Lo*N) matrix, so the
    forward and dW are one matmul each (one per group), and dx adds the windows back.
    """

    saved_for = ((1,), (0,))  # the windows of x (a copy) for W's gradient; W for x's

    @staticmethod
    def forward(ctx, x, weight, bias, *, geom):
        cols, lo = _im2col_1d(x, weight.shape[2], geom)
        ctx.save_for_backward(cols, weight)
        ctx.meta = (x.shape, geom)
        return _conv1d_of_cols(cols, weight, bias, x.shape[0], lo, geom[3])

    @staticmethod
    def backward(ctx, grad):
        cols, weight = ctx.saved_tensors
        x_shape, geom = ctx.meta
        need_x, need_w, need_b = ctx.needs_input_grad
        g2 = _rows_1d(grad)  # (O, Lo*N)
        gb = g2.sum(axis=1) if need_b else None
        gw = _conv1d_grad_weight(cols, g2, weight.shape, geom[3]) if need_w else None
        gx = _conv1d_grad_input(weight, g2, x_shape, geom, grad.shape[2]) if need_x else None
        return gx, gw, gb

    @staticmethod
    def backward_graph(ctx, grad, out):
        x, weight, _ = ctx.inputs
        x_shape, geom = ctx.meta
        need_x, need_w, need_b = ctx.needs_input_grad
        gx = Conv1dGradInput.apply(grad, weight, x_shape=x_shape, geom=geom) if need_x else None
        gw = None
        if need_w:
            gw = Conv1dGradWeight.apply(x, grad, kernel=weight.shape[2], geom=geom)
        gb = grad.sum(dim=(0, 2)) if need_b else None
        return gx, gw, gb


# Conv1d's two gradients as ops of their own, one another's gradients with conv1d itself
# (the three differentiate one bilinear form), as for conv2d.


class Conv1dGradInput(Function):
    """Conv1d's gradient for its input: the transposed convolution of ``grad`` (N, O, Lo)
    with ``weight``, of shape ``x_shape``. Its gradients are conv1d and ``Conv1dGradWeight``."""

    @staticmethod
    def forward(ctx, grad, weight, *, x_shape, geom):
        ctx.save_for_backward(grad, weight)
        ctx.geom = geom
        return _conv1d_grad_input(weight, _rows_1d(grad), x_shape, geom, grad.shape[2])

    @staticmethod
    def backward(ctx, gx):
        grad, weight = ctx.saved_tensors
        geom = ctx.geom
        need_g, need_w = ctx.needs_input_grad
        cols, lo = _im2col_1d(gx, weight.shape[2], geom)
        gg = _conv1d_of_cols(cols, weight, None, gx.shape[0], lo, geom[3]) if need_g else None
        gw = _conv1d_grad_weight(cols, _rows_1d(grad), weight.shape, geom[3]) if need_w else None
        return gg, gw

    @staticmethod
    def backward_graph(ctx, gx, out):
        grad, weight = ctx.inputs
        need_g, need_w = ctx.needs_input_grad
        gg = Conv1d.apply(gx, weight, None, geom=ctx.geom) if need_g else None
        gw = None
        if need_w:
            gw = Conv1dGradWeight.apply(gx, grad, kernel=weight.shape[2], geom=ctx.geom)
        return gg, gw


class Conv1dGradWeight(Function):
    """Conv1d's gradient for its weight: the correlation of ``x`` (N, C, L) with ``grad``
    (N, O, Lo), of shape (O, C/G, k). Its gradients are ``Conv1dGradInput`` and conv1d."""

    @staticmethod
    def forward(ctx, x, grad, *, kernel, geom):
        cols, _ = _im2col_1d(x, kernel, geom)
        ctx.save_for_backward(cols, grad)
        ctx.meta = (x.shape, geom)
        shape = (grad.shape[1], x.shape[1] // geom[3], kernel)
        return _conv1d_grad_weight(cols, _rows_1d(grad), shape, geom[3])

    @staticmethod
    def backward(ctx, gw):
        cols, grad = ctx.saved_tensors
        x_shape, geom = ctx.meta
        need_x, need_g = ctx.needs_input_grad
        lo = grad.shape[2]
        gx = _conv1d_grad_input(gw, _rows_1d(grad), x_shape, geom, lo) if need_x else None
        gg = _conv1d_of_cols(cols, gw, None, x_shape[0], lo, geom[3]) if need_g else None
        return gx, gg

    @staticmethod
    def backward_graph(ctx, gw, out):
        x, grad = ctx.inputs
        x_shape, geom = ctx.meta
        need_x, need_g = ctx.needs_input_grad
        gx = Conv1dGradInput.apply(grad, gw, x_shape=x_shape, geom=geom) if need_x else None
        gg = Conv1d.apply(x, gw, None, geom=geom) if need_g else None
        return gx, gg


# ---- pooling -------------------------------------------------------------------------------


def _pooled_hw(x: np.ndarray, kernel: tuple, stride: tuple, pads: tuple) -> tuple[int, int]:
    """(Ho, Wo): how many windows fit along the height and the width."""
    return (
        out_size(x.shape[2], kernel[0], stride[0], sum(pads[0])),
        out_size(x.shape[3], kernel[1], stride[1], sum(pads[1])),
    )


def _in_layout(ctx, key: str, like: np.ndarray, shape: tuple, dtype=None):
    """``ctx``'s buffer of (N, C, H, W) ``shape`` in ``like``'s memory layout (NumPy's order
    'K' for row-major or channels-last (C, H, W, N) memory), or None for another layout."""
    if like.flags.c_contiguous:
        return ctx.buffer(key, like, shape, dtype)
    if like.transpose(1, 2, 3, 0).flags.c_contiguous:
        n, c, h, w = shape
        kept = ctx.buffer(key, like, (c, h, w, n), dtype)
        return None if kept is None else kept.transpose(3, 0, 1, 2)
    return None


def _fold_windows(ufunc, xp: np.ndarray, kernel: tuple, stride: tuple, out_hw: tuple, ctx=None):
    """``ufunc`` (np.maximum, np.add) applied across the kh*kw elements of every window.

    The result has xp's memory layout (NumPy's order 'K'), channels-last included.
    """
    views = [_window(xp, i, j, stride, out_hw) for i in range(kernel[0]) for j in range(kernel[1])]
    if len(views) == 1:
        return views[0].copy(order="K")
    kept = None if ctx is None else _in_layout(ctx, "out", xp, views[0].shape)
    out = ufunc(views[0], views[1], out=kept)
    for view in views[2:]:
        ufunc(out, view, out=out)
    return out


class MaxPool2d(Function):
    """$y = \\max$ over each window; the gradient goes to the first maximum (as PyTorch)."""

    @staticmethod
    def forward(ctx, x, *, kernel, stride, pads):
        xp = _pad_hw(x, pads, -np.inf)
        # NOTE: pairwise np.maximum of kh*kw strided views, ~10x faster than a reshape + max
        hw = _pooled_hw(x, kernel, stride, pads)
        out = _fold_windows(np.maximum, xp, kernel, stride, hw, ctx)
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
        gxp = _in_layout(ctx, "gxp", xp, xp.shape, grad.dtype)
        if gxp is None:
            gxp = (
                np.empty_like(xp, dtype=grad.dtype)
                if tiled
                else np.zeros_like(xp, dtype=grad.dtype)
            )
        elif not tiled:
            gxp.fill(0)
        # the gradient of windows whose first maximum is not found yet, in out's layout
        left = _in_layout(ctx, "left", out, out.shape, grad.dtype)
        if left is None:
            left = np.empty_like(out, dtype=grad.dtype)
        np.copyto(left, grad)
        hit = _in_layout(ctx, "hit", out, out.shape, _BOOL)
        if hit is None:
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

    @staticmethod
    def backward_graph(ctx, grad, out):
        xp, pooled = ctx.saved_tensors
        hw, kernel, stride, pads = ctx.meta
        # the same routing as backward, as an index: each window's gradient is added at
        # its first maximum (a constant of the graph, as PyTorch's saved indices are)
        at = _first_maxima(xp, pooled, kernel, stride).reshape(-1)
        flat = grad.reshape(-1)
        if (at < 0).any():  # a window without a maximum (nan) passes nothing on
            flat, at = GetItem.apply(flat, index=at >= 0), at[at >= 0]
        gxp = GetItemBackward.apply(flat, shape=(xp.size,), index=at).reshape(xp.shape)
        (top, _), (left, _) = pads
        crop = _hw_index(4, -2, slice(top, top + hw[0]), slice(left, left + hw[1]))
        return gxp if gxp.shape[2:] == hw else GetItem.apply(gxp, index=crop)


def _first_maxima(xp: np.ndarray, pooled: np.ndarray, kernel: tuple, stride: tuple):
    """The flat index into xp (N, C, Hp, Wp) of each window's first maximum, in the
    row-major order of the window (-1 where no element equals the window's maximum)."""
    n, c, hp, wp = xp.shape
    ho, wo = pooled.shape[2:]
    rows = (np.arange(ho) * stride[0])[:, None]  # (Ho, 1): each window's top row
    cols = np.arange(wo) * stride[1]  # (Wo,): its left column
    planes = (np.arange(n * c) * (hp * wp)).reshape(n, c, 1, 1)
    at = np.full(pooled.shape, -1, np.intp)
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            hit = (_window(xp, i, j, stride, (ho, wo)) == pooled) & (at < 0)
            at = np.where(hit, planes + (rows + i) * wp + (cols + j), at)
    return at


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
        ctx.count_include_pad = count_include_pad
        return out

    @staticmethod
    def backward(ctx, grad):
        return _avg_pool_spread(grad, *ctx.meta)

    @staticmethod
    def backward_graph(ctx, grad, out):
        return AvgPool2dBackward.apply(grad, meta=ctx.meta, count_include_pad=ctx.count_include_pad)


class AvgPool2dBackward(Function):
    """AvgPool2d's gradient as an op: each window's $g / \text{divisor}$ added over the
    window. It is linear, and its adjoint is the pooling itself: each of the pair is the
    other's gradient."""

    @staticmethod
    def forward(ctx, grad, *, meta, count_include_pad):
        ctx.meta = meta
        ctx.count_include_pad = count_include_pad
        ctx.out_hw = grad.shape[2:]
        return _avg_pool_spread(grad, *meta)

    @staticmethod
    def backward(ctx, gx):
        _, _, kernel, stride, pads, divisor = ctx.meta
        sums = _fold_windows(np.add, _pad_hw(gx, pads, 0), kernel, stride, ctx.out_hw)
        return sums / divisor

    @staticmethod
    def backward_graph(ctx, gx, out):
        _, _, kernel, stride, pads, _ = ctx.meta
        return AvgPool2d.apply(
            gx, kernel=kernel, stride=stride, pads=pads, count_include_pad=ctx.count_include_pad
        )


def _avg_pool_spread(grad, x_shape, xp_shape, kernel, stride, pads, divisor) -> np.ndarray:
    """Each window's share ``grad / divisor`` added back over the window (AvgPool2d's
    gradient, of the input's shape)."""
    share = grad / divisor
    gxp = np.zeros(xp_shape, grad.dtype)
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            _window(gxp, i, j, stride, share.shape[2:])[...] += share
    return np.ascontiguousarray(_crop_hw(gxp, pads, x_shape[2:]))


# ---- softmax cross-entropy: the rules of F.cross_entropy -------------------------------------


def weighted_labels(y: np.ndarray, w: np.ndarray | None, ignore_index: int, dtype):
    """(labels with ignored ones set to 0, each example's class weight, 0 where ignored)."""
    valid = y != ignore_index
    safe = np.where(valid, y, 0)
    weight_y = valid.astype(dtype) if w is None else w[safe] * valid
    return safe, weight_y


# NOTE: the losses compute these from the labels with ``ew.computed`` (one op each), so
# that ds.compile replays them on every batch's labels.


def safe_labels(y: np.ndarray, *, ignore_index: int) -> np.ndarray:
    """The labels with ignored ones set to 0 (``weighted_labels``' first part)."""
    return weighted_labels(y, None, ignore_index, np.float32)[0]


def label_weights(y: np.ndarray, *, w, ignore_index: int, dtype) -> np.ndarray:
    """Each example's class weight, 0 where ignored (``weighted_labels``' second part)."""
    return weighted_labels(y, w, ignore_index, dtype)[1]


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


def label_targets(y, *, w, ignore_index: int, smoothing: float, shape: tuple, dtype):
    """The coefficients T of ``label_coefficients`` alone."""
    return label_coefficients(y, w, ignore_index, smoothing, shape, dtype)[0]


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

    @staticmethod
    def backward_graph(ctx, grad, out):
        x, coeffs = ctx.inputs
        need_x, need_t = ctx.needs_input_grad
        coeffs = as_tensor(coeffs, like=x)  # an array of class-index targets: a constant
        log_p = log_softmax(x, ctx.dim)
        g = grad.unsqueeze(ctx.dim)
        gx = gt = None
        if need_x:
            gx = g * (log_p.exp() * coeffs.sum(dim=ctx.dim, keepdim=True) - coeffs)
        if need_t:
            gt = -g * log_p
        return gx, gt


@functools.lru_cache(maxsize=64)
def _row_starts(n: int, c: int) -> np.ndarray:
    """The flat index of each row's first entry in an (n, c) array (read-only, shared)."""
    starts = np.arange(n, dtype=np.intp) * c
    starts.flags.writeable = False
    return starts


def label_range_error(name: str, label: int, num_classes: int, ignore_index) -> ValueError:
    """The error for a class label outside 0..num_classes-1 (and not ``ignore_index``)."""
    allowed = "" if ignore_index is None else f", or ignore_index={ignore_index}"
    return ValueError(
        f"{name}: target label {label} is out of range for {num_classes} classes "
        f"(labels must be in 0..{num_classes - 1}{allowed})"
    )


def _check_labels(labels: np.ndarray, c: int, lo, hi, ignore_index) -> None:
    """Refuse labels outside 0..c-1 (``lo`` and ``hi`` their least and greatest, ignored
    ones already set to 0): a compiled step does not run ``cross_entropy``'s own check of
    each batch, so the op checks what it indexes with, with the same error."""
    if lo < 0 or hi >= c:
        bad = labels[(labels < 0) | (labels >= c)][0]
        raise label_range_error("cross_entropy", int(bad), c, ignore_index)


class LabelCrossEntropy(Function):
    """The mean over N examples of $-\\log \\mathrm{softmax}(x_n)_{y_n}$, x of shape (N, C), y
    class indices; $dx = g (\\mathrm{softmax}(x) - \\mathrm{onehot}(y)) / N$.

    The common case of ``cross_entropy`` (no class weights or smoothing) in one op: no
    dense target, no separate sum and division. Examples labelled ``ignore_index`` count
    for nothing: the mean is over the others (N of them when none is ignored, the usual
    case, decided here in the op so that a compiled step decides it for every batch).
    """

    # NOTE: the label's entry of each row is picked by its flat index (row * C + label),
    # with take and put into kept arrays: fancy indexing would make new ones. NumPy's
    # reductions are called as ufunc methods, without np.sum's and np.max's Python layer.

    @staticmethod
    def forward(ctx, x, labels, *, ignore_index):
        n, c = x.shape
        lo, hi = np.minimum.reduce(labels), np.maximum.reduce(labels)
        valid = None
        if lo <= ignore_index <= hi:  # only then can a label be ignore_index
            valid = labels != ignore_index
            if valid.all():
                valid = None
            else:
                labels = np.where(valid, labels, 0)
                lo, hi = np.minimum.reduce(labels), np.maximum.reduce(labels)
        _check_labels(labels, c, lo, hi, ignore_index)
        starts = _row_starts(n, c)
        # the flat positions, saved in place of the labels (which the caller may change)
        kept = ctx.buffer("positions", starts, dtype=_INTP)
        positions = np.add(labels, starts, out=kept, dtype=np.intp, casting="unsafe")
        row = np.maximum.reduce(x, axis=1, keepdims=True, out=ctx.buffer("log_norm", x, (n, 1)))
        shifted = np.subtract(x, row, out=ctx.buffer("shifted", x))
        exp = np.exp(shifted, out=ctx.buffer("exp", x))
        log_norm = np.log(np.add.reduce(exp, axis=1, keepdims=True, out=row), out=row)
        terms = shifted.take(positions, mode="wrap", out=ctx.buffer("terms", x, (n,)))
        terms = np.subtract(log_norm[:, 0], terms, out=terms)  # -log softmax at the label
        ctx.save_for_backward(shifted, log_norm, positions)
        ctx.valid = valid
        if valid is None:
            loss = ctx.buffer("loss", x, ())
            return np.divide(np.add.reduce(terms, out=loss), n, out=loss)
        ctx.count = x.dtype.type(np.count_nonzero(valid))
        total = np.sum(terms * valid)
        with np.errstate(divide="ignore", invalid="ignore"):  # all ignored: nan, as PyTorch
            return np.asarray(total / ctx.count, dtype=x.dtype)

    @staticmethod
    def backward(ctx, grad):
        shifted, log_norm, positions = ctx.saved_tensors
        n = len(positions)
        gx = np.subtract(shifted, log_norm, out=ctx.buffer("gx", shifted))
        gx = np.exp(gx, out=gx)  # softmax
        flat = gx.reshape(-1)
        at_label = flat.take(positions, mode="wrap", out=ctx.buffer("terms", gx, (n,)))
        at_label -= 1
        flat.put(positions, at_label, mode="wrap")
        if ctx.valid is None:
            gx *= grad[()] / n
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                gx *= ctx.valid[:, None] * (grad / ctx.count)
        return gx, None

    @staticmethod
    def backward_graph(ctx, grad, out):
        x = ctx.inputs[0]
        positions = ctx.saved_tensors[2]
        n = len(positions)
        labels = positions - _row_starts(n, x.shape[1])
        onehot = np.zeros(x.shape, x.dtype)
        onehot[np.arange(n), labels] = 1
        if ctx.valid is None:
            return (softmax(x, 1) - make_tensor(onehot)) * (grad / n), None
        scale = make_tensor(ctx.valid[:, None].astype(x.dtype) / ctx.count)
        return (softmax(x, 1) - make_tensor(onehot)) * scale * grad, None


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

    @staticmethod
    def backward_graph(ctx, grad, out):
        twice = 2 * grad
        grads = []
        for x, need in zip(ctx.inputs, ctx.needs_input_grad):
            g = x * twice if need else None
            grads.append(g.to(x.dtype) if need and g.dtype != x.dtype else g)
        return tuple(grads)


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

    @staticmethod
    def backward_graph(ctx, grad, out):
        x, y = ctx.inputs
        y = as_tensor(y, like=x)
        need_x, need_y = ctx.needs_input_grad
        gx = gy = None
        if need_x:
            gx = grad * (x - y) / (x * (1 - x)).clamp(min=1e-12)
        if need_y:
            with np.errstate(divide="ignore"):  # log 0 = -inf, clamped as in forward
                log_x, log_1mx = x.log().clamp(min=-100), (1 - x).log().clamp(min=-100)
            gy = grad * (log_1mx - log_x)
        return gx, gy


class BinaryCrossEntropyWithLogits(Function):
    """$\\ell = (1 - y) x + (1 + (q - 1) y) \\log(1 + e^{-x})$ for pos_weight q (1 if absent).

    $\\log(1 + e^{-x})$ is computed as $\\max(-x, 0) + \\log(1 + e^{-|x|})$, which never
    overflows; $dx = (1 - y) - (1 + (q - 1) y) \\sigma(-x)$, i.e. $\\sigma(x) - y$ for q = 1.
    """

    @staticmethod
    def forward(ctx, x, y, pos_weight):
        if pos_weight is None and y.dtype == x.dtype and x.ndim:  # usual: in reused buffers
            softplus = np.negative(x, out=ctx.buffer("softplus", x))
            softplus = np.maximum(softplus, 0, out=softplus)
            tail = np.abs(x, out=ctx.buffer("tail", x))
            tail = np.log1p(np.exp(np.negative(tail, out=tail), out=tail), out=tail)
            softplus = np.add(softplus, tail, out=softplus)  # log(1 + e^{-x})
            out = np.subtract(1, y, out=ctx.buffer("out", x))
            out = np.add(np.multiply(out, x, out=out), softplus, out=out)  # (1 - y) x + ...
            ctx.save_for_backward(x, y, pos_weight, softplus)
            return out
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
            if pos_weight is None and y.dtype == x.dtype and x.ndim:  # sigmoid(x) - y in place
                gx = stable_sigmoid(x, ctx)
                gx = np.multiply(grad, np.subtract(gx, y, out=gx), out=gx)
            elif pos_weight is None:
                gx = grad * (stable_sigmoid(x) - y)
            else:
                gx = grad * ((1 - y) - (1 + (pos_weight - 1) * y) * stable_sigmoid(-x))
        if need_y:
            gy = grad * (-x if pos_weight is None else (pos_weight - 1) * softplus - x)
        if need_q:
            gq = unbroadcast(grad * y * softplus, pos_weight.shape, pos_weight.dtype)
        return gx, gy, gq

    @staticmethod
    def backward_graph(ctx, grad, out):
        x, y, q = ctx.inputs
        y = as_tensor(y, like=x)
        need_x, need_y, need_q = ctx.needs_input_grad
        # log(1 + e^{-x}) as in forward; NOTE: maximum splits its gradient at a tie, so
        # the derivative at x = 0 is -1/2 = -sigmoid(0), as it should be
        softplus = ew.maximum(-x, 0) + ((-x.abs()).exp() + 1).log()
        gx = gy = gq = None
        if need_x:
            if q is None:
                gx = grad * (x.sigmoid() - y)
            else:
                gx = grad * ((1 - y) - (1 + (q - 1) * y) * (-x).sigmoid())
        if need_y:
            gy = grad * (-x if q is None else (q - 1) * softplus - x)
        if need_q:
            gq = sum_to(grad * y * softplus, q.shape, q.dtype)
        return gx, gy, gq


# ---- class labels (no gradient) -------------------------------------------------------------


def _one_hot(y: np.ndarray, *, num_classes: int) -> np.ndarray:
    out = np.zeros(y.shape + (num_classes,), np.int64)
    np.put_along_axis(out, y[..., None].astype(np.intp), 1, axis=-1)
    return out


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
        _compile.untraceable(
            "one_hot(num_classes=-1), which reads the number of classes from the labels' values,",
            "a replay would keep the first call's number. Pass num_classes.",
        )
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
    # the codes made by an op (no gradient), so that ds.compile replays them on new labels
    return ew.computed(_one_hot, y, num_classes=num_classes)
