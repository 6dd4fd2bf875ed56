"""descent.viz: graphs as DOT (and SVG), the chain rule explained, plots, run reports."""

from __future__ import annotations

import base64
import copy
import importlib
import io
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import descent as ds
import descent.viz as viz
from descent import nn
from descent.train import History
from tests.helpers import PageParts

# the submodules (ds.viz.graph and ds.viz.explain are the functions)
graph_module = importlib.import_module("descent.viz.graph")
report_module = importlib.import_module("descent.viz.report")

# ---- a small DOT parser: one statement per line, as descent writes it -------------------------

NODE = re.compile(r"^\s*(\w+)\s*\[(.*)\];\s*$")
EDGE = re.compile(r"^\s*(\w+)\s*->\s*(\w+)\s*;\s*$")
ATTR = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|[^,\s\]]+)')
DEFAULTS = re.compile(r"^\s*(graph|node|edge)\s*\[.*\];\s*$")


def parse_dot(text: str) -> tuple[dict, list]:
    """(node id -> attributes, [(from, to)]); fails on any line it does not understand."""
    lines = text.strip().splitlines()
    assert re.match(r"^digraph \w+ \{$", lines[0]), lines[0]
    assert lines[-1] == "}"
    nodes, edges = {}, []
    for line in lines[1:-1]:
        if DEFAULTS.match(line):
            continue
        if m := EDGE.match(line):
            edges.append((m.group(1), m.group(2)))
        elif m := NODE.match(line):
            attrs = {}
            for key, value in ATTR.findall(m.group(2)):
                if value.startswith('"'):
                    value = value[1:-1].replace("\\n", "\n").replace('\\"', '"')
                attrs[key] = value
            nodes[m.group(1)] = attrs
        else:
            raise AssertionError(f"not a DOT statement: {line!r}")
    for a, b in edges:
        assert a in nodes and b in nodes, f"edge {a} -> {b} names an undeclared node"
    return nodes, edges


def titles(nodes: dict) -> dict:
    """node id -> first line of its label."""
    return {k: v["label"].split("\n")[0] for k, v in nodes.items()}


def lecture_graph(x=1.5, y=3.0, w=0.5, b=0.1):
    """J = sum((w*x + b - y)^2), the lectures' linear-regression graph."""
    w = ds.tensor(w, dtype=ds.float64, requires_grad=True)
    b = ds.tensor(b, dtype=ds.float64, requires_grad=True)
    x = ds.tensor(x, dtype=ds.float64)
    y = ds.tensor(y, dtype=ds.float64)
    J = ((w * x + b - y) ** 2).sum()
    return J, {"w": w, "b": b, "x": x, "y": y}


def mlp():
    ds.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 2))


# ---- graph -------------------------------------------------------------------------------------


def test_dot_holds_exactly_the_nodes_and_edges_of_the_lecture_graph():
    J, names = lecture_graph()
    nodes, edges = parse_dot(viz.graph(J, names=names).source)
    kinds = {k: v["class"] for k, v in nodes.items()}
    t = titles(nodes)
    ops = sorted(t[k] for k in nodes if kinds[k] == "op")
    assert ops == ["Add", "Mul", "Pow", "Sub", "Sum  (loss)"]
    assert sorted(t[k] for k in nodes if kinds[k] == "parameter") == ["parameter b", "parameter w"]
    assert sorted(t[k] for k in nodes if kinds[k] == "input") == ["constant", "x", "y"]
    named_edges = sorted((t[a], t[b]) for a, b in edges)
    assert named_edges == sorted(
        [
            ("parameter w", "Mul"),
            ("x", "Mul"),
            ("Mul", "Add"),
            ("parameter b", "Add"),
            ("Add", "Sub"),
            ("y", "Sub"),
            ("Sub", "Pow"),
            ("constant", "Pow"),
            ("Pow", "Sum  (loss)"),
        ]
    )
    # parameters, inputs and ops look different; the loss is marked
    looks = {
        kind: {
            (v["shape"], v["style"], v["fillcolor"]) for k, v in nodes.items() if kinds[k] == kind
        }
        for kind in ("op", "parameter", "input")
    }
    assert looks["parameter"].isdisjoint(looks["op"]) and looks["input"].isdisjoint(looks["op"])
    assert looks["parameter"].isdisjoint(looks["input"])
    (loss,) = [k for k in nodes if "(loss)" in t[k]]
    assert nodes[loss].get("peripheries") == "2"


