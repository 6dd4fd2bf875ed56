"""Derivatives of whole functions, as PyTorch's ``torch.autograd.functional``: ``vjp``,
``jvp``, ``jacobian``, ``hessian``, ``hvp`` and ``vhp``.

Each takes ``func`` (Tensors in, a Tensor or a tuple of Tensors out) and ``inputs`` (a
Tensor or a tuple of them) and is built from ``ds.grad``: a Jacobian is one vector-Jacobian
product per output element, a Jacobian-vector product is the derivative of a
vector-Jacobian product with respect to its vector, and a Hessian is the Jacobian of the
gradient (``create_graph=True`` underneath).

>>> f = lambda x: (x**3).sum()
>>> hessian(f, ds.tensor([1.0, 2.0], dtype=ds.float64))      # diag(6 x)
tensor([[ 6.,  0.],
        [ 0., 12.]], dtype=float64)
"""

from __future__ import annotations

import numpy as np

from ..ops.shape import stack
from ..tensor import Tensor, make_tensor
from . import enable_grad, grad

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


def _as_tuple(value, what: str, fn: str) -> tuple[bool, tuple]:
    """(whether ``value`` was a tuple, ``value`` as a tuple of Tensors)."""
    is_tuple = isinstance(value, (tuple, list))
    items = tuple(value) if is_tuple else (value,)
    for i, t in enumerate(items):
        if not isinstance(t, Tensor):
            raise TypeError(
                f"{fn}: {what} {i} is a {type(t).__name__}; {what}s must be Tensors "
                f"(wrap it first: ds.tensor(value))"
            )
    return is_tuple, items


def _prepare(inputs: tuple, create_graph: bool) -> tuple:
    """Inputs that require grad, for ``func`` to be differentiated at: a fresh leaf per
    input, or, with ``create_graph``, the input itself seen through an identity op so the
    answer stays differentiable with respect to it."""
    out = []
    for t in inputs:
        if t.dtype.kind != "f":
            raise TypeError(f"inputs must be floating tensors to be differentiated, got {t.dtype}")
        if create_graph and t.requires_grad:
            out.append(t.view(t.shape))
        else:
            out.append(make_tensor(t._data).requires_grad_(True))
    return tuple(out)


def _call(func, inputs: tuple, fn: str) -> tuple[bool, tuple]:
    with enable_grad():
        outputs = func(*inputs)
    return _as_tuple(outputs, "output", fn)


def _grads(outputs, inputs, grad_outputs, create_graph: bool, strict: bool, fn: str) -> tuple:
    """``ds.grad`` with zeros (PyTorch's functional convention) where an input is unused;
    ``strict`` refuses an input the outputs do not depend on."""
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    found = (None,) * len(inputs)
    if pairs:
        found = grad(
            [o for o, _ in pairs],
            list(inputs),
            grad_outputs=[g for _, g in pairs],
            retain_graph=True,
            create_graph=create_graph,
            allow_unused=True,
        )
    result = []
    for i, (g, x) in enumerate(zip(found, inputs)):
        if g is None:
            if strict:
                raise RuntimeError(
                    f"{fn}: the output of the function is independent of input {i}, which "
                    f"strict mode does not allow (pass strict=False to get zeros)"
                )
            g = make_tensor(np.zeros(x.shape, x.dtype))
        result.append(g)
    return tuple(result)


def _finish(values, create_graph: bool):
    """Detached unless the caller asked for a graph (PyTorch's functional returns)."""
    if isinstance(values, tuple):
        return tuple(_finish(v, create_graph) for v in values)
    return values if create_graph else values.detach()


def _vectors(v, like: tuple, what: str, fn: str) -> tuple:
    """The vectors ``v`` (one per item of ``like``, same shapes); None is allowed only
    where each item has one element (then the vector is 1)."""
    if v is None:
        if any(t._data.size != 1 for t in like):
            raise RuntimeError(
                f"{fn}: v can be left out only when every {what} has a single element; "
                f"give v with the {what}s' shapes {[tuple(t.shape) for t in like]}"
            )
        return tuple(make_tensor(np.ones(t.shape, t.dtype)) for t in like)
    _, vs = _as_tuple(v, "v", fn)
    if len(vs) != len(like):
        raise RuntimeError(f"{fn}: got {len(vs)} vector(s) v for {len(like)} {what}(s)")
    for i, (a, t) in enumerate(zip(vs, like)):
        if a.shape != t.shape:
            raise RuntimeError(
                f"{fn}: v {i} has shape {tuple(a.shape)} but {what} {i} has shape "
                f"{tuple(t.shape)}; they must match"
            )
    return vs


def _refuse(fn: str, **flags) -> None:
    for name, (value, allowed) in flags.items():
        if value not in allowed:
            raise NotImplementedError(
                f"{fn}: {name}={value!r} is not supported by descent, which computes every "
                f"derivative in reverse mode; use {name}={allowed[0]!r}"
            )


