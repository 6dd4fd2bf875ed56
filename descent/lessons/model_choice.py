"""model-choice: linear, cosine, quadratic and degree-10 models on one small noisy dataset.

The lecture: deck 001 (``001_06db21ae3b045989.txt``), slides 86-109 ("Models": a linear,
a quadratic, a cosine and a polynomial model, overfitting, how to choose a model), with
deck 000's training, validation and test sets (slides 12-13). Training loss keeps falling
as the model gets more flexible; the validation loss shows which model generalises and
which one only memorised the training points.
"""

from __future__ import annotations

import numpy as np

from .. import viz
from ..data import train_val_test_split
from ..nn import functional as F
from ..optim import GradientDescent
from ..tensor import float64, tensor
from .lesson import Lesson

DECK = "001_06db21ae3b045989.txt"
SLIDES = {"models: linear, quadratic, cosine, polynomial; overfitting; how to choose": [86, 109]}
ALSO = {"000_3ab0e19925976932.txt": {"training, validation and test sets; overfitting": [12, 13]}}
SPLIT_PERCENT = (60, 20, 20)
N, NOISE, SEED = 30, 0.5, 7
DEGREE = 10  # the flexible polynomial
LR = 0.25  # with whitened features each step halves the distance to the best fit
STEPS = 40
SHOW_STEPS = (0, 1, 2, 3, 5, 10, 20, 40)


