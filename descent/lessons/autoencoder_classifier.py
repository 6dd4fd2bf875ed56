"""autoencoder-classifier: one code Z feeding two heads, and the gradients of all six parameters.

$Z = \\mathrm{ReLU}(X W_1 + b_1)$, $Y = Z W_2 + b_2$ (the reconstruction),
$C = \\mathrm{softmax}(Z W_3 + b_3)$ (the classifier) and
$L = \\frac{1}{2} \\|X - Y\\|^2 + \\mathrm{CE}(C, C_{gt})$, both summed over the examples.
The hand derivation in NumPy beside descent's autodiff; at Z the two paths add up.

The lecture: deck 001 (``001_06db21ae3b045989.txt``), slides 150-151, "Part II: Example
Problems", Q1 and its answer. The answer's formulas have no transposes and no sums over the
examples (their shapes do not fit): the lesson says so (``lesson.slips``) and gives the
fitting ones.
"""

from __future__ import annotations

import numpy as np

from ..autograd import grad
from ..nn import functional as F
from ..tensor import float64, tensor
from .lesson import Lesson, draw_graph, index_cell, vector_cell

DECK = "001_06db21ae3b045989.txt"
SLIDES = {"Q1: an autoencoder and a classifier on one code; its answer": [150, 151]}
# The slide's answer (line of the deck, the slide's words, as the lesson writes them, the fix).
SLIDE_ANSWER = [
    (2988, "X(W_2(Y-X) + W_3(C-C_{gt}))", "dW1 = X(W2(Y - X) + W3(C - C_gt))", "dW1 = X^T dA"),
    (2990, "W_2(Y-X) + W_3(C-C_{gt})", "db1 = W2(Y - X) + W3(C - C_gt)", "db1 = sum(dA)"),
    (2993, "\\delta W_2 = Z(Y-X)", "dW2 = Z(Y - X)", "dW2 = Z^T (Y - X)"),
    (2995, "\\delta b_2 = Y-X", "db2 = Y - X", "db2 = sum(Y - X)"),
    (2997, "\\delta W_3 = Z(C-C_{gt})", "dW3 = Z(C - C_gt)", "dW3 = Z^T (C - C_gt)"),
    (2999, "\\delta b_3 = C-C_{gt}", "db3 = C - C_gt", "db3 = sum(C - C_gt)"),
]

# Two examples with four features, a code of three units, three classes.
X = [[1.0, 0.5, -0.5, 2.0], [-1.0, 1.5, 0.5, 0.0]]
LABELS = [2, 0]
W1 = [[0.4, -0.3, 0.2], [0.1, 0.5, -0.4], [-0.2, 0.3, 0.6], [0.3, -0.1, 0.2]]
B1 = [0.1, -0.1, 0.05]
W2 = [[0.5, -0.2, 0.3, 0.8], [-0.4, 0.6, 0.1, -0.3], [0.2, 0.1, -0.5, 0.4]]
B2 = [0.0, 0.1, -0.1, 0.2]
W3 = [[0.3, -0.6, 0.2], [-0.1, 0.4, 0.5], [0.7, 0.2, -0.3]]
B3 = [0.05, -0.05, 0.0]

PARAMETERS = ["W1", "b1", "W2", "b2", "W3", "b3"]
FORMULAS = {
    "W2": "Z^T dY,  dY = Y - X",
    "b2": "sum of dY over examples",
    "W3": "Z^T dS,  dS = C - C_gt",
    "b3": "sum of dS over examples",
    "W1": "X^T dA,  dA = (dY W2^T + dS W3^T) * [A > 0]",
    "b1": "sum of dA over examples",
}


