"""bce-gradient: the binary cross-entropy gradient of one point, factor by factor, to (y^ - y) x.

The lecture: deck 003 (``003_51de2ede2fa02b51.txt``), slide 13 (lines 330-345 of the text:
the per-sample loss l(x, y) = -y log(y^) - (1 - y) log(1 - y^), "also known as binary
cross-entropy loss") and slides 25-31 (lines 682-792: "Calculate Gradient (on one data
point)", dl/dw11 for a data point ((x1, x2), y) by the chain rule: dl/dy^ =
(1 - y)/(1 - y^) - y/y^, dy^/dz = sigma'(z) = sigma(z)(1 - sigma(z)), dz/dw11 = x1, whose
product the slides collapse to (y^ - y) x1). Slides are counted as the text separates its
pages, by three blank lines.

The slides give no numbers for the point; here it is x = (2, -1) with weights
(w11, w12) = (0.5, -0.25) and bias 0.1, once with y = 1 and once with y = 0. Each factor
is evaluated, their product set beside (y^ - y) x1, and both beside ``ds.grad`` of descent's
``F.binary_cross_entropy``.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd import grad
from ..nn import functional as F
from ..tensor import float64, tensor
from ..viz.figure import figure, finish
from .lesson import Lesson

DECK = "003_51de2ede2fa02b51.txt"
SLIDES = {"binary cross-entropy loss": [13, 13], "the gradient on one data point": [25, 31]}
LINES = {"binary cross-entropy loss": [330, 345], "the gradient on one data point": [682, 792]}
X = [2.0, -1.0]  # (x1, x2)
W = [0.5, -0.25]  # (w11, w12): z = w11 x1 + w12 x2 + b
BIAS = 0.1
LABELS = [1.0, 0.0]
CONFIDENT_Z = -6.0  # a confidently wrong neuron for y = 1


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def factors(y: float, x=X, w=W, b=BIAS) -> dict:
    """Every quantity on the slide's chain for one point, evaluated by hand."""
    z = w[0] * x[0] + w[1] * x[1] + b
    y_hat = sigmoid(z)
    loss = -y * math.log(y_hat) - (1 - y) * math.log(1 - y_hat)
    dl_dyhat = (1 - y) / (1 - y_hat) - y / y_hat
    dyhat_dz = y_hat * (1 - y_hat)
    dz_dw11 = x[0]
    return {
        "y": y,
        "z": z,
        "y_hat": y_hat,
        "loss": loss,
        "dl_dyhat": dl_dyhat,
        "dyhat_dz": dyhat_dz,
        "dz_dw11": dz_dw11,
        "chain": dl_dyhat * dyhat_dz * dz_dw11,
        "dl_dz": dl_dyhat * dyhat_dz,
        "collapsed": (y_hat - y) * x[0],
        "collapsed_w12": (y_hat - y) * x[1],
        "collapsed_b": y_hat - y,
    }


def autodiff(y: float) -> dict:
    """The loss and dl/dw11, dl/dw12, dl/db by ds.grad of F.binary_cross_entropy."""
    w = tensor(W, dtype=float64, requires_grad=True)
    b = tensor(BIAS, dtype=float64, requires_grad=True)
    z = (tensor(X, dtype=float64) * w).sum() + b
    loss = F.binary_cross_entropy(z.sigmoid(), tensor(y, dtype=float64))
    g_w, g_b = grad(loss, [w, b])
    return {
        "loss": loss.item(),
        "w11": float(g_w.numpy()[0]),
        "w12": float(g_w.numpy()[1]),
        "b": g_b.item(),
    }


