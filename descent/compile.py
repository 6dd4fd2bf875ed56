"""``ds.compile``: a step traced once by the eager engine, then replayed as one flat program.

TensorFlow 1's way, applied to an eager framework: the first call of ``step(*args)``
runs it with the ordinary engine (every rule checked as always) and records what ran,
in order: each op's ``forward`` with the Context it filled, each backward rule the walk
called, how the walk summed and copied gradients and what it added to each leaf's
``.grad``, the draws from descent's generator (``random.draw``) and the side effects
that code outside the op graph declared (``effect``: an optimizer's ``step`` and
``zero_grad``, a tensor's ``zero_grad``). The record becomes the source of one Python
function, compiled once, whose lines are those calls on local variables: no Tensor, no
Context, no topological order and no rule check per op. Later calls with the same
signature run that function, so a replay computes what eager computes, in the same
order, bit for bit.

The signature (the guard) is what the trace depended on and a replay cannot check:
the shapes and dtypes of Tensor and array arguments (and which Tensors require grad),
the value of every other argument, the grad mode, the ``training`` flag of every module
the step reaches (its ``self``, the closure, the globals it names, one attribute deep),
and the shape and dtype of each tensor the step reads from outside (the parameters). A
new signature is traced again; a few are kept (``cache_size``).

What a trace cannot see is refused while tracing, naming the user's line: reading a
tensor's values (``.item()``, ``float(t)``, ``bool(t)``, ``.numpy()``, ``.tolist()``,
printing), an in-place change outside a declared effect, a draw from the generator that
is not a ``random.draw``, ``backward(create_graph=True)``, ``retain_grad()``, and what
library code declares ``untraceable`` (a shape read from values). The
second call of a signature is traced again and compared with the first, so a step whose
operations depend on Python state (a counter in the closure) is an error, not a silent
replay of the first call.
"""

from __future__ import annotations

import functools
import os
import re
import sys
import threading

import numpy as np

from . import autograd as _autograd
from . import random as _random
from . import tensor as _tensor
from .autograd import Context, _grad_mode
from .tensor import Tensor, make_tensor

__all__ = ["compile", "CompiledStep", "CompileError", "effect", "tracing", "untraceable"]

_PACKAGE = os.path.dirname(os.path.abspath(__file__))


class CompileError(RuntimeError):
    """What ``ds.compile`` cannot trace or replay, said where it happened."""


_tracer: _Tracer | None = None  # the trace in progress (one at a time)


def tracing() -> bool:
    """True while a step is being traced by ``ds.compile`` (in the tracing thread)."""
    t = _tracer
    return t is not None and t.thread == threading.get_ident() and t.depth == 0


class _NoEffect:
    __slots__ = ()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


_NO_EFFECT = _NoEffect()


class _Effect:
    __slots__ = ("tracer",)

    def __init__(self, tracer):
        self.tracer = tracer

    def __enter__(self):
        self.tracer.depth += 1
        return self

    def __exit__(self, *exc):
        self.tracer.depth -= 1
        return False


def effect(replay, *args, **kwargs):
    """Declare a side effect outside the op graph for ``ds.compile``:
    ``with effect(replay, *args): ...`` runs the block as usual and, while a step is
    traced, records ``replay(*args, **kwargs)`` to run at this point of every replay (its
    in-place changes inside the block are then allowed). Tensors and arrays among the
    arguments that the step computed or took as inputs are replaced by the replay's.
    Outside a trace it costs one check. Optimizers declare their ``step`` this way, so
    every optimizer, a user's own included, works compiled.
    """
    t = _tracer
    if t is None or t.thread != threading.get_ident() or t.depth:
        return _NO_EFFECT
    t.record_effect(replay, args, kwargs)
    return _Effect(t)


def _user_line() -> str:
    """``file:line`` of the innermost frame outside the descent package."""
    frame = sys._getframe(1)
    while frame is not None:
        path = os.path.abspath(frame.f_code.co_filename)
        if not path.startswith(_PACKAGE + os.sep):
            return f"{frame.f_code.co_filename}:{frame.f_lineno}"
        frame = frame.f_back
    return "<unknown>"


def _from_user() -> bool:
    """Whether the frame that called a Tensor method (two up) is outside descent."""
    path = os.path.abspath(sys._getframe(2).f_code.co_filename)
    return not path.startswith(_PACKAGE + os.sep)


def _refuse(what: str, fix: str) -> CompileError:
    return CompileError(f"ds.compile: {what} inside a compiled step ({_user_line()}); {fix}")


