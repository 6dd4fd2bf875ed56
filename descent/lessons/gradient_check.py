"""gradient-check: the analytic gradient against central differences, and what a bug looks like.

$\\partial L / \\partial w_i \\approx (L(w + \\epsilon e_i) - L(w - \\epsilon e_i)) / 2 \\epsilon$,
compared element by element through the relative error
$|a - n| / \\max(|a|, |n|)$, for a softmax classifier in float64; then the same check
on a custom matmul whose backward rule returns the weight gradient transposed.

The lecture: deck 004 (``004_feeceb0db53be35a.txt``): the derivative as the limit of
(f(a + h) - f(a)) / h (slide 32) and "Numerical vs Analytic Gradients" (slide 38): numerical
gradients are slow and approximate, analytic ones fast, exact and error-prone; "derive the
analytic gradient, check your implementation with the numerical gradient. This is called a
gradient check."
"""

from __future__ import annotations

import numpy as np

from .. import viz
from ..autograd import Function, grad
from ..gradcheck import GradcheckError, gradcheck, numerical_grad
from ..nn import functional as F
from ..random import manual_seed
from ..tensor import float64, randn, tensor
from .lesson import Lesson

DECK = "004_feeceb0db53be35a.txt"
SLIDES = {
    "the derivative, the limit of (f(a + h) - f(a)) / h": [32, 32],
    "numerical vs analytic gradients: the gradient check": [38, 38],
}
EPS = 1e-6  # the step of the central differences
OK, WRONG = 1e-6, 1e-2  # relative errors: below OK agrees; above WRONG is a bug
N_EXAMPLES, N_FEATURES, N_CLASSES = 6, 3, 3


class BuggyMatMul(Function):
    """$x W$ with a deliberately wrong backward: the gradient of W comes out transposed.

    The correct rule is dW = x^T g; this one returns (x^T g)^T. W is square, so the shape
    is right and the engine's shape check cannot see the bug; only a gradient check can.
    """

    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        return x @ w

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        grad_x = grad @ w.T
        grad_w = (x.T @ grad).T  # BUG: should be x.T @ grad
        return grad_x, grad_w


def relative_error(analytic: np.ndarray, numerical: np.ndarray) -> np.ndarray:
    """$|a - n| / \\max(|a|, |n|)$ elementwise, 0 where both are 0."""
    scale = np.maximum(np.abs(analytic), np.abs(numerical))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(scale > 0, np.abs(analytic - numerical) / scale, 0.0)


def _verdict(err: float) -> str:
    return "ok" if err < OK else ("wrong" if err > WRONG else "suspicious")


def _check(lesson: Lesson, title: str, loss_fn, params: dict) -> dict:
    """Analytic (autodiff) and numerical gradients of ``loss_fn(*params)``, tabled."""
    tensors = list(params.values())
    analytic = grad(loss_fn(*tensors), tensors)
    numerical = numerical_grad(loss_fn, tensors, eps=EPS)
    table = lesson.table(
        title, ["parameter", "element", "analytic", "numerical", "relative error", "verdict"]
    )
    out = {"analytic": {}, "numerical": {}, "relative_error": {}, "failing": []}
    worst = 0.0
    for name, ana, num in zip(params, analytic, numerical):
        a, n = ana._data, num._data
        err = relative_error(a, n)
        for k in range(a.size):
            index = tuple(int(i) for i in np.unravel_index(k, a.shape))
            e = float(err.flat[k])
            label = "[" + ", ".join(map(str, index)) + "]"
            table.add(name, label, float(a.flat[k]), float(n.flat[k]), e, _verdict(e))
            if e > WRONG:
                out["failing"].append([name, list(index)])
        out["analytic"][name] = a.tolist()
        out["numerical"][name] = n.tolist()
        out["relative_error"][name] = err.tolist()
        worst = max(worst, float(err.max()))
    out["max_relative_error"] = worst
    return out


def _flat(check: dict, key: str) -> np.ndarray:
    """Every element of every parameter's gradient (or error), in one vector."""
    return np.concatenate([np.ravel(v) for v in check[key].values()])


def _draw_agreement(good: dict, bad: dict):
    def draw(path):
        good_a, good_n = _flat(good, "analytic"), _flat(good, "numerical")
        bad_a, bad_n = _flat(bad, "analytic"), _flat(bad, "numerical")
        failing = _flat(bad, "relative_error") > WRONG
        values = np.concatenate([good_a, good_n, bad_a, bad_n])
        lo, hi = float(values.min()), float(values.max())
        pad = 0.08 * (hi - lo)
        viz.plot_series(
            {"analytic = numerical": ([lo - pad, hi + pad], [lo - pad, hi + pad])},
            points={
                f"descent's matmul: all {good_a.size} elements": (good_a, good_n),
                f"BuggyMatMul: the {int(failing.sum())} that fail": (
                    bad_a[failing],
                    bad_n[failing],
                ),
                "BuggyMatMul: the rest (diagonal of W, b)": (bad_a[~failing], bad_n[~failing]),
            },
            xlabel="analytic gradient (backward pass)",
            ylabel="numerical gradient (central differences)",
            title="Gradient check: a correct backward pass lies on the diagonal",
            path=path,
            figsize=(6.5, 5.5),
        )

    return draw


