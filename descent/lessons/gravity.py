"""gravity: learn g in F = m g from three measurements, by the slope of the loss.

The lecture: deck 001 (``001_06db21ae3b045989.txt``, "Machine Learning Tutorial"). A force F
on a mass m is F = m g; three measurements (m, F), which the slides then call (x, y), the
model y^ = a x, the L2 loss L(a) = sum_i (y_i - a x_i)^2 at three guesses (slides 19-33),
its derivative at a = 8 and a = 11.5 (slides 34-39), then gradient descent
a := a - gamma dL/da from a = 8 with gamma = 0.003 down to a = 9.8 (slides 40-69). Two of
the slides' slips are pointed out where they occur (``lesson.slips``).
"""

from __future__ import annotations

import numpy as np

from .. import viz
from ..nn import functional as F
from ..optim import GradientDescent
from ..tensor import float64, tensor
from .lesson import Lesson

DECK = "001_06db21ae3b045989.txt"
SLIDES = {
    "the measurements and the model F = m g, y^ = a x": [4, 16],
    "the L2 loss at a = 8, 9, 10": [19, 33],
    "dL/da at 8 and 11.5, gradient descent with gamma = 0.003": [34, 69],
}
# (mass m in kg, force F in N), which the slides call (x, y): exactly F = 9.8 m.
X = [2.0, 4.5, 10.0]
Y = [19.6, 44.1, 98.0]
A_STAR = 9.8
A0 = 8.0
LR = 0.003
TOLERANCE = 1e-4  # stop when |a - 9.8| < TOLERANCE
MAX_STEPS = 100


def _loss_and_slope(a: float, x=X, y=Y) -> tuple[float, float]:
    """L(a) = sum_i (y_i - a x_i)^2 and dL/da by autodiff, at one value of a."""
    a = tensor(a, dtype=float64, requires_grad=True)
    loss = F.mse_loss(a * tensor(x, dtype=float64), tensor(y, dtype=float64), reduction="sum")
    loss.backward()
    return loss.item(), a.grad.item()


def _descend(a0: float, lr: float, steps: int, tolerance: float = 0.0) -> dict:
    """Gradient descent on the gravity loss from ``a0``: lists ``a``, ``loss``, ``slope``.

    One entry per step, the start included; stops after ``steps`` updates or once
    |a - 9.8| < ``tolerance``.
    """
    x = tensor(X, dtype=float64)
    y = tensor(Y, dtype=float64)
    a = tensor(a0, dtype=float64, requires_grad=True)
    optimizer = GradientDescent([a], lr=lr)
    path = {"a": [], "loss": [], "slope": []}
    for step in range(steps + 1):
        optimizer.zero_grad()
        loss = F.mse_loss(a * x, y, reduction="sum")
        loss.backward()
        path["a"].append(a.item())
        path["loss"].append(loss.item())
        path["slope"].append(a.grad.item())
        if step == steps or abs(a.item() - A_STAR) < tolerance:
            break
        optimizer.step()  # a := a - lr * dJ/da
    return path


def loss_curve(a):
    """L(a) = sum_i (y_i - a x_i)^2 in NumPy, for one a or an array of them (for drawing)."""
    a = np.asarray(a, dtype=np.float64)
    return np.sum((a[..., None] * np.array(X) - np.array(Y)) ** 2, axis=-1)


def explain_slope(a0: float = A0):
    """dL/da at ``a0``, the chain rule edge by edge (``descent explain gravity``)."""
    a = tensor(a0, dtype=float64, requires_grad=True)
    x = tensor(X, dtype=float64)
    y = tensor(Y, dtype=float64)
    loss = ((a * x - y) ** 2).sum()
    return viz.explain(loss, wrt=a, names={"a": a, "x": x, "y": y, "L": loss})


def _draw_descent(path_a: list, slope_at: dict):
    def draw(path):
        fig = viz.plot_loss_curve(
            loss_curve,
            (7.0, 12.5),
            path_a,
            xlabel="a (the g of F = m g, m/s^2)",
            ylabel="L(a)",
            title=f"L(a) = sum (y - a x)^2: gradient descent from a = {A0:g}, gamma {LR:g}",
        )
        ax = fig.axes[0]
        for (a, slope), colour in zip(slope_at.items(), ("#9467bd", "#ff7f0e")):
            run = np.linspace(a - 0.9, a + 0.9, 2)
            ax.plot(run, loss_curve(a) + slope * (run - a), "--", color=colour, lw=1.5,
                    label=f"tangent at a = {a:g}: slope dL/da = {slope:.4g}")  # fmt: skip
            ax.plot([a], [loss_curve(a)], "s", color=colour, ms=6)
        ax.axvline(A_STAR, color="#2ca02c", ls=":", lw=1.2, label=f"a = {A_STAR:g}")
        ax.legend(fontsize=8, loc="upper center")
        fig.savefig(path, dpi=fig.dpi)

    return draw