def untraceable(what: str, fix: str) -> None:
    """Refuse ``what`` while a step is traced (a ``CompileError`` naming the user's line and
    ``fix``); nothing otherwise. For library code whose result a replay cannot repeat: a
    shape read from values (``F.one_hot`` inferring the number of classes)."""
    t = _tracer
    if t is not None and t.thread == threading.get_ident() and t.depth == 0:
        raise _refuse(what, fix)


_READ_FIX = (
    "a compiled step replays the same operations on every call, so it cannot decide "
    "anything by the values it computes. Return the tensor from the step and read it "
    "after the call, or leave this step uncompiled."
)


# ---------------------------------------------------------------------------------
# The trace: the engine's entry points, watched while a step runs once


def _arrays_in(value) -> list:
    """The arrays in a constant: itself, or those in a tuple or list (an index)."""
    if value.__class__ is np.ndarray:
        return [value]
    if value.__class__ in (tuple, list):
        return [a for v in value for a in _arrays_in(v)]
    return []


_refcount = sys.getrefcount


def _held_by_one() -> int:
    """What ``getrefcount`` says of an array held by one dict and one local name,
    measured as ``_ReplayContext.buffer`` reads it (3 on CPython 3.11)."""
    kept = {0: np.empty(0)}
    b = kept.get(0)
    return _refcount(b)


_FREE = _held_by_one()  # a kept array with this count is held by nothing else


def _plus(a, b):
    s = a + b
    return s if s.__class__ is np.ndarray else np.asarray(s)


def _ones(kept, like: np.ndarray) -> np.ndarray:
    """Ones like ``like`` (a backward's seed) in the array that ``kept``, a
    ``_ReplayContext`` of no op, keeps for it; refilled, as a rule or a clipping may have
    changed it since."""
    b = kept.buffer("ones", like)
    if b is None:
        return np.ones_like(like)
    b.fill(1)
    return b


def _seed_store():
    """The ``_ReplayContext`` that keeps one seed's array (see ``_ones``)."""
    store = _ReplayContext.__new__(_ReplayContext)
    store.buffers = {}
    return store


def _as_array(g):
    return g if g.__class__ is np.ndarray else np.asarray(getattr(g, "_data", g))


def _grad_into(t: Tensor, g: np.ndarray) -> None:
    """A leaf's ``.grad`` after the walk delivers ``g``, as the engine's walk leaves it."""
    old = t._grad
    t._grad = make_tensor(g if old is None else _plus(old._data, g))


