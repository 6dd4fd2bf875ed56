"""secret-number: find theta in f(x, theta) = x + theta by gradient descent on the squared error.

The lecture: deck 002 (``002_aa120863d57339f7.txt``, "Gradient Descent"), slides 3-60. I add
a secret number theta to every input x and tell you the output y; from four pairs you learn
theta by following the slope of the loss downhill: the first try (learning rate 1) bounces
back and forth, the second (0.75) closes in, and the noisy game's best theta is still 2.
The slide's arithmetic slip in the second try is pointed out (``lesson.slips``).
"""

from __future__ import annotations

import numpy as np

from .. import viz
from ..nn import functional as F
from ..optim import GradientDescent
from ..tensor import float64, tensor
from .lesson import Lesson

DECK = "002_aa120863d57339f7.txt"
SLIDES = {
    "the secret number game, the loss (theta - 2)^2 and its slope 2 theta - 4": [3, 11],
    "gradient descent, first try (learning rate 1): back where we started": [12, 34],
    "second try (learning rate 0.75): closer at every step": [35, 55],
    "the learning rate": [56, 59],
    "the noisy game: batch gradient descent, the optimal theta is still 2": [60, 60],
}
# The four pairs of the lecture: y = x + 2 exactly.
X = [2.0, 3.0, 5.0, 8.0]
Y = [4.0, 5.0, 7.0, 10.0]
# The same inputs with noisy outputs: no theta fits them all.
Y_NOISY = [3.0, 6.0, 5.0, 12.0]
THETA0 = 5.0
SLOPE_TOLERANCE = 1e-4  # stop when |dL/dtheta| falls below this
MAX_STEPS = 40


def _descend(x, y, theta0: float, lr: float, steps: int, tolerance: float = 0.0) -> dict:
    """Gradient descent on L(theta) = mean((x + theta - y)^2), from theta0.

    Returns the lists ``theta``, ``loss`` and ``slope`` (dL/dtheta by autodiff), one entry
    per step including the start. Stops after ``steps`` updates, or as soon as
    |slope| < ``tolerance``.
    """
    x = tensor(x, dtype=float64)
    y = tensor(y, dtype=float64)
    theta = tensor(theta0, dtype=float64, requires_grad=True)
    optimizer = GradientDescent([theta], lr=lr)
    path = {"theta": [], "loss": [], "slope": []}
    for step in range(steps + 1):
        optimizer.zero_grad()
        loss = F.mse_loss(x + theta, y)
        loss.backward()
        path["theta"].append(theta.item())
        path["loss"].append(loss.item())
        path["slope"].append(theta.grad.item())
        if step == steps or abs(theta.grad.item()) < tolerance:
            break
        optimizer.step()  # theta := theta - lr * dL/dtheta
    return path


def _loss_curve(x, y):
    """L(theta) = mean((x + theta - y)^2) as a NumPy function, for one theta or an array of them."""
    x, y = np.asarray(x), np.asarray(y)

    def loss(theta):
        theta = np.asarray(theta, dtype=np.float64)
        return np.mean((x + theta[..., None] - y) ** 2, axis=-1)

    return loss


def explain_slope(theta0: float = THETA0):
    """dL/dtheta at ``theta0``, the chain rule edge by edge (``descent explain secret-number``)."""
    x = tensor(X, dtype=float64)
    y = tensor(Y, dtype=float64)
    theta = tensor(theta0, dtype=float64, requires_grad=True)
    loss = ((x + theta - y) ** 2).mean()
    return viz.explain(loss, wrt=theta, names={"theta": theta, "x": x, "y": y, "L": loss})


def _draw_rates(lr_one: dict, lr_075: dict):
    def draw(path):
        fig = viz.plot_learning_rates(
            _loss_curve(X, Y),
            runs=[(1.0, lr_one["theta"]), (0.75, lr_075["theta"])],
            xlim=(-2.0, 6.0),
            title="L(theta) = mean((x + theta - y)^2) from theta = 5: two learning rates",
        )
        notes = ("oscillates: 5, -1, 5, -1, ... for ever", "bounces across 2 and settles")
        for ax, note in zip(fig.axes, notes):
            ax.set_xlabel("theta")
            ax.set_title(f"{ax.get_title()}\n{note}", fontsize=9)
        fig.axes[0].set_ylabel("L(theta)")
        fig.savefig(path, dpi=fig.dpi)

    return draw