def gravity() -> Lesson:
    """The gravity example: L(a) at 8, 9, 10; dL/da at 8 and 11.5; descent from 8 to 9.8."""
    lesson = Lesson(
        name="gravity",
        title="Gravity: learning g in F = m g",
        summary=(
            "A force F pulls on a mass m: F = m g. Three measurements, mass in and force out: "
            "19.6 N on 2 kg, 44.1 N on 4.5 kg, 98 N on 10 kg. The slides write the mass x and "
            "the force y, the model y^ = a x (a is the g we want to learn), and the L2 loss "
            "L(a) = sum_i (y_i - a x_i)^2. Which a makes it smallest? The lecture: deck "
            f"{DECK}, slides 4-16 (the measurements and the model), 19-33 (the loss at three "
            "guesses) and 34-69 (its slope, then gradient descent)."
        ),
    )
    lesson.say("First, try a few guesses and compare their losses.")
    guesses = lesson.table(
        "The loss for three guesses",
        ["a"] + [f"y^ = a * {x:g}" for x in X] + ["L(a)"],
    )
    loss_at, predictions = {}, {}
    for a in (8.0, 9.0, 10.0):
        loss_at[a], _ = _loss_and_slope(a)
        predictions[a] = [a * x for x in X]
        guesses.add(a, *predictions[a], loss_at[a])
    lesson.slip(
        "slide slip: slide 22 writes the loss as (y_1 - a x_1)^2 + (y_2 - a x_2)^2 + "
        "(y_2 - a x_2)^2; the third term is (y_3 - a x_3)^2, as its next frame's numbers "
        "(98 - a 10)^2 have it.",
        {
            "deck": DECK, "line": 592, "slide": 22,
            "quote": "(y_2 - a \\cdot x_2)^2 + (y_2 - a \\cdot x_2)^2",
            "slide_value": "(y_2 - a x_2)^2", "correct": "(y_3 - a x_3)^2",
        },
    )  # fmt: skip
    lesson.say(
        "a = 10 is the best of the three (the slides: 402.57, 79.52, 4.97), but guessing is "
        "slow. The derivative dL/da = 2 sum_i x_i (a x_i - y_i) tells us which way to go and "
        "how steep it is: negative means increase a, positive means decrease it."
    )
    slopes = lesson.table("The slope of the loss", ["a", "L(a)", "dL/da", "so a should"])
    slope_at = {}
    for a in (8.0, 11.5):
        loss_at[a], slope_at[a] = _loss_and_slope(a)
        slopes.add(a, loss_at[a], slope_at[a], "increase" if slope_at[a] < 0 else "decrease")
    lesson.slip(
        f"slide slip: slides 40-69 write dL/da(8) ~ 422; 422 is dL/da(11.5) = "
        f"{slope_at[11.5]:g} (slide 39), and dL/da(8) = {slope_at[8.0]:g} (slide 37).",
        {
            "deck": DECK, "line": 1072, "slide": 40, "last_line": 2015, "last_slide": 69,
            "quote": "\\frac{\\partial \\mathcal{L}}{\\partial a}(8) \\approx 422",
            "slide_value": 422, "correct": slope_at[8.0],
            "arithmetic": "2 * (2 * (8 * 2 - 19.6) + 4.5 * (8 * 4.5 - 44.1) + 10 * (8 * 10 - 98))",
        },
    )  # fmt: skip
    lesson.say(
        f"Gradient descent repeats a := a - gamma dL/da (gamma, the learning rate, chosen by "
        f"us). From a = {A0:g} with gamma = {LR:g} (descent computes each slope by autodiff "
        f"and takes the step with ds.optim.GradientDescent), until a is within {TOLERANCE:g} "
        "of 9.8:"
    )
    path = _descend(A0, LR, MAX_STEPS, TOLERANCE)
    steps = lesson.table(
        f"Gradient descent from a = {A0:g}, gamma = {LR:g}",
        ["step", "a", "L(a)", "dL/da", "a - 9.8"],
    )
    distance = [a - A_STAR for a in path["a"]]
    for k, (a, loss, slope) in enumerate(zip(path["a"], path["loss"], path["slope"])):
        steps.add(k, a, loss, slope, distance[k])
    n_steps = len(path["a"]) - 1
    factor = (path["a"][1] - A_STAR) / (path["a"][0] - A_STAR)
    lesson.say(
        f"After {n_steps} steps a = {path['a'][-1]:.6f}: g = 9.8 m/s^2 (newtons per "
        "kilogram), learned from the data. The distance to 9.8 shrinks by the same factor "
        f"every step, {factor:.4f}, because this loss is a parabola in a: its slope is a "
        "straight line, so each step removes the same fraction of the distance."
    )
    lesson.results = {
        "lecture": {"deck": DECK, "slides": SLIDES},
        "loss": "the L2 loss: L(a) = sum((y - a x)^2)",
        "data": {"x": X, "y": Y, "x_is": "mass m in kg", "y_is": "force F in N"},
        "predictions_at": {f"{a:g}": v for a, v in predictions.items()},
        "loss_at": {f"{a:g}": v for a, v in loss_at.items()},
        "slope_at": {f"{a:g}": v for a, v in slope_at.items()},
        "lr": LR,
        "tolerance": TOLERANCE,
        "a_star": A_STAR,
        "path": path,
        "distance": distance,
        "steps": n_steps,
        "factor": factor,
        "a_final": path["a"][-1],
    }
    lesson.say(
        "descent lesson gravity --plot DIR draws the loss curve with these steps and the two "
        f"tangents; descent explain gravity walks the chain rule for dL/da at a = {A0:g}."
    )
    lesson.figure("gravity-descent.png", _draw_descent(path["a"], slope_at))
    lesson.explain = explain_slope
    return lesson