class _Tracer:
    """The record of one step's run: lines of the replay function and its constants."""

    def __init__(self):
        self.thread = threading.get_ident()
        self.depth = 0  # > 0 inside a declared effect: nothing is recorded there
        self.lines: list[str] = []  # the replay's lines, in order
        self.ns: dict = {
            "_mk": make_tensor, "_np": np, "_plus": _plus, "_as_array": _as_array,
            "_grad_into": _grad_into, "_ones": _ones,
        }  # fmt: skip
        self.names: dict[int, str] = {}  # id(array) -> the local that holds it
        self.keep: list = []  # every array named, alive until the trace ends (unique ids)
        self.consts: dict[int, str] = {}
        self.inputs: dict[int, str] = {}  # id(Tensor argument) -> its local
        self.shells: dict[str, Tensor] = {}  # local -> the Tensor a Context's inputs see
        self.contexts: list[tuple[Context, tuple]] = []
        self.released: set[int] = set()  # ids of Contexts whose release is emitted
        self.externals: dict[int, Tensor] = {}
        self.shape: list = []  # what the program is, for comparing two traces
        self.count = 0

    # ---- names ------------------------------------------------------------------
    def fresh(self, prefix: str = "v") -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def name(self, array, prefix: str = "v") -> str:
        n = self.fresh(prefix)
        self.names[id(array)] = n
        self.keep.append(array)
        return n

    def const(self, value, prefix: str = "k") -> str:
        arrays = _arrays_in(value)
        if arrays:  # their values join the comparison of two traces: an array that the
            # step computed outside the op graph differs between them
            for a in arrays:
                self.shape.append(("array", a.shape, a.dtype.str, hash(a.tobytes())))
        n = self.consts.get(id(value))
        if n is None:
            n = self.consts[id(value)] = self.fresh(prefix)
            self.ns[n] = value
            self.keep.append(value)
        return n

    def tensor_array(self, t: Tensor) -> str:
        """The expression of a Tensor's array in the replay."""
        n = self.names.get(id(t._data))
        if n is not None:
            return n
        if id(t) not in self.externals:
            self.externals[id(t)] = t
        self.shape.append(("ext", t._data.shape, t._data.dtype.str))
        return f"{self.const(t, 'e')}._data"

    def value(self, v) -> str:
        """The expression of an argument of an effect or of the step's result."""
        if isinstance(v, Tensor):
            n = self.inputs.get(id(v))
            if n is not None:
                return n
            a = self.names.get(id(v._data))
            if a is not None:
                return f"_mk({a})"
            return self.const(v)
        if v.__class__ is np.ndarray:
            n = self.names.get(id(v))
            return n if n is not None else self.const(v)
        if v.__class__ in (tuple, list):
            inner = "".join(f"{self.value(x)}, " for x in v)
            return f"({inner})" if v.__class__ is tuple else f"[{inner}]"
        if v.__class__ is dict:
            return "{" + "".join(f"{self.const(k)}: {self.value(x)}, " for k, x in v.items()) + "}"
        if v is None or v is True or v is False:
            return repr(v)
        return self.const(v)

    def shell(self, n: str, like: Tensor) -> Tensor:
        """The Tensor a Context's inputs hold for local ``n`` at replay (rules read the
        arrays of their inputs), given the local's array just before the op that uses it."""
        s = self.shells.get(n)
        if s is None:
            s = self.shells[n] = make_tensor(like._data, None, like.requires_grad)
            self.lines.append(f"{self.const(s, 's')}._data = {n}")
        return s

    def option(self, v) -> str:
        """The expression of an op's keyword option: the local of an array the step
        computed, also inside a tuple or list (an index of labels), else a constant."""
        if v.__class__ is np.ndarray:
            n = self.names.get(id(v))
            return n if n is not None else self.const(v)
        if v.__class__ in (tuple, list) and any(id(a) in self.names for a in _arrays_in(v)):
            inner = "".join(f"{self.option(x)}, " for x in v)
            return f"({inner})" if v.__class__ is tuple else f"[{inner}]"
        return self.const(v)

    # ---- the forward: Function.apply ---------------------------------------------
    def apply(self, cls, args, options):
        exprs, seen, arrays, needs = [], [], [], []
        for a in args:
            if isinstance(a, Tensor):
                data = a._data
                n = self.names.get(id(data))
                if n is None:
                    exprs.append(self.tensor_array(a))
                    seen.append(a)
                else:
                    exprs.append(n)
                    seen.append(self.shell(n, a))
                arrays.append(data)
                needs.append(a.requires_grad)
            else:
                if a.__class__ is np.ndarray and id(a) in self.names:
                    exprs.append(self.names[id(a)])
                else:
                    exprs.append(self.const(a))
                seen.append(a)
                arrays.append(a)
                needs.append(False)
        record = True in needs and _grad_mode.enabled
        ctx = Context(cls, args, tuple(needs) if record else (False,) * len(args))
        out = cls.forward(ctx, *arrays, **options)
        converted = out.__class__ is not np.ndarray
        if converted:
            out = np.asarray(out)
        result = make_tensor(out, ctx, True) if record else make_tensor(out)
        c = self.const(ctx, "c")
        f = self.const(cls.forward, "f")
        opts = "".join(f", {key}={self.option(v)}" for key, v in options.items())
        call = f"{f}({c}, {', '.join(exprs)}{opts})" if exprs else f"{f}({c}{opts})"
        n = self.name(out)
        self.lines.append(f"{n} = _np.asarray({call})" if converted else f"{n} = {call}")
        self.contexts.append((ctx, tuple(seen)))
        self.shape.append(("op", cls, tuple(sorted(map(str, options))), len(args)))
        return result

    # ---- the backward: the engine's walk, written out as it runs ---------------------
    def seeds(self, outputs, grad_outputs, who, create_graph=False):
        if create_graph:
            raise _refuse(
                f"{who}(create_graph=True)",
                "a compiled step records first derivatives only; compute higher "
                "derivatives in an uncompiled step.",
            )
        seeds = _ORIGINAL["seed"](outputs, grad_outputs, who)
        given = [None] * len(outputs) if grad_outputs is None else list(grad_outputs)
        for out, g, s in zip(outputs, given, seeds):
            if g is None:
                line = f"_ones({self.const(_seed_store(), 'o')}, {self.tensor_array(out)})"
            else:
                src = self.tensor_array(g) if isinstance(g, Tensor) else self.value(g)
                line = f"_np.array({src}, dtype={self.const(s.dtype)})"
            self.lines.append(f"{self.name(s)} = {line}")
        return seeds

    def run_backward(self, outputs, grad_outputs, retain_graph, accumulate_into=None,
                     create_graph=False):  # fmt: skip
        if create_graph:
            raise _refuse("backward(create_graph=True)", "compute higher derivatives uncompiled.")
        order = _autograd._topological_order(outputs)
        for out, g in zip(outputs, grad_outputs):
            if out._pending is None:
                out._pending = g
            else:
                out._pending = _plus(out._pending, g)
                self.lines.append(
                    f"{self.name(out._pending)} = _plus({self.names[id(out._pending)]}, "
                    f"{self.names[id(g)]})"
                )
        wanted = None if accumulate_into is None else {id(t) for t in accumulate_into}
        try:
            with _autograd.no_grad():
                return self.walk(order, wanted, retain_graph)
        except BaseException:
            for t in order:
                t._pending = None
            raise

    def walk(self, order, wanted, retain_graph):
        lines, names = self.lines, self.names
        found = {}
        for t in reversed(order):
            g = t._pending
            if g is None:
                continue
            t._pending = None
            gn = names[id(g)]
            ctx = t._ctx
            if ctx is None:
                if wanted is None:
                    if t.requires_grad:  # the walk reaches only leaves that require grad
                        target = self.inputs.get(id(t)) or self.const(t, "e")
                        _grad_into(t, g)
                        lines.append(
                            f"{target}._grad = _mk({gn}) if {target}._grad is None else "
                            f"_mk(_plus({target}._grad._data, {gn}))"
                        )
                        lines.append(f"{self.name(t._grad._data)} = {target}._grad._data")
                        self.shape.append(("leaf",))
                elif id(t) in wanted:
                    found[id(t)] = g
                continue
            if wanted is not None:
                if id(t) in wanted:
                    found[id(t)] = g
            elif t._retains_grad:
                raise _refuse(
                    "retain_grad()",
                    "a replay keeps no tensor between its ops; return the value whose "
                    "gradient you need as an input of ds.grad(...) instead.",
                )
            input_grads = ctx.fn.backward(ctx, g)
            tupled = input_grads.__class__ is tuple
            if not tupled:
                input_grads = (input_grads,)
            inputs = ctx.inputs
            if len(input_grads) != len(inputs):
                _autograd._bad_count(ctx, input_grads)
            targets = [self.fresh() for _ in input_grads]
            b, c = self.const(ctx.fn.backward, "b"), self.const(ctx, "c")
            unpack = ", ".join(targets) + ("," if len(targets) == 1 else "")
            lines.append(
                f"{unpack} = {b}({c}, {gn})" if tupled else f"{targets[0]} = {b}({c}, {gn})"
            )
            self.shape.append(("rule", ctx.fn))
            given = []
            for i, (inp, need, ig) in enumerate(zip(inputs, ctx.needs_input_grad, input_grads)):
                if ig is None or not need:
                    continue
                n = targets[i]
                data = inp._data
                if (
                    ig.__class__ is not np.ndarray
                    or ig.shape != data.shape
                    or ig.dtype != data.dtype
                ):
                    ig = _autograd._checked_gradient(ctx, i, ig, data)
                    lines.append(f"{n} = _as_array({n})")
                for x in given:
                    if ig is x:
                        ig = ig.copy()
                        lines.append(f"{n} = {n}.copy()")
                        break
                else:
                    given.append(ig)
                pending = inp._pending
                if pending is not None:
                    ig = pending + ig
                    if ig.__class__ is not np.ndarray:
                        ig = np.asarray(ig)
                        lines.append(f"{n} = _plus({names[id(pending)]}, {n})")
                    else:
                        lines.append(f"{n} = {names[id(pending)]} + {n}")
                names[id(ig)] = n
                self.keep.append(ig)
                inp._pending = ig
            if not retain_graph:
                ctx.release()
                if id(ctx) not in self.released:
                    self.released.add(id(ctx))
                    lines.append(f"{c}.saved_tensors = (); {c}.__dict__.clear()")
        return found

    def call(self, fn, args, kwargs):
        """A function that computes outside the op graph (a comparison), run and recorded
        as one step of the program: the replay calls it again on the replay's values."""
        parts = [self.value(a) for a in args] + [f"{k}={self.value(v)}" for k, v in kwargs.items()]
        self.depth += 1
        try:
            result = fn(*args, **kwargs)
        finally:
            self.depth -= 1
        f = self.const(fn, "g")
        self.lines.append(f"{self.name(result._data)} = {f}({', '.join(parts)})._data")
        self.shape.append(("call", fn.__name__))
        return result

    # ---- effects ------------------------------------------------------------------
    def record_effect(self, replay, args, kwargs):
        parts = [self.value(a) for a in args]
        parts += [f"{k}={self.value(v)}" for k, v in kwargs.items()]
        self.lines.append(f"{self.const(replay, 'x')}({', '.join(parts)})")
        self.shape.append(("effect", getattr(replay, "__qualname__", type(replay).__qualname__)))


