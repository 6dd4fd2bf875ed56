"""Linear algebra primitives: matmul (vectors, matrices and batches, as np.matmul), mm, einsum."""

from __future__ import annotations

import string

import numpy as np

from ..autograd import Function
from ..tensor import Tensor
from . import elementwise as ew
from . import shape as _shape
from ._util import sum_to, unbroadcast


class MatMul(Function):
    """$C = A B$; $dA = G B^T$, $dB = A^T G$ (batch dims broadcast and are summed back)."""

    saved_for = ((1,), (0,))

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.matmul(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        # Treat vectors as matrices: a (n,) as (1, n) and b (n,) as (n, 1).
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g = grad  # as the gradient of a2 @ b2
        if a.ndim == 1 and b.ndim == 1:
            g = grad.reshape(1, 1)
        elif a.ndim == 1:
            g = np.expand_dims(g, -2)
        elif b.ndim == 1:
            g = np.expand_dims(g, -1)
        ga = gb = None
        if need_a:
            ga = np.matmul(g, np.swapaxes(b2, -1, -2))
            ga = unbroadcast(ga, a2.shape, a.dtype).reshape(a.shape)
        if need_b:
            gb = np.matmul(np.swapaxes(a2, -1, -2), g)
            gb = unbroadcast(gb, b2.shape, b.dtype).reshape(b.shape)
        return ga, gb

    @staticmethod
    def backward_graph(ctx, grad, out):
        a, b = ctx.inputs
        need_a, need_b = ctx.needs_input_grad
        a2 = a.reshape(1, -1) if a.ndim == 1 else a  # vectors as matrices, as in backward
        b2 = b.reshape(-1, 1) if b.ndim == 1 else b
        g = grad  # as the gradient of a2 @ b2
        if a.ndim == 1:
            g = g.unsqueeze(-2 if b.ndim > 1 else 0)
        if b.ndim == 1:
            g = g.unsqueeze(-1)
        ga = gb = None
        if need_a:
            ga = sum_to(g @ b2.transpose(-1, -2), a2.shape, a.dtype).reshape(a.shape)
        if need_b:
            gb = sum_to(a2.transpose(-1, -2) @ g, b2.shape, b.dtype).reshape(b.shape)
        return ga, gb


def matmul(input, other) -> Tensor:  # noqa: A002 - PyTorch's names
    """Matrix product with NumPy's rules: 1-D vectors, 2-D matrices, broadcast batches."""
    a, b = ew._operands(input, other)
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(
            f"matmul: both arguments need at least 1 dimension, got shapes {tuple(a.shape)} and "
            f"{tuple(b.shape)}; use * for scalars"
        )
    sa, sb = a._data.shape, b._data.shape
    k_a = sa[-1]
    k_b = sb[0] if len(sb) == 1 else sb[-2]
    if k_a != k_b:
        raise RuntimeError(
            f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be multiplied ({k_a} != "
            f"{k_b})"
        )
    try:
        np.broadcast_shapes(sa[:-2], sb[:-2])
    except ValueError:
        raise RuntimeError(
            f"matmul: the batch dims of shapes {tuple(a.shape)} and {tuple(b.shape)} do not "
            f"broadcast"
        ) from None
    return MatMul.apply(a, b)


def dot(input, tensor) -> Tensor:  # noqa: A002 - PyTorch's names
    """The inner product of two 1-D tensors of one dtype (``torch.dot``)."""
    for name, x in (("input", input), ("tensor", tensor)):
        if not isinstance(x, Tensor) or x._data.ndim != 1:
            shown = f"{x._data.ndim}D" if isinstance(x, Tensor) else type(x).__name__
            raise RuntimeError(f"1D tensors expected, but got {shown} {name}")
    if input._data.dtype != tensor._data.dtype:
        raise RuntimeError(
            f"dot : expected both vectors to have same dtype, but found {input._data.dtype} "
            f"and {tensor._data.dtype}"
        )
    if input._data.shape != tensor._data.shape:
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{input._data.shape[0]}] and src "
            f"[{tensor._data.shape[0]}] to have the same number of elements, but got "
            f"{input._data.shape[0]} and {tensor._data.shape[0]} elements respectively"
        )
    return matmul(input, tensor)


