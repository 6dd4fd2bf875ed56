"""perceptron: Rosenblatt's learning rule, on the AND gate and on separable points in 2-D.

The rule: predict y_hat = step(w . x + b); on a wrong prediction move the weights
w := w + lr (y - y_hat) x, b := b + lr (y - y_hat); on a right one leave them alone.
On linearly separable data it stops making mistakes after finitely many updates.

The lecture: deck 003 (``003_51de2ede2fa02b51.txt``), slides 2-3 ("Review: Perceptron",
o = sigma(<w, x> + b) with sigma the step, 1 if x > 0 and 0 otherwise; the perceptron
learning rule in its basic recipe), which deck 002 (slide 1) recalls.
"""

from __future__ import annotations

import math

import numpy as np

from .. import viz
from ..datasets import make_separable
from ..optim import GradientDescent
from ..tensor import float64, tensor
from .lesson import Lesson

DECK = "003_51de2ede2fa02b51.txt"
SLIDES = {"review: the perceptron o = sigma(<w, x> + b), its learning rule": [2, 3]}
ALSO = {"002_aa120863d57339f7.txt": {"last time: binary classification, the perceptron": [1, 1]}}
AND_X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
AND_Y = [0, 0, 0, 1]
N, MARGIN, SEED = 40, 0.1, 3
LR = 1.0
MAX_EPOCHS = 100


def _train(x_rows, labels, lr: float = LR, max_epochs: int = MAX_EPOCHS) -> dict:
    """The perceptron rule, example by example in order, from w = 0 and b = 0.

    A mistake is one step of gradient descent on the perceptron loss -(y - y_hat)(w . x + b),
    whose gradient is -(y - y_hat) x for w and -(y - y_hat) for b: the update is the rule.
    Returns per-example ``trace`` rows, per-epoch ``mistakes`` and ``weights`` (w..., b at
    the epoch's end), the final ``w`` and ``b``.
    """
    features = len(x_rows[0])
    w = tensor(np.zeros(features), dtype=float64, requires_grad=True)
    b = tensor(0.0, dtype=float64, requires_grad=True)
    optimizer = GradientDescent([w, b], lr=lr)
    examples = [(tensor(x, dtype=float64), int(y)) for x, y in zip(x_rows, labels)]
    trace, mistakes, weights = [], [], []
    for epoch in range(1, max_epochs + 1):
        wrong = 0
        for i, (x, y) in enumerate(examples):
            activation = (w * x).sum() + b
            y_hat = 1 if activation.item() > 0 else 0  # step(0) = 0
            error = y - y_hat
            if error != 0:
                wrong += 1
                optimizer.zero_grad()
                (-error * activation).backward()
                optimizer.step()  # w := w + lr (y - y_hat) x,  b := b + lr (y - y_hat)
            trace.append([epoch, i, activation.item(), y_hat, y, error != 0,
                          *w.numpy().tolist(), b.item()])  # fmt: skip
        mistakes.append(wrong)
        weights.append([*w.numpy().tolist(), b.item()])
        if wrong == 0:
            break
    return {
        "mistakes": mistakes,
        "weights": weights,
        "w": w.numpy().tolist(),
        "b": b.item(),
        "trace": trace,
    }


def _line(w: np.ndarray, b: float) -> str:
    """'w1 x1 + w2 x2 + b = 0' with signs written as such: '4.56 x1 - 5.65 x2 - 1 = 0'."""
    text = f"{w[0]:.3g} x1"
    for value, name in ((w[1], " x2"), (b, "")):
        text += f" {'-' if value < 0 else '+'} {abs(value):.3g}{name}"
    return text + " = 0"


def _draw_boundary(x: np.ndarray, y: np.ndarray, w: list, b: float, epochs: int):
    def draw(path):
        weights = np.asarray(w, dtype=np.float64)
        viz.plot_decision_boundary(
            lambda points: (points @ weights + b > 0).astype(np.int64),
            x,
            y,
            class_names=["y = 0", "y = 1"],
            margin=0.3,
            title=f"After {epochs} epochs: the line {_line(weights, b)}",
            path=path,
            line=(weights, b),
        )

    return draw


def _draw_mistakes(mistakes: list):
    def draw(path):
        viz.plot_bars(
            {"mistakes": mistakes},
            [str(epoch) for epoch in range(1, len(mistakes) + 1)],
            xlabel="epoch",
            ylabel="mistakes (updates)",
            title=f"{N} separable points: mistakes per epoch",
            path=path,
        )

    return draw