def _draw_factors(at_z: float):
    def draw(path):
        z = np.linspace(-6, 6, 400)
        s = 1 / (1 + np.exp(-z))
        fig = figure((10.5, 4.2), 100)
        left, right = fig.subplots(1, 2)
        left.plot(z, -1 / s, color="#d62728", lw=2, label="dl/dy^ = -1/y^  (y = 1)")
        left.plot(z, s * (1 - s), color="#2ca02c", lw=2, label="dy^/dz = y^ (1 - y^)")
        left.plot(z, s - 1, color="black", lw=2.2, label="their product dl/dz = y^ - 1")
        left.set_ylim(-4, 1.2)
        left.annotate(
            f"-1/y^ reaches {-1 / s[0]:.0f} at z = {z[0]:g}",
            (z[8], -3.9),
            fontsize=8,
            color="#d62728",
        )
        left.axhline(0, color="grey", lw=0.8)
        left.axvline(at_z, color="grey", ls=":", lw=1.2, label=f"the lesson's point, z = {at_z:g}")
        left.set_xlabel("z")
        left.set_title("y = 1: one factor blows up where the other vanishes", fontsize=10)
        left.legend(fontsize=8, loc="lower right")
        left.grid(alpha=0.3)
        right.plot(z, s - 1, color="black", lw=2.2, label="cross-entropy: y^ - y")
        right.plot(
            z,
            2 * (s - 1) * s * (1 - s),
            "--",
            color="#1f77b4",
            lw=2,
            label="squared error: 2 (y^ - y) y^ (1 - y^)",
        )
        right.axhline(0, color="grey", lw=0.8)
        right.set_xlabel("z")
        right.set_ylabel("dl/dz  (y = 1)")
        right.set_title("Cross-entropy keeps the full error where the neuron is wrong", fontsize=10)
        right.legend(fontsize=8, loc="lower right")
        right.grid(alpha=0.3)
        finish(fig, path)

    return draw