def mm(input, mat2) -> Tensor:  # noqa: A002 - PyTorch's names
    """The product of two matrices (no broadcasting, as ``torch.mm``)."""
    a, b = ew._operands(input, mat2)
    if a.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if b.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    if a._data.shape[1] != b._data.shape[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} and "
            f"{b.shape[0]}x{b.shape[1]})"
        )
    return MatMul.apply(a, b)


class Einsum(Function):
    """A sum of products named by subscripts; each operand's gradient is another einsum:
    the output's gradient times the other operands, summed to that operand's subscripts
    (broadcast over letters only it has, written onto the diagonal where a letter repeats)."""

    @staticmethod
    def forward(ctx, *xs, subs, out):
        ctx.save_for_backward(*xs)
        ctx.meta = (subs, out)
        return np.einsum(",".join(subs) + "->" + out, *xs)

    @staticmethod
    def backward(ctx, grad):
        xs = ctx.saved_tensors
        subs, out = ctx.meta
        grads = []
        for i, (x, s) in enumerate(zip(xs, subs)):
            if not ctx.needs_input_grad[i]:
                grads.append(None)
                continue
            others = [(xs[j], subs[j]) for j in range(len(xs)) if j != i]
            letters = "".join(dict.fromkeys(s))
            have = set(out).union(*(set(o) for _, o in others))
            kept = "".join(c for c in letters if c in have)
            eq = ",".join([out] + [o for _, o in others]) + "->" + kept
            g = np.einsum(eq, grad, *[o for o, _ in others])
            sizes = {c: x.shape[s.index(c)] for c in letters}
            g = g.reshape([sizes[c] if c in kept else 1 for c in letters])  # kept is in order
            g = np.broadcast_to(g, [sizes[c] for c in letters])
            if len(letters) == len(s):
                full = np.array(g, dtype=x.dtype)  # a copy (0-d stays 0-d)
            else:  # a repeated letter: the gradient lives on the diagonal
                full = np.zeros(x.shape, x.dtype)
                np.einsum(s + "->" + letters, full)[...] = g
            grads.append(full)
        return tuple(grads)

    @staticmethod
    def backward_graph(ctx, grad, out):
        # NOTE: backward's gradient as one einsum, so that it is differentiable: a letter
        # repeated in an operand is renamed and tied to its first use by an identity
        # matrix, and a letter that only this operand has is summed, so it is broadcast
        # back by a vector of ones (both constants).
        xs, (subs, out_subs) = ctx.inputs, ctx.meta
        spare = [c for c in string.ascii_letters if c not in "".join(subs)]
        grads = []
        for i, (x, s) in enumerate(zip(xs, subs)):
            if not ctx.needs_input_grad[i]:
                grads.append(None)
                continue
            others = [(xs[j], subs[j]) for j in range(len(xs)) if j != i]
            have = set(out_subs).union(*(set(o) for _, o in others))
            terms = [(grad, out_subs), *others]
            named = ""
            for c, n in zip(s, x.shape):
                if c in named:  # a repeat: the gradient lives on the diagonal
                    named += spare[len(named)]
                    terms.append((np.eye(n, dtype=x.dtype), c + named[-1]))
                else:
                    named += c
                    if c not in have:
                        terms.append((np.ones(n, x.dtype), c))
            eq = ",".join(t for _, t in terms) + "->" + named
            grads.append(einsum(eq, *(t for t, _ in terms)))
        return tuple(grads)


def _name_ellipses(subs: list, out: str, arrow: str, ranks: list) -> tuple[list, str]:
    """Subscripts with each ``...`` replaced by letters of its own, one per broadcast dim.

    The ellipses are aligned from the right, as broadcasting aligns shapes; without ``->``
    the output holds the ellipsis dims first, then the letters used once, in order."""
    singles = sorted(c for c in set("".join(subs)) if "".join(subs).count(c) == 1 and c != ".")
    used = set("".join(subs) + out)
    free = [c for c in string.ascii_letters if c not in used]
    width = max(ranks, default=0)
    if width > len(free):
        raise ValueError("einsum(): too many dims for the letters left to name '...'")
    letters = "".join(free[:width])
    subs = [s.replace("...", letters[width - r :]) for s, r in zip(subs, ranks)]
    out = out.replace("...", letters) if arrow else letters + "".join(singles)
    return subs, out


