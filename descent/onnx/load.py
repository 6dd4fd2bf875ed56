"""``ds.onnx.load``: an ONNX file as a descent Module that runs, and trains, with descent's ops.

The file is parsed and checked (``onnx.checker``), then its graph becomes one
``OnnxModule``. Where a node is a layer, it becomes the descent layer: a Gemm, or a MatMul
and the Add of a bias, with a weight initializer is an ``nn.Linear``; a Conv with
initializers an ``nn.Conv2d`` (an ``nn.Conv1d`` over sequences); a Gather of an
initializer's rows by computed indices an ``nn.Embedding``; a BatchNormalization with
initializers an ``nn.BatchNorm1d``/``nn.BatchNorm2d`` (running statistics as buffers, so
``.train()`` normalises by the batch as PyTorch does); a Dropout an ``nn.Dropout`` with its
ratio. Each layer sits at the path its initializers' names give (``0.weight`` -> layer
``0``, ``fc.bias`` -> layer ``fc``), so for a file exported from PyTorch the module's
``state_dict`` keys are the PyTorch model's. Every other node runs as a function of
descent's ops (``_ops.py``), and a float initializer it reads is an ``nn.Parameter`` at its
own (sanitised) name; integer and 0-d initializers (literals such as the 2 of ``2 * x``)
and Constant nodes stay constants. The forward runs the nodes in the file's (topological)
order, so autograd sees an ordinary descent graph.
"""

from __future__ import annotations

import os
import re

import numpy as np

from .._extras import require
from ..nn import (
    BatchNorm1d,
    BatchNorm2d,
    Conv1d,
    Conv2d,
    Dropout,
    Embedding,
    Linear,
    Module,
    Parameter,
)
from ..tensor import Tensor, make_tensor
from ._ops import (
    OPS,
    SUPPORTED,
    Node,
    OnnxError,
    constant_value,
    dropout_ratio,
    spatial,
    spatial_1d,
)

__all__ = ["load", "OnnxModule", "OnnxError"]

# The default domain's opsets whose semantics this file handles (before 9, BatchNormalization
# had 'spatial' and Dropout 'is_test'; Softmax's change at 13 is handled in _ops.py).
MIN_OPSET = 9

_ONNX_FLOAT = {1: np.float32, 11: np.float64}


def _onnx():
    return require("onnx", "onnx", "ds.onnx.load")


# ---- reading ------------------------------------------------------------------------------


def _read(path):
    onnx = _onnx()
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"ds.onnx.load: no such file: {path!r}")
    if os.path.isdir(path):
        raise IsADirectoryError(f"ds.onnx.load: {path!r} is a directory, not an ONNX file")
    try:
        model = onnx.load(path)
    except Exception as e:  # DecodeError, or a failure to read external data
        raise OnnxError(
            f"ds.onnx.load: {path!r} is not a readable ONNX file ({type(e).__name__}: {e})"
        ) from None
    try:
        onnx.checker.check_model(model)
    except Exception as e:  # onnx.checker.ValidationError and what the checker raises
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise OnnxError(
            f"ds.onnx.load: {path!r} is not a valid ONNX model (onnx.checker: {first})"
        ) from None
    return model


def _opset(model, path) -> int:
    onnx = _onnx()
    versions = {o.domain: o.version for o in model.opset_import}
    version = versions.get("", versions.get("ai.onnx"))
    if version is None:
        raise OnnxError(f"ds.onnx.load: {path!r} imports no opset of the default ONNX domain")
    newest = onnx.defs.onnx_opset_version()
    if not MIN_OPSET <= version <= newest:
        raise OnnxError(
            f"ds.onnx.load: {path!r} uses opset {version} of the default domain; descent reads "
            f"opsets {MIN_OPSET} to {newest}"
        )
    return int(version)