def _make_data(seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """x uniform on [0, 2 pi], y = 1 + 2 cos(x) + N(0, NOISE^2)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 2 * np.pi, N)
    y = 1.0 + 2.0 * np.cos(x) + rng.normal(0.0, NOISE, N)
    return x, y


def _powers(x: np.ndarray, degree: int) -> np.ndarray:
    """(n, degree + 1): 1, u, u^2, ... of u = (x - pi) / pi, which lies in [-1, 1]."""
    u = (x - np.pi) / np.pi
    return np.column_stack([u**k for k in range(degree + 1)])


# name -> (formula, features of x): every model is linear in its parameters.
MODELS = {
    "linear": ("a + b x", lambda x: _powers(x, 1)),
    "cosine": ("a + b cos(x)", lambda x: np.column_stack([np.ones_like(x), np.cos(x)])),
    "quadratic": ("a + b x + c x^2", lambda x: _powers(x, 2)),
    f"degree {DEGREE}": (f"a0 + a1 x + ... + a{DEGREE} x^{DEGREE}", lambda x: _powers(x, DEGREE)),
}


class _Whitener:
    """Features f -> f R^-1 sqrt(n), from the QR factorisation of the training features.

    The new features are orthonormal on the training inputs (their mean products form the
    identity), so the mean squared error has the same curvature, 2, in every direction.
    """

    def __init__(self, features_train: np.ndarray):
        self.scale = np.sqrt(features_train.shape[0])
        self.r = np.linalg.qr(features_train, mode="r")  # (p, p), upper triangular

    def __call__(self, features: np.ndarray) -> np.ndarray:
        return self.scale * np.linalg.solve(self.r.T, features.T).T  # (m, p)

    def coefficients(self, theta: np.ndarray) -> np.ndarray:
        """The weights of the original features that give the same predictions."""
        return self.scale * np.linalg.solve(self.r, theta)


def _fit(phi_train: np.ndarray, y_train: np.ndarray) -> tuple[np.ndarray, list[float]]:
    """Gradient descent on the mean squared error from zero; the weights and loss per step."""
    phi = tensor(phi_train, dtype=float64)
    y = tensor(y_train, dtype=float64)
    theta = tensor(np.zeros(phi_train.shape[1]), dtype=float64, requires_grad=True)
    optimizer = GradientDescent([theta], lr=LR)
    losses = []
    for step in range(STEPS + 1):
        optimizer.zero_grad()
        loss = F.mse_loss(phi @ theta, y)
        losses.append(loss.item())
        if step < STEPS:
            loss.backward()
            optimizer.step()
    return theta.numpy().copy(), losses


def _draw_fits(fits: dict, data: dict):
    def draw(path):
        grid = np.linspace(0.0, 2 * np.pi, 300)
        series = {
            f"{name}: {fits[name]['formula']}": (grid, features(grid) @ fits[name]["coefficients"])
            for name, (_, features) in MODELS.items()
        }
        ys = np.concatenate([data["y_train"], data["y_val"]])
        pad = 0.25 * (ys.max() - ys.min())
        viz.plot_series(
            series,
            points={
                "training points": (data["x_train"], data["y_train"]),
                "validation points": (data["x_val"], data["y_val"]),
            },
            xlabel="x",
            ylabel="y",
            ylim=(ys.min() - pad, ys.max() + pad),
            legend_below=True,
            title="Four models fitted to the training points",
            path=path,
            figsize=(7, 5),
        )

    return draw


def _draw_losses(fits: dict):
    def draw(path):
        viz.plot_bars(
            {
                "training MSE": [fit["mse"]["train"] for fit in fits.values()],
                "validation MSE": [fit["mse"]["val"] for fit in fits.values()],
            },
            [f"{name}\n({fit['params']} params)" for name, fit in fits.items()],
            ylabel="mean squared error",
            title="Training loss falls with flexibility; validation loss does not",
            path=path,
            figsize=(6.5, 4),
        )

    return draw


def model_choice() -> Lesson:
    """Four models of growing flexibility, compared by training and validation loss."""
    lesson = Lesson(
        name="model-choice",
        title="Choosing a model: training loss against validation loss",
        summary=(
            f"{N} noisy points (x uniform on [0, 2 pi], y = 1 + 2 cos(x) plus noise of standard "
            f"deviation {NOISE:g}, seed {SEED}), split 60/20/20: {int(0.6 * N)} points to fit "
            "on, the rest held out for validation and test. Four candidate models, each "
            "fitted by gradient descent on the training mean squared error: the slides' "
            f"linear, quadratic, cosine and polynomial models. The lecture: deck {DECK}, "
            "slides 86-109; deck 000_3ab0e19925976932.txt, slides 12-13 (training, validation "
            "and test sets)."
        ),
    )
    x, y = _make_data()
    x_tr, x_val, x_te, y_tr, y_val, y_te = train_val_test_split(x, y, seed=SEED)
    lesson.say(
        "Every model here is linear in its parameters: a weighted sum of features (1, x, "
        "x^2, ..., or 1, cos(x)). For the polynomials x is first rescaled to [-1, 1]. Raw "
        "powers are nearly parallel columns of very different sizes, and plain gradient "
        "descent on them would crawl; so each model's features are first made orthonormal "
        "on the training inputs (a QR factorisation: the same model in new coordinates). "
        f"Then the loss curves the same way in every direction, and learning rate {LR:g} "
        "halves the distance to the best fit at every step."
    )
    parts = {"train": (x_tr, y_tr), "val": (x_val, y_val), "test": (x_te, y_te)}
    fits = {}
    for name, (formula, features) in MODELS.items():
        whiten = _Whitener(features(x_tr))
        theta, losses = _fit(whiten(features(x_tr)), y_tr)

        mse = {
            part: float(np.mean((whiten(features(xp)) @ theta - yp) ** 2))
            for part, (xp, yp) in parts.items()
        }
        fits[name] = {
            "formula": formula,
            "params": len(theta),
            "coefficients": whiten.coefficients(theta),
            "curve": losses,
            "mse": mse,
        }
    progress = lesson.table(
        "Training MSE during gradient descent", ["step"] + [name for name in MODELS]
    )
    for step in SHOW_STEPS:
        progress.add(step, *[fits[name]["curve"][step] for name in MODELS])
    best = min(fits, key=lambda name: fits[name]["mse"]["val"])
    overfit = max(fits, key=lambda name: fits[name]["params"])
    table = lesson.table("The four models", ["model", "formula", "#params", "train MSE", "val MSE"])
    for name, fit in fits.items():
        table.add(name, fit["formula"], fit["params"], fit["mse"]["train"], fit["mse"]["val"])
    flexible = fits[overfit]["mse"]
    beaten_by = [name for name in fits if fits[name]["mse"]["val"] < flexible["val"]]
    if len(beaten_by) == len(fits) - 1:
        rank = "the worst of all there"
    else:
        rank = "worse there than the " + " and the ".join(beaten_by)
    lesson.say(
        "Read the training column from top to bottom: the more flexible the model, the lower "
        f"its training loss, and the {overfit} polynomial is lowest of all "
        f"({flexible['train']:.4f}). The polynomials are nested (each can imitate the one "
        "before it), so their training loss can only fall. But the validation column, on "
        f"points the fit never saw, tells another story: the {overfit} polynomial is {rank} "
        f"({flexible['val']:.4f}, {flexible['val'] / flexible['train']:.0f} times its training "
        f"loss). With {fits[overfit]['params']} parameters for {len(y_tr)} points it bends to "
        "follow the noise: it overfits. The straight line underfits: it is wrong on both sets."
    )
    numbers = ", ".join(f"{c:.3f}" for c in fits[best]["coefficients"])
    truth = "; the data were made with (1, 2)" if best == "cosine" else ""
    lesson.say(
        f"Choose by validation loss: the {best} model, {fits[best]['formula']} "
        f"(val MSE {fits[best]['mse']['val']:.4f}), with fitted coefficients ({numbers})"
        f"{truth}. Only now look at the test set, once, for an honest "
        f"estimate of how it will do on new data: test MSE {fits[best]['mse']['test']:.4f}, "
        f"close to the noise variance {NOISE**2:g}."
    )
    lesson.results = {
        "lecture": {"deck": DECK, "slides": SLIDES, "also": ALSO},
        "n": N,
        "noise": NOISE,
        "noise_variance": NOISE**2,
        "seed": SEED,
        "split_percent": list(SPLIT_PERCENT),
        "train_size": len(y_tr),
        "lr": LR,
        "steps_shown": list(SHOW_STEPS),
        "overfit_val_over_train": flexible["val"] / flexible["train"],
        "loss": "mean squared error",
        "models": fits,
        "best": best,
        "best_test_mse": fits[best]["mse"]["test"],
        "data": {
            "x_train": x_tr,
            "y_train": y_tr,
            "x_val": x_val,
            "y_val": y_val,
            "x_test": x_te,
            "y_test": y_te,
        },  # fmt: skip
    }
    lesson.say(
        "descent lesson model-choice --plot DIR draws the four fitted curves on the data, and "
        "the training and validation losses of each model side by side."
    )
    lesson.figure("model-choice-fits.png", _draw_fits(fits, lesson.results["data"]))
    lesson.figure("model-choice-losses.png", _draw_losses(fits))
    return lesson