def gradient_check() -> Lesson:
    """Numerical against analytic gradients of a softmax classifier; then a buggy op caught."""
    lesson = Lesson(
        name="gradient-check",
        title="Gradient checking: is the backward pass right?",
        summary=(
            "A gradient computed by backpropagation can be checked against the definition of "
            "the derivative: nudge one weight by a tiny eps up and down and see how the loss "
            "moves, (L(w + eps) - L(w - eps)) / (2 eps). This central difference is slow (two "
            "forward passes per weight) but needs no derivation, so it catches mistakes in one. "
            "The slides' one-sided (L(W + h) - L(W)) / h (their h is this eps) is off by a term "
            "of order h; the central difference by one of order h^2, so a smaller error for "
            f"the same h. The lecture: deck {DECK}, slides 32 (the derivative) and 38 "
            "(numerical against analytic gradients: the gradient check)."
        ),
    )
    manual_seed(0)
    x = randn(N_EXAMPLES, N_FEATURES, dtype=float64)
    y = tensor(np.arange(N_EXAMPLES) % N_CLASSES)
    w = randn(N_FEATURES, N_CLASSES, dtype=float64, requires_grad=True)
    b = (randn(N_CLASSES, dtype=float64) * 0.1).requires_grad_()
    lesson.say(
        f"The model: a softmax classifier, scores = X W + b, on {N_EXAMPLES} examples with "
        f"{N_FEATURES} features and {N_CLASSES} classes; the loss is the mean cross-entropy. "
        f"Everything is float64 and eps = {EPS:g}: in float32 the differences of two nearly "
        f"equal losses would drown in rounding error. The relative error "
        f"|a - n| / max(|a|, |n|) compares the analytic gradient a with the numerical one n: "
        f"below {OK:g} they agree; above {WRONG:g} the gradient is wrong; in between is "
        f"suspicious."
    )

    def good_loss(w, b):
        return F.cross_entropy(x @ w + b, y)

    def buggy_loss(w, b):
        return F.cross_entropy(BuggyMatMul.apply(x, w) + b, y)

    good = _check(lesson, "A correct backward pass (descent's matmul)", good_loss, {"W": w, "b": b})
    good_passes = gradcheck(good_loss, [w, b], eps=EPS)
    lesson.say(
        f"Largest relative error: {good['max_relative_error']:.1e}. Analytic and numerical "
        f"gradients agree to many digits, and ds.gradcheck agrees: it returns {good_passes}."
    )

    lesson.say(
        "Now a bug. BuggyMatMul is a custom ds.autograd.Function computing X W whose backward "
        "returns the gradient of W transposed, (X^T g)^T instead of X^T g. W is square, so "
        "the shape is right and nothing crashes: only a gradient check can tell."
    )
    bad = _check(lesson, "A buggy backward pass (BuggyMatMul)", buggy_loss, {"W": w, "b": b})
    try:
        gradcheck(buggy_loss, [w, b], eps=EPS)
        message = "ds.gradcheck passed"
    except GradcheckError as e:
        message = str(e)
    wrong = ", ".join(f"{name}[{', '.join(map(str, i))}]" for name, i in bad["failing"])
    lesson.say(
        f"The check fails at {wrong}, with relative errors up to "
        f"{bad['max_relative_error']:.2g}. The diagonal of W and all of b pass: transposing "
        f"leaves the diagonal where it was, and b's gradient does not go through the bug. Which "
        f"elements fail is a clue to what the bug is. ds.gradcheck, which weighs the output "
        f"by a random number (so its values are scaled versions of the table's), says: "
        f"{message}"
    )

    lesson.results.update(
        lecture={"deck": DECK, "slides": SLIDES},
        thresholds={"ok_below": OK, "wrong_above": WRONG},
        sizes={"examples": N_EXAMPLES, "features": N_FEATURES, "classes": N_CLASSES},
        inputs={
            "X": x._data.tolist(),
            "y": y._data.tolist(),
            "W": w._data.tolist(),
            "b": b._data.tolist(),
        },
        eps=EPS,
        good=good,
        buggy=bad,
        good_max_relative_error=good["max_relative_error"],
        buggy_max_relative_error=bad["max_relative_error"],
        gradcheck_good=good_passes,
        gradcheck_buggy_message=message,
    )
    lesson.say(
        "descent lesson gradient-check --plot DIR draws every element's analytic gradient "
        "against its numerical one, for both backward passes: the correct ones on the "
        "diagonal, the buggy ones off it."
    )
    lesson.figure("gradient-check-agreement.png", _draw_agreement(good, bad))
    return lesson