def hand_gradients(x, labels, w1, b1, w2, b2, w3, b3) -> dict:
    """The hand derivation in NumPy: the six parameter gradients and the two parts of dL/dZ."""
    a = x @ w1 + b1  # (N, H) pre-activation
    z = np.maximum(a, 0.0)
    y = z @ w2 + b2  # (N, D) reconstruction
    s = z @ w3 + b3  # (N, K) class scores
    c = np.exp(s - s.max(axis=1, keepdims=True))
    c /= c.sum(axis=1, keepdims=True)
    c_gt = np.eye(w3.shape[1])[labels]  # one-hot
    dy = y - x  # d/dY of 1/2 ||X - Y||^2
    ds = c - c_gt  # d/dS of the summed cross-entropy of softmax(S)
    dz_reconstruction = dy @ w2.T
    dz_classifier = ds @ w3.T
    dz = dz_reconstruction + dz_classifier  # Z fans out to both heads: add the paths
    da = dz * (a > 0)  # ReLU passes the gradient where it was active
    return {
        "W1": x.T @ da,
        "b1": da.sum(axis=0),
        "W2": z.T @ dy,
        "b2": dy.sum(axis=0),
        "W3": z.T @ ds,
        "b3": ds.sum(axis=0),
        "dZ via reconstruction": dz_reconstruction,
        "dZ via classifier": dz_classifier,
        "dZ": dz,
    }


def network() -> dict:
    """The model's tensors, freshly computed: X, the labels, the six parameters, A, Z, the
    reconstruction Y, the scores S and the losses L_rec, L_ce and L = L_rec + L_ce."""
    net = {"X": tensor(X, dtype=float64), "labels": tensor(LABELS)}
    for name, value in zip(PARAMETERS, (W1, B1, W2, B2, W3, B3)):
        net[name] = tensor(value, dtype=float64, requires_grad=True)
    net["A"] = net["X"] @ net["W1"] + net["b1"]
    net["Z"] = net["A"].relu()
    net["Y"] = net["Z"] @ net["W2"] + net["b2"]
    net["S"] = net["Z"] @ net["W3"] + net["b3"]
    net["L_rec"] = 0.5 * ((net["X"] - net["Y"]) ** 2).sum()
    net["L_ce"] = F.cross_entropy(net["S"], net["labels"], reduction="sum")
    net["L"] = net["L_rec"] + net["L_ce"]
    return net