def test_nodes_show_shape_value_and_after_backward_the_gradient():
    J, names = lecture_graph(x=1.5, y=3.0, w=0.5, b=0.1)
    g = viz.graph(J, names=names)  # before backward
    labels = {
        titles(parse_dot(g.source)[0])[k]: v["label"] for k, v in parse_dot(g.source)[0].items()
    }
    assert "grad" not in labels["parameter w"]
    assert "scalar" in labels["Mul"] and "value 0.75" in labels["Mul"]
    J.backward()
    nodes, _ = parse_dot(g.source)
    labels = {titles(nodes)[k]: v["label"] for k, v in nodes.items()}
    r = 0.5 * 1.5 + 0.1 - 3.0
    assert f"grad {2 * r * 1.5:.4g}" in labels["parameter w"]
    assert f"grad {2 * r:.4g}" in labels["Add"]  # an intermediate keeps its gradient
    x = ds.tensor([[1.0, -2.0], [3.0, 0.5]])
    g2 = viz.graph((x * ds.tensor(2.0, requires_grad=True)).sum())
    assert "[[2, -4],\\n [6, 1]]" in g2.source  # a small matrix shows its values, a row a line
    big = ds.tensor(np.arange(12.0)) * ds.tensor(2.0, requires_grad=True)
    assert "min 0, mean 11, max 22" in viz.graph(big.sum()).source  # a long vector a summary
    column = ds.tensor([[0.5], [-1.0]]) * ds.tensor(2.0, requires_grad=True)
    assert "[[1], [-2]]" in viz.graph(column.sum()).source  # a column on one line
    w = ds.tensor(np.arange(12.0).reshape(4, 3), requires_grad=True)  # 12 elements, 4 rows
    source = viz.graph((w * 2.0).sum()).source
    assert "[[0, 1, 2],\\n [3, 4, 5],\\n [6, 7, 8],\\n [9, 10, 11]]" in source
    wide = ds.tensor(np.arange(18.0).reshape(2, 9), requires_grad=True)
    assert "min 0, mean 8.5, max 17" in viz.graph((wide * 2.0).sum()).source


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_render_svg_and_png_with_dot(tmp_path):
    J, names = lecture_graph()
    g = viz.graph(J, names=names)
    J.backward()
    svg = g.render(tmp_path / "graph.svg")
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg")
    text = " ".join(t.text or "" for t in root.iter() if t.tag.endswith("text"))
    for op in ("Mul", "Add", "Sub", "Pow", "Sum", "parameter w", "grad"):
        assert op in text
    png = g.render(tmp_path / "graph.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 1000


def test_missing_dot_error_names_the_packages(tmp_path, monkeypatch):
    J, names = lecture_graph()
    g = viz.graph(J, names=names)
    monkeypatch.setattr(graph_module.shutil, "which", lambda name: None)
    with pytest.raises(viz.GraphvizNotFoundError) as e:
        g.render(tmp_path / "graph.svg")
    message = str(e.value)
    assert "apt-get install graphviz" in message and "brew install graphviz" in message
    assert not (tmp_path / "graph.svg").exists()
    assert g.render(tmp_path / "graph.dot").read_text() == g.source  # DOT needs no dot
    with pytest.raises(ValueError, match="format"):
        g.render(tmp_path / "graph.xyz")


def test_collapse_draws_one_node_per_layer():
    net = mlp()
    out = net(ds.randn(4, 3))
    full_nodes, _ = parse_dot(viz.graph(out).source)
    kinds = [v["class"] for v in full_nodes.values()]
    assert kinds.count("parameter") == 4 and kinds.count("op") == 3

    nodes, edges = parse_dot(viz.graph(out, collapse=True).source)
    t = titles(nodes)
    assert sorted(t.values()) == ["0: Linear", "1: ReLU", "2: Linear  (output)", "input"]
    assert [v["class"] for v in nodes.values()].count("module") == 3
    chain = [(t[a], t[b]) for a, b in edges]
    assert chain == [
        ("input", "0: Linear"),
        ("0: Linear", "1: ReLU"),
        ("1: ReLU", "2: Linear  (output)"),
    ]
    first = next(v["label"] for k, v in nodes.items() if t[k] == "0: Linear")
    assert "weight (5, 3)" in first and "bias (5,)" in first


def test_collapse_keeps_ops_outside_layers_and_tells_two_calls_apart():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden = nn.Linear(2, 3)
            self.out = nn.Linear(3, 3)

        def forward(self, x):
            return self.out(self.out(self.hidden(x).relu()))  # relu runs in Net itself

    out = Net()(ds.randn(2, 2))
    nodes, edges = parse_dot(viz.graph(out, collapse=True).source)
    t = titles(nodes)
    assert sorted(t.values()) == [
        "Relu", "hidden: Linear", "input", "out: Linear", "out: Linear  (output)",
        "parameter out.bias", "parameter out.weight",  # shared by two calls: drawn apart
    ]  # fmt: skip
    assert sorted((t[a], t[b]) for a, b in edges) == sorted(
        [
            ("input", "hidden: Linear"),
            ("hidden: Linear", "Relu"),
            ("Relu", "out: Linear"),
            ("out: Linear", "out: Linear  (output)"),
            ("parameter out.weight", "out: Linear"),
            ("parameter out.weight", "out: Linear  (output)"),
            ("parameter out.bias", "out: Linear"),
            ("parameter out.bias", "out: Linear  (output)"),
        ]
    )
    # collapse=1 groups by the model's children; the same here
    assert len(parse_dot(viz.graph(out, collapse=1).source)[0]) == 7


def test_depth_limits_how_far_back_the_graph_goes():
    J, names = lecture_graph()
    full, _ = parse_dot(viz.graph(J).source)
    assert len(full) == 10
    assert len(parse_dot(viz.graph(J, depth=0).source)[0]) == 1
    nodes, edges = parse_dot(viz.graph(J, depth=1).source)
    assert sorted(titles(nodes).values()) == ["Pow", "Sum  (loss)"]
    assert len(edges) == 1
    nodes, _ = parse_dot(viz.graph(J, depth=2).source)
    assert len(nodes) == 4  # Sum, Pow, Sub, the constant 2
    pow_label = next(
        v["label"]
        for v in parse_dot(viz.graph(J, depth=1).source)[0].values()
        if v["label"].startswith("Pow")
    )
    assert "2 inputs not drawn" in pow_label


def test_module_calls_are_noted_by_global_hooks_and_survive_a_forward_that_raises():
    class Boom(nn.Module):
        def forward(self, x):
            raise ValueError("boom")

    class Careful(nn.Module):  # calls a layer that raises, catches it and goes on
        def __init__(self):
            super().__init__()
            self.boom, self.lin = Boom(), nn.Linear(2, 2)

        def forward(self, x):
            try:
                self.boom(x)
            except ValueError:
                pass
            return self.lin(x).relu()

    net = Careful()
    out = net(ds.ones(1, 2))
    chains = graph_module.scope_chains(graph_module.capture(out).tensors)
    relu_chain = chains[id(out._ctx)]
    assert [c.module for c in relu_chain] == [net]  # relu ran in Careful, not in Boom
    lin_out = out._ctx.inputs[0]
    assert [c.module for c in chains[id(lin_out._ctx)]] == [net.lin, net]
    assert graph_module._open.calls == []  # nothing left open once the outer call ends
    doubled = out * 2
    assert graph_module.scope_chains([doubled])[id(doubled._ctx)] == []
    nodes, _ = parse_dot(viz.graph(out, collapse=True).source)
    assert sorted(titles(nodes).values()) == ["Relu  (output)", "input", "lin: Linear"]


def test_collapse_reaches_into_dict_outputs_and_survives_a_hook_that_raises():
    class Heads(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 2)

        def forward(self, x):
            return {"a": self.lin(x).relu(), "b": [x * 2]}

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.heads = Heads()

        def forward(self, x):
            return self.heads(x)["a"].sum()

    net = Net()

    def refuse(module, args):
        if isinstance(module, Heads):
            raise RuntimeError("refused")

    with nn.module.register_module_forward_pre_hook(refuse):
        with pytest.raises(RuntimeError, match="refused"):
            net(ds.ones(1, 2))
    assert graph_module._open.calls == []  # the failed calls left nothing open
    nodes, _ = parse_dot(viz.graph(net(ds.ones(1, 2)), collapse=1).source)
    assert "heads: Heads" in titles(nodes).values()  # found through the dict output


def test_collapse_with_no_recorded_module_call_says_why():
    net = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    out = copy.deepcopy(net(ds.ones(1, 2)).sum())  # a copied graph keeps no module calls
    with pytest.warns(UserWarning, match="import it before the forward"):
        viz.graph(out, collapse=True)
    program = (
        "import warnings, descent as ds\n"
        "net = ds.nn.Sequential(ds.nn.Linear(2, 3), ds.nn.ReLU())\n"
        "out = net(ds.ones(1, 2)).sum()\n"  # before descent.viz is imported
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        "    ds.viz.graph(out, collapse=True)\n"
        "print([str(x.message) for x in w])\n"
    )
    run = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "no op of this graph ran inside" in run.stdout


def test_graph_refuses_a_freed_graph():
    J, _ = lecture_graph()
    J.backward()
    with pytest.raises(RuntimeError, match="before loss.backward"):
        viz.graph(J)


def gradient_graph(x=1.5, y=3.0, w=0.5, b=0.1):
    """dJ/dw of J = sum((w x + b - y)^2) with create_graph=True: a gradient that is a graph."""
    w = ds.tensor(w, dtype=ds.float64, requires_grad=True)
    b = ds.tensor(b, dtype=ds.float64, requires_grad=True)
    x = ds.tensor(x, dtype=ds.float64)
    y = ds.tensor(y, dtype=ds.float64)
    r = w * x + b - y
    (dw,) = ds.grad((r * r).sum(), [w], create_graph=True)  # 2 x (w x + b - y)
    return dw, {"w": w, "b": b, "x": x, "y": y, "dJ/dw": dw}


def test_a_gradient_built_with_create_graph_is_drawn_like_any_graph(tmp_path):
    x, y, w, b = 1.5, 3.0, 0.5, 0.1
    dw, names = gradient_graph(x, y, w, b)
    g = viz.graph(dw, names=names)
    nodes, edges = parse_dot(g.source)
    t = titles(nodes)
    kinds = {k: v["class"] for k, v in nodes.items()}
    # the forward's ops, then the backward rules' ops, ending on the gradient
    ops = [t[k] for k in nodes if kinds[k] == "op"]
    assert {"Mul", "Add", "Sub", "dJ/dw = Mul  (loss)"} <= set(ops)
    assert len(ops) > 4  # more than the forward's Mul, Add, Sub, Mul and Sum
    assert {"parameter w", "parameter b", "x", "y"} <= set(t.values())
    (out,) = [k for k in nodes if nodes[k].get("peripheries") == "2"]
    assert t[out].startswith("dJ/dw")
    assert f"value {2 * x * (w * x + b - y):.4g}" in nodes[out]["label"]
    assert sorted(t[a] for a, b in edges if b == out) == ["Add", "x"]  # (2 r) * x
    # differentiating the gradient fills in the second derivatives on the drawing
    dw.backward()
    labels = {t[k]: v["label"] for k, v in parse_dot(g.source)[0].items()}
    assert f"grad {2 * x * x:.4g}" in labels["parameter w"]  # d2J/dw2 = 2 x^2
    assert f"grad {2 * x:.4g}" in labels["parameter b"]  # d2J/dw db = 2 x
    if shutil.which("dot") is not None:
        svg = g.render(tmp_path / "gradient.svg").read_text()
        ET.fromstring(svg)  # well-formed
        assert "dJ/dw" in svg


def test_graphs_of_second_derivatives_and_of_a_hessian_are_drawn():
    a = ds.tensor(0.7, dtype=ds.float64, requires_grad=True)
    (da,) = ds.grad(a.sin() * a.exp() - a.cos(), [a], create_graph=True)
    (d2a,) = ds.grad(da, [a], create_graph=True)
    nodes, _ = parse_dot(viz.graph(d2a, names={"a": a}).source)
    assert {"Sin", "Cos", "Exp", "Neg"} <= {v.split("  ")[0] for v in titles(nodes).values()}
    assert sum(v["class"] == "parameter" for v in nodes.values()) == 1
    # d2/da2 (sin a e^a - cos a) = 2 cos a e^a + cos a; its derivative, edge by edge
    assert d2a.item() == pytest.approx(2 * np.cos(0.7) * np.exp(0.7) + np.cos(0.7), rel=1e-12)
    explanation = viz.explain(d2a, wrt=a, names={"a": a})
    third = 2 * (np.cos(0.7) - np.sin(0.7)) * np.exp(0.7) - np.sin(0.7)
    assert explanation.equal and explanation.value == pytest.approx(third, rel=1e-12)
    # a Hessian's entries with create_graph=True are graphs too
    x = ds.tensor([1.0, 2.0, 3.0], dtype=ds.float64)
    v = ds.tensor([0.3, -0.2, 0.5], dtype=ds.float64, requires_grad=True)

    def f(v):
        return (v * v * v * x).sum()

    H = ds.autograd.functional.hessian(f, v, create_graph=True)  # diag(6 v x)
    np.testing.assert_allclose(H.numpy(), np.diag(6 * v.numpy() * x.numpy()), rtol=1e-12)
    nodes, _ = parse_dot(viz.graph(H).source)
    assert any(n["class"] == "parameter" for n in nodes.values())


# ---- explain -------------------------------------------------------------------------------------


def final_number(text: str, symbol: str) -> float:
    """The last 'dJ/db = <number>' line of an explanation."""
    found = re.findall(rf"^{re.escape(symbol)} = (\S+)$", text, flags=re.M)
    assert found, text
    return float(found[-1])


def test_explain_the_lecture_graph_edge_by_edge():
    J, names = lecture_graph(x=1.5, y=3.0, w=0.5, b=0.1)
    r = 0.5 * 1.5 + 0.1 - 3.0  # the residual
    closed = {"b": 2 * r, "w": 2 * r * 1.5}
    for name in ("b", "w"):
        e = viz.explain(J, wrt=names[name], names=names)
        text = str(e)
        auto = ds.grad(J, [names[name]], retain_graph=True)[0].item()
        assert final_number(text, f"dJ/d{name}") == pytest.approx(auto, rel=1e-5)
        assert final_number(text, f"dJ/d{name}") == pytest.approx(closed[name], rel=1e-5)
        assert f"autodiff (ds.grad) gives dJ/d{name} = " in text and text.rstrip().endswith(
            ": equal"
        )
        assert e.equal and e.paths == [
            ["J", "(w*x + b - y)^2", "w*x + b - y", "w*x + b"]
            + (["w*x"] if name == "w" else [])
            + [name]
        ]
    text = str(viz.explain(J, wrt=names["b"], names=names))
    chain = "dJ/db = dJ/d[(w*x + b - y)^2] * d[(w*x + b - y)^2]/d[w*x + b - y] * "
    assert chain + "d[w*x + b - y]/d[w*x + b] * d[w*x + b]/db" in text
    assert "d[(w*x + b - y)^2]/d[w*x + b - y] = 2 (w*x + b - y) = 2 * (-2.15) = -4.3" in text
    assert "= 1 * (2 * (-2.15)) * 1 * 1" in text
    text_w = str(viz.explain(J, wrt=names["w"], names=names))
    assert "d[w*x]/dw = x = 1.5" in text_w
    J.backward()  # explain left the caller's graph whole
    assert names["b"].grad.item() == pytest.approx(closed["b"])


def test_explain_with_vectors_shows_jacobian_forms():
    x_np = np.array([1.0, 2.0, 3.0, 4.0])
    y_np = np.array([2.5, 4.0, 7.0, 8.5])
    J, names = lecture_graph(x=x_np, y=y_np, w=1.5, b=0.2)
    e = viz.explain(J, wrt=names["w"], names=names)
    r = 1.5 * x_np + 0.2 - y_np
    assert final_number(str(e), "dJ/dw") == pytest.approx(np.sum(2 * r * x_np), rel=1e-5)
    assert "dJ/d[(w*x + b - y)^2]: broadcast(upstream)" in str(e)
    assert "d[(w*x + b - y)^2]/d[w*x + b - y]: 2 (w*x + b - y) * upstream" in str(e)
    assert "d[w*x]/dw: x * upstream (summed over broadcast dims)" in str(e)
    assert "d[w*x + b - y]/d[w*x + b]: upstream   [" in str(e)  # nothing broadcast there


def backprop_network():
    """The lectures' two-layer network: Z = X W1 + b1, H = sigmoid(Z), Y = H W2 + b2."""
    rng = np.random.default_rng(1)
    f64 = ds.float64
    x = ds.tensor(rng.normal(size=(4, 2)), dtype=f64)
    t = ds.tensor(rng.normal(size=(4, 1)), dtype=f64)
    w1 = ds.tensor(rng.normal(size=(2, 3)), dtype=f64, requires_grad=True)
    b1 = ds.tensor(rng.normal(size=3), dtype=f64, requires_grad=True)
    w2 = ds.tensor(rng.normal(size=(3, 1)), dtype=f64, requires_grad=True)
    b2 = ds.tensor(rng.normal(size=1), dtype=f64, requires_grad=True)
    z = x @ w1 + b1
    h = ds.sigmoid(z)
    y = h @ w2 + b2
    L = 0.5 * ((y - t) ** 2).sum()
    names = {"X": x, "T": t, "W1": w1, "b1": b1, "W2": w2, "b2": b2, "z": z, "h": h, "y": y, "L": L}
    return L, names


def test_explain_a_two_layer_network_matches_autodiff_and_the_hand_derivation():
    L, n = backprop_network()
    X, T, W2 = n["X"].numpy(), n["T"].numpy(), n["W2"].numpy()
    H, Y = n["h"].numpy(), n["y"].numpy()
    dY = Y - T
    dZ = (dY @ W2.T) * H * (1 - H)

    e = viz.explain(L, wrt=n["W1"], names=n)
    text = str(e)
    np.testing.assert_allclose(e.value, X.T @ dZ, rtol=1e-10)
    np.testing.assert_allclose(e.value, ds.grad(L, [n["W1"]], retain_graph=True)[0].numpy())
    chain = (
        "dL/dW1 = dL/d[sum((y - T)^2)] * d[sum((y - T)^2)]/d[(y - T)^2] * d[(y - T)^2]/d[y - T]"
        " * d[y - T]/dy * dy/d[h @ W2] * d[h @ W2]/dh * dh/dz * dz/d[X @ W1] * d[X @ W1]/dW1"
    )
    assert chain in text
    for form in ("upstream @ W2^T", "sigma(z)(1 - sigma(z)) * upstream", "X^T @ upstream"):
        assert form in text
    shown = re.search(r"^dL/dW1 = (\[\[.*\]\])$", text, re.M).group(1)  # all 6 values
    np.testing.assert_allclose(np.array(eval(shown)), X.T @ dZ, rtol=1e-5)
    assert text.rstrip().endswith(": equal")

    e = viz.explain(L, wrt=n["b2"], names=n)
    assert final_number(str(e), "dL/db2") == pytest.approx(dY.sum(), rel=1e-5)
    assert final_number(str(e), "dL/db2") == pytest.approx(
        ds.grad(L, [n["b2"]], retain_graph=True)[0].item(), rel=1e-5
    )


def test_explain_adds_paths_where_they_meet():
    # x feeds two sigmoid hidden units (fan-out); their outputs meet again in y (fan-in)
    x = ds.tensor(0.7, dtype=ds.float64, requires_grad=True)
    w1, b1, v, c, target = (0.3, -0.8), (0.1, 0.2), (1.2, -0.5), 0.05, 1.0
    h1 = ds.sigmoid(x * w1[0] + b1[0])
    h2 = ds.sigmoid(x * w1[1] + b1[1])
    y = h1 * v[0] + h2 * v[1] + c
    J = (y - target) ** 2
    e = viz.explain(J, wrt=x, names={"x": x, "h1": h1, "h2": h2, "y": y})
    text = str(e)
    hs = [1 / (1 + np.exp(-(0.7 * w + b))) for w, b in zip(w1, b1)]
    yv = sum(vi * hi for vi, hi in zip(v, hs)) + c
    closed = 2 * (yv - target) * sum(vi * hi * (1 - hi) * wi for vi, hi, wi in zip(v, hs, w1))
    assert final_number(text, "dJ/dx") == pytest.approx(closed, rel=1e-5)
    assert final_number(text, "dJ/dx") == pytest.approx(
        ds.grad(J, [x], retain_graph=True)[0].item(), rel=1e-5
    )
    assert len(e.paths) == 2 and "Path 2 of 2" in text
    assert "Where paths meet" in text
    assert "dJ/dx = dJ/d[x*0.3] * d[x*0.3]/dx + dJ/d[x*(-0.8)] * d[x*(-0.8)]/dx" in text
    assert "dh1/d[x*0.3 + 0.1] = sigma(x*0.3 + 0.1)(1 - sigma(x*0.3 + 0.1))" in text
    assert "Sum over the 2 paths: dJ/dx = " in text


def test_explain_errors():
    J, names = lecture_graph()
    with pytest.raises(ValueError, match="one number"):
        viz.explain(names["w"] * ds.ones(3), wrt=names["w"])
    other = ds.tensor(1.0, requires_grad=True)
    with pytest.raises(ValueError, match="not in the graph"):
        viz.explain(J, wrt=other)
    J.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        viz.explain(J, wrt=names["b"])


# ---- plots ---------------------------------------------------------------------------------------

FIGSIZE, DPI = (4, 3), 50


def history():
    h = History()
    for e in range(8):
        h.append(
            e,
            {
                "loss": 1 / (e + 1),
                "accuracy": 0.5 + e / 20,
                "val_loss": 1.2 / (e + 1) + 0.02 * e,
                "val_accuracy": 0.5 + e / 25,
            },
        )
    return h


def two_blobs():
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(-1, 0.6, (20, 2)), rng.normal(1, 0.6, (20, 2))]).astype(
        np.float32
    )
    y = np.repeat([0, 1], 20)
    return X, y