def vjp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(inputs), v^T J)``: the vector-Jacobian product at ``inputs``."""
    in_tuple, xs = _as_tuple(inputs, "input", "vjp")
    xs = _prepare(xs, create_graph)
    out_tuple, ys = _call(func, xs, "vjp")
    vs = _vectors(v, ys, "output", "vjp")
    found = _grads(ys, xs, vs, create_graph, strict, "vjp")
    outputs = _finish(ys if out_tuple else ys[0], create_graph)
    return outputs, _finish(found if in_tuple else found[0], create_graph)


def jvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(inputs), J v)``: the Jacobian-vector product at ``inputs``, as the
    derivative of $u \\mapsto J^T u$ with respect to ``u`` along ``v`` (two reverse passes)."""
    in_tuple, xs = _as_tuple(inputs, "input", "jvp")
    xs = _prepare(xs, True)
    vs = _vectors(v, xs, "input", "jvp")
    out_tuple, ys = _call(func, xs, "jvp")
    us = tuple(make_tensor(np.zeros(y.shape, y.dtype)).requires_grad_(True) for y in ys)
    with enable_grad():
        back = _grads(ys, xs, us, True, strict, "jvp")
    pairs = [(b, w) for b, w in zip(back, vs) if b.requires_grad]
    if pairs:
        found = _grads([b for b, _ in pairs], us, [w for _, w in pairs], create_graph, False, "jvp")
    else:
        found = tuple(make_tensor(np.zeros(y.shape, y.dtype)) for y in ys)
    if strict and not pairs:
        raise RuntimeError("jvp: the output of the function is independent of its inputs")
    outputs = _finish(ys if out_tuple else ys[0], create_graph)
    return outputs, _finish(found if out_tuple else found[0], create_graph)


def jacobian(
    func,
    inputs,
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    strategy: str = "reverse-mode",
):
    """The Jacobian of ``func`` at ``inputs``: for one input and one output a Tensor of
    shape ``output.shape + input.shape``; tuples of them where ``inputs`` or the outputs
    are tuples (``J[i][j]``: output i by input j), as PyTorch's.

    ``vectorize`` changes how PyTorch computes it, not the answer: here both are the same
    loop of one vector-Jacobian product per output element.
    """
    _refuse("jacobian", strategy=(strategy, ("reverse-mode",)))
    in_tuple, xs = _as_tuple(inputs, "input", "jacobian")
    xs = _prepare(xs, create_graph)
    out_tuple, ys = _call(func, xs, "jacobian")
    blocks = []
    for k, y in enumerate(ys):
        rows = [[] for _ in xs]
        for e in range(y._data.size):
            onehot = np.zeros(y._data.size, y.dtype)
            onehot[e] = 1
            seeds = [
                make_tensor(onehot.reshape(y.shape) if j == k else np.zeros(o.shape, o.dtype))
                for j, o in enumerate(ys)
            ]
            for row, g in zip(rows, _grads(ys, xs, seeds, create_graph, strict, "jacobian")):
                row.append(g)
        per_input = []
        for x, row in zip(xs, rows):
            shape = tuple(y.shape) + tuple(x.shape)
            if not row:  # an empty output: an empty Jacobian
                per_input.append(make_tensor(np.zeros(shape, y.dtype)))
            else:
                per_input.append(stack(row).reshape(shape))
        blocks.append(tuple(per_input))
    result = tuple(b if in_tuple else b[0] for b in blocks)
    return _finish(result if out_tuple else result[0], create_graph)


def hessian(
    func,
    inputs,
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    outer_jacobian_strategy: str = "reverse-mode",
):
    """The Hessian of a scalar ``func`` at ``inputs``: shape ``input.shape * 2`` for one
    input, ``H[i][j]`` (input i by input j) for a tuple, as PyTorch's: the Jacobian of the
    gradient, both taken in reverse mode."""
    _refuse("hessian", outer_jacobian_strategy=(outer_jacobian_strategy, ("reverse-mode",)))
    in_tuple, xs = _as_tuple(inputs, "input", "hessian")

    def gradient(*args):
        out_tuple, ys = _call(func, args, "hessian")
        if out_tuple or ys[0]._data.size != 1:
            raise RuntimeError(
                "hessian: the function must return a single Tensor with one element, got "
                + (f"a tuple of {len(ys)}" if out_tuple else f"shape {tuple(ys[0].shape)}")
            )
        found = _grads(ys, args, (make_tensor(np.ones(ys[0].shape, ys[0].dtype)),), True,
                       strict, "hessian")  # fmt: skip
        return found if in_tuple else found[0]

    return jacobian(gradient, xs if in_tuple else xs[0], create_graph, strict, vectorize)


def vhp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(inputs), v^T H)``: the vector-Hessian product of a scalar ``func``."""
    return _hessian_product(func, inputs, v, create_graph, strict, "vhp")


def hvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(inputs), H v)``: the Hessian-vector product of a scalar ``func`` (for the
    twice-differentiable functions here H is symmetric, so it equals ``vhp``'s)."""
    return _hessian_product(func, inputs, v, create_graph, strict, "hvp")


def _hessian_product(func, inputs, v, create_graph: bool, strict: bool, fn: str):
    in_tuple, xs = _as_tuple(inputs, "input", fn)
    xs = _prepare(xs, create_graph)
    vs = _vectors(v, xs, "input", fn)
    out_tuple, ys = _call(func, xs, fn)
    if out_tuple or ys[0]._data.size != 1:
        raise RuntimeError(f"{fn}: the function must return a single Tensor with one element")
    ones = (make_tensor(np.ones(ys[0].shape, ys[0].dtype)),)
    with enable_grad():
        first = _grads(ys, xs, ones, True, strict, fn)
    pairs = [(g, w) for g, w in zip(first, vs) if g.requires_grad]
    if pairs:
        found = _grads([g for g, _ in pairs], xs, [w for _, w in pairs], create_graph, strict, fn)
    else:
        found = tuple(make_tensor(np.zeros(x.shape, x.dtype)) for x in xs)
    return _finish(ys[0], create_graph), _finish(found if in_tuple else found[0], create_graph)