def _ranks(model) -> dict:
    """Value name -> rank, where shape inference knows it (to choose BatchNorm1d or 2d)."""
    onnx = _onnx()
    try:
        inferred = onnx.shape_inference.infer_shapes(model).graph
    except Exception:  # a model shape inference cannot follow: ranks unknown
        return {}
    ranks = {}
    for v in [*inferred.input, *inferred.value_info, *inferred.output]:
        t = v.type.tensor_type
        if t.HasField("shape"):
            ranks[v.name] = len(t.shape.dim)
    return ranks


# ---- names --------------------------------------------------------------------------------

_RESERVED = set(dir(Module)) | {"training"}


def _segment(s: str) -> str:
    s = re.sub(r"\W", "_", s).strip("_") or "_"
    return s + "_" if s in _RESERVED or s.startswith("_") else s


def _path(name: str) -> list[str]:
    """An ONNX name as a module path: ``features.0.weight`` -> [features, 0, weight];
    ``onnx::Conv_22`` -> [onnx_Conv_22]."""
    return [_segment(s) for s in name.split(".") if s] or ["_"]


class _Scope(Module):
    """A level of an imported model's module tree (``features`` in ``features.0.weight``)."""

    def forward(self, *args):
        raise TypeError("a part of an imported ONNX model: call the OnnxModule itself")


def _place(root: Module, path: list[str], value) -> str:
    """Set ``value`` (a layer or a Parameter) at ``path`` below ``root``, creating the
    levels between; a name already taken gets a suffix. Returns the dotted path used."""
    *levels, last = path
    m = root
    for i, seg in enumerate(levels):
        child = vars(m).get(seg)
        if child is None:
            child = _Scope()
            setattr(m, seg, child)
        elif not isinstance(child, _Scope):  # taken by a layer or a parameter: flatten
            return _place(m, ["_".join(path[i:])], value)
        m = child
    name, k = last, 1
    while name in vars(m) or name in _RESERVED:
        name, k = f"{last}_{k}", k + 1
    setattr(m, name, value)
    return ".".join([*levels, name])


def _get(root: Module, dotted: str):
    for seg in dotted.split("."):
        root = getattr(root, seg)
    return root


def _layer_path(node: Node, weight: str | None, bias: str | None) -> list[str]:
    """Where a layer goes: the prefix of its ``*.weight``/``*.bias`` initializer (PyTorch's
    exporters keep the parameter names), else the module path of a PyTorch node name
    (``/features/0/Conv``), else its weight's name, else the node's."""
    for name, suffix in ((weight, ".weight"), (bias, ".bias")):
        if name and name.endswith(suffix) and len(name) > len(suffix):
            return _path(name[: -len(suffix)])
    if node.name.startswith("/") and node.name.count("/") >= 2:
        return _path(".".join(node.name.strip("/").split("/")[:-1]))
    if weight:
        return _path(weight)
    return _path(node.name or f"{node.op_type.lower()}_{node.index}")


# ---- the module ---------------------------------------------------------------------------


class _Step:
    """One node (or a fused pair) of the graph as the forward runs it."""

    __slots__ = ("node", "inputs", "outputs", "run", "layer")

    def __init__(self, node: Node, inputs, outputs, run, layer: Module | None = None):
        self.node, self.inputs, self.outputs, self.run = node, list(inputs), list(outputs), run
        self.layer = layer  # the descent layer this step calls, if it is one


def _output(v):
    """A graph output: a Tensor, but text (a classifier's string labels) a NumPy array."""
    if isinstance(v, Tensor):
        return v
    a = np.asarray(v)
    if a.dtype.kind in "USO":
        return a.astype(str)
    return make_tensor(np.ascontiguousarray(a))