def trained_classifier():
    X, y = two_blobs()
    ds.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 2))
    opt = ds.optim.SGD(net.parameters(), lr=0.5)
    states = []
    for _ in range(6):
        states.append({k: v.numpy().copy() for k, v in net.state_dict().items()})
        loss = nn.functional.cross_entropy(net(ds.tensor(X)), ds.tensor(y))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return net, X, y, states


def quadratic(w):
    return (w - 2.0) ** 2 + 0.5


def bowl(a, b):
    return (a - 1.0) ** 2 + 4.0 * (b + 0.5) ** 2


def _lr_runs():
    return [(lr, [2.0 - (1 - 2 * lr) ** k * 2.0 for k in range(6)]) for lr in (0.1, 0.4)]


KW = {"figsize": FIGSIZE, "dpi": DPI}


def _landscapes():
    net, X, y, states = trained_classifier()
    data = (X, y)
    return {
        "landscape_random": lambda p: viz.plot_loss_landscape(
            net, data, "cross_entropy", resolution=7, path=p, **KW
        ),
        "landscape_pca": lambda p: viz.plot_loss_landscape(
            net, data, "cross_entropy", trajectory=states, directions="pca", resolution=7,
            path=p, **KW,
        ),
        "landscape_two_parameters": lambda p: viz.plot_loss_landscape(
            net, data, "cross_entropy", params=[("2.bias", 0), ("0.weight", (1, 1))],
            trajectory=states, resolution=7, path=p, **KW,
        ),
    }  # fmt: skip


