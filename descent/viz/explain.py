"""The chain rule, edge by edge: how backpropagation finds one gradient, in the lectures' form.

>>> w, b = ds.tensor(0.5, requires_grad=True), ds.tensor(0.1, requires_grad=True)
>>> x, y = ds.tensor(1.5), ds.tensor(3.0)
>>> J = ((w * x + b - y) ** 2).sum()
>>> print(ds.viz.explain(J, wrt=b, names={"w": w, "b": b, "x": x, "y": y}))

For every path from the loss to ``wrt`` it lists the local derivative of each edge and
their product, then adds the paths up where they meet, and checks the result against
``ds.grad``. Local derivatives come from each op's own backward rule, called with a
gradient of one on the graph as it is (the caller's graph is not freed). Where a node
holds an array, the local Jacobian is shown by its form (``upstream @ W^T``) and the
gradient by its shape and a summary.
"""

from __future__ import annotations

import html
import re
import sys
from dataclasses import dataclass

import numpy as np

from ..autograd import check_rule, no_grad
from ..autograd import grad as autodiff_grad
from ..tensor import Tensor
from .graph import SMALL, capture, fmt, module_names, name_map, shape_text, summary

__all__ = ["Explanation", "explain"]

# Default node names, from the op that made the node (Pow with exponent 2 is 'square').
DEFAULT_NAMES = {
    "Add": "add", "Sub": "minus", "Mul": "mul", "Div": "div", "Pow": "pow", "Neg": "neg",
    "MatMul": "matmul", "Exp": "exp", "Log": "log", "Sqrt": "sqrt", "Abs": "abs",
    "Sigmoid": "sigmoid", "Relu": "relu", "Tanh": "tanh", "LeakyRelu": "leaky_relu",
    "Sum": "sum", "Mean": "mean", "Softmax": "softmax", "LogSoftmax": "log_softmax",
    "LogSumExp": "logsumexp", "Reshape": "reshape", "Permute": "permute", "Expand": "expand",
    "GetItem": "index", "Linear": "linear", "Conv2d": "conv", "Maximum": "maximum",
    "Minimum": "minimum", "SoftmaxCrossEntropy": "cross_entropy", "Amax": "max",
}  # fmt: skip

# How each op's result is written in the forward listing; {0}, {1} are its inputs' names.
FORWARD = {
    "Add": "{0} + {1}", "Sub": "{0} - {1}", "Mul": "{0}*{1}", "Div": "{0}/{1}",
    "Pow": "{0}^{1}", "MatMul": "{0} @ {1}", "Neg": "-{0}",
}  # fmt: skip
# How tightly each of those binds (higher: tighter), for parentheses: a*x - y, (a*x - y)^2.
PRECEDENCE = {"Add": 1, "Sub": 1, "Mul": 2, "Div": 2, "MatMul": 2, "Neg": 2.5, "Pow": 3}
ATOM = 4  # a name, a number, a function call
NAME_LENGTH = 24  # a node named after its expression only while the expression is this short

# Local derivatives of one-number nodes, per input: (symbolic, with the values put in).
# {0}, {1}: the inputs' names; {v0}, {v1}, {vo}: the inputs' and the output's values.
SCALAR = {
    "Add": (("1", None), ("1", None)),
    "Sub": (("1", None), ("-1", None)),
    "Mul": (("{1}", "{v1}"), ("{0}", "{v0}")),
    "Div": (("1/{1}", "1/{v1}"), ("-{0}/{1}^2", "-{v0}/{v1}^2")),
    "Pow": (
        ("{1} {0}^({1} - 1)", "{v1} * {v0}^({v1} - 1)"),
        ("{0}^{1} ln {0}", "{vo} * ln({v0})"),
    ),
    "Neg": (("-1", None),),
    "Exp": (("exp({0})", "exp({v0})"),),
    "Log": (("1/{0}", "1/{v0}"),),
    "Sqrt": (("1/(2 sqrt({0}))", "1/(2 * sqrt({v0}))"),),
    "Abs": (("sign({0})", None),),
    "Sin": (("cos({0})", "cos({v0})"),),
    "Cos": (("-sin({0})", "-sin({v0})"),),
    "Sigmoid": (("sigma({0})(1 - sigma({0}))", "{vo} * (1 - {vo})"),),
    "Tanh": (("1 - tanh({0})^2", "1 - {vo}^2"),),
    "Relu": (("[{0} > 0]", None),),
    "Sum": (("1", None),),
    "Mean": (("1", None),),
}

