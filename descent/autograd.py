"""Reverse-mode automatic differentiation: Function, the backward engine, grad modes.

Every differentiable operation is a ``Function`` subclass with a static ``forward`` and
``backward`` side by side. ``forward(ctx, *args, **options)`` receives NumPy arrays where
the caller passed Tensors and returns one array; ``backward(ctx, grad)`` receives the
gradient of the output and returns one gradient per positional argument of ``forward``
(None where there is none). Keyword options are never differentiated.

The engine walks the graph in reverse topological order without recursion, checks every
rule's answer (count, shape, dtype) and accumulates gradients with ``+``.
"""

from __future__ import annotations

import functools
import threading

import numpy as np

__all__ = ["Function", "Context", "no_grad", "enable_grad", "is_grad_enabled", "backward", "grad"]


class _GradMode(threading.local):
    enabled = True


_grad_mode = _GradMode()


def is_grad_enabled() -> bool:
    """True when operations record the graph for backpropagation."""
    return _grad_mode.enabled


class _SetGradMode:
    """Context manager and decorator that sets the grad mode and restores it."""

    mode = True

    def __enter__(self):
        self._prev = _grad_mode.enabled
        _grad_mode.enabled = self.mode
        return self

    def __exit__(self, *exc):
        _grad_mode.enabled = self._prev
        return False

    def __call__(self, fn):
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            prev = _grad_mode.enabled
            _grad_mode.enabled = mode
            try:
                return fn(*args, **kwargs)
            finally:
                _grad_mode.enabled = prev

        return wrapper


class no_grad(_SetGradMode):  # noqa: N801 - PyTorch's name
    """Operations inside record no graph: ``with ds.no_grad(): ...`` or ``@ds.no_grad()``."""

    mode = False


class enable_grad(_SetGradMode):  # noqa: N801 - PyTorch's name
    """Turns graph recording back on inside a ``no_grad`` block."""

    mode = True


class _ModuleScope(threading.local):
    """Which ``Module.__call__`` is running: ``(module, enclosing scope)`` or None.

    ``Module.__call__`` sets it and restores it; every Context copies it (``ctx.scope``),
    so ``ds.viz.graph(..., collapse=True)`` can draw each layer as one node.
    """

    current = None


module_scope = _ModuleScope()


class Context:
    """What one application of a Function remembers for its backward rule.

    Rules may store their own attributes on it (``ctx.dim = dim``).
    """

    __slots__ = (
        "fn", "inputs", "needs_input_grad", "saved_tensors", "freed", "scope", "__dict__"
    )  # fmt: skip

    def __init__(self, fn: type[Function], inputs: tuple, needs_input_grad: tuple):
        self.fn = fn
        self.inputs = inputs  # the positional arguments of forward; Tensors stay Tensors
        self.needs_input_grad = needs_input_grad
        self.saved_tensors: tuple = ()
        self.freed = False
        self.scope = module_scope.current  # the module call this op ran inside, if any

    def save_for_backward(self, *arrays) -> None:
        self.saved_tensors = arrays

    def release(self) -> None:
        """Drop saved values and graph edges once backward no longer needs them."""
        self.saved_tensors = ()
        self.inputs = ()
        self.freed = True
        self.__dict__.clear()

    @property
    def name(self) -> str:
        return self.fn.__name__


class Function:
    """Base class of every differentiable operation, built-in or custom.

    Example::

        class Cube(ds.autograd.Function):
            @staticmethod
            def forward(ctx, x):            # x is a NumPy array
                ctx.save_for_backward(x)
                return x**3

            @staticmethod
            def backward(ctx, grad):        # grad has the output's shape
                (x,) = ctx.saved_tensors
                return 3 * x**2 * grad      # one gradient per forward argument

        y = Cube.apply(t)
    """

    @staticmethod
    def forward(ctx: Context, *args, **options):
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **options):
        from .tensor import Tensor

        arrays = []
        needs = []
        for a in args:
            if isinstance(a, Tensor):
                arrays.append(a.data)
                needs.append(a.requires_grad)
            else:
                arrays.append(a)
                needs.append(False)
        record = _grad_mode.enabled and any(needs)
        ctx = Context(cls, args, tuple(needs))
        out = cls.forward(ctx, *arrays, **options)
        if not isinstance(out, np.ndarray):
            out = np.asarray(out)
        if not record:
            return Tensor._make(out)
        return Tensor._make(out, ctx, True)


# ---------------------------------------------------------------------------------
# The engine


def _topological_order(roots) -> list:
    """Tensors reachable from ``roots`` through graph edges, inputs before outputs.

    Iterative depth-first search, so a graph of any depth is walked without recursion.
    """
    order = []
    seen = set()
    stack = [(r, False) for r in roots]
    while stack:
        t, expanded = stack.pop()
        if expanded:
            order.append(t)
            continue
        if id(t) in seen:
            continue
        seen.add(id(t))
        stack.append((t, True))
        ctx = t._ctx
        if ctx is None:
            continue
        if ctx.freed:
            raise RuntimeError(
                f"Trying to backward through the graph a second time: the graph behind "
                f"'{ctx.name}' was freed by an earlier backward. Pass retain_graph=True "
                f"to the first backward() or ds.grad() call if you need to walk it again."
            )
        for inp, need in zip(ctx.inputs, ctx.needs_input_grad):
            if need and id(inp) not in seen:
                stack.append((inp, False))
    return order