def _draw_noisy(noisy: dict, theta_star: float, min_loss: float):
    def draw(path):
        fig = viz.plot_loss_curve(
            _loss_curve(X, Y_NOISY),
            (-1.0, 6.0),
            noisy["theta"],
            xlabel="theta",
            ylabel="L(theta)",
            title="Noisy data, lr 0.25: the bowl's bottom is above 0",
        )
        ax = fig.axes[0]
        exact = _loss_curve(X, Y)
        thetas = np.linspace(-1.0, 6.0, 200)
        ax.plot(thetas, exact(thetas), "--", color="#7f7f7f", lw=1.2,
                label="exact data (minimum 0 at theta = 2)")  # fmt: skip
        ax.axhline(min_loss, color="#2ca02c", ls=":", lw=1.5,
                   label=f"L(theta*) = {min_loss:g}: the noise")  # fmt: skip
        ax.axvline(theta_star, color="#2ca02c", ls="--", lw=1.0, alpha=0.6,
                   label=f"theta* = mean(y - x) = {theta_star:g}")  # fmt: skip
        ax.set_ylim(-0.5, None)
        ax.legend(fontsize=8)
        fig.savefig(path, dpi=fig.dpi)

    return draw


def _steps_table(lesson: Lesson, title: str, path: dict, lr: float) -> None:
    table = lesson.table(title, ["step", "theta", "L(theta)", "dL/dtheta", "-lr * dL/dtheta"])
    for step, (theta, loss, slope) in enumerate(zip(path["theta"], path["loss"], path["slope"])):
        table.add(step, theta, loss, slope, -lr * slope)


