"""two-parameters: deck 001's four points, its two lines in a, and then theta = {a, b}.

The lecture: deck 001 (``001_06db21ae3b045989.txt``), slides 70-86 (lines 2037-2235 and
2237-2300 of the text): four points (-0.3, 1.9), (-0.2, 1.85), (0.2, 1.85), (0.3, 1.85), b = 2 held
fixed, and the two lines the slides draw as a varies,

    line A:  y^ = -5.5 (a - 0.246) x + b - 0.217      (slides 71-86)
    line B:  y^ = a x + b - 2 a^2                       (slides 73-80)

then theta = {a, b} and theta = {a, b, c, ...} (slides 83-86). Slides are counted as the
text separates its pages, by three blank lines. The slides print no loss values; the loss
is the deck's summed squared error L = sum_i (y^_i - y_i)^2 (as for L(8) ~ 402).

With b = 2, line A's loss is a parabola in a (one minimum); line B's is a quartic with two
minima, near a = +-0.246, the slide's 0.246; line A's offset 0.217 gives its minimum the
depth of line B's shallower one, and its scale -5.5 about the width of that valley's outer
wall (no computation gives -5.5 to the digit: a width chosen by eye). With b free too
(theta = {a, b}) line B has one minimum: b takes up the -2 a^2, and the slice b = 2 is what
cut its curved valley twice.
"""

from __future__ import annotations

import numpy as np

from .. import viz
from ..autograd import grad
from ..optim import GradientDescent
from ..tensor import float64, tensor
from ..viz.figure import figure, finish
from .lesson import Lesson

DECK = "001_06db21ae3b045989.txt"
SLIDES = {"b = 2 and the lines in a": [70, 82], "theta = {a, b}": [83, 86]}
LINES = {"b = 2 and the lines in a": [2037, 2235], "theta = {a, b}": [2237, 2300]}
X = [-0.3, -0.2, 0.2, 0.3]
Y = [1.9, 1.85, 1.85, 1.85]
B = 2.0  # the slides' b, held fixed until theta = {a, b}
SCALE, CENTRE, OFFSET = -5.5, 0.246, 0.217  # line A: y^ = SCALE (a - CENTRE) x + b - OFFSET
CURVE = 2.0  # line B: y^ = a x + b - CURVE a^2
LR, STEPS = 0.02, 100  # gradient descent in a, b = 2
STARTS = [-0.5, -0.1, 0.1, 0.5]  # a at the start of each run
AT = [-0.5, -0.25, 0.0, 0.1, 0.2, 0.246, 0.3, 0.5]  # where the loss table is printed
THETA_STARTS = [(0.5, 2.0), (-0.5, 2.0)]  # (a, b) at the start of the theta = {a, b} runs
THETA_STEPS = 3000
WALL = [0.3, 0.35, 0.4, 0.45]  # a on the outer wall of line B's right-hand valley


def line_a(a, b, x):
    """y^ = -5.5 (a - 0.246) x + b - 0.217."""
    return SCALE * (a - CENTRE) * x + b - OFFSET


def line_b(a, b, x):
    """y^ = a x + b - 2 a^2."""
    return a * x + b - CURVE * a * a


LINE_FUNCTIONS = {"A": line_a, "B": line_b}
FORMULAS = {
    "A": f"y^ = {SCALE:g} (a - {CENTRE:g}) x + b - {OFFSET:g}",
    "B": f"y^ = a x + b - {CURVE:g} a^2",
}


