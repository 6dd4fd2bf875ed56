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
import itertools
import threading
import weakref
from heapq import heappop, heappush
from itertools import compress
from operator import attrgetter

import numpy as np

__all__ = [
    "Function", "Context", "no_grad", "enable_grad", "inference_mode", "set_grad_enabled",
    "is_grad_enabled", "backward", "grad",
    "check_rule", "next_seq", "Node", "AccumulateGrad", "bump_version", "version_of",
]  # fmt: skip


class _GradMode(threading.local):
    enabled = True


_grad_mode = _GradMode()


def is_grad_enabled() -> bool:
    """True when operations record the graph for backpropagation."""
    return _grad_mode.enabled


class _SetGradMode:
    """Context manager and decorator that sets the grad mode and restores it.

    As a decorator it works with parentheses (``@ds.no_grad()``) and without
    (``@ds.no_grad``): called with a function instead of its arguments, the class
    returns the function wrapped.
    """

    mode = True

    def __new__(cls, *args, **kwargs):
        if len(args) == 1 and not kwargs and callable(args[0]) and cls._bare:
            return cls()(args[0])
        return super().__new__(cls)

    _bare = True  # whether ``@cls`` (no parentheses) decorates

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
    """Operations inside record no graph: ``with ds.no_grad():``, ``@ds.no_grad`` or
    ``@ds.no_grad()``."""

    mode = False


class enable_grad(_SetGradMode):  # noqa: N801 - PyTorch's name
    """Turns graph recording back on inside a ``no_grad`` block."""

    mode = True


class inference_mode(_SetGradMode):  # noqa: N801 - PyTorch's name
    """PyTorch's inference mode, which here is ``no_grad``: nothing inside records a graph.

    ``inference_mode(False)`` turns recording on, as in PyTorch. A context manager and a
    decorator, with or without parentheses.
    """

    def __init__(self, mode: bool = True):
        self.mode = not mode


class set_grad_enabled(_SetGradMode):  # noqa: N801 - PyTorch's name
    """Turn graph recording on or off: ``ds.set_grad_enabled(False)`` sets it at once;
    ``with ds.set_grad_enabled(mode):`` (and ``@ds.set_grad_enabled(mode)``) set it for
    the block and restore it after."""

    _bare = False

    def __init__(self, mode: bool):
        self._prev = _grad_mode.enabled
        self.mode = bool(mode)
        _grad_mode.enabled = self.mode

    def __enter__(self):  # the mode before the call is the one to restore
        _grad_mode.enabled = self.mode
        return self

    def __call__(self, fn):
        _grad_mode.enabled = self._prev  # as a decorator, only the calls change the mode
        return super().__call__(fn)


# Numbers the Contexts in the order their ops run (thread-safe: count is atomic in CPython).
# The hot paths call ``next(_seq)``: the builtin takes half the time of the bound
# ``__next__``, which CPython calls through a tuple of arguments.
_seq = itertools.count()
_next_seq = _seq.__next__


def next_seq() -> int:
    """A fresh number from the sequence that numbers ops as they run (``Context.seq``).

    Every op made before the call has a smaller number and every op made after it a
    larger one, so two calls bracket the ops run between them (how ``ds.viz`` tells which
    module call an op ran inside).
    """
    return _next_seq()


