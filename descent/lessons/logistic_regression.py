"""logistic-regression: does a driver get a speeding ticket? p(ticket) = sigmoid(w * speed + b).

The lectures: deck 002 (``002_aa120863d57339f7.txt``) slide 2, the dataset "speed -> whether
you get a speeding ticket", {(30, False), (33, False), (35, False), (37, True), (39, True)};
deck 000 slide 13, logistic regression (y^ = 1 / (1 + e^-z), z = W x + b, the cost
J = -1/n sum (y log y^ + (1 - y) log(1 - y^))); deck 003 slides 12-13, the same loss as
binary cross-entropy. Gradient descent on it finds the probability curve and the speed
where it crosses 1/2.
"""

from __future__ import annotations

import math

import numpy as np

from .. import viz
from ..nn import functional as F
from ..ops.elementwise import sigmoid
from ..optim import GradientDescent
from ..tensor import float64, tensor
from .lesson import Lesson

DECK = "002_aa120863d57339f7.txt"
SLIDES = {"speed -> whether you get a speeding ticket": [2, 2]}
ALSO = {
    "000_3ab0e19925976932.txt": {"logistic regression (binary classification)": [13, 13]},
    "003_51de2ede2fa02b51.txt": {"binary classification, binary cross-entropy loss": [12, 13]},
}
SPEEDS = [30.0, 33.0, 35.0, 37.0, 39.0]
TICKETS = [False, False, False, True, True]
LR = 1.0
ITERATIONS = 1000
SHOW = (0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
CURVES_AT = (10, 100, ITERATIONS)  # iterations whose probability curves are drawn


def _standardise(values: list[float]) -> tuple[list[float], float, float]:
    """z = (v - mean) / std with the population standard deviation; (z, mean, std)."""
    mean = sum(values) / len(values)
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
    return [(v - mean) / std for v in values], mean, std


def explain_gradient(wrt: str = "w", w0: float = 0.0, b0: float = 0.0):
    """dL/dw (or dL/db with ``wrt='b'``) of the mean cross-entropy at w = w0, b = b0, written
    out as s = w z + b, p = sigmoid(s), q = 1 - p, L = -mean(y log p + (1 - y) log q): the chain
    rule edge by edge, two paths meeting at p (``descent explain logistic-regression``)."""
    z_values, _, _ = _standardise(SPEEDS)
    z = tensor(z_values, dtype=float64)
    y = tensor([float(t) for t in TICKETS], dtype=float64)
    w = tensor(w0, dtype=float64, requires_grad=True)
    b = tensor(b0, dtype=float64, requires_grad=True)
    s = w * z + b
    p = sigmoid(s)
    q = 1.0 - p  # the probability of no ticket
    log_p, log_q = p.log(), q.log()
    not_y = 1.0 - y
    loss = -(y * log_p + not_y * log_q).mean()
    names = {"w": w, "b": b, "z": z, "y": y, "(1-y)": not_y, "s": s, "p": p, "q": q,
             "log_p": log_p, "log_q": log_q, "L": loss}  # fmt: skip
    return viz.explain(loss, wrt={"w": w, "b": b}[wrt], names=names)


def _speed_weights(w_z: float, b_z: float, mean: float, std: float) -> tuple[float, float]:
    """(w, b) in speed units from the weights of the standardised speed."""
    return w_z / std, b_z - w_z * mean / std


def _draw_curve(history: list, mean: float, std: float, boundary: float):
    def draw(path):
        speeds = np.linspace(28.0, 41.0, 300)
        series = {}
        for row in history:
            if row["iteration"] in CURVES_AT:
                w, b = _speed_weights(row["w"], row["b"], mean, std)
                p = 1.0 / (1.0 + np.exp(-(w * speeds + b)))
                series[f"p(ticket) after {row['iteration']} iterations"] = (speeds, p)
        no = [s for s, t in zip(SPEEDS, TICKETS) if not t]
        yes = [s for s, t in zip(SPEEDS, TICKETS) if t]
        viz.plot_series(
            series,
            points={
                "no ticket (y = 0)": (no, [0.0] * len(no)),
                "ticket (y = 1)": (yes, [1.0] * len(yes)),
            },
            vlines={f"decision boundary: speed {boundary:.2f}": boundary},
            hlines={"p = 1/2": 0.5},
            xlabel="speed (km/h)",
            ylabel="p(ticket | speed)",
            ylim=(-0.08, 1.08),
            title="p(ticket) = sigmoid(w * speed + b), getting steeper as training goes on",
            path=path,
            figsize=(7, 4.5),
        )

    return draw


def _draw_loss(losses: list):
    def draw(path):
        viz.plot_series(
            {"mean cross-entropy": losses},
            xlabel="iteration",
            ylabel="loss (log scale)",
            log_y=True,
            title=f"The loss over {ITERATIONS} iterations of gradient descent (lr {LR:g})",
            path=path,
        )

    return draw


def logistic_regression() -> Lesson:
    """Speeding tickets: fit p(ticket) = sigmoid(w * speed + b) by gradient descent."""
    lesson = Lesson(
        name="logistic-regression",
        title="Logistic regression: speeding tickets",
        summary=(
            "Five drivers: speeds 30, 33, 35, 37, 39; the last two got a ticket. The model "
            "p(ticket | speed) = sigmoid(w * speed + b) turns a straight line into a "
            "probability between 0 and 1; the loss is the mean binary cross-entropy "
            "-mean(y log p + (1 - y) log(1 - p)), smallest when p is near 1 for the ticketed "
            "drivers and near 0 for the others. (Deck 000 writes the same model y^ = 1 / (1 + "
            "e^-z), z = W x + b, and the same cost J; deck 003 calls it binary cross-entropy.) "
            f"The lecture: deck {DECK}, slide 2 (the data); deck 000_3ab0e19925976932.txt, "
            "slide 13; deck 003_51de2ede2fa02b51.txt, slides 12-13."
        ),
    )
    z_values, mean, std = _standardise(SPEEDS)
    lesson.say(
        "Raw speeds are awkward for gradient descent: every term of the slope in w is "
        "multiplied by a speed, so the loss curves about mean(speed^2) = "
        f"{sum(v * v for v in SPEEDS) / len(SPEEDS):.0f} times more sharply in w than in b, and "
        "a learning rate small enough for w leaves b crawling. So we standardise the speed: "
        f"z = (speed - {mean:g}) / {std:.4f} (the mean and standard deviation of the five "
        f"speeds), fit sigmoid(w z + b) by gradient descent from w = b = 0 with learning rate "
        f"{LR:g} for {ITERATIONS} iterations (ds.optim.GradientDescent, gradients by autodiff, "
        "the loss by F.binary_cross_entropy_with_logits), and convert back to speeds at the end."
    )
    z = tensor(z_values, dtype=float64)
    y = tensor([float(t) for t in TICKETS], dtype=float64)
    w = tensor(0.0, dtype=float64, requires_grad=True)
    b = tensor(0.0, dtype=float64, requires_grad=True)
    optimizer = GradientDescent([w, b], lr=LR)
    table = lesson.table(
        "Gradient descent on the cross-entropy (standardised speed z)",
        ["iteration", "w", "b", "loss", "dloss/dw", "dloss/db", "boundary speed"],
    )
    history, losses = [], []
    for iteration in range(ITERATIONS + 1):
        optimizer.zero_grad()
        loss = F.binary_cross_entropy_with_logits(w * z + b, y)
        loss.backward()
        losses.append(loss.item())
        row = {"iteration": iteration, "w": w.item(), "b": b.item(), "loss": loss.item()}
        if iteration in SHOW:
            # where w z + b = 0, in km/h (undefined while w = 0)
            boundary = mean - row["b"] / row["w"] * std if row["w"] != 0 else None
            row.update(dloss_dw=w.grad.item(), dloss_db=b.grad.item(), boundary_speed=boundary)
            table.add(iteration, row["w"], row["b"], row["loss"], w.grad.item(), b.grad.item(),
                      "-" if boundary is None else boundary)  # fmt: skip
            history.append(row)
        if iteration < ITERATIONS:
            optimizer.step()
    w_z, b_z, final_loss = w.item(), b.item(), history[-1]["loss"]
    # Back to speeds: w z + b = (w / std) speed + (b - w mean / std).
    w_speed, b_speed = _speed_weights(w_z, b_z, mean, std)
    boundary = -b_speed / w_speed
    lesson.say(
        f"In speed units the fit is p(ticket) = sigmoid({w_speed:.4f} * speed "
        f"{'-' if b_speed < 0 else '+'} {abs(b_speed):.4f}). The decision boundary, where "
        f"p = 1/2 and w * speed + b = 0, is speed = -b / w = {boundary:.4f}."
    )
    probabilities = [1.0 / (1.0 + math.exp(-(w_speed * s + b_speed))) for s in SPEEDS]
    predictions = [p >= 0.5 for p in probabilities]
    verdicts = lesson.table(
        "The fitted probabilities", ["speed", "ticket", "p(ticket)", "predicted", "right?"]
    )
    for s, t, p, guess in zip(SPEEDS, TICKETS, probabilities, predictions):
        verdicts.add(s, "T" if t else "F", p, "T" if guess else "F", guess == t)
    right = sum(p == t for p, t in zip(predictions, TICKETS))
    lesson.say(
        f"{right} of the {len(SPEEDS)} drivers are classified correctly. Because a single "
        "speed separates the two groups, the loss can be pushed ever closer to 0 by making "
        "the curve steeper: w keeps growing and gradient descent never truly stops (the "
        "table shows the loss shrinking slowly and the gradients getting small). The "
        "boundary settles between 35 and 37, moving towards 36, the point halfway between "
        "the closest drivers of each group."
    )
    lesson.results = {
        "lecture": {"deck": DECK, "slides": SLIDES, "also": ALSO},
        "data": {"speeds": SPEEDS, "tickets": TICKETS},
        "mean_speed_squared": sum(v * v for v in SPEEDS) / len(SPEEDS),
        "loss": "mean binary cross-entropy",
        "standardisation": {"mean": mean, "std": std},
        "lr": LR,
        "iterations": ITERATIONS,
        "history": history,
        "w_z": w_z,
        "b_z": b_z,
        "final_loss": final_loss,
        "w": w_speed,
        "b": b_speed,
        "boundary_speed": boundary,
        "probabilities": probabilities,
        "predictions": predictions,
        "accuracy": right / len(TICKETS),
    }
    lesson.say(
        "descent lesson logistic-regression --plot DIR draws the probability curve over the "
        "five speeds and the loss over the iterations; descent explain logistic-regression "
        "walks the chain rule for dL/dw at the start, w = b = 0, with the loss written out "
        "as s = w z + b, p = sigmoid(s), q = 1 - p, L = -mean(y log p + (1 - y) log q)."
    )
    lesson.figure("logistic-regression-sigmoid.png", _draw_curve(history, mean, std, boundary))
    lesson.figure("logistic-regression-loss.png", _draw_loss(losses))
    lesson.explain = explain_gradient
    return lesson