# Local Jacobians of array nodes, per input, as the vector-Jacobian product they compute;
# BROADCAST is added where the input was broadcast to the output's shape.
BROADCAST = " (summed over broadcast dims)"
JACOBIAN = {
    "Add": ("upstream", "upstream"),
    "Sub": ("upstream", "-upstream"),
    "Mul": ("{1} * upstream", "{0} * upstream"),
    "Div": ("upstream / {1}", "-upstream * {0} / {1}^2"),
    "Pow": ("{1} {0}^({1} - 1) * upstream", "{0}^{1} ln {0} * upstream"),
    "MatMul": ("upstream @ {1}^T", "{0}^T @ upstream"),
    "Neg": ("-upstream",),
    "Exp": ("exp({0}) * upstream",),
    "Log": ("upstream / {0}",),
    "Sqrt": ("upstream / (2 sqrt({0}))",),
    "Abs": ("sign({0}) * upstream",),
    "Sin": ("cos({0}) * upstream",),
    "Cos": ("-sin({0}) * upstream",),
    "Sigmoid": ("sigma({0})(1 - sigma({0})) * upstream",),
    "Tanh": ("(1 - tanh({0})^2) * upstream",),
    "Relu": ("[{0} > 0] * upstream",),
    "LeakyRelu": ("([{0} > 0] + slope [{0} <= 0]) * upstream",),
    "Sum": ("broadcast(upstream)",),
    "Mean": ("broadcast(upstream) / n",),
    "Amax": ("upstream at the largest elements (ties share it)",),
    "Softmax": ("s * (upstream - sum(upstream * s)), s = softmax({0})",),
    "LogSoftmax": ("upstream - softmax({0}) * sum(upstream)",),
    "LogSumExp": ("softmax({0}) * broadcast(upstream)",),
    "Reshape": ("upstream reshaped back",),
    "Permute": ("upstream with its axes permuted back",),
    "Expand": ("upstream summed over the expanded dims",),
    "GetItem": ("upstream scattered into zeros at the index",),
    "Linear": ("upstream @ {1}", "upstream^T @ {0}", "upstream summed over the rows"),
    "Conv2d": (
        "upstream sent back through {1} (col2im)",
        "upstream correlated with {0}",
        "upstream summed over N, H, W",
    ),
    "SoftmaxCrossEntropy": ("(softmax({0}) - target) * upstream", "-log softmax({0}) * upstream"),
    "Maximum": ("[{0} > {1}] * upstream", "[{1} > {0}] * upstream"),
    "Minimum": ("[{0} < {1}] * upstream", "[{1} < {0}] * upstream"),
    "Clamp": ("[lo <= {0} <= hi] * upstream",),
    "Cast": ("upstream cast back",),
}

MAX_LISTED = 40  # forward lines and array values shown at most
WIDTH = 100  # ``render()`` lays the text out to this many columns unless told otherwise
LABEL_COLUMN = 28  # a path's edge labels padded to one column at most this wide


class Explanation:
    """The chain rule for one gradient, as text (``str()`` or ``print``) and as numbers.

    ``value``: the gradient found by adding up the paths; ``autodiff``: ``ds.grad``'s;
    ``equal``: whether they agree; ``paths``: each path as a list of node names. ``text``
    has one line per step, however long; ``render(width)`` lays it out to ``width`` columns
    (what ``descent explain`` prints): a line too long is broken where it reads best (a
    product before a ``*``, a path before a ``<-``, an array between its rows), its
    continuation indented under what it continues.
    """

    def __init__(
        self,
        text: str,
        value,
        autodiff,
        paths: list,
        loss_name: str,
        wrt_name: str,
        parts: dict | None = None,
    ):
        self.text = text
        self.value = value
        self.autodiff = autodiff
        self.paths = paths
        self.loss_name = loss_name
        self.wrt_name = wrt_name
        # The text's pieces, for the HTML view: 'header', 'forward' (lines), 'edges' (one
        # EdgeRow per edge), 'paths' (PathRows), 'meets' (lines), 'footer' (lines).
        self.parts = parts or {"header": text}

    @property
    def edges(self) -> list:
        """The local derivative of each edge on the paths, as ``EdgeRow``s."""
        return list(self.parts.get("edges", []))

    @property
    def equal(self) -> bool:
        return _close(self.value, self.autodiff)

    _graph = None  # (loss, {name: tensor}, max_paths): set by explain, for walk_to

    @property
    def parameters(self) -> list:
        """The names of the graph's leaves that need a gradient: what ``walk_to`` takes."""
        if self._graph is None:
            return [self.wrt_name]
        return [k for k, t in self._graph[1].items() if t._ctx is None and t.requires_grad]

    def walk_to(self, name: str) -> Explanation:
        """The same loss's chain rule walked to another parameter: ``e.walk_to('W')``."""
        if name == self.wrt_name:
            return self
        available = self.parameters
        if name not in available:  # w for W where the case alone differs, and only one fits
            same = [k for k in available if k.lower() == name.lower()]
            name = same[0] if len(same) == 1 else name
            if name == self.wrt_name:
                return self
        if name not in available:
            raise KeyError(
                f"no parameter {name!r} in this graph; the parameters are "
                f"{', '.join(available)} (the others do not need a gradient)"
            )
        loss, named, max_paths = self._graph
        return explain(loss, wrt=named[name], names=named, max_paths=max_paths)

    def render(self, width: int = WIDTH) -> str:
        """The text laid out to ``width`` columns (``WIDTH``, 100, by default); only
        white space differs from ``text``."""
        return layout(self.text.split("\n"), width)

    def __str__(self) -> str:
        return self.text

    __repr__ = __str__

    def _repr_html_(self) -> str:
        """The explanation in Jupyter: tables of the edges and of the paths' products."""
        e = html.escape
        p = self.parts
        out = [f"<p><b>{e(p['header'])}</b></p>"]
        if p.get("forward"):
            out.append("<p>Forward pass (the values each local derivative is evaluated at):</p>")
            out.append("<pre>" + e("\n".join(line.strip() for line in p["forward"])) + "</pre>")
        if p.get("edges"):
            out.append(
                '<table class="descent-explain-edges"><caption style="text-align:left">Local '
                "derivative of each edge on the paths</caption><thead><tr><th>edge</th>"
                "<th>local derivative</th><th>with the values</th><th>=</th></tr></thead><tbody>"
            )
            for row in p["edges"]:
                cells = (row.edge, row.symbolic or "", _times(row.filled or ""), row.value or "")
                out.append("<tr>" + "".join(f"<td>{e(c)}</td>" for c in cells) + "</tr>")
            out.append("</tbody></table>")
        if p.get("paths"):
            out.append(
                '<table class="descent-explain-paths"><caption style="text-align:left">Each '
                "path: the product of its edges</caption><thead><tr><th>path</th>"
                "<th>chain rule</th><th>arithmetic</th><th>=</th></tr></thead><tbody>"
            )
            for k, row in enumerate(p["paths"], 1):
                arithmetic = (
                    f"<td>{e(_times(row.arithmetic))}</td>"
                    if row.steps is None
                    else "<td><pre>" + e("\n".join(row.steps)) + "</pre></td>"
                )
                total = p.get("path_count", len(p["paths"]))
                out.append(
                    f"<tr><td>{k} of {total}: {e(row.chain)}</td><td>{e(_times(row.factors))}"
                    f"</td>{arithmetic}<td>{e(row.value)}</td></tr>"
                )
            out.append("</tbody></table>")
            out += [f"<p><i>{e(line)}</i></p>" for line in p.get("omitted", [])]
        if p.get("meets"):
            out.append(
                "<p>Where paths meet (a value used more than once), their gradients add up:</p>"
            )
            out.append("<pre>" + e("\n".join(p["meets"])) + "</pre>")
        for line in p.get("footer", []):
            out.append(f"<p>{e(line)}</p>")
        return '<div class="descent-explain">' + "\n".join(out) + "</div>"

    def _repr_pretty_(self, p, cycle) -> None:  # IPython's text view: the text
        p.text(self.text)