class Context:
    """What one application of a Function remembers for its backward rule.

    Rules may store their own attributes on it (``ctx.dim = dim``).
    """

    __slots__ = (
        "fn", "inputs", "needs_input_grad", "saved_tensors", "freed", "seq", "buffers",
        "__dict__",
    )  # fmt: skip

    def __init__(self, fn: type[Function], inputs: tuple, needs_input_grad: tuple):
        self.seq = _next_seq()  # ops run in this order: backward walks it in reverse
        self.fn = fn
        self.inputs = inputs  # the positional arguments of forward; Tensors stay Tensors
        self.needs_input_grad = needs_input_grad
        self.saved_tensors: tuple = ()
        self.freed = False

    def __setstate__(self, state) -> None:
        # A graph rebuilt by copy.deepcopy or pickle: its numbers came from where it was
        # built, so it is numbered afresh here. Both rebuild an op's inputs before the op.
        extra, slots = state if isinstance(state, tuple) else (state, None)
        for name, value in (slots or {}).items():
            setattr(self, name, value)
        if extra:
            self.__dict__.update(extra)
        self.seq = _next_seq()

    def save_for_backward(self, *arrays) -> None:
        self.saved_tensors = arrays

    def buffer(self, key, like: np.ndarray, shape: tuple | None = None, dtype=None):
        """Where a rule may write an array it makes, shaped, typed and laid out in memory
        like ``like`` (a C-ordered array of ``shape`` when given; ``dtype`` may differ):
        ``np.exp(x, out=ctx.buffer("out", x))``.

        Here it is None, so NumPy allocates as it does without ``out=``. In a step
        replayed by ``ds.compile`` (``compile._ReplayContext``) it is the same array on
        every replay once nothing else holds it, so the replay allocates nothing after its
        first run. ``key`` names the array among the rule's (its forward and backward
        share one set of keys). Without ``dtype``, only a float or complex ``like`` gets an
        array (an integer input's ``np.exp`` is a float); otherwise None.

        NOTE: a rule that asks for a buffer writes its whole result into it and keeps no
        reference to it beyond what it returns and saves: the replay reuses it.
        """
        return None

    def release(self) -> None:
        """Drop saved values and graph edges once backward no longer needs them."""
        self.saved_tensors = ()
        self.inputs = ()
        self.freed = True
        self.__dict__.clear()

    @property
    def name(self) -> str:
        return self.fn.__name__


# ---------------------------------------------------------------------------------
# Versions: which arrays were changed in place, and when
#
# NOTE: PyTorch gives every tensor a version counter that each in-place op bumps, and
# records the versions of what an op saves, so backward can refuse a saved value that
# changed since. Recording at save time costs every op; here the forward pays nothing.
# An in-place change stamps the array's memory (its owning array, so a view, a
# ``detach()`` and the tensor share one counter) with a fresh number from the sequence
# that numbers the ops (``Context.seq``). A value a rule saved was changed after its op
# ran exactly when its memory carries a stamp larger than the op's number. backward looks
# only when some change came after the oldest op of its graph (one comparison), so a
# graph that nothing changed in place is walked as before.


class _Versions:
    """The in-place changes of one array's memory: how many, and the op numbers of the
    latest ones (enough to say which version an op saw)."""

    __slots__ = ("count", "stamps")

    def __init__(self):
        self.count = 0
        self.stamps: list[int] = []

    def at(self, seq: int) -> str:
        """The version the memory had when the op numbered ``seq`` ran, as the error says
        it (only a bound once the stamps of changes after that op were let go)."""
        later = sum(1 for s in self.stamps if s > seq)
        version = self.count - later
        if later == len(self.stamps) and self.count > later:  # older stamps let go
            return f"{version} or lower"
        return str(version)


_KEPT_STAMPS = 1024  # the latest changes remembered per array (a version needs no more)
_versions: dict[int, _Versions] = {}  # id of an owning array -> its changes
_last_change = -1  # the number of the latest in-place change of any array


def _owner(array: np.ndarray) -> np.ndarray:
    """The array that owns ``array``'s memory: itself, or the base its views share."""
    base = array.base
    while isinstance(base, np.ndarray):
        array, base = base, base.base
    return array


