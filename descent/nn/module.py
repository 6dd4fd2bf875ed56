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

    Keeps the dtype of the data it is given (float32 unless the data is float64).
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
        for name, value in self._members():
            if isinstance(value, Module):
                yield name, value

    def children(self):
        return (m for _, m in self.named_children())

    def named_modules(self, prefix: str = ""):
        """This module and every module below it, with dotted names (iterative walk)."""
        seen = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            kids = [(f"{name}.{n}" if name else n, m) for n, m in module.named_children()]
            stack.extend(reversed(kids))

    def modules(self):
        return (m for _, m in self.named_modules())

    def named_parameters(self, prefix: str = "", recurse: bool = True):
        """(dotted name, Parameter) pairs, PyTorch's names; a shared Parameter once."""
        seen = set()
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for mname, module in modules:
            for name, value in module._members():
                if isinstance(value, Parameter) and id(value) not in seen:
                    seen.add(id(value))
                    yield (f"{mname}.{name}" if mname else name), value

    def parameters(self, recurse: bool = True):
        return (p for _, p in self.named_parameters(recurse=recurse))

    # ---- state ----------------------------------------------------------------------------
    def state_dict(self) -> OrderedDict:
        """Dotted name -> Tensor (sharing the parameter's data), as PyTorch's keys."""
        return OrderedDict((name, p.detach()) for name, p in self.named_parameters())

    def load_state_dict(self, state_dict, strict: bool = True) -> IncompatibleKeys:
        """Copy values into this module's parameters.

        ``state_dict`` is a mapping of dotted names to Tensors or arrays (what
        ``state_dict()`` or ``ds.load`` returns). With ``strict`` every key must match; the
        error lists missing and unexpected keys, mismatched shapes and dtypes together.
        Nothing is changed unless everything fits.

        A value's dtype must be of the parameter's kind: a float checkpoint for a float
        parameter (float64 into float32 is cast, as PyTorch does), never an int or bool
        array cast silently into floats.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(
                f"{type(self).__name__}.load_state_dict expects a mapping of parameter names "
                f"to tensors (what state_dict() or ds.load returns), got a "
                f"{type(state_dict).__name__}"
            )
        own = OrderedDict(self.named_parameters())
        missing = [k for k in own if k not in state_dict]
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
            if array.dtype.kind not in "biuf" or _kind(array.dtype) != _kind(p.data.dtype):
                wrong_kind.append(f"{k}: checkpoint dtype {array.dtype}, model {p.data.dtype}")
            if tuple(array.shape) != p.shape:
                mismatched.append(f"{k}: checkpoint {tuple(array.shape)}, model {p.shape}")
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
                np.copyto(p.data, _array(state_dict[k]), casting="same_kind")
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

    def to(self, dtype) -> Module:
        """Convert every parameter to ``dtype`` in place (e.g. ``ds.float64``)."""
        dtype = as_dtype(dtype)
        with no_grad():
            for p in self.parameters():
                p.data = p.data.astype(dtype)
                p.grad = None
        return self

    def double(self) -> Module:
        return self.to(np.float64)

    def float(self) -> Module:
        return self.to(np.float32)

    def apply(self, fn) -> Module:
        """Call ``fn(module)`` on every module (e.g. a custom initialisation)."""
        for m in self.modules():
            fn(m)
        return self

    def num_parameters(self) -> int:
        return sum(p.data.size for p in self.parameters())

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


def _array(value) -> np.ndarray:
    return value.data if isinstance(value, Tensor) else np.asarray(value)


def _kind(dtype: np.dtype) -> str:
    """A dtype's kind for loading: float, integer (signed or not) or bool."""
    return "i" if dtype.kind == "u" else dtype.kind
