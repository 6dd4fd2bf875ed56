"""Shape primitives: reshape, permute, expand, indexing, cat, pad; and their composites."""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..tensor import Tensor, as_tensor, make_tensor
from . import elementwise as ew
from ._util import normalize_dim, normalize_dims, sum_to, unbroadcast


class Reshape(Function):
    """The same values in another shape; the gradient is reshaped back."""

    @staticmethod
    def forward(ctx, x, *, shape):
        ctx.shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape)

    @staticmethod
    def backward_graph(ctx, grad, out):
        return Reshape.apply(grad, shape=ctx.shape)


class Permute(Function):
    """Axes reordered by ``dims``; the gradient is permuted by the inverse order."""

    @staticmethod
    def forward(ctx, x, *, dims):
        ctx.dims = dims
        return np.transpose(x, dims)

    @staticmethod
    def backward(ctx, grad):
        return np.transpose(grad, np.argsort(ctx.dims))

    @staticmethod
    def backward_graph(ctx, grad, out):
        return Permute.apply(grad, dims=tuple(int(d) for d in np.argsort(ctx.dims)))


class Expand(Function):
    """A broadcast view to a larger shape; the gradient is summed back (unbroadcast)."""

    @staticmethod
    def forward(ctx, x, *, shape):
        ctx.meta = (x.shape, x.dtype)
        return np.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, grad):
        return unbroadcast(grad, *ctx.meta)

    @staticmethod
    def backward_graph(ctx, grad, out):
        return sum_to(grad, *ctx.meta)


class GetItem(Function):
    """``x[index]``; the gradient is scattered back, added up where indices repeat."""

    @staticmethod
    def forward(ctx, x, *, index):
        ctx.meta = (x.shape, index)
        return x[index]

    @staticmethod
    def backward(ctx, grad):
        shape, index = ctx.meta
        return _scattered(grad, shape, index)

    @staticmethod
    def backward_graph(ctx, grad, out):
        shape, index = ctx.meta
        return GetItemBackward.apply(grad, shape=shape, index=index)


class GetItemBackward(Function):
    """GetItem's gradient as an op: ``grad`` put into zeros of ``shape`` at ``index``,
    added up where indices repeat. It is linear, and its adjoint is ``x[index]``: each of
    the pair is the other's gradient, so indexing can be differentiated to any order."""

    @staticmethod
    def forward(ctx, grad, *, shape, index):
        ctx.index = index
        return _scattered(grad, shape, index)

    @staticmethod
    def backward(ctx, grad):
        return np.array(grad[ctx.index])  # a copy; 0-d stays 0-d (ascontiguousarray makes it 1-d)

    @staticmethod
    def backward_graph(ctx, grad, out):
        return GetItem.apply(grad, index=ctx.index)


def _scattered(grad: np.ndarray, shape: tuple, index) -> np.ndarray:
    """Zeros of ``shape`` with ``grad`` added at ``index`` (the gradient of ``x[index]``)."""
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

    @staticmethod
    def backward_graph(ctx, grad, out):
        dim, splits = ctx.meta
        bounds = [0, *(int(s) for s in splits), grad.shape[dim]]
        lead = (slice(None),) * dim
        return tuple(
            GetItem.apply(grad, index=lead + (slice(lo, hi),)) if need else None
            for lo, hi, need in zip(bounds, bounds[1:], ctx.needs_input_grad)
        )


class Pad(Function):
    """Constant padding of each dim by (before, after) widths; the gradient is cropped."""

    @staticmethod
    def forward(ctx, x, *, widths, value):
        ctx.crop = tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, x.shape))
        return np.pad(x, widths, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, grad):
        return np.ascontiguousarray(grad[ctx.crop])

    @staticmethod
    def backward_graph(ctx, grad, out):
        return GetItem.apply(grad, index=ctx.crop)


# ---- indexing helpers -----------------------------------------------------------------


def _is_basic(index) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (slice, int, np.integer)) or i is None or i is Ellipsis for i in items)


def plain_index(index):
    """An index with every Tensor replaced by its array (and lists by arrays)."""
    if isinstance(index, tuple):
        return tuple(plain_index(i) for i in index)
    if isinstance(index, Tensor):
        return index._data
    if isinstance(index, list):
        return np.asarray([i._data if isinstance(i, Tensor) else i for i in index])
    return index


# ---- the functional forms -------------------------------------------------------------------


