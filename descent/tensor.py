"""Tensor: a NumPy array, its gradient, and the graph node that produced it.

Operators and methods call the ops in ``descent.ops``; nothing here differentiates.
"""

from __future__ import annotations

import builtins

import numpy as np

from . import autograd
from . import random as _random

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int64 = np.dtype(np.int64)
int32 = np.dtype(np.int32)
bool_ = np.dtype(np.bool_)

_DTYPE_NAMES = {
    "float32": float32,
    "float": float32,
    "float64": float64,
    "double": float64,
    "int64": int64,
    "long": int64,
    "int32": int32,
    "int": int32,
    "bool": bool_,
}


def as_dtype(dtype) -> np.dtype | None:
    """A NumPy dtype from a dtype, a NumPy type or one of its names ('float32', ...)."""
    if dtype is None:
        return None
    if isinstance(dtype, str):
        try:
            return _DTYPE_NAMES[dtype]
        except KeyError:
            raise TypeError(f"unknown dtype {dtype!r}; use one of {sorted(_DTYPE_NAMES)}") from None
    return np.dtype(dtype)


class device:  # noqa: N801 - PyTorch's name
    """Where a tensor lives: ``ds.device('cpu')``, the only device descent has.

    Any other device ('cuda', 'cuda:0', 'mps', an index) is refused with an error that
    names it, so a program written for an accelerator stops at the line that asks for one.
    """

    __slots__ = ("type", "index")

    def __init__(self, type="cpu", index=None):  # noqa: A002 - PyTorch's name
        spec = type
        if isinstance(spec, device):
            spec, index = spec.type, spec.index if index is None else index
        if not isinstance(spec, str):
            _no_backend(spec)
        name, _, number = spec.partition(":")
        if name != "cpu":
            _no_backend(spec)
        if number:
            if not number.isdigit():
                raise RuntimeError(f"invalid device string: {spec!r}")
            index = int(number)
        if index is not None and (not isinstance(index, int) or index < 0):
            raise RuntimeError(f"device index must be a non-negative integer, got {index!r}")
        self.type = "cpu"
        self.index = index

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        if isinstance(other, str):
            try:
                other = device(other)
            except RuntimeError:
                return False
        if not isinstance(other, device):
            return NotImplemented
        return (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash(str(self))


def _no_backend(what):
    name = what.partition(":")[0] if isinstance(what, str) else "cuda"
    shown = what if isinstance(what, str) else repr(what)
    raise RuntimeError(
        f"descent runs on the CPU only; there is no {name!r} backend (asked for device "
        f"{shown!r}); use device='cpu' or leave device out"
    )


_CPU = device("cpu")
_DeviceType = device  # the class, under a name Tensor's ``device`` property cannot hide


def check_device(where) -> device:
    """The device ``where`` names (None means the CPU); any device but the CPU is refused."""
    if where is None:
        return _CPU
    if isinstance(where, device):
        return where
    if isinstance(where, str):
        return device(where)
    _no_backend(where)  # an int is an accelerator's index in PyTorch


_tuple_new = tuple.__new__


class Size(tuple):
    """A tensor's shape, as ``x.size()`` gives it: a tuple of ints, PyTorch's ``torch.Size``.

    >>> ds.zeros(2, 3).size()
    descent.Size([2, 3])
    """

    __slots__ = ()

    def __new__(cls, sizes=()):
        return super().__new__(cls, (int(n) for n in sizes))

    def __repr__(self) -> str:
        return f"descent.Size({list(self)})"

    def numel(self) -> int:
        n = 1
        for k in self:
            n *= k
        return n

    def __getitem__(self, key):
        out = super().__getitem__(key)
        return Size(out) if isinstance(key, slice) else out

    def __add__(self, other):
        return Size(tuple(self) + tuple(other))


_default_dtype = float32


def get_default_dtype() -> np.dtype:
    """The dtype Python floats take: float32 unless ``set_default_dtype`` changed it."""
    return _default_dtype


def set_default_dtype(dtype) -> None:
    """Make ``dtype`` (float32 or float64) the dtype of Python floats and of the creation
    functions without a dtype, as PyTorch's; arrays and tensors keep their own dtype."""
    global _default_dtype
    want = as_dtype(dtype)
    if want not in (float32, float64):
        raise TypeError(
            f"set_default_dtype: the default dtype must be float32 or float64, got {want}"
        )
    _default_dtype = want


def _no_float16(where: str) -> TypeError:
    also = "" if where == "from_numpy" else ", or pass dtype=ds.float32"
    return TypeError(
        f"{where}: float16 is not supported (descent computes in float32 or float64); "
        f"convert the data first, e.g. array.astype(np.float32){also}"
    )


_PYTHON_SCALARS = (bool, int, float)


def _data_dtype(data) -> np.dtype:
    """PyTorch's dtype for data given without one: an array, a NumPy scalar or a tensor
    keeps its dtype; a Python float takes the default dtype, an int int64, a bool bool; a
    list takes the promotion of everything it holds, floats over integers over bools."""
    if isinstance(data, Tensor):
        return data._data.dtype
    if isinstance(data, (np.ndarray, np.generic)):
        return data.dtype
    if not isinstance(data, (list, tuple)):
        data = [data]
    found, python, stack = set(), set(), [data]
    while stack:  # one pass of ``type`` per list; Python's loop only over what is not a number
        items = stack.pop()
        kinds = set(map(type, items))
        mixed = False
        for kind in kinds:
            if kind in _PYTHON_SCALARS:
                python.add(kind)
            elif issubclass(kind, np.generic):
                found.add(np.dtype(kind))
            else:
                mixed = True
        for x in items if mixed else ():
            if isinstance(x, (list, tuple)):
                stack.append(x)
            elif isinstance(x, Tensor):
                found.add(x._data.dtype)
            elif isinstance(x, np.ndarray):
                found.add(x.dtype)
            elif not isinstance(x, np.generic):
                scalar = next((k for k in _PYTHON_SCALARS if isinstance(x, k)), None)
                if scalar is not None:
                    python.add(scalar)
                else:
                    found.add(np.asarray(x).dtype)  # anything else, as NumPy sees it
    found.update(d for kind, d in ((float, _default_dtype), (int, int64), (bool, bool_))
                 if kind in python)  # fmt: skip
    if not found:
        return _default_dtype  # an empty list, as PyTorch's
    other = [d for d in found if d.kind not in "fiub"]
    if other:
        return other[0]
    floats = [d for d in found if d.kind == "f"]
    return np.result_type(*(floats or found))


def _to_array(data, dtype) -> np.ndarray:
    """The array behind ``ds.tensor(data, dtype)``: a copy in ``dtype``, or in the data's
    own dtype by PyTorch's rule (see ``_data_dtype``) when none is asked."""
    want = as_dtype(dtype) or _data_dtype(data)
    if want.kind not in "fiub":
        raise TypeError(f"tensor: cannot make a tensor from data of dtype {want}")
    if want.kind == "f" and want.itemsize < 4:
        raise _no_float16("tensor")
    if isinstance(data, Tensor):
        data = data._data
    try:
        return np.array(data, dtype=want, copy=True)  # Tensors inside lists: by __array__
    except ValueError as e:
        where = _ragged(data)
        if where is None:
            raise
        raise ValueError(
            f"tensor: {where}; nested lists must form a rectangle, every row as long as the first"
        ) from e


def _ragged(data) -> str | None:
    """Where nested lists stop being rectangular, said as PyTorch says it; None when
    they are rectangular."""
    level, dim = [data], 0
    while level and builtins.all(isinstance(x, (list, tuple)) for x in level):
        lengths = [len(x) for x in level]
        if builtins.any(n != lengths[0] for n in lengths):
            other = next(n for n in lengths if n != lengths[0])
            return f"expected sequence of length {lengths[0]} at dim {dim} (got {other})"
        level, dim = [y for x in level for y in x], dim + 1
    if level and builtins.any(isinstance(x, (list, tuple)) for x in level):
        return f"at dim {dim} a number stands beside a sequence"
    return None


# ---- printing: PyTorch's ``torch._tensor_str`` on arrays ------------------------------
_PRINT = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80}


