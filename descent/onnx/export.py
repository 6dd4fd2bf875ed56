"""``ds.onnx.export``: a descent Module, or a fitted estimator's prediction, as an ONNX file.

How a model becomes a graph: the exporter walks the module tree from the top, beside a
forward pass on ``example_input`` that gives every layer's input and output shape.

- a layer of ``ds.nn`` that ONNX expresses becomes its nodes (``_layers.py`` holds one
  converter per layer class, looked up by the exact class, so a subclass with its own
  forward is never mistaken for its parent);
- any Module may say what it is in ONNX itself: a method ``onnx_export(graph, x)`` that
  adds nodes to ``graph`` (a ``Graph``: ``node``, ``const``, ``reduce``, ``opset``,
  ``dtype``) and returns the name of its output. The estimators' prediction modules use
  this, and so can a user's own layer;
- a ``Sequential`` is its layers in order, and a Module whose forward only hands the
  input from one sub-module to the next (``self.out(self.act(self.hidden(x)))``) is that
  chain: the exporter notes the sub-modules' calls through ``nn``'s global forward hooks
  and checks that each one took the previous one's output;
- anything else (tensor arithmetic between sub-modules, a residual sum, two inputs) is an
  ``ExportError`` that names the module by its path in the model ("model.3 (Embedding)")
  and says what is supported.

An estimator of ``ds.models`` (anything with ``to_module(method)``) is exported as the
Module that ``to_module`` returns: raw features in, the method's answer out (labels for
``predict``, probabilities for ``predict_proba``).
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np

from .._extras import require
from ..autograd import no_grad
from ..io import atomic_write
from ..nn import Module, Sequential
from ..nn.module import register_module_forward_hook, register_module_forward_pre_hook
from ..tensor import Tensor, tensor
from ._layers import CONVERTERS

__all__ = ["export", "ExportError", "Graph", "MIN_OPSET"]

MIN_OPSET = 13  # Softmax over one axis, Squeeze/Unsqueeze and ReduceSum take axes as inputs


class ExportError(ValueError):
    """A model (or one of its layers) that the exporter cannot write as ONNX, and why."""


class Graph:
    """The graph being built: what converters and ``onnx_export`` methods add nodes to.

    ``dtype`` is the NumPy float dtype of the graph's arithmetic (float32 or float64) and
    ``opset`` the ONNX opset it is written for.
    """

    def __init__(self, onnx, opset: int, dtype):
        self.onnx = onnx
        self.opset = int(opset)
        self.dtype = np.dtype(dtype)
        self.nodes: list = []
        self.initializers: list = []
        self._names: set[str] = set()

    def fresh(self, hint: str) -> str:
        """A name not used yet in this graph, made from ``hint``."""
        name, k = hint, 1
        while name in self._names:
            k += 1
            name = f"{hint}_{k}"
        self._names.add(name)
        return name

    def const(self, value, hint: str = "const", dtype=None) -> str:
        """An initializer holding ``value``: floats in the graph's dtype (or ``dtype``),
        other arrays (integers, strings) as they are. Returns its name."""
        arr = np.asarray(value.numpy() if isinstance(value, Tensor) else value)
        if dtype is not None:
            arr = arr.astype(dtype)
        elif arr.dtype.kind == "f":
            arr = arr.astype(self.dtype)
        if arr.dtype.kind in "US":
            arr = arr.astype(object)
        name = self.fresh(hint)
        self.initializers.append(self.onnx.numpy_helper.from_array(arr, name))
        return name

    def ints(self, values, hint: str = "ints") -> str:
        """A 1-D int64 initializer (shapes, axes, pads)."""
        return self.const(np.asarray(list(values), np.int64), hint, np.int64)

    def node(self, op: str, *inputs: str, hint: str | None = None, **attrs) -> str:
        """Add the ONNX node ``op`` on ``inputs`` (names; '' for an omitted optional input)
        with attributes ``attrs``; returns its output's name."""
        out = self.fresh(hint or op.lower())
        self.nodes.append(self.onnx.helper.make_node(op, list(inputs), [out], **attrs))
        return out

    def reduce(self, op: str, x: str, axes, keepdims: bool = True) -> str:
        """``op`` (ReduceMean, ReduceSum, ReduceProd ...) over ``axes``: axes are an input
        from opset 18 on (ReduceSum from 13), an attribute before."""
        axes = [int(a) for a in axes]
        if op == "ReduceSum" or self.opset >= 18:
            return self.node(op, x, self.ints(axes, "axes"), keepdims=int(keepdims))
        return self.node(op, x, axes=axes, keepdims=int(keepdims))

    def scalar(self, value, hint: str = "c") -> str:
        """A 0-d constant in the graph's float dtype."""
        return self.const(np.asarray(value, self.dtype), hint)