def _shape_arg(shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(int(s) for s in shape)


def sizes_arg(op: str, args: tuple, given, keyword: str) -> tuple:
    """A shape given as ints (``x.view(2, 3)``), one tuple (``x.view((2, 3))``) or by its
    PyTorch keyword (``x.view(size=(2, 3))``), never two of those at once."""
    if given is None:
        return _shape_arg(args)
    if args:
        raise TypeError(f"{op}() got multiple values for argument '{keyword}'")
    return _shape_arg((given,))


def reshape(input: Tensor, shape) -> Tensor:  # noqa: A002 - PyTorch's names
    """The same values in ``shape`` (a tuple; one dim may be -1)."""
    shape = _shape_arg(shape if isinstance(shape, (tuple, list)) else (shape,))
    x = input
    known = int(np.prod([s for s in shape if s != -1]))
    fits = x._data.size == known if -1 not in shape else known and x._data.size % known == 0
    if not fits or shape.count(-1) > 1:
        raise RuntimeError(
            f"reshape: shape {shape} is invalid for a tensor of shape {tuple(x.shape)} "
            f"({x._data.size} elements)"
        )
    return Reshape.apply(x, shape=shape)


def view(input: Tensor, *sizes, size=None) -> Tensor:  # noqa: A002 - PyTorch's names
    """``Tensor.view``: the same values in the shape ``sizes`` (ints or one tuple) or ``size``."""
    return reshape(input, sizes_arg("view", sizes, size, "size"))


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:  # noqa: A002
    """Dims ``start_dim`` .. ``end_dim`` merged into one."""
    x = input
    if x.ndim == 0:
        return reshape(x, (1,))
    s = normalize_dim(start_dim, x.ndim, "flatten")
    e = normalize_dim(end_dim, x.ndim, "flatten")
    shape = x.shape[:s] + (int(np.prod(x.shape[s : e + 1])),) + x.shape[e + 1 :]
    return Reshape.apply(x, shape=shape)


def permute(input: Tensor, dims) -> Tensor:  # noqa: A002 - PyTorch's names
    """Axes reordered: ``ds.permute(x, (2, 0, 1))``, ``x.permute(2, 0, 1)``."""
    x = input
    dims = _shape_arg(tuple(dims))
    if len(dims) != x.ndim:
        raise RuntimeError(
            f"permute: {len(dims)} dims {dims} given for a tensor with {x.ndim} dims "
            f"{tuple(x.shape)}"
        )
    dims = tuple(normalize_dim(d, x.ndim, "permute") for d in dims)
    if sorted(dims) != list(range(x.ndim)):
        raise RuntimeError(f"permute: {dims} is not a permutation of the dims of {tuple(x.shape)}")
    return Permute.apply(x, dims=dims)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:  # noqa: A002 - PyTorch's names
    """Dims ``dim0`` and ``dim1`` swapped."""
    x = input
    dims = list(range(x.ndim))
    a = normalize_dim(dim0, x.ndim, "transpose")
    b = normalize_dim(dim1, x.ndim, "transpose")
    if a is None:
        return x
    dims[a], dims[b] = dims[b], dims[a]
    return Permute.apply(x, dims=tuple(dims))


def squeeze(input: Tensor, dim=None) -> Tensor:  # noqa: A002 - PyTorch's names
    """Dims of size 1 removed: all, or those of ``dim`` (an int or a tuple) that have size 1."""
    x = input
    if dim is None:
        shape = tuple(n for n in x.shape if n != 1)
    else:
        dims = normalize_dims(dim, x.ndim, "squeeze")
        if dims is None:
            return x
        shape = tuple(n for i, n in enumerate(x.shape) if not (i in dims and n == 1))
        if shape == x.shape:
            return x
    return Reshape.apply(x, shape=shape)


def unsqueeze(input: Tensor, dim: int) -> Tensor:  # noqa: A002 - PyTorch's names
    """A dim of size 1 inserted at ``dim`` (``-1`` appends)."""
    d = normalize_dim(dim, input.ndim + 1, "unsqueeze")
    return Reshape.apply(input, shape=input.shape[:d] + (1,) + input.shape[d:])


def expand(input: Tensor, *sizes, size=None) -> Tensor:  # noqa: A002 - PyTorch's names
    """A broadcast to ``sizes`` (ints or one tuple) or ``size`` (-1 keeps a dim); only dims
    of size 1 can grow."""
    x = input
    sizes = sizes_arg("expand", sizes, size, "size")
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise RuntimeError(f"expand: cannot expand shape {tuple(x.shape)} to fewer dims {sizes}")
    shape = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    for i, n in enumerate(x.shape):
        if n != 1 and n != shape[i + lead]:
            raise RuntimeError(
                f"expand: the size of dim {i} ({n}) must match {shape[i + lead]} or be 1; "
                f"cannot expand {tuple(x.shape)} to {shape}"
            )
    return Expand.apply(x, shape=shape)


def getitem(x: Tensor, index) -> Tensor:
    """``x[index]``: basic slicing and integer-array (or boolean) indexing, with gradients."""
    index = plain_index(index)
    try:
        # an op also without a gradient (it records nothing then), so that ds.compile
        # replays an index of data (a batch's labels) on each call's values
        return GetItem.apply(x, index=index)
    except IndexError as e:
        raise IndexError(f"index {index!r} into a tensor of shape {tuple(x.shape)}: {e}") from None


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
                f"cat: tensor {i} has shape {tuple(t.shape)} but tensor 0 has {tuple(ref.shape)}; "
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


def pad(input: Tensor, pad: tuple, mode: str = "constant", value: float | None = None) -> Tensor:  # noqa: A002
    """Pad like ``torch.nn.functional.pad``: ``pad`` lists (left, right) widths starting
    from the last dim, e.g. ``(1, 1, 2, 2)`` pads the last dim by 1 and the one before by 2;
    the padding holds ``value`` (0 when None)."""
    x = input
    value = 0.0 if value is None else value
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


# ---- gather and scatter along a dim --------------------------------------------------------


def _along(index: np.ndarray, dim: int) -> tuple:
    """The fancy index that picks ``x[i0, .., index[i0, ..], ..]`` at every position of index."""
    grids = list(np.ix_(*[np.arange(n) for n in index.shape]))
    grids[dim] = index
    return tuple(grids)


class Scatter(Function):
    """A copy of x with ``src``'s values written at ``index`` along dim (added with reduce)."""

    @staticmethod
    def forward(ctx, x, src, *, index, dim, add):
        where = _along(index, dim)
        part = tuple(slice(0, n) for n in index.shape)
        ctx.meta = (where, part, src.shape, add)
        out = x.copy()
        values = src[part] if src.ndim else src
        if add:
            np.add.at(out, where, values)
        else:
            out[where] = values
        return out

    @staticmethod
    def backward(ctx, grad):
        where, part, src_shape, add = ctx.meta
        need_x, need_src = ctx.needs_input_grad
        gx = gsrc = None
        if need_x:
            gx = grad.copy()
            if not add:
                gx[where] = 0  # overwritten values do not reach the output
        if need_src and src_shape == ():  # one value written everywhere index points
            if add:  # each addition counts
                gsrc = np.asarray(grad[where].sum(), grad.dtype)
            else:  # each position once, however often index names it
                written = np.zeros(grad.shape, bool)
                written[where] = True
                gsrc = np.asarray(grad[written].sum(), grad.dtype)
        elif need_src:
            gsrc = np.zeros(src_shape, grad.dtype)
            gsrc[part] = grad[where]
        return gx, gsrc

    @staticmethod
    def backward_graph(ctx, grad, out):
        where, part, src_shape, add = ctx.meta
        need_x, need_src = ctx.needs_input_grad
        gx = gsrc = None
        written = None
        if not add:
            written = np.zeros(grad.shape, bool)
            written[where] = True
        if need_x:
            gx = grad if add else ew.Where.apply(written, np.zeros((), grad.dtype), grad)
        if need_src and src_shape == ():
            gsrc = GetItem.apply(grad, index=where if add else written).sum()
        elif need_src:
            picked = GetItem.apply(grad, index=where)
            gsrc = GetItemBackward.apply(picked, shape=src_shape, index=part)
        return gx, gsrc


def _check_index(name: str, x: Tensor, dim, index, other=None) -> tuple[int, np.ndarray]:
    idx = index._data if isinstance(index, Tensor) else np.asarray(index)
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"{name}(): Expected dtype int64 for index")
    d = normalize_dim(dim, x.ndim, name)
    d = 0 if d is None else d
    if idx.ndim != x.ndim:
        raise RuntimeError(
            f"Index tensor must have the same number of dimensions as "
            f"{'input' if name == 'gather' else 'self'} tensor"
        )
    for i, n in enumerate(idx.shape):
        if i != d and x.ndim and n > x.shape[i]:
            raise RuntimeError(
                f"Size does not match at dimension {i} expected index {list(idx.shape)} to be "
                f"no larger than self {list(x.shape)} apart from dimension {d}"
            )
        if other is not None and other.ndim and n > other.shape[i]:
            raise RuntimeError(
                f"Size does not match at dimension {i} expected index {list(idx.shape)} to be "
                f"no larger than src {list(other.shape)}"
            )
    size = x.shape[d] if x.ndim else 1
    if idx.size and (idx.min() < -size or idx.max() >= size):  # a check of the values
        bad = idx.max() if idx.max() >= size else idx.min()
        raise RuntimeError(f"index {bad} is out of bounds for dimension {d} with size {size}")
    if idx.dtype != np.intp:  # the cast by an op, so that ds.compile replays it
        idx = ew.computed(np.ndarray.astype, idx, dtype=np.intp)._data
    return d, idx


