"""numerical-gradient: deck 004's walk through W, one weight at a time, and why central differences.

The lecture: deck 004 (``004_feeceb0db53be35a.txt``), slides 37-38 (lines 691-976 of the
text): "current W: [0.34, -1.11, 0.78, 0.12, 0.55, 2.81, -3.1, -1.5, 0.33, ...], loss
1.25347"; W + h in the first dimension (h = 0.0001) gives loss 1.25322, so
(1.25322 - 1.25347) / 0.0001 = -2.5; in the second 1.25353, 0.6; in the third 1.25347, 0;
then "Numerical vs Analytic Gradients" and the gradient check (lines 968-976). Slides are
counted as the text separates its pages, by three blank lines.

Part one redoes the slide's arithmetic from its printed losses (all three quotients are
right) and says how precise they are. Part two walks the same way through a loss that can
be computed: a softmax classifier whose 3 x 3 W holds the slide's first nine numbers, on
four examples, beside ``ds.grad``. Part three measures the error of the one-sided and the
central difference over h from 0.1 to 1e-10 on f(x) = e^x at 0 (f' = 1): slopes 1 and 2 on
a log-log picture, until rounding wins. Part four is the gradient check (relative error);
``descent lesson gradient-check`` runs it on a whole classifier and catches a buggy
backward pass, and is not repeated here.
"""

from __future__ import annotations

import numpy as np

from ..autograd import grad
from ..nn import functional as F
from ..tensor import float64, tensor
from ..viz.figure import figure, finish
from .gradient_check import OK, WRONG, relative_error
from .gradient_check import _verdict as verdict
from .lesson import Lesson, vector_cell

DECK = "004_feeceb0db53be35a.txt"
SLIDES = {
    "the numerical gradient, one dimension at a time": [37, 38],
    "numerical vs analytic gradients, the gradient check": [38, 38],
}
LINES = {
    "the numerical gradient, one dimension at a time": [691, 966],
    "numerical vs analytic gradients, the gradient check": [968, 976],
}
SLIDE_W = [0.34, -1.11, 0.78, 0.12, 0.55, 2.81, -3.1, -1.5, 0.33]  # the slide's current W
SLIDE_H = 0.0001
SLIDE_LOSS = 1.25347
SLIDE_NUDGED = [1.25322, 1.25353, 1.25347]  # the loss after W + h in dimensions 1, 2, 3
SLIDE_QUOTIENTS = [-2.5, 0.6, 0.0]  # the slide's dW for those dimensions
DECIMALS = 5  # the slide prints its losses to 5 decimals
# Part two: four examples of three features, three classes; W = the slide's nine numbers.
EXAMPLES = [[1.0, 0.5, -1.2], [0.3, -0.8, 2.0], [-1.5, 1.0, 0.2], [0.7, 0.7, 0.7]]
CLASSES = [0, 2, 1, 0]
# Part three: f(x) = e^x at 0, h = 10^-0.5k from 0.1 to 1e-10.
STEPS = [10.0 ** (-k / 2) for k in range(2, 21)]
FIT = (1e-4, 1e-2)  # the h over which the slopes are fitted (truncation error, not rounding)


def quotient(nudged: float, loss: float, h: float) -> float:
    """The one-sided difference (f(x + h) - f(x)) / h."""
    return (nudged - loss) / h


def softmax_loss(w):
    """The mean cross-entropy of scores X W (W 3 x 3, a Tensor) on the four examples."""
    return F.cross_entropy(tensor(EXAMPLES, dtype=float64) @ w, tensor(CLASSES))


def _loss_at(w: np.ndarray) -> float:
    return softmax_loss(tensor(w, dtype=float64)).item()


def walk(w0: np.ndarray, h: float, central: bool) -> tuple[np.ndarray, list[float], int]:
    """The slide's walk: each weight in turn nudged by h; (dW, the nudged losses, the number
    of loss evaluations)."""
    base = None if central else _loss_at(w0)
    dw, nudged = np.zeros_like(w0), []
    for i in range(w0.size):
        up = w0.copy()
        up.flat[i] += h
        if central:
            down = w0.copy()
            down.flat[i] -= h
            dw.flat[i] = (_loss_at(up) - _loss_at(down)) / (2 * h)
        else:
            nudged.append(_loss_at(up))
            dw.flat[i] = quotient(nudged[-1], base, h)
    return dw, nudged, (2 * w0.size if central else w0.size + 1)


def _exp(x: float) -> float:
    """f(x) = e^x through descent (a float64 tensor), the smooth function of part three."""
    return tensor(x, dtype=float64).exp().item()