class OnnxModule(Module):
    """An ONNX graph as a descent Module: ``forward(*inputs)`` runs its nodes in order.

    Its layers (``nn.Linear``, ``nn.Conv2d``, ``nn.Embedding``, ``nn.BatchNorm2d``,
    ``nn.Dropout``) are
    children at the paths of their initializers' names; the other float initializers are
    Parameters. It comes back in eval mode, as the exporting model was; ``.train()``
    makes Dropout drop and BatchNorm use the batch's statistics.

    Each output is a Tensor (an integer one, such as an ArgMax's class indices, without a
    gradient), except text, which descent's tensors do not hold: string outputs (a
    classifier's labels, Gather on its classes) come back as a NumPy array of ``str``.
    Integer inputs (an Embedding's indices) may be Tensors or arrays.
    """

    def __init__(self, source: str, opset: int, inputs: list, outputs: list, nodes: int = 0):
        super().__init__()
        self._source = source
        self._nodes = nodes
        self._opset = opset
        self._inputs = inputs  # [(name, numpy dtype, declared shape with None for symbols)]
        self._outputs = outputs
        self._steps: list = []
        self._consts: dict = {}  # value name -> array
        self._params: dict = {}  # value name -> dotted path of its Parameter

    @property
    def input_names(self) -> list[str]:
        return [name for name, _, _ in self._inputs]

    @property
    def output_names(self) -> list[str]:
        return list(self._outputs)

    def _input(self, i: int, x) -> Tensor:
        name, dtype, shape = self._inputs[i]
        if not isinstance(x, Tensor):
            x = make_tensor(np.ascontiguousarray(np.asarray(x, dtype=dtype)))
        if shape is not None:
            got = tuple(x.shape)
            fits = len(got) == len(shape) and all(d is None or d == g for d, g in zip(shape, got))
            if not fits:
                want = ", ".join("?" if d is None else str(d) for d in shape)
                want = f"({want},)" if len(shape) == 1 else f"({want})"
                raise ValueError(
                    f"OnnxModule: input {i} ({name!r}) must have shape {want} (? any size), "
                    f"got {got}"
                )
        return x

    def forward(self, *inputs):
        if len(inputs) != len(self._inputs):
            raise TypeError(
                f"OnnxModule: the model takes {len(self._inputs)} input(s) "
                f"{self.input_names}, got {len(inputs)}"
            )
        env = dict(self._consts)
        for name, dotted in self._params.items():
            env[name] = _get(self, dotted)
        for i, x in enumerate(inputs):
            x = self._input(i, x)
            # integer and bool inputs (indices) carry no gradient: they run as arrays
            env[self._inputs[i][0]] = x if x._data.dtype.kind in "fc" else x._data
        for step in self._steps:
            args = [env[name] if name else None for name in step.inputs]
            try:
                outs = step.run(args)
            except OnnxError:
                raise
            except (ValueError, TypeError, IndexError) as e:
                raise OnnxError(f"{step.node.where()}: {e}") from e
            for name, value in zip(step.outputs, outs):
                if name:
                    env[name] = value
        outs = [_output(env[name]) for name in self._outputs]
        return outs[0] if len(outs) == 1 else tuple(outs)

    def onnx_export(self, g, x: str) -> str:
        """Write this graph again into ``g`` (``ds.onnx.export``'s Graph) on input ``x``:
        its nodes as read, its layers and Parameters with their current values, so a
        loaded model that was trained since is exported as it is now. The export's opset
        must be the file's (the nodes keep its semantics)."""
        from .export import ExportError  # noqa: PLC0415 - export imports this module's peers

        if len(self._inputs) != 1 or len(self._outputs) != 1:
            raise ExportError(
                f"ds.onnx.export: this OnnxModule has {len(self._inputs)} inputs and "
                f"{len(self._outputs)} outputs; the exporter writes graphs of one of each"
            )
        if g.opset != self._opset:
            raise ExportError(
                f"ds.onnx.export: this OnnxModule was read from an opset {self._opset} file "
                f"and its nodes keep that opset's meaning; export it with opset={self._opset}"
            )
        names = {self._inputs[0][0]: x}

        def ref(name: str) -> str:
            if not name:
                return ""
            if name not in names:
                if name in self._params:
                    names[name] = g.const(_get(self, self._params[name]), name)
                else:
                    names[name] = g.const(self._consts[name], name)
            return names[name]

        for step in self._steps:
            if step.layer is not None:
                out = _emit_layer(g, step.layer, ref(step.inputs[0]))
            else:
                op = step.node
                out = g.fresh(step.outputs[0] or op.op_type.lower())
                outputs = [out] + [g.fresh(o) if o else "" for o in step.outputs[1:]]
                inputs = [ref(i) for i in step.inputs]
                g.nodes.append(g.onnx.helper.make_node(op.op_type, inputs, outputs, **op.attrs))
                for name, new in zip(step.outputs[1:], outputs[1:]):
                    if name:
                        names[name] = new
            names[step.outputs[0]] = out
        return ref(self._outputs[0])

    def extra_repr(self) -> str:
        return (
            f"{os.path.basename(self._source)!r}, opset={self._opset}, "
            f"inputs={self.input_names}, outputs={self.output_names}, nodes={self._nodes}"
        )

    def __repr__(self) -> str:
        text = super().__repr__()
        head = f"{type(self).__name__}("
        if text.startswith(head) and "\n" in text:  # children: the summary on the first line
            return f"{head}{self.extra_repr()}\n" + text[len(head) + 1 :]
        return text