def gather(input: Tensor, dim: int, index, *, sparse_grad: bool = False) -> Tensor:  # noqa: A002
    """Values of ``input`` along ``dim`` at ``index`` (an int64 tensor of input's rank).

    ``sparse_grad`` is accepted: descent's gradients are dense arrays, whose values are
    the ones PyTorch's sparse gradient holds."""
    d, idx = _check_index("gather", input, dim, index)
    # a composite: indexing with the grid of positions along dim (its rule adds repeats)
    if input.ndim == 0:  # a scalar: its one value
        one = reshape(make_tensor(idx), (1,))._data
        return reshape(getitem(reshape(input, 1), _along(one, 0)), ())
    return getitem(input, _along(idx, d))


def _scatter(name, x, dim, index, src, add) -> Tensor:
    if not isinstance(src, Tensor):
        src = make_tensor(np.asarray(src, dtype=x.dtype))
    elif src.dtype != x.dtype:
        raise RuntimeError(
            f"{name}(): Expected self.dtype to be equal to src.dtype ({x.dtype} vs {src.dtype})"
        )
    d, idx = _check_index(name, x, dim, index, src if src.ndim else None)
    return Scatter.apply(x, src, index=idx, dim=d, add=add)


def scatter(input: Tensor, dim: int, index, src=None, *, value=None, reduce=None) -> Tensor:  # noqa: A002
    """A copy of ``input`` with ``src`` (a tensor, or a number ``value``) written at ``index``;
    ``reduce='add'`` adds instead (as ``scatter_add``)."""
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter() needs src (a tensor) or value (a number)")
    if reduce not in (None, "add"):
        raise NotImplementedError(
            f"scatter: reduce={reduce!r} is not supported; descent has reduce='add' "
            f"(scatter_add) and None"
        )
    return _scatter("scatter", input, dim, index, src, add=reduce == "add")