# The engine's entry points a trace watches, saved once; patched only while tracing.
_ORIGINAL = {
    "apply": _autograd.Function.__dict__["apply"],
    "run_backward": _autograd._run_backward,
    "seed": _autograd._seed_gradients,
    "bump_version": _autograd.bump_version,
    "generator": _random.generator,
    "draw": _random.draw,
    "zero_grad": Tensor.zero_grad,
    "grad": Tensor.__dict__["grad"],
}
# The functions of tensor.py that compute a Tensor's values without an op (no gradient):
# a trace records each call as one step of the program.
_CALLS = (
    "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_not", "isnan",
    "isinf", "isfinite", "any", "all",
)  # fmt: skip
_ORIGINAL.update({name: getattr(_tensor, name) for name in _CALLS})
_READS = {
    "item": "t.item()", "tolist": "t.tolist()", "numpy": "t.numpy()", "__array__": "np.asarray(t)",
    "__bool__": "bool(t) (an if or while on a tensor)", "__float__": "float(t)",
    "__int__": "int(t)", "__index__": "using a tensor as an index", "__repr__": "printing a tensor",
    "__str__": "printing a tensor", "__format__": "formatting a tensor",
}  # fmt: skip


def _mine(t: _Tracer) -> bool:
    return t.thread == threading.get_ident() and t.depth == 0


