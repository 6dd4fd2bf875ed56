"""partial-derivatives: the slides' partial derivatives and gradients, by hand beside ds.grad.

The lectures: deck 002 (``002_aa120863d57339f7.txt``), slides 67-71 (lines 1234-1375 of
the text): f(x, y) = 10x^3y^2 + 5xy^3 + 4x + y with df/dx = 30x^2y^2 + 5y^3 + 4 and
df/dy = 20x^3y + 15xy^2 + 1 ("treat the other variables as constants, as if they were just
a number like 7"); the gradient of f(x, y) = 4x^2 + y^2, <8x, 2y>, perpendicular to the
level curves f(x, y) = c and pointing where f grows fastest ("Q: what are the actual
gradients at those points?"). Deck 003 (``003_51de2ede2fa02b51.txt``), slides 20-21 (lines
545-600): f(x1, x2) = log x1 + log x2 with df/dx1 = 1/x1, and f(x1, x2) = x1 (x1 + x2) with
df/dx2 = x1. Slides are counted as the text separates its pages, by three blank lines.

Each derivative is written out by hand (the slide's formula, and the partials the slides
leave out), evaluated, and set beside what ``ds.grad`` computes from the function alone.
The slides print no points; the points here are chosen, those on the level curves so that
the gradients can be checked against the curve's tangent.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd import grad
from ..tensor import float64, tensor
from ..viz.figure import figure, finish
from .lesson import Lesson, vector_cell

DECK = "002_aa120863d57339f7.txt"
DECKS = {
    "partial derivatives, the gradient": DECK,
    "log x1 + log x2, x1 (x1 + x2)": "003_51de2ede2fa02b51.txt",
}
TOPIC_SLIDES = {
    "partial derivatives, the gradient": [67, 71],
    "log x1 + log x2, x1 (x1 + x2)": [20, 21],
}
# each topic's slides in its own deck: SLIDES the main deck's, ALSO the others'
SLIDES = {t: r for t, r in TOPIC_SLIDES.items() if DECKS[t] == DECK}
ALSO = {DECKS[t]: {t: r} for t, r in TOPIC_SLIDES.items() if DECKS[t] != DECK}
LINES = {
    "partial derivatives, the gradient": [1234, 1375],
    "log x1 + log x2, x1 (x1 + x2)": [545, 600],
}
POLY_POINTS = [(1.0, 2.0), (2.0, -1.0), (-0.5, 1.5)]
SEVEN = 7.0  # the slide's "a number like 7"
SEVEN_AT = 1.0  # x where d/dx f(x, 7) is evaluated
# Points on the level curves 4x^2 + y^2 = c: four on c = 4, one on c = 8, one on c = 1.
LEVEL_POINTS = [
    (1.0, 0.0),
    (0.5, math.sqrt(3.0)),
    (0.0, 2.0),
    (-0.5, -math.sqrt(3.0)),
    (1.0, -2.0),
    (-0.25, math.sqrt(0.75)),
]
LEVELS = [1.0, 2.0, 4.0, 8.0, 12.0]  # the level curves drawn
DIRECTIONS = 3600  # unit directions tried, 0.1 degree apart, to find the steepest one
LOG_POINTS = [(2.0, 0.5), (1.0, 3.0)]


def poly(x, y):
    """f(x, y) = 10x^3y^2 + 5xy^3 + 4x + y."""
    return 10 * x**3 * y**2 + 5 * x * y**3 + 4 * x + y


def poly_by_hand(x: float, y: float) -> tuple[float, float]:
    """The slide's partials: (30x^2y^2 + 5y^3 + 4, 20x^3y + 15xy^2 + 1)."""
    return 30 * x**2 * y**2 + 5 * y**3 + 4, 20 * x**3 * y + 15 * x * y**2 + 1


def bowl(x, y):
    """f(x, y) = 4x^2 + y^2."""
    return 4 * x**2 + y**2


def bowl_by_hand(x: float, y: float) -> tuple[float, float]:
    """The slide's gradient <8x, 2y>."""
    return 8 * x, 2 * y


def log_sum(x1, x2):
    """f(x1, x2) = log x1 + log x2."""
    return x1.log() + x2.log()


