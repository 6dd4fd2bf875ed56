"""Module and Parameter: models as trees of layers whose parameters are found by walking
their attributes."""

from __future__ import annotations

import itertools
import warnings
from collections import OrderedDict, namedtuple
from collections.abc import Mapping

import numpy as np

from ..autograd import no_grad
from ..tensor import Tensor, as_dtype

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])

# ---- global module hooks (PyTorch's torch.nn.modules.module.register_module_forward_*) ----

_global_forward_pre_hooks: dict = {}  # handle id -> hook(module, args)
_global_forward_hooks: dict = {}  # handle id -> hook(module, args, output)
_always_called: set = set()  # ids of forward hooks that also run when forward raises
_hook_ids = itertools.count()


class RemovableHandle:
    """What registering a hook returns: ``handle.remove()`` unregisters it (or ``with``)."""

    def __init__(self, hooks: dict, hook):
        self._hooks = hooks
        self.id = next(_hook_ids)
        hooks[self.id] = hook

    def remove(self) -> None:
        self._hooks.pop(self.id, None)
        _always_called.discard(self.id)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False


def register_module_forward_pre_hook(hook) -> RemovableHandle:
    """Call ``hook(module, args)`` before every module's ``forward``, as PyTorch's.

    A result other than None replaces the positional arguments (a tuple, or one value).
    """
    return RemovableHandle(_global_forward_pre_hooks, hook)


def register_module_forward_hook(hook, *, always_call: bool = False) -> RemovableHandle:
    """Call ``hook(module, args, output)`` after every module's ``forward``, as PyTorch's.

    A result other than None replaces the output. ``always_call=True``: also when forward
    raises, with output None, before the error goes on.
    """
    handle = RemovableHandle(_global_forward_hooks, hook)
    if always_call:
        _always_called.add(handle.id)
    return handle


