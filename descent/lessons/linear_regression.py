"""linear-regression: the closed form against full-batch, mini-batch and stochastic descent.

The lecture: deck 000 (``000_3ab0e19925976932.txt``): the best-fit line y^ = W x + b, the
cost J and its closed form W^ = (X^T X)^-1 X^T Y (slide 3), gradient descent on J's graph
(slides 6-7) and the training, validation and test sets, 60/20/20 (slides 12-13); with
deck 001's and deck 002's full-batch, stochastic and mini-batch gradient descent. One
noisy line: the normal equations give the best weights (b*, W*) at once, and three kinds
of gradient descent walk towards them; the distance to them after each epoch shows how
each one gets there.
"""

from __future__ import annotations

import numpy as np

from .. import viz
from ..autograd import no_grad
from ..data import Standardizer, train_val_test_split
from ..datasets import make_line
from ..nn import Linear
from ..nn import functional as F
from ..optim import GradientDescent
from ..tensor import float64, tensor
from ..train import Callback, evaluate, fit
from .lesson import Lesson

DECK = "000_3ab0e19925976932.txt"
SLIDES = {
    "linear regression y^ = W x + b, the cost J, the closed form": [3, 3],
    "gradient descent on J's computation graph, the chain rule": [6, 7],
    "training, validation and test sets, 60%, 20%, 20%": [12, 13],
}
ALSO = {
    "001_06db21ae3b045989.txt": {"(full) batch, stochastic and mini-batch descent": [86, 86]},
    "002_aa120863d57339f7.txt": {"stochastic and mini-batch gradient descent, epochs": [73, 95]},
}
SPLIT = (0.6, 0.2, 0.2)
N, SLOPE, INTERCEPT, NOISE, SEED = 100, 2.0, 1.0, 1.0, 0
EPOCHS = 20
# (name, batch size (None: the whole training set), learning rate)
METHODS = [("full-batch", None, 0.1), ("mini-batch", 10, 0.05), ("stochastic", 1, 0.01)]
EXPLAIN_POINTS = 3  # descent explain: the lecture's graph on the first few training points


def _weights(model: Linear) -> np.ndarray:
    """(intercept, slope) of a one-input Linear layer."""
    return np.array([model.bias._data[0], model.weight._data[0, 0]])


class _Distance(Callback):
    """Records the distance ||(b, W) - (b*, W*)|| at the end of every epoch."""

    def __init__(self, model: Linear, w_star: np.ndarray, distances: list):
        self.model, self.w_star, self.distances = model, w_star, distances

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.distances.append(float(np.linalg.norm(_weights(self.model) - self.w_star)))


def explain_points() -> tuple[list[float], list[float]]:
    """The first ``EXPLAIN_POINTS`` training points (x, y), rounded to two decimals."""
    x, y = make_line(N, SLOPE, INTERCEPT, NOISE, seed=SEED)
    x_tr, _, _, y_tr, _, _ = train_val_test_split(
        x.astype(np.float64), y.astype(np.float64), fractions=SPLIT, seed=SEED
    )
    xs = np.round(x_tr[:EXPLAIN_POINTS, 0], 2).tolist()
    ys = np.round(y_tr[:EXPLAIN_POINTS], 2).tolist()
    return xs, ys


def explain_gradient(wrt: str = "b", w0: float = SLOPE, b0: float = INTERCEPT):
    """The lectures' graph J = sum((W x + b - y)^2) on a few training points, at the true line
    (W, b) = (2, 1): dJ/db (or dJ/dW with ``wrt='W'``), the chain rule edge by edge. W, as
    deck 000 writes the weight (y^ = W x + b)."""
    xs, ys = explain_points()
    W = tensor(w0, dtype=float64, requires_grad=True)
    b = tensor(b0, dtype=float64, requires_grad=True)
    x = tensor(xs, dtype=float64)
    y = tensor(ys, dtype=float64)
    loss = ((W * x + b - y) ** 2).sum()
    target = {"W": W, "b": b}[{"w": "W"}.get(wrt, wrt)]
    return viz.explain(loss, wrt=target, names={"W": W, "b": b, "x": x, "y": y, "J": loss})


def _draw_distances(runs: dict):
    def draw(path):
        viz.plot_series(
            {f"{name} (lr {runs[name]['lr']:g})": runs[name]["distance"] for name in runs},
            xlabel="epoch",
            ylabel="||(b, W) - (b*, W*)||  (log scale)",
            log_y=True,
            title="Distance to the closed-form optimum (b*, W*) after each epoch",
            path=path,
        )

    return draw