def einsum(equation: str, *operands) -> Tensor:
    """Einstein summation, ``ds.einsum('bij,bjk->bik', a, b)``, with gradients.

    Letters name dims; a letter missing from the output is summed over; without ``->`` the
    output has the letters used once, in alphabetical order. ``...`` stands for the dims
    the letters leave unnamed (broadcast across operands, as ``'...ij,...jk->...ik'``), and
    dims of size 1 broadcast against their letter's size elsewhere. Operands may be given
    as a list.
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    eq = equation.replace(" ", "")
    lhs, arrow, out = eq.partition("->")
    subs = lhs.split(",")
    if len(subs) != len(operands):
        raise ValueError(
            "einsum(): more operands were provided than specified in the equation"
            if len(operands) > len(subs)
            else "einsum(): fewer operands were provided than specified in the equation"
        )
    for s in subs + [out]:
        if s.count("...") > 1 or "." in s.replace("...", "", 1):
            raise ValueError(
                f"einsum(): invalid subscripts {s!r} in {equation!r}: '.' only as one '...'"
            )
    xs = [operands[0] if isinstance(operands[0], Tensor) else ew.as_tensor(operands[0])]
    for o in operands[1:]:
        xs.append(ew.as_tensor(o, like=xs[0]))
    ranks = []
    for k, (x, s) in enumerate(zip(xs, subs)):
        named = len(s.replace("...", ""))
        if named > x.ndim or ("..." not in s and named != x.ndim):
            raise RuntimeError(
                f"einsum(): the number of subscripts in the equation ({named}) does not "
                f"match the number of dimensions ({x.ndim}) for operand {k}"
                + ("" if "..." in s else " and no ellipsis was given")
            )
        ranks.append(x.ndim - named)
    subs, out = _name_ellipses(subs, out, arrow, ranks)
    if not all(c.isalpha() for c in "".join(subs) + out):
        raise ValueError(f"einsum(): invalid subscript in equation {equation!r}; use letters")
    dtypes = {x.dtype for x in xs}
    if len(dtypes) > 1:
        raise RuntimeError(
            f"einsum(): operands must have one dtype, got {sorted(map(str, dtypes))}"
        )
    sizes = {}
    for k, (x, s) in enumerate(zip(xs, subs)):
        for c, n in zip(s, x.shape):
            seen = sizes.setdefault(c, n)
            if seen == 1:
                sizes[c] = n
            elif n not in (1, seen):
                raise RuntimeError(
                    f"einsum(): subscript {c} has size {n} for operand {k} which does not "
                    f"broadcast with previously seen size {seen}"
                )
    for c in out:
        if c not in sizes:
            raise ValueError(
                f"einsum(): output subscript {c} does not appear in the equation for any input "
                f"operand"
            )
    # dims of size 1 grow to their letter's size (Expand undoes it in the backward pass)
    xs = [
        x if all(sizes[c] == n for c, n in zip(s, x.shape)) else x.expand(*[sizes[c] for c in s])
        for x, s in zip(xs, subs)
    ]
    return Einsum.apply(*xs, subs=tuple(subs), out=out)


def outer(input, vec2) -> Tensor:  # noqa: A002 - PyTorch's names
    """The outer product $a_i b_j$ of two 1-D tensors."""
    for name, x in (("input", input), ("vec2", vec2)):
        if not isinstance(x, Tensor) or x._data.ndim != 1:
            raise RuntimeError(f"outer: {name} must be a 1-D tensor")
    return ew.mul(input.unsqueeze(1), vec2.unsqueeze(0))


def bmm(input, mat2) -> Tensor:  # noqa: A002 - PyTorch's names
    """Batched matrix products of (b, n, m) and (b, m, p): no broadcasting, as ``torch.bmm``."""
    a, b = ew._operands(input, mat2)
    if a.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if b.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    sa, sb = a._data.shape, b._data.shape
    if sa[0] != sb[0] or sa[2] != sb[1]:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{sa[0]}, {sa[2]}] "
            f"but got: [{sb[0]}, {sb[1]}]."
        )
    return MatMul.apply(a, b)


def mv(input, vec) -> Tensor:  # noqa: A002 - PyTorch's names
    """The product of a matrix (n, m) and a vector (m,)."""
    a, v = ew._operands(input, vec)
    if a.ndim != 2 or v.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {v.ndim}, {a.ndim}, {v.ndim}")
    if a._data.shape[1] != v._data.shape[0]:
        raise RuntimeError(
            f"size mismatch, got input ({a._data.shape[0]}), mat ({a._data.shape[0]}x"
            f"{a._data.shape[1]}), vec ({v._data.shape[0]})"
        )
    return MatMul.apply(a, v)


# ---- composites: scaled products, the cross product, the Kronecker product ------------------


def _scaled_sum(name: str, input, product, beta, alpha) -> Tensor:  # noqa: A002
    """``beta * input + alpha * product``, input broadcast to the product's shape; with
    beta 0 the input is not read (its NaN and inf do not reach the output)."""
    given = tuple(np.shape(input._data if isinstance(input, Tensor) else input))
    try:
        fits = np.broadcast_shapes(given, product.shape) == product.shape
    except ValueError:
        fits = False
    if not fits:
        raise RuntimeError(
            f"{name}: input of shape {given} must broadcast to the product's shape "
            f"{tuple(product.shape)}"
        )
    scaled = product if alpha == 1 else ew.mul(product, alpha)
    if beta == 0:  # input is in the graph with a zero gradient, as PyTorch's, but not read
        if isinstance(input, Tensor) and input.requires_grad:
            return ew.where(np.zeros((), bool), input, scaled)
        return scaled
    return ew.add(input if beta == 1 else ew.mul(input, beta), scaled)


def addmm(input, mat1, mat2, *, beta=1, alpha=1) -> Tensor:  # noqa: A002 - PyTorch's names
    """``beta * input + alpha * (mat1 @ mat2)``, input broadcast to the product's shape."""
    return _scaled_sum("addmm", input, mm(mat1, mat2), beta, alpha)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1) -> Tensor:  # noqa: A002
    """``beta * input + alpha * bmm(batch1, batch2)``, input broadcast to the product's shape."""
    return _scaled_sum("baddbmm", input, bmm(batch1, batch2), beta, alpha)