def _check_rule(ctx: Context, grads) -> tuple:
    """The engine's check of a backward rule: one gradient per input, right shape and dtype."""
    if not isinstance(grads, tuple):
        grads = (grads,)
    n = len(ctx.inputs)
    if len(grads) != n:
        raise RuntimeError(
            f"{ctx.name}.backward returned {len(grads)} gradient(s) but forward took {n} "
            f"positional input(s); return one gradient per input (None where there is none)."
        )
    checked = []
    for i, (inp, need, g) in enumerate(zip(ctx.inputs, ctx.needs_input_grad, grads)):
        if not need or g is None:
            checked.append(None)
            continue
        if not isinstance(g, np.ndarray):
            g = getattr(g, "data", g)  # a Tensor returned by a custom rule
            g = np.asarray(g)
        if g.shape != inp.data.shape:
            raise RuntimeError(
                f"{ctx.name}.backward returned a gradient of shape {g.shape} for input {i}, "
                f"whose shape is {inp.data.shape}; a gradient must have its input's shape."
            )
        if g.dtype != inp.data.dtype:
            raise RuntimeError(
                f"{ctx.name}.backward returned a gradient of dtype {g.dtype} for input {i}, "
                f"whose dtype is {inp.data.dtype}; a gradient must have its input's dtype."
            )
        checked.append(g)
    return tuple(checked)


def _run_backward(outputs, grad_outputs, retain_graph: bool, accumulate_into=None):
    """Backpropagate from ``outputs``; return the gradients of the tensors asked for.

    ``accumulate_into`` None: every leaf that requires grad gets ``.grad += g``
    (``Tensor.backward``). Otherwise a list of tensors whose gradients are returned and no
    ``.grad`` is touched (``ds.grad``).
    """
    from .tensor import Tensor

    order = _topological_order(outputs)
    grads: dict[int, np.ndarray] = {}
    for out, g in zip(outputs, grad_outputs):
        key = id(out)
        grads[key] = grads[key] + g if key in grads else g

    wanted = None if accumulate_into is None else {id(t) for t in accumulate_into}
    found: dict[int, np.ndarray] = {}
    with no_grad():
        for t in reversed(order):
            g = grads.pop(id(t), None)
            if g is None:
                continue
            if wanted is not None:
                if id(t) in wanted:
                    found[id(t)] = g
            elif t._ctx is None or t._retains_grad:
                if t.grad is None:
                    t.grad = Tensor._make(g.copy())  # g may be shared with other inputs
                else:
                    t.grad = Tensor._make(t.grad.data + g)
            ctx = t._ctx
            if ctx is None:
                continue
            input_grads = _check_rule(ctx, ctx.fn.backward(ctx, g))
            for inp, ig in zip(ctx.inputs, input_grads):
                if ig is None:
                    continue
                key = id(inp)
                if key in grads:
                    grads[key] = grads[key] + ig
                else:
                    grads[key] = ig
            if not retain_graph:
                ctx.release()
    return found


def _seed_gradients(outputs, grad_outputs, who: str) -> list:
    from .tensor import Tensor

    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    seeds = []
    for out, g in zip(outputs, grad_outputs):
        if not out.requires_grad:
            raise RuntimeError(
                f"{who}: the output does not require grad and has no graph; make sure an input "
                f"was created with requires_grad=True and that you are not inside ds.no_grad()."
            )
        if g is None:
            if out.data.size != 1:
                raise RuntimeError(
                    f"{who}: gradient can be implicitly created only for scalar outputs, "
                    f"but the output has shape {out.data.shape}; pass a gradient of that shape "
                    f"or reduce the output first (e.g. .sum())."
                )
            g = np.ones_like(out.data)
        else:
            g = g.data if isinstance(g, Tensor) else np.asarray(g, dtype=out.data.dtype)
            if g.shape != out.data.shape:
                raise RuntimeError(
                    f"{who}: the gradient has shape {g.shape} but the output has shape "
                    f"{out.data.shape}; they must match."
                )
            g = g.astype(out.data.dtype, copy=False)
        seeds.append(g)
    return seeds


def backward(tensor, gradient=None, retain_graph: bool = False) -> None:
    """Fill ``.grad`` of every leaf that requires grad with d(tensor)/d(leaf)."""
    seeds = _seed_gradients([tensor], [gradient], "backward")
    _run_backward([tensor], seeds, retain_graph)


def grad(
    outputs, inputs, grad_outputs=None, retain_graph: bool = False, allow_unused: bool = False
):
    """Gradients of ``outputs`` with respect to ``inputs``, leaving every ``.grad`` untouched.

    Like ``torch.autograd.grad``: returns a tuple with one Tensor per input.

    >>> x = ds.tensor(3.0, requires_grad=True)
    >>> ds.grad(x * x, [x])
    (tensor(6.),)
    """
    from .tensor import Tensor

    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is not None:
        # One gradient per output, as torch.autograd.grad: a list, or one alone for one output.
        if not isinstance(grad_outputs, (list, tuple)):
            grad_outputs = [grad_outputs]
        if len(grad_outputs) != len(outputs):
            raise RuntimeError(
                f"grad: got {len(grad_outputs)} grad_outputs for {len(outputs)} output(s); "
                f"give one gradient per output (None for a scalar output)."
            )
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad, so it has no gradient.")
    seeds = _seed_gradients(outputs, grad_outputs, "grad")
    found = _run_backward(outputs, seeds, retain_graph, accumulate_into=inputs)
    result = []
    for i, t in enumerate(inputs):
        g = found.get(id(t))
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"grad: input {i} was not used to compute the outputs; pass "
                    f"allow_unused=True to get None for it."
                )
            result.append(None)
        else:
            result.append(Tensor._make(g))
    return tuple(result)