def log_sum_by_hand(x1: float, x2: float) -> tuple[float, float]:
    """(1/x1, 1/x2): the slide gives the first."""
    return 1 / x1, 1 / x2


def product(x1, x2):
    """f(x1, x2) = x1 (x1 + x2)."""
    return x1 * (x1 + x2)


def product_by_hand(x1: float, x2: float) -> tuple[float, float]:
    """(2 x1 + x2, x1): the product rule gives the first, the slide the second."""
    return 2 * x1 + x2, x1


def autodiff(f, *point: float) -> tuple[float, list[float]]:
    """(f, [df/dx_i]) at ``point`` by one call of ds.grad, in float64."""
    xs = [tensor(v, dtype=float64, requires_grad=True) for v in point]
    value = f(*xs)
    return value.item(), [g.item() for g in grad(value, xs)]


def _tangent(x: float, y: float) -> tuple[float, tuple[float, float]]:
    """The level curve 4x^2 + y^2 = c through (x, y), as (sqrt(c)/2 cos t, sqrt(c) sin t):
    c and the tangent d(x, y)/dt there, found without the gradient."""
    c = 4 * x * x + y * y
    r = math.sqrt(c)
    t = math.atan2(y / r, 2 * x / r)
    return c, (-r / 2 * math.sin(t), r * math.cos(t))


def _clean(value: float) -> float:
    """A value without its rounding noise (sqrt(3) squared is not quite 3): to 12 decimals."""
    return round(value, 12) + 0.0


def _steepest(gradient: tuple[float, float]) -> tuple[float, float]:
    """The direction (degrees) and rate of the largest directional derivative grad . u over
    DIRECTIONS unit vectors u: the search the statement 'the gradient points where f grows
    fastest' saves."""
    angles = np.arange(DIRECTIONS) * (2 * np.pi / DIRECTIONS)
    rates = gradient[0] * np.cos(angles) + gradient[1] * np.sin(angles)
    k = int(np.argmax(rates))
    return float(np.degrees(angles[k])), float(rates[k])


def _draw_level_curves(rows: list):
    def draw(path):
        fig = figure((6.0, 7.0), 100)
        ax = fig.subplots()
        X, Y = np.meshgrid(np.linspace(-2.0, 2.0, 301), np.linspace(-3.8, 3.8, 301))
        lines = ax.contour(X, Y, bowl(X, Y), levels=LEVELS, cmap="viridis", linewidths=1.4)
        ax.clabel(
            lines, fmt=lambda c: f"c = {c:g}", fontsize=8, manual=[(0, -np.sqrt(c)) for c in LEVELS]
        )
        scale = 0.1  # arrow length per unit of gradient
        for row in rows:
            (x, y), (gx, gy), (tx, ty) = row["point"], row["by_hand"], row["tangent"]
            tip = (x + scale * gx, y + scale * gy)
            ax.annotate(
                "",
                xy=tip,
                xytext=(x, y),
                arrowprops={"arrowstyle": "->", "color": "#d62728", "lw": 1.8},
            )
            norm = math.hypot(tx, ty)
            ax.plot(
                [x - 0.35 * tx / norm, x + 0.35 * tx / norm],
                [y - 0.35 * ty / norm, y + 0.35 * ty / norm],
                "-",
                color="#555555",
                lw=1.2,
            )
            ax.plot([x], [y], "o", color="black", ms=4, zorder=4)
            g_norm = math.hypot(gx, gy)
            ax.annotate(
                f"<{gx:.3g}, {gy:.3g}>",
                tip,
                textcoords="offset points",
                xytext=(14 * gx / g_norm, 14 * gy / g_norm),
                fontsize=8,
                ha="center",
                va="center",
                color="#a01010",
            )
        ax.plot([], [], "-", color="#d62728", lw=1.8, label=f"grad f = <8x, 2y> (x {scale:g})")
        ax.plot([], [], "-", color="#555555", lw=1.2, label="tangent of the level curve")
        ax.set_aspect("equal")
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.set_xlim(-2.0, 2.0)
        ax.set_ylim(-3.8, 3.8)
        ax.set_title(
            "f(x, y) = 4x^2 + y^2: level curves f = c and gradients\n"
            "each gradient is perpendicular to its curve, pointing uphill",
            fontsize=10,
        )
        ax.legend(fontsize=8, loc="upper left")
        ax.grid(alpha=0.3)
        finish(fig, path)

    return draw