@dataclass(frozen=True)
class EdgeRow:
    """One edge's local derivative: its name (dout/din), symbolically, with the values put
    in (None where the edge joins arrays or the form is the number itself), and its value
    (None for an array edge, whose ``symbolic`` is the vector-Jacobian product)."""

    edge: str
    symbolic: str | None
    filled: str | None
    value: str | None


@dataclass(frozen=True)
class PathRow:
    """One path: its nodes (J <- ... <- wrt), the product of the edges' derivatives, that
    product with the numbers (one-number paths) or the steps from the loss down (arrays),
    and its value."""

    chain: str
    factors: str
    arithmetic: str
    steps: list | None
    value: str


def _times(text: str) -> str:
    """A product as the lectures write it: ``(-2) × 3`` for ``(-2) * 3``."""
    return text.replace(" * ", " \u00d7 ")


def _close(a, b) -> bool:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-5, atol=1e-7, equal_nan=True))


def _num(value) -> str:
    return fmt(np.asarray(value).reshape(()), 6)


def _paren(value) -> str:
    """A number for a product: negatives in parentheses."""
    s = _num(value)
    return f"({s})" if s.startswith("-") else s


def _balanced(text: str, open_: str, close: str) -> bool:
    """Whether ``text`` is one bracketed group: (a + b), not (a) + (b)."""
    if not (text.startswith(open_) and text.endswith(close)):
        return False
    depth = 0
    for i, c in enumerate(text):
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        if depth == 0 and i < len(text) - 1:
            return False
    return True


def _is_atom(text: str) -> bool:
    """Whether a name or expression needs no parentheses next to an operator."""
    if re.fullmatch(r"[A-Za-z_][\w.]*|\d[\d.e+]*", text):
        return True
    call = re.fullmatch(r"[A-Za-z_]\w*(\(.*\))", text)
    return (
        _balanced(text, "(", ")")
        or _balanced(text, "[", "]")
        or (call is not None and _balanced(call.group(1), "(", ")"))
    )


def _single(text: str) -> str:
    """``text`` without doubled parentheses: sigma((a + b)) -> sigma(a + b)."""
    i = text.find("((")
    while i >= 0:
        depth, close = 0, None
        for j in range(i, len(text)):
            depth += 1 if text[j] == "(" else -1 if text[j] == ")" else 0
            if depth == 0:
                close = j
                break
        if (
            close is not None
            and text[close - 1] == ")"
            and _balanced(text[i + 1 : close], "(", ")")
        ):
            text = text[:i] + text[i + 1 : close - 1] + text[close - 1 :]
            text = text[: close - 1] + text[close:]
            i = text.find("((")
        else:
            i = text.find("((", i + 1)
    return text


def _wrap(text: str) -> str:
    """``text`` ready to stand next to an operator: (a*x - y) for a*x - y, x for x."""
    return text if _is_atom(text) else f"({text})"


def _d(name: str) -> str:
    """The differential of a node: da, d(a*x - y)."""
    return "d" + (name if re.fullmatch(r"[A-Za-z_]\w*", name) else f"[{name}]")


def _exponent(ctx) -> float | None:
    """The constant exponent of a Pow node, if it has one."""
    if ctx.name != "Pow" or len(ctx.inputs) < 2:
        return None
    b = ctx.inputs[1]
    arr = b._data if isinstance(b, Tensor) else np.asarray(b)
    if arr.size == 1 and not (isinstance(b, Tensor) and b.requires_grad):
        return float(arr.reshape(()))
    return None


def _default_name(ctx) -> str:
    if _exponent(ctx) == 2:
        return "square"
    return DEFAULT_NAMES.get(ctx.name, ctx.name.lower())