def autoencoder_classifier() -> Lesson:
    """An autoencoder with a classifier head: its six gradients by hand and by autodiff."""
    lesson = Lesson(
        name="autoencoder-classifier",
        title="An autoencoder with a classifier head: gradients by hand and by autodiff",
        summary=(
            "An encoder makes a code Z = ReLU(X W1 + b1). Two heads read it: a decoder "
            "reconstructs the input, Y = Z W2 + b2, and a classifier gives class "
            "probabilities, C = softmax(Z W3 + b3). They train together on "
            "L = 1/2 ||X - Y||^2 + CE(C, C_gt), both terms summed over the examples (the "
            "slide's L_2(X, Y) = 1/2 (X - Y)^2 and CE(C, C_gt), C_gt the one-hot classes). "
            f"The lecture: deck {DECK}, slides 150-151 (Q1 and its answer)."
        ),
    )
    values = {"W1": W1, "b1": B1, "W2": W2, "b2": B2, "W3": W3, "b3": B3}
    net = network()
    p = {k: net[k] for k in values}
    x, a, z, y, s = (net[k] for k in ("X", "A", "Z", "Y", "S"))
    reconstruction, classification, loss = (net[k] for k in ("L_rec", "L_ce", "L"))
    c = F.softmax(s, dim=1)

    forward = lesson.table(
        "Forward pass, one row per example",
        ["example", "x", "z = ReLU(x W1 + b1)", "y = z W2 + b2", "c = softmax(z W3 + b3)", "class"],
    )
    for i in range(x.shape[0]):
        forward.add(
            i + 1,
            vector_cell(x._data[i]),
            vector_cell(z._data[i]),
            vector_cell(y._data[i]),
            vector_cell(c._data[i]),
            LABELS[i],
        )
    lesson.say(
        f"L = {reconstruction.item():.6f} (reconstruction) + {classification.item():.6f} "
        f"(cross-entropy) = {loss.item():.6f}. A code unit at 0 was switched off by the ReLU: "
        f"no gradient flows back through it."
    )

    lesson.say(
        "The hand derivation. The decoder: dY = Y - X, so dL/dW2 = Z^T dY and dL/db2 = the "
        "sum of dY. The classifier: softmax with cross-entropy gives dS = C - C_gt for the "
        "scores S = Z W3 + b3, so dL/dW3 = Z^T dS and dL/db3 = the sum of dS. The encoder: Z "
        "feeds both heads, so its gradient is the sum over the two paths, dL/dZ = dY W2^T + "
        "dS W3^T; the ReLU lets it through where A = X W1 + b1 > 0, dA = dL/dZ * [A > 0]; "
        "then dL/dW1 = X^T dA and dL/db1 = the sum of dA."
    )
    hand = hand_gradients(x._data, np.asarray(LABELS), *(p[k]._data for k in PARAMETERS))
    n_examples, n_code = z.shape
    lesson.slip(
        "slide slip: slide 151's answer has no transposes and no sums: "
        "dW1 = X(W2(Y - X) + W3(C - C_gt)), dW2 = Z(Y - X) and dW3 = Z(C - C_gt) do not fit "
        f"(here Z is {n_examples}x{n_code}, Y - X {y.shape[0]}x{y.shape[1]}); they are "
        "dW1 = X^T dA, with dA = ((Y - X) W2^T + (C - C_gt) W3^T) * [A > 0], "
        "dW2 = Z^T (Y - X) and dW3 = Z^T (C - C_gt); and db1 = W2(Y - X) + W3(C - C_gt), "
        "db2 = Y - X and db3 = C - C_gt have one row per example, where the gradients are "
        "db1 = sum(dA), db2 = sum(Y - X) and db3 = sum(C - C_gt) over the examples.",
        *(
            {"deck": DECK, "line": line, "slide": 151, "quote": quote,
             "slide_value": slide_value, "correct": correct}
            for line, quote, slide_value, correct in SLIDE_ANSWER
        ),
    )  # fmt: skip
    found = grad(loss, [p[k] for k in PARAMETERS] + [z])
    auto = {k: g._data for k, g in zip(PARAMETERS + ["dZ"], found)}

    paths = lesson.table(
        "Where the paths meet: dL/dZ is the sum of what each head sends back",
        ["example", "unit", "via reconstruction dY W2^T", "via classifier dS W3^T", "sum",
         "autodiff dL/dZ", "A > 0 (passes to dA)"],
    )  # fmt: skip
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            paths.add(
                i + 1,
                j,
                float(hand["dZ via reconstruction"][i, j]),
                float(hand["dZ via classifier"][i, j]),
                float(hand["dZ"][i, j]),
                float(auto["dZ"][i, j]),
                "yes" if a._data[i, j] > 0 else "no",
            )

    summary = lesson.table(
        "The six parameter gradients: formula and agreement",
        ["parameter", "hand formula", "shape", "max |hand - autodiff|"],
    )
    for k in PARAMETERS:
        diff = float(np.max(np.abs(hand[k] - auto[k])))
        summary.add(k, FORMULAS[k], "x".join(str(d) for d in hand[k].shape), diff)
    rows = lesson.table(
        "The six parameter gradients element by element",
        ["parameter", "element", "hand (NumPy)", "autodiff (descent)", "difference"],
    )
    for k in PARAMETERS:
        for n in range(hand[k].size):
            h, g = float(hand[k].flat[n]), float(auto[k].flat[n])
            rows.add(f"dL/d{k}", index_cell(hand[k].shape, n), h, g, h - g)
    max_diff = max(float(np.max(np.abs(hand[k] - auto[k]))) for k in PARAMETERS + ["dZ"])
    lesson.say(
        f"Largest difference: {max_diff:.1e}. Autodiff finds the same sum at the fan-out "
        f"because its engine adds the gradients arriving at a tensor from each of its uses."
    )

    lesson.results.update(
        lecture={"deck": DECK, "slides": SLIDES},
        forward={"Z": z._data.tolist(), "Y": y._data.tolist(), "C": c._data.tolist()},
        shapes={k: list(np.shape(hand[k])) for k in PARAMETERS},
        inputs={"X": X, "labels": LABELS, **values},
        loss=loss.item(),
        reconstruction_loss=reconstruction.item(),
        cross_entropy=classification.item(),
        hand={k: np.asarray(v).tolist() for k, v in hand.items()},
        autodiff={k: v.tolist() for k, v in auto.items()},
        max_difference=max_diff,
    )
    lesson.say(
        "descent lesson autoencoder-classifier --plot DIR draws the computation graph, every "
        "node with its value and gradient: Z has two arrows out, one to each head (Graphviz's "
        "dot is needed)."
    )
    lesson.figure("autoencoder-classifier-graph.png", lambda path: draw_graph(network, path))
    return lesson
