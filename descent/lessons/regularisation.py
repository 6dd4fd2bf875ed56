"""regularisation: L2 and L1 penalties on the overfitting degree-10 polynomial.

The lecture: deck 004 (``004_feeceb0db53be35a.txt``), slide 26 (lines 532-540: "often, we
add a regularization term to the loss function", L_i = |y - W x_i|^2 + |W|, "L1/L2 on
weights (encourage small values)"); deck 000 (``000_3ab0e19925976932.txt``) names it in its
list of topics (slide 1, line 16) and holds it over for later (slide 13, line 1274).
Slides are counted as the text separates its pages, by three blank lines.

The data and the polynomial are the model-choice lesson's: 18 training points, 6 for
validation, and a + w_1 u + ... + w_10 u^10 in u = (x - pi) / pi. The loss is the training
mean squared error plus lambda sum_k w_k^2 (L2) or lambda sum_k |w_k| (L1); the intercept
a is not penalised. L2 has a closed form (the normal equations with lambda added to the
diagonal); L1 is minimised by coordinate descent, whose every step is a soft threshold.
descent's autodiff then checks each solution: the gradient of the L2 loss is 0 there, and
for L1 every nonzero weight has |d MSE / dw_k| = lambda and every zero one at most lambda.
"""

from __future__ import annotations

import numpy as np

from ..autograd import grad
from ..data import train_val_test_split
from ..tensor import float64, tensor
from ..viz.figure import figure, finish
from .lesson import Lesson
from .model_choice import DEGREE, SEED, _make_data, _powers

DECK = "004_feeceb0db53be35a.txt"
SLIDES = {"the regularization term, L1 and L2": [26, 26]}
ALSO = {"000_3ab0e19925976932.txt": {"regularization, named and held over": [1, 13]}}
PENALTIES = [10.0**k for k in range(-6, 2)]  # lambda, 1e-6 to 10
SWEEPS = 200  # of coordinate descent, to find which weights are 0 and the others' signs
TOLERANCE = 1e-12  # coordinate descent stops when no weight moves more than this


def _features(x: np.ndarray) -> np.ndarray:
    """(n, DEGREE): u, u^2, ..., u^DEGREE; the intercept is kept apart."""
    return _powers(x, DEGREE)[:, 1:]


def fit_l2(phi: np.ndarray, y: np.ndarray, lam: float) -> tuple[float, np.ndarray]:
    """argmin over (a, w) of mean (y - a - phi w)^2 + lam |w|^2: the normal equations."""
    mean_phi, mean_y = phi.mean(axis=0), y.mean()
    centred = phi - mean_phi
    n, p = phi.shape
    w = np.linalg.solve(centred.T @ centred / n + lam * np.eye(p), centred.T @ (y - mean_y) / n)
    return float(mean_y - mean_phi @ w), w


def fit_l1(phi: np.ndarray, y: np.ndarray, lam: float, start=None) -> tuple[float, np.ndarray]:
    """argmin over (a, w) of mean (y - a - phi w)^2 + lam sum |w_k|, by coordinate descent.

    One weight at a time: with the others fixed the loss is a parabola plus lam |w_k|, whose
    minimum is the soft threshold S(rho, lam) / z of rho = (2/n) phi_k . r_k (r_k the residual
    without w_k) and z = (2/n) |phi_k|^2.
    """
    n, p = phi.shape
    w = np.zeros(p) if start is None else start.copy()
    z = 2.0 / n * np.sum(phi * phi, axis=0)
    a = float(np.mean(y - phi @ w))
    for _ in range(SWEEPS):
        moved = 0.0
        r = y - a - phi @ w
        for k in range(p):
            r += phi[:, k] * w[k]
            rho = 2.0 / n * (phi[:, k] @ r)
            new = np.sign(rho) * max(abs(rho) - lam, 0.0) / z[k]
            moved = max(moved, abs(new - w[k]))
            w[k] = new + 0.0  # + 0.0: no -0.0
            r -= phi[:, k] * w[k]
        shift = float(np.mean(r))
        a += shift
        if max(moved, abs(shift)) < TOLERANCE:
            break
    return _polish(phi, y, lam, a, w)