PLOTS = {
    "history": lambda p: viz.plot_history(history(), path=p, **KW),
    "loss_curve": lambda p: viz.plot_loss_curve(
        quadratic, (-1, 5), [0.0, 0.8, 1.5, 1.9], path=p, **KW
    ),
    "landscape_function": lambda p: viz.plot_loss_landscape(
        bowl, trajectory=[(-1, 1), (0, 0), (0.8, -0.4)], path=p, **KW
    ),
    "learning_rates_1d": lambda p: viz.plot_learning_rates(
        quadratic, [0.1, 0.9, 1.1], start=0.0, steps=8, path=p, **KW
    ),
    "learning_rates_2d": lambda p: viz.plot_learning_rates(
        bowl, [0.05, 0.2], start=(-1.0, 1.0), steps=8, path=p, **KW
    ),
    "learning_rates_runs": lambda p: viz.plot_learning_rates(
        quadratic, runs=_lr_runs(), path=p, **KW
    ),
    "decision_boundary": lambda p: viz.plot_decision_boundary(
        trained_classifier()[0], *two_blobs(), resolution=60, path=p, **KW
    ),
    "weight_templates": lambda p: viz.plot_weight_templates(
        np.random.default_rng(0).normal(size=(3, 16)), (4, 4), ["a", "b", "c"], path=p, **KW
    ),
    "weight_templates_colour": lambda p: viz.plot_weight_templates(
        np.random.default_rng(0).normal(size=(2, 48)), (3, 4, 4), path=p, **KW
    ),
    "confusion_matrix": lambda p: viz.plot_confusion_matrix(
        np.array([[5, 1, 0], [2, 7, 1], [0, 0, 9]]), ["cat", "dog", "eel"], path=p, **KW
    ),
    "landscape_random": lambda p: _landscapes()["landscape_random"](p),
    "landscape_pca": lambda p: _landscapes()["landscape_pca"](p),
    "landscape_two_parameters": lambda p: _landscapes()["landscape_two_parameters"](p),
}