def bump_version(*arrays: np.ndarray) -> None:
    """Note that the memory of each array is about to change in place (in-place methods,
    item assignment and optimizer steps call this); backward then refuses a saved value
    that shares the memory and was saved before the change."""
    global _last_change
    seq = _last_change = next(_seq)
    for array in arrays:
        base = array.base
        owner = array if base is None else _owner(base)
        key = id(owner)
        record = _versions.get(key)
        if record is None:
            record = _versions[key] = _Versions()
            weakref.finalize(owner, _versions.pop, key, None)  # forgotten with the memory
        record.count += 1
        stamps = record.stamps
        stamps.append(seq)
        if len(stamps) > _KEPT_STAMPS:
            del stamps[: _KEPT_STAMPS // 2]


def version_of(array: np.ndarray) -> int:
    """How many in-place changes ``array``'s memory has had (PyTorch's ``_version``)."""
    record = _versions.get(id(_owner(array)))
    return 0 if record is None else record.count


def _check_versions(made: list) -> None:
    """Refuse a graph in which a value that a rule will read changed after its op ran.

    ``made``: the op outputs of the graph, in the order their ops ran. What a rule reads
    is what it saved with ``save_for_backward``; ``Function.saved_for`` narrows that to
    the values the needed gradients read.
    """
    for t in made:
        if t._ctx.seq > _last_change:
            break  # every later op ran after the latest change
        _check_saved(t)


def _check_saved(t) -> None:
    """Refuse the op that made ``t`` if a value its rule will read changed after it ran."""
    ctx = t._ctx
    seq = ctx.seq
    saved_for = ctx.fn.saved_for
    needs = ctx.needs_input_grad
    for k, value in enumerate(ctx.saved_tensors):
        if value.__class__ is not np.ndarray:
            continue
        if saved_for is not None and not any(needs[i] for i in saved_for[k]):
            continue
        record = _versions.get(id(_owner(value)))
        if record is not None and record.stamps[-1] > seq:
            raise _modified_error(t, value, record)


_TENSOR_TYPES = {
    "float16": "HalfTensor", "float32": "FloatTensor", "float64": "DoubleTensor",
    "int8": "CharTensor", "int16": "ShortTensor", "int32": "IntTensor",
    "int64": "LongTensor", "uint8": "ByteTensor", "bool": "BoolTensor",
}  # fmt: skip


def _modified_error(t, value: np.ndarray, record: _Versions) -> RuntimeError:
    """PyTorch's error for a saved value changed in place, naming descent's ops."""
    ctx = t._ctx
    owner = _owner(value)
    # the tensor the value belongs to: the op's output, or one of its inputs
    whose, role = None, "a value"
    for i, cand in enumerate((t, *ctx.inputs)):
        if isinstance(cand, Tensor) and _owner(cand._data) is owner:
            whose, role = cand, "its output" if i == 0 else f"its input {i - 1}"
            break
    shape = list((whose._data if whose is not None else value).shape)
    kind = _TENSOR_TYPES.get(value.dtype.name, value.dtype.name)
    made_by = ""
    if whose is not None and whose._ctx is not None:
        made_by = f", which is output 0 of {whose._ctx.name}Backward0,"
    return RuntimeError(
        f"one of the variables needed for gradient computation has been modified by an "
        f"inplace operation: [descent.{kind} {shape}]{made_by} is at version "
        f"{record.count}; expected version {record.at(ctx.seq)} instead. {ctx.name} saved "
        f"{role} for its backward, and it was changed in place after {ctx.name} ran (an "
        f"in-place method such as add_, item assignment, or an optimizer step, on it, a "
        f"view of it or its detach()). Change it only after the backward that needs it, "
        f"compute the new value out of place (y = y + 1), or change a .clone() of it."
    )


# ---------------------------------------------------------------------------------
# The graph as PyTorch shows it: ``grad_fn``, ``next_functions``, ``AccumulateGrad``

# One node per Context (or leaf) while anyone holds it, so ``y.grad_fn is y.grad_fn``
# and a walk over the graph meets each node once. The node holds its Context (or leaf)
# and the dictionary only a weak reference to the node: nothing refers back, so no
# cycle, and the key (an id) is unique while its value lives.
_nodes: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


class Node:
    """The node of the graph that made a tensor (``t.grad_fn``), as PyTorch shows it.

    Made on first read from the op's Context, so the forward pays nothing for it.
    ``name()`` is PyTorch's name for the node of that op, ``Backward0`` after the op's
    name (``MeanBackward0``); ``next_functions`` has one ``(node, 0)`` pair per
    positional input of the op: the node that made the input, an ``AccumulateGrad``
    for a leaf that requires grad, ``(None, 0)`` for an input that needs no gradient.

    The edges are read when the node is made, so a node made before ``backward`` keeps
    them after the walk frees the graph; one first made from a freed graph has none.
    """

    __slots__ = ("_ctx", "_edges", "_next", "__weakref__")

    def __init__(self, ctx: Context):
        self._ctx = ctx
        self._edges = tuple(
            (inp._ctx if inp._ctx is not None else inp) if need else None
            for inp, need in zip(ctx.inputs, ctx.needs_input_grad)
        )
        self._next = None

    def name(self) -> str:
        return self._ctx.fn.__name__ + "Backward0"

    @property
    def next_functions(self) -> tuple:
        nxt = self._next
        if nxt is None:
            nxt = self._next = tuple((None if e is None else _node(e), 0) for e in self._edges)
        return nxt

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"


class AccumulateGrad:
    """The node that adds a leaf's gradient into its ``.grad``; ``variable`` is the leaf."""

    __slots__ = ("variable", "__weakref__")

    next_functions = ()

    def __init__(self, variable):
        self.variable = variable

    def name(self) -> str:
        # PyTorch's name, ``torch::autograd::AccumulateGrad``, in descent's namespace
        return "descent::autograd::AccumulateGrad"

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {id(self):#x}>"


def _node(of):
    """The one node of a Context (a ``Node``) or of a leaf (an ``AccumulateGrad``)."""
    key = id(of)
    node = _nodes.get(key)
    if node is None:
        node = Node(of) if isinstance(of, Context) else AccumulateGrad(of)
        _nodes[key] = node
    return node


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

    ``saved_for``, when a rule sets it, says which gradients read each saved value:
    one tuple of input positions per value of ``save_for_backward`` (Mul saves ``a, b``
    and sets ``((1,), (0,))``: b's gradient reads a, a's reads b). backward refuses a
    saved value changed in place only when a gradient it computes reads it; None means
    every gradient reads every saved value.
    """

    saved_for: tuple | None = None

    @staticmethod
    def forward(ctx: Context, *args, **options):
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        raise NotImplementedError

    # The same rule written with Tensor operations, for backward with create_graph=True:
    # ``backward_graph(ctx, grad, out)`` gets the output's gradient and the output as
    # Tensors (the inputs are ``ctx.inputs``) and returns Tensors, so the gradients it
    # makes are themselves in a graph and can be differentiated again. Every built-in op
    # has one; a custom Function without one is run as described in ``_custom_rule``.
    backward_graph = None

    @classmethod
    def apply(cls, *args, **options):
        # NOTE: this runs once per op, so it is written for speed: no per-call imports,
        # no graph bookkeeping unless an input needs a gradient and grad mode is on, and
        # the Context and the output Tensor filled in here rather than through their
        # constructors (a call each, measured at 5% of a tiny op). Ops of one and two
        # positional inputs (nearly all) unpack them by name and call forward without
        # ``*``/``**`` (building the argument lists and the call through them took a
        # sixth of a tiny op); any other count takes the loop.
        ctx = _new(Context)
        ctx.seq = next(_seq)  # ops run in this order: backward walks it in reverse
        ctx.fn = cls
        ctx.inputs = args
        ctx.saved_tensors = ()
        ctx.freed = False
        n = len(args)
        if n == 2:
            a, b = args
            if isinstance(a, Tensor):
                need_a = a.requires_grad
                a = a._data
            else:
                need_a = False
            if isinstance(b, Tensor):
                need_b = b.requires_grad
                b = b._data
            else:
                need_b = False
            record = (need_a or need_b) and _grad_mode.enabled
            ctx.needs_input_grad = (need_a, need_b) if record else (False, False)
            out = cls.forward(ctx, a, b, **options) if options else cls.forward(ctx, a, b)
        elif n == 1:
            (a,) = args
            if isinstance(a, Tensor):
                need_a = a.requires_grad
                a = a._data
            else:
                need_a = False
            record = need_a and _grad_mode.enabled
            ctx.needs_input_grad = (need_a,) if record else (False,)
            out = cls.forward(ctx, a, **options) if options else cls.forward(ctx, a)
        else:
            arrays, needs = [], []  # one loop for both (cheaper than two comprehensions)
            for a in args:
                if isinstance(a, Tensor):
                    arrays.append(a._data)
                    needs.append(a.requires_grad)
                else:
                    arrays.append(a)
                    needs.append(False)
            record = True in needs and _grad_mode.enabled
            ctx.needs_input_grad = tuple(needs) if record else (False,) * n
            out = cls.forward(ctx, *arrays, **options)
        if out.__class__ is not np.ndarray:
            out = np.asarray(out)
        t = _new(Tensor)
        t._data = out
        t._grad = None
        t._retains_grad = False
        t._pending = None
        if record:
            t._ctx = ctx
            t.requires_grad = True
        else:
            t._ctx = None
            t.requires_grad = False
        return t


_new = object.__new__


# ---------------------------------------------------------------------------------
# The engine


def _topological_order(roots) -> list:
    """Tensors reachable from ``roots`` through graph edges, inputs before outputs.

    One iterative walk finds them (so a graph of any depth is fine); the leaves come
    first, then the op outputs in the order their ops ran (``Context.seq``), which puts
    every tensor before the ops that consumed it.
    """
    leaves, made = [], []
    seen = set()
    mark = seen.add
    stack = list(roots)
    extend, pop = stack.extend, stack.pop
    while stack:
        t = pop()
        key = id(t)
        if key in seen:
            continue
        mark(key)
        ctx = t._ctx
        if ctx is None:  # a leaf has no inputs to wait for
            leaves.append(t)
            continue
        if ctx.freed:
            raise _freed_error(ctx)
        made.append(t)
        extend(compress(ctx.inputs, ctx.needs_input_grad))  # the inputs that need a gradient
    made.sort(key=_run_order)
    if made and _last_change > made[0]._ctx.seq:  # something changed after the graph began
        _check_versions(made)
    return leaves + made


_run_order = attrgetter("_ctx.seq")


def _freed_error(ctx: Context) -> RuntimeError:
    return RuntimeError(
        f"Trying to backward through the graph a second time: the graph behind "
        f"'{ctx.name}' was freed by an earlier backward. Pass retain_graph=True "
        f"to the first backward() or ds.grad() call if you need to walk it again."
    )


def _bad_count(ctx: Context, grads: tuple) -> None:
    n = len(ctx.inputs)
    raise RuntimeError(
        f"{ctx.name}.backward returned {len(grads)} gradient(s) but forward took {n} "
        f"positional input(s); return one gradient per input (None where there is none)."
    )


def _checked_gradient(ctx: Context, i: int, g, data: np.ndarray) -> np.ndarray:
    """The engine's check of one gradient a rule returned: its input's shape and dtype.

    A Tensor (from a custom rule) is unwrapped; anything else of the wrong shape or dtype
    is an error that names the op.
    """
    if not isinstance(g, np.ndarray):
        g = np.asarray(getattr(g, "_data", g))
    if g.shape != data.shape:
        raise RuntimeError(
            f"{ctx.name}.backward returned a gradient of shape {tuple(g.shape)} for input {i}, "
            f"whose shape is {tuple(data.shape)}; a gradient must have its input's shape."
        )
    if g.dtype != data.dtype:
        raise RuntimeError(
            f"{ctx.name}.backward returned a gradient of dtype {g.dtype} for input {i}, "
            f"whose dtype is {data.dtype}; a gradient must have its input's dtype."
        )
    return g


def check_rule(ctx: Context, grads) -> tuple:
    """A backward rule's answer checked as the engine checks it: one gradient per input,
    each with its input's shape and dtype (None where the input needs none).

    Raises the engine's error, naming the op, when the rule is wrong. For code that calls
    a rule itself (``ds.viz.explain`` finds each edge's local derivative this way)::

        grads = ds.autograd.check_rule(ctx, ctx.fn.backward(ctx, upstream))
    """
    if grads.__class__ is not tuple:
        grads = (grads,)
    if len(grads) != len(ctx.inputs):
        _bad_count(ctx, grads)
    return tuple(
        None if not need or g is None else _checked_gradient(ctx, i, g, inp._data)
        for i, (inp, need, g) in enumerate(zip(ctx.inputs, ctx.needs_input_grad, grads))
    )


def _run_backward(
    outputs, grad_outputs, retain_graph: bool, accumulate_into=None, create_graph: bool = False
):
    """Backpropagate from ``outputs``; return the gradients of the tensors asked for.

    ``accumulate_into`` None: every leaf that requires grad gets ``.grad += g``
    (``Tensor.backward``). Otherwise a list of tensors whose gradients are returned and no
    ``.grad`` is touched (``ds.grad``).

    Gradients on their way are kept on the tensors themselves (``_pending``), summed as
    each consumer's rule delivers its share, and taken off when the walk reaches them.
    """
    wanted = None if accumulate_into is None else {id(t) for t in accumulate_into}
    if not create_graph:
        with no_grad():
            return _walk(outputs, grad_outputs, wanted, retain_graph)
    order = _topological_order(outputs)
    for out, g in zip(outputs, grad_outputs):
        out._pending = g if out._pending is None else _plus(out._pending, g)
    try:
        with enable_grad():
            return _walk_graph(order, wanted, retain_graph)
    except BaseException:
        for t in order:  # a walk that failed half-way leaves no gradients behind
            t._pending = None
        raise


def _walk(outputs: list, seeds: list, wanted: set | None, retain_graph: bool) -> dict:
    """The backward walk of ``_run_backward`` on arrays; returns the wanted gradients.

    NOTE: the walk orders the graph as it goes, so it needs no pass of its own (that pass
    took a sixth of a tiny op's time): the op outputs that a gradient has reached wait in
    a heap keyed by their op's number, and the latest op runs first. An op ran after
    every op whose output it used, so when the heap hands out a tensor, every consumer's
    share of its gradient has arrived. Leaves wait in a list until the ops are done. An
    op whose memory of saved values changed, or whose graph was freed, is refused when the
    walk reaches it, as PyTorch refuses it.
    """
    heap, leaves = [], []
    for out, g in zip(outputs, seeds):
        if out._pending is not None:
            out._pending = _plus(out._pending, g)
            continue
        out._pending = g
        ctx = out._ctx
        if ctx is None:
            leaves.append(out)
        else:
            heappush(heap, (-ctx.seq, out))
    try:
        return _walk_heap(heap, leaves, wanted, retain_graph)
    except BaseException:
        for _, t in heap:  # a walk that failed half-way leaves no gradients behind
            t._pending = None
        for t in leaves:
            t._pending = None
        raise


def _walk_heap(heap: list, leaves: list, wanted: set | None, retain_graph: bool) -> dict:
    # NOTE: a tensor that a gradient reaches while no other op output waits (every step
    # of a chain) is held in ``sole`` rather than pushed and popped: with nothing else
    # waiting it is the latest op. A second one to wait sends it to the heap, so ``sole``
    # is set only while the heap is empty. (The heap's traffic was 3% of a tiny op.)
    sole = t = None
    found: dict[int, np.ndarray] = {}
    try:
        while True:
            if sole is not None:
                t = sole
                sole = None
            elif heap:
                t = heappop(heap)[1]
            else:
                break
            ctx = t._ctx
            if ctx.freed:
                raise _freed_error(ctx)
            if ctx.seq < _last_change:  # something changed in place after this op ran
                _check_saved(t)
            g = t._pending
            t._pending = None
            if wanted is not None:
                if id(t) in wanted:
                    found[id(t)] = g
            elif t._retains_grad:  # g also flows on through ctx's rule: keep a copy
                t._grad = make_tensor(g.copy() if t._grad is None else _plus(t._grad._data, g))
            # NOTE: the check of check_rule, written into this loop: calling check_rule
            # for every node (its loop, then this one) made backward through a chain of
            # small ops 4-5% slower. Its two failures are the same functions (_bad_count,
            # _checked_gradient); the test in front of _checked_gradient skips the call
            # for an ndarray of the right shape and dtype.
            input_grads = ctx.fn.backward(ctx, g)
            if input_grads.__class__ is not tuple:
                input_grads = (input_grads,)
            inputs = ctx.inputs
            if len(input_grads) != len(inputs):
                _bad_count(ctx, input_grads)
            given = None  # the arrays already handed to an input of this node, once two are
            for inp, need, ig in zip(inputs, ctx.needs_input_grad, input_grads):
                if ig is None or not need:
                    continue
                data = inp._data
                # the dtype test by identity first: NumPy's dtypes of one kind are one object
                if (
                    ig.__class__ is not np.ndarray
                    or ig.shape != data.shape
                    or (ig.dtype is not data.dtype and ig.dtype != data.dtype)
                ):
                    i = next(k for k, x in enumerate(inputs) if x is inp)
                    ig = _checked_gradient(ctx, i, ig, data)
                # NOTE: a rule may hand one array to two inputs (Add returns grad twice);
                # the second gets a copy, so no two gradients share memory and a leaf can
                # keep its gradient uncopied (optimizers and clipping change .grad in
                # place).
                if given is None:
                    given = ig  # the first: no list made for a node with one input to feed
                elif given.__class__ is not list:
                    if ig is given:
                        ig = ig.copy()
                    given = [given, ig]
                elif any(ig is x for x in given):
                    ig = ig.copy()
                else:
                    given.append(ig)
                pending = inp._pending
                if pending is not None:
                    ig = pending + ig  # of two 0-d arrays, a NumPy scalar: an array again
                    if ig.__class__ is not np.ndarray:
                        ig = np.asarray(ig)
                elif inp._ctx is None:  # the first share to reach this tensor
                    leaves.append(inp)
                elif sole is None and not heap:
                    sole = inp
                else:
                    if sole is not None:
                        heappush(heap, (-sole._ctx.seq, sole))
                        sole = None
                    heappush(heap, (-inp._ctx.seq, inp))
                inp._pending = ig
            if not retain_graph:  # ctx.release(), written out: a call per node saved
                ctx.saved_tensors = ()
                ctx.inputs = ()
                ctx.freed = True
                # the rule's own attributes dropped with their dict: reading __dict__ to
                # clear it would first make one for the many rules that set none
                del ctx.__dict__
    except BaseException:
        # _walk clears what waits in the heap and the leaves; the node that failed and
        # the one held aside are cleared here
        for held in (t, sole):
            if held is not None:
                held._pending = None
        raise
    for t in leaves:  # every op is done: each leaf's gradient is complete
        g = t._pending
        t._pending = None
        if wanted is None:
            t._grad = make_tensor(g if t._grad is None else _plus(t._grad._data, g))
        elif id(t) in wanted:
            found[id(t)] = g
    return found


def _plus(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a + b`` as an array: NumPy's sum of two 0-d arrays is a NumPy scalar, and a
    gradient must stay an array (``.grad.zero_()`` writes into it)."""
    s = a + b
    return s if s.__class__ is np.ndarray else np.asarray(s)


def _walk_graph(order: list, wanted: set | None, retain_graph: bool) -> dict:
    """``_walk`` with Tensors for gradients: every rule runs as ``backward_graph``, whose
    Tensor operations record a graph, and gradients are summed with Tensor ``+``; so the
    gradients found (and a leaf's ``.grad``) can be differentiated again.

    The walk is ``_walk``'s; it is written apart so that the first-order walk, the one
    every training step runs, pays nothing for this one.
    """
    found: dict[int, Tensor] = {}
    for t in reversed(order):
        g = t._pending
        if g is None:
            continue
        t._pending = None
        ctx = t._ctx
        # NOTE: a new .grad is a clone (differentiable), as PyTorch's: a rule may hand one
        # Tensor to two inputs (Add) or pass the seed on (a view), and two .grad sharing
        # memory would let an in-place change of one (zero_, clipping) change the other.
        if ctx is None:
            if wanted is None:
                t._grad = g.clone() if t._grad is None else t._grad + g
            elif id(t) in wanted:
                found[id(t)] = g
            continue
        if wanted is not None:
            if id(t) in wanted:
                found[id(t)] = g
        elif t._retains_grad:
            t._grad = g.clone() if t._grad is None else t._grad + g
        rule = ctx.fn.backward_graph
        if rule is None:
            input_grads = _custom_rule(ctx, g, t)
        else:
            input_grads = rule(ctx, g, t)
        if input_grads.__class__ is not tuple:
            input_grads = (input_grads,)
        inputs = ctx.inputs
        if len(input_grads) != len(inputs):
            _bad_count(ctx, input_grads)
        for i, (inp, need, ig) in enumerate(zip(inputs, ctx.needs_input_grad, input_grads)):
            if ig is None or not need:
                continue
            if not isinstance(ig, Tensor):
                ig = _once_differentiable(ctx, ig, g)
            _checked_gradient(ctx, i, ig._data, inp._data)
            pending = inp._pending
            inp._pending = ig if pending is None else pending + ig
        if not retain_graph:
            ctx.release()
    return found


def _custom_rule(ctx: Context, grad: Tensor, out: Tensor) -> tuple:
    """A custom Function's ``backward`` run for ``create_graph=True``.

    The rule is called with Tensors: the output's gradient, and in ``ctx.saved_tensors``
    the Tensors whose arrays forward saved (an input's array becomes that input, the
    output's array the output), so a rule written with Tensor operations builds a graph
    and can be differentiated again. A rule that uses NumPy functions (which refuse
    Tensors) is run again on arrays; its gradients are right, and differentiating them
    once more is an error that names the op (``_once_differentiable``).
    """
    saved = ctx.saved_tensors
    by_array = {id(x._data): x for x in ctx.inputs if isinstance(x, Tensor)}
    by_array[id(out._data)] = out
    ctx.saved_tensors = tuple(by_array.get(id(s), s) for s in saved)
    try:
        grads = ctx.fn.backward(ctx, grad)
    except TypeError:
        grads = None
    finally:
        ctx.saved_tensors = saved
    if grads is None:
        with no_grad():
            grads = ctx.fn.backward(ctx, grad._data)
    return grads


class _NumpyGradient(Function):
    """A gradient that a NumPy-written rule computed: a value, not a graph. Its backward
    is reached only by differentiating it again, which is refused, naming the op."""

    @staticmethod
    def forward(ctx, *args, value, op):
        ctx.op = op
        return value

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError(
            f"{ctx.op}.backward is written with NumPy, so the gradient it gave cannot be "
            f"differentiated again; write {ctx.op}.backward with Tensor operations on "
            f"ctx.saved_tensors and grad (x.cos() rather than np.cos(x)) to take higher "
            f"derivatives through it."
        )

    backward_graph = None  # never differentiated: its backward refuses


def _once_differentiable(ctx: Context, value, grad: Tensor) -> Tensor:
    """A NumPy gradient as a Tensor that refuses to be differentiated again."""
    value = np.asarray(value)
    sources = [x for x in ctx.inputs if isinstance(x, Tensor) and x.requires_grad]
    return _NumpyGradient.apply(grad, *sources, value=value, op=ctx.name)


def _seed_gradients(outputs, grad_outputs, who: str, create_graph: bool = False) -> list:
    """The checked gradients that a backward walk starts from: arrays, or for
    ``create_graph`` Tensors (a Tensor given stays itself, so the gradients found can be
    differentiated with respect to it too, as ``gradgradcheck`` does)."""
    if create_graph:
        given = [None] * len(outputs) if grad_outputs is None else list(grad_outputs)
        arrays = _seed_gradients(outputs, grad_outputs, who)
        return [
            g if isinstance(g, Tensor) and g.dtype == a.dtype else make_tensor(a)
            for g, a in zip(given, arrays)
        ]
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
            if out._data.size != 1:
                raise RuntimeError(
                    f"{who}: gradient can be implicitly created only for scalar outputs, "
                    f"but the output has shape {out._data.shape}; pass a gradient of that shape "
                    f"or reduce the output first (e.g. .sum())."
                )
            g = np.ones_like(out._data)
        else:
            g = g._data if isinstance(g, Tensor) else np.asarray(g, dtype=out._data.dtype)
            if g.shape != out._data.shape:
                raise RuntimeError(
                    f"{who}: the gradient has shape {tuple(g.shape)} but the output has shape "
                    f"{out._data.shape}; they must match."
                )
            g = np.array(g, dtype=out._data.dtype)  # a copy: .grad must not alias it
        seeds.append(g)
    return seeds


def backward(
    tensor, gradient=None, retain_graph: bool | None = None, create_graph: bool = False
) -> None:
    """Fill ``.grad`` of every leaf that requires grad with d(tensor)/d(leaf).

    ``create_graph=True`` records the backward pass itself, so the ``.grad`` it leaves
    can be differentiated again; ``retain_graph`` defaults to ``create_graph`` (PyTorch's
    rule).
    """
    if retain_graph is None:
        retain_graph = create_graph
    seeds = _seed_gradients([tensor], [gradient], "backward", create_graph)
    _run_backward([tensor], seeds, retain_graph, create_graph=create_graph)


def grad(
    outputs,
    inputs,
    grad_outputs=None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
):
    """Gradients of ``outputs`` with respect to ``inputs``, leaving every ``.grad`` untouched.

    Like ``torch.autograd.grad``: returns a tuple with one Tensor per input. With
    ``create_graph=True`` the gradients are in a graph of their own (they require grad),
    so differentiating them gives second derivatives, and so on to any order;
    ``retain_graph`` defaults to ``create_graph``.

    >>> x = ds.tensor(3.0, requires_grad=True)
    >>> ds.grad(x * x, [x])
    (tensor(6.),)
    >>> (dx,) = ds.grad(x**3, [x], create_graph=True)   # 3 x^2 = 27
    >>> ds.grad(dx, [x])                                # 6 x = 18
    (tensor(18.),)
    """
    if retain_graph is None:
        retain_graph = create_graph
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
    seeds = _seed_gradients(outputs, grad_outputs, "grad", create_graph)
    found = _run_backward(
        outputs, seeds, retain_graph, accumulate_into=inputs, create_graph=create_graph
    )
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
            result.append(g if create_graph else make_tensor(g))
    return tuple(result)


# NOTE: imported last, because tensor.py imports this module; descent/__init__.py imports
# autograd first, so Function exists by the time tensor.py (and the ops) need it.
from ..tensor import Tensor, make_tensor  # noqa: E402
from . import functional  # noqa: E402, F401 - ds.autograd.functional, as torch.autograd.functional