def _draw_fits(data: dict, scaler: dict, lines: dict):
    def draw(path):
        grid = np.linspace(min(data["x_train"].min(), data["x_val"].min()) - 0.3,
                           max(data["x_train"].max(), data["x_val"].max()) + 0.3, 50)  # fmt: skip
        z = (grid - scaler["mean"]) / scaler["std"]
        series = {"true line y = 2 x + 1": (grid, SLOPE * grid + INTERCEPT)}
        series.update({name: (grid, w[0] + w[1] * z) for name, w in lines.items()})
        viz.plot_series(
            series,
            points={
                "training points": (data["x_train"], data["y_train"]),
                "validation points": (data["x_val"], data["y_val"]),
            },
            xlabel="x",
            ylabel="y",
            title=f"The data and the fitted lines after {EPOCHS} epochs: nearly one line",
            path=path,
        )

    return draw


def linear_regression() -> Lesson:
    """Closed form vs full-batch, mini-batch and stochastic gradient descent on one line."""
    lesson = Lesson(
        name="linear-regression",
        title="Linear regression: closed form and three kinds of gradient descent",
        summary=(
            f"{N} noisy points around the line y = {SLOPE:g} x + {INTERCEPT:g} (noise standard "
            f"deviation {NOISE:g}, ds.datasets.make_line, seed {SEED}), split 60/20/20 into "
            "training, validation and test sets, the slides' common split. The model is the "
            "slides' best-fit line y^ = W z + b, the loss the mean squared error on the "
            "training set, mean((y^_i - y_i)^2): twice the slides' J = 1/(2n) sum_i "
            "(y^_i - y_i)^2 (their 1/2 is there 'to make the math nicer'), with the same "
            f"minimum. The lecture: deck {DECK}, slides 3 (the line, J, the closed form), 6-7 "
            "(gradient descent on J's graph) and 12-13 (training, validation and test sets)."
        ),
    )
    x, y = make_line(N, SLOPE, INTERCEPT, NOISE, seed=SEED)
    x_tr, x_val, x_te, y_tr, y_val, y_te = train_val_test_split(
        x.astype(np.float64), y.astype(np.float64), fractions=SPLIT, seed=SEED
    )
    scaler = Standardizer().fit(x_tr)
    z = {
        "train": scaler.transform(x_tr),
        "val": scaler.transform(x_val),
        "test": scaler.transform(x_te),
    }
    targets = {"train": y_tr, "val": y_val, "test": y_te}
    lesson.say(
        f"The input is standardised with the training set's mean {scaler.mean_[0]:.4f} and "
        f"standard deviation {scaler.scale_[0]:.4f}: z = (x - mean) / std. Then both weights "
        "see the same curvature and one learning rate suits them both (deck 000 holds input "
        "normalisation over for the week after)."
    )
    # The closed form: the normal equations A^T A w = A^T y, solved by least squares.
    design = np.column_stack([np.ones(len(y_tr)), z["train"][:, 0]])  # (60, 2): columns 1, z
    w_star = np.linalg.lstsq(design, y_tr, rcond=None)[0]
    line_slope = float(w_star[1] / scaler.scale_[0])
    line_intercept = float(w_star[0] - w_star[1] * scaler.mean_[0] / scaler.scale_[0])
    lesson.say(
        "Closed form: setting both derivatives dJ/dW and dJ/db to zero gives the normal "
        "equations, the slide's W^ = (X^T X)^-1 X^T Y with W and b lumped together (X has a "
        "column of ones and a column of z). Their solution is "
        f"(b*, W*) = ({w_star[0]:.6f}, {w_star[1]:.6f}). In the original units that is "
        f"y^ = {line_slope:.6f} x + {line_intercept:.6f}, close to the true line; the rest is "
        "noise."
    )
    lesson.say(
        "Gradient descent starts from (b, W) = (0, 0) and uses the training set in three ways: "
        "full-batch (one step per epoch, the gradient over all 60 examples), mini-batch "
        "(batches of 10 in a shuffled order: 6 steps per epoch) and stochastic (one example "
        "at a time: 60 steps per epoch). Each runs ds.train.fit with ds.optim.GradientDescent "
        f"for {EPOCHS} epochs."
    )
    data = {part: (tensor(z[part], dtype=float64), tensor(targets[part][:, None], dtype=float64))
            for part in z}  # fmt: skip
    runs = {}
    for name, batch_size, lr in METHODS:
        model = Linear(1, 1, dtype=float64)
        with no_grad():
            model.weight._data[...] = 0.0
            model.bias._data[...] = 0.0
        distances = [float(np.linalg.norm(w_star))]  # epoch 0: w = (0, 0)
        fit(
            model,
            F.mse_loss,
            GradientDescent(model.parameters(), lr=lr),
            data["train"],
            epochs=EPOCHS,
            batch_size=batch_size or len(y_tr),
            seed=SEED,
            verbose=0,
            callbacks=[_Distance(model, w_star, distances)],
        )
        losses = {part: evaluate(model, F.mse_loss, data[part])["loss"] for part in data}
        runs[name] = {
            "batch_size": batch_size or len(y_tr),
            "lr": lr,
            "distance": distances,
            "w": _weights(model).tolist(),
            "loss": losses,
        }
    per_epoch = lesson.table(
        "Distance to the closed-form optimum ||(b, W) - (b*, W*)|| after each epoch",
        ["epoch"] + [f"{name} (lr {lr:g})" for name, _, lr in METHODS],
    )
    for epoch in range(EPOCHS + 1):
        per_epoch.add(epoch, *[runs[name]["distance"][epoch] for name, _, _ in METHODS])
    lesson.say(
        "Per epoch, stochastic descent gets close first (it takes 60 small steps to "
        "full-batch's one) but then jitters: each step follows one noisy example, so it never "
        "settles exactly on (b*, W*). Full-batch descent moves smoothly: its distance falls by the "
        f"same factor, 1 - 2 lr = {1 - 2 * METHODS[0][2]:g}, every epoch, and with more epochs "
        "it would reach (b*, W*) exactly. Mini-batch descent sits in between."
    )
    closed = {
        part: float(np.mean((w_star[0] + w_star[1] * z[part][:, 0] - targets[part]) ** 2))
        for part in z
    }
    final = lesson.table(
        f"After {EPOCHS} epochs: weights and mean squared errors",
        ["method", "b", "W", "distance to (b*, W*)", "train MSE", "val MSE", "test MSE"],
    )
    final.add(
        "closed form", w_star[0], w_star[1], 0.0, closed["train"], closed["val"], closed["test"]
    )
    for name, run in runs.items():
        w, loss = run["w"], run["loss"]
        final.add(name, w[0], w[1], run["distance"][-1], loss["train"], loss["val"], loss["test"])
    lesson.say(
        "No method beats the closed form on the training set: (b*, W*) is the minimum of that "
        "loss. On validation and test data, which the fit never saw, all four are about "
        f"equally good (about {NOISE**2:g}, the noise variance): here the differences between "
        "the methods are smaller than the noise."
    )
    lesson.results = {
        "lecture": {"deck": DECK, "slides": SLIDES, "also": ALSO},
        "n": N,
        "true_line": {"slope": SLOPE, "intercept": INTERCEPT, "noise": NOISE, "seed": SEED},
        "split": list(SPLIT),
        "split_percent": [round(100 * f) for f in SPLIT],
        "train_size": len(y_tr),
        "line_in_x_units": {"W": line_slope, "b": line_intercept},
        "loss": "mean squared error",
        "scaler": {"mean": float(scaler.mean_[0]), "std": float(scaler.scale_[0])},
        "w_star": w_star.tolist(),
        "closed_form_loss": closed,
        "epochs": EPOCHS,
        "methods": runs,
        "data": {
            "x_train": x_tr[:, 0],
            "y_train": y_tr,
            "x_val": x_val[:, 0],
            "y_val": y_val,
            "x_test": x_te[:, 0],
            "y_test": y_te,
        },  # fmt: skip
    }
    xs, ys = explain_points()
    lesson.say(
        "descent lesson linear-regression --plot DIR draws the distances above and the fitted "
        "lines; descent explain linear-regression walks the chain rule of deck 000's graph "
        "J = sum((W x + b - y)^2) (cost <- sum <- square <- minus <- add <- mul) for dJ/db "
        f"on the first {EXPLAIN_POINTS} training points (x = {xs}, y = {ys}), at the true "
        f"line W = {SLOPE:g}, b = {INTERCEPT:g}."
    )
    lines = {"closed form": w_star.tolist()}
    lines.update({name: run["w"] for name, run in runs.items()})
    lesson.figure("linear-regression-distance.png", _draw_distances(runs))
    lesson.figure(
        "linear-regression-fits.png",
        _draw_fits(lesson.results["data"], lesson.results["scaler"], lines),
    )
    lesson.explain = explain_gradient
    return lesson