def loss(line: str, a, b=B):
    """L = sum_i (y^_i - y_i)^2 in NumPy, for one (a, b) or arrays of them (for drawing)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    y_hat = LINE_FUNCTIONS[line](a[..., None], b[..., None], np.array(X))
    return np.sum((y_hat - np.array(Y)) ** 2, axis=-1)


def wall_scales(at) -> list[float]:
    """For each a in ``at`` (right of 0.246), the scale s for which line A's loss (its other
    numbers the slide's) equals line B's, b = 2: L_A is sum_xx c^2 + 2 c sum x q + sum q^2
    in its slope c = s (a - 0.246), with q = b - 0.217 - y; its negative root c over
    (a - 0.246)."""
    x, y = np.array(X), np.array(Y)
    q = B - OFFSET - y
    scales = []
    for a in at:
        target = float(loss("B", a))
        qa, qb, qc = x @ x, 2 * (x @ q), q @ q - target
        c = (-qb - np.sqrt(qb * qb - 4 * qa * qc)) / (2 * qa)
        scales.append(float(c / (a - CENTRE)))
    return scales


def _descend(line: str, a0: float, b0: float, lr: float, steps: int, free_b: bool) -> dict:
    """Gradient descent with descent's autodiff and ds.optim.GradientDescent: lists a, b, L."""
    x, y = tensor(X, dtype=float64), tensor(Y, dtype=float64)
    a = tensor(a0, dtype=float64, requires_grad=True)
    b = tensor(b0, dtype=float64, requires_grad=free_b)
    params = [a, b] if free_b else [a]
    optimizer = GradientDescent(params, lr=lr)
    path = {"a": [], "b": [], "loss": []}
    for step in range(steps + 1):
        r = LINE_FUNCTIONS[line](a, b, x) - y
        value = (r * r).sum()
        path["a"].append(a.item())
        path["b"].append(b.item())
        path["loss"].append(value.item())
        if step == steps:
            break
        optimizer.zero_grad()
        value.backward()
        optimizer.step()
    return path


def _slope(line: str, a0: float) -> float:
    """dL/da at a0 (b = 2) by ds.grad."""
    x, y = tensor(X, dtype=float64), tensor(Y, dtype=float64)
    a = tensor(a0, dtype=float64, requires_grad=True)
    r = LINE_FUNCTIONS[line](a, tensor(B, dtype=float64), x) - y
    (g,) = grad((r * r).sum(), [a])
    return g.item()


def polynomial(coefficients, var: str = "a") -> str:
    """'16 a^4 - 1.94 a^2 + 0.03 a + 0.0775' from the coefficients, highest power first."""
    terms = []
    power = len(coefficients) - 1
    for k, c in enumerate(coefficients):
        c, p = float(c), power - k
        if c == 0:
            continue
        body = f"{abs(c):g}" + ("" if p == 0 else f" {var}" if p == 1 else f" {var}^{p}")
        sign = ("-" if c < 0 else "") if not terms else (" - " if c < 0 else " + ")
        terms.append(sign + body)
    return "".join(terms) or "0"


def _clean(value: float) -> float:
    """A value without its rounding noise (-4.9e-16 at a minimum is 0)."""
    return round(value, 12) + 0.0


def _sums() -> dict:
    """The sums the closed forms are made of."""
    x, y = np.array(X), np.array(Y)
    r = y - B
    return {
        "n": len(X),
        "sum_x": float(x.sum()),
        "sum_xx": float(x @ x),
        "sum_xy": float(x @ y),
        "mean_y": float(y.mean()),
        "sum_r": float(r.sum()),
        "sum_rr": float(r @ r),
        "sum_xr": float(x @ r),
        "spread_y": float(np.sum((y - y.mean()) ** 2)),
    }


def _draw_lines(s: dict, a_star: float, minima_b: list, runs: dict):
    def draw(path):
        fig = figure((11, 4.4), 100)
        left, right = fig.subplots(1, 2)
        xs = np.linspace(-0.4, 0.4, 50)
        left.scatter(X, Y, s=40, color="black", zorder=3, label="the four points")
        left.plot(
            xs,
            line_a(a_star, B, xs),
            color="#1f77b4",
            lw=2,
            label=f"line A at its best a = {a_star:.4f}",
        )
        for a, style in zip(minima_b, ("-", "--")):
            left.plot(
                xs, line_b(a, B, xs), style, color="#d62728", lw=1.6, label=f"line B at a = {a:.4f}"
            )
        left.set_xlabel("x")
        left.set_ylabel("y")
        left.set_title("b = 2: the lines at the minima of their losses")
        left.set_ylim(1.6, 2.0)
        left.legend(fontsize=8, loc="lower center", ncol=2)
        left.grid(alpha=0.3)
        grid = np.linspace(-0.6, 0.6, 400)
        right.plot(grid, loss("A", grid), color="#1f77b4", lw=2, label="L(a), line A")
        right.plot(grid, loss("B", grid), color="#d62728", lw=2, label="L(a), line B")
        for (line, _start), run in runs.items():
            colour = "#1f77b4" if line == "A" else "#d62728"
            right.plot(
                run["a"], run["loss"], ".", color=colour, mec="black", mew=0.3, ms=5, zorder=3
            )
            right.plot(
                [run["a"][0]], [run["loss"][0]], "s", color=colour, mec="black", ms=6, zorder=4
            )
            right.plot(
                [run["a"][-1]],
                [run["loss"][-1]],
                "o",
                color="white",
                mec=colour,
                mew=2,
                ms=8,
                zorder=4,
            )
        right.plot([], [], "s", color="grey", mec="black", label="gradient descent: start")
        right.plot([], [], ".", color="grey", mec="black", label=f"each step (lr {LR:g})")
        right.plot(
            [], [], "o", color="white", mec="grey", mew=2, label=f"where it ends ({STEPS} steps)"
        )
        right.set_ylim(0, 0.6)
        right.set_xlabel("a")
        right.set_ylabel("L(a) = sum (y^ - y)^2")
        right.set_title("L(a) with b = 2: one valley (A), two (B)")
        right.legend(fontsize=8, loc="upper center")
        right.grid(alpha=0.3)
        finish(fig, path)

    return draw