def differences(h: float) -> tuple[float, float]:
    """The one-sided and the central difference of e^x at 0 with step h (both should be 1)."""
    f0, up, down = _exp(0.0), _exp(h), _exp(-h)
    return (up - f0) / h, (up - down) / (2 * h)


def fitted_slope(hs, errors, window=FIT) -> float:
    """The slope of log10(error) against log10(h), least squares over h in ``window``."""
    hs, errors = np.asarray(hs), np.asarray(errors)
    keep = (hs >= window[0] * (1 - 1e-9)) & (hs <= window[1] * (1 + 1e-9))
    return float(np.polyfit(np.log10(hs[keep]), np.log10(errors[keep]), 1)[0])


def _draw_errors(steps, one_sided, central, slopes):
    def draw(path):
        fig = figure((7, 5), 100)
        ax = fig.subplots()
        hs = np.asarray(steps)
        ax.loglog(
            hs,
            one_sided,
            "o-",
            color="#d62728",
            label=f"one-sided (f(x + h) - f(x)) / h: fitted slope {slopes[0]:.3f}",
        )
        ax.loglog(
            hs,
            central,
            "s-",
            color="#1f77b4",
            label=f"central (f(x + h) - f(x - h)) / 2h: fitted slope {slopes[1]:.3f}",
        )
        ax.loglog(hs, hs / 2, ":", color="#d62728", lw=1.2, label="Taylor: h/2 (slope 1)")
        ax.loglog(hs, hs**2 / 6, ":", color="#1f77b4", lw=1.2, label="Taylor: h^2/6 (slope 2)")
        eps = np.finfo(np.float64).eps
        ax.loglog(hs, eps / hs, "--", color="grey", lw=1.0, label="rounding: ~1e-16 / h")
        ax.axvspan(*FIT, color="#2ca02c", alpha=0.08, label="where the slopes are fitted")
        ax.axvline(
            SLIDE_H, color="black", ls="--", lw=1.0, alpha=0.6, label=f"the slide's h = {SLIDE_H:g}"
        )
        ax.set_ylim(1e-14, 1e3)
        ax.set_xlabel("h")
        ax.set_ylabel("|numerical - exact|  (f = e^x at x = 0, f' = 1)")
        ax.set_title("Error of the numerical derivative: O(h) against O(h^2), until rounding")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7.5, loc="upper left", framealpha=0.9)
        finish(fig, path)

    return draw


