"""backprop: the hand derivation of a two-layer network's gradients, delta by delta.

$Y = \\sigma(X W_1 + b_1) W_2 + b_2$, $L = \\frac{1}{2} \\sum (Y - T)^2$ (summed over the
examples). Each delta of the derivation is computed in NumPy from the formula and printed
beside the gradient descent's autodiff finds for the same tensor.
"""

from __future__ import annotations

import numpy as np

from .. import viz
from ..autograd import grad
from ..ops.elementwise import sigmoid
from ..tensor import float64, tensor
from .lesson import Lesson, draw_graph, index_cell, vector_cell

# Two examples with two inputs each, three hidden units, one output.
X = [[0.5, -1.0], [1.5, 0.8]]
T = [[1.0], [-0.5]]
W1 = [[0.2, -0.4, 0.7], [0.5, 0.3, -0.6]]
B1 = [0.1, -0.2, 0.05]
W2 = [[0.6], [-0.8], [0.4]]
B2 = [0.3]

# (name, formula) of each delta, in the order the derivation finds them.
DELTAS = [
    ("dL/dY", "Y - T"),
    ("dL/dW2", "H^T dL/dY"),
    ("dL/db2", "sum of dL/dY over examples"),
    ("dL/dH", "dL/dY W2^T"),
    ("dL/dZ", "dL/dH * H (1 - H)"),
    ("dL/dW1", "X^T dL/dZ"),
    ("dL/db1", "sum of dL/dZ over examples"),
]


def hand_gradients(x, t, w1, b1, w2, b2) -> dict:
    """The deltas of the hand derivation, in NumPy (Z = X W1 + b1, H = sigmoid(Z))."""
    z = x @ w1 + b1
    h = 1.0 / (1.0 + np.exp(-z))
    y = h @ w2 + b2
    dy = y - t  # dL/dY of 1/2 sum (Y - T)^2
    dh = dy @ w2.T  # H fans out to every output: sum over them
    dz = dh * h * (1.0 - h)  # sigmoid'(Z) = H (1 - H)
    return {
        "dL/dY": dy,
        "dL/dW2": h.T @ dy,
        "dL/db2": dy.sum(axis=0),
        "dL/dH": dh,
        "dL/dZ": dz,
        "dL/dW1": x.T @ dz,
        "dL/db1": dz.sum(axis=0),
    }


def network() -> dict:
    """The network's tensors, freshly computed: inputs, parameters, Z, H, Y and the loss L."""
    net = {"X": tensor(X, dtype=float64), "T": tensor(T, dtype=float64)}
    for name, value in (("W1", W1), ("b1", B1), ("W2", W2), ("b2", B2)):
        net[name] = tensor(value, dtype=float64, requires_grad=True)
    net["XW1"] = net["X"] @ net["W1"]
    net["Z"] = net["XW1"] + net["b1"]
    net["H"] = sigmoid(net["Z"])
    net["HW2"] = net["H"] @ net["W2"]
    net["Y"] = net["HW2"] + net["b2"]
    net["L"] = 0.5 * ((net["Y"] - net["T"]) ** 2).sum()
    return net


def explain_gradient(wrt: str = "b1"):
    """dL/db1 (or another parameter's gradient: ``wrt='W2'``) walked edge by edge through
    the whole network (``descent explain backprop``)."""
    net = network()
    return viz.explain(net["L"], wrt=net[wrt], names=net)


def backprop() -> Lesson:
    """Every delta of Y = sigmoid(X W1 + b1) W2 + b2 by hand and by autodiff, side by side."""
    lesson = Lesson(
        name="backprop",
        title="Backpropagation by hand, checked by autodiff",
        summary=(
            "A network with one hidden layer: Z = X W1 + b1, H = sigmoid(Z), Y = H W2 + b2, and "
            "the loss L = 1/2 sum (Y - T)^2, summed over the examples and outputs (not the "
            "mean). Backpropagation applies the chain rule from the loss backwards, one delta "
            "(a gradient dL/d-something) at a time, each made from the one before it."
        ),
    )
    net = network()
    x, t, w1, b1, w2, b2 = (net[k] for k in ("X", "T", "W1", "b1", "W2", "b2"))
    z, h, y, loss = (net[k] for k in ("Z", "H", "Y", "L"))

    forward = lesson.table(
        "Forward pass, one row per example",
        ["example", "x", "z = x W1 + b1", "h = sigmoid(z)", "y = h W2 + b2", "target t"],
    )
    for i in range(x.shape[0]):
        forward.add(
            i + 1,
            vector_cell(x._data[i]),
            vector_cell(z._data[i]),
            vector_cell(h._data[i]),
            vector_cell(y._data[i]),
            vector_cell(t._data[i]),
        )
    lesson.say(f"The loss: L = 1/2 sum (y - t)^2 = {loss.item():.6f}.")

    lesson.say(
        "Backward pass. The derivation, from the loss down: dL/dY = Y - T (the 1/2 cancels "
        "the 2 of the square); Y = H W2 + b2 gives dL/dW2 = H^T dL/dY, dL/db2 = the sum of "
        "dL/dY over the examples and dL/dH = dL/dY W2^T; H = sigmoid(Z) gives dL/dZ = dL/dH * "
        "H (1 - H), elementwise; Z = X W1 + b1 gives dL/dW1 = X^T dL/dZ and dL/db1 = the sum of "
        "dL/dZ over the examples. Below, each is computed from its formula in NumPy (hand) and "
        "by descent's autodiff (ds.grad of L with respect to the same tensor)."
    )
    hand = hand_gradients(*(a._data for a in (x, t, w1, b1, w2, b2)))
    tensors = {"dL/dY": y, "dL/dW2": w2, "dL/db2": b2, "dL/dH": h, "dL/dZ": z}
    tensors.update({"dL/dW1": w1, "dL/db1": b1})
    found = grad(loss, list(tensors.values()))
    auto = {name: g._data for name, g in zip(tensors, found)}

    summary = lesson.table(
        "The deltas: formula and agreement",
        ["delta", "formula", "shape", "max |hand - autodiff|"],
    )
    for name, formula in DELTAS:
        diff = float(np.max(np.abs(hand[name] - auto[name])))
        summary.add(name, formula, "x".join(str(d) for d in hand[name].shape), diff)
    rows = lesson.table(
        "The deltas element by element",
        ["delta", "element", "hand (NumPy)", "autodiff (descent)", "difference"],
    )
    for name, _ in DELTAS:
        a, b = hand[name], auto[name]
        for k in range(a.size):
            diff = float(a.flat[k] - b.flat[k])
            rows.add(name, index_cell(a.shape, k), float(a.flat[k]), float(b.flat[k]), diff)
    max_diff = max(float(np.max(np.abs(hand[n] - auto[n]))) for n, _ in DELTAS)
    lesson.say(
        f"The largest difference is {max_diff:.1e}: the hand derivation and autodiff agree to "
        f"float64 rounding. Autodiff does exactly this bookkeeping, one rule per operation."
    )

    lesson.results.update(
        inputs={"X": X, "T": T, "W1": W1, "b1": B1, "W2": W2, "b2": B2},
        loss=loss.item(),
        output=y._data.tolist(),
        hand={k: v.tolist() for k, v in hand.items()},
        autodiff={k: v.tolist() for k, v in auto.items()},
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