class _Formatter:
    """How every number of one tensor is written: PyTorch's choice among integers
    (``2.``), fixed point (``0.5000``) and scientific (``1.0000e-05``), padded to one
    width."""

    def __init__(self, arr: np.ndarray):
        self.floating = arr.dtype.kind == "f"
        self.int_mode, self.sci_mode, self.width = True, False, 1
        flat = arr.reshape(-1)
        if not self.floating:
            self.width = max([1] + [len(str(v)) for v in flat.tolist()])
            return
        values = flat[np.isfinite(flat) & (flat != 0)]
        if values.size == 0:
            return
        size = np.abs(values).astype(np.float64)
        lo, hi = size.min(), size.max()
        self.int_mode = bool(np.all(values == np.ceil(values)))
        self.sci_mode = bool(hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4)
        p = _PRINT["precision"]
        for v in values.tolist():
            if self.sci_mode:
                n = len(f"{v:.{p}e}")
            elif self.int_mode:
                n = len(f"{v:.0f}") + 1
            else:
                n = len(f"{v:.{p}f}")
            self.width = max(self.width, n)

    def format(self, value) -> str:
        p = _PRINT["precision"]
        if not self.floating:
            text = f"{value}"
        elif self.sci_mode:
            text = f"{value:{self.width}.{p}e}"
        elif self.int_mode:
            text = f"{value:.0f}" + ("" if value != value or value in (_INF, -_INF) else ".")
        else:
            text = f"{value:.{p}f}"
        return text.rjust(self.width)


_INF = float("inf")


def _summarized(arr: np.ndarray) -> np.ndarray:
    """The edge items of every dim (what a summarized printout shows)."""
    k = _PRINT["edgeitems"]
    for axis in range(arr.ndim):
        if arr.shape[axis] > 2 * k:
            arr = np.concatenate(
                [
                    arr.take(range(k), axis),
                    arr.take(range(arr.shape[axis] - k, arr.shape[axis]), axis),
                ],
                axis,
            )
    return arr