def cross(input, other, dim=None) -> Tensor:  # noqa: A002 - PyTorch's names
    """The cross product of 3-vectors along ``dim`` (the inputs broadcast); without ``dim``,
    along the first dim of size 3, as ``torch.cross``."""
    a, b = ew._operands(input, other)
    if a.ndim != b.ndim:
        raise RuntimeError(
            f"linalg.cross: inputs must have the same number of dimensions, got shapes "
            f"{tuple(a.shape)} and {tuple(b.shape)}"
        )
    try:
        common = np.broadcast_shapes(a._data.shape, b._data.shape)
    except ValueError:
        raise ew.broadcast_error("cross", a.shape, b.shape) from None
    if dim is None:
        dims = [d for d, n in enumerate(common) if n == 3]
        if not dims:
            raise RuntimeError(f"no dimension of size 3 in input of shape {tuple(common)}")
        d = dims[0]
    else:
        d = _dim(dim, len(common), "cross")
    if common[d] != 3:
        raise RuntimeError(
            f"linalg.cross: inputs dimension {d} must have length 3, but the broadcast shape "
            f"is {tuple(common)}"
        )
    a, b = a.expand(*common), b.expand(*common)
    x = [_shape.select(a, d, i) for i in range(3)]
    y = [_shape.select(b, d, i) for i in range(3)]
    parts = [x[1] * y[2] - x[2] * y[1], x[2] * y[0] - x[0] * y[2], x[0] * y[1] - x[1] * y[0]]
    return _shape.stack(parts, d)


def kron(input, other) -> Tensor:  # noqa: A002 - PyTorch's names
    """The Kronecker product: every element of ``input`` times the whole of ``other``."""
    a, b = ew._operands(input, other)
    n = max(a.ndim, b.ndim)
    sa = (1,) * (n - a.ndim) + a._data.shape
    sb = (1,) * (n - b.ndim) + b._data.shape
    x = a.reshape([s for k in sa for s in (k, 1)])
    y = b.reshape([s for k in sb for s in (1, k)])
    return ew.mul(x, y).reshape([p * q for p, q in zip(sa, sb)])


def _dim(dim: int, ndim: int, op: str) -> int:
    if not -ndim <= dim < ndim:
        raise IndexError(
            f"{op}: dimension {dim} is out of range for a tensor with {ndim} dimension(s)"
        )
    return dim % ndim
