"""Shape primitives: reshape, permute, expand, indexing, cat, pad; and their composites."""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..tensor import Tensor, as_tensor, make_tensor
from ._util import normalize_dim, unbroadcast


class Reshape(Function):
    """The same values in another shape; the gradient is reshaped back."""

    @staticmethod
    def forward(ctx, x, *, shape):
        ctx.shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape)


class Permute(Function):
    """Axes reordered by ``dims``; the gradient is permuted by the inverse order."""

    @staticmethod
    def forward(ctx, x, *, dims):
        ctx.dims = dims
        return np.transpose(x, dims)

    @staticmethod
    def backward(ctx, grad):
        return np.transpose(grad, np.argsort(ctx.dims))


class Expand(Function):
    """A broadcast view to a larger shape; the gradient is summed back (unbroadcast)."""

    @staticmethod
    def forward(ctx, x, *, shape):
        ctx.meta = (x.shape, x.dtype)
        return np.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, grad):
        return unbroadcast(grad, *ctx.meta)


class GetItem(Function):
    """``x[index]``; the gradient is scattered back, added up where indices repeat."""

    @staticmethod
    def forward(ctx, x, *, index):
        ctx.meta = (x.shape, index)
        return x[index]

    @staticmethod
    def backward(ctx, grad):
        shape, index = ctx.meta
        out = np.zeros(shape, grad.dtype)
        if _is_basic(index):
            out[index] = grad  # a basic index never repeats an element
        else:
            np.add.at(out, index, grad)
        return out


class Cat(Function):
    """Tensors joined along ``dim``; each gets its slice of the gradient."""

    @staticmethod
    def forward(ctx, *xs, dim):
        ctx.meta = (dim, np.cumsum([x.shape[dim] for x in xs])[:-1])
        return np.concatenate(xs, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        dim, splits = ctx.meta
        return tuple(np.split(grad, splits, axis=dim))


class Pad(Function):
    """Constant padding of each dim by (before, after) widths; the gradient is cropped."""

    @staticmethod
    def forward(ctx, x, *, widths, value):
        ctx.crop = tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, x.shape))
        return np.pad(x, widths, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, grad):
        return np.ascontiguousarray(grad[ctx.crop])


# ---- indexing helpers -----------------------------------------------------------------


def _is_basic(index) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (slice, int, np.integer)) or i is None or i is Ellipsis for i in items)


def plain_index(index):
    """An index with every Tensor replaced by its array (and lists by arrays)."""
    if isinstance(index, tuple):
        return tuple(plain_index(i) for i in index)
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, list):
        return np.asarray([i.data if isinstance(i, Tensor) else i for i in index])
    return index


# ---- the functional forms -------------------------------------------------------------------


