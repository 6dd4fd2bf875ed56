"""gravity: learn the acceleration a in y = a x from three measurements, by the slope of the loss.

A falling body's speed after x seconds is y = a x; three measurements, summed squared
error, the loss at three guesses, its derivative at two points, then gradient descent
from a = 8 with learning rate 0.003 down to a = 9.8.
"""

from __future__ import annotations

import numpy as np

from .. import viz
from ..nn import functional as F
from ..optim import GradientDescent
from ..tensor import float64, tensor
from .lesson import Lesson

# (time in s, speed in m/s): exactly y = 9.8 x.
X = [2.0, 4.5, 10.0]
Y = [19.6, 44.1, 98.0]
A_STAR = 9.8
A0 = 8.0
LR = 0.003
TOLERANCE = 1e-4  # stop when |a - 9.8| < TOLERANCE
MAX_STEPS = 100


def _loss_and_slope(a: float, x=X, y=Y) -> tuple[float, float]:
    """J(a) = sum_i (a x_i - y_i)^2 and dJ/da by autodiff, at one value of a."""
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
    """J(a) = sum_i (a x_i - y_i)^2 in NumPy, for one a or an array of them (for drawing)."""
    a = np.asarray(a, dtype=np.float64)
    return np.sum((a[..., None] * np.array(X) - np.array(Y)) ** 2, axis=-1)


def explain_slope(a0: float = A0):
    """dJ/da at ``a0``, the chain rule edge by edge (``descent explain gravity``)."""
    a = tensor(a0, dtype=float64, requires_grad=True)
    x = tensor(X, dtype=float64)
    y = tensor(Y, dtype=float64)
    loss = ((a * x - y) ** 2).sum()
    return viz.explain(loss, wrt=a, names={"a": a, "x": x, "y": y, "J": loss})


def _draw_descent(path_a: list, slope_at: dict):
    def draw(path):
        fig = viz.plot_loss_curve(
            loss_curve,
            (7.0, 12.5),
            path_a,
            xlabel="a (m/s^2)",
            ylabel="J(a)",
            title=f"J(a) = sum (a x - y)^2: gradient descent from a = {A0:g}, lr {LR:g}",
        )
        ax = fig.axes[0]
        for (a, slope), colour in zip(slope_at.items(), ("#9467bd", "#ff7f0e")):
            run = np.linspace(a - 0.9, a + 0.9, 2)
            ax.plot(run, loss_curve(a) + slope * (run - a), "--", color=colour, lw=1.5,
                    label=f"tangent at a = {a:g}: slope dJ/da = {slope:.4g}")  # fmt: skip
            ax.plot([a], [loss_curve(a)], "s", color=colour, ms=6)
        ax.axvline(A_STAR, color="#2ca02c", ls=":", lw=1.2, label=f"a = {A_STAR:g}")
        ax.legend(fontsize=8, loc="upper center")
        fig.savefig(path, dpi=fig.dpi)

    return draw


def gravity() -> Lesson:
    """The gravity example: J(a) at 8, 9, 10; dJ/da at 8 and 11.5; descent from 8 to 9.8."""
    lesson = Lesson(
        name="gravity",
        title="Gravity: learning a in y = a x",
        summary=(
            "We drop a stone and measure its speed: 19.6 m/s after 2 s, 44.1 m/s after 4.5 s, "
            "98 m/s after 10 s. The model is y = a x; the loss is the summed squared error "
            "J(a) = sum_i (a x_i - y_i)^2. Which a makes it smallest?"
        ),
    )
    lesson.say("First, try a few guesses and compare their losses.")
    guesses = lesson.table("The loss for three guesses", ["a", "a*2", "a*4.5", "a*10", "J(a)"])
    loss_at = {}
    for a in (8.0, 9.0, 10.0):
        loss_at[a], _ = _loss_and_slope(a)
        guesses.add(a, a * X[0], a * X[1], a * X[2], loss_at[a])
    lesson.say(
        "a = 10 is the best of the three, but guessing is slow. The derivative "
        "dJ/da = 2 sum_i x_i (a x_i - y_i) tells us which way to go and how steep it is: "
        "negative means increase a, positive means decrease it."
    )
    slopes = lesson.table("The slope of the loss", ["a", "J(a)", "dJ/da", "so a should"])
    slope_at = {}
    for a in (8.0, 11.5):
        loss, slope_at[a] = _loss_and_slope(a)
        slopes.add(a, loss, slope_at[a], "increase" if slope_at[a] < 0 else "decrease")
    lesson.say(
        f"Gradient descent repeats a := a - lr * dJ/da. From a = {A0:g} with learning rate "
        f"{LR:g} (descent computes each slope by autodiff and takes the step with "
        f"ds.optim.GradientDescent), until a is within {TOLERANCE:g} of 9.8:"
    )
    path = _descend(A0, LR, MAX_STEPS, TOLERANCE)
    steps = lesson.table(
        f"Gradient descent from a = {A0:g}, learning rate {LR:g}",
        ["step", "a", "J(a)", "dJ/da", "a - 9.8"],
    )
    for k, (a, loss, slope) in enumerate(zip(path["a"], path["loss"], path["slope"])):
        steps.add(k, a, loss, slope, a - A_STAR)
    n_steps = len(path["a"]) - 1
    factor = (path["a"][1] - A_STAR) / (path["a"][0] - A_STAR)
    lesson.say(
        f"After {n_steps} steps a = {path['a'][-1]:.6f}: the acceleration of gravity, "
        "9.8 m/s^2, learned from the data. The distance to 9.8 shrinks by the same factor "
        f"every step, {factor:.4f}, because this loss is a parabola in a: its slope is a "
        "straight line, so each step removes the same fraction of the distance."
    )
    lesson.results = {
        "loss": "summed squared error: J(a) = sum((a x - y)^2)",
        "loss_at": {f"{a:g}": v for a, v in loss_at.items()},
        "slope_at": {f"{a:g}": v for a, v in slope_at.items()},
        "lr": LR,
        "path": path,
        "steps": n_steps,
        "factor": factor,
        "a_final": path["a"][-1],
    }
    lesson.say(
        "descent lesson gravity --plot DIR draws the loss curve with these steps and the two "
        f"tangents; descent explain gravity walks the chain rule for dJ/da at a = {A0:g}."
    )
    lesson.figure("gravity-descent.png", _draw_descent(path["a"], slope_at))
    lesson.explain = explain_slope
    return lesson