def _arg_names(ctx, names: dict) -> list:
    """The names of an op's inputs: tensors by their node names, constants by their value."""
    out = []
    for inp in ctx.inputs:
        if isinstance(inp, Tensor):
            out.append(names[id(inp)])
        elif inp is None:
            out.append("None")
        elif np.asarray(inp).size == 1 and np.asarray(inp).dtype.kind in "biuf":
            out.append(_num(inp))
        else:
            out.append("const")
    return out


def _scalar_form(ctx, pos: int, arg_names: list, out_value) -> tuple[str | None, str | None]:
    """(symbolic, with values) local derivative of a one-number edge, None where unknown."""
    forms = SCALAR.get(ctx.name)
    if forms is None or pos >= len(forms):
        return None, None
    values = {}
    for i, inp in enumerate(ctx.inputs):
        if isinstance(inp, Tensor) and inp._data.size == 1:
            values[f"v{i}"] = _paren(inp._data)
        elif inp is not None and not isinstance(inp, Tensor) and np.asarray(inp).size == 1:
            values[f"v{i}"] = _paren(inp)
    values["vo"] = _paren(out_value)
    if ctx.name == "Pow" and pos == 0 and _exponent(ctx) == 2:
        symbolic, filled = "2 {0}", "2 * {v0}"
    else:
        symbolic, filled = forms[pos]
    symbolic = _single(symbolic.format(*[_wrap(a) for a in arg_names]))
    try:
        filled = filled.format(**values) if filled else None
    except KeyError:
        filled = None
    return symbolic, filled


def _jacobian_form(ctx, pos: int, arg_names: list, broadcast: bool = False) -> str:
    """The vector-Jacobian product of an array edge; ``broadcast``: the input was broadcast
    to the output's shape, so the product is summed back over those dims."""
    wrapped = [_wrap(a) for a in arg_names]
    if ctx.name == "Pow" and pos == 0 and _exponent(ctx) == 2:
        form = f"2 {wrapped[0]} * upstream"
    else:
        forms = JACOBIAN.get(ctx.name)
        if forms is None or pos >= len(forms):
            return f"{ctx.name}.backward(upstream) for input {pos}"
        form = _single(forms[pos].format(*wrapped))
    return form + BROADCAST if broadcast and ctx.name in ("Add", "Sub", "Mul") else form


def _broadcast(T, b: int, a: int) -> bool:
    """Whether input a of op b was broadcast (its shape is not the output's)."""
    return tuple(T[a].shape) != tuple(T[b].shape)


def _expression(ctx, arg_names: list, precedence: dict) -> tuple[str, float]:
    """An op's result written from its inputs' names (a*x - y), and how tightly it binds."""
    args = [a for a in arg_names if a != "None"]
    template = FORWARD.get(ctx.name)
    if ctx.name == "Pow" and len(args) == 2 and args[1] == "0.5":
        return f"sqrt({args[0]})", ATOM
    if template is None or len(args) < template.count("{"):
        return f"{_default_name(ctx)}({', '.join(args)})", ATOM
    p = PRECEDENCE[ctx.name]
    parts = []
    for i, arg in enumerate(args[: template.count("{")]):
        q = precedence.get(arg, ATOM if _is_atom(arg) else 1)
        if arg.startswith("-"):  # a negative number: h*(-0.5), -0.5*h
            q = 2.5 if i == 0 else 0
        tight = ctx.name == "Pow" or (i == 1 and ctx.name in ("Sub", "Div", "MatMul"))
        parts.append(f"({arg})" if q < p or (tight and q <= p) else arg)
    return template.format(*parts), p


def _forward_text(ctx, arg_names: list) -> str:
    return _expression(ctx, arg_names, {})[0]


def _value_text(array) -> str:
    """One number, every value of a small array, or a larger one's shape and summary."""
    a = np.asarray(array)
    if a.size == 1:
        return _num(a)
    if a.size <= SMALL:
        return summary(a, 6)
    return f"{shape_text(a.shape)}: {summary(a, 6)}"


def _vjp(ctx, upstream: np.ndarray) -> tuple:
    """The op's backward rule applied to ``upstream``: one gradient per input (or None)."""
    with no_grad():
        return check_rule(ctx, ctx.fn.backward(ctx, upstream))