def _install(t: _Tracer) -> None:
    original_apply = _ORIGINAL["apply"].__func__

    def apply(cls, *args, **options):
        if _mine(t):
            return t.apply(cls, args, options)
        return original_apply(cls, *args, **options)

    def run_backward(*a, **k):
        if _mine(t):
            return t.run_backward(*a, **k)
        return _ORIGINAL["run_backward"](*a, **k)

    def seeds(*a, **k):
        if _mine(t):
            return t.seeds(*a, **k)
        return _ORIGINAL["seed"](*a, **k)

    def bump_version(*arrays):
        if _mine(t):
            raise _refuse(
                "an in-place change of a tensor (add_, item assignment, x -= ..., clipping)",
                "a replay would not repeat it. Change parameters through an optimizer "
                "(its step is recorded), compute the new value out of place (x = x - y), "
                "or make the change outside the step.",
            )
        return _ORIGINAL["bump_version"](*arrays)

    def generator():
        if _mine(t):
            raise _refuse(
                "a draw from descent's generator outside ds.random.draw (ds.randn, "
                "ds.rand, an init function)",
                "a replay would repeat the numbers of the trace. Make the random tensor "
                "outside the step and pass it in, or draw it with ds.random.draw(sample) "
                "as F.dropout does.",
            )
        return _ORIGINAL["generator"]()

    def draw(sample):
        array = _ORIGINAL["draw"](sample)
        if _mine(t):
            d = t.const(_ORIGINAL["draw"], "d")
            t.lines.append(f"{t.name(array)} = {d}({t.const(sample)})")
            t.shape.append(("draw", getattr(sample, "func", sample)))
        return array

    def zero_grad(self, set_to_none=True):
        with effect(_ORIGINAL["zero_grad"], self, set_to_none):
            _ORIGINAL["zero_grad"](self, set_to_none)

    grad_property = _ORIGINAL["grad"]

    def set_grad(self, value):
        if value is None:
            with effect(grad_property.fset, self, None):
                grad_property.fset(self, None)
            return
        if _mine(t):
            raise _refuse(
                "assigning a tensor to .grad",
                "only `.grad = None` (or zero_grad()) is recorded; set other gradients "
                "outside the step.",
            )
        grad_property.fset(self, value)

    def reader(name, what):
        original = getattr(Tensor, name)

        def read(self, *a, **k):
            if _mine(t) and _from_user():
                raise _refuse(f"{what} reads a tensor's values", _READ_FIX)
            return original(self, *a, **k)

        return read

    def recorded(fn):
        def call(*args, **kwargs):
            if _mine(t):
                return t.call(fn, args, kwargs)
            return fn(*args, **kwargs)

        return call

    for name in _CALLS:
        setattr(_tensor, name, recorded(_ORIGINAL[name]))
    _autograd.Function.apply = classmethod(apply)
    _autograd._run_backward = run_backward
    _autograd._seed_gradients = seeds
    _autograd.bump_version = bump_version
    _random.generator = generator
    _random.draw = draw
    Tensor.zero_grad = zero_grad
    Tensor.grad = property(grad_property.fget, set_grad)
    t.saved_reads = {name: Tensor.__dict__.get(name) for name in _READS}
    for name, what in _READS.items():
        setattr(Tensor, name, reader(name, what))