class Site:
    """Where a layer sits: its path in the model and its example input and output shapes."""

    def __init__(self, path: str, module: Module, shape_in: tuple, shape_out: tuple):
        self.path, self.module = path, module
        self.shape_in, self.shape_out = tuple(shape_in), tuple(shape_out)

    def where(self) -> str:
        return f"{self.path} ({type(self.module).__name__})"

    def refuse(self, why: str) -> ExportError:
        return ExportError(f"ds.onnx.export: {self.where()} {why}")


def _shape(value) -> tuple:
    return tuple(np.shape(value.numpy() if isinstance(value, Tensor) else value))


def _run(module: Module, x):
    with no_grad():
        return module(x)


def _supported() -> str:
    return ", ".join(sorted(c.__name__ for c in CONVERTERS))


def _emit(g: Graph, module: Module, x: str, value, path: str):
    """Add ``module`` applied to ``x`` (whose example value is ``value``) to ``g``; returns
    (the output's name, its example value)."""
    convert = CONVERTERS.get(type(module))
    own = getattr(module, "onnx_export", None)
    if convert is not None or callable(own):
        out = _run(module, value)
        if convert is not None:
            return convert(g, module, x, Site(path, module, _shape(value), _shape(out))), out
        return own(g, x), out
    if isinstance(module, Sequential) and type(module).forward is Sequential.forward:
        for i, layer in enumerate(module):
            x, value = _emit(g, layer, x, value, f"{path}.{i}")
        return x, value
    for sub_path, child in _chain(module, value, path):
        x, value = _emit(g, child, x, value, sub_path)
    return x, value


def _version(value) -> int | None:
    """The in-place version of a Tensor (None for anything else)."""
    return value._version if isinstance(value, Tensor) else None


def _chain(module: Module, value, path: str) -> list:
    """The sub-modules ``module.forward`` calls, in order, as (path, module), if each one
    takes the previous one's output (the first the input, the last giving the output);
    otherwise an ExportError saying what the exporter can follow."""
    where = f"{path} ({type(module).__name__})"
    names = {id(m): name for name, m in module.named_modules() if m is not module}
    calls, depth, seen = [], [0], []

    def before(m, args):
        depth[0] += 1
        if depth[0] == 2:  # the versions of its inputs as the sub-module receives them
            seen.append([_version(a) for a in args])

    def after(m, args, output):
        if depth[0] == 2:  # called by module.forward itself (module's own call is depth 1)
            # the output's version as it leaves: an in-place change between this call and
            # the next (y.mul_(2), y += 1) is arithmetic the chain would not show
            calls.append((m, args, output, seen.pop(), _version(output)))
        depth[0] -= 1

    pre = register_module_forward_pre_hook(before)
    post = register_module_forward_hook(after, always_call=True)
    try:
        out = _run(module, value)
    finally:
        pre.remove()
        post.remove()
    if not calls:
        raise ExportError(
            f"ds.onnx.export: {where} has no ONNX form: it is not one of the layers the "
            f"exporter knows ({_supported()}), it calls no sub-modules, and it defines no "
            f"onnx_export(graph, x) method"
        )
    current, version, chain = value, _version(value), []
    for m, args, output, versions_in, version_out in calls:
        if id(m) not in names or len(args) != 1 or args[0] is not current:
            break
        if versions_in[0] != version:  # changed in place before this call
            break
        chain.append((f"{path}.{names[id(m)]}", m))
        current, version = output, version_out
    else:
        if current is out and _version(out) == version:
            return chain
    called = ", ".join(f"{names.get(id(m), '?')} ({type(m).__name__})" for m, *_ in calls)
    raise ExportError(
        f"ds.onnx.export: {where} has a forward that is not a chain of its sub-modules (it "
        f"calls {called}, but computes something else between or around them (an "
        f"in-place change such as y.mul_(2) or y += 1 included), or passes more than one "
        f"tensor); the exporter follows Sequential, a forward that hands the "
        f"input from one sub-module to the next, and any Module that defines "
        f"onnx_export(graph, x)"
    )


