"""backprop: the hand derivation of a two-layer network's gradients, delta by delta.

The lecture: deck 001 (``001_06db21ae3b045989.txt``), slides 120-135, "Backpropagation
Example": $Y^p = \\sigma(X W_1 + b_1) W_2 + b_2$ and $L(Y^p, Y) = \\frac{1}{2} (Y^p - Y)^2$
(summed over the examples), the target Y and the prediction Y^p (``Yp``), written in steps
Z1 = X W1, Z2 = Z1 + b1, Z3 = sigma(Z2), Z4 = Z3 W2, Yp = Z4 + b2. Each delta of the
slides' derivation (dYp, dZ4, dZ3, dZ2, dZ1, then dW1, db1, dW2, db2) is computed in NumPy
from its formula and printed beside the gradient descent's autodiff finds for the same tensor.
"""

from __future__ import annotations

import numpy as np

from .. import viz
from ..autograd import grad
from ..ops.elementwise import sigmoid
from ..tensor import float64, tensor
from .lesson import Lesson, draw_graph, index_cell, vector_cell

DECK = "001_06db21ae3b045989.txt"
SLIDES = {"backpropagation example: Y^p = sigma(X W1 + b1) W2 + b2, its nine deltas": [120, 135]}

# Two examples with two inputs each, three hidden units, one output; Y is the target.
X = [[0.5, -1.0], [1.5, 0.8]]
Y = [[1.0], [-0.5]]
W1 = [[0.2, -0.4, 0.7], [0.5, 0.3, -0.6]]
B1 = [0.1, -0.2, 0.05]
W2 = [[0.6], [-0.8], [0.4]]
B2 = [0.3]

# (name, formula, the slide's reason) of each delta, in the order of the slides' derivation.
DELTAS = [
    ("dL/dYp", "Yp - Y", "L = 1/2 (Yp - Y)^2"),
    ("dL/dZ4", "dL/dYp", "Yp = Z4 + b2"),
    ("dL/dZ3", "dL/dZ4 W2^T", "Z4 = Z3 W2"),
    ("dL/dZ2", "sigma'(Z2) * dL/dZ3", "Z3 = sigma(Z2)"),
    ("dL/dZ1", "dL/dZ2", "Z2 = Z1 + b1"),
    ("dL/dW1", "X^T dL/dZ1", "Z1 = X W1"),
    ("dL/db1", "sum of dL/dZ2 over examples", "Z2 = Z1 + b1"),
    ("dL/dW2", "Z3^T dL/dZ4", "Z4 = Z3 W2"),
    ("dL/db2", "sum of dL/dYp over examples", "Yp = Z4 + b2"),
]


def hand_gradients(x, y, w1, b1, w2, b2) -> dict:
    """The slides' deltas in NumPy: Z1 = X W1, Z2 = Z1 + b1, Z3 = sigmoid(Z2), Z4 = Z3 W2."""
    z1 = x @ w1
    z2 = z1 + b1
    z3 = 1.0 / (1.0 + np.exp(-z2))
    z4 = z3 @ w2
    yp = z4 + b2
    d_yp = yp - y  # dL/dYp of 1/2 sum (Yp - Y)^2
    d_z4 = d_yp  # Yp = Z4 + b2
    d_z3 = d_z4 @ w2.T  # Z3 fans out to every output: sum over them
    d_z2 = z3 * (1.0 - z3) * d_z3  # sigma'(Z2) = Z3 (1 - Z3)
    d_z1 = d_z2  # Z2 = Z1 + b1
    return {
        "dL/dYp": d_yp,
        "dL/dZ4": d_z4,
        "dL/dZ3": d_z3,
        "dL/dZ2": d_z2,
        "dL/dZ1": d_z1,
        "dL/dW1": x.T @ d_z1,
        "dL/db1": d_z2.sum(axis=0),
        "dL/dW2": z3.T @ d_z4,
        "dL/db2": d_yp.sum(axis=0),
    }


def network() -> dict:
    """The network's tensors, freshly computed: X, the target Y, the parameters, the steps
    Z1..Z4, the prediction Yp and the loss L, named as the slides name them."""
    net = {"X": tensor(X, dtype=float64), "Y": tensor(Y, dtype=float64)}
    for name, value in (("W1", W1), ("b1", B1), ("W2", W2), ("b2", B2)):
        net[name] = tensor(value, dtype=float64, requires_grad=True)
    net["Z1"] = net["X"] @ net["W1"]
    net["Z2"] = net["Z1"] + net["b1"]
    net["Z3"] = sigmoid(net["Z2"])
    net["Z4"] = net["Z3"] @ net["W2"]
    net["Yp"] = net["Z4"] + net["b2"]
    net["L"] = 0.5 * ((net["Yp"] - net["Y"]) ** 2).sum()
    return net


def explain_gradient(wrt: str = "b1"):
    """dL/db1 (or another parameter's gradient: ``wrt='W2'``) walked edge by edge through
    the whole network (``descent explain backprop``)."""
    net = network()
    return viz.explain(net["L"], wrt=net[wrt], names=net)