def _draw_theta(s: dict, minima_b: list, optimum: tuple, theta_runs: list):
    def draw(path):
        fig = viz.plot_loss_landscape(
            lambda a, b: loss("B", a, b),
            xlim=(-0.6, 0.6),
            ylim=(1.75, 2.45),
            resolution=241,
            log_scale=True,
            xlabel="a",
            ylabel="b",
            title="Line B, y^ = a x + b - 2 a^2, with b free: one curved valley",
            figsize=(7.5, 5.5),
        )
        ax = fig.axes[0]
        floor = np.linspace(-0.6, 0.6, 200)
        ax.plot(
            floor,
            s["mean_y"] + CURVE * floor**2,
            ":",
            color="white",
            lw=1.5,
            label=f"valley floor b = {s['mean_y']:g} + 2 a^2",
        )
        ax.axhline(B, color="#ffbf00", lw=1.5, label=f"the slides' slice b = {B:g}")
        ax.plot(
            minima_b,
            [B, B],
            "o",
            color="#ffbf00",
            mec="black",
            ms=8,
            zorder=5,
            label="line B's two minima in a on it",
        )
        for run in theta_runs:
            ax.plot(run["a"], run["b"], "-", color="#ff5a4e", lw=1.5, zorder=4)
            ax.plot([run["a"][0]], [run["b"][0]], "s", color="#ff5a4e", mec="black", ms=7, zorder=5)
        ax.plot(
            [],
            [],
            "-s",
            color="#ff5a4e",
            mec="black",
            label=f"theta = {{a, b}}: descent, lr {LR:g}, from each square",
        )
        ax.plot(
            [optimum[0]],
            [optimum[1]],
            "*",
            color="white",
            mec="black",
            ms=15,
            zorder=6,
            label=f"the one minimum ({optimum[0]:.4f}, {optimum[1]:.4f})",
        )
        ax.set_ylim(1.75, 2.45)
        ax.legend(fontsize=8, loc="upper center", framealpha=0.9)
        finish(fig, path)

    return draw