def numerical_gradient() -> Lesson:
    """Deck 004's one-sided walk (-2.5, 0.6, 0), central differences' O(h^2), the gradient check."""
    walk_slides = SLIDES["the numerical gradient, one dimension at a time"]
    lesson = Lesson(
        name="numerical-gradient",
        title="The numerical gradient, one weight at a time",
        summary=(
            "Deck 004 finds the gradient of a loss without any calculus: nudge one weight by a "
            "small h, see how much the loss moves, divide by h, and go on to the next weight. "
            "This lesson redoes the slides' walk, then asks how good such a gradient is, and "
            f"why the gradient check uses a central difference. The lecture: deck {DECK}, "
            f"slides {walk_slides[0]}-{walk_slides[1]}."
        ),
    )
    # ---- part one: the slide's arithmetic -------------------------------------------------------
    lesson.say(
        f"The slides' current W begins {vector_cell(SLIDE_W[:3])}... and its loss is "
        f"{SLIDE_LOSS}. They add h = {SLIDE_H:g} to one weight at a time, recompute the loss, "
        "and take the one-sided difference (f(x + h) - f(x)) / h, the definition of the "
        "derivative before the limit:"
    )
    slide = lesson.table(
        f"The slide's walk, h = {SLIDE_H:g}: its losses, the quotient recomputed",
        [
            "dimension",
            "W",
            "W + h",
            "loss at W + h (slide)",
            "(L(W + h) - L(W)) / h",
            "slide's dW",
            "agrees",
        ],
    )
    recomputed = []
    for i, (nudged, shown) in enumerate(zip(SLIDE_NUDGED, SLIDE_QUOTIENTS)):
        value = round(quotient(nudged, SLIDE_LOSS, SLIDE_H), 9) + 0.0  # 5-decimal inputs
        recomputed.append(value)
        slide.add(
            i + 1,
            SLIDE_W[i],
            round(SLIDE_W[i] + SLIDE_H, 6),
            nudged,
            value,
            shown,
            "yes" if abs(value - shown) < 1e-9 else "NO",
        )
    half = 0.5 * 10.0**-DECIMALS
    spread = 2 * half / SLIDE_H
    lesson.say(
        f"All three quotients are right: -0.00025 / {SLIDE_H:g} = {recomputed[0]:g}, "
        f"0.00006 / {SLIDE_H:g} = {recomputed[1]:g}, 0 / {SLIDE_H:g} = {recomputed[2]:g}. "
        f"But the slide's losses are printed to {DECIMALS} decimals, so each is known only to "
        f"+-{half:g}, and their difference to +-{2 * half:g}; divided by h = {SLIDE_H:g} that "
        f"is +-{spread:g} on every quotient. The slide's -2.5 means 'between "
        f"{recomputed[0] - spread:g} and {recomputed[0] + spread:g}', and its 0 means only "
        f"|dL/dW3| < {spread:g}. A numerical gradient needs its losses to many more digits "
        "than the slide shows: that is why it is computed in float64."
    )

    # ---- part two: the same walk on a loss we can compute ---------------------------------------
    w0 = np.array(SLIDE_W).reshape(3, 3)
    base = _loss_at(w0)
    one_sided, nudged, cost_one = walk(w0, SLIDE_H, central=False)
    central, _, cost_central = walk(w0, SLIDE_H, central=True)
    w = tensor(w0, dtype=float64, requires_grad=True)
    (analytic,) = grad(softmax_loss(w), [w])
    analytic = analytic.numpy().copy()
    lesson.say(
        "The slides' loss comes from a classifier we do not have, so here is one that can be "
        "computed: a softmax classifier, scores = X W, with W the slide's first nine numbers "
        f"as a 3 x 3 matrix, on four examples (X = {EXAMPLES}, classes {CLASSES}); the loss "
        f"is the mean cross-entropy, L(W) = {base:.6f}. The same walk, one weight at a time, "
        "beside the central difference (f(W + h) - f(W - h)) / 2h with the same h, and "
        "ds.grad's analytic gradient:"
    )
    mine = lesson.table(
        f"The walk on L(W), h = {SLIDE_H:g}",
        [
            "dimension",
            "W",
            "L(W + h)",
            "one-sided",
            "central",
            "ds.grad",
            "one-sided - ds.grad",
            "central - ds.grad",
        ],
    )
    for i in range(w0.size):
        mine.add(
            i + 1,
            SLIDE_W[i],
            nudged[i],
            one_sided.flat[i],
            central.flat[i],
            analytic.flat[i],
            one_sided.flat[i] - analytic.flat[i],
            central.flat[i] - analytic.flat[i],
        )
    one_error = float(np.abs(one_sided - analytic).max())
    central_error = float(np.abs(central - analytic).max())
    lesson.say(
        f"The one-sided walk is off by up to {one_error:.1e}, the central one by "
        f"{central_error:.1e}, {one_error / central_error:.0f} times less with the same h. The "
        "costs: "
        f"the one-sided walk evaluated the loss {cost_one} times (once at W, once per "
        f"weight), the central one {cost_central} times (twice per weight); ds.grad ran one "
        "forward and one backward pass, whatever the number of weights. With millions of "
        "weights the walk is hopeless, which is the slide's 'numerical gradient: slow, "
        "approximate, easy to write; analytic gradient: fast, exact, error-prone'."
    )

    # ---- part three: O(h) against O(h^2) --------------------------------------------------------
    one_errors, central_errors = [], []
    sweep = lesson.table(
        "f(x) = e^x at x = 0 (f' = 1): the error of each difference against h",
        ["h", "one-sided", "its error", "h/2", "central", "its error", "h^2/6"],
    )
    for h in STEPS:
        a, c = differences(h)
        one_errors.append(abs(a - 1.0))
        central_errors.append(abs(c - 1.0))
        sweep.add(h, a, one_errors[-1], h / 2, c, central_errors[-1], h * h / 6)
    slopes = (fitted_slope(STEPS, one_errors), fitted_slope(STEPS, central_errors))
    best = (STEPS[int(np.argmin(one_errors))], STEPS[int(np.argmin(central_errors))])
    lesson.say(
        "Why the central difference is better, by Taylor's formula: f(x + h) = f + h f' + "
        "h^2/2 f'' + h^3/6 f''' + ..., so (f(x + h) - f(x)) / h = f' + h/2 f'' + ...: an "
        "error proportional to h, O(h). In (f(x + h) - f(x - h)) / 2h the h^2 terms cancel "
        "and the error is h^2/6 f''' + ...: O(h^2). For e^x at 0 every derivative is 1, so "
        "the errors should be h/2 and h^2/6, and they are. On a log-log picture an error "
        f"~ h^p is a line of slope p: fitted over h from {FIT[0]:g} to {FIT[1]:g}, the slopes "
        f"are {slopes[0]:.3f} and {slopes[1]:.3f}. Divide h by 10 and the one-sided error "
        "falls 10 times, the central one 100 times. Below that, rounding takes over: the two "
        "values subtracted agree in more and more digits, and float64's relative error of "
        f"about 1e-16 (its unit roundoff, {np.finfo(np.float64).eps / 2:.2g}), divided by h, "
        "grows as h shrinks. The smallest errors are at h = "
        f"{best[0]:.1e} (one-sided) and {best[1]:.1e} (central); the slide's {SLIDE_H:g} is "
        "a safe middle for both."
    )

    # ---- part four: the gradient check ----------------------------------------------------------
    one_rel = relative_error(analytic, one_sided)
    central_rel = relative_error(analytic, central)
    check = lesson.table(
        "The gradient check: relative error |a - n| / max(|a|, |n|) against ds.grad",
        ["dimension", "one-sided", "verdict", "central", "verdict"],
    )
    for i in range(w0.size):
        check.add(
            i + 1,
            float(one_rel.flat[i]),
            verdict(float(one_rel.flat[i])),
            float(central_rel.flat[i]),
            verdict(float(central_rel.flat[i])),
        )
    lesson.say(
        "The slide's advice: derive the analytic gradient, and check the implementation with "
        "the numerical one, the gradient check. It compares them through the relative error, "
        f"below {OK:g} 'ok', above {WRONG:g} 'wrong', between 'suspicious' (the thresholds of "
        f"the gradient-check lesson). With the one-sided difference the largest relative "
        f"error is {float(one_rel.max()):.1e}, the size of its O(h) error, and a correct "
        "gradient can look suspicious; with the central difference it is "
        f"{float(central_rel.max()):.1e}. That is why a gradient check takes central "
        "differences in float64. descent lesson gradient-check runs the check on a whole "
        "classifier and shows what a buggy backward pass looks like."
    )
    lesson.results = {
        "lecture": {"deck": DECK, "slides": SLIDES, "lines": LINES},
        "slide": {
            "w": SLIDE_W,
            "h": SLIDE_H,
            "loss": SLIDE_LOSS,
            "nudged": SLIDE_NUDGED,
            "quotients": SLIDE_QUOTIENTS,
            "recomputed": recomputed,
            "differences": [round(n - SLIDE_LOSS, 9) + 0.0 for n in SLIDE_NUDGED],
            "decimals": DECIMALS,
            "half_unit": half,
            "difference_half_range": 2 * half,
            "quotient_half_range": spread,
            "first_range": [recomputed[0] - spread, recomputed[0] + spread],
        },
        "slide_checks": [
            {"line": line, "slide": shown, "ours": value, "verdict": "MATCH"}
            for line, shown, value in zip((798, 879, 962), SLIDE_QUOTIENTS, recomputed)
        ],
        "walk": {
            "x": EXAMPLES,
            "classes": CLASSES,
            "w": w0.tolist(),
            "loss": base,
            "h": SLIDE_H,
            "error_ratio": one_error / central_error,
            "nudged": nudged,
            "one_sided": one_sided.tolist(),
            "central": central.tolist(),
            "analytic": analytic.tolist(),
            "one_sided_error": one_error,
            "central_error": central_error,
            "evaluations": {"one_sided": cost_one, "central": cost_central},
        },
        "errors": {
            "function": "e^x at x = 0",
            "steps": STEPS,
            "fit_window": list(FIT),
            "one_sided": one_errors,
            "central": central_errors,
            "slopes": list(slopes),
            "best_h": list(best),
            "fall_per_tenth_of_h": {"one_sided": 10, "central": 100},
            "unit_roundoff": float(np.finfo(np.float64).eps / 2),
        },
        "check": {
            "ok": OK,
            "wrong": WRONG,
            "one_sided": one_rel.tolist(),
            "central": central_rel.tolist(),
            "one_sided_max": float(one_rel.max()),
            "central_max": float(central_rel.max()),
        },
    }
    lesson.say(
        "descent lesson numerical-gradient --plot DIR draws both errors against h on log-log "
        "axes, with Taylor's h/2 and h^2/6 and the rounding error."
    )
    lesson.figure(
        "numerical-gradient-errors.png", _draw_errors(STEPS, one_errors, central_errors, slopes)
    )
    return lesson