def explain(loss: Tensor, wrt: Tensor, names=None, max_paths: int = 16, frame=None) -> Explanation:
    """The chain rule for d(loss)/d(wrt), path by path, checked against autodiff.

    ``names`` names tensors: ``{'w': w, 'b': b, 'x': x}`` (or a Module, for its
    parameters); the loss is called J unless named. Other nodes are named after their op:
    mul, add, minus (Sub), square (Pow with exponent 2), sum, ... Call it before
    ``loss.backward()`` (or after ``backward(retain_graph=True)``).
    """
    if not isinstance(loss, Tensor) or not isinstance(wrt, Tensor):
        raise TypeError("explain(loss, wrt=tensor): both must be Tensors")
    if loss._data.size != 1:
        raise ValueError(
            f"explain: the loss must be one number, this one has shape {tuple(loss.shape)}; reduce "
            f"it first, e.g. loss.sum()"
        )
    if not wrt.requires_grad:
        raise ValueError("explain: wrt does not require grad, so the loss has no gradient for it")
    cap = capture(loss)
    T = cap.tensors
    n = len(T)
    if id(wrt) not in cap.index:
        raise ValueError("explain: wrt is not in the graph that computed the loss")
    w, L = cap.index[id(wrt)], n - 1

    # Edges that carry gradient, per op node: (argument position, input node).
    inputs_of: list = [[] for _ in T]
    for a, b, pos in cap.edges:
        if T[b]._ctx.needs_input_grad[pos]:
            inputs_of[b].append((pos, a))
    count = [0] * n  # paths from each node down to wrt
    count[w] = 1
    for i in range(n):  # topological order: inputs first
        if i != w:
            count[i] = sum(count[a] for _, a in inputs_of[i])
    if count[L] == 0:
        raise ValueError("explain: the loss does not depend on wrt (no path between them)")

    user = name_map(names)
    if frame is None:  # the caller's variables name what ``names`` leaves out: a, x, y
        frame = sys._getframe(1)
    found = _caller_names(frame, cap.index)
    loss_var = found.pop(id(loss), None)  # the loss is J (the decks' name) unless named
    user = {**found, **user}
    J = user.get(id(loss), "J")
    names_of = _node_names(cap, user, J)
    if w == L:  # the loss is wrt itself
        X = loss_var or "x" if J == "J" else J
        text = f"d{J}/d{X} = 1: the loss is {X} itself, so there is no edge to walk."
        one = np.ones_like(loss._data)
        return Explanation(text, one, one.copy(), [[J, X]], J, X, {"header": text})
    node = [names_of[id(t)] for t in T]
    X = node[w]
    args = [_arg_names(t._ctx, names_of) if t._ctx is not None else [] for t in T]

    # Gradients from the loss down, only along paths to wrt: dJ/d(node) at every node on
    # them, and each edge's term dJ/d(out) * d(out)/d(in).
    up = {L: np.ones_like(T[L]._data)}
    term = {}
    for b in range(n - 1, -1, -1):
        if b == w or b not in up or T[b]._ctx is None:
            continue
        grads = _vjp(T[b]._ctx, up[b])
        for pos, a in inputs_of[b]:
            if count[a] and grads[pos] is not None:
                term[(b, pos)] = grads[pos]
                up[a] = up[a] + grads[pos] if a in up else grads[pos]
    value = up[w]
    autodiff = autodiff_grad(loss, [wrt], retain_graph=True)[0]._data

    paths = _paths(inputs_of, count, L, w, max_paths)
    on_path_edges = [(b, pos, a) for b in range(n) for pos, a in inputs_of[b] if (b, pos) in term]
    in_paths = {}  # edge -> where it first appears in the listed paths, for the listing order
    for path in paths:
        for e in path:
            in_paths.setdefault(e, len(in_paths))
    listing = sorted(on_path_edges, key=lambda e: (in_paths.get(e, len(in_paths)), -e[0]))

    loss_text = f" = {_forward_text(T[L]._ctx, args[L])}" if T[L]._ctx is not None else ""
    lines = [
        f"The chain rule for d{J}/d{X}: {count[L]} path{'s' if count[L] != 1 else ''} "
        f"from the loss {J}{loss_text} down to {X}.",
        "",
        "Forward pass (the values each local derivative is evaluated at):",
    ]
    forward = _forward_lines(T, node, args, count, cap.index)
    lines += forward
    lines += ["", "Local derivative of each edge on the paths:"]
    edge_rows = []
    for b, pos, a in listing:
        row = _edge_row(T, node, args, b, pos, a)
        edge_rows.append(row)
        lines.append("  " + _edge_text(row))
    header = lines[0]

    path_values, path_rows = [], []
    for k, path in enumerate(paths, 1):
        lines.append("")
        chain = " <- ".join(_chain(J, node, path, X))
        via = [f"input {pos + 1} of {node[b]}" for b, pos, a in path if _repeated(T, b, a)]
        chain += f"  (through {', '.join(via)})" if via else ""
        lines.append(f"Path {k} of {count[L]}: {chain}")
        pv, path_lines, path_row = _path_lines(T, node, args, path, J, X)
        path_values.append(pv)
        path_rows.append(PathRow(chain, *path_row))
        lines += path_lines
    omitted = []
    if count[L] > len(paths):
        omitted.append(f"... {count[L] - len(paths)} more paths not listed (max_paths={max_paths})")
        lines += omitted

    uses: dict = {}  # node -> the on-path edges that use it
    for b, pos, a in on_path_edges:
        uses.setdefault(a, []).append((b, pos))
    meets = sorted((a for a, u in uses.items() if len(u) > 1), reverse=True)
    meet_lines = []
    for a in meets:
        meet_lines += _meet_lines(node, J, a, uses[a], term, up)
    if meets:
        lines += ["", "Where paths meet (a value used more than once), their gradients add up:"]
        lines += meet_lines

    lines.append("")
    first_footer = len(lines)
    if len(paths) > 1 and len(paths) == count[L]:
        total = " + ".join(
            _paren(v) if np.asarray(v).size == 1 else _array_term(v) for v in path_values
        )
        lines.append(f"Sum over the {len(paths)} paths: d{J}/d{X} = {total}")
    lines.append(f"d{J}/d{X} = {_value_text(value)}")
    if SMALL < value.size <= MAX_LISTED:
        lines.append(np.array2string(value, precision=6, separator=", "))
    verdict = "equal" if _close(value, autodiff) else "NOT EQUAL"
    if value.size == 1:
        lines.append(f"autodiff (ds.grad) gives d{J}/d{X} = {_num(autodiff)}: {verdict}")
    else:
        diff = float(np.max(np.abs(np.asarray(value, np.float64) - autodiff)))
        lines.append(
            f"autodiff (ds.grad) gives d{J}/d{X} of {shape_text(autodiff.shape)}, "
            f"max |difference| {fmt(diff, 3)}: {verdict}"
        )
    named_paths = [_chain(J, node, p, X) for p in paths]
    parts = {
        "header": header,
        "forward": forward,
        "edges": edge_rows,
        "paths": path_rows,
        "path_count": count[L],
        "omitted": omitted,
        "meets": meet_lines,
        "footer": lines[first_footer:],
    }
    out = Explanation("\n".join(lines), value, autodiff, named_paths, J, X, parts)
    out._graph = (loss, {node[i]: T[i] for i in range(n)}, max_paths)
    return out