def _emit_layer(g, layer: Module, x: str) -> str:
    """One of the layers the loader makes, as ONNX nodes of any input rank."""
    if isinstance(layer, Linear):
        y = g.node("MatMul", x, g.const(layer.weight.numpy().T, "weight_t"))
        return g.node("Add", y, g.const(layer.bias, "bias")) if layer.bias is not None else y
    if isinstance(layer, Conv1d):
        (p,), (d,) = layer.padding, layer.dilation
        inputs = [x, g.const(layer.weight, "weight")]
        if layer.bias is not None:
            inputs.append(g.const(layer.bias, "bias"))
        return g.node("Conv", *inputs, kernel_shape=list(layer.kernel_size),
                      strides=list(layer.stride), pads=[p, p], dilations=[d],
                      group=layer.groups)  # fmt: skip
    if isinstance(layer, Conv2d):
        ph, pw = layer.padding
        inputs = [x, g.const(layer.weight, "weight")]
        if layer.bias is not None:
            inputs.append(g.const(layer.bias, "bias"))
        return g.node("Conv", *inputs, kernel_shape=list(layer.weight.shape[2:]),
                      strides=list(layer.stride), pads=[ph, pw, ph, pw])  # fmt: skip
    if isinstance(layer, (BatchNorm1d, BatchNorm2d)):
        stats = [layer.weight, layer.bias, layer.running_mean, layer.running_var]
        names = [g.const(v, h) for v, h in zip(stats, ["bn_scale", "bn_bias", "bn_mean", "bn_var"])]
        return g.node("BatchNormalization", x, *names, epsilon=float(layer.eps))
    if isinstance(layer, Embedding):
        return g.node("Gather", g.const(layer.weight, "embedding"), x, axis=0)
    return g.node("Identity", x)  # Dropout: the export is of eval mode


# ---- building -----------------------------------------------------------------------------


def _attributes(proto) -> dict:
    onnx = _onnx()
    return {a.name: onnx.helper.get_attribute_value(a) for a in proto.attribute}


def _unsupported(node: Node) -> OnnxError:
    op = f"{node.domain}::{node.op_type}" if node.domain not in ("", "ai.onnx") else node.op_type
    return OnnxError(
        f"ds.onnx.load: unsupported ONNX op {op!r} at {node.where()}; descent supports "
        f"{', '.join(SUPPORTED)}"
    )