def _uninstall(t: _Tracer) -> None:
    for name in _CALLS:
        setattr(_tensor, name, _ORIGINAL[name])
    _autograd.Function.apply = _ORIGINAL["apply"]
    _autograd._run_backward = _ORIGINAL["run_backward"]
    _autograd._seed_gradients = _ORIGINAL["seed"]
    _autograd.bump_version = _ORIGINAL["bump_version"]
    _random.generator = _ORIGINAL["generator"]
    _random.draw = _ORIGINAL["draw"]
    Tensor.zero_grad = _ORIGINAL["zero_grad"]
    Tensor.grad = _ORIGINAL["grad"]
    for name, original in t.saved_reads.items():
        if original is None:
            delattr(Tensor, name)
        else:
            setattr(Tensor, name, original)


# ---------------------------------------------------------------------------------
# The compiled step: signatures, traces, replays


def _modules_of(fn) -> list:
    """The module trees a step reaches: objects with ``training`` and ``modules()`` among
    its ``self``, closure, partial arguments and the globals it names, and one attribute
    deep inside those (a step object's ``self.model``)."""
    found, candidates = [], []
    target = fn
    while isinstance(target, functools.partial):
        candidates += [*target.args, *target.keywords.values()]
        target = target.func
    owner = getattr(target, "__self__", None)
    if owner is not None:
        candidates.append(owner)
    code = getattr(target, "__code__", None)
    for cell in getattr(target, "__closure__", None) or ():
        try:
            candidates.append(cell.cell_contents)
        except ValueError:  # an empty cell
            pass
    if code is not None:
        glob = getattr(target, "__globals__", {})
        candidates += [glob[n] for n in code.co_names if n in glob]
    deeper = []
    for c in candidates:
        attrs = getattr(c, "__dict__", None)
        if isinstance(attrs, dict) and not isinstance(c, type):
            deeper += list(attrs.values())
    seen = set()
    for c in candidates + deeper:
        modules = getattr(c, "modules", None)
        if (
            callable(modules)
            and isinstance(getattr(c, "training", None), bool)
            and id(c) not in seen
        ):
            seen.add(id(c))
            found.append(c)
    return found


def _signature(value, leaves: list, where: str):
    """The part of the cache key ``value`` gives; Tensors and arrays go to ``leaves``."""
    if isinstance(value, Tensor):
        leaves.append(value)
        d = value._data
        return (0, d.shape, d.dtype.str, value.requires_grad)
    if value.__class__ is np.ndarray:
        leaves.append(value)
        return (1, value.shape, value.dtype.str)
    if value.__class__ in (tuple, list):
        return (
            value.__class__,
            *(_signature(v, leaves, f"{where}[{i}]") for i, v in enumerate(value)),
        )
    if value.__class__ is dict:
        return (dict, *((k, _signature(v, leaves, f"{where}[{k!r}]")) for k, v in value.items()))
    try:
        hash(value)
    except TypeError:
        raise CompileError(
            f"ds.compile: argument {where} of the step is a {type(value).__name__}, which is "
            f"neither a Tensor, an array, a tuple, list or dict of them, nor hashable; pass "
            f"it through the step's closure instead, or make it one of those."
        ) from None
    return (2, type(value), value)


class _ReplayContext(Context):
    """A traced op's Context as its replays use it: the arrays its rules ask for with
    ``ctx.buffer`` are kept between replays and handed out again.

    NOTE: a kept array is reused only while nothing but this Context holds it (its
    reference count equals ``_FREE``, that of an array held by one dict and one name). An
    array that outlived its replay, in a parameter's ``.grad`` that no ``zero_grad``
    cleared, in a returned loss the user keeps, in a view of either, is left to its
    holder and a new one is made in its place: reuse can never change a value someone
    can still read.
    """

    __slots__ = ()

    def buffer(self, key, like, shape=None, dtype=None):
        b = self.buffers.get(key)
        # the usual case first, in as few steps as possible: the kept array, free, of the
        # shape and dtype asked for (NumPy's dtypes of one kind are one object: ``is``)
        if b is not None and _refcount(b) == _FREE:
            wanted = like.dtype if dtype is None else dtype
            if b.shape == (like.shape if shape is None else shape) and (
                b.dtype is wanted or b.dtype == wanted
            ):
                return b
        if dtype is None:
            dtype = like.dtype
            if dtype.kind not in "fc":
                return None
        if shape is None:  # like's shape, and its memory layout, as NumPy's results keep it
            b = self.buffers[key] = np.empty_like(like, dtype)
        else:
            b = self.buffers[key] = np.empty(shape, dtype)
        return b