def _polish(phi: np.ndarray, y: np.ndarray, lam: float, a: float, w: np.ndarray):
    """The exact minimum from coordinate descent's guess, by feature-sign search.

    With the set A of nonzero weights and their signs s fixed, the loss is smooth and its
    minimum solves (2/n) phi_A^T (y - phi_A w_A) = lam s (phi and y centred, to take a out).
    If that solution flips a sign, step towards it only as far as the lowest loss on the
    way (a weight reaching 0 leaves A); once it keeps the signs, a zero weight whose pull
    |d MSE / dw_k| exceeds lam joins A. Each round lowers the loss, so it ends.
    """
    n = phi.shape[0]
    centred, yc = phi - phi.mean(axis=0), y - y.mean()
    w = w.copy()

    def objective(v):
        return np.mean((yc - centred @ v) ** 2) + lam * np.sum(np.abs(v))

    signs = np.sign(w)
    for _ in range(100):
        on = signs != 0
        if on.any():
            ca = centred[:, on]
            target = np.zeros_like(w)
            target[on] = np.linalg.solve(ca.T @ ca, ca.T @ yc - n / 2 * lam * signs[on])
            if np.all(np.sign(target[on]) == signs[on]):
                w = target
            else:  # the lowest loss on the segment w -> target, at its end or a zero crossing
                crossings = [t for t in (w[on] / (w[on] - target[on])) if 0 < t < 1]
                w = min((w + t * (target - w) for t in [1.0, *crossings]), key=objective)
                w[np.abs(w) < 1e-15] = 0.0
                signs = np.sign(w)
                continue
        pull = -2.0 / n * centred.T @ (yc - centred @ w)
        pull[signs != 0] = 0.0
        k = int(np.argmax(np.abs(pull)))
        if abs(pull[k]) <= lam * (1 + 1e-12):
            break
        signs[k] = -np.sign(pull[k])
    w = w + 0.0  # no -0.0
    return float(y.mean() - phi.mean(axis=0) @ w), w


def mse_gradient(phi: np.ndarray, y: np.ndarray, a: float, w: np.ndarray) -> np.ndarray:
    """d MSE / d(a, w) at the fit, by descent's autodiff."""
    a_t = tensor(a, dtype=float64, requires_grad=True)
    w_t = tensor(w, dtype=float64, requires_grad=True)
    r = tensor(y, dtype=float64) - a_t - tensor(phi, dtype=float64) @ w_t
    (ga, gw) = grad((r * r).mean(), [a_t, w_t])
    return np.concatenate([[ga.item()], gw.numpy()])


def _draw_paths(l2: list, l1: list):
    def draw(path):
        fig = figure((10, 4.2), 100)
        axes = fig.subplots(1, 2, sharey=True)
        for ax, fits, name in zip(axes, (l2, l1), ("L2: lambda sum w_k^2", "L1: lambda sum |w_k|")):
            weights = np.array([fit["w"] for fit in fits])  # (penalties, DEGREE)
            for k in range(weights.shape[1]):
                ax.plot(PENALTIES, weights[:, k], "o-", ms=3, lw=1.4, label=f"w_{k + 1}")
            ax.set_xscale("log")
            ax.set_yscale("symlog", linthresh=1.0)
            ax.set_xlabel("penalty lambda")
            ax.set_title(name)
            ax.grid(alpha=0.3)
        axes[0].set_ylabel("weight w_k (symmetric log scale)")
        axes[1].legend(fontsize=7, ncol=2)
        fig.suptitle("The degree-10 polynomial's weights shrink as the penalty grows")
        finish(fig, path)

    return draw


def _draw_u_curve(l2: list, l1: list):
    def draw(path):
        fig = figure((7, 4.2), 100)
        ax = fig.subplots()
        for fits, name, colour in ((l2, "L2", "#1f77b4"), (l1, "L1", "#d62728")):
            ax.plot(PENALTIES, [f["val"] for f in fits], "o-", color=colour,
                    label=f"{name}: validation MSE")  # fmt: skip
            ax.plot(PENALTIES, [f["train"] for f in fits], "s--", color=colour, alpha=0.6,
                    label=f"{name}: training MSE")  # fmt: skip
        ax.set_xscale("log")
        ax.set_xlabel("penalty lambda")
        ax.set_ylabel("mean squared error")
        ax.set_title("Too little penalty overfits, too much underfits: a U")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        finish(fig, path)

    return draw