class _Builder:
    def __init__(self, model, path: str):
        onnx = _onnx()
        self.path = path
        self.opset = _opset(model, path)
        g = model.graph
        if len(g.sparse_initializer):
            raise OnnxError(f"ds.onnx.load: {path!r} has sparse initializers, not supported")
        self.inits = {t.name: onnx.numpy_helper.to_array(t) for t in g.initializer}
        self.consts = dict(self.inits)  # everything known at load time
        inputs = []
        for v in g.input:
            if v.name in self.inits:  # IR < 4 lists initializers among the inputs
                continue
            t = v.type.tensor_type
            dtype = _ONNX_FLOAT.get(
                t.elem_type,
                onnx.helper.tensor_dtype_to_np_dtype(t.elem_type) if t.elem_type else np.float32,
            )
            shape = None
            if t.HasField("shape"):
                shape = [d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim]
            inputs.append((v.name, np.dtype(dtype), shape))
        self.module = OnnxModule(path, self.opset, inputs, [o.name for o in g.output], len(g.node))
        self.ranks = None
        self.model = model
        self.nodes = [
            Node(p, i, self.opset, _attributes(p), self.consts) for i, p in enumerate(g.node)
        ]
        self.uses: dict = {}
        for n in self.nodes:
            for name in n.inputs:
                if name:
                    self.uses[name] = self.uses.get(name, 0) + 1
        for o in g.output:
            self.uses[o.name] = self.uses.get(o.name, 0) + 1
        self.absorbed: set = set()  # indices of nodes a fused layer took over
        self.runtime_inits: set = set()  # float initializers the generic steps read

    # -- helpers
    def _float_init(self, name: str, ndim: int | None = None, only_here: bool = True) -> bool:
        a = self.inits.get(name) if name else None
        return (
            a is not None
            and a.dtype.kind == "f"
            and (ndim is None or a.ndim == ndim)
            and (not only_here or self.uses.get(name, 0) == 1)
        )

    def _is_computed(self, name: str) -> bool:
        return bool(name) and name not in self.consts

    def _add_layer(self, node: Node, layer: Module, inputs, outputs, weight, bias):
        dotted = _place(self.module, _layer_path(node, weight, bias), layer)
        run = lambda ins, m=layer: [m(ins[0])]  # noqa: E731
        self.module._steps.append(_Step(node, inputs, outputs, run, layer))
        return dotted

    # -- layers
    def _linear(self, node: Node, weight: np.ndarray, bias, outputs, names) -> None:
        out_f, in_f = weight.shape
        layer = Linear(in_f, out_f, bias=bias is not None, dtype=weight.dtype)
        layer.weight._data[...] = weight
        if bias is not None:
            layer.bias._data[...] = bias.reshape(-1)
        self._add_layer(node, layer, node.inputs[:1], outputs, *names)

    def _try_gemm(self, node: Node) -> bool:
        a, b = node.inputs[0], node.inputs[1]
        c = node.inputs[2] if len(node.inputs) > 2 else ""
        if not (self._is_computed(a) and self._float_init(b, 2)):
            return False
        if node.attr("transA", 0) or float(node.attr("alpha", 1.0)) != 1.0:
            return False
        weight = self.inits[b] if node.attr("transB", 0) else self.inits[b].T
        if c:
            if not (self._float_init(c) and float(node.attr("beta", 1.0)) == 1.0):
                return False
            if self.inits[c].size != weight.shape[0] or self.inits[c].ndim > 1:
                return False
        self._linear(node, weight, self.inits[c] if c else None, node.outputs, (b, c or None))
        return True

    def _try_matmul(self, node: Node, i: int) -> bool:
        a, b = node.inputs
        if not (self._is_computed(a) and self._float_init(b, 2)):
            return False
        weight = self.inits[b].T
        out = node.outputs[0]
        # the Add of a bias right after it, when it is the product's only use
        add = next((n for n in self.nodes[i + 1 :] if out in n.inputs), None)
        if add is not None and add.op_type == "Add" and self.uses.get(out) == 1:
            other = add.inputs[1] if add.inputs[0] == out else add.inputs[0]
            if (
                self._float_init(other)
                and self.inits[other].ndim == 1
                and self.inits[other].size == weight.shape[0]
            ):
                self.absorbed.add(add.index)
                self._linear(node, weight, self.inits[other], add.outputs, (b, other))
                return True
        self._linear(node, weight, None, node.outputs, (b, None))
        return True

    def _try_conv1d(self, node: Node, w: str, b: str) -> bool:
        stride, dilation, pads = spatial_1d(node, "Conv", dilation_ok=True)
        if isinstance(pads, str) or pads[0] != pads[1]:
            return False  # SAME_* or asymmetric: the generic Conv pads them
        weight, groups = self.inits[w], int(node.attr("group", 1))
        layer = Conv1d(
            weight.shape[1] * groups,
            weight.shape[0],
            weight.shape[2],
            stride=stride,
            padding=int(pads[0]),
            dilation=dilation,
            groups=groups,
            bias=bool(b),
            dtype=weight.dtype,
        )
        layer.weight._data[...] = weight
        if b:
            layer.bias._data[...] = self.inits[b]
        self._add_layer(node, layer, node.inputs[:1], node.outputs, w, b or None)
        return True

    def _try_conv(self, node: Node) -> bool:
        x, w = node.inputs[0], node.inputs[1]
        b = node.inputs[2] if len(node.inputs) > 2 else ""
        if b and not self._float_init(b, 1):
            return False
        if self._is_computed(x) and self._float_init(w, 3):
            return self._try_conv1d(node, w, b)
        if not (self._is_computed(x) and self._float_init(w, 4)):
            return False
        if int(node.attr("group", 1)) != 1:
            return False
        # the settings the generic Conv checks (refusing what descent cannot run)
        strides, pads = spatial(node, "Conv", 2)
        if isinstance(pads, str) or any(top != bottom for top, bottom in pads):
            return False  # SAME_* or asymmetric: the generic Conv pads them
        weight = self.inits[w]
        layer = Conv2d(
            weight.shape[1],
            weight.shape[0],
            tuple(weight.shape[2:]),
            stride=strides,
            padding=(int(pads[0][0]), int(pads[1][0])),
            bias=bool(b),
            dtype=weight.dtype,
        )
        layer.weight._data[...] = weight
        if b:
            layer.bias._data[...] = self.inits[b]
        self._add_layer(node, layer, node.inputs[:1], node.outputs, w, b or None)
        return True

    def _try_gather(self, node: Node) -> bool:
        """A Gather of rows of a 2-d float initializer by computed indices: an Embedding."""
        w, idx = node.inputs
        if not (self._float_init(w, 2) and self._is_computed(idx)):
            return False
        if int(node.attr("axis", 0)) != 0:
            return False
        weight = self.inits[w]
        layer = Embedding(*weight.shape, dtype=weight.dtype)
        layer.weight._data[...] = weight
        n = weight.shape[0]
        dotted = _place(self.module, _layer_path(node, w, None), layer)

        def run(ins, m=layer):
            i = ins[0]._data if isinstance(ins[0], Tensor) else np.asarray(ins[0])
            if i.dtype.kind in "iu" and i.size and i.min() < 0:  # ONNX counts from the end
                i = np.where(i < 0, i + n, i)
            return [m(i)]

        self.module._steps.append(_Step(node, [idx], node.outputs, run, layer))
        return bool(dotted)

    def _try_batch_norm(self, node: Node) -> bool:
        x, *stats = node.inputs
        if not (
            self._is_computed(x) and len(stats) == 4 and all(self._float_init(s, 1) for s in stats)
        ):
            return False
        if int(node.attr("training_mode", 0)) or len([o for o in node.outputs if o]) > 1:
            return False
        if self.ranks is None:
            self.ranks = _ranks(self.model)
        rank = self.ranks.get(x, 4)
        if rank not in (2, 3, 4):
            return False
        scale, bias, mean, var = (self.inits[s] for s in stats)
        kind = BatchNorm2d if rank == 4 else BatchNorm1d
        momentum = 1.0 - float(node.attr("momentum", 0.9))  # ONNX keeps, PyTorch moves
        layer = kind(
            scale.size,
            eps=float(node.attr("epsilon", 1e-5)),
            momentum=round(momentum, 6),
            dtype=scale.dtype,
        )
        layer.weight._data[...] = scale
        layer.bias._data[...] = bias
        layer.running_mean._data[...] = mean
        layer.running_var._data[...] = var
        self._add_layer(node, layer, node.inputs[:1], node.outputs[:1], stats[0], stats[1])
        return True

    # -- the graph
    def build(self) -> OnnxModule:
        m = self.module
        for i, node in enumerate(self.nodes):
            if i in self.absorbed:
                continue
            if node.domain not in ("", "ai.onnx"):
                raise _unsupported(node)
            op = node.op_type
            if op == "Constant":
                self.consts[node.outputs[0]] = constant_value(node)
                continue
            if op == "Identity" and node.inputs[0] in self.inits:
                # an initializer under a second name (PyTorch's exporter shares equal ones)
                self.inits[node.outputs[0]] = self.inits[node.inputs[0]].copy()
                self.consts[node.outputs[0]] = self.inits[node.outputs[0]]
                self.uses[node.inputs[0]] -= 1
                continue
            if op == "Gemm" and self._try_gemm(node):
                continue
            if op == "MatMul" and self._try_matmul(node, i):
                continue
            if op == "Conv" and self._try_conv(node):
                continue
            if op == "Gather" and self._try_gather(node):
                continue
            if op == "BatchNormalization" and self._try_batch_norm(node):
                continue
            if op == "Dropout":
                self._add_layer(
                    node,
                    Dropout(dropout_ratio(node)),
                    node.inputs[:1],
                    node.outputs[:1],
                    None,
                    None,
                )
                continue
            if op not in OPS:
                raise _unsupported(node)
            run = OPS[op](node)
            self.runtime_inits.update(n for n in node.inputs if n in self.inits)
            m._steps.append(_Step(node, node.inputs, node.outputs, run))
        for o in m._outputs:
            if o in self.inits:
                self.runtime_inits.add(o)
        for name in sorted(self.runtime_inits, key=list(self.inits).index):
            a = self.inits[name]
            if a.dtype.kind == "f" and a.ndim > 0:  # a 0-d one is a literal of the program
                m._params[name] = _place(m, _path(name), Parameter(np.array(a)))
        # what the steps read as arrays: integer and 0-d initializers and Constant nodes
        # (the other float initializers are Parameters now, or inside a layer)
        m._consts = {
            k: v
            for k, v in self.consts.items()
            if k not in m._params
            and not (
                k in self.inits and self.inits[k].dtype.kind == "f" and k not in self.runtime_inits
            )
        }
        return m.eval()


