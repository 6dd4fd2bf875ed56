"""search-methods: random search and a genetic search beside gradient descent, on one loss.

The lecture: deck 004 (``004_feeceb0db53be35a.txt``), slide 30 (lines 579-589: "given a
model and loss function, finding the best set of weights is a search problem ... random
search, genetic algorithms (population-based search), gradient-based optimization; in deep
learning, gradient-based methods are dominant"). Slides are counted as the text separates
its pages, by three blank lines.

The loss is the curvature lesson's J(w, b) = sum_i (w x_i + b - y_i)^2 on the gravity data
(its minimum 0 at w = 9.8, b = 0). Each method runs until J <= TARGET, seeded, and is
charged one evaluation per loss it computes (gradient descent: one loss and its gradient
per step).
"""

from __future__ import annotations

import numpy as np

from ..optim import GradientDescent
from ..tensor import float64, tensor
from ..viz.figure import figure, finish
from .curvature import LR_2D, START, line_loss
from .gravity import X, Y
from .lesson import Lesson

DECK = "004_feeceb0db53be35a.txt"
SLIDES = {"finding the weights is a search problem": [30, 30]}
TARGET = 0.1
SEED = 0
BOX = ((0.0, 20.0), (-10.0, 10.0))  # where random search and the first generation look
BUDGET = 200_000  # evaluations at most, for each method
POPULATION, PARENTS, SPREAD, SHRINK = 20, 5, 2.0, 0.85


def losses(points: np.ndarray) -> np.ndarray:
    """J at each row (w, b) of ``points``, in NumPy: the same sum as ``line_loss``."""
    w, b = points[:, :1], points[:, 1:]
    return np.sum((w * np.asarray(X) + b - np.asarray(Y)) ** 2, axis=1)


def random_search(seed: int = SEED) -> dict:
    """Draw (w, b) uniformly in BOX, one at a time, until J <= TARGET."""
    rng = np.random.default_rng(seed)
    (w_lo, w_hi), (b_lo, b_hi) = BOX
    best, best_loss, trace = None, np.inf, []
    for count in range(1, BUDGET + 1):
        point = np.array([rng.uniform(w_lo, w_hi), rng.uniform(b_lo, b_hi)])
        loss = float(losses(point[None])[0])
        if loss < best_loss:
            best, best_loss = point, loss
            trace.append((count, loss))
        if loss <= TARGET:
            break
    return {"evaluations": count, "point": best.tolist(), "loss": best_loss, "trace": trace}


def genetic_search(seed: int = SEED) -> dict:
    """Keep the PARENTS best of each generation; their children are copies plus noise whose
    spread shrinks by SHRINK every generation (mutation without crossover)."""
    rng = np.random.default_rng(seed)
    (w_lo, w_hi), (b_lo, b_hi) = BOX
    population = np.column_stack([rng.uniform(w_lo, w_hi, POPULATION),
                                  rng.uniform(b_lo, b_hi, POPULATION)])  # fmt: skip
    spread, count, generation, trace = SPREAD, 0, 0, []
    while count < BUDGET:
        scores = losses(population)
        count += POPULATION
        generation += 1
        order = np.argsort(scores)
        trace.append((count, float(scores[order[0]])))
        if scores[order[0]] <= TARGET:
            break
        parents = population[order[:PARENTS]]
        children = parents[rng.integers(0, PARENTS, POPULATION - PARENTS)]
        children = children + rng.normal(0.0, spread, children.shape)
        population = np.vstack([parents, children])
        spread *= SHRINK
    return {"evaluations": count, "generations": generation,
            "point": population[order[0]].tolist(), "loss": float(scores[order[0]]),
            "trace": trace}  # fmt: skip


def gradient_descent() -> dict:
    """GradientDescent from START at the curvature lesson's rate, until J <= TARGET."""
    x, y = tensor(X, dtype=float64), tensor(Y, dtype=float64)
    w, b = (tensor(v, dtype=float64, requires_grad=True) for v in START)
    optimizer = GradientDescent([w, b], lr=LR_2D)
    trace = []
    for count in range(1, BUDGET + 1):
        optimizer.zero_grad()
        loss = line_loss(w, b, x, y)
        trace.append((count, loss.item()))
        if loss.item() <= TARGET:
            break
        loss.backward()
        optimizer.step()
    return {"evaluations": count, "point": [w.item(), b.item()], "loss": loss.item(),
            "trace": trace}  # fmt: skip