_TENSORS = object()  # marks a key made by the Tensors-only path of ``CompiledStep._key``


class _Program:
    """One traced signature: the replay function and what it checks before running."""

    __slots__ = ("run", "externals", "source", "shape")

    def __init__(self, run, externals, source, shape):
        self.run, self.externals, self.source, self.shape = run, externals, source, shape


class CompiledStep:
    """A step function traced per signature and replayed (see ``ds.compile``)."""

    def __init__(self, fn, cache_size: int = 8):
        if not callable(fn):
            raise TypeError(f"ds.compile expects a function, got a {type(fn).__name__}")
        self.fn = fn
        self.cache_size = int(cache_size)
        self._cache: dict = {}  # signature -> _Program, or the first trace's shape
        # every module of the trees the step reaches, listed once (a module added to a
        # tree later is not seen: compile the step again after changing the model)
        self._modules = [m for top in _modules_of(fn) for m in top.modules()]
        self.traces = 0  # how many times the step was traced (tests and curious users)
        functools.update_wrapper(self, fn, updated=())

    def _key(self, args, kwargs, leaves):
        if not kwargs:  # the usual call, a few Tensors: their part of the key, straight
            sig = [_TENSORS]
            for a in args:
                if a.__class__ is not Tensor:
                    break
                d = a._data
                leaves.append(a)
                sig.append((d.shape, d.dtype.str, a.requires_grad))
            else:
                return (tuple(sig), _grad_mode.enabled, tuple([m.training for m in self._modules]))
            del leaves[:]
        sig = _signature(args, leaves, "args")
        if kwargs:
            sig = (sig, _signature(kwargs, leaves, "kwargs"))
        return (sig, _grad_mode.enabled, tuple([m.training for m in self._modules]))

    def __call__(self, *args, **kwargs):
        if _tracer is not None:  # inside another trace: this step becomes part of it
            return self.fn(*args, **kwargs)
        leaves: list = []
        key = self._key(args, kwargs, leaves)
        program = self._cache.get(key)
        if program.__class__ is _Program:
            for t, shape, dtype, needs in program.externals:
                d = t._data
                if d.shape != shape or d.dtype != dtype or t.requires_grad is not needs:
                    program = None  # a parameter was replaced: trace again
                    break
            else:
                return program.run(leaves)
        return self._trace(key, program, args, kwargs, leaves)

    def _trace(self, key, first, args, kwargs, leaves):
        global _tracer
        t = _Tracer()
        prologue = []
        for k, leaf in enumerate(leaves):
            if isinstance(leaf, Tensor):
                t.inputs[id(leaf)] = f"i{k}"
                t.names[id(leaf._data)] = f"a{k}"
                t.keep.append(leaf._data)
                prologue.append(f"i{k} = L[{k}]; a{k} = i{k}._data")
            else:
                t.names[id(leaf)] = f"a{k}"
                prologue.append(f"a{k} = L[{k}]")
        _tracer = t
        _install(t)
        try:
            result = self.fn(*args, **kwargs)
            out = t.value(result)
        finally:
            _uninstall(t)
            _tracer = None
        self.traces += 1
        if first is not None and first != t.shape:
            where = next(
                (i for i, (a, b) in enumerate(zip(first, t.shape)) if a != b),
                min(len(first), len(t.shape)),
            )
            self._cache.pop(key, None)
            raise CompileError(
                f"ds.compile: {getattr(self.fn, '__qualname__', self.fn)!r} ran different "
                f"operations on two calls with the same signature (they differ at step "
                f"{where} of the program: {_describe(first, where)} on the first call, "
                f"{_describe(t.shape, where)} on the second); the step depends on Python "
                f"state that its arguments do not show (a counter, a flag, a global). Pass "
                f"that state as an argument, so that each value is its own signature, or "
                f"leave the step uncompiled."
            )
        if first is None:  # the first trace of this signature: the second one checks it
            self._remember(key, t.shape)
            return result
        self._remember(key, self._build(t, prologue, out))
        return result

    def _remember(self, key, entry):
        if key not in self._cache and len(self._cache) >= self.cache_size:
            self._cache.pop(next(iter(self._cache)))  # the oldest signature goes
        self._cache[key] = entry

    def _build(self, t: _Tracer, prologue, out) -> _Program:
        body = list(prologue) + t.lines
        holders: dict[str, list[str]] = {}  # shell -> the Contexts whose inputs hold it
        for ctx, seen in t.contexts:  # what the rules read at replay: the shells' arrays
            ctx.inputs = seen
            ctx.freed = False
            ctx.__class__ = _ReplayContext
            ctx.buffers = {}
            c = t.consts[id(ctx)]
            for x in seen:
                if isinstance(x, Tensor) and id(x) in t.consts and t.consts[id(x)][0] == "s":
                    holders.setdefault(t.consts[id(x)], []).append(c)
            if id(ctx) not in t.released:
                body.append(f"{c}.saved_tensors = (); {c}.__dict__.clear()")
        t.ns["_EMPTY"] = np.empty(0)
        body = _freeing(body, holders, set(_NAME.findall(out)))
        body.append(f"return {out}")
        source = "def replay(L):\n" + "".join(f"    {line}\n" for line in body)
        namespace = dict(t.ns)
        exec(builtins_compile(source, "<ds.compile replay>", "exec"), namespace)  # noqa: S102
        externals = [
            (e, e._data.shape, e._data.dtype, e.requires_grad) for e in t.externals.values()
        ]
        return _Program(namespace["replay"], externals, source, t.shape)

    def replay_source(self) -> list[str]:
        """The source of each replay function made so far (to see what a replay runs)."""
        return [p.source for p in self._cache.values() if p.__class__ is _Program]