def scatter_add(input: Tensor, dim: int, index, src) -> Tensor:  # noqa: A002
    """A copy of ``input`` with ``src`` added at ``index`` along ``dim`` (repeats add up)."""
    return _scatter("scatter_add", input, dim, index, src, add=True)


# ---- pieces ---------------------------------------------------------------------------------


def _pieces(x: Tensor, d: int, sizes) -> tuple:
    out, start = [], 0
    lead = (slice(None),) * d
    for n in sizes:
        out.append(getitem(x, lead + (slice(start, start + n),)))
        start += n
    return tuple(out)


def split(tensor: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """Pieces of ``split_size_or_sections`` along ``dim`` (an int: the last may be smaller;
    a list: the size of each piece, summing to the dim's size)."""
    if tensor.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    d = normalize_dim(dim, tensor.ndim, "split")
    n = tensor.shape[d]
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size < 0 or (size == 0 and n):
            raise RuntimeError(
                f"split expects split_size be non-negative, but got split_size={size}"
            )
        sizes = [size] * (n // size) + ([n % size] if n % size else []) if size else [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's "
                f"size at dimension {d}), but got split_sizes={sizes}"
            )
    return _pieces(tensor, d, sizes)


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:  # noqa: A002 - PyTorch's names
    """At most ``chunks`` pieces of equal size along ``dim`` (the last may be smaller)."""
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    if input.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    d = normalize_dim(dim, input.ndim, "chunk")
    n = input.shape[d]
    size = -(-n // chunks)
    return split(input, size if size else 1, d) if n else split(input, [0] * chunks, d)


def t(input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's name
    """The transpose of a matrix (a vector or scalar as it is)."""
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.ndim}D")
    return input if input.ndim < 2 else Permute.apply(input, dims=(1, 0))


# ---- composites: flip, repeat, tril, triu ---------------------------------------------------


def flip(input: Tensor, dims) -> Tensor:  # noqa: A002 - PyTorch's names
    """The elements in reverse order along each of ``dims`` (an int or a tuple)."""
    axes = normalize_dims(dims, input.ndim, "flip") or ()
    index = tuple(slice(None, None, -1) if d in axes else slice(None) for d in range(input.ndim))
    return GetItem.apply(input, index=index)


def movedim(input: Tensor, source, destination) -> Tensor:  # noqa: A002 - PyTorch's names
    """The dims ``source`` (an int or a tuple) moved to the positions ``destination``, the
    other dims keeping their order."""
    n = input.ndim
    src = (source,) if isinstance(source, int) else tuple(source)
    dst = (destination,) if isinstance(destination, int) else tuple(destination)
    if len(src) != len(dst):
        raise RuntimeError(
            f"movedim: Invalid source or destination dims: source ({list(src)} dims) should "
            f"contain the same number of dims as destination ({list(dst)} dims)"
        )
    src = tuple(normalize_dim(d, n, "movedim") for d in src)
    dst = tuple(normalize_dim(d, n, "movedim") for d in dst)
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise RuntimeError("movedim: repeated dim in source or destination")
    order = [d for d in range(n) if d not in src]
    for d, s_ in sorted(zip(dst, src)):
        order.insert(d, s_)
    return permute(input, order)


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:  # noqa: A002
    """``length`` elements of ``dim`` from ``start`` (a view in PyTorch; a slice here)."""
    d = normalize_dim(dim, input.ndim, "narrow")
    size = input._data.shape[d]
    start = start + size if start < 0 else start
    if not (0 <= start <= size and 0 <= length <= size - start):
        raise RuntimeError(
            f"narrow: start ({start}) + length ({length}) exceeds dimension size ({size})."
        )
    index = tuple(
        slice(start, start + length) if k == d else slice(None) for k in range(input.ndim)
    )
    return GetItem.apply(input, index=index)


def index_select(input: Tensor, dim: int, index) -> Tensor:  # noqa: A002 - PyTorch's names
    """The entries of ``dim`` at the positions ``index`` (a 1-d integer tensor), in order."""
    idx = np.asarray(index._data if isinstance(index, Tensor) else index)
    if idx.ndim > 1 or (idx.size and idx.dtype.kind not in "iu"):
        raise IndexError(
            f"index_select(): Index is supposed to be a vector of integers, got shape "
            f"{tuple(idx.shape)} and dtype {idx.dtype}"
        )
    d = normalize_dim(dim, input.ndim, "index_select")
    if d is None:  # a 0-d input: index 0 only
        return GetItem.apply(input.reshape(1), index=(idx.reshape(-1).astype(np.int64),)).reshape(
            ()
        )
    key = tuple(
        idx.reshape(-1).astype(np.int64) if k == d else slice(None) for k in range(input.ndim)
    )
    return GetItem.apply(input, index=key)


def broadcast_to(input: Tensor, size) -> Tensor:  # noqa: A002 - PyTorch's names
    """``input`` broadcast to ``size`` (``expand`` with NumPy's name)."""
    return expand(input, *_shape_arg((size,) if isinstance(size, int) else tuple(size)))


concat = cat  # PyTorch's aliases of cat
concatenate = cat


def repeat(input: Tensor, *sizes) -> Tensor:  # noqa: A002 - PyTorch's names
    """The tensor tiled ``sizes[i]`` times along dim i (``Tensor.repeat``); extra leading
    sizes add leading dims."""
    reps = _shape_arg(sizes)
    if len(reps) < input.ndim:
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions "
            "of tensor"
        )
    shape = (1,) * (len(reps) - input.ndim) + input._data.shape
    x = reshape(input, [s for n in shape for s in (1, n)])  # (1, s0, 1, s1, ...)
    tiled = [s for r, n in zip(reps, shape) for s in (r, n)]  # (r0, s0, r1, s1, ...)
    return reshape(expand(x, *tiled), [r * n for r, n in zip(reps, shape)])


def _triangle(input: Tensor, diagonal: int, lower: bool, name: str) -> Tensor:  # noqa: A002
    if input.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
    rows, cols = input._data.shape[-2:]
    keep = (np.tril if lower else np.triu)(np.ones((rows, cols), bool), diagonal)
    return ew.masked_fill(input, make_tensor(~keep), 0)


def tril(input: Tensor, diagonal: int = 0) -> Tensor:  # noqa: A002 - PyTorch's names
    """The lower triangle of the last two dims (on and below ``diagonal``), zeros above."""
    return _triangle(input, diagonal, True, "tril")


def triu(input: Tensor, diagonal: int = 0) -> Tensor:  # noqa: A002 - PyTorch's names
    """The upper triangle of the last two dims (on and above ``diagonal``), zeros below."""
    return _triangle(input, diagonal, False, "triu")


# ---- composites: stacking, rolling, repeating, picking along a dim --------------------------


def _tensors(name: str, tensors) -> list:
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError(f"{name} expects a non-empty TensorList")
    return [as_tensor(t, like=tensors[0]) for t in tensors]


def atleast_1d(x: Tensor) -> Tensor:
    return reshape(x, (1,)) if x.ndim == 0 else x


def atleast_2d(x: Tensor) -> Tensor:
    return reshape(x, (1,) * (2 - x.ndim) + x.shape) if x.ndim < 2 else x


def atleast_3d(x: Tensor) -> Tensor:
    """As ``torch.atleast_3d``: () -> (1, 1, 1), (n,) -> (1, n, 1), (m, n) -> (m, n, 1)."""
    if x.ndim == 0:
        return reshape(x, (1, 1, 1))
    if x.ndim == 1:
        return reshape(x, (1, x.shape[0], 1))
    return reshape(x, x.shape + (1,)) if x.ndim == 2 else x


def hstack(tensors) -> Tensor:
    """Tensors joined column-wise: along dim 0 if all are 1-d, else along dim 1."""
    ts = [atleast_1d(t) for t in _tensors("hstack", tensors)]
    return cat(ts, 0 if ts[0].ndim == 1 else 1)


def vstack(tensors) -> Tensor:
    """Tensors joined row-wise: each made at least 2-d, then joined along dim 0."""
    return cat([atleast_2d(t) for t in _tensors("vstack", tensors)], 0)


row_stack = vstack  # PyTorch's alias


def dstack(tensors) -> Tensor:
    """Tensors joined depth-wise: each made at least 3-d, then joined along dim 2."""
    return cat([atleast_3d(t) for t in _tensors("dstack", tensors)], 2)


def column_stack(tensors) -> Tensor:
    """Tensors as columns: 0-d and 1-d ones become (n, 1), then all join along dim 1."""
    ts = _tensors("column_stack", tensors)
    return cat([reshape(t, (t._data.size, 1)) if t.ndim < 2 else t for t in ts], 1)


def _select_along(x: Tensor, d: int, idx: np.ndarray) -> Tensor:
    return GetItem.apply(x, index=(slice(None),) * d + (idx.astype(np.intp),))


def roll(input: Tensor, shifts, dims=None) -> Tensor:  # noqa: A002 - PyTorch's names
    """Elements shifted ``shifts`` places along ``dims``, those past the end coming round to
    the start; without ``dims`` the tensor is flattened, rolled and given its shape back."""
    shifts = (shifts,) if isinstance(shifts, (int, np.integer)) else tuple(shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"roll: shifts {shifts} need as many dims, but none were given")
        return reshape(roll(reshape(input, (-1,)), shifts, 0), input._data.shape)
    dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(
            f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}"
        )
    x = input
    for s, dim in zip(shifts, dims):
        d = normalize_dim(dim, max(x.ndim, 1), "roll")
        n = x._data.shape[d]
        if n and int(s) % n:
            x = _select_along(x, d, (np.arange(n) - int(s)) % n)
    return x if x is not input else input * 1


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None) -> Tensor:  # noqa: A002
    """Each element (or slice along ``dim``) repeated ``repeats`` times in place: an int for
    all, or a tensor of one count each. Without ``dim`` the input is flattened first;
    ``repeat_interleave(counts)`` alone gives the indices 0, 0, 1, ... ``counts`` times."""
    if repeats is None:  # torch.repeat_interleave(repeats): the index of each repeat
        counts = np.asarray(input._data if isinstance(input, Tensor) else input)
        if counts.ndim != 1 or counts.dtype.kind not in "iu":
            raise RuntimeError("repeat_interleave: repeats must be a 1-d integer tensor")
        return make_tensor(np.repeat(np.arange(counts.size, dtype=np.int64), counts))
    x = input
    if dim is None:
        x, d = reshape(x, (-1,)), 0
    else:
        d = normalize_dim(dim, x.ndim, "repeat_interleave")
        if d is None:
            x, d = reshape(x, (1,)), 0
    n = x._data.shape[d]
    reps = np.asarray(repeats._data if isinstance(repeats, Tensor) else repeats)
    if reps.dtype.kind not in "iu":
        raise RuntimeError("repeat_interleave: repeats must hold integers")
    if reps.ndim > 1 or (reps.ndim == 1 and reps.size not in (1, n)):
        raise RuntimeError(
            f"repeats must have the same size as input along dim, but got repeats.size(0) = "
            f"{reps.size} and input.size({d}) = {n}"
        )
    if (reps < 0).any():
        raise RuntimeError("repeat_interleave: repeats can not be negative")
    idx = np.repeat(np.arange(n), reps.reshape(-1) if reps.size != 1 else int(reps))
    if output_size is not None and output_size != idx.size:
        raise RuntimeError(
            f"repeat_interleave: output_size {output_size} is not the sum of repeats ({idx.size})"
        )
    return _select_along(x, d, idx)