def _float_dtype(dtype) -> np.dtype:
    dt = np.dtype(getattr(dtype, "numpy_dtype", dtype) if not isinstance(dtype, str) else dtype)
    if dt not in (np.float32, np.float64):
        raise ExportError(f"ds.onnx.export: dtype must be float32 or float64, got {dtype!r}")
    return dt


def _module_dtype(module: Module):
    for p in module.parameters():
        if p._data.dtype.kind == "f":
            return p._data.dtype
    for b in module.buffers():
        if b._data.dtype.kind == "f":
            return b._data.dtype
    return None


def _as_module(model, method: str, example_input):
    """(the Module to export, its example input, the default dtype, what it is)."""
    if isinstance(model, Module):
        if example_input is None:
            raise ExportError(
                "ds.onnx.export: give an example_input (a batch the model takes, e.g. "
                "ds.randn(1, n_features)); it fixes the input's shape and dtype"
            )
        return model, example_input, _module_dtype(model), type(model).__name__
    to_module = getattr(model, "to_module", None)
    if not callable(to_module):
        raise ExportError(
            f"ds.onnx.export: a {type(model).__name__} is neither a descent nn.Module nor an "
            f"estimator with to_module(method); export takes one of those"
        )
    module = to_module(method)
    if example_input is None:
        example_input = np.zeros((1, int(model.n_features_in_)))
    # the estimators predict in float64; ONNX consumers mostly feed float32
    return module, example_input, np.dtype(np.float32), f"{type(model).__name__}.{method}"


def _check_opset(onnx, opset) -> int:
    newest = onnx.defs.onnx_opset_version()
    if isinstance(opset, bool) or not isinstance(opset, (int, np.integer)):
        raise ExportError(f"ds.onnx.export: opset must be an int, got {opset!r}")
    if not MIN_OPSET <= opset <= newest:
        raise ExportError(
            f"ds.onnx.export: opset {opset} is not supported; use {MIN_OPSET}..{newest} "
            f"(the installed onnx {onnx.__version__} knows up to {newest})"
        )
    return int(opset)


def _name(names, default: str, what: str) -> str:
    if names is None:
        return default
    names = [names] if isinstance(names, str) else list(names)
    if len(names) != 1 or not isinstance(names[0], str) or not names[0]:
        raise ExportError(
            f"ds.onnx.export: {what} must be one non-empty name (the graph has one), got {names!r}"
        )
    return names[0]