def regularisation() -> Lesson:
    """L2 and L1 on the degree-10 polynomial: shrinking weights and a U-shaped validation loss."""
    lesson = Lesson(
        name="regularisation",
        title="Regularisation: a penalty on the weights against overfitting",
        summary=(
            "The model-choice lesson's degree-10 polynomial follows the noise of its 18 "
            "training points. Deck 004 (slide 26) adds a regularisation term to the loss, "
            "L1 or L2 on the weights, to encourage small values; deck 000 names "
            "regularisation among its topics (slides 1 and 13). Here both penalties, at "
            "strengths lambda from 1e-6 to 10, on the same data. "
            f"The lecture: deck {DECK}."
        ),
    )
    x, y = _make_data()
    x_tr, x_val, _, y_tr, y_val, _ = train_val_test_split(x, y, seed=SEED)
    phi_tr, phi_val = _features(x_tr), _features(x_val)
    lesson.say(
        f"The loss is mean_i (y_i - a - sum_k w_k u_i^k)^2 + lambda R(w) with R(w) = sum_k "
        f"w_k^2 (L2) or sum_k |w_k| (L1), k = 1..{DEGREE}; the intercept a is not penalised "
        "(a constant shift of y should cost nothing). L2 is solved exactly by the normal "
        "equations with lambda on the diagonal; L1 has a corner at 0, and coordinate "
        "descent minimises it one weight at a time, each step a soft threshold that sets a "
        "weight to exactly 0 when its pull on the error is weaker than lambda."
    )

    def scored(a, w):
        return {
            "a": a,
            "w": w.tolist(),
            "train": float(np.mean((y_tr - a - phi_tr @ w) ** 2)),
            "val": float(np.mean((y_val - a - phi_val @ w) ** 2)),
            "sum_squares": float(np.sum(w * w)),
            "sum_abs": float(np.sum(np.abs(w))),
        }

    l2, l1 = [], []
    start = None
    for lam in reversed(PENALTIES):  # from strong to weak: each L1 fit starts at the last
        a, w = fit_l1(phi_tr, y_tr, lam, start)
        start = w
        fit = scored(a, w)
        g = mse_gradient(phi_tr, y_tr, a, w)
        on = w != 0
        fit["nonzero"] = int(on.sum())
        # optimality: |dMSE/dw_k| = lam where w_k != 0 (with the opposite sign), <= lam at 0
        fit["kkt_gap"] = float(
            max(
                np.max(np.abs(g[1:][on] + lam * np.sign(w[on])), initial=0.0),
                np.max(np.abs(g[1:][~on]) - lam, initial=0.0),
                abs(g[0]),
            )  # fmt: skip
        )
        l1.insert(0, fit)
    for lam in PENALTIES:
        a, w = fit_l2(phi_tr, y_tr, lam)
        fit = scored(a, w)
        g = mse_gradient(phi_tr, y_tr, a, w)
        fit["gradient_norm"] = float(np.max(np.abs(g + np.concatenate([[0.0], 2 * lam * w]))))
        l2.append(fit)

    table = lesson.table(
        "The weights and the losses as the penalty grows",
        [
            "lambda",
            "L2 sum w_k^2",
            "L2 train",
            "L2 val",
            "L1 sum |w_k|",
            "L1 nonzero",
            "L1 train",
            "L1 val",
        ],  # fmt: skip
    )
    for lam, f2, f1 in zip(PENALTIES, l2, l1):
        table.add(
            lam,
            f2["sum_squares"],
            f2["train"],
            f2["val"],
            f1["sum_abs"],
            f1["nonzero"],
            f1["train"],
            f1["val"],
        )
    best2 = int(np.argmin([f["val"] for f in l2]))
    best1 = int(np.argmin([f["val"] for f in l1]))
    lesson.say(
        "Read down the table. As lambda grows the weights shrink (the L2 sum of squares "
        f"falls from {l2[0]['sum_squares']:.4g} to {l2[-1]['sum_squares']:.4g}), and L1 does "
        "more: it switches weights off "
        f"one by one, from {l1[0]['nonzero']} nonzero to {l1[-1]['nonzero']}, leaving the "
        "constant a alone. The training loss only rises, since every penalty pulls the fit "
        "away from the training points. The validation loss falls, then rises: a U. Too "
        "little penalty and the polynomial memorises the noise; too much and it flattens "
        "towards a constant and underfits. The bottom of the U is the lambda to choose: "
        f"L2 at lambda = {PENALTIES[best2]:g} (val MSE {l2[best2]['val']:.4f}, against "
        f"{l2[0]['val']:.4f} at lambda = {PENALTIES[0]:g}), L1 at lambda = "
        f"{PENALTIES[best1]:g} (val MSE {l1[best1]['val']:.4f}, with "
        f"{l1[best1]['nonzero']} of {DEGREE} weights left)."
    )
    shown = lesson.table(
        "The weights at the two best penalties",
        ["weight", f"L2, lambda {PENALTIES[best2]:g}", f"L1, lambda {PENALTIES[best1]:g}"],
    )
    shown.add("a", l2[best2]["a"], l1[best1]["a"])
    for k in range(DEGREE):
        shown.add(f"w_{k + 1}", l2[best2]["w"][k], l1[best1]["w"][k])
    worst = max(max(f["gradient_norm"] for f in l2), max(f["kkt_gap"] for f in l1))
    lesson.say(
        "Each fit is checked with descent's autodiff: at the L2 solutions the gradient of "
        "the penalised loss is 0, and at the L1 solutions every nonzero weight has "
        "d MSE / dw_k = -lambda sign(w_k) and every zero one |d MSE / dw_k| <= lambda (the "
        f"corner of |w| absorbs the rest); the largest violation is {worst:.1e}."
    )
    lesson.results.update(
        degree=DEGREE,
        penalties=PENALTIES,
        l2=l2,
        l1=l1,
        best_l2=PENALTIES[best2],
        best_l1=PENALTIES[best1],
        largest_violation=worst,
        data={"x_train": x_tr, "y_train": y_tr, "x_val": x_val, "y_val": y_val},
    )
    lesson.say(
        "descent lesson regularisation --plot DIR draws every weight against lambda, for L2 "
        "and for L1, and the training and validation losses against lambda."
    )
    lesson.figure("regularisation-weights.png", _draw_paths(l2, l1))
    lesson.figure("regularisation-validation.png", _draw_u_curve(l2, l1))
    return lesson