def take_along_dim(input: Tensor, indices, dim=None) -> Tensor:  # noqa: A002 - PyTorch's names
    """Values of ``input`` at ``indices`` along ``dim``, the other dims broadcast against
    each other (NumPy's ``take_along_axis``); without ``dim``, of the flattened input."""
    index = indices if isinstance(indices, Tensor) else make_tensor(np.asarray(indices))
    idx = index._data
    if idx.dtype.kind not in "iu":
        raise RuntimeError("torch.take_along_dim(): dtype of indices should be Long but got Float")
    # NOTE: the index is reshaped and broadcast by ops, so that ds.compile replays them
    if dim is None:
        return gather(reshape(input, (-1,)), 0, reshape(index, (-1,)))
    if input.ndim != idx.ndim:
        raise RuntimeError(
            f"torch.take_along_dim(): input and indices should have the same number of "
            f"dimensions, but got {input.ndim} dimensions for input, and {idx.ndim} dimensions "
            f"for indices"
        )
    d = normalize_dim(dim, input.ndim, "take_along_dim")
    if d is None:
        return gather(input, 0, index)
    ins, ids = list(input._data.shape), list(idx.shape)
    ins[d] = ids[d] = 1
    try:
        common = list(np.broadcast_shapes(tuple(ins), tuple(ids)))
    except ValueError:
        raise RuntimeError(
            f"take_along_dim: input {tuple(input.shape)} and indices {tuple(idx.shape)} do not "
            f"broadcast outside dim {d}"
        ) from None
    x_shape = common[:d] + [input._data.shape[d]] + common[d + 1 :]
    i_shape = common[:d] + [idx.shape[d]] + common[d + 1 :]
    x = input if tuple(x_shape) == input._data.shape else expand(input, *x_shape)
    return gather(x, d, Expand.apply(index, shape=tuple(i_shape)))


