"""learning-rate: too low, good, too high (bouncing), far too high (diverging), on one loss.

The loss is the gravity lesson's L(a) = sum_i (y_i - a x_i)^2, a parabola with its minimum
at a = 9.8. Every run starts at a = 8 and takes the same number of steps. The lectures: deck
001 (``001_06db21ae3b045989.txt``) slides 59-69 (a := a - gamma dL/da, "gamma chosen by us",
gamma = 0.003), deck 002 slides 56-59 and 72 (too high a rate bounces around and overshoots,
too low a rate takes many steps) and deck 000 slide 6 (a bigger and a smaller alpha).
"""

from __future__ import annotations

from .. import viz
from .gravity import A0, A_STAR, _descend, _loss_and_slope, loss_curve
from .lesson import Lesson

DECK = "001_06db21ae3b045989.txt"
SLIDES = {"a := a - gamma dL/da, gamma chosen by us, gamma = 0.003": [59, 69]}
ALSO = {
    "002_aa120863d57339f7.txt": {
        "the learning rate: too high bounces, too low is slow": [56, 59],
        "high and low learning rates on the gradient descent algorithm": [72, 72],
    },
    "000_3ab0e19925976932.txt": {"adjusting the learning rate: bigger and smaller alpha": [6, 6]},
}
STEPS = 12
# (learning rate, what the lecture calls it); 1/L'' is added at run time.
RATES = [0.0002, 0.003, 0.0075, 0.009]
CLOSE = 1e-3  # "good": within this of 9.8 after STEPS steps
LANDED = 1e-12  # a run stops early once it is this close to 9.8


def _verdict(distances: list[float]) -> str:
    """Name a run from its distances a_k - 9.8: diverging, bouncing, slow or good."""
    first, last = abs(distances[0]), abs(distances[-1])
    bounces = any(d0 * d1 < 0 for d0, d1 in zip(distances, distances[1:]))
    if len(distances) == 2 and last < LANDED:
        return "ideal: lands on the minimum in one step"
    if last >= first:
        return "too high: bounces and diverges"
    if bounces and last >= CLOSE:
        return "too high: bounces, converges slowly"
    if bounces:
        return "high: bounces, but converges"
    if last >= CLOSE:
        return "too low: slow"
    return "good"


def _draw_rates(runs: list):
    def draw(path):
        fig = viz.plot_learning_rates(
            loss_curve,
            runs=[(run["lr"], run["path"]["a"]) for run in runs],
            title=f"The same loss, the same start (a = {A0:g}), {STEPS} steps: five learning rates",
        )
        for ax, run in zip(fig.axes, runs):
            ax.set_xlabel("a")
            ax.set_title(f"{ax.get_title()}\n{run['verdict']}", fontsize=9)
        fig.axes[0].set_ylabel("L(a)")
        fig.savefig(path, dpi=fig.dpi)

    return draw


def learning_rate() -> Lesson:
    """Gradient descent on one parabola with learning rates too low, good and too high."""
    lesson = Lesson(
        name="learning-rate",
        title="Choosing the learning rate",
        summary=(
            "The same loss, the same start, the same number of steps; only the learning rate "
            "changes. The loss is the gravity example's L(a) = sum_i (y_i - a x_i)^2, whose "
            f"minimum is at a = 9.8; every run starts at a = {A0:g} and takes {STEPS} steps "
            "of a := a - lr * dL/da (the learning rate lr is deck 001's gamma, deck 000's "
            f"alpha). The lectures: deck {DECK}, slides 59-69 (gamma = 0.003); deck "
            "002_aa120863d57339f7.txt, slides 56-59 and 72 (too high bounces around, too low "
            "takes many steps); deck 000_3ab0e19925976932.txt, slide 6 (a bigger and a "
            "smaller alpha)."
        ),
    )
    # The curvature L'' from two autodiff slopes: exact, since the slope is a straight line.
    a_left, a_right = 8.0, 11.5
    curvature = (_loss_and_slope(a_right)[1] - _loss_and_slope(a_left)[1]) / (a_right - a_left)
    lesson.say(
        "The slope of a parabola is a straight line: dL/da = L'' (a - 9.8), with curvature "
        f"L'' = {curvature:g} (from the slopes at {a_left:g} and {a_right:g}). So one step "
        "gives a - 9.8 := (1 - lr L'') (a - 9.8): every step multiplies the distance to the "
        "minimum by the factor 1 - lr L''. A factor between 0 and 1 walks in; between -1 and "
        "0 it jumps across the valley each time but still closes in; below -1 every jump "
        "lands farther out. The best rate is lr = 1/L'', which lands on 9.8 in one step; "
        f"above 2/L'' = {2 / curvature:.6f} it diverges."
    )
    rates = RATES[:2] + [1.0 / curvature] + RATES[2:]
    runs = []
    for lr in rates:
        path = _descend(A0, lr, STEPS, tolerance=LANDED)
        distances = [a - A_STAR for a in path["a"]]
        verdict = _verdict(distances)
        title = f"Learning rate {lr:.6g} (lr * L'' = {lr * curvature:.4g}): {verdict}"
        table = lesson.table(title, ["step", "a", "L(a)", "dL/da", "a - 9.8"])
        for k, (a, loss, slope) in enumerate(zip(path["a"], path["loss"], path["slope"])):
            table.add(k, a, loss, slope, a - A_STAR)
        runs.append({"lr": lr, "path": path, "distance": distances, "verdict": verdict})
    summary = lesson.table(
        "The verdicts",
        ["lr", "lr * L''", "factor 1 - lr L''", "steps", "final |a - 9.8|", "verdict"],
    )
    for run in runs:
        lr, distance = run["lr"], run["distance"]
        factor = 1 - lr * curvature
        summary.add(
            lr, lr * curvature, factor, len(distance) - 1, abs(distance[-1]), run["verdict"]
        )
    slow = runs[0]["distance"]
    covered = 1 - slow[-1] / slow[0]
    lesson.say(
        f"Too low a rate is safe but slow: in {STEPS} steps lr = {runs[0]['lr']:g} covered "
        f"only {covered:.0%} of the way. Too high a rate overshoots: the guess bounces "
        "from one side of the valley to the other, and beyond 2/L'' each bounce is bigger "
        "than the last and the loss grows without bound. In practice one tries rates a "
        "factor of 3 or 10 apart and keeps the largest one whose loss still falls steadily."
    )
    lesson.results = {
        "lecture": {"deck": DECK, "slides": SLIDES, "also": ALSO},
        "slopes_at": {
            f"{a_left:g}": _loss_and_slope(a_left)[1],
            f"{a_right:g}": _loss_and_slope(a_right)[1],
        },  # fmt: skip
        "verdicts": [
            {
                "lr": r["lr"],
                "lr_times_curvature": r["lr"] * curvature,
                "factor": 1 - r["lr"] * curvature,
                "steps": len(r["distance"]) - 1,
                "final_distance": abs(r["distance"][-1]),
            }
            for r in runs
        ],  # fmt: skip
        "covered": covered,
        "loss": "summed squared error of the gravity lesson: L(a) = sum((y - a x)^2)",
        "a0": A0,
        "steps": STEPS,
        "curvature": curvature,
        "best_lr": 1.0 / curvature,
        "max_lr": 2.0 / curvature,
        "runs": runs,
    }
    lesson.say("descent lesson learning-rate --plot DIR draws the five runs side by side.")
    lesson.figure("learning-rate-runs.png", _draw_rates(runs))
    return lesson