def _shape_arg(shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(int(s) for s in shape)


def reshape(x: Tensor, *shape) -> Tensor:
    """The same values in ``shape`` (one dim may be -1)."""
    shape = _shape_arg(shape)
    known = int(np.prod([s for s in shape if s != -1]))
    fits = x.data.size == known if -1 not in shape else known and x.data.size % known == 0
    if not fits or shape.count(-1) > 1:
        raise RuntimeError(
            f"reshape: shape {shape} is invalid for a tensor of shape {x.shape} "
            f"({x.data.size} elements)"
        )
    return Reshape.apply(x, shape=shape)


view = reshape


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Dims ``start_dim`` .. ``end_dim`` merged into one."""
    if x.ndim == 0:
        return reshape(x, 1)
    s = normalize_dim(start_dim, x.ndim, "flatten")
    e = normalize_dim(end_dim, x.ndim, "flatten")
    shape = x.shape[:s] + (int(np.prod(x.shape[s : e + 1])),) + x.shape[e + 1 :]
    return Reshape.apply(x, shape=shape)


def permute(x: Tensor, *dims) -> Tensor:
    """Axes reordered: ``x.permute(2, 0, 1)``."""
    dims = _shape_arg(dims)
    if len(dims) != x.ndim:
        raise RuntimeError(
            f"permute: {len(dims)} dims {dims} given for a tensor with {x.ndim} dims {x.shape}"
        )
    dims = tuple(normalize_dim(d, x.ndim, "permute") for d in dims)
    if sorted(dims) != list(range(x.ndim)):
        raise RuntimeError(f"permute: {dims} is not a permutation of the dims of {x.shape}")
    return Permute.apply(x, dims=dims)


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    """Dims ``dim0`` and ``dim1`` swapped."""
    dims = list(range(x.ndim))
    a = normalize_dim(dim0, x.ndim, "transpose")
    b = normalize_dim(dim1, x.ndim, "transpose")
    if a is None:
        return x
    dims[a], dims[b] = dims[b], dims[a]
    return Permute.apply(x, dims=tuple(dims))


def squeeze(x: Tensor, dim=None) -> Tensor:
    """Dims of size 1 removed (all, or only ``dim`` when it has size 1)."""
    if dim is None:
        shape = tuple(n for n in x.shape if n != 1)
    else:
        d = normalize_dim(dim, x.ndim, "squeeze")
        if d is None or x.shape[d] != 1:
            return x
        shape = x.shape[:d] + x.shape[d + 1 :]
    return Reshape.apply(x, shape=shape)


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """A dim of size 1 inserted at ``dim`` (``-1`` appends)."""
    d = normalize_dim(dim, x.ndim + 1, "unsqueeze")
    return Reshape.apply(x, shape=x.shape[:d] + (1,) + x.shape[d:])


def expand(x: Tensor, *sizes) -> Tensor:
    """A broadcast to ``sizes`` (-1 keeps a dim); only dims of size 1 can grow."""
    sizes = _shape_arg(sizes)
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise RuntimeError(f"expand: cannot expand shape {x.shape} to fewer dims {sizes}")
    shape = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    for i, n in enumerate(x.shape):
        if n != 1 and n != shape[i + lead]:
            raise RuntimeError(
                f"expand: the size of dim {i} ({n}) must match {shape[i + lead]} or be 1; "
                f"cannot expand {x.shape} to {shape}"
            )
    return Expand.apply(x, shape=shape)


def getitem(x: Tensor, index) -> Tensor:
    """``x[index]``: basic slicing and integer-array (or boolean) indexing, with gradients."""
    index = plain_index(index)
    try:
        if not x.requires_grad:  # nothing to record: index the array directly
            return make_tensor(np.asarray(x.data[index]))
        return GetItem.apply(x, index=index)
    except IndexError as e:
        raise IndexError(f"index {index!r} into a tensor of shape {x.shape}: {e}") from None


def cat(tensors, dim: int = 0) -> Tensor:
    """Tensors joined along an existing ``dim``; all other dims must match."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty list of tensors")
    tensors = [as_tensor(t, like=tensors[0]) for t in tensors]
    ref = tensors[0]
    d = normalize_dim(dim, ref.ndim, "cat")
    for i, t in enumerate(tensors):
        if (
            t.ndim != ref.ndim
            or t.shape[:d] + t.shape[d + 1 :] != ref.shape[:d] + ref.shape[d + 1 :]
        ):
            raise RuntimeError(
                f"cat: tensor {i} has shape {t.shape} but tensor 0 has {ref.shape}; "
                f"all dims except dim {d} must match"
            )
    return Cat.apply(*tensors, dim=d)


def stack(tensors, dim: int = 0) -> Tensor:
    """Tensors of one shape joined along a new ``dim``."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: expected a non-empty list of tensors")
    shapes = {t.shape for t in tensors}
    if len(shapes) > 1:
        raise RuntimeError(f"stack: all tensors must have one shape, got {sorted(shapes)}")
    return cat([unsqueeze(t, dim) for t in tensors], dim)


def pad(x: Tensor, pad: tuple, mode: str = "constant", value: float = 0.0) -> Tensor:
    """Pad like ``torch.nn.functional.pad``: ``pad`` lists (left, right) widths starting
    from the last dim, e.g. ``(1, 1, 2, 2)`` pads the last dim by 1 and the one before by 2."""
    if mode != "constant":
        raise NotImplementedError(f"pad: mode {mode!r} is not supported; use 'constant'")
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(
            f"pad: expected an even number of widths for at most {x.ndim} dims, got {pad}"
        )
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    if any(lo < 0 or hi < 0 for lo, hi in widths):
        raise ValueError(f"pad: negative widths are not supported, got {pad}")
    return Pad.apply(x, widths=tuple(widths), value=value)
