"""Computation graphs drawn: the tensors behind a result, as Graphviz DOT text, SVG or PNG.

>>> w = ds.tensor(0.5, requires_grad=True)
>>> J = ((w * 3.0 - 1.0) ** 2).sum()
>>> g = ds.viz.graph(J)            # capture the graph before J.backward()
>>> J.backward()
>>> print(g.source)                # DOT text, now with the gradients
>>> g.render("graph.svg")          # needs Graphviz's `dot` program

Nodes are tensors. An op node shows the Function that made it; leaves are parameters
(tensors that require grad) or inputs (tensors that do not). Edges run from each input
of an op to its output.
"""

from __future__ import annotations

import html
import shutil
import subprocess
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..autograd import next_seq
from ..io import atomic_write
from ..nn.module import register_module_forward_hook, register_module_forward_pre_hook
from ..tensor import Tensor, make_tensor

__all__ = ["Graph", "GraphvizNotFoundError", "graph"]

GRAPHVIZ_PACKAGES = "apt-get install graphviz / brew install graphviz / conda install graphviz"
INSTALL_GRAPHVIZ = f"Install Graphviz, which provides `dot` ({GRAPHVIZ_PACKAGES})"


def missing_graphviz_note(what: str = "the model's graph") -> str:
    """One line for where a graph is not drawn because Graphviz's ``dot`` is missing."""
    return (
        f"Graphviz's `dot` program is not installed; install Graphviz ({GRAPHVIZ_PACKAGES}) "
        f"to see {what}."
    )


# How each kind of node looks: (Graphviz shape, fill colour).
STYLES = {
    "op": ("box", "#dbe7f5"),
    "module": ("box3d", "#e6dcf2"),
    "parameter": ("box", "#fde3bf"),
    "input": ("ellipse", "#dcefd9"),
}
OUTPUT_FILL = "#f8d0cc"
FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf"}
DOT_TIMEOUT = 60.0  # seconds dot may take to draw one graph


class GraphvizNotFoundError(RuntimeError):
    """Graphviz's ``dot`` program is needed to draw DOT text and is not installed."""


# ---- capturing the graph ---------------------------------------------------------------


@dataclass
class Captured:
    """The graph behind one tensor at the time it was captured.

    ``tensors`` in topological order (inputs before the ops that use them); ``edges`` as
    ``(input index, output index, argument position)``.
    """

    tensors: list
    edges: list
    index: dict  # id(tensor) -> position in tensors


def capture(output: Tensor) -> Captured:
    """Walk the graph behind ``output`` (iteratively, so any depth is fine)."""
    if not isinstance(output, Tensor):
        raise TypeError(f"expected a Tensor, got {type(output).__name__}")
    order: list = []
    seen: set = set()
    # A number an op took as it is (``x ** 2``: the 2 is a NumPy scalar, not a Tensor) is
    # drawn as a constant input: one node per (op, argument position).
    constants: dict = {}
    stack = [(output, False)]
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
                f"the graph behind '{ctx.name}' was freed by backward(); capture it first "
                f"(call ds.viz.graph / ds.viz.explain before loss.backward()) or call "
                f"backward(retain_graph=True)"
            )
        for pos in reversed(range(len(ctx.inputs))):  # reversed: argument order
            inp = ctx.inputs[pos]
            if isinstance(inp, (np.ndarray, np.generic, int, float)) and not isinstance(inp, bool):
                inp = constants[(id(ctx), pos)] = make_tensor(np.asarray(inp))
            if isinstance(inp, Tensor) and id(inp) not in seen:
                stack.append((inp, False))
    index = {id(t): i for i, t in enumerate(order)}
    edges = []
    for i, t in enumerate(order):
        if t._ctx is not None:
            for pos, inp in enumerate(t._ctx.inputs):
                inp = constants.get((id(t._ctx), pos), inp)
                if isinstance(inp, Tensor):
                    edges.append((index[id(inp)], i, pos))
    return Captured(order, edges, index)


# ---- which module call each op ran inside -------------------------------------------------