def masked_select(input: Tensor, mask) -> Tensor:  # noqa: A002 - PyTorch's names
    """The elements where ``mask`` (bool, broadcast with input) is True, as a 1-d tensor."""
    given = mask if isinstance(mask, Tensor) else make_tensor(np.asarray(mask))
    m = given._data
    if m.dtype != np.bool_:
        raise RuntimeError(f"masked_select: expected BoolTensor for mask, got {m.dtype}")
    try:
        common = np.broadcast_shapes(m.shape, input._data.shape)
    except ValueError:
        raise RuntimeError(
            f"masked_select: the mask of shape {tuple(m.shape)} and the input of shape "
            f"{tuple(input.shape)} do not broadcast"
        ) from None
    x = input if common == input._data.shape else expand(input, *common)
    # the mask broadcast by an op, so that ds.compile replays it on each call's mask
    return getitem(x, Expand.apply(given, shape=common)._data)


# ---- diagonals, grids, pieces ---------------------------------------------------------------


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:  # noqa: A002
    """The diagonal ``offset`` of the matrices in dims ``dim1``, ``dim2``, as a last dim."""
    if input.ndim < 2:
        raise RuntimeError(f"diagonal: expected a tensor of at least 2 dims, got {input.ndim}")
    a = normalize_dim(dim1, input.ndim, "diagonal")
    b = normalize_dim(dim2, input.ndim, "diagonal")
    if a == b:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    x = movedim(input, (a, b), (-2, -1))
    rows, cols = x._data.shape[-2:]
    r0, c0 = (0, offset) if offset >= 0 else (-offset, 0)
    n = max(0, min(rows - r0, cols - c0))
    i = np.arange(n)
    return GetItem.apply(x, index=(Ellipsis, i + r0, i + c0))