def load(path) -> OnnxModule:
    """The model in the ONNX file at ``path`` as a descent Module, trainable.

    Supported ops: Gemm, MatMul, Add, Sub, Mul, Div, Pow, Conv, MaxPool, AveragePool,
    GlobalAveragePool, ReduceMean, ReduceSum, ReduceSumSquare, ReduceMax, ReduceMin,
    ReduceProd, ArgMax, ArgMin, Relu, Sigmoid, Tanh, LeakyRelu, PRelu, Elu, Selu, Gelu,
    Erf, Softplus, Softsign, HardSigmoid, Clip, Abs, Exp, Log, Sqrt, Neg, Reciprocal,
    Min, Max, Where, Greater, Less, Equal, GreaterOrEqual, LessOrEqual, Not, Softmax,
    LogSoftmax, LayerNormalization, BatchNormalization, Pad (constant), Flatten, Reshape,
    Dropout, Identity, Constant, Gather (constant or computed indices: an Embedding), and
    the shape arithmetic PyTorch's exporters write (Shape, Unsqueeze, Squeeze, Concat,
    Cast, Transpose, ConstantOfShape): every op ``ds.onnx.export`` writes. Comparisons,
    ArgMax and integer inputs run as NumPy arrays (no gradient flows through them).
    Convolution and pooling are 2-d with dilation 1, groups 1 and ceil_mode 0.

    Layers become descent layers named as their initializers (for a PyTorch export, the
    ``state_dict`` keys are PyTorch's); the module comes back in eval mode. A file that is
    missing, not ONNX or not valid, an opset below 9, or an op outside the list is an
    error that names it (``OnnxError``, a ValueError, for what is not a missing file).

    >>> model = ds.onnx.load("cnn.onnx")  # doctest: +SKIP
    >>> model(ds.randn(9, 3, 16, 16)).shape  # doctest: +SKIP
    descent.Size([9, 10])
    """
    path = os.fspath(path)
    model = _read(path)
    return _Builder(model, path).build()