_NAME = re.compile(r"\b[vai]\d+\b")
_ANY = re.compile(r"\b[vaics]\d+\b")


_LEAF = re.compile(r"^(v\d+) = \w+\._grad\._data$")


def _freeing(body: list[str], holders: dict, kept: set) -> list[str]:
    """``body`` with each array let go after its last use, as the eager walk lets go of
    a graph's arrays while it runs: a local is deleted, a shell (what a Context's
    inputs see) emptied once the last rule that reads it has run."""
    last: dict[str, int] = {}
    for i, line in enumerate(body):
        for n in _ANY.findall(line):
            last[n] = i
    for shell, contexts in holders.items():
        last[shell] = max(last.get(c, 0) for c in [*contexts, shell])
    after: dict[int, list[str]] = {}
    for n, i in last.items():
        if n in kept or n[0] == "c":
            continue
        after.setdefault(i, []).append(n)
    freed = []
    for i, line in enumerate(body):
        leaf = _LEAF.match(line)
        if (
            leaf is not None and last[leaf.group(1)] == i and leaf.group(1) not in kept
        ):  # a leaf's .grad nothing reads
            continue
        freed.append(line)
        names = after.get(i)
        if names:
            local = [n for n in names if n[0] != "s"]
            if local:
                freed.append("del " + ", ".join(local))
            freed += [f"{n}._data = _EMPTY" for n in names if n[0] == "s"]
    return freed


def _describe(shape: list, i: int) -> str:
    if i >= len(shape):
        return "nothing (the program ended)"
    kind, *rest = shape[i]
    if kind == "array":
        return f"a constant array of shape {rest[0]} (computed outside the op graph?)"
    if kind == "op":
        return f"op {rest[0].__name__}"
    if kind == "rule":
        return f"the backward rule of {rest[0].__name__}"
    return f"{kind} {rest[0] if rest else ''}".strip()


builtins_compile = compile  # Python's compile, which ds.compile's name hides below


def compile(fn=None, *, cache_size: int = 8):  # noqa: A001 - descent's name, as torch.compile
    """Trace ``fn`` (a training or inference step) once and replay it as one flat program.

    ``step = ds.compile(step)``, or ``@ds.compile`` on its definition. The first call
    runs ``fn`` with the ordinary engine; the second call with the same signature traces
    it again and checks that both ran the same program; every later call replays the
    program: the same NumPy calls in the same order, so the results equal eager's bit
    for bit, without building a Tensor or Context per op. Tensors the step returns are
    new Tensors holding the replay's values (they carry no graph); parameters' ``.grad``
    and the optimizer's state are as eager leaves them.

    The signature of a call is the shapes and dtypes of its Tensor and array arguments,
    the values of its other arguments, the grad mode, the training flags of the modules
    the step reaches, and the shapes of the tensors it reads from outside. See the
    module's documentation for what is refused while tracing, and why.
    """
    if fn is None:
        return functools.partial(compile, cache_size=cache_size)
    return CompiledStep(fn, cache_size)