class Parameter(Tensor):
    """A Tensor that a Module owns and an optimizer updates (requires grad by default).

    Keeps the dtype of the data it is given (its dtype by ``ds.tensor``'s rule).
    """

    __slots__ = ()

    def __init__(self, data, requires_grad: bool = True):
        dtype = data.dtype if isinstance(data, (Tensor, np.ndarray)) else None
        super().__init__(data, dtype=dtype, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class Module:
    """Base class of every layer and model.

    Subclasses set Parameters and sub-Modules as attributes in ``__init__`` and write
    ``forward``; ``parameters()``, ``state_dict()``, ``train()``/``eval()`` find them by
    walking the attributes (lists, tuples and dicts of modules included).

    >>> class Net(ds.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.hidden = ds.nn.Linear(2, 8)
    ...         self.out = ds.nn.Linear(8, 1)
    ...     def forward(self, x):
    ...         return self.out(self.hidden(x).relu())
    >>> [name for name, _ in Net().named_parameters()]
    ['hidden.weight', 'hidden.bias', 'out.weight', 'out.bias']
    """

    def __init__(self):
        self.training = True
        self._buffer_names: dict = {}  # buffer name -> persistent (saved in state_dict)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        # NOTE: one check when no global hook is registered (the usual case), so a module
        # call costs nothing beyond its forward.
        if _global_forward_pre_hooks or _global_forward_hooks:
            return self._call_with_hooks(args, kwargs)
        return self.forward(*args, **kwargs)

    def _call_with_hooks(self, args: tuple, kwargs: dict):
        # As PyTorch's: a pre-hook, forward or a forward hook that raises still lets every
        # always_call hook that has not run see the call end (with output None), and an
        # error inside one of those is turned into a warning so the first error goes on.
        done = set()
        output = None
        try:
            for hook in tuple(_global_forward_pre_hooks.values()):
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
            output = self.forward(*args, **kwargs)
            for key, hook in tuple(_global_forward_hooks.items()):
                if key in _always_called:
                    done.add(key)
                result = hook(self, args, output)
                if result is not None:
                    output = result
            return output
        except BaseException:
            for key, hook in tuple(_global_forward_hooks.items()):
                if key in _always_called and key not in done:
                    try:
                        hook(self, args, output)
                    except Exception as e:
                        warnings.warn(
                            f"a global forward hook with always_call=True raised {e!r}, "
                            f"silenced because {type(self).__name__}'s call had already "
                            f"failed",
                            RuntimeWarning,
                            stacklevel=2,
                        )
            raise

    # ---- walking the tree -------------------------------------------------------------
    def _members(self):
        """(name, value) of attributes that are Parameters or Modules, in definition order."""
        for name, value in vars(self).items():
            if isinstance(value, (Parameter, Module)):
                yield name, value
            elif isinstance(value, (list, tuple)):
                for i, v in enumerate(value):
                    if isinstance(v, (Parameter, Module)):
                        yield f"{name}.{i}", v
            elif isinstance(value, dict):
                for k, v in value.items():
                    if isinstance(v, (Parameter, Module)):
                        yield f"{name}.{k}", v

    def named_children(self):
        """(name, module) of the direct sub-modules, each once, as PyTorch's."""
        seen = set()
        for name, value in self._members():
            if isinstance(value, Module) and id(value) not in seen:
                seen.add(id(value))
                yield name, value

    def children(self):
        return (m for _, m in self.named_children())

    def named_modules(self, memo=None, prefix: str = "", remove_duplicate: bool = True):
        """This module and every module below it, with dotted names, in PyTorch's order.

        Iterative walk, each module once (``remove_duplicate=False``: once per path).
        """
        seen = set() if memo is None else memo  # modules hash by identity
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if remove_duplicate:
                if module in seen:
                    continue
                seen.add(module)
            yield name, module
            kids = module._members() if not remove_duplicate else module.named_children()
            kids = [(f"{name}.{n}" if name else n, m) for n, m in kids if isinstance(m, Module)]
            stack.extend(reversed(kids))

    def modules(self):
        return (m for _, m in self.named_modules())

    def named_parameters(self, prefix: str = "", recurse: bool = True):
        """(dotted name, Parameter) pairs, PyTorch's names; a shared Parameter once."""
        seen = set()
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for mname, module in modules:
            for name, value in module._members():
                if isinstance(value, Parameter) and id(value) not in seen:
                    seen.add(id(value))
                    yield (f"{mname}.{name}" if mname else name), value

    def parameters(self, recurse: bool = True):
        return (p for _, p in self.named_parameters(recurse=recurse))

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Set ``param`` (a Parameter, or None for an absent one) as attribute ``name``."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"{type(self).__name__}.register_parameter: {name!r} must be a Parameter or "
                f"None, got a {type(param).__name__}; wrap it as nn.Parameter(tensor)"
            )
        _check_new_name(self, name, "register_parameter")
        setattr(self, name, param)

    # ---- buffers ----------------------------------------------------------------------------
    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Keep ``tensor`` as attribute ``name``: state that is not a parameter.

        As PyTorch's: a buffer is not trained (``parameters()`` leaves it out), follows
        ``to()``/``double()`` when it is floating, and is saved by ``state_dict`` unless
        ``persistent=False``. None registers an absent buffer (neither listed nor saved).

        >>> m = ds.nn.Module()
        >>> m.register_buffer("steps", ds.zeros(()))
        >>> list(m.state_dict())
        ['steps']
        """
        if tensor is not None and (not isinstance(tensor, Tensor) or isinstance(tensor, Parameter)):
            kind = (
                "a Parameter (use register_parameter)"
                if isinstance(tensor, Parameter)
                else (f"a {type(tensor).__name__}")
            )
            raise TypeError(
                f"{type(self).__name__}.register_buffer: {name!r} must be a Tensor or None, "
                f"got {kind}"
            )
        if name not in self._buffer_names:
            _check_new_name(self, name, "register_buffer")
        self._buffer_names[name] = bool(persistent)
        setattr(self, name, tensor)

    def _own_buffers(self, persistent_only: bool = False):
        """(name, Tensor) of this module's own buffers that are not None, in registration order."""
        for name, persistent in vars(self).get("_buffer_names", {}).items():
            value = vars(self).get(name)
            if isinstance(value, Tensor) and (persistent or not persistent_only):
                yield name, value

    def named_buffers(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True):
        """(dotted name, Tensor) of every buffer, PyTorch's names and order."""
        seen = set()
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for mname, module in modules:
            for name, value in module._own_buffers():
                if remove_duplicate and id(value) in seen:
                    continue
                seen.add(id(value))
                yield (f"{mname}.{name}" if mname else name), value

    def buffers(self, recurse: bool = True):
        return (b for _, b in self.named_buffers(recurse=recurse))

    def _named_state(self):
        """What ``state_dict`` saves, in PyTorch's order: per module its parameters, then its
        persistent buffers."""
        seen = set()
        for mname, module in self.named_modules():
            own = [(n, v) for n, v in module._members() if isinstance(v, Parameter)]
            own += list(module._own_buffers(persistent_only=True))
            for name, value in own:
                if id(value) not in seen:
                    seen.add(id(value))
                    yield (f"{mname}.{name}" if mname else name), value

    def _optional_state(self) -> tuple[str, ...]:
        """Names of this module's own state entries that a state_dict may lack: loading
        keeps their value and does not count them missing (PyTorch's BatchNorm does this
        for ``num_batches_tracked``, which older checkpoints do not have). None here."""
        return ()

    # ---- state ----------------------------------------------------------------------------
    def state_dict(self) -> OrderedDict:
        """Dotted name -> Tensor (sharing the data), as PyTorch's keys: the parameters and
        the persistent buffers."""
        return OrderedDict((name, p.detach()) for name, p in self._named_state())

    def load_state_dict(self, state_dict, strict: bool = True) -> IncompatibleKeys:
        """Copy values into this module's parameters and persistent buffers.

        ``state_dict`` is a mapping of dotted names to Tensors or arrays (what
        ``state_dict()`` or ``ds.load`` returns). With ``strict`` every key must match; the
        error lists missing and unexpected keys, mismatched shapes and dtypes together.
        Nothing is changed unless everything fits.

        A value's dtype must be of the parameter's kind: a float checkpoint for a float
        parameter (float64 into float32 is cast, as PyTorch does), never an int or bool
        array cast silently into floats. Buffers are checked the same way (an int64 counter
        takes integers).
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(
                f"{type(self).__name__}.load_state_dict expects a mapping of parameter names "
                f"to tensors (what state_dict() or ds.load returns), got a "
                f"{type(state_dict).__name__}"
            )
        own = OrderedDict(self._named_state())
        optional = {
            f"{mname}.{name}" if mname else name
            for mname, module in self.named_modules()
            for name in module._optional_state()
        }
        missing = [k for k in own if k not in state_dict and k not in optional]
        unexpected = [k for k in state_dict if k not in own]
        mismatched, wrong_kind = [], []
        for k, p in own.items():
            if k not in state_dict:
                continue
            value = state_dict[k]
            if not isinstance(value, (Tensor, np.ndarray, np.generic, int, float, list)):
                wrong_kind.append(f"{k}: a {type(value).__name__}, not a tensor")
                continue
            array = _array(value)
            if array.dtype.kind not in "biuf" or _kind(array.dtype) != _kind(p._data.dtype):
                wrong_kind.append(f"{k}: checkpoint dtype {array.dtype}, model {p._data.dtype}")
            if tuple(array.shape) != p.shape:
                mismatched.append(f"{k}: checkpoint {tuple(array.shape)}, model {tuple(p.shape)}")
        problems = []
        if strict and missing:
            problems.append(f"missing keys: {missing}")
        if strict and unexpected:
            more = f" and {len(unexpected) - 20} more" if len(unexpected) > 20 else ""
            problems.append(f"unexpected keys: {unexpected[:20]}{more}")
        if mismatched:
            problems.append(f"shape mismatches: {mismatched}")
        if wrong_kind:
            problems.append(f"dtype mismatches (no silent cast between kinds): {wrong_kind}")
        if problems:
            raise RuntimeError(
                f"Error loading state_dict into {type(self).__name__}: "
                + "; ".join(problems)
                + ". Check that the checkpoint was saved from the same architecture."
            )
        for k, p in own.items():
            if k in state_dict:
                np.copyto(p._data, _array(state_dict[k]), casting="same_kind")
        return IncompatibleKeys(missing, unexpected)

    # ---- modes and conversion -------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Training mode (dropout active); ``train(False)`` is ``eval()``."""
        for m in self.modules():
            m.training = mode
        return self

    def eval(self) -> Module:
        """Evaluation mode: dropout passes inputs through unchanged."""
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parameters():
            p.zero_grad(set_to_none)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Set ``requires_grad`` of every parameter (False freezes the module), as PyTorch's."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def to(self, *args, **kwargs) -> Module:
        """Convert the floating parameters and buffers to a dtype in place, as PyTorch's
        ``to(dtype)``, ``to('cpu')``, ``to('cpu', dtype)``, ``to(tensor)`` or
        ``to(device=..., dtype=...)``; integer buffers (a step counter) keep theirs.
        """
        dtype = _to_dtype(type(self).__name__, args, kwargs)
        if dtype is None:
            return self
        if dtype.kind != "f":
            raise TypeError(
                f"{type(self).__name__}.to: only floating dtypes are allowed, got {dtype}"
            )
        if dtype.itemsize < 4:
            raise TypeError(_no_half(type(self).__name__))
        with no_grad():
            for p in self.parameters():
                if p._data.dtype.kind == "f":
                    p._data = p._data.astype(dtype)
                    p.grad = None
            for b in self.buffers():
                if b._data.dtype.kind == "f":
                    b._data = b._data.astype(dtype)
        return self

    def double(self) -> Module:
        return self.to(np.float64)

    def float(self) -> Module:
        return self.to(np.float32)

    def half(self) -> Module:
        raise TypeError(_no_half(type(self).__name__))

    def cpu(self) -> Module:
        return self

    def apply(self, fn) -> Module:
        """Call ``fn(module)`` on every sub-module and then on this one, as PyTorch's
        (children first: a module sees its children already done)."""
        order = []
        stack = [(self, False)]
        while stack:  # iterative post-order walk
            module, expanded = stack.pop()
            if expanded:
                order.append(module)
                continue
            stack.append((module, True))
            stack.extend((m, False) for m in reversed(list(module.children())))
        for m in order:
            fn(m)
        return self

    def num_parameters(self) -> int:
        return sum(p._data.size for p in self.parameters())

    # ---- printing ---------------------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        kids = list(self.named_children())
        if not kids:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"{type(self).__name__}("]
        for name, m in kids:
            body = repr(m).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        lines.append(")")
        return "\n".join(lines)


