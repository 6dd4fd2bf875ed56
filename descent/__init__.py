"""descent: deep learning and machine learning on NumPy, the way the lectures teach it.

>>> import descent as ds
>>> x = ds.tensor(2.0, requires_grad=True)
>>> y = x * x + 3 * x
>>> y.backward()
>>> x.grad
tensor(7.)
"""

from . import _malloc, autograd, cuda, nn, special
from .autograd import (
    enable_grad,
    grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from .compile import CompileError, compile
from .gradcheck import GradcheckError, gradcheck, gradgradcheck, numerical_grad
from .ops.elementwise import (
    abs,
    add,
    arctan2,
    atan2,
    ceil,
    clamp,
    clamp_max,
    clamp_min,
    clip,
    cos,
    div,
    erf,
    exp,
    expm1,
    floor,
    floor_divide,
    lerp,
    log,
    log1p,
    log2,
    log10,
    masked_fill,
    maximum,
    minimum,
    mul,
    nan_to_num,
    neg,
    negative,
    pow,
    reciprocal,
    relu,
    remainder,
    round,
    rsqrt,
    sigmoid,
    sign,
    sin,
    sqrt,
    square,
    sub,
    tan,
    tanh,
    trunc,
    where,
)
from .ops.linalg import addmm, baddbmm, bmm, cross, dot, einsum, kron, matmul, mm, mv, outer
from .ops.reduce import (
    amax,
    amin,
    argmax,
    argmin,
    argsort,
    argwhere,
    bincount,
    cumprod,
    cumsum,
    log_softmax,
    logsumexp,
    max,
    mean,
    median,
    min,
    nonzero,
    norm,
    prod,
    softmax,
    sort,
    std,
    std_mean,
    sum,
    topk,
    unique,
    var,
    var_mean,
)
from .ops.shape import (
    atleast_1d,
    atleast_2d,
    atleast_3d,
    broadcast_to,
    cat,
    chunk,
    column_stack,
    concat,
    concatenate,
    diag,
    diagonal,
    dstack,
    expand,
    flatten,
    flip,
    gather,
    hstack,
    index_add,
    index_fill,
    index_select,
    masked_select,
    meshgrid,
    movedim,
    narrow,
    pad,
    permute,
    repeat_interleave,
    reshape,
    roll,
    row_stack,
    scatter,
    scatter_add,
    select,
    split,
    squeeze,
    stack,
    t,
    take_along_dim,
    tensor_split,
    trace,
    transpose,
    tril,
    triu,
    unbind,
    unsqueeze,
    view,
    vstack,
)
from .random import Generator, get_rng_state, manual_seed, set_rng_state
from .tensor import (
    Size,
    Tensor,
    all,
    allclose,
    any,
    arange,
    asarray,
    bernoulli,
    bool_,
    clone,
    device,
    empty,
    empty_like,
    eq,
    equal,
    eye,
    float32,
    float64,
    from_numpy,
    full,
    full_like,
    ge,
    get_default_dtype,
    gt,
    int32,
    int64,
    is_tensor,
    isfinite,
    isinf,
    isnan,
    le,
    linspace,
    logical_and,
    logical_not,
    logical_or,
    lt,
    multinomial,
    ne,
    normal,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    set_default_dtype,
    tensor,
    zeros,
    zeros_like,
)

# PyTorch's other names for the dtypes (they shadow the builtins only inside this module).
float = float32  # noqa: A001
double = float64
long = int64
int = int32  # noqa: A001
bool = bool_  # noqa: A001
as_tensor = asarray


def numel(input):  # noqa: A002 - PyTorch's name
    """The number of elements of a tensor."""
    return input.numel()


__version__ = "0.1.0"

# The rest of the package is imported on first use (``ds.optim``, ``ds.viz`` ...), so that
# ``import descent`` stays fast: these are the submodules it can reach that way.
_SUBMODULES = (
    "data", "datasets", "distributed", "io", "keras", "lessons", "models", "onnx", "optim",
    "train", "utils", "viz",
)  # fmt: skip


_malloc.keep_freed_memory()


# Half precision is PyTorch's and not descent's: a clear answer instead of a missing name.
_NO_HALF = ("half", "float16", "bfloat16")


def __getattr__(name: str):
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    if name in _NO_HALF:
        raise AttributeError(
            f"descent has no half-precision dtype (ds.{name}); it computes in float32 "
            f"(ds.float) or float64 (ds.double)"
        )
    raise AttributeError(f"module 'descent' has no attribute {name!r}")


def save(obj_state, path, metadata=None):
    """Write a checkpoint (see ``descent.io.save``): safetensors, atomic, no pickle."""
    from .io import save as _save

    return _save(obj_state, path, metadata)


def load(path, map_location=None, *, weights_only=None, mmap=None):
    """Read a checkpoint written by ``save`` (see ``descent.io.load``)."""
    from .io import load as _load

    return _load(path, map_location, weights_only=weights_only, mmap=mmap)


__all__ = [
    "Tensor", "tensor", "zeros", "ones", "full", "zeros_like", "ones_like", "randn", "rand",
    "arange", "eye", "manual_seed", "get_rng_state", "set_rng_state", "Generator",
    "get_default_dtype", "set_default_dtype",
    "float32", "float64", "int64", "int32", "bool_",
    "float", "double", "long", "int", "bool",
    "empty", "linspace", "randint", "randperm", "from_numpy", "as_tensor", "asarray",
    "allclose", "device", "cuda",
    "no_grad", "enable_grad", "inference_mode", "set_grad_enabled", "is_grad_enabled",
    "grad", "autograd", "nn", "optim", "data", "train", "save", "load", "datasets", "viz", "models",
    "onnx", "keras", "compile", "CompileError",
    "gradcheck", "gradgradcheck", "numerical_grad", "GradcheckError",
    "exp", "log", "sqrt", "abs", "erf", "special", "sin", "cos", "tanh", "sigmoid", "relu",
    "clamp", "clip", "pow", "maximum", "minimum", "where",
    "sum", "mean", "var", "max", "min", "argmax", "argmin", "logsumexp", "softmax",
    "log_softmax",
    "reshape", "view", "flatten", "transpose", "permute", "squeeze", "unsqueeze", "expand",
    "matmul", "cat", "stack", "pad",
    "Size", "add", "sub", "mul", "div", "masked_fill", "mm", "einsum", "std", "sort", "topk",
    "gather", "scatter", "scatter_add", "split", "chunk", "t", "numel",
    "remainder", "floor_divide", "floor", "ceil", "round", "trunc", "sign", "dot", "equal",
    "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_not", "isnan",
    "isinf", "isfinite", "any", "all", "is_tensor", "empty_like", "full_like", "rand_like",
    "randn_like", "square", "rsqrt", "reciprocal", "log1p", "expm1", "log2", "log10", "tan",
    "clamp_min", "clamp_max", "amax", "amin", "cumsum", "prod", "norm", "argsort", "flip",
    "tril", "triu", "outer", "bmm", "mv",
    "clone", "neg", "negative", "movedim", "narrow", "index_select", "broadcast_to", "concat",
    "concatenate",
    "hstack", "vstack", "row_stack", "dstack", "column_stack", "atleast_1d", "atleast_2d",
    "atleast_3d", "roll", "repeat_interleave", "take_along_dim", "masked_select", "lerp",
    "nan_to_num", "diag", "diagonal", "trace", "meshgrid", "select", "unbind", "tensor_split",
    "addmm", "baddbmm", "cross", "kron", "var_mean", "std_mean", "atan2", "arctan2", "cumprod",
    "median", "unique", "bincount", "nonzero", "argwhere", "bernoulli", "multinomial", "normal",
    "index_add", "index_fill",
]  # fmt: skip