@dataclass(eq=False)
class ModuleCall:
    """One call of a module: its ops are numbered (``Context.seq``) between start and end."""

    module: object
    start: int
    end: int


class _OpenCalls(threading.local):
    def __init__(self):
        self.calls = []  # (module, start) of the module calls running now, outermost first


_open = _OpenCalls()


def _call_starts(module, args) -> None:
    _open.calls.append((module, next_seq()))


def _call_ends(module, args, output) -> None:
    # Runs when forward returns or raises (always_call), so the last open call is this
    # one, unless a hook before ours raised before our pre-hook could note the start.
    if not _open.calls or _open.calls[-1][0] is not module:
        return
    call = ModuleCall(module, _open.calls.pop()[1], next_seq())
    # Kept on the Contexts of the call's outputs, so it lives and dies with their graph.
    for t in _leaves_of(output):
        ctx = getattr(t, "_ctx", None)
        if ctx is not None:
            vars(ctx).setdefault("module_calls", []).append(call)


def _leaves_of(output):
    """The values inside a module's output: itself, or those of its tuples, lists, dicts."""
    stack = [output]
    while stack:
        value = stack.pop()
        if isinstance(value, (tuple, list)):
            stack.extend(value)
        elif isinstance(value, dict):
            stack.extend(value.values())
        else:
            yield value


# NOTE: from the import of viz on, every module call notes where it starts and ends in
# the order ops run (two numbers per call, nothing per op), so a graph drawn after the
# forward can still collapse layers. A program that never imports viz pays nothing.
register_module_forward_pre_hook(_call_starts)
register_module_forward_hook(_call_ends, always_call=True)


def scope_chains(tensors) -> dict:
    """id(Context) -> the module calls its op ran inside, innermost first, for ``tensors``."""
    ctxs = [t._ctx for t in tensors if t._ctx is not None]
    calls = {id(c): c for ctx in ctxs for c in vars(ctx).get("module_calls", ())}
    pending = sorted(calls.values(), key=lambda c: c.start, reverse=True)
    running: list = []  # the calls open at the op being looked at, outermost first
    chains = {}
    for ctx in sorted(ctxs, key=lambda c: c.seq):  # one sweep: calls nest like brackets
        while pending and pending[-1].start < ctx.seq:
            running.append(pending.pop())
        running = [c for c in running if c.end > ctx.seq]
        chains[id(ctx)] = running[::-1]
    return chains


def name_map(names) -> dict:
    """id(tensor) -> name from a dict (either way round) or a Module's named parameters."""
    if names is None:
        return {}
    if hasattr(names, "named_parameters"):
        return {id(p): n for n, p in names.named_parameters()}
    out = {}
    for k, v in dict(names).items():
        if isinstance(k, str) and isinstance(v, Tensor):
            out[id(v)] = k
        elif isinstance(k, Tensor) and isinstance(v, str):
            out[id(k)] = v
        else:
            raise TypeError(
                "names: give a dict from name to tensor (names={'w': w, 'b': b}) or a Module"
            )
    return out


def module_names(captured: Captured, chains: dict | None = None) -> tuple[dict, dict]:
    """(id(parameter) -> dotted name, id(module) -> dotted name) from the modules ops ran in."""
    param_names: dict = {}
    mod_names: dict = {}
    roots: dict = {}
    if chains is None:
        chains = scope_chains(captured.tensors)
    for chain in chains.values():
        if chain:
            root = chain[-1].module
            roots[id(root)] = root
    for root in roots.values():
        for n, m in root.named_modules():
            mod_names.setdefault(id(m), n)
        for n, p in root.named_parameters():
            param_names.setdefault(id(p), n)
    return param_names, mod_names


# ---- describing values -------------------------------------------------------------------


def fmt(value: float, digits: int = 4) -> str:
    """A number, short: 1.5, -0.0312, 1.2e+05 (never "-0")."""
    text = f"{float(value):.{digits}g}"
    return "0" if text in ("-0", "0") else text


def shape_text(shape: tuple) -> str:
    return "scalar" if shape == () else f"shape {tuple(shape)}"