def _check_new_name(module: Module, name: str, where: str) -> None:
    if not isinstance(name, str) or not name or "." in name:
        raise KeyError(
            f"{type(module).__name__}.{where}: name must be a non-empty string without '.', "
            f"got {name!r}"
        )
    if name in vars(module) and not isinstance(vars(module)[name], (Tensor, type(None))):
        raise KeyError(f"{type(module).__name__}.{where}: attribute {name!r} already exists")


def _no_half(layer: str) -> str:
    return (
        f"{layer}: float16 is not supported (descent computes in float32 or float64); "
        f"use .float() or .double()"
    )


def _to_dtype(layer: str, args: tuple, kwargs: dict) -> np.dtype | None:
    """The dtype asked of ``Module.to``; a device must be the CPU, the only one descent has."""
    kwargs = dict(kwargs)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    dtype = kwargs.pop("dtype", None)
    device = kwargs.pop("device", None)
    if kwargs:
        raise TypeError(f"{layer}.to: unexpected arguments {sorted(kwargs)}")
    for arg in args:
        if isinstance(arg, Tensor):
            dtype = arg.dtype
        elif isinstance(arg, bool):
            continue  # non_blocking given by position
        elif isinstance(arg, str) and arg.split(":")[0] in ("cpu", "cuda", "mps", "meta"):
            device = arg
        else:
            dtype = arg
    if device is not None and str(device).split(":")[0] != "cpu":
        raise ValueError(f"{layer}.to: descent runs on the CPU only, got device {device!r}")
    return as_dtype(dtype)


def _array(value) -> np.ndarray:
    return value._data if isinstance(value, Tensor) else np.asarray(value)


def _kind(dtype: np.dtype) -> str:
    """A dtype's kind for loading: float, integer (signed or not) or bool."""
    return "i" if dtype.kind == "u" else dtype.kind