def backprop() -> Lesson:
    """Every delta of Yp = sigmoid(X W1 + b1) W2 + b2 by hand and by autodiff, side by side."""
    lesson = Lesson(
        name="backprop",
        title="Backpropagation by hand, checked by autodiff",
        summary=(
            "The slides' network with one hidden layer: the prediction Yp = sigmoid(X W1 + "
            "b1) W2 + b2 (the slides' Y^p), the target Y, and the loss L(Yp, Y) = 1/2 sum "
            "(Yp - Y)^2, summed over the examples and outputs (not the mean). Written in steps: "
            "Z1 = X W1, Z2 = Z1 + b1, Z3 = sigmoid(Z2), Z4 = Z3 W2, Yp = Z4 + b2. "
            "Backpropagation applies the chain rule from the loss backwards, one delta (a "
            "gradient dL/d-something) at a time, each made from the one before it. The "
            f"lecture: deck {DECK}, slides 120-135."
        ),
    )
    net = network()
    x, y_target, w1, b1, w2, b2 = (net[k] for k in ("X", "Y", "W1", "b1", "W2", "b2"))
    z2, z3, yp, loss = (net[k] for k in ("Z2", "Z3", "Yp", "L"))

    forward = lesson.table(
        "Forward pass, one row per example",
        ["example", "x", "z2 = x W1 + b1", "z3 = sigmoid(z2)", "yp = z3 W2 + b2", "target y"],
    )
    for i in range(x.shape[0]):
        forward.add(
            i + 1,
            vector_cell(x._data[i]),
            vector_cell(z2._data[i]),
            vector_cell(z3._data[i]),
            vector_cell(yp._data[i]),
            vector_cell(y_target._data[i]),
        )
    lesson.say(f"The loss: L = 1/2 sum (yp - y)^2 = {loss.item():.6f}.")

    lesson.say(
        "Backward pass, the slides' derivation from the loss down. 1: dL/dYp = Yp - Y (the "
        "1/2 cancels the 2 of the square). 2: Yp = Z4 + b2, so dL/dZ4 = dL/dYp. 3: Z4 = Z3 W2, "
        "so dL/dZ3 = dL/dZ4 W2^T. 4: Z3 = sigmoid(Z2), so dL/dZ2 = sigma'(Z2) * dL/dZ3, "
        "elementwise, with sigma'(Z2) = Z3 (1 - Z3). 5: Z2 = Z1 + b1, so dL/dZ1 = dL/dZ2. "
        "Then the parameters: dL/dW1 = X^T dL/dZ1, dL/db1 = the sum of dL/dZ2 over the "
        "examples, dL/dW2 = Z3^T dL/dZ4, dL/db2 = the sum of dL/dYp over the examples. Below, "
        "each is computed from its formula in NumPy (hand) and by descent's autodiff (ds.grad "
        "of L with respect to the same tensor)."
    )
    hand = hand_gradients(*(a._data for a in (x, y_target, w1, b1, w2, b2)))
    tensors = {"dL/dYp": yp, "dL/dZ4": net["Z4"], "dL/dZ3": z3, "dL/dZ2": z2, "dL/dZ1": net["Z1"]}
    tensors.update({"dL/dW1": w1, "dL/db1": b1, "dL/dW2": w2, "dL/db2": b2})
    found = grad(loss, list(tensors.values()))
    auto = {name: g._data for name, g in zip(tensors, found)}

    summary = lesson.table(
        "The deltas: formula and agreement",
        ["delta", "formula", "because", "shape", "max |hand - autodiff|"],
    )
    differences = {}
    for name, formula, because in DELTAS:
        differences[name] = (hand[name] - auto[name]).ravel().tolist()
        diff = float(np.max(np.abs(hand[name] - auto[name])))
        summary.add(name, formula, because, "x".join(str(d) for d in hand[name].shape), diff)
    rows = lesson.table(
        "The deltas element by element",
        ["delta", "element", "hand (NumPy)", "autodiff (descent)", "difference"],
    )
    for name, _, _ in DELTAS:
        a, b = hand[name], auto[name]
        for k in range(a.size):
            diff = float(a.flat[k] - b.flat[k])
            rows.add(name, index_cell(a.shape, k), float(a.flat[k]), float(b.flat[k]), diff)
    max_diff = max(float(np.max(np.abs(hand[n] - auto[n]))) for n, _, _ in DELTAS)
    lesson.say(
        f"The largest difference is {max_diff:.1e}: the hand derivation and autodiff agree to "
        f"float64 rounding. Autodiff does exactly this bookkeeping, one rule per operation."
    )

    lesson.results.update(
        lecture={"deck": DECK, "slides": SLIDES},
        inputs={"X": X, "Y": Y, "W1": W1, "b1": B1, "W2": W2, "b2": B2},
        forward={k: net[k]._data.tolist() for k in ("Z1", "Z2", "Z3", "Z4", "Yp")},
        loss=loss.item(),
        output=yp._data.tolist(),
        hand={k: v.tolist() for k, v in hand.items()},
        autodiff={k: v.tolist() for k, v in auto.items()},
        deltas=[
            {
                "slide_step": k if k <= 5 else k - 5,
                "delta": name,
                "formula": formula,
                "because": because,
                "shape": list(hand[name].shape),
            }
            for k, (name, formula, because) in enumerate(DELTAS, 1)
        ],  # fmt: skip  (the slides number the deltas 1-5, then the parameters' 1-4)
        differences=differences,
        max_difference=max_diff,
    )
    lesson.say(
        "descent lesson backprop --plot DIR draws the computation graph with every node's "
        "value and gradient (Graphviz's dot is needed); descent explain backprop walks the "
        "chain rule from L down to b1, through every layer, edge by edge."
    )
    lesson.figure("backprop-graph.png", lambda path: draw_graph(network, path))
    lesson.explain = explain_gradient
    return lesson