def _caller_names(frame, tensors: dict) -> dict:
    """id(tensor) -> the caller's variable name for it, for the tensors of the graph: the
    shortest where one tensor has several names (b, not target)."""
    out: dict = {}
    for var, value in list(frame.f_locals.items()) if frame is not None else ():
        if isinstance(value, Tensor) and id(value) in tensors and not var.startswith("_"):
            old = out.get(id(value))
            if old is None or (len(var), var) < (len(old), old):
                out[id(value)] = var
    return out


def _leaf_name(t: Tensor, taken: dict) -> str:
    """A name for a leaf nobody named: a small constant by its values, else input / param."""
    if not t.requires_grad and t._data.size <= 3:
        return summary(t._data, 6)
    base = "param" if t.requires_grad else "input"
    k = taken[base] = taken.get(base, 0) + 1
    return base if k == 1 else f"{base}_{k}"


def _node_names(cap, user: dict, loss_name: str) -> dict:
    """id(tensor) -> a readable name: the caller's, a parameter's, the loss's, or the
    expression that made the node from its inputs' names (a*x - y, (a*x - y)^2), or where
    that is long, its op (sum, mean)."""
    param_names, _ = module_names(cap)
    out, taken, precedence = {}, {}, {}
    used = set(user.values())
    last = cap.tensors[-1] if cap.tensors else None
    for t in cap.tensors:
        name = user.get(id(t))
        if name is None and t is last:
            name = loss_name
        if name is None and t._ctx is None:
            name = param_names.get(id(t))
        if name is None and t._ctx is None:
            name = _num(t._data) if t._data.size == 1 and not t.requires_grad else None
            name = name if name is not None else _leaf_name(t, taken)
        if name is None:
            name, p = _expression(t._ctx, _arg_names(t._ctx, out), precedence)
            if len(name) > NAME_LENGTH:
                name, p = _default_name(t._ctx), ATOM
            if name in used:  # the same expression computed twice: tell the copies apart
                k = 2
                while f"{name} #{k}" in used:
                    k += 1
                name, p = f"{name} #{k}", ATOM
            precedence[name] = p
        used.add(name)
        out[id(t)] = name
    return out


def _paths(inputs_of, count, L: int, w: int, limit: int) -> list:
    """Paths from the loss to wrt as lists of edges (out node, position, in node), in order."""
    paths = []
    stack = [(L, [])]
    while stack and len(paths) < limit:
        i, edges = stack.pop()
        if i == w:
            paths.append(edges)
            continue
        for pos, a in reversed(inputs_of[i]):
            if count[a]:
                stack.append((a, edges + [(i, pos, a)]))
    return paths


def _chain(J: str, node: list, path: list, X: str) -> list:
    """A path's node names from the loss down: J <- (a*x - y)^2 <- ... <- a."""
    names = [node[b] for b, _, _ in path] + [X]
    return names if names[0] == J else [J] + names