def perceptron() -> Lesson:
    """The perceptron rule on the AND gate (step by step) and on 40 separable points."""
    lesson = Lesson(
        name="perceptron",
        title="The perceptron learning rule",
        summary=(
            "A perceptron predicts y_hat = step(w . x + b): 1 if w . x + b > 0, else 0. It "
            "learns one example at a time: when y_hat is wrong it moves the weights towards "
            "the example (y = 1) or away from it (y = 0), w := w + lr (y - y_hat) x and "
            "b := b + lr (y - y_hat); when y_hat is right nothing changes. A pass over all "
            "examples is an epoch; training stops after an epoch without a mistake. (The "
            "slides write the output o = sigma(<w, x> + b), with sigma the step.) The "
            f"lecture: deck {DECK}, slides 2-3."
        ),
    )
    lesson.say(
        "descent runs the rule as gradient descent: a mistake costs -(y - y_hat)(w . x + b), "
        "whose gradient is -(y - y_hat) x, so one step of ds.optim.GradientDescent with "
        f"learning rate {LR:g} is exactly the update. First the AND gate, from w = (0, 0), "
        "b = 0: every example, in order."
    )
    gate = _train(AND_X, AND_Y)
    steps = lesson.table(
        "The AND gate, example by example",
        ["epoch", "x1", "x2", "w . x + b", "y_hat", "y", "update?", "w1", "w2", "b"],
    )
    for epoch, i, activation, y_hat, y, update, w1, w2, b in gate["trace"]:
        x1, x2 = AND_X[i]
        steps.add(epoch, x1, x2, activation, y_hat, y, "yes" if update else "", w1, w2, b)
    lesson.say(
        f"After {len(gate['mistakes'])} epochs ({sum(gate['mistakes'])} updates) an epoch "
        f"passes without a mistake: w = ({gate['w'][0]:g}, {gate['w'][1]:g}), "
        f"b = {gate['b']:g}, the line {gate['w'][0]:g} x1 + {gate['w'][1]:g} x2 = "
        f"{-gate['b']:g}, with only (1, 1) strictly above it."
    )
    x, y = make_separable(N, 2, margin=MARGIN, seed=SEED)
    x = x.astype(np.float64)
    points = _train(x.tolist(), y.tolist())
    lesson.say(
        f"Now {N} points in the plane from ds.datasets.make_separable (seed {SEED}): a line "
        f"through the origin separates the two classes with no point closer than {MARGIN:g} "
        "to it. The number of mistakes in each epoch:"
    )
    epochs = lesson.table(
        f"{N} separable points: mistakes per epoch",
        ["epoch", "mistakes (updates)", "w1 after", "w2 after", "b after"],
    )
    for epoch, (wrong, weights) in enumerate(zip(points["mistakes"], points["weights"]), 1):
        epochs.add(epoch, wrong, *weights)
    w, b = points["w"], points["b"]
    activations = x @ np.array(w) + b
    errors = int(np.sum((activations > 0).astype(int) != y))
    updates = sum(points["mistakes"])
    # Novikoff: at most (R / gamma)^2 updates, R the largest |(x, 1)|, gamma the margin of a
    # separating (w, b) of length 1; here b = 0 and gamma >= MARGIN by construction.
    radius = math.sqrt(float(np.max(np.sum(x * x, axis=1))) + 1.0)
    bound = (radius / MARGIN) ** 2
    mistakes = points["mistakes"]
    steady = all(m1 <= m0 for m0, m1 in zip(mistakes, mistakes[1:]))
    how = (
        "The mistakes fall"
        if steady
        else "The mistakes do not fall steadily (an update that fixes one point can break "
        "another), but they reach zero"
    )
    lesson.say(
        f"{how}: {len(mistakes)} epochs, {updates} updates in all, final "
        f"w = ({w[0]:.4f}, {w[1]:.4f}), b = {b:.4f}, and {errors} training errors. This is no "
        "luck. The perceptron convergence theorem (Novikoff) says that on data separable with "
        "margin gamma, inside a ball of radius R (here R is the longest (x1, x2, 1), counting "
        f"the bias input 1), the rule makes at most (R / gamma)^2 updates: R = {radius:.4f}, "
        f"gamma >= {MARGIN:g}, so at most {bound:.1f}. On data that no line separates (XOR, "
        "say) the rule would never stop."
    )
    lesson.results = {
        "lecture": {"deck": DECK, "slides": SLIDES, "also": ALSO},
        "rule": "w += lr (y - y_hat) x, b += lr (y - y_hat) on a mistake; y_hat = [w.x + b > 0]",
        "lr": LR,
        "and_gate": {
            "mistakes": gate["mistakes"],
            "updates": sum(gate["mistakes"]),
            "trace": gate["trace"],  # epoch, example, w . x + b, y_hat, y, update?, w1, w2, b
            "w": gate["w"],
            "b": gate["b"],
        },
        "separable": {
            "n": N,
            "margin": MARGIN,
            "seed": SEED,
            "mistakes": points["mistakes"],
            "weights": points["weights"],
            "epochs": len(points["mistakes"]),
            "updates": updates,
            "w": w,
            "b": b,
            "training_errors": errors,
            "radius": radius,
            "update_bound": bound,
        },
        "data": {"x": x, "y": y},
    }
    lesson.say(
        "descent lesson perceptron --plot DIR draws the final line on the points, and the "
        "mistakes per epoch."
    )
    lesson.figure("perceptron-boundary.png", _draw_boundary(x, y, w, b, len(mistakes)))
    lesson.figure("perceptron-mistakes.png", _draw_mistakes(mistakes))
    return lesson