def bce_gradient() -> Lesson:
    """The one-point cross-entropy gradient of deck 003, each chain-rule factor, to (y^ - y) x."""
    lesson = Lesson(
        name="bce-gradient",
        title="The cross-entropy gradient of one point: (y^ - y) x",
        summary=(
            "Deck 003 trains a sigmoid output with the binary cross-entropy loss "
            "l = -y log(y^) - (1 - y) log(1 - y^) and works out dl/dw11 on one data point by "
            "the chain rule. The three factors look complicated; their product is not. The "
            f"lecture: deck {DECK}, slides {SLIDES['binary cross-entropy loss'][0]} (the loss) "
            f"and {SLIDES['the gradient on one data point'][0]}-"
            f"{SLIDES['the gradient on one data point'][1]} (the gradient)."
        ),
    )
    lesson.say(
        f"The point: x = ({X[0]:g}, {X[1]:g}); the output neuron z = w11 x1 + w12 x2 + b with "
        f"w11 = {W[0]:g}, w12 = {W[1]:g}, b = {BIAS:g} (the slides give no numbers); "
        "y^ = sigma(z). The chain: dl/dw11 = dl/dy^ * dy^/dz * dz/dw11, with dl/dy^ = "
        "(1 - y)/(1 - y^) - y/y^ (the derivative of -y log y^ is -y/y^, of -(1 - y) "
        "log(1 - y^) is (1 - y)/(1 - y^)), dy^/dz = sigma'(z) = sigma(z)(1 - sigma(z)) = "
        "y^(1 - y^), and dz/dw11 = x1."
    )
    cases = [factors(y) for y in LABELS]
    auto = [autodiff(y) for y in LABELS]
    table = lesson.table(
        "Each factor at the point, for y = 1 and y = 0",
        ["quantity", "formula", "y = 1", "y = 0"],
    )
    rows = [
        ("z", "w11 x1 + w12 x2 + b", "z"),
        ("y^", "sigma(z)", "y_hat"),
        ("l", "-y log y^ - (1 - y) log(1 - y^)", "loss"),
        ("dl/dy^", "(1 - y)/(1 - y^) - y/y^", "dl_dyhat"),
        ("dy^/dz", "y^ (1 - y^)", "dyhat_dz"),
        ("dz/dw11", "x1", "dz_dw11"),
        ("dl/dw11, the chain", "dl/dy^ * dy^/dz * dz/dw11", "chain"),
        ("dl/dw11, collapsed", "(y^ - y) x1", "collapsed"),
    ]
    for name, formula, key in rows:
        table.add(name, formula, cases[0][key], cases[1][key])
    table.add("dl/dw11, ds.grad", "F.binary_cross_entropy", auto[0]["w11"], auto[1]["w11"])
    one, zero = cases
    lesson.say(
        "Why the product collapses: multiply out, (1 - y)/(1 - y^) * y^(1 - y^) = (1 - y) y^ "
        "and y/y^ * y^(1 - y^) = y (1 - y^), so dl/dz = (1 - y) y^ - y (1 - y^) = y^ - y y^ - "
        "y + y y^ = y^ - y. The 1/y^ and 1/(1 - y^) of the loss cancel exactly against "
        f"sigma'. For y = 1: dl/dy^ = -1/y^ = {one['dl_dyhat']:.6f}, times y^(1 - y^) = "
        f"{one['dyhat_dz']:.6f} gives {one['dl_dz']:.6f} = y^ - 1, times x1 = {X[0]:g} gives "
        f"{one['chain']:.6f}. For y = 0: dl/dy^ = 1/(1 - y^) = {zero['dl_dyhat']:.6f}, and the "
        f"product is y^ x1 = {zero['collapsed']:.6f}. ds.grad, which knows nothing of the "
        f"algebra, gives {auto[0]['w11']:.6f} and {auto[1]['w11']:.6f}."
    )
    others = lesson.table(
        "The other weights: the same (y^ - y), times the input they multiply",
        [
            "parameter",
            "dz/dparameter",
            "(y^ - y) * it, y = 1",
            "ds.grad, y = 1",
            "(y^ - y) * it, y = 0",
            "ds.grad, y = 0",
        ],
    )
    others.add("w11", X[0], one["collapsed"], auto[0]["w11"], zero["collapsed"], auto[1]["w11"])
    others.add(
        "w12", X[1], one["collapsed_w12"], auto[0]["w12"], zero["collapsed_w12"], auto[1]["w12"]
    )
    others.add("b", 1.0, one["collapsed_b"], auto[0]["b"], zero["collapsed_b"], auto[1]["b"])
    chain_worst = max(abs(case["chain"] - a["w11"]) for case, a in zip(cases, auto))
    worst = max(
        abs(case[key] - a[name])
        for case, a in zip(cases, auto)
        for key, name in (("collapsed", "w11"), ("collapsed_w12", "w12"), ("collapsed_b", "b"))
    )
    confident = sigmoid(CONFIDENT_Z)
    bce_rate = confident - 1
    mse_rate = 2 * (confident - 1) * confident * (1 - confident)
    lesson.say(
        f"By hand and by ds.grad agree{' exactly' if worst == 0 else f' to {worst:.1e}'}. "
        "The whole gradient is (y^ - y) x: the "
        "error times the input, the same shape as linear regression's. Over a data set the "
        "loss is the mean (1/|D|) sum l(x, y) and so is the gradient, the mean of "
        "(y^_i - y_i) x_i. The cancellation matters: with the squared error (y^ - y)^2 "
        "instead, the sigma' factor stays, dl/dz = 2 (y^ - y) y^(1 - y^). For a neuron that "
        f"is confidently wrong, z = {CONFIDENT_Z:g} with y = 1 (y^ = {confident:.6f}), "
        f"cross-entropy's dl/dz is {bce_rate:.6f}, the full error, while the squared error's "
        f"is {mse_rate:.6f}: almost no signal to learn from."
    )
    lesson.results = {
        "lecture": {"deck": DECK, "slides": SLIDES, "lines": LINES},
        "x": X,
        "w": W,
        "b": BIAS,
        "labels": LABELS,
        "factors": {f"y={y:g}": case for y, case in zip(LABELS, cases)},
        "autodiff": {f"y={y:g}": a for y, a in zip(LABELS, auto)},
        "largest_difference": worst,
        "chain_difference": chain_worst,  # the product of the three factors against ds.grad
        "formulas": {name: formula for name, formula, _ in rows},
        "slide_checks": [
            {
                "line": 715,
                "slide": "dl/dy^ = (1 - y)/(1 - y^) - y/y^",
                "ours": one["dl_dyhat"],
                "verdict": "MATCH",
            },
            {
                "line": 757,
                "slide": "dy^/dz = y^ (1 - y^)",
                "ours": one["dyhat_dz"],
                "verdict": "MATCH",
            },
            {"line": 789, "slide": "(y^ - y) x1", "ours": auto[0]["w11"], "verdict": "MATCH"},
        ],
        "confidently_wrong": {
            "z": CONFIDENT_Z,
            "y_hat": confident,
            "bce_dl_dz": bce_rate,
            "mse_dl_dz": mse_rate,
        },
    }
    lesson.say(
        "descent lesson bce-gradient --plot DIR draws the two factors and their product over z, "
        "and cross-entropy's dl/dz beside the squared error's."
    )
    lesson.figure("bce-gradient-factors.png", _draw_factors(one["z"]))
    return lesson