SMALL = 8  # arrays with at most this many elements are shown in full


def denoise(array: np.ndarray) -> np.ndarray:
    """The array with rounding noise set to 0: entries within 1e-12 of 0 relative to the
    array's largest magnitude (a mean of 9e-16 over values near 1 is a 0)."""
    a = np.asarray(array, np.float64)
    scale = float(np.max(np.abs(a))) if a.size else 0.0
    if not np.isfinite(scale) or scale == 0.0:
        return a
    return np.where(np.abs(a) <= 1e-12 * scale, 0.0, a)


def values_text(array: np.ndarray, digits: int = 4) -> str:
    """Every element of a (small) array, nested as it is: [16, 44, 80], [[0.5], [0.7]]."""
    a = denoise(array)

    def nest(x) -> str:
        if x.ndim == 0:
            return fmt(x, digits)
        return "[" + ", ".join(nest(row) for row in x) + "]"

    return nest(a)


def summary(array: np.ndarray, digits: int = 4) -> str:
    """The value of a one-element array, every value of a small one (at most ``SMALL``
    elements), or min / mean / max of a larger one; rounding noise shows as 0."""
    a = np.asarray(array)
    if a.size == 0:
        return "empty"
    if a.dtype.kind == "b":
        a = a.astype(np.int64)
    if a.size == 1:
        return fmt(a.reshape(()), digits)
    if a.size <= SMALL:
        return values_text(a, digits)
    a = a.astype(np.float64)
    scale = float(np.max(np.abs(a))) if np.all(np.isfinite(a)) else 1.0
    mean = float(np.mean(a))
    mean = 0.0 if abs(mean) <= 1e-12 * scale else mean
    return f"min {fmt(np.min(a), digits)}, mean {fmt(mean, digits)}, max {fmt(np.max(a), digits)}"


# ---- the drawn graph ----------------------------------------------------------------------

DRAWN_SMALL = 16  # a drawn node shows a matrix of at most this many elements in full


def node_text(array: np.ndarray, digits: int = 4) -> str:
    """A value as a node of the drawn graph shows it: as ``summary`` does, but a matrix of
    at most ``DRAWN_SMALL`` elements (rows of 2 to ``SMALL``) in full, a row a line.

    >>> print(node_text(np.arange(6.0).reshape(2, 3)))
    [[0, 1, 2],
     [3, 4, 5]]
    """
    a = np.asarray(array)
    if a.ndim != 2 or a.shape[0] < 2 or a.size > DRAWN_SMALL or not 2 <= a.shape[1] <= SMALL:
        return summary(a, digits)
    if a.dtype.kind == "b":
        a = a.astype(np.int64)
    rows = [values_text(row, digits) for row in denoise(a)]
    return "[" + ",\n ".join(rows) + "]"


@dataclass
class Node:
    """One drawn node: a tensor, or a module call standing for the ops inside it."""

    key: str  # the DOT identifier
    kind: str  # 'op', 'module', 'parameter' or 'input'
    title: str
    shape: tuple
    value: str  # summary of the value when captured
    tensor: Tensor | None = None  # read for .grad when the DOT text is written
    op: str | None = None  # the Function's name (op nodes)
    is_output: bool = False
    parts: list = field(default_factory=list)  # folded parameters of a module node
    hidden_inputs: int = 0  # inputs beyond the depth limit

    def label(self) -> str:
        shape = shape_text(self.shape) if self.shape is not None else ""
        lines = [self.title, shape, self.value]
        lines += self.parts
        if self.tensor is not None and self.tensor.grad is not None:
            lines.append("grad " + node_text(self.tensor.grad._data))
        if self.hidden_inputs:
            s = "s" if self.hidden_inputs > 1 else ""
            lines.append(f"... {self.hidden_inputs} input{s} not drawn")
        return "\n".join(line for line in lines if line)


def _quote(text: str) -> str:
    """A DOT string literal: quotes and backslashes escaped, newlines as centred breaks."""
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + text.replace("\n", "\\n") + '"'