def read_png(data) -> np.ndarray:
    from matplotlib.image import imread

    return imread(io.BytesIO(data) if isinstance(data, bytes) else data, format="png")


def assert_picture(pixels: np.ndarray, height: int, width: int) -> None:
    assert pixels.shape[:2] == (height, width)
    grey = pixels[..., :3].mean(axis=-1)
    assert grey.var() > 1e-3, "the picture is blank"


@pytest.mark.parametrize("name", sorted(PLOTS))
def test_each_plot_writes_a_png_of_the_expected_size_that_is_not_blank(name, tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / f"{name}.png"
    fig = PLOTS[name](path)
    assert fig.get_size_inches().tolist() == list(FIGSIZE)
    assert_picture(read_png(path), FIGSIZE[1] * DPI, FIGSIZE[0] * DPI)


def test_landscape_leaves_the_model_as_it_was():
    pytest.importorskip("matplotlib")
    net, X, y, _ = trained_classifier()
    data = (X, y)
    before = {k: v.numpy().copy() for k, v in net.state_dict().items()}
    viz.plot_loss_landscape(net, data, "cross_entropy", resolution=5, figsize=FIGSIZE, dpi=DPI)
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])
    assert net.training


def test_importing_descent_does_not_import_matplotlib():
    code = "import sys, descent, descent.viz; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_plots_without_matplotlib_say_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"pip install 'descent\[viz\]'"):
        viz.plot_history(history())