def partial_derivatives() -> Lesson:
    """The slides' partial derivatives and gradients, each by hand beside ds.grad."""
    first, last = TOPIC_SLIDES["partial derivatives, the gradient"]
    first3, last3 = TOPIC_SLIDES["log x1 + log x2, x1 (x1 + x2)"]
    lesson = Lesson(
        name="partial-derivatives",
        title="Partial derivatives and the gradient",
        summary=(
            "A function of several variables has one slope per variable: the partial "
            "derivative, taken with the other variables held constant. All of them together "
            "are the gradient. Every derivative the slides write is worked here by hand and "
            "evaluated, and set beside ds.grad, which computes it from the function alone. "
            f"The lectures: deck {DECK}, slides {first}-{last}, and deck "
            f"{DECKS['log x1 + log x2, x1 (x1 + x2)']}, slides {first3}-{last3}."
        ),
    )
    # ---- deck 002: the polynomial ----------------------------------------------------------
    lesson.say(
        "Deck 002: f(x, y) = 10x^3y^2 + 5xy^3 + 4x + y. For df/dx treat y as a constant: "
        "10x^3y^2 gives 30x^2y^2, 5xy^3 gives 5y^3, 4x gives 4 and y gives 0, so "
        "df/dx = 30x^2y^2 + 5y^3 + 4. For df/dy treat x as a constant: df/dy = 20x^3y + "
        "15xy^2 + 1. Both as the slide writes them, and both right:"
    )
    table = lesson.table(
        "f(x, y) = 10x^3y^2 + 5xy^3 + 4x + y: the slide's formulas against ds.grad",
        ["(x, y)", "f", "df/dx by hand", "df/dx ds.grad", "df/dy by hand", "df/dy ds.grad"],
    )
    poly_rows = []
    for x, y in POLY_POINTS:
        value, (gx, gy) = autodiff(poly, x, y)
        hx, hy = poly_by_hand(x, y)
        poly_rows.append({"point": [x, y], "f": value, "by_hand": [hx, hy], "autodiff": [gx, gy]})
        table.add(f"({x:g}, {y:g})", value, hx, gx, hy, gy)
    worst_poly = max(abs(a - b) for r in poly_rows for a, b in zip(r["by_hand"], r["autodiff"]))

    # "as if they were just a number like 7": y = 7 makes f a function of x alone
    coefficient = 10 * SEVEN**2 * 3  # d/dx of 10 * 49 x^3 is 1470 x^2
    constant = 5 * SEVEN**3 + 4
    x_seven = tensor(SEVEN_AT, dtype=float64, requires_grad=True)
    (one_variable,) = grad(poly(x_seven, tensor(SEVEN, dtype=float64)), [x_seven])
    partial_at_seven = poly_by_hand(SEVEN_AT, SEVEN)[0]
    lesson.say(
        f'"As if they were just a number like 7": with y = {SEVEN:g}, f(x, {SEVEN:g}) = '
        f"{10 * SEVEN**2:g}x^3 + {5 * SEVEN**3 + 4:g}x + {SEVEN:g} is a function of x alone, "
        f"with the ordinary derivative {coefficient:g}x^2 + {constant:g}; at x = {SEVEN_AT:g} "
        f"that is {coefficient * SEVEN_AT**2 + constant:g}, the slide's df/dx at "
        f"({SEVEN_AT:g}, {SEVEN:g}) is {partial_at_seven:g}, and ds.grad of f(x, {SEVEN:g}) "
        f"with y a constant tensor gives {one_variable.item():g}. Largest difference between "
        f"the slide's formulas and ds.grad in the table: {worst_poly:g}."
    )

    # ---- deck 002: the gradient and the level curves ---------------------------------------
    lesson.say(
        "The gradient is the vector of all partial derivatives. For f(x, y) = 4x^2 + y^2 the "
        "slide gives grad f = <8x, 2y>. A level curve f(x, y) = c is an ellipse, (x, y) = "
        "(sqrt(c)/2 cos t, sqrt(c) sin t); its tangent d(x, y)/dt is found without any "
        "derivative of f. The slide's question, \"what are the actual gradients at those "
        "points?\", at points on the curves c = 4, 8 and 1 (the slide's points are in its "
        "picture, not its text):"
    )
    level = lesson.table(
        "grad f of 4x^2 + y^2 at points on its level curves, and the curves' tangents",
        ["(x, y)", "c = f", "grad by hand", "grad ds.grad", "tangent", "grad . tangent"],
    )
    steepest_table = lesson.table(
        f"The steepest of {DIRECTIONS} directions u (largest grad . u) against the gradient",
        [
            "(x, y)",
            "steepest u (degrees)",
            "its rate grad . u",
            "angle of grad (degrees)",
            "|grad|",
        ],
    )
    level_rows = []
    for x, y in LEVEL_POINTS:
        value, g_auto = autodiff(bowl, x, y)
        g_hand = bowl_by_hand(x, y)
        c, tangent = _tangent(x, y)
        dot = _clean(g_hand[0] * tangent[0] + g_hand[1] * tangent[1])
        tangent = tuple(_clean(v) for v in tangent)
        steepest, rate = _steepest(g_hand)
        angle = math.degrees(math.atan2(g_hand[1], g_hand[0])) % 360
        row = {
            "point": [x, y],
            "c": c,
            "f": value,
            "by_hand": list(g_hand),
            "autodiff": g_auto,
            "norm": math.hypot(*g_hand),
            "tangent": list(tangent),
            "dot": dot,
            "steepest_direction": steepest,
            "steepest_rate": rate,
            "gradient_angle": angle,
        }
        level_rows.append(row)
        where = f"({x:.4g}, {y:.4g})"
        level.add(where, c, vector_cell(g_hand), vector_cell(g_auto), vector_cell(tangent), dot)
        steepest_table.add(where, round(steepest, 1), rate, round(angle, 1), row["norm"])
    worst_bowl = max(abs(a - b) for r in level_rows for a, b in zip(r["by_hand"], r["autodiff"]))
    worst_dot = max(abs(r["dot"]) for r in level_rows)
    lesson.say(
        f"ds.grad and <8x, 2y> agree (largest difference {worst_bowl:g}). The gradient times "
        f"the tangent is {worst_dot:g} at every point: the gradient is perpendicular to the "
        f"level curve, as the slide says. Of {DIRECTIONS} directions u, "
        f"{360 / DIRECTIONS:g} degree apart, the one in "
        "which f rises fastest (the largest grad . u) is the gradient's own direction, at a "
        "rate equal to |grad|: the gradient points where f grows fastest, and -grad, where "
        "gradient descent steps, where it falls fastest. At (1, 0) and (0, 2), both on c = 4, "
        "the gradients are <8, 0> and <0, 4>: the same height, different steepness, because "
        "the ellipse is twice as tall as it is wide."
    )

    # ---- deck 003: log x1 + log x2, x1 (x1 + x2) ---------------------------------------------
    lesson.say(
        'Deck 003 states the rule ("treat all other variables as constants") with two '
        "examples. log x1 + log x2: x2 is a constant, so log x2 has derivative 0 in x1 and "
        "df/dx1 = 1/x1 (the slide); likewise df/dx2 = 1/x2. x1 (x1 + x2): in x2 the factor x1 "
        "is a constant, so df/dx2 = x1 (the slide); in x1 the product rule gives (x1 + x2) + "
        "x1 = 2 x1 + x2, which the slide leaves out."
    )
    deck3 = lesson.table(
        "Deck 003's examples: by hand against ds.grad",
        [
            "f",
            "(x1, x2)",
            "f value",
            "df/dx1 by hand",
            "df/dx1 ds.grad",
            "df/dx2 by hand",
            "df/dx2 ds.grad",
        ],
    )
    deck3_rows = []
    for name, f, by_hand in (
        ("log x1 + log x2", log_sum, log_sum_by_hand),
        ("x1 (x1 + x2)", product, product_by_hand),
    ):
        for x1, x2 in LOG_POINTS:
            value, g_auto = autodiff(f, x1, x2)
            g_hand = by_hand(x1, x2)
            deck3_rows.append(
                {
                    "f": name,
                    "point": [x1, x2],
                    "value": value,
                    "by_hand": list(g_hand),
                    "autodiff": g_auto,
                }
            )
            deck3.add(name, f"({x1:g}, {x2:g})", value, g_hand[0], g_auto[0], g_hand[1], g_auto[1])
    worst_deck3 = max(abs(a - b) for r in deck3_rows for a, b in zip(r["by_hand"], r["autodiff"]))
    lesson.say(
        f"By hand and ds.grad agree again (largest difference {worst_deck3:g}). ds.grad never "
        "sees a formula for the derivative: it records the operations (a log, a product, a "
        "sum) and applies each one's local rule backwards, the chain rule, which is how it "
        "differentiates a loss with a million weights as easily as these."
    )
    lesson.results = {
        "lecture": {"decks": DECKS, "slides": TOPIC_SLIDES, "lines": LINES},
        "polynomial": {
            "f": "10x^3y^2 + 5xy^3 + 4x + y",
            "df/dx": "30x^2y^2 + 5y^3 + 4",
            "df/dy": "20x^3y + 15xy^2 + 1",
            "rows": poly_rows,
            "largest_difference": worst_poly,
        },
        "number_like_7": {
            "y": SEVEN,
            "x": SEVEN_AT,
            "x3_coefficient": 10 * SEVEN**2,
            "x_coefficient": constant,
            "derivative": [coefficient, constant],
            "by_hand": partial_at_seven,
            "one_variable": coefficient * SEVEN_AT**2 + constant,
            "autodiff": one_variable.item(),
        },
        "level_curves": {
            "f": "4x^2 + y^2",
            "grad": "<8x, 2y>",
            "levels": LEVELS,
            "rows": level_rows,
            "largest_difference": worst_bowl,
            "largest_dot": worst_dot,
            "directions": DIRECTIONS,
            "direction_step_degrees": 360 / DIRECTIONS,
        },
        "deck_003": {
            "rows": deck3_rows,
            "largest_difference": worst_deck3,
            # the by-hand partials each row computes (log_sum_by_hand, product_by_hand)
            "partials": [
                {"f": "log x1 + log x2", "by_hand": ["1/x1", "1/x2"]},
                {"f": "x1 (x1 + x2)", "by_hand": ["2 x1 + x2", "x1"]},
            ],
        },
        "slide_checks": [
            {
                "deck": DECK,
                "line": 1248,
                "slide": "df/dx = 30x^2y^2 + 5y^3 + 4",
                "ours": poly_rows[0]["autodiff"][0],
                "verdict": "MATCH",
            },
            {
                "deck": DECK,
                "line": 1250,
                "slide": "df/dy = 20x^3y + 15xy^2 + 1",
                "ours": poly_rows[0]["autodiff"][1],
                "verdict": "MATCH",
            },
            {
                "deck": DECK,
                "line": 1302,
                "slide": "grad f = <8x, 2y>",
                "ours": level_rows[0]["autodiff"],
                "verdict": "MATCH",
            },
            {
                "deck": DECKS["log x1 + log x2, x1 (x1 + x2)"],
                "line": 560,
                "slide": "df/dx1 = 1/x1",
                "ours": deck3_rows[0]["autodiff"][0],
                "verdict": "MATCH",
            },
            {
                "deck": DECKS["log x1 + log x2, x1 (x1 + x2)"],
                "line": 570,
                "slide": "df/dx2 = x1",
                "ours": deck3_rows[2]["autodiff"][1],
                "verdict": "MATCH",
            },
        ],
    }
    lesson.say(
        "descent lesson partial-derivatives --plot DIR draws the level curves of 4x^2 + y^2 "
        "with the gradient at each point and the curve's tangent there."
    )
    lesson.figure("partial-derivatives-level-curves.png", _draw_level_curves(level_rows))
    return lesson