class Graph:
    """A captured computation graph: ``.source`` is DOT text, ``.render(path)`` draws it.

    The values are those at capture time; the gradients are read when the text is made,
    so a graph captured before ``backward()`` shows them afterwards.
    """

    def __init__(self, nodes: list, edges: list):
        self.nodes = nodes
        self.edges = edges  # (from key, to key)

    @property
    def source(self) -> str:
        """The Graphviz DOT text of the graph."""
        lines = [
            "digraph descent {",
            '  graph [rankdir=LR, fontname="Helvetica", nodesep=0.25, ranksep=0.35];',
            '  node [fontname="Helvetica", fontsize=10, style="filled"];',
            '  edge [color="#555555", arrowsize=0.7];',
        ]
        for n in self.nodes:
            shape, fill = STYLES[n.kind]
            attrs = [f"label={_quote(n.label())}", f"shape={shape}", f'class="{n.kind}"']
            style = "filled,rounded" if n.kind == "op" else "filled"
            if n.is_output:
                fill = OUTPUT_FILL
                style += ",bold"
                attrs.append("peripheries=2")
            attrs += [f'style="{style}"', f'fillcolor="{fill}"']
            lines.append(f"  {n.key} [{', '.join(attrs)}];")
        for a, b in self.edges:
            lines.append(f"  {a} -> {b};")
        lines.append("}")
        return "\n".join(lines) + "\n"

    def __str__(self) -> str:
        return self.source

    def __repr__(self) -> str:
        return (
            f"<Graph: {len(self.nodes)} nodes, {len(self.edges)} edges; .source is the DOT "
            f"text, .render('graph.svg') draws it>"
        )

    def pipe(self, format: str = "svg", timeout: float = DOT_TIMEOUT) -> bytes:  # noqa: A002
        """The graph drawn by ``dot`` in ``format`` ('svg', 'png' or 'pdf'), as bytes.

        ``dot`` gets ``timeout`` seconds; a run past them is a RuntimeError that says so."""
        dot = shutil.which("dot")
        if dot is None:
            raise GraphvizNotFoundError(
                f"cannot draw the graph: Graphviz's `dot` program is not on PATH. "
                f"{INSTALL_GRAPHVIZ}. The DOT text is always available as graph.source."
            )
        try:
            result = subprocess.run(
                [dot, f"-T{format}"],
                input=self.source.encode("utf-8"),
                capture_output=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            raise RuntimeError(
                f"dot did not finish drawing the graph ({len(self.nodes)} nodes) in {timeout} s; "
                f"draw less of it with ds.viz.graph(..., depth=k) or collapse=True"
            ) from None
        if result.returncode != 0:
            message = result.stderr.decode("utf-8", "replace").strip()
            raise RuntimeError(f"dot failed (exit {result.returncode}): {message}")
        return result.stdout

    def render(self, path, format: str | None = None) -> Path:  # noqa: A002 - Graphviz's word
        """Draw the graph into ``path``: SVG, PNG or PDF by its extension; .dot/.gv is DOT text."""
        path = Path(path)
        suffix = path.suffix.lower()
        if format is None and suffix in (".dot", ".gv"):
            return atomic_write(path, self.source)
        fmt_name = format or FORMATS.get(suffix)
        if fmt_name is None:
            raise ValueError(
                f"render: cannot tell the format from {path.name!r}; use a .svg, .png, .pdf "
                f"or .dot file name, or pass format='svg'"
            )
        return atomic_write(path, self.pipe(fmt_name))

    # ---- Jupyter: the drawing when Graphviz is installed, else the DOT text and how to
    # get Graphviz (IPython asks _repr_mimebundle_ first and takes what it gives).

    def _repr_svg_(self):
        """The graph drawn as SVG by ``dot``; None (nothing to show) without Graphviz."""
        if shutil.which("dot") is None:
            return None
        return self.pipe("svg").decode("utf-8")

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        try:
            svg = self._repr_svg_()
            problem = None if svg is not None else "Graphviz's `dot` program is not installed"
        except RuntimeError as e:  # dot failed or ran out of time: say so, show the text
            svg, problem = None, str(e)
        if svg is not None:
            return {"image/svg+xml": svg, "text/plain": repr(self)}
        return {
            "text/html": self._fallback_html(problem),
            "text/plain": self._fallback_text(problem),
        }

    def _fallback_note(self, problem: str) -> str:
        return (
            f"This graph is not drawn: {problem}. {INSTALL_GRAPHVIZ}, to see it drawn. "
            f"Its DOT text:"
        )

    def _fallback_text(self, problem: str) -> str:
        return f"{repr(self)}\n{self._fallback_note(problem)}\n{self.source}"

    def _fallback_html(self, problem: str) -> str:
        return (
            f'<div class="descent-graph"><p><b>{html.escape(self._fallback_note(problem))}</b>'
            f"</p><pre>{html.escape(self.source)}</pre></div>"
        )


# ---- building the drawn graph --------------------------------------------------------------


def _group_of(chain: list, collapse) -> ModuleCall | None:
    """The module call an op is drawn inside when collapsing, or None to draw it alone."""
    if not chain:
        return None
    if collapse is True:
        innermost = chain[0]
        has_children = next(innermost.module.children(), None) is not None
        return None if has_children else innermost
    level = int(collapse)  # 1: the root module's children, 2: theirs, ...
    return chain[-1 - level] if len(chain) > level else None


def graph(tensor: Tensor, depth: int | None = None, collapse=False, names=None) -> Graph:
    """The computation graph that produced ``tensor``, captured now.

    - ``depth``: draw only nodes at most this many edges back from ``tensor``.
    - ``collapse=True``: draw each innermost module (a layer: Linear, ReLU, Conv2d ...) as
      one node holding its parameters; ``collapse=k`` collapses the modules k levels down
      the tree instead (1: the model's children).
    - ``names``: ``{'w': w, 'x': x}`` or a Module, to name tensors.

    Call it before ``backward()``: it keeps the intermediate gradients
    (``retain_grad``) and the graph's tensors, and backward frees the graph.
    """
    if depth is not None and depth < 0:
        raise ValueError(f"graph: depth must be >= 0 or None, got {depth}")
    cap = capture(tensor)
    user_names = name_map(names)
    chains = scope_chains(cap.tensors)
    param_names, mod_names = module_names(cap, chains)
    tensors = cap.tensors
    out_i = len(tensors) - 1  # the output comes last in topological order

    consumers: list = [[] for _ in tensors]
    for a, b, _ in cap.edges:
        consumers[a].append(b)

    # Each tensor's representative: its own node, or the module call it is collapsed into.
    group: list = [None] * len(tensors)
    if collapse and not any(chains.values()):
        warnings.warn(
            "graph(collapse=...): no op of this graph ran inside a recorded module call, so "
            "there is no layer to collapse. Module calls are recorded from the import of "
            "descent.viz on: import it before the forward pass (a graph copied with "
            "copy.deepcopy loses them too)",
            UserWarning,
            stacklevel=2,
        )
    if collapse:
        for i, t in enumerate(tensors):
            if t._ctx is not None and id(t) not in user_names:
                group[i] = _group_of(chains[id(t._ctx)], collapse)
        for i, t in enumerate(tensors):  # fold leaves used only inside one module call
            if t._ctx is None and consumers[i] and id(t) not in user_names:
                owners = {id(group[c]) if group[c] is not None else None for c in consumers[i]}
                foldable = t.requires_grad or t._data.size == 1
                if foldable and len(owners) == 1 and group[consumers[i][0]] is not None:
                    group[i] = group[consumers[i][0]]

    nodes: dict = {}  # key -> Node, in topological order
    rep: list = [None] * len(tensors)
    group_keys: dict = {}
    group_members: dict = {}
    for i, t in enumerate(tensors):
        g = group[i]
        if g is None:
            key = f"n{i}"
            nodes[key] = _tensor_node(key, t, user_names, param_names, i == out_i)
            if t._ctx is not None and t.requires_grad:
                t.retain_grad()  # so the drawing shows its gradient after backward
        else:
            key = group_keys.get(id(g))
            if key is None:
                key = group_keys[id(g)] = f"m{len(group_keys)}"
                nodes[key] = None  # filled in below, once every member is known
                group_members[key] = (g, [])
            group_members[key][1].append(i)
        rep[i] = key
    for key, (g, members) in group_members.items():
        nodes[key] = _module_node(
            key, g, members, tensors, consumers, rep, out_i, mod_names, param_names
        )

    edges: list = []
    seen_edges: set = set()
    for a, b, _ in cap.edges:
        e = (rep[a], rep[b])
        if e[0] != e[1] and e not in seen_edges:
            seen_edges.add(e)
            edges.append(e)

    if depth is not None:
        nodes, edges = _limit_depth(nodes, edges, rep[out_i], depth)
    return Graph(list(nodes.values()), edges)


def _tensor_node(key, t: Tensor, user_names, param_names, is_output: bool) -> Node:
    name = user_names.get(id(t)) or param_names.get(id(t))
    if t._ctx is not None:
        kind, op = "op", t._ctx.name
        title = f"{name} = {op}" if name else op
    elif t.requires_grad:
        kind, op = "parameter", None
        title = f"parameter {name}" if name else "parameter"
    else:
        kind, op = "input", None
        title = name or ("constant" if t._data.size == 1 else "input")
    if is_output:
        title += "  (loss)" if t._data.size == 1 else "  (output)"
    value = ("value " if t._data.size == 1 else "") + node_text(t._data)
    return Node(key, kind, title, t.shape, value, tensor=t, op=op, is_output=is_output)


def _module_node(key, g, members, tensors, consumers, rep, out_i, mod_names, param_names):
    module = g.module
    name = mod_names.get(id(module), "")
    title = f"{name}: {type(module).__name__}" if name else type(module).__name__
    member_set = set(members)
    outputs = [
        i
        for i in members
        if tensors[i]._ctx is not None
        and (i == out_i or any(rep[c] != key for c in consumers[i]) or not consumers[i])
    ]
    parts = []
    for i in members:
        t = tensors[i]
        if t._ctx is None and t.requires_grad:
            pname = param_names.get(id(t), "parameter")
            if name and pname.startswith(name + "."):
                pname = pname[len(name) + 1 :]
            parts.append(f"{pname} {tuple(t.shape)}")
    ops = [tensors[i]._ctx.name for i in members if tensors[i]._ctx is not None]
    if len(ops) > 1:
        parts.append("ops: " + ", ".join(ops))
    is_output = out_i in member_set
    if is_output:
        title += "  (loss)" if tensors[out_i]._data.size == 1 else "  (output)"
    if len(outputs) == 1:
        t = tensors[outputs[0]]
        if t.requires_grad:
            t.retain_grad()
        return Node(
            key, "module", title, t.shape, node_text(t._data), tensor=t, is_output=is_output,
            parts=parts,
        )  # fmt: skip
    return Node(
        key, "module", title, None, f"{len(outputs)} outputs", is_output=is_output, parts=parts
    )


def _limit_depth(nodes: dict, edges: list, out_key: str, depth: int):
    """Keep the nodes within ``depth`` edges of the output; count the inputs left out."""
    inputs_of: dict = {k: [] for k in nodes}
    for a, b in edges:
        inputs_of[b].append(a)
    dist = {out_key: 0}
    frontier = [out_key]
    while frontier:
        nxt = []
        for k in frontier:
            for a in inputs_of[k]:
                if a not in dist:
                    dist[a] = dist[k] + 1
                    nxt.append(a)
        frontier = nxt
    keep = {k for k, d in dist.items() if d <= depth}
    kept = {}
    for k, n in nodes.items():
        if k in keep:
            n.hidden_inputs = len({a for a in inputs_of[k] if a not in keep})
            kept[k] = n
    return kept, [(a, b) for a, b in edges if a in keep and b in keep]