# ---- the run report ---------------------------------------------------------------------------


def write_demo_report(tmp_path, model=True):
    net, X, y, _ = trained_classifier()
    cm = np.array([[18, 2], [1, 19]])
    return viz.write_report(
        tmp_path,
        title="blobs <demo>",
        config={"lr": 0.5, "hidden": (4,), "optimizer": "sgd"},
        history=history(),
        test_metrics={"accuracy": 0.925},
        confusion=cm,
        class_names=["left", "right"],
        model=net if model else None,
        example_input=X[:3] if model else None,
    )


def test_report_is_one_self_contained_html_file(tmp_path):
    pytest.importorskip("matplotlib")
    path = write_demo_report(tmp_path)
    assert path == tmp_path / "report.html"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]  # no temporary left
    text = path.read_text()
    parser = PageParts(text)
    assert {"html", "head", "title", "body", "table", "h2"} <= set(parser.tags)
    assert "blobs &lt;demo&gt;" in text and "Hyperparameters" in text and "test accuracy" in text
    assert len(parser.images) == 2  # the curves and the confusion matrix
    for src in parser.images:
        assert src.startswith("data:image/png;base64,")
        png = base64.b64decode(src.split(",", 1)[1], validate=True)
        pixels = read_png(png)
        assert pixels.size > 0
        assert_picture(pixels, *pixels.shape[:2])
    assert "http://" not in text.replace("http://www.w3.org", "")  # nothing fetched from outside
    if shutil.which("dot"):
        assert "<svg" in text and "0: Linear" in text
    else:
        assert "install Graphviz" in text and "digraph descent" not in text