def secret_number() -> Lesson:
    """The secret number: learning rate 1 (oscillates), 0.75 (bounces in), noisy data."""
    lesson = Lesson(
        name="secret-number",
        title="The secret number: f(x, theta) = x + theta",
        summary=(
            "I add a secret number theta to any input x and tell you the output y. You see the "
            "pairs (2, 4), (3, 5), (5, 7), (8, 10) and start from the guess theta = 5. The "
            "prediction is y^ = f(x, theta) = x + theta, the loss of one pair the squared "
            "error (y^ - y)^2, and over the data set their mean, L(theta) = 1/4 * sum_i "
            "(x_i + theta - y_i)^2; gradient descent moves theta against the slope: "
            "theta := theta - lr * dL/dtheta. The lecture: deck "
            f"{DECK}, slides 3-11 (the game and its loss), 12-34 (the first try), 35-55 (the "
            "second try), 56-59 (the learning rate) and 60 (the noisy game)."
        ),
    )
    lesson.say(
        "Here y - x = 2 for every pair, so each pair's loss is the slide's (theta - 2)^2, "
        "and so is their mean: L(theta) = (theta - 2)^2, with slope dL/dtheta = 2 theta - 4 = "
        "2 (theta - 2): positive when the guess is too big, negative when it is too small, "
        "zero at the answer. descent computes the slope by automatic differentiation at "
        "every step."
    )
    lesson.say(
        "We use the mean (not the sum, not half the mean) on purpose: it makes the slope "
        "2 (theta - 2), the slide's. With learning rate 1 each step is theta - 2 (theta - 2) = "
        "4 - theta: the guess jumps to the mirror image on the other side of 2, and back, for "
        "ever (the slide's first try: 2 * 5 - 4 = 6, theta_1 = 5 - 6 = -1; 2 * (-1) - 4 = -6, "
        "theta_2 = -1 - (-6) = 5)."
    )
    lr_one = _descend(X, Y, THETA0, lr=1.0, steps=6)
    _steps_table(lesson, "Learning rate 1: the guess jumps across the answer and back", lr_one, 1.0)
    lesson.say(
        "The loss never falls: 9, 9, 9, ... A learning rate that is too big overshoots. "
        "(With the sum of squared errors the slope would be 4 times bigger and learning rate "
        "1 would fly off; with half the mean it would land on 2 in one step. The learning "
        "rate that works depends on how the loss is written.)"
    )
    lr_075 = _descend(X, Y, THETA0, lr=0.75, steps=MAX_STEPS, tolerance=SLOPE_TOLERANCE)
    _steps_table(lesson, "Learning rate 0.75: the guess bounces around 2 and settles", lr_075, 0.75)
    theta, slope = lr_075["theta"], lr_075["slope"]
    lesson.slip(
        f"slide slip: slide 48 writes theta_2 = 0.5 - 0.75 * (-3) = 2.25; it is "
        f"{theta[2]:g}, as step 2 above shows (and slide 52's third step builds on 2.25: "
        f"2 * 2.25 - 4 = 0.5 and theta_3 = 1.875, where the run has {slope[2]:g} and "
        f"{theta[3]:g}).",
        {
            "deck": DECK, "line": 904, "slide": 48,
            "quote": "\\theta_2 = \\theta_1 - 0.75 \\cdot (-3) = 2.25",
            "slide_value": 2.25, "correct": theta[2], "arithmetic": "0.5 - 0.75 * (-3)",
        },
        {
            "deck": DECK, "line": 945, "slide": 52, "quote": "2 \\cdot 2.25 - 4 = 0.5",
            "slide_value": 0.5, "correct": slope[2], "arithmetic": "2 * (0.5 - 0.75 * (-3)) - 4",
        },
        {
            "deck": DECK, "line": 947, "slide": 52,
            "quote": "\\theta_3 = \\theta_2 - 0.75 \\cdot 0.5 = 1.875",
            "slide_value": 1.875, "correct": theta[3],
            "arithmetic": "(0.5 - 0.75 * (-3)) - 0.75 * (2 * (0.5 - 0.75 * (-3)) - 4)",
        },
    )  # fmt: skip
    factor = 1 - 2 * 0.75
    lesson.say(
        f"Now each step is theta - 2 := {factor:g} (theta - 2): the guess still crosses the "
        "answer every time, but lands half as far from it, so it converges to theta = 2 "
        f"(we stop once |dL/dtheta| < {SLOPE_TOLERANCE:g}), and the loss reaches 0: as the "
        "slide says, the loss gets lower with every step."
    )
    lesson.say(
        "Real data are noisy. With the outputs 3, 6, 5, 12 the differences y - x are 1, 3, 0, "
        "4, and no single theta explains them all. Batch gradient descent (the slope of the "
        "mean loss over all four pairs at every step) with learning rate 0.25 still finds "
        "the best theta."
    )
    noisy = _descend(X, Y_NOISY, THETA0, lr=0.25, steps=MAX_STEPS, tolerance=SLOPE_TOLERANCE)
    _steps_table(lesson, "Noisy data, learning rate 0.25: batch gradient descent", noisy, 0.25)
    theta_star = sum(y - x for x, y in zip(X, Y_NOISY)) / len(X)  # where the slope is 0
    min_loss = F.mse_loss(tensor(X, dtype=float64) + theta_star, tensor(Y_NOISY, dtype=float64))
    min_loss = min_loss.item()
    lesson.say(
        f"Gradient descent stopped at theta = {noisy['theta'][-1]:.6f}, next to the optimum "
        f"theta* = {theta_star:g}, the mean of y - x (the one point where the slope "
        f"2 (theta - mean(y - x)) is 0): as the slide says, the optimal theta is still 2. The "
        f"loss there is L(theta*) = {min_loss:g}, not 0: it is the spread of y - x around its "
        "mean, the noise that no choice of theta can remove. The loss curve is the same bowl "
        "as before, lifted by that amount."
    )
    summary = lesson.table(
        "Where each run ended", ["run", "steps", "final theta", "final L(theta)"]
    )
    runs = {"lr_1": lr_one, "lr_0.75": lr_075, "noisy_lr_0.25": noisy}
    rates = {"lr_1": 1.0, "lr_0.75": 0.75, "noisy_lr_0.25": 0.25}
    for name, path in runs.items():
        summary.add(name, len(path["theta"]) - 1, path["theta"][-1], path["loss"][-1])
    lesson.results = {
        "lecture": {"deck": DECK, "slides": SLIDES},
        "loss": "mean squared error: L(theta) = mean((x + theta - y)^2)",
        "data": {"x": X, "y": Y, "y_noisy": Y_NOISY},
        "theta0": THETA0,
        "lr_1": lr_one,
        "lr_0.75": lr_075,
        "noisy": noisy,
        "learning_rates": rates,
        "steps": {name: len(path["theta"]) - 1 for name, path in runs.items()},
        # the last column of each table: the step -lr * dL/dtheta
        "updates": {name: [-rates[name] * g for g in path["slope"]] for name, path in runs.items()},
        "factor_lr_0.75": factor,
        "slope_tolerance": SLOPE_TOLERANCE,
        "theta_star": theta_star,
        "theta_gd": noisy["theta"][-1],
        "min_loss": min_loss,
    }
    lesson.say(
        "descent lesson secret-number --plot DIR draws both runs on the loss curve and the "
        "noisy bowl; descent explain secret-number walks the chain rule for dL/dtheta at "
        f"theta = {THETA0:g}."
    )
    lesson.figure("secret-number-learning-rates.png", _draw_rates(lr_one, lr_075))
    lesson.figure("secret-number-noisy.png", _draw_noisy(noisy, theta_star, min_loss))
    lesson.explain = explain_slope
    return lesson