_diagonal = diagonal  # diag's own parameter is called diagonal


def diag(input: Tensor, diagonal: int = 0) -> Tensor:  # noqa: A002 - PyTorch's names
    """A 1-d input as the ``diagonal`` of a square matrix of zeros; a 2-d input's diagonal."""
    if input.ndim == 2:
        return _diagonal(input, diagonal)
    if input.ndim != 1:
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")
    n = input._data.shape[0]
    k = abs(diagonal)
    i = np.arange(n)
    where = (i, i + diagonal) if diagonal >= 0 else (i - diagonal, i)
    return GetItemBackward.apply(input, shape=(n + k, n + k), index=where)


def trace(input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's names
    """The sum of the main diagonal of a matrix."""
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    return diagonal(input).sum()


def meshgrid(*tensors, indexing: str | None = None) -> tuple:
    """Coordinate grids of 1-d tensors: with ``indexing='ij'`` (PyTorch's default) grid k
    varies along dim k; with ``'xy'`` the first two dims are swapped (NumPy's default)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    indexing = "ij" if indexing is None else indexing
    if indexing not in ("ij", "xy"):
        raise RuntimeError(
            f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}'
        )
    ts = [atleast_1d(t) for t in _tensors("meshgrid", tensors)]
    for t in ts:
        if t.ndim != 1:
            raise RuntimeError(
                f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {t.ndim}D"
            )
    swap = indexing == "xy" and len(ts) >= 2
    order = [1, 0, *range(2, len(ts))] if swap else list(range(len(ts)))
    shape = tuple(ts[k].shape[0] for k in order)
    out = []
    for k, t in enumerate(ts):
        at = order.index(k)
        view_shape = tuple(t.shape[0] if j == at else 1 for j in range(len(ts)))
        out.append(expand(reshape(t, view_shape), *shape))
    return tuple(out)


def select(input: Tensor, dim: int, index: int) -> Tensor:  # noqa: A002 - PyTorch's names
    """The slice at ``index`` of ``dim`` (that dim removed)."""
    d = normalize_dim(dim, input.ndim, "select")
    if d is None:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    n = input._data.shape[d]
    if not -n <= index < n:
        raise IndexError(
            f"select(): index {index} out of range for tensor of size {list(input.shape)} at "
            f"dimension {d}"
        )
    return GetItem.apply(input, index=(slice(None),) * d + (int(index),))


def unbind(input: Tensor, dim: int = 0) -> tuple:  # noqa: A002 - PyTorch's names
    """The slices of ``dim``, each without that dim."""
    d = normalize_dim(dim, input.ndim, "unbind")
    if d is None:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    return tuple(select(input, d, i) for i in range(input._data.shape[d]))


def tensor_split(input: Tensor, indices_or_sections=None, dim: int = 0, *,  # noqa: A002
                 sections=None, indices=None) -> tuple:  # fmt: skip
    """Pieces along ``dim``: an int n gives n pieces (the first ``size % n`` one longer);
    a list of indices cuts before each index (as NumPy's ``array_split``). PyTorch's
    keywords ``sections=`` and ``indices=`` name the two kinds."""
    given = [v for v in (indices_or_sections, sections, indices) if v is not None]
    if len(given) != 1:
        raise TypeError("tensor_split() takes one of indices_or_sections, sections and indices")
    indices_or_sections = given[0]
    if input.ndim == 0:
        raise RuntimeError(
            "tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims"
        )
    d = normalize_dim(dim, input.ndim, "tensor_split")
    n = input._data.shape[d]
    spec = indices_or_sections
    if isinstance(spec, Tensor):
        spec = spec._data.item() if spec.ndim == 0 else spec._data.tolist()
    if isinstance(spec, (int, np.integer)):
        k = int(spec)
        if k <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {k}")
        sizes = [n // k + 1] * (n % k) + [n // k] * (k - n % k)
        return _pieces(input, d, sizes)
    cuts = [int(c) for c in spec]
    lead = (slice(None),) * d
    bounds = [0, *cuts, n]
    return tuple(getitem(input, lead + (slice(lo, hi),)) for lo, hi in zip(bounds, bounds[1:]))


# ---- index_add, index_fill --------------------------------------------------------------


def _vector_index(name: str, index) -> np.ndarray:
    idx = np.asarray(index._data if isinstance(index, Tensor) else index)
    if idx.ndim > 1 or (idx.size and idx.dtype.kind not in "iu"):
        raise IndexError(f"{name}(): Index is supposed to be a vector of integers")
    return idx.reshape(-1).astype(np.intp)


def index_add(input: Tensor, dim: int, index, source, *, alpha=1) -> Tensor:  # noqa: A002
    """A copy of ``input`` with ``alpha * source[..., j, ...]`` added to the slice
    ``index[j]`` of ``dim`` (repeated indices add up)."""
    idx = _vector_index("index_add", index)
    x = atleast_1d(input)
    src = as_tensor(source, like=input)
    src = atleast_1d(src) if src.ndim == 0 else src
    d = normalize_dim(dim, x.ndim, "index_add")
    want = x.shape[:d] + (idx.size,) + x.shape[d + 1 :]
    if src.shape != want:
        raise RuntimeError(
            f"index_add_(): source of shape {tuple(source.shape)} must have the shape {want} "
            f"(self's, with {idx.size} entries along dim {d})"
        )
    if alpha != 1:
        src = ew.mul(src, alpha)
    where = np.broadcast_to(idx.reshape((-1,) + (1,) * (x.ndim - d - 1)), want)
    out = _scatter("index_add", x, d, np.ascontiguousarray(where), src, add=True)
    return out if input.ndim else reshape(out, ())


def index_fill(input: Tensor, dim: int, index, value) -> Tensor:  # noqa: A002
    """A copy of ``input`` with ``value`` in the slices ``index`` of ``dim``."""
    idx = _vector_index("index_fill", index)
    d = normalize_dim(dim, input.ndim, "index_fill")
    if d is None:
        mask = np.zeros((), bool)
        mask[...] = idx.size > 0
    else:
        n = input._data.shape[d]
        if idx.size and (idx.min() < -n or idx.max() >= n):
            raise IndexError(f"index_fill(): index out of range for dim {d} of size {n}")
        hit = np.zeros(n, bool)
        hit[idx] = True
        mask = hit.reshape((-1,) + (1,) * (input.ndim - d - 1))
    return ew.masked_fill(input, np.broadcast_to(mask, input._data.shape), value)