def _rows_str(arr: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    k = _PRINT["edgeitems"]
    if arr.ndim == 0:
        return fmt.format(arr.item())
    cut = summarize and arr.shape[0] > 2 * k
    if arr.ndim == 1:
        per_line = max(1, (_PRINT["linewidth"] - indent) // (fmt.width + 2))
        if cut:
            items = [fmt.format(v) for v in arr[:k].tolist()] + [" ..."]
            items += [fmt.format(v) for v in arr[-k:].tolist()]
        else:
            items = [fmt.format(v) for v in arr.tolist()]
        lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    rows = range(arr.shape[0])
    if cut:
        rows = [*range(k), None, *range(arr.shape[0] - k, arr.shape[0])]
    parts = ["..." if i is None else _rows_str(arr[i], indent + 1, summarize, fmt) for i in rows]
    return "[" + ("," + "\n" * (arr.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def _array_str(arr: np.ndarray, indent: int) -> str:
    summarize = arr.size > _PRINT["threshold"]
    fmt = _Formatter(_summarized(arr) if summarize else arr)
    return _rows_str(arr, indent, summarize, fmt)


def _add_suffixes(text: str, suffixes: list, indent: int) -> str:
    """``text`` closed with its suffixes, each on a new line where the line would pass
    the line width."""
    out = [text]
    last = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last + len(suffix) + 2 > _PRINT["linewidth"]:
            out.append(",\n" + " " * indent + suffix)
            last = indent + len(suffix)
        else:
            out.append(", " + suffix)
            last += len(suffix) + 2
    return "".join(out) + ")"


class Tensor:
    """An n-dimensional array that can remember how it was computed.

    >>> x = ds.tensor([1.0, 2.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    tensor([2., 4.])
    """

    # _pending: the gradient collected so far during a backward walk (None otherwise)
    __slots__ = (
        "_data", "_grad", "requires_grad", "_ctx", "_retains_grad", "_pending", "__weakref__"
    )  # fmt: skip
    __array_ufunc__ = None  # ndarray (op) Tensor defers to Tensor's reflected operator

    def __init__(self, data, dtype=None, requires_grad: bool = False):
        self._data = _to_array(data, dtype)
        self._grad = None
        self._ctx = None
        self._retains_grad = False
        self._pending = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    # ---- properties --------------------------------------------------------------
    @property
    def shape(self) -> Size:
        """The shape as a ``ds.Size`` (a tuple); the code of the package reads
        ``t._data.shape``, the plain tuple, which costs nothing to make."""
        return _tuple_new(Size, self._data.shape)

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def data(self) -> Tensor:
        """This tensor's values as a new Tensor cut from the graph, sharing memory (PyTorch's
        ``.data``): writing into it changes this tensor and autograd does not see it, which
        is what ``p.data.sub_(lr * p.grad.data)`` wants. ``.numpy()`` is the array itself.

        Unlike ``detach()``, its in-place changes bump no version (as in PyTorch, where it
        has a counter of its own), so backward cannot refuse what they break."""
        t = make_tensor(self._data)
        t.__class__ = _DataTensor
        return t

    @data.setter
    def data(self, value) -> None:
        # PyTorch's ``x.data = other``: x takes other's values (shape and dtype may change).
        if not isinstance(value, Tensor):
            raise TypeError(
                f"data must be set to a Tensor, got {type(value).__name__}; wrap it first, "
                f"e.g. x.data = ds.tensor(value)"
            )
        self._data = value._data

    @property
    def is_leaf(self) -> bool:
        return self._ctx is None

    @property
    def grad_fn(self):
        """The graph node of the op that made this tensor (None for leaves), as PyTorch's:
        ``.name()`` and ``.next_functions``. Its Context is ``t._ctx``."""
        ctx = self._ctx
        return None if ctx is None else autograd._node(ctx)

    @property
    def grad(self):
        """The gradient that backward accumulated here (None until then)."""
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        # The engine writes ``_grad`` itself; this check is for assignments by users.
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(
                    f"assigned grad expected to be a Tensor or None but got grad of type "
                    f"{type(value).__name__}"
                )
            if value._data.shape != self._data.shape:
                raise RuntimeError(
                    f"attempting to assign a gradient of size '{list(value._data.shape)}' to "
                    f"a tensor of size '{list(self._data.shape)}'. Please ensure that the "
                    f"gradient and the tensor are the same size"
                )
        self._grad = value

    def size(self, dim: int | None = None):
        """The shape as a ``ds.Size``, or the length of one dim (an int)."""
        if dim is None:
            return Size(self._data.shape)
        n = self._data.ndim
        if n == 0:
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
        if not -n <= dim < n:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                f"but got {dim})"
            )
        return self._data.shape[dim]

    def dim(self) -> int:
        return self._data.ndim

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def numel(self) -> int:
        return self._data.size

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied)."""
        return self._data

    def item(self):
        if self._data.size != 1:
            raise ValueError(
                f"item(): only a tensor with one element can be converted to a Python "
                f"number, this one has shape {self._data.shape}"
            )
        return self._data.item()

    def tolist(self):
        return self._data.tolist()

    def __array__(self, dtype=None, copy=None):
        return self._data if dtype is None else self._data.astype(dtype)

    # ---- autograd ------------------------------------------------------------------
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and self._data.dtype.kind != "f":
            raise RuntimeError(
                f"only floating-point tensors can require gradients, this one is "
                f"{self._data.dtype}; convert it first, e.g. x.float()"
            )
        if not requires_grad and self._ctx is not None:
            raise RuntimeError("requires_grad_(False) only works on leaf tensors; use .detach()")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor after backward."""
        self._retains_grad = True

    def detach(self) -> Tensor:
        """The same data, cut from the graph; it shares this tensor's version counter, so
        backward refuses a saved value changed in place through it."""
        return make_tensor(self._data)

    @property
    def _version(self) -> int:
        """How many in-place changes this tensor's memory has had (PyTorch's ``_version``);
        views, ``detach()`` and the tensor count together."""
        return autograd.version_of(self._data)

    def backward(
        self, gradient=None, retain_graph: bool | None = None, create_graph: bool = False
    ) -> None:
        """Backpropagate: add d(self)/d(leaf) to ``.grad`` of every leaf that requires grad
        (``create_graph=True``: as a graph, so ``.grad`` can be differentiated again)."""
        autograd.backward(self, gradient, retain_graph, create_graph)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the accumulated gradient (None, or zeros with set_to_none=False)."""
        if set_to_none or self.grad is None:
            self.grad = None
        else:
            self.grad = make_tensor(np.zeros_like(self._data))

    @property
    def device(self) -> device:
        """Always ``device(type='cpu')``: descent's tensors live in NumPy arrays."""
        return _CPU

    @property
    def is_cuda(self) -> bool:
        return False

    # ---- conversion ----------------------------------------------------------------
    def to(self, *args, dtype=None, device=None, non_blocking: bool = False,
           copy: bool = False) -> Tensor:  # fmt: skip
        """PyTorch's ``to``: ``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other)``.

        The device must be the CPU; a change of dtype is a differentiable cast, and
        nothing to change returns the tensor itself (a copy with ``copy=True``).
        """
        if len(args) > 2:
            raise TypeError(f"to() takes at most 2 positional arguments ({len(args)} given)")
        for arg in args:
            if isinstance(arg, Tensor):
                dtype = arg._data.dtype
            elif isinstance(arg, _DeviceType) or (isinstance(arg, str) and arg not in _DTYPE_NAMES):
                device = arg
            elif isinstance(arg, int) and not isinstance(arg, bool):
                device = arg
            else:
                dtype = arg
        check_device(device)
        if dtype is not None:
            return _ew.cast(self, as_dtype(dtype), copy=copy)
        return self.clone() if copy else self

    def cpu(self) -> Tensor:
        """The tensor itself: it is on the CPU already."""
        return self

    def cuda(self, device=None, non_blocking: bool = False) -> Tensor:
        _no_backend("cuda" if device is None else f"cuda:{device}")

    def equal(self, other) -> bool:
        return equal(self, other)

    def allclose(self, other, rtol: float = 1e-05, atol: float = 1e-08,
                 equal_nan: bool = False) -> bool:  # fmt: skip
        return allclose(self, other, rtol, atol, equal_nan)

    def float(self) -> Tensor:
        return _ew.cast(self, float32)

    def double(self) -> Tensor:
        return _ew.cast(self, float64)

    def long(self) -> Tensor:
        return _ew.cast(self, int64)

    def int(self) -> Tensor:
        return _ew.cast(self, int32)

    def bool(self) -> Tensor:
        return _ew.cast(self, bool_)

    def half(self) -> Tensor:
        raise _no_float16("Tensor.half")

    def type_as(self, other: Tensor) -> Tensor:
        """This tensor in ``other``'s dtype (itself where the dtypes match)."""
        want = other._data.dtype
        return self if self._data.dtype == want else _ew.cast(self, want)

    def contiguous(self, memory_format=None) -> Tensor:
        return self  # NOTE: descent's ops never depend on the layout of the array

    def is_contiguous(self, memory_format=None) -> bool:
        return True

    def new_tensor(self, data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
        check_device(device)
        return Tensor(data, dtype=as_dtype(dtype) or self._data.dtype, requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
        return zeros(*size, dtype=dtype or self._data.dtype, device=device,
                     requires_grad=requires_grad)  # fmt: skip

    def new_ones(self, *size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
        return ones(*size, dtype=dtype or self._data.dtype, device=device,
                    requires_grad=requires_grad)  # fmt: skip

    def new_empty(self, *size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
        return empty(*size, dtype=dtype or self._data.dtype, device=device,
                     requires_grad=requires_grad)  # fmt: skip

    def new_full(self, size, fill_value, dtype=None, device=None,
                 requires_grad: bool = False) -> Tensor:  # fmt: skip
        return full(size, fill_value, dtype=dtype or self._data.dtype, device=device,
                    requires_grad=requires_grad)  # fmt: skip

    def clone(self) -> Tensor:
        return _ew.cast(self, self._data.dtype, copy=True)

    def neg(self) -> Tensor:
        return _ew.neg(self)

    negative = neg

    def movedim(self, source, destination) -> Tensor:
        return _shape.movedim(self, source, destination)

    def narrow(self, dim: int, start: int, length: int) -> Tensor:
        return _shape.narrow(self, dim, start, length)

    def index_select(self, dim: int, index) -> Tensor:
        return _shape.index_select(self, dim, index)

    def broadcast_to(self, size) -> Tensor:
        return _shape.broadcast_to(self, size)

    # ---- printing ------------------------------------------------------------------
    def __repr__(self) -> str:
        """PyTorch's printout: its number formatting, summary of large tensors, and the
        ``dtype=``, ``requires_grad=True`` and ``grad_fn=<...>`` suffixes. A dtype prints
        as NumPy names it (``dtype=float64`` where PyTorch says ``torch.float64``)."""
        arr = self._data
        suffixes = []
        if arr.size == 0:
            if arr.ndim != 1:
                suffixes.append(f"size={tuple(arr.shape)}")
            if arr.dtype != _default_dtype:
                suffixes.append(f"dtype={arr.dtype}")
            body = "[]"
        else:
            if arr.dtype not in (_default_dtype, int64, bool_):
                suffixes.append(f"dtype={arr.dtype}")
            body = _array_str(arr, len("tensor("))
        if self._ctx is not None:
            suffixes.append(f"grad_fn=<{self._ctx.name}Backward0>")
        elif self.requires_grad:
            suffixes.append("requires_grad=True")
        return _add_suffixes("tensor(" + body, suffixes, len("tensor("))

    def __format__(self, format_spec: str) -> str:
        """A 0-d tensor formats as its number (``f"{x:.3f}"``), as in PyTorch; any other
        takes only the empty format (its printout)."""
        if self._data.ndim == 0:
            return self._data.item().__format__(format_spec)
        return object.__format__(self, format_spec)

    # ---- python protocol -----------------------------------------------------------
    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(
                f"the truth value of a tensor with {self._data.size} elements is ambiguous; "
                f"use .any() or .all()"
            )
        return bool(self._data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iu" or self._data.size != 1:
            raise TypeError("only integer tensors of one element can be used as an index")
        return int(self._data.item())  # int() of a 1-element array with ndim > 0 fails

    __hash__ = object.__hash__  # identity, so tensors can key dicts despite elementwise ==

    # ---- arithmetic ------------------------------------------------------------------
    # NOTE: +, - and * go straight to the ops' shared front (``_binary``, what ``ds.add``
    # calls when alpha is 1): one call fewer on the path of every tiny op.
    def __add__(self, other):
        return _ew._binary(_ew.Add, self, other, "add")

    def __radd__(self, other):
        return _ew._binary(_ew.Add, other, self, "add")

    def __sub__(self, other):
        return _ew._binary(_ew.Sub, self, other, "sub")

    def __rsub__(self, other):
        return _ew._binary(_ew.Sub, other, self, "sub")

    def __mul__(self, other):
        return _ew._binary(_ew.Mul, self, other, "mul")

    def __rmul__(self, other):
        return _ew._binary(_ew.Mul, other, self, "mul")

    def __truediv__(self, other):
        return _ew.div(self, other)

    def __rtruediv__(self, other):
        return _ew.div(other, self)

    def __pow__(self, other):
        return _ew.pow(self, other)

    def __rpow__(self, other):
        return _ew.pow(other, self)

    def __mod__(self, other):
        return _ew.remainder(self, other)

    def __rmod__(self, other):
        return _ew.remainder(other, self)

    def __floordiv__(self, other):
        return _ew.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return _ew.floor_divide(other, self)

    def __matmul__(self, other):
        return _linalg.matmul(self, other)

    def __rmatmul__(self, other):
        return _linalg.matmul(other, self)

    def __neg__(self):
        return _ew.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ew.abs(self)

    # In-place arithmetic changes the data and records nothing, so it is refused where a
    # graph could depend on it (as PyTorch refuses it on leaves that require grad).
    def _inplace(self, other, ufunc, name: str) -> Tensor:
        if self.requires_grad and autograd.is_grad_enabled():
            raise RuntimeError(
                f"in-place {name} on a tensor that requires grad would change the graph's "
                f"values behind its back; write `x = x {name} y`, or wrap the update in "
                f"`with ds.no_grad():` (as optimizers do)"
            )
        value = other._data if isinstance(other, Tensor) else other
        if self._versioned:
            autograd.bump_version(self._data)
        ufunc(self._data, value, out=self._data, casting="same_kind")
        return self

    def __iadd__(self, other):
        return self._inplace(other, np.add, "+")

    def __isub__(self, other):
        return self._inplace(other, np.subtract, "-")

    def __imul__(self, other):
        return self._inplace(other, np.multiply, "*")

    def __itruediv__(self, other):
        return self._inplace(other, np.true_divide, "/")

    # ---- comparisons (no gradient) -------------------------------------------------------
    def __eq__(self, other):
        return eq(self, other)

    def __ne__(self, other):
        return ne(self, other)

    def __lt__(self, other):
        return lt(self, other)

    def __le__(self, other):
        return le(self, other)

    def __gt__(self, other):
        return gt(self, other)

    def __ge__(self, other):
        return ge(self, other)

    def eq(self, other) -> Tensor:
        return eq(self, other)

    def ne(self, other) -> Tensor:
        return ne(self, other)

    def lt(self, other) -> Tensor:
        return lt(self, other)

    def le(self, other) -> Tensor:
        return le(self, other)

    def gt(self, other) -> Tensor:
        return gt(self, other)

    def ge(self, other) -> Tensor:
        return ge(self, other)

    def logical_and(self, other) -> Tensor:
        return logical_and(self, other)

    def logical_or(self, other) -> Tensor:
        return logical_or(self, other)

    def logical_not(self) -> Tensor:
        return logical_not(self)

    def isnan(self) -> Tensor:
        return isnan(self)

    def isinf(self) -> Tensor:
        return isinf(self)

    def isfinite(self) -> Tensor:
        return isfinite(self)

    def any(self, dim=None, keepdim: bool = False) -> Tensor:
        return any(self, dim, keepdim)

    def all(self, dim=None, keepdim: bool = False) -> Tensor:
        return all(self, dim, keepdim)

    # ---- indexing ----------------------------------------------------------------------
    def __getitem__(self, index):
        return _shape.getitem(self, index)

    def __setitem__(self, index, value):
        if self.requires_grad and autograd.is_grad_enabled():
            raise RuntimeError(
                "item assignment on a tensor that requires grad is not recorded in the graph; "
                "build a new tensor (ds.where, ds.cat) or assign inside `with ds.no_grad():`"
            )
        if self._versioned:
            autograd.bump_version(self._data)
        self._data[_shape.plain_index(index)] = array_of(value)

    # ---- elementwise math --------------------------------------------------------------
    def exp(self):
        return _ew.exp(self)

    def log(self):
        return _ew.log(self)

    def sqrt(self):
        return _ew.sqrt(self)

    def abs(self):
        return _ew.abs(self)

    def sin(self):
        return _ew.sin(self)

    def cos(self):
        return _ew.cos(self)

    # NOTE: the Functions themselves, not the ops' functions that only call them: a call
    # fewer per op
    def tanh(self):
        return _Tanh.apply(self)

    def sigmoid(self):
        return _Sigmoid.apply(self)

    def erf(self):
        return _ew.erf(self)

    def relu(self):
        return _ew.relu(self)

    def clamp(self, min=None, max=None):  # noqa: A002 - PyTorch's names
        return _ew.clamp(self, min, max)

    def clip(self, min=None, max=None):  # noqa: A002 - PyTorch's names
        return _ew.clamp(self, min, max)

    def pow(self, exponent):
        return _ew.pow(self, exponent)

    def maximum(self, other):
        return _ew.maximum(self, other)

    def remainder(self, other):
        return _ew.remainder(self, other)

    def floor_divide(self, other):
        return _ew.floor_divide(self, other)

    def floor(self):
        return _ew.floor(self)

    def ceil(self):
        return _ew.ceil(self)

    def round(self, *, decimals: int = 0):
        return _ew.round(self, decimals=decimals)

    def trunc(self):
        return _ew.trunc(self)

    def sign(self):
        return _ew.sign(self)

    def minimum(self, other):
        return _ew.minimum(self, other)

    # ---- reductions --------------------------------------------------------------------
    def sum(self, dim=None, keepdim: bool = False, *, dtype=None):
        if dtype is None:  # the common call, without a keyword to pass on
            return _reduce.sum(self, dim, keepdim)
        return _reduce.sum(self, dim, keepdim, dtype=dtype)

    def mean(self, dim=None, keepdim: bool = False, *, dtype=None):
        return _reduce.mean(self, dim, keepdim, dtype=dtype)

    def var(self, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
        return _reduce.var(self, dim, unbiased, keepdim, correction=correction)

    def max(self, dim=None, keepdim: bool = False, *, other=None):
        return _reduce.max(self, dim, keepdim, other=other)

    def min(self, dim=None, keepdim: bool = False, *, other=None):
        return _reduce.min(self, dim, keepdim, other=other)

    def argmax(self, dim=None, keepdim: bool = False):
        return _reduce.argmax(self, dim, keepdim)

    def argmin(self, dim=None, keepdim: bool = False):
        return _reduce.argmin(self, dim, keepdim)

    def logsumexp(self, dim=None, keepdim: bool = False):
        return _reduce.logsumexp(self, dim, keepdim)

    def softmax(self, dim=None, *, dtype=None):
        return _reduce.softmax(self, dim, dtype=dtype)

    def log_softmax(self, dim=None, *, dtype=None):
        return _reduce.log_softmax(self, dim, dtype=dtype)

    # ---- shape -----------------------------------------------------------------------------
    def reshape(self, *sizes, shape=None):
        """``x.reshape(2, 3)``, ``x.reshape((2, 3))`` or ``x.reshape(shape=(2, 3))``."""
        return _shape.reshape(self, _shape.sizes_arg("reshape", sizes, shape, "shape"))

    def view(self, *sizes, size=None):
        """``x.view(2, 3)``, ``x.view((2, 3))`` or ``x.view(size=(2, 3))``."""
        return _shape.view(self, *sizes, size=size)

    def flatten(self, start_dim: int = 0, end_dim: int = -1):
        return _shape.flatten(self, start_dim, end_dim)

    def transpose(self, dim0: int, dim1: int):
        return _shape.transpose(self, dim0, dim1)

    def permute(self, *order, dims=None):
        """``x.permute(1, 0)``, ``x.permute((1, 0))`` or ``x.permute(dims=(1, 0))``."""
        return _shape.permute(self, _shape.sizes_arg("permute", order, dims, "dims"))

    @property
    def T(self):  # noqa: N802 - PyTorch's name
        return _shape.permute(self, tuple(reversed(range(self._data.ndim))))

    def squeeze(self, dim=None):
        return _shape.squeeze(self, dim)

    def unsqueeze(self, dim: int):
        return _shape.unsqueeze(self, dim)

    def expand(self, *sizes, size=None):
        return _shape.expand(self, *sizes, size=size)

    def matmul(self, other):
        return _linalg.matmul(self, other)

    # ---- PyTorch's named forms of the operators, and more of its methods -------------------
    def add(self, other, *, alpha=1):
        return _ew.add(self, other, alpha=alpha)

    def sub(self, other, *, alpha=1):
        return _ew.sub(self, other, alpha=alpha)

    def mul(self, other):
        return _ew.mul(self, other)

    def div(self, other):
        return _ew.div(self, other)

    def t(self):
        return _shape.t(self)

    def mm(self, mat2):
        return _linalg.mm(self, mat2)

    def dot(self, tensor):
        return _linalg.dot(self, tensor)

    def outer(self, vec2):
        return _linalg.outer(self, vec2)

    def bmm(self, mat2):
        return _linalg.bmm(self, mat2)

    def mv(self, vec):
        return _linalg.mv(self, vec)

    def view_as(self, other: Tensor):
        return _shape.view(self, other._data.shape)

    def reshape_as(self, other: Tensor):
        return _shape.reshape(self, other._data.shape)

    def expand_as(self, other: Tensor):
        return _shape.expand(self, other._data.shape)

    def flip(self, *dims):
        return _shape.flip(self, dims[0] if len(dims) == 1 else dims)

    def repeat(self, *sizes):
        return _shape.repeat(self, *sizes)

    def tril(self, diagonal: int = 0):
        return _shape.tril(self, diagonal)

    def triu(self, diagonal: int = 0):
        return _shape.triu(self, diagonal)

    def square(self):
        return _ew.square(self)

    def rsqrt(self):
        return _ew.rsqrt(self)

    def reciprocal(self):
        return _ew.reciprocal(self)

    def log1p(self):
        return _ew.log1p(self)

    def expm1(self):
        return _ew.expm1(self)

    def log2(self):
        return _ew.log2(self)

    def log10(self):
        return _ew.log10(self)

    def tan(self):
        return _ew.tan(self)

    def clamp_min(self, min):  # noqa: A002 - PyTorch's names
        return _ew.clamp_min(self, min)

    def clamp_max(self, max):  # noqa: A002 - PyTorch's names
        return _ew.clamp_max(self, max)

    def amax(self, dim=(), keepdim: bool = False):
        return _reduce.amax(self, dim, keepdim)

    def amin(self, dim=(), keepdim: bool = False):
        return _reduce.amin(self, dim, keepdim)

    def cumsum(self, dim: int, *, dtype=None):
        return _reduce.cumsum(self, dim, dtype=dtype)

    def prod(self, dim=None, keepdim: bool = False, *, dtype=None):
        return _reduce.prod(self, dim, keepdim, dtype=dtype)

    def norm(self, p="fro", dim=None, keepdim: bool = False, dtype=None):
        return _reduce.norm(self, p, dim, keepdim, dtype)

    def argsort(self, dim: int = -1, descending: bool = False, stable: bool = False):
        return _reduce.argsort(self, dim, descending, stable)

    def std(self, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
        return _reduce.std(self, dim, unbiased, keepdim, correction=correction)

    def sort(self, dim: int = -1, descending: bool = False, stable: bool = False):
        return _reduce.sort(self, dim, descending, stable)

    def topk(self, k: int, dim=None, largest: bool = True, sorted: bool = True):  # noqa: A002
        return _reduce.topk(self, k, dim, largest, sorted)

    def gather(self, dim: int, index, *, sparse_grad: bool = False):
        return _shape.gather(self, dim, index, sparse_grad=sparse_grad)

    def scatter(self, dim: int, index, src=None, *, value=None, reduce=None):
        return _shape.scatter(self, dim, index, src, value=value, reduce=reduce)

    def scatter_add(self, dim: int, index, src):
        return _shape.scatter_add(self, dim, index, src)

    def masked_fill(self, mask, value):
        return _ew.masked_fill(self, mask, value)

    def split(self, split_size, dim: int = 0):
        return _shape.split(self, split_size, dim)

    def chunk(self, chunks: int, dim: int = 0):
        return _shape.chunk(self, chunks, dim)

    def roll(self, shifts, dims=None):
        return _shape.roll(self, shifts, dims)

    def repeat_interleave(self, repeats, dim=None, *, output_size=None):
        return _shape.repeat_interleave(self, repeats, dim, output_size=output_size)

    def take_along_dim(self, indices, dim=None):
        return _shape.take_along_dim(self, indices, dim)

    def masked_select(self, mask):
        return _shape.masked_select(self, mask)

    def diag(self, diagonal: int = 0):
        return _shape.diag(self, diagonal)

    def diagonal(self, offset: int = 0, dim1: int = 0, dim2: int = 1):
        return _shape.diagonal(self, offset, dim1, dim2)

    def trace(self):
        return _shape.trace(self)

    @property
    def mT(self):  # noqa: N802 - PyTorch's name
        """The last two dims swapped (a batch of matrices, each transposed)."""
        if self._data.ndim < 2:
            raise RuntimeError(
                f"tensor.mT is only supported on matrices or batches of matrices. Got "
                f"{self._data.ndim}-D tensor."
            )
        return _shape.transpose(self, -2, -1)

    @property
    def mH(self):  # noqa: N802 - PyTorch's name
        """The conjugate transpose of the last two dims: ``mT`` for real tensors."""
        return self.mT

    def select(self, dim: int, index: int):
        return _shape.select(self, dim, index)

    def unbind(self, dim: int = 0):
        return _shape.unbind(self, dim)

    def tensor_split(self, indices_or_sections=None, dim: int = 0, *, sections=None,
                     indices=None):  # fmt: skip
        return _shape.tensor_split(self, indices_or_sections, dim, sections=sections,
                                   indices=indices)  # fmt: skip

    def index_add(self, dim: int, index, source, *, alpha=1):
        return _shape.index_add(self, dim, index, source, alpha=alpha)

    def index_fill(self, dim: int, index, value):
        return _shape.index_fill(self, dim, index, value)

    def lerp(self, end, weight):
        return _ew.lerp(self, end, weight)

    def nan_to_num(self, nan: float = 0.0, posinf=None, neginf=None):
        return _ew.nan_to_num(self, nan, posinf, neginf)

    def atan2(self, other):
        return _ew.atan2(self, other)

    arctan2 = atan2

    def cumprod(self, dim: int, *, dtype=None):
        return _reduce.cumprod(self, dim, dtype=dtype)

    def median(self, dim=None, keepdim: bool = False):
        return _reduce.median(self, dim, keepdim)

    def unique(self, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
               return_counts: bool = False, dim=None):  # fmt: skip
        return _reduce.unique(self, sorted, return_inverse, return_counts, dim)

    def bincount(self, weights=None, minlength: int = 0):
        return _reduce.bincount(self, weights, minlength)

    def nonzero(self, *, as_tuple: bool = False):
        return _reduce.nonzero(self, as_tuple=as_tuple)

    def argwhere(self):
        return _reduce.argwhere(self)

    def addmm(self, mat1, mat2, *, beta=1, alpha=1):
        return _linalg.addmm(self, mat1, mat2, beta=beta, alpha=alpha)

    def baddbmm(self, batch1, batch2, *, beta=1, alpha=1):
        return _linalg.baddbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    def cross(self, other, dim=None):
        return _linalg.cross(self, other, dim)

    def kron(self, other):
        return _linalg.kron(self, other)

    def bernoulli(self, p=None, *, generator=None):
        return bernoulli(self, p, generator=generator)

    def multinomial(self, num_samples: int, replacement: bool = False, *, generator=None):
        return multinomial(self, num_samples, replacement, generator=generator)

    # ---- in-place methods: they change the array and record nothing ------------------------
    # Each one bumps the version of the array's memory first (``autograd.bump_version``),
    # so backward refuses a value a rule saved before the change; ``.data`` is the escape.
    _versioned = True

    def _writable(self) -> np.ndarray:
        """The array, once it is sure that changing it in place breaks no gradient that
        the graph records now (backward checks the versions of the values rules saved)."""
        if self.requires_grad and autograd.is_grad_enabled():
            if self._ctx is None:
                raise RuntimeError(
                    "a leaf Variable that requires grad is being used in an in-place operation."
                )
            raise RuntimeError(
                "an in-place operation on a tensor that an op made and that requires grad is "
                "not recorded in the graph; use the out-of-place form (x = x.add(y)) or run "
                "it inside `with ds.no_grad():`"
            )
        if self._versioned:
            autograd.bump_version(self._data)
        return self._data

    def _update(self, ufunc, value) -> Tensor:
        ufunc(self._writable(), array_of(value), out=self._data, casting="same_kind")
        return self

    def add_(self, other, *, alpha=1):
        arr = self._writable()
        value = array_of(other)
        np.add(arr, value if alpha == 1 else value * alpha, out=arr, casting="same_kind")
        return self

    def sub_(self, other, *, alpha=1):
        arr = self._writable()
        value = array_of(other)
        np.subtract(arr, value if alpha == 1 else value * alpha, out=arr, casting="same_kind")
        return self

    def mul_(self, other):
        return self._update(np.multiply, other)

    def div_(self, other):
        if self._data.dtype.kind != "f":
            raise RuntimeError(
                f"result type Float can't be cast to the desired output type {self._data.dtype}"
            )
        return self._update(np.true_divide, other)

    def zero_(self):
        self._writable()[...] = 0
        return self

    def fill_(self, value):
        value = array_of(value)
        if np.ndim(value) != 0:
            raise RuntimeError(
                f"fill_ only supports 0-dimension value tensor but got tensor with "
                f"{np.ndim(value)} dimensions."
            )
        self._writable()[...] = value
        return self

    def copy_(self, src, non_blocking: bool = False):
        value = array_of(src)
        try:
            np.broadcast_to(value, self._data.shape)
        except ValueError:
            raise RuntimeError(
                f"copy_: the source of shape {np.shape(value)} must broadcast to the "
                f"destination's shape {self._data.shape}"
            ) from None
        np.copyto(self._writable(), value, casting="unsafe")
        return self

    def clamp_(self, min=None, max=None):  # noqa: A002 - PyTorch's names
        if min is None and max is None:
            raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
        arr = self._writable()
        np.clip(arr, array_of(min), array_of(max), out=arr)
        return self

    def clip_(self, min=None, max=None):  # noqa: A002 - PyTorch's names
        return self.clamp_(min, max)

    def exp_(self):
        return self._update_unary(np.exp)

    def _update_unary(self, ufunc) -> Tensor:
        if self._data.dtype.kind != "f":
            raise RuntimeError(
                f"{ufunc.__name__}_: needs a floating tensor, this one is {self._data.dtype}"
            )
        arr = self._writable()
        ufunc(arr, out=arr)
        return self

    def normal_(self, mean: float = 0.0, std: float = 1.0, *, generator=None):
        """Fill with samples of N(mean, std**2) from ``generator`` (descent's by default)."""
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
        arr = self._writable()
        rng = _rng(generator, "normal_")
        arr[...] = rng.standard_normal(arr.shape, dtype=float64) * std + mean
        return self

    def uniform_(self, *args, generator=None, **bounds):
        """Fill with samples of U[from, to) (PyTorch's ``uniform_(from=0, to=1)``)."""
        names = ("from", "to")
        given = dict(zip(names, args))
        for name, value in bounds.items():
            if name not in names:
                raise TypeError(f"uniform_() got an unexpected keyword argument {name!r}")
            given[name] = value
        lo, hi = float(given.get("from", 0.0)), float(given.get("to", 1.0))
        if lo > hi:
            raise RuntimeError(
                f"uniform_ expects to return a [from, to) range, but found from={lo} > to={hi}"
            )
        arr = self._writable()
        rng = _rng(generator, "uniform_")
        arr[...] = rng.uniform(lo, hi, arr.shape)
        return self

    def _assign(self, compute) -> Tensor:
        """``compute`` (an out-of-place op on this tensor's values) written into it."""
        arr = self._writable()
        arr[...] = compute(make_tensor(arr))._data
        return self

    def masked_fill_(self, mask, value):
        return self._assign(lambda x: _ew.masked_fill(x, mask, array_of(value)))

    def index_fill_(self, dim: int, index, value):
        return self._assign(lambda x: _shape.index_fill(x, dim, index, array_of(value)))

    def index_add_(self, dim: int, index, source, *, alpha=1):
        source = array_of(source)
        return self._assign(lambda x: _shape.index_add(x, dim, index, source, alpha=alpha))

    def scatter_(self, dim: int, index, src=None, *, value=None, reduce=None):
        src = array_of(src) if src is not None else None
        return self._assign(
            lambda x: _shape.scatter(x, dim, index, src, value=value, reduce=reduce)
        )

    def scatter_add_(self, dim: int, index, src):
        return self._assign(lambda x: _shape.scatter_add(x, dim, index, array_of(src)))

    def fill_diagonal_(self, fill_value, wrap: bool = False):
        """The main diagonal set to ``fill_value``: of a matrix, or of a tensor whose dims
        are all of one length; ``wrap=True`` starts it again every n + 1 rows of a tall matrix."""
        shape = self._data.shape
        if len(shape) < 2:
            raise RuntimeError("dimensions must larger than 1")
        if len(shape) > 2 and len(set(shape)) != 1:
            raise RuntimeError("all dimensions of input must be of equal length")
        np.fill_diagonal(self._writable(), array_of(fill_value), wrap=wrap)
        return self

    def bernoulli_(self, p=0.5, *, generator=None):
        """Each element set to 1 with probability ``p`` (a number or a tensor), else 0."""
        arr = self._writable()
        probs = np.broadcast_to(_probabilities(p, "bernoulli_"), arr.shape)
        arr[...] = _rng(generator, "bernoulli_").random(arr.shape) < probs
        return self


class _DataTensor(Tensor):
    """What ``t.data`` returns: a Tensor whose in-place changes bump no version."""

    __slots__ = ()
    _versioned = False


_new = object.__new__


def clone(input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's name
    """A copy of ``input`` that stays in the graph (``Tensor.clone``)."""
    return input.clone()


def make_tensor(data: np.ndarray, ctx=None, requires_grad: bool = False) -> Tensor:
    """Wrap an array without copying: the constructor every op's output goes through."""
    t = _new(Tensor)
    t._data = data
    t._grad = None
    t._ctx = ctx
    t._retains_grad = False
    t._pending = None
    t.requires_grad = requires_grad
    return t


def array_of(value):
    """The array behind a Tensor; anything else as it is."""
    return value._data if isinstance(value, Tensor) else value


def as_tensor(value, like: Tensor | None = None) -> Tensor:
    """``value`` as a Tensor; numbers and float arrays take ``like``'s floating dtype.

    Used for the non-tensor operand of an operator, so ``x * 2.0`` stays float32 when x
    is float32 (no silent upcast to float64).
    """
    if isinstance(value, Tensor):
        return value
    if like is not None and like._data.dtype.kind == "f":
        arr = np.asarray(value)
        if arr.dtype.kind in "fiub":
            return make_tensor(arr.astype(like._data.dtype, copy=False))
    if isinstance(value, bool):
        return make_tensor(np.asarray(value))
    if isinstance(value, float):
        return make_tensor(np.asarray(value, dtype=_default_dtype))
    if isinstance(value, int):
        return make_tensor(np.asarray(value, dtype=int64))
    return Tensor(value)


def tensor(data, dtype=None, requires_grad: bool = False, *, device=None) -> Tensor:
    """A new tensor holding a copy of ``data``.

    Without ``dtype``, PyTorch's rule: a NumPy array, NumPy scalar or Tensor keeps its
    dtype (a float64 array gives a float64 tensor); Python floats and lists of them take
    the default dtype (float32, see ``ds.set_default_dtype``); Python ints give int64 and
    bools bool; a list of several kinds takes their promotion, floats over integers over
    bools. float16 data is refused (descent computes in float32 or float64): pass
    ``dtype=ds.float32``. Only floating tensors can require gradients.

    >>> ds.tensor([[1, 2], [3, 4]], dtype=ds.float64, requires_grad=True).shape
    descent.Size([2, 2])
    """
    check_device(device)
    return Tensor(data, dtype=dtype, requires_grad=requires_grad)


def _size(size) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        return tuple(size[0])
    return tuple(size)


def _float_dtype(dtype) -> np.dtype:
    return as_dtype(dtype) or _default_dtype


def zeros(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    check_device(device)
    return make_tensor(np.zeros(_size(size), _float_dtype(dtype))).requires_grad_(requires_grad)


def ones(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    check_device(device)
    return make_tensor(np.ones(_size(size), _float_dtype(dtype))).requires_grad_(requires_grad)


def empty(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor whose values are whatever the memory held (fill it before reading it)."""
    check_device(device)
    return make_tensor(np.empty(_size(size), _float_dtype(dtype))).requires_grad_(requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    check_device(device)
    if dtype is None:
        dtype = _default_dtype if isinstance(fill_value, float) else np.asarray(fill_value).dtype
    arr = np.full(
        tuple(size) if not isinstance(size, int) else (size,), fill_value, as_dtype(dtype)
    )
    return make_tensor(arr).requires_grad_(requires_grad)


def zeros_like(t: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    check_device(device)
    arr = np.zeros_like(array_of(t), dtype=as_dtype(dtype))
    return make_tensor(arr).requires_grad_(requires_grad)


def ones_like(t: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    check_device(device)
    arr = np.ones_like(array_of(t), dtype=as_dtype(dtype))
    return make_tensor(arr).requires_grad_(requires_grad)


def _rng(generator, who: str) -> np.random.Generator:
    """``generator`` (a ``ds.Generator``, or any NumPy Generator), or descent's own."""
    if generator is None:
        return _random.generator()
    if not isinstance(generator, np.random.Generator):
        raise TypeError(
            f"{who}: generator must be a ds.Generator (ds.Generator().manual_seed(0)), got "
            f"{type(generator).__name__}"
        )
    return generator


def randn(*size, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples from ``generator``, or descent's (see ``ds.manual_seed``)."""
    check_device(device)
    arr = _rng(generator, "randn").standard_normal(_size(size), dtype=_float_dtype(dtype))
    return make_tensor(arr).requires_grad_(requires_grad)


def rand(*size, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Uniform samples on [0, 1) from ``generator``, or descent's."""
    check_device(device)
    arr = _rng(generator, "rand").random(_size(size), dtype=_float_dtype(dtype))
    return make_tensor(arr).requires_grad_(requires_grad)


def randint(*args, low=None, high=None, size=None, generator=None, dtype=None, device=None,
            requires_grad: bool = False) -> Tensor:  # fmt: skip
    """Integers drawn uniformly from [low, high), from ``generator`` or descent's.

    PyTorch's two forms: ``ds.randint(high, size)`` and ``ds.randint(low, high, size)``
    (``size`` a tuple; each may be given by keyword). The dtype is int64 unless asked.

    >>> ds.randint(3, 10, (2, 2)).shape
    descent.Size([2, 2])
    """
    check_device(device)
    if len(args) > 3:
        raise TypeError(f"randint() takes at most 3 positional arguments ({len(args)} given)")
    given = {n: v for n, v in (("low", low), ("high", high), ("size", size)) if v is not None}
    free = [n for n in ("low", "high", "size") if n not in given]  # what the args may fill
    if len(args) < len(free) and free[0] == "low":
        free = free[1:]  # low defaults to 0: ds.randint(high, size), ds.randint(5, size=(3,))
    if len(args) > len(free):
        order = ("low", "high", "size") if len(args) == 3 else ("high", "size")
        name = next(n for n in order if n in given)
        raise TypeError(f"randint() got multiple values for argument {name!r}")
    given.update(zip(free, args))
    low, high, size = given.get("low"), given.get("high"), given.get("size")
    if high is None or size is None:
        raise TypeError(
            "randint() needs high and size: ds.randint(high, size) or "
            "ds.randint(low, high, size), size a tuple such as (3,)"
        )
    low = 0 if low is None else low
    if not low < high:
        raise RuntimeError(
            f"randint: low must be less than high (the values are drawn from [low, high)), "
            f"got low={low} >= high={high}"
        )
    shape = (size,) if isinstance(size, int) else tuple(size)
    arr = _rng(generator, "randint").integers(int(low), int(high), shape, dtype=np.int64)
    dtype = as_dtype(dtype) or int64
    return make_tensor(arr.astype(dtype, copy=False)).requires_grad_(requires_grad)


def randperm(n: int, *, generator=None, dtype=None, device=None,
             requires_grad: bool = False) -> Tensor:  # fmt: skip
    """A random permutation of 0 .. n-1 (int64), from ``generator`` or descent's."""
    check_device(device)
    if n < 0:
        raise RuntimeError(f"randperm: n must be non-negative, got {n}")
    arr = _rng(generator, "randperm").permutation(int(n)).astype(as_dtype(dtype) or int64)
    return make_tensor(arr).requires_grad_(requires_grad)


def _probabilities(p, who: str) -> np.ndarray:
    arr = np.asarray(p._data if isinstance(p, Tensor) else p)
    if arr.size and not ((arr >= 0) & (arr <= 1)).all():
        raise RuntimeError(f"{who}: expected every probability p to be in [0, 1]")
    return arr


def bernoulli(input, p=None, *, generator=None) -> Tensor:  # noqa: A002 - PyTorch's names
    """1 with probability ``input`` (or ``p``, a number, for every element), else 0, in
    input's dtype; from ``generator`` or descent's. No gradient."""
    probs = _probabilities(input if p is None else p, "bernoulli")
    draw = _rng(generator, "bernoulli").random(input._data.shape)
    return make_tensor((draw < probs).astype(input._data.dtype))


def multinomial(input, num_samples: int, replacement: bool = False, *,  # noqa: A002
                generator=None) -> Tensor:  # fmt: skip
    """``num_samples`` category indices per row of ``input`` (1-d or 2-d non-negative
    weights, not necessarily summing to 1), each drawn with probability proportional to its
    weight; without ``replacement`` no row repeats a category. int64, no gradient."""
    w = np.asarray(input._data, np.float64)
    if w.ndim not in (1, 2):
        raise RuntimeError(f"prob_dist must be 1 or 2 dim, got {w.ndim}")
    if num_samples <= 0:
        raise RuntimeError(f"cannot sample n_sample <= 0 samples, got {num_samples}")
    rows = w.reshape(-1, w.shape[-1])
    if not np.isfinite(rows).all() or (rows < 0).any():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if (rows.sum(axis=1) <= 0).any():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    rng = _rng(generator, "multinomial")
    if replacement:
        cdf = np.cumsum(rows, axis=1)
        u = rng.random((rows.shape[0], num_samples)) * cdf[:, -1:]
        out = np.stack([np.searchsorted(c, x, side="right") for c, x in zip(cdf, u)])
        out = np.minimum(out, rows.shape[1] - 1)
    else:
        if num_samples > rows.shape[1]:
            raise RuntimeError(
                "cannot sample n_sample > prob_dist.size(-1) samples without replacement"
            )
        if ((rows > 0).sum(axis=1) < num_samples).any():
            raise RuntimeError(
                "invalid multinomial distribution (with replacement=False, not enough "
                "non-negative category to sample)"
            )
        # NOTE: the k largest of log(u) / w are a draw of k categories without replacement,
        # each in turn with probability proportional to its weight among those left
        with np.errstate(divide="ignore"):
            keys = np.log(rng.random(rows.shape)) / rows
        out = np.argsort(-keys, axis=1, kind="stable")[:, :num_samples]
    return make_tensor(out.reshape(w.shape[:-1] + (num_samples,)).astype(np.int64))


def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, device=None,
           requires_grad: bool = False) -> Tensor:  # fmt: skip
    """Samples of N(mean, std**2): ``mean`` and ``std`` tensors (broadcast together) or
    numbers, and with two numbers a ``size``; from ``generator`` or descent's."""
    check_device(device)
    tensors = [t for t in (mean, std) if isinstance(t, Tensor)]
    if tensors:
        if size is not None:
            raise RuntimeError("normal: size is only taken with a number mean and std")
        shape = np.broadcast_shapes(*(t._data.shape for t in tensors))
        out_dtype = as_dtype(dtype) or tensors[0]._data.dtype
    else:
        if size is None:
            raise TypeError("normal() with a number mean and std needs a size, e.g. (3,)")
        shape, out_dtype = _size((size,)), _float_dtype(dtype)
    m, s = array_of(mean), array_of(std)
    if (np.asarray(s) < 0).any():
        raise RuntimeError("normal expects all elements of std >= 0.0")
    draw = _rng(generator, "normal").standard_normal(shape)
    arr = (draw * s + m).astype(out_dtype)
    return make_tensor(arr).requires_grad_(requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None,
           requires_grad: bool = False) -> Tensor:  # fmt: skip
    """Values from start to end (exclusive): integers stay int64, floats take the default
    dtype (float32)."""
    check_device(device)
    if end is None:
        start, end = 0, start
    if dtype is None:
        is_float = builtins.any(isinstance(v, float) for v in (start, end, step))
        dtype = _default_dtype if is_float else int64
    arr = np.arange(start, end, step, dtype=as_dtype(dtype))
    return make_tensor(arr).requires_grad_(requires_grad)


def linspace(start, end, steps: int, dtype=None, device=None,
             requires_grad: bool = False) -> Tensor:  # fmt: skip
    """``steps`` evenly spaced values from start to end, both included (the default dtype,
    float32, unless asked).

    Computed as PyTorch does, in the tensor's own dtype: the first half counts up from
    ``start`` and the second half down from ``end``, so both ends are exact (the values
    between may differ from PyTorch's in the last bit, which can fuse a multiply-add).

    >>> ds.linspace(0, 1, 5)
    tensor([0.0000, 0.2500, 0.5000, 0.7500, 1.0000])
    """
    check_device(device)
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)):
        raise TypeError(f"linspace: steps must be an int, got {type(steps).__name__}")
    if steps < 0:
        raise RuntimeError(f"linspace: the number of steps must be non-negative, got {steps}")
    dtype = _float_dtype(dtype)
    work = dtype if dtype.kind == "f" else float64
    start, end = (float(array_of(v)) for v in (start, end))
    if steps == 1:
        arr = np.full(1, start, work)
    else:
        i = np.arange(steps, dtype=work)
        step = (work.type(end) - work.type(start)) / work.type(steps - 1)
        arr = np.where(
            i < steps // 2, work.type(start) + step * i,
            work.type(end) - step * (steps - 1 - i),
        )  # fmt: skip
    return make_tensor(arr.astype(dtype, copy=False)).requires_grad_(requires_grad)


def eye(n: int, m: int | None = None, dtype=None, device=None,
        requires_grad: bool = False) -> Tensor:  # fmt: skip
    check_device(device)
    return make_tensor(np.eye(n, m, dtype=_float_dtype(dtype))).requires_grad_(requires_grad)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with a NumPy array: writing one shows in the other.

    The array keeps its dtype (float64 stays float64, as in PyTorch).
    """
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray (got {type(array).__name__})")
    if array.dtype.kind not in "fiub":
        raise TypeError(
            f"from_numpy: cannot share an array of dtype {array.dtype}; descent's tensors "
            f"hold floating, integer or bool data"
        )
    if array.dtype.kind == "f" and array.dtype.itemsize < 4:
        raise _no_float16("from_numpy")
    return make_tensor(array)


def asarray(obj, dtype=None, device=None, copy=None, requires_grad: bool = False) -> Tensor:
    """``obj`` as a tensor, sharing memory where it can (``ds.as_tensor``, ``ds.asarray``).

    A Tensor of the asked dtype is returned as it is; a NumPy array of the asked dtype is
    shared, not copied (its dtype is kept when none is asked); anything else is converted
    as ``ds.tensor`` converts it. ``copy=True`` always copies, ``copy=False`` refuses to.
    """
    check_device(device)
    want = as_dtype(dtype)
    if isinstance(obj, Tensor) and not copy and (want is None or obj.dtype == want):
        return obj.requires_grad_(True) if requires_grad else obj
    arr = obj._data if isinstance(obj, Tensor) else obj
    if isinstance(arr, np.ndarray) and (want is None or arr.dtype == want) and not copy:
        if arr.dtype.kind == "f" and arr.dtype.itemsize < 4:
            raise _no_float16("as_tensor")
        return from_numpy(arr).requires_grad_(requires_grad)
    if copy is False:
        raise ValueError(
            f"asarray: copy=False, but {type(obj).__name__} data cannot be shared as "
            f"dtype {want}; leave copy out to allow a copy"
        )
    return Tensor(arr, dtype=want, requires_grad=requires_grad)


def equal(input, other) -> bool:  # noqa: A002 - PyTorch's names
    """True when both tensors have one shape and equal elements (``torch.equal``)."""
    a, b = array_of(input), array_of(other)
    return a.shape == b.shape and bool(np.array_equal(a, b))


# ---- comparisons and logic (bool results, no gradient) -----------------------------------


def _bool(result) -> Tensor:
    return make_tensor(np.asarray(result))


def _pairwise(ufunc, name: str, input, other) -> Tensor:  # noqa: A002
    """``ufunc`` of two operands that broadcast, or the error naming ``name`` and the dim."""
    a, b = array_of(input), array_of(other)
    try:
        return _bool(ufunc(a, b))
    except ValueError as e:
        if "broadcast" not in str(e):
            raise
        raise _ew.broadcast_error(name, np.shape(a), np.shape(b)) from None


def eq(input, other) -> Tensor:  # noqa: A002 - PyTorch's names
    """``input == other`` elementwise (``other`` a tensor or a number)."""
    return _pairwise(np.equal, "eq", input, other)


def ne(input, other) -> Tensor:  # noqa: A002
    return _pairwise(np.not_equal, "ne", input, other)


def lt(input, other) -> Tensor:  # noqa: A002
    return _pairwise(np.less, "lt", input, other)


def le(input, other) -> Tensor:  # noqa: A002
    return _pairwise(np.less_equal, "le", input, other)


def gt(input, other) -> Tensor:  # noqa: A002
    return _pairwise(np.greater, "gt", input, other)


def ge(input, other) -> Tensor:  # noqa: A002
    return _pairwise(np.greater_equal, "ge", input, other)


def logical_and(input, other) -> Tensor:  # noqa: A002
    """True where both are nonzero."""
    return _pairwise(np.logical_and, "logical_and", input, other)


def logical_or(input, other) -> Tensor:  # noqa: A002
    """True where either is nonzero."""
    return _pairwise(np.logical_or, "logical_or", input, other)


def logical_not(input) -> Tensor:  # noqa: A002
    """True where ``input`` is zero."""
    return _bool(np.logical_not(array_of(input)))


def isnan(input) -> Tensor:  # noqa: A002
    return _bool(np.isnan(array_of(input)))


def isinf(input) -> Tensor:  # noqa: A002
    return _bool(np.isinf(array_of(input)))


def isfinite(input) -> Tensor:  # noqa: A002
    return _bool(np.isfinite(array_of(input)))


def _truth(ufunc, input, dim, keepdim: bool, name: str) -> Tensor:  # noqa: A002
    arr = array_of(input)
    axes = _reduce.normalize_dims(dim, arr.ndim, name)
    return _bool(ufunc(arr, axis=axes, keepdims=keepdim))


def any(input, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001, A002
    """True where some element over ``dim`` (all by default) is nonzero."""
    return _truth(np.any, input, dim, keepdim, "any")


def all(input, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001, A002
    """True where every element over ``dim`` (all by default) is nonzero."""
    return _truth(np.all, input, dim, keepdim, "all")


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def empty_like(t: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ``t``'s shape whose values are whatever the memory held."""
    check_device(device)
    arr = np.empty_like(array_of(t), dtype=as_dtype(dtype))
    return make_tensor(arr).requires_grad_(requires_grad)


def full_like(t: Tensor, fill_value, dtype=None, device=None,
              requires_grad: bool = False) -> Tensor:  # fmt: skip
    check_device(device)
    arr = np.full_like(array_of(t), fill_value, dtype=as_dtype(dtype))
    return make_tensor(arr).requires_grad_(requires_grad)


def rand_like(t: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Uniform samples on [0, 1) of ``t``'s shape and (floating) dtype."""
    return rand(*array_of(t).shape, dtype=dtype or _like_float(t, "rand_like"), device=device,
                requires_grad=requires_grad)  # fmt: skip


def randn_like(t: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples of ``t``'s shape and (floating) dtype."""
    return randn(*array_of(t).shape, dtype=dtype or _like_float(t, "randn_like"),
                 device=device, requires_grad=requires_grad)  # fmt: skip


def _like_float(t, name: str) -> np.dtype:
    dt = array_of(t).dtype
    if dt.kind != "f":
        raise RuntimeError(f'{name}: "check_uniform_bounds" not implemented for {dt}')
    return dt


def allclose(input, other, rtol: float = 1e-05, atol: float = 1e-08,  # noqa: A002
             equal_nan: bool = False) -> bool:  # fmt: skip
    """True when ``|input - other| <= atol + rtol * |other|`` everywhere (PyTorch's rule)."""
    return bool(
        np.allclose(array_of(input), array_of(other), rtol=rtol, atol=atol, equal_nan=equal_nan)
    )


# The ops import Tensor from this module, so they are imported after it is defined.
from .ops import elementwise as _ew  # noqa: E402
from .ops import linalg as _linalg  # noqa: E402
from .ops import reduce as _reduce  # noqa: E402
from .ops import shape as _shape  # noqa: E402

_Tanh, _Sigmoid = _ew.Tanh, _ew.Sigmoid