def _draw_traces(runs: dict):
    def draw(path):
        fig = figure((7, 4.2), 100)
        ax = fig.subplots()
        for name, run in runs.items():
            counts, values = zip(*run["trace"])
            ax.step(counts, values, where="post", lw=1.8, label=f"{name}: {run['evaluations']}")
        ax.axhline(TARGET, color="black", ls="--", lw=1, label=f"target J = {TARGET:g}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("evaluations of the loss")
        ax.set_ylabel("best J so far")
        ax.set_title("Three searches for the weights of y = w x + b")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8, title="evaluations to the target", title_fontsize=8)
        finish(fig, path)

    return draw


def search_methods() -> Lesson:
    """Evaluations of J(w, b) that random, genetic and gradient search need to reach J <= 0.1."""
    lesson = Lesson(
        name="search-methods",
        title="Finding the weights: random search, genetic search, gradient descent",
        summary=(
            "Deck 004 (slide 30) calls training a search problem, names three classes of "
            "methods (random search, genetic algorithms, gradient-based optimisation) and says "
            "gradient-based ones dominate. Here all three search for (w, b) of y = w x + b on "
            "the gravity data, J(w, b) = sum_i (w x_i + b - y_i)^2, until J <= "
            f"{TARGET:g}, and each is charged for every loss it computes (seed {SEED}). "
            f"The lecture: deck {DECK}."
        ),
    )
    runs = {
        "random search": random_search(),
        "genetic search": genetic_search(),
        "gradient descent": gradient_descent(),
    }
    table = lesson.table(
        f"Evaluations of J to reach J <= {TARGET:g}",
        ["method", "evaluations", "w", "b", "J there"],
    )
    for name, run in runs.items():
        table.add(name, run["evaluations"], run["point"][0], run["point"][1], run["loss"])
    random, genetic, gd = runs["random search"], runs["genetic search"], runs["gradient descent"]
    (w_lo, w_hi), (b_lo, b_hi) = BOX
    lesson.say(
        f"Random search draws w in [{w_lo:g}, {w_hi:g}] and b in [{b_lo:g}, {b_hi:g}] "
        "uniformly and keeps the best: it knows nothing of where the last good point was, "
        f"and needed {random['evaluations']} draws to land in the narrow valley where J <= "
        f"{TARGET:g}. The genetic search keeps the {PARENTS} best of a population of "
        f"{POPULATION}, and makes the next generation from them by adding noise (spread "
        f"{SPREAD:g}, shrinking by {SHRINK:g} a generation): it reached the target in "
        f"{genetic['generations']} generations, {genetic['evaluations']} evaluations. "
        f"Gradient descent from ({START[0]:g}, {START[1]:g}) at rate {LR_2D:g} needed "
        f"{gd['evaluations']} evaluations, each a loss with its gradient (a backward pass "
        "costs about as much as the forward one)."
    )
    lesson.say(
        "With two weights the searches are not hopeless. But a random point lands in the "
        "good region with a probability that shrinks like its volume, exponentially in the "
        "number of weights, and a population must grow with it too; the gradient points the "
        "way in every dimension at once, at the cost of one backward pass. That is why deep "
        "learning, with millions of weights, searches by gradient."
    )
    lesson.results.update(
        target=TARGET,
        seed=SEED,
        box=[list(BOX[0]), list(BOX[1])],
        start=list(START),
        lr=LR_2D,
        population=POPULATION,
        parents=PARENTS,
        spread=SPREAD,
        shrink=SHRINK,
        runs={name: {k: v for k, v in run.items() if k != "trace"} for name, run in runs.items()},
    )
    lesson.say(
        "descent lesson search-methods --plot DIR draws the best loss each method has found "
        "against the evaluations it has spent."
    )
    lesson.figure("search-methods-traces.png", _draw_traces(runs))
    return lesson