def export(
    model,
    example_input=None,
    path=None,
    opset: int = 17,
    dynamic_batch: bool = True,
    *,
    input_names=None,
    output_names=None,
    method: str = "predict",
    dtype=None,
):
    """Write ``model`` as an ONNX file at ``path`` (atomically); return the path, or the
    ``onnx.ModelProto`` itself when ``path`` is None.

    ``model``: a descent ``nn.Module`` (exported in eval mode; its own mode is left as it
    was), or a fitted estimator of ``ds.models``, exported as its ``method``
    ('predict', 'predict_proba', 'decision_function', 'transform' where it has them):
    raw features in, what the method returns out (class labels for a classifier's
    predict). ``example_input``: a batch the model takes (an estimator's defaults to one
    row of zeros); it fixes the input's shape and dtype. ``opset``: 13 and up (GELU is
    one node from 20 on, LayerNorm from 17; before, the same arithmetic in several).
    ``dynamic_batch``: the first dim of the input and output is symbolic ('batch'), so
    any batch size runs; only for an example of 2 or more dims (a 1-d one is taken as
    one sample's features, and its shape stays fixed). ``input_names``/``output_names``:
    one name each (default 'input' and 'output'). ``dtype``: float32 or float64 for the
    weights and arithmetic; by default the module's own (float64 modules become double
    graphs) and float32 for an estimator (which predicts in float64: the graph then
    agrees to float32 rounding).

    The graph is checked with ``onnx.checker.check_model(full_check=True)`` before it is
    written. A layer without an ONNX form is an ``ExportError`` (a ValueError) naming it
    by its path in the model, e.g. "model.3 (Embedding)".
    """
    onnx = require("onnx", "onnx", "ds.onnx.export")
    opset = _check_opset(onnx, opset)
    module, example, default_dtype, what = _as_module(model, method, example_input)
    graph_dtype = _float_dtype(dtype) if dtype is not None else default_dtype
    x = np.asarray(example.numpy() if isinstance(example, Tensor) else example)
    if x.dtype.kind not in "fiub":
        raise ExportError(f"ds.onnx.export: example_input must hold numbers, got {x.dtype}")
    if graph_dtype is None:
        graph_dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
    graph_dtype = _float_dtype(graph_dtype)
    if x.ndim == 0:
        raise ExportError("ds.onnx.export: example_input must have a batch dim, got a 0-d one")
    x = x.astype(graph_dtype if x.dtype.kind == "f" else np.int64)

    own_dtype = _module_dtype(module)
    if own_dtype is not None and own_dtype != graph_dtype:
        module = copy.deepcopy(module).to(graph_dtype)
    modes = [(m, m.training) for m in module.modules()]
    module.eval()
    g = Graph(onnx, opset, graph_dtype)
    helper = onnx.helper
    in_name = g.fresh(_name(input_names, "input", "input_names"))
    out_name = _name(output_names, "output", "output_names")
    if out_name == in_name:
        raise ExportError(f"ds.onnx.export: the input and output are both named {out_name!r}")
    g.fresh(out_name)  # reserved: the layers' own values and weights take other names
    try:
        last, out = _emit(g, module, in_name, tensor(x, dtype=x.dtype), "model")
    finally:
        for m, mode in modes:
            m.training = mode
    g.nodes.append(helper.make_node("Identity", [last], [out_name]))
    out = np.asarray(out.numpy() if isinstance(out, Tensor) else out)

    batched = dynamic_batch and x.ndim >= 2  # a 1-d example is one sample's features

    def info(name, arr):
        kind = onnx.TensorProto.STRING if arr.dtype.kind in "USO" else (
            helper.np_dtype_to_tensor_dtype(arr.dtype))  # fmt: skip
        dims = list(arr.shape)
        if batched and dims:
            dims[0] = "batch"
        return helper.make_tensor_value_info(name, kind, dims)

    graph = helper.make_graph(
        g.nodes, "descent", [info(in_name, x)], [info(out_name, out)], g.initializers
    )
    opsets = [helper.make_opsetid("", opset)]
    proto = helper.make_model(graph, opset_imports=opsets, producer_name="descent")
    proto.ir_version = helper.find_min_ir_version_for(opsets)
    proto.doc_string = f"{what}, exported by descent (opset {opset}, {graph_dtype.name})"
    onnx.checker.check_model(proto, full_check=True)
    if path is None:
        return proto
    return atomic_write(Path(path), proto.SerializeToString())