def _forward_lines(T, node, args, count, index) -> list:
    on = [i for i in range(len(T)) if count[i] and T[i]._ctx is not None]
    on_set = set(on)
    operands = []  # inputs of the ops on the paths that are not on them themselves
    for i in on:
        for inp in T[i]._ctx.inputs:
            if isinstance(inp, Tensor) and index[id(inp)] not in on_set:
                operands.append(inp)
    lines, seen = [], set()
    for t in operands:
        name = node[index[id(t)]]
        if id(t) in seen or name == _value_text(t._data):
            continue  # constants are named by their value already
        seen.add(id(t))
        lines.append(f"  {name} = {_value_text(t._data)}")
    for i in on:
        expression = _forward_text(T[i]._ctx, args[i])
        shown = [node[i]] + ([expression] if expression != node[i] else [])
        lines.append(f"  {' = '.join(shown)} = {_value_text(T[i]._data)}")
    if len(lines) > MAX_LISTED:
        lines = lines[: MAX_LISTED // 2] + ["  ..."] + lines[-MAX_LISTED // 2 :]
    return lines


def _is_scalar_edge(T, b: int, a: int) -> bool:
    return T[b]._data.size == 1 and T[a]._data.size == 1


def _local_number(T, b: int, pos: int):
    ctx = T[b]._ctx
    return _vjp(ctx, np.ones_like(T[b]._data))[pos]


def _repeated(T, b: int, a: int) -> bool:
    """Whether node a is more than one input of op b (x * x): its edges need telling apart."""
    return sum(1 for inp in T[b]._ctx.inputs if inp is T[a]) > 1


def _edge_label(T, node, b: int, pos: int, a: int) -> str:
    label = f"{_d(node[b])}/{_d(node[a])}"
    return label + f" (input {pos + 1})" if _repeated(T, b, a) else label


def _edge_row(T, node, args, b: int, pos: int, a: int) -> EdgeRow:
    """One edge's local derivative; the form with the values put in reads as Python does
    (2 * (-3), 1 - 0.5^2), so a student can type it in and get the number shown."""
    ctx = T[b]._ctx
    head = _edge_label(T, node, b, pos, a)
    if _is_scalar_edge(T, b, a):
        number = _num(_local_number(T, b, pos))
        symbolic, filled = _scalar_form(ctx, pos, args[b], T[b]._data)
        shown = [head]
        for p in (symbolic, filled):
            shown.append(p if p and p not in shown and p.strip("()") != number else None)
        return EdgeRow(head, shown[1], shown[2], number)
    return EdgeRow(
        head,
        f"{_jacobian_form(ctx, pos, args[b], _broadcast(T, b, a))}   "
        f"[{node[a]} {shape_text(T[a].shape)} -> {node[b]} {shape_text(T[b].shape)}]",
        None,
        None,
    )


def _edge_text(row: EdgeRow) -> str:
    """An edge's line of the text: dout/din = symbolic = with values = number."""
    if row.value is None:
        return f"{row.edge}: {row.symbolic}"
    return " = ".join(p for p in (row.edge, row.symbolic, row.filled, row.value) if p)


def _path_lines(T, node, args, path: list, J: str, X: str):
    """(this path's gradient, the lines showing it)."""
    factors = [f"d{J}/{_d(node[path[0][0]])}"] if path and node[path[0][0]] != J else []
    factors += [f"{_d(node[b])}/{_d(node[a])}" for b, _, a in path]
    head = f"  d{J}/d{X} = " + " * ".join(factors or ["1"])
    if all(_is_scalar_edge(T, b, a) for b, _, a in path):
        numbers, shown = [], []
        for b, pos, _ in path:
            v = float(np.asarray(_local_number(T, b, pos)).reshape(()))
            numbers.append(v)
            _, filled = _scalar_form(T[b]._ctx, pos, args[b], T[b]._data)
            short = filled is not None and len(filled) <= 24 and filled.strip("()") != _num(v)
            shown.append(_factor(filled) if short else _paren(v))
        product = np.prod(numbers) if numbers else 1.0
        pad = " " * len(f"  d{J}/d{X} ")
        lines = [head]
        if len(factors) > len(path):  # the first factor, dJ/d(loss node), is 1
            shown = ["1"] + shown
        lines.append(f"{pad}= " + " * ".join(shown or ["1"]))
        lines.append(f"{pad}= {_num(product)}")
        factors_text = " * ".join(factors or ["1"])
        return (
            np.asarray(product),
            lines,
            (factors_text, " * ".join(shown or ["1"]), None, _num(product)),
        )
    lines = [head, "    from the loss down, each edge applied to the gradient so far (upstream):"]
    upstream = np.ones_like(T[path[0][0]]._data)
    # the labels in one column, as wide as the longest of them up to LABEL_COLUMN
    width = min(max(len(_edge_label(T, node, b, pos, a)) for b, pos, a in path), LABEL_COLUMN)
    for b, pos, a in path:
        ctx = T[b]._ctx
        upstream = _vjp(ctx, upstream)[pos]
        label = _edge_label(T, node, b, pos, a).ljust(width)
        if _is_scalar_edge(T, b, a):
            form = f"times {_num(_local_number(T, b, pos))}"
        else:
            form = _jacobian_form(ctx, pos, args[b], _broadcast(T, b, a))
        lines.append(f"      {label} : {form}  ->  {_value_text(upstream)}")
    lines.append(f"    = {_value_text(upstream)}")
    steps = [line.strip() for line in lines[2:-1]]
    return upstream, lines, (" * ".join(factors or ["1"]), "", steps, _value_text(upstream))


def _factor(text: str) -> str:
    """A factor of a product, in parentheses unless it is one number or a call: 0.5,
    (-3), (1 - 0.5^2), exp(2)."""
    try:
        float(text.strip("()"))
        return text
    except ValueError:
        return text if _is_atom(text) else f"({text})"


def _array_term(array) -> str:
    """An array in a sum: its values where it is small, else [shape: summary]."""
    a = np.asarray(array)
    return summary(a, 6) if a.size <= SMALL else f"[{_value_text(a)}]"


def _meet_lines(node, J: str, a: int, uses: list, term: dict, up: dict) -> list:
    head = f"  d{J}/{_d(node[a])} = " + " + ".join(
        f"d{J}/{_d(node[b])} * {_d(node[b])}/{_d(node[a])}" for b, _ in uses
    )
    parts = []
    for b, pos in uses:
        t = term[(b, pos)]
        parts.append(_paren(t) if t.size == 1 else _array_term(t))
    pad = " " * len(f"  d{J}/{_d(node[a])} ")
    return [head, f"{pad}= " + " + ".join(parts), f"{pad}= {_value_text(up[a])}"]


# ---- laying the text out to a width ---------------------------------------------------------


def layout(lines: list, width: int = WIDTH) -> str:
    """The lines joined, each longer than ``width`` broken where it reads best (``_fit``)."""
    return "\n".join(part for line in lines for part in _fit(line, width))


def _top_level(text: str, sep: str) -> list:
    """``text`` split at ``sep`` outside brackets: 'd[a + b] + c' at ' + ' is 2 pieces."""
    pieces, depth, start, i = [], 0, 0, 0
    while i < len(text):
        c = text[i]
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        elif depth == 0 and text.startswith(sep, i):
            pieces.append(text[start:i])
            start = i = i + len(sep)
            continue
        i += 1
    return pieces + [text[start:]]


def _split_words(text: str) -> tuple:
    first, *rest = text.split(" ")
    return first, rest


def _fill(first: str, rest: list, sep: str, indent: str, width: int) -> list:
    """``first`` then ``rest`` joined by ``sep`` on as few lines as fit ``width``; each
    continuation starts at ``indent`` with the separator's visible part ('* b', '<- Z2')."""
    lead = sep.strip()
    lead = lead + ("  " if sep.endswith("  ") else " ") if lead not in ("[", "") else lead
    lines, current = [], first
    for piece in rest:
        if len(current) + len(sep) + len(piece) <= width:
            current += sep + piece
        else:
            lines.append(current)
            current = indent + lead + piece
    return lines + [current]


def _rows(line: str, width: int) -> list:
    """A line ending in a matrix too long for ``width``: the matrix a row a line, each row
    under the one before ('[[1, 2],' then ' [3, 4]]')."""
    start = line.find("[[")
    if len(line) <= width or start < 0 or "], [" not in line[start:]:
        return [line]
    rows = line[start + 1 : -1].split("], [")
    rows = [r if r.startswith("[") else "[" + r for r in rows]
    rows = [r if r.endswith("]") else r + "]" for r in rows]
    pad = " " * (start + 1)
    out = [line[: start + 1] + rows[0] + ","]
    out += [pad + r + "," for r in rows[1:-1]]
    return out + [pad + rows[-1] + "]"]


def _fit(line: str, width: int) -> list:
    """One line of the text in lines of at most ``width`` columns where it can be broken.

    The arithmetic lines ('= 2 * (-3)', 'Sum over the 2 paths: ...') stay whole: a student
    types them in as they are."""
    body = line.lstrip()
    indent = line[: len(line) - len(body)]
    if len(line) <= width or body.startswith(("= ", "Sum over ")):
        return [line]
    if not indent and not body.startswith(("Path ", "d")):  # a sentence: between words,
        first, *rest = _top_level(body, " ")  # not inside a bracketed expression, if it can
        out = _fill(first, rest, " ", "", width)
        return out if max(map(len, out)) <= width else _fill(*_split_words(body), " ", "", width)
    if body.startswith("Path ") and ": " in body:  # Path 1 of 1: L <- ... <- b1
        head = body.index(": ") + 2
        first, *rest = _top_level(body[head:], " <- ")
        out = _fill(indent + body[:head] + first, rest, " <- ", indent + " " * head, width)
    elif "  ->  " in body and " : " in body:  # a step: label : form  ->  value
        head = body.index(" : ") + 3
        first, *rest = _top_level(body, "  ->  ")
        if len(indent) + len(first) > width:  # the form on a line of its own, under the label
            label, form = first[: head - 1], first[head:]
            out = [indent + label] + _fill(
                indent + "    " + form, rest, "  ->  ", indent + "    ", width
            )
        else:  # the value under the form, or under the label where that is too far in
            for hang in (head if head <= LABEL_COLUMN + 3 else 4, 4):
                out = _fill(indent + first, rest, "  ->  ", indent + " " * hang, width)
                if all(len(row) <= width for part in out for row in _rows(part, width)):
                    break
    elif "   [" in body and " -> " in body:  # an array edge: label: form   [shape -> shape]
        first, *rest = _top_level(body, "   [")
        out = [indent + first] + [indent + "    [" + r for r in rest]
        if len(out[0]) > width and ": " in first:  # the form under its label
            label, form = first.split(": ", 1)
            out[:1] = [indent + label + ":", indent + "    " + form]
        out = [
            part
            for row in out
            for part in (
                _fill(row.split(" -> ")[0], row.split(" -> ")[1:], " -> ", indent + "      ", width)
                if len(row) > width and row.lstrip().startswith("[")
                else [row]
            )
        ]
    elif body.startswith("d") and " = " in body:  # a chain rule: dJ/dX = a * b * c (+ ...)
        head = body.index(" = ") + 3
        tail = body[head:]
        sep = " + " if len(_top_level(tail, " + ")) > 1 else " * "
        first, *rest = _top_level(tail, sep)
        out = _fill(indent + body[:head] + first, rest, sep, indent + " " * head, width)
        if sep == " + ":  # each sum's term still too long: broken at its products
            out = [
                part
                for k, term in enumerate(out)
                for part in (
                    _fill(term.split(" * ")[0], term.split(" * ")[1:], " * ",
                          indent + " " * (head + (0 if k == 0 else 2)), width)
                    if len(term) > width
                    else [term]
                )
            ]  # fmt: skip
    elif " = " in body:  # a forward line: name = expression = value
        first, *rest = _top_level(body, " = ")
        out = _fill(indent + first, rest, " = ", indent + "    ", width)
    else:  # an indented sentence: between words, its continuation two columns in
        first, *rest = body.split(" ")
        out = _fill(indent + first, rest, " ", indent + "  ", width)
    return [row for part in out for row in _rows(part, width)]