def two_parameters() -> Lesson:
    """Deck 001's four points, b = 2: line A's one minimum, line B's two; then theta = {a, b}."""
    first, last = SLIDES["b = 2 and the lines in a"]
    lesson = Lesson(
        name="two-parameters",
        title="Two lines in a, then two parameters",
        summary=(
            "After the gravity example, deck 001 takes four points and holds b = 2 fixed, "
            "so that the loss depends on a alone, and draws two lines whose slope (and, for "
            "the second, intercept) move with a. Their losses in a look very different: one "
            "valley against two. Then the slides free b as well, theta = {a, b}. The lecture: "
            f"deck {DECK}, slides {first}-{last} (b = 2, the lines in a) and "
            f"{SLIDES['theta = {a, b}'][0]}-{SLIDES['theta = {a, b}'][1]} (theta = {{a, b}})."
        ),
    )
    s = _sums()
    data = lesson.table("The slides' four points", ["i", "x", "y", "y - b (b = 2)"])
    for i, (x, y) in enumerate(zip(X, Y)):
        data.add(i + 1, x, y, y - B)
    lesson.say(
        f"The loss is the deck's summed squared error L = sum_i (y^_i - y_i)^2. Line A is "
        f"{FORMULAS['A']}; line B is {FORMULAS['B']}. The sums the closed forms below use: "
        f"sum x = {s['sum_x']:g} (the points are symmetric), sum x^2 = {s['sum_xx']:g}, "
        f"sum x y = {s['sum_xy']:g}, sum (y - 2) = {s['sum_r']:g}, sum (y - 2)^2 = "
        f"{s['sum_rr']:g}, mean y = {s['mean_y']:g}."
    )

    # ---- line A: a parabola in a ---------------------------------------------------------
    c_star = s["sum_xy"] / s["sum_xx"]  # the best slope when the intercept is fixed
    a_star = CENTRE + c_star / SCALE
    intercept_a = B - OFFSET
    loss_a_min = float(np.sum((np.array(Y) - intercept_a) ** 2) - s["sum_xy"] ** 2 / s["sum_xx"])
    lesson.say(
        f"Line A. With b = 2 its intercept is 2 - {OFFSET:g} = {intercept_a:g} whatever a is, "
        f"and a only sets its slope c = {SCALE:g} (a - {CENTRE:g}). The loss is a parabola in "
        f"c, so in a: L = {s['sum_xx']:g} c^2 + {-2 * s['sum_xy']:g} c + sum (y - "
        f"{intercept_a:g})^2, smallest at c = sum x y / sum x^2 = {c_star:.5f}, that is a = "
        f"{CENTRE:g} + ({c_star:.5f}) / ({SCALE:g}) = {a_star:.5f}, where L = {loss_a_min:.5f}. "
        f"At the slide's {CENTRE:g} the line is flat (c = 0); the points are not quite flat, "
        f"so the minimum sits a little to the right of it."
    )

    # ---- line B: a quartic in a ----------------------------------------------------------
    n = s["n"]
    # sum_i (a x_i - C a^2 - r_i)^2 with r = y - b, multiplied out (C = 2)
    quartic = [
        CURVE**2 * n,
        -2 * CURVE * s["sum_x"],
        s["sum_xx"] + 2 * CURVE * s["sum_r"],
        -2 * s["sum_xr"],
        s["sum_rr"],
    ]
    derivative = np.polyder(np.array(quartic))
    roots = np.sort(np.roots(derivative).real)
    minima_b = [float(roots[0]), float(roots[2])]
    maximum_b = float(roots[1])
    loss_b_min = [float(loss("B", a)) for a in minima_b]
    symmetric = float(np.sqrt(-quartic[2] / (2 * quartic[0])))
    lesson.say(
        f"Line B. Now a moves the intercept too (2 - 2 a^2). Multiplying out, with sum x = 0, "
        f"L(a) = {polynomial(quartic)}: a quartic, and dL/da = {polynomial(derivative)} is "
        f"zero three times, at a = {minima_b[0]:.5g}, {maximum_b:.5g} "
        f"and {minima_b[1]:.5g}. Two minima with a hump between: L = {loss_b_min[0]:.5f} at "
        f"a = {minima_b[0]:.5g} and L = {loss_b_min[1]:.5f} at a = {minima_b[1]:.5g}. Without "
        f"the small {quartic[3]:g} a term (it is -2 sum x (y - 2)) the two would be at "
        f"a = +-sqrt({-derivative[2]:g} / {derivative[0]:g}) = +-{symmetric:.5f}: the "
        f"slide's {CENTRE:g}."
    )
    offset_equal = B - (
        s["mean_y"] - np.sqrt((loss_b_min[1] + s["sum_xy"] ** 2 / s["sum_xx"] - s["spread_y"]) / n)
    )
    wall = wall_scales(WALL)
    wall_mean = float(np.mean(wall))
    curvature_b = float(np.polyval(np.polyder(derivative), minima_b[1]))
    curvature_scale = -float(np.sqrt(curvature_b / (2 * s["sum_xx"])))
    lesson.say(
        f"Line A's offset {OFFSET:g} is what makes its one valley as deep as line B's "
        f"shallower one: the offset that gives line A's minimum exactly L = {loss_b_min[1]:.5f} "
        f"is {offset_equal:.5f}, which rounds to the slide's {OFFSET:g} (with {OFFSET:g}, "
        f"{loss_a_min:.5f}). The slides do not say where {SCALE:g} comes from, and no single "
        "computation gives it to the digit: it sets how narrow line A's parabola is, and it "
        "makes line A's valley about as wide as line B's right-hand one on its outer wall. "
        "For line A's loss to equal line B's at a = "
        + ", ".join(f"{a:g}" for a in WALL)
        + " the scale would be "
        + ", ".join(f"{v:.4g}" for v in wall)
        + f", mean {wall_mean:.4g}: the slide's {SCALE:g} to its one decimal. Matching the "
        f"curvature of line B's valley at its floor instead (L'' = {curvature_b:.4g} at "
        f"a = {minima_b[1]:.5g}) would need {curvature_scale:.4g}: the quartic's valley "
        f"steepens away from its floor, a parabola does not. So {SCALE:g} is a width chosen "
        "by eye to fit the picture, and the lesson takes it as the slide writes it."
    )
    at_grid = np.array(AT)
    quartic_gap = max(
        float(np.max(np.abs(np.polyval(quartic, at_grid) - loss("B", at_grid)))),
        max(abs(float(np.polyval(derivative, a)) - _slope("B", a)) for a in AT),
    )
    table = lesson.table(
        "L(a) with b = 2, and its slope by ds.grad",
        ["a", "L, line A", "dL/da, line A", "L, line B", "dL/da, line B"],
    )
    at = {}
    for a in AT:
        at[f"{a:g}"] = {
            "loss_a": float(loss("A", a)),
            "slope_a": _clean(_slope("A", a)),
            "loss_b": float(loss("B", a)),
            "slope_b": _clean(_slope("B", a)),
        }
        row = at[f"{a:g}"]
        table.add(a, row["loss_a"], row["slope_a"], row["loss_b"], row["slope_b"])

    # ---- gradient descent in a, b = 2 ----------------------------------------------------
    runs, ends = (
        {},
        lesson.table(
            f"Gradient descent in a (b = 2), lr {LR:g}, {STEPS} steps, from four starts",
            ["line", "a at the start", "a at the end", "L at the end", "which minimum"],
        ),
    )
    finished = []
    for line in ("A", "B"):
        for a0 in STARTS:
            run = _descend(line, a0, B, LR, STEPS, free_b=False)
            runs[(line, a0)] = run
            if line == "A":
                where = "the only one"
            else:
                where = "the deeper one" if run["a"][-1] < maximum_b else "the shallower one"
            ends.add(line, a0, run["a"][-1], run["loss"][-1], where)
            finished.append(
                {
                    "line": line,
                    "start": a0,
                    "end": run["a"][-1],
                    "loss": run["loss"][-1],
                    "minimum": where,
                }
            )
    lesson.say(
        "Line A's runs all end at the same a, from either side. Line B's end where they "
        f"started: those that start right of the hump at a = {maximum_b:.5f} settle in the "
        f"shallower valley (L = {loss_b_min[1]:.5f}) and never see the deeper one. Gradient "
        "descent follows the slope where it stands; on a loss with several minima, the start "
        "decides which it finds (deck 002: not guaranteed to find the best for a non-convex "
        "function)."
    )

    # ---- theta = {a, b} ------------------------------------------------------------------
    best_slope = c_star
    optimum_b = (best_slope, s["mean_y"] + CURVE * best_slope**2)
    optimum_a = (a_star, s["mean_y"] + OFFSET)
    best_loss = s["spread_y"] - s["sum_xy"] ** 2 / s["sum_xx"]
    theta_runs = [_descend("B", a0, b0, LR, THETA_STEPS, free_b=True) for a0, b0 in THETA_STARTS]
    theta_a = _descend("A", *THETA_STARTS[0], LR, THETA_STEPS, free_b=True)
    theta = lesson.table(
        f"theta = {{a, b}}: gradient descent on both, lr {LR:g}, {THETA_STEPS} steps",
        ["line", "(a, b) at the start", "a at the end", "b at the end", "L at the end"],
    )
    for line, (a0, b0), run in [
        ("B", THETA_STARTS[0], theta_runs[0]),
        ("B", THETA_STARTS[1], theta_runs[1]),
        ("A", THETA_STARTS[0], theta_a),
    ]:
        theta.add(line, f"({a0:g}, {b0:g})", run["a"][-1], run["b"][-1], run["loss"][-1])
    lesson.say(
        "With b learned as well, both lines are the plain line fitted by least squares in "
        f"disguise: slope sum x y / sum x^2 = {best_slope:.5f} and intercept mean y = "
        f"{s['mean_y']:g}, L = sum (y - mean y)^2 - (sum x y)^2 / sum x^2 = {best_loss:.6f}, "
        f"far below the {loss_b_min[0]:.5f} that b = 2 allowed. For line A that is a = "
        f"{optimum_a[0]:.5f}, b = {optimum_a[1]:.4f}; for line B a = {optimum_b[0]:.5f}, "
        f"b = {optimum_b[1]:.5f}, and from both starts descent finds it: the second minimum has "
        "gone. Line B's loss in (a, b) is a curved valley whose floor is b = "
        f"{s['mean_y']:g} + 2 a^2; the slice b = 2 crosses that floor twice, at a = "
        f"+-sqrt(({B:g} - {s['mean_y']:g}) / 2) = +-{np.sqrt((B - s['mean_y']) / CURVE):.5f}, "
        f"close to the two minima in a ({minima_b[0]:.5g} and {minima_b[1]:.5g}: the slice's "
        "lowest points sit a little inside the crossings, pulled towards the middle, where the "
        "valley's floor is lower). Holding a parameter fixed can make "
        "minima that the full problem does not have. The slides' theta = {a, b, c, ...} goes "
        "on to any number of parameters: the same descent, one partial derivative each."
    )
    lesson.results = {
        "lecture": {"deck": DECK, "slides": SLIDES, "lines": LINES},
        "loss": "summed squared error: L = sum((y^ - y)^2)",
        "x": X,
        "y": Y,
        "b": B,
        "line_a": {"formula": FORMULAS["A"], "scale": SCALE, "centre": CENTRE, "offset": OFFSET},
        "line_b": {"formula": FORMULAS["B"], "curve": CURVE},
        "sums": s,
        "a": {
            "intercept": intercept_a,
            "best_slope": c_star,
            "a_min": a_star,
            "loss_min": loss_a_min,
            "offset_for_equal_depth": float(offset_equal),
            "wall": {"at": WALL, "scales": wall, "mean": wall_mean},
            "curvature_b": curvature_b,
            "scale_for_equal_curvature": curvature_scale,
        },
        "b_line": {
            "quartic": quartic,
            "derivative": derivative.tolist(),
            "minima": minima_b,
            "maximum": maximum_b,
            "loss_at_minima": loss_b_min,
            "symmetric_minima": symmetric,
            # the quartic and its derivative against the loss and ds.grad's slope, over AT
            "largest_difference": quartic_gap,
        },
        "at": at,
        "lr": LR,
        "steps": STEPS,
        "starts": STARTS,
        "runs": finished,
        "slide_checks": [
            {
                "line": 2062,
                "slide": CENTRE,
                "ours": symmetric,
                "verdict": "MATCH",
                "what": "line A's 0.246: line B's two minima without the 0.03 a term, +-0.24622",
            },
            {
                "line": 2062,
                "slide": OFFSET,
                "ours": float(offset_equal),
                "verdict": "MATCH",
                "what": "line A's 0.217: the offset that makes its minimum line B's depth",
            },
            {
                "line": 2089,
                "slide": FORMULAS["B"],
                "ours": polynomial(quartic),
                "verdict": "MATCH",
                "what": "line B: L(a) with b = 2, two minima",
            },
        ],
        "theta": {
            "steps": THETA_STEPS,
            "starts": [list(p) for p in THETA_STARTS],
            "optimum_line_a": list(optimum_a),
            "optimum_line_b": list(optimum_b),
            "best_loss": best_loss,
            "slice_crossings": float(np.sqrt((B - s["mean_y"]) / CURVE)),
            "runs_line_b": [{k: run[k][-1] for k in ("a", "b", "loss")} for run in theta_runs],
            "run_line_a": {k: theta_a[k][-1] for k in ("a", "b", "loss")},
        },
    }
    lesson.say(
        "descent lesson two-parameters --plot DIR draws the lines at their minima beside their "
        "losses in a with the descent runs, and line B's loss over (a, b) with the slice b = 2."
    )
    lesson.figure("two-parameters-lines.png", _draw_lines(s, a_star, minima_b, runs))
    lesson.figure("two-parameters-theta.png", _draw_theta(s, minima_b, optimum_b, theta_runs))
    return lesson