def test_report_without_dot_says_in_one_line_how_to_install_graphviz(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    monkeypatch.setattr(report_module.shutil, "which", lambda name: None)
    text = write_demo_report(tmp_path).read_text()
    assert "<svg" not in text and "digraph descent" not in text
    section = text.split("The model's graph</h2>")[1].split("</body>")[0]
    notes = [line for line in section.splitlines() if "Graphviz" in line]
    assert len(notes) == 1
    for package in ("apt-get install graphviz", "brew install graphviz", "conda install graphviz"):
        assert package in notes[0]


def test_report_leaves_out_settings_that_do_not_apply_and_names_the_test_weights(tmp_path):
    pytest.importorskip("matplotlib")
    path = viz.write_report(
        tmp_path, title="t", config={"lr": 0.5, "csv": None, "target": None},
        history=history(), test_metrics={"accuracy": 0.9}, weights_epoch=7,
    )  # fmt: skip
    text = path.read_text()
    assert "<td>lr</td>" in text and "<td>csv</td>" not in text and "<td>target</td>" not in text
    assert "None" not in text
    assert "weights of epoch 7 (the best by val_loss" in text
    unnamed = viz.write_report(tmp_path, title="t", config={}, test_metrics={"accuracy": 0.9})
    assert "weights of epoch" not in unnamed.read_text()


def test_report_without_matplotlib_still_writes(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    text = write_demo_report(tmp_path, model=False).read_text()
    assert "<img" not in text and "descent[viz]" in text and "0.925" in text


def test_explain_tells_repeated_inputs_apart_and_names_parameters_from_their_module():
    x = ds.tensor(3.0, requires_grad=True)
    text = str(viz.explain(x * x, wrt=x, names={"x": x}))
    assert "dJ/dx (input 1) = x = 3" in text and "dJ/dx (input 2) = x = 3" in text
    assert "(through input 2 of J)" in text
    assert final_number(text, "dJ/dx") == 6.0
    assert str(viz.explain(x, wrt=x)).startswith("dJ/dx = 1")  # x, the caller's name

    lin = nn.Linear(2, 1)
    loss = lin(ds.ones(1, 2)).sum()
    text = str(viz.explain(loss, wrt=lin.bias))  # the name comes from the module it ran in
    assert "dJ/dbias = dJ/dlinear * dlinear/dbias" in text
    assert final_number(text, "dJ/dbias") == 1.0


def test_run_report_callback_writes_a_report_at_the_end_of_fit(tmp_path):
    pytest.importorskip("matplotlib")
    X, y = ds.datasets.make_moons(120, noise=0.2, seed=0)
    model = ds.nn.Sequential(ds.nn.Linear(2, 8), ds.nn.Tanh(), ds.nn.Linear(8, 2))
    report = ds.viz.RunReport(tmp_path / "run", title="moons")
    ds.train.fit(model, "cross_entropy", ds.optim.Adam(model.parameters(), lr=0.05), (X, y),
                 epochs=3, verbose=0, validation_split=0.25, metrics=["accuracy"],
                 callbacks=[report])  # fmt: skip
    text = (tmp_path / "run" / "report.html").read_text()
    assert report.path == tmp_path / "run" / "report.html"

    parser = PageParts(text)
    assert parser.tags[0] == "html" and "h1" in parser.tags
    assert len(parser.images) == 1 and parser.images[0].startswith("data:image/png;base64,")
    assert "moons" in text and "val_accuracy (last epoch)" in text and "Adam" in text
