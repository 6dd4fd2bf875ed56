"""curvature: the second derivative of the loss, which decides how large a learning rate can be.

The lecture: deck 001 (``001_06db21ae3b045989.txt``), the "Gradient Descent" slides 34-69
(lines 875-2029 of the text: y = a x through the three measurements, L(8) ~ 402,
dL/da(8) ~ -447, gamma = 0.003) and slides 83-86 (lines 2237-2353: theta = {a, b}, several
parameters descended at once). Slides are counted as the text separates its pages, by three
blank lines.

Part one: on the gravity loss L(a) = sum_i (y_i - a x_i)^2, autodiff differentiates the
gradient (``create_graph=True``) to get L''(a) = 2 sum_i x_i^2 = 248.5 at every a; gradient
descent converges exactly when |1 - lr L''| < 1, and lr = 1/L'' is Newton's step. Part two:
y^ = a x + b on the same data, whose Hessian (``ds.autograd.functional.hessian``) has two
very different curvatures, so no one learning rate suits both directions.
"""

from __future__ import annotations

import numpy as np

from .. import viz
from ..autograd import grad
from ..autograd.functional import hessian
from ..optim import GradientDescent
from ..tensor import float64, tensor
from .gravity import A0, A_STAR, X, Y, _descend
from .lesson import Lesson, vector_cell

DECK = "001_06db21ae3b045989.txt"
SLIDES = {"gradient descent on y = a x": [34, 69], "two parameters, theta = {a, b}": [83, 86]}
AT = [0.0, 8.0, 9.8, 11.5, 20.0]  # where L'' is computed, to show it is the same everywhere
STEPS = 10  # steps of each one-parameter run
DECK_LR = 0.003  # the lecture's gamma
# Rates named by where they sit against the bound 2/L''; 1/L'' and 2/L'' are added at run time.
BELOW_BOUNCING = 0.0075
ABOVE = 0.0085
LANDED = 1e-12  # a run stops once it is this close to 9.8

# Part two: y^ = a x + b through the same measurements, from (a, b) = START.
START = (8.0, 5.0)
OPTIMUM = (A_STAR, 0.0)  # the data lie exactly on y = 9.8 x
LR_2D = 0.0075  # below 2 / lambda_max: stable, and zig-zags across the valley
STEPS_2D = 400
SHOWN_2D = [0, 1, 2, 3, 4, 5, 10, 20, 50, 100, 200, 300, 400]  # the steps the table prints
DRAWN_2D = 60  # the steps drawn on the contours


def gravity_loss(a, x, y):
    """L(a) = sum_i (y_i - a x_i)^2, with the ops whose second derivatives descent knows."""
    r = a * x - y
    return (r * r).sum()


def line_loss(a, b, x, y):
    """L(a, b) = sum_i (a x_i + b - y_i)^2."""
    r = a * x + b - y
    return (r * r).sum()


def _data():
    return tensor(X, dtype=float64), tensor(Y, dtype=float64)


def derivatives(a0: float) -> tuple[float, float, float]:
    """(L, L', L'') at ``a0``: L' by autodiff with create_graph, L'' by differentiating L'."""
    x, y = _data()
    a = tensor(a0, dtype=float64, requires_grad=True)
    loss = gravity_loss(a, x, y)
    (slope,) = grad(loss, [a], create_graph=True)  # dL/da, itself a graph in a
    (curvature,) = grad(slope, [a])  # d(dL/da)/da
    return loss.item(), slope.item(), curvature.item()


def explain_curvature(a0: float = A0):
    """L''(a0): the chain rule through the graph of dL/da (``descent explain curvature``)."""
    x, y = _data()
    a = tensor(a0, dtype=float64, requires_grad=True)
    (g,) = grad(gravity_loss(a, x, y), [a], create_graph=True)
    return viz.explain(g, wrt=a, names={"a": a, "x": x, "y": y, "g": g})


def _gradient_graph(a0: float = A0):
    def draw(path):
        x, y = _data()
        a = tensor(a0, dtype=float64, requires_grad=True)
        (g,) = grad(gravity_loss(a, x, y), [a], create_graph=True)
        drawn = viz.graph(g, names={"a": a, "x": x, "y": y, "dL/da": g})
        g.backward()  # the parameter a then shows d(dL/da)/da = L''
        drawn.render(path)

    return draw


def _verdict(factor: float) -> str:
    """What a step's factor 1 - lr L'' does to the distance to the minimum."""
    size = abs(factor)
    if size < LANDED:
        return "lands on the minimum in one step"
    if abs(size - 1) < 1e-9:
        return "at the bound: bounces for ever, neither in nor out"
    if size > 1:
        return "above the bound: diverges"
    return "converges, bouncing" if factor < 0 else "converges"


def _hessian_at(theta: tuple[float, float]) -> np.ndarray:
    x, y = _data()
    a, b = (tensor(v, dtype=float64, requires_grad=True) for v in theta)
    rows = hessian(lambda a, b: line_loss(a, b, x, y), (a, b))
    return np.array([[h.item() for h in row] for row in rows])


def _gradient_2d(theta: tuple[float, float]) -> np.ndarray:
    x, y = _data()
    a, b = (tensor(v, dtype=float64, requires_grad=True) for v in theta)
    return np.array([g.item() for g in grad(line_loss(a, b, x, y), [a, b])])


def _descend_2d(lr: float, steps: int) -> dict:
    """Gradient descent on L(a, b) from START: lists a, b, loss, one entry per step."""
    x, y = _data()
    a, b = (tensor(v, dtype=float64, requires_grad=True) for v in START)
    optimizer = GradientDescent([a, b], lr=lr)
    path = {"a": [], "b": [], "loss": []}
    for step in range(steps + 1):
        optimizer.zero_grad()
        loss = line_loss(a, b, x, y)
        path["a"].append(a.item())
        path["b"].append(b.item())
        path["loss"].append(loss.item())
        if step == steps:
            break
        loss.backward()
        optimizer.step()
    return path


def _draw_rates(runs: list, curvature: float):
    def draw(path):
        series = {}
        for run in runs:
            steps = np.arange(len(run["distance"]))
            gap = np.abs(run["distance"])
            keep = gap > 0  # log axis: the run that lands has nothing left to draw
            series[f"lr {run['lr']:.6g} (1 - lr L'' = {run['factor']:.3g})"] = (
                steps[keep],
                gap[keep],
            )
        fig = viz.plot_series(
            series,
            xlabel="step",
            ylabel="|a - 9.8|",
            log_y=True,
            title=f"L'' = {curvature:g}: |a - 9.8| shrinks by |1 - lr L''| every step",
            figsize=(7, 4.5),
        )
        fig.savefig(path, dpi=fig.dpi)

    return draw


def _draw_zigzag(path_2d: dict, eigenvalues, eigenvectors, lr: float):
    def draw(path):
        a = np.array(path_2d["a"][: DRAWN_2D + 1])
        b = np.array(path_2d["b"][: DRAWN_2D + 1])
        xs, ys = np.array(X), np.array(Y)

        def loss(a, b):
            a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
            return np.sum((a[..., None] * xs + b[..., None] - ys) ** 2, axis=-1)

        fig = viz.plot_loss_landscape(
            loss,
            trajectory=np.stack([a, b], axis=1),
            xlim=(7.6, 10.6),
            ylim=(-1.5, 6.5),
            log_scale=True,
            xlabel="a",
            ylabel="b",
            title=(
                f"y^ = a x + b, lr {lr:g}: the first {DRAWN_2D} steps\n"
                f"zig-zag across the steep direction, crawl along the flat one"
            ),
            figsize=(7, 5.5),
        )
        ax = fig.axes[0]
        for lam, v, colour in zip(eigenvalues, eigenvectors.T, ("#ffffff", "#ffbf00")):
            ends = np.array(OPTIMUM)[:, None] + np.outer(v, [-2.0, 2.0])
            ax.plot(ends[0], ends[1], "--", color=colour, lw=1.4,
                    label=f"curvature {lam:.4g}, factor {1 - lr * lam:.4f}")  # fmt: skip
        ax.legend(fontsize=8, loc="lower left")
        fig.savefig(path, dpi=fig.dpi)

    return draw


def curvature() -> Lesson:
    """L'' = 248.5 by autodiff; the bound lr < 2/L''; Newton's step; one rate for two curvatures."""
    lesson = Lesson(
        name="curvature",
        title="Curvature: why the learning rate has a limit",
        summary=(
            "The learning-rate lesson found that too high a rate makes gradient descent "
            "bounce and diverge. Here autodiff measures the curvature of the loss, its second "
            "derivative, and the curvature says exactly where that limit is. The lecture: "
            f"deck {DECK}, slides {SLIDES['gradient descent on y = a x'][0]}-"
            f"{SLIDES['gradient descent on y = a x'][1]} (gradient descent on y = a x, "
            f"gamma = {DECK_LR:g}) and {SLIDES['two parameters, theta = {a, b}'][0]}-"
            f"{SLIDES['two parameters, theta = {a, b}'][1]} (two parameters at once)."
        ),
    )
    x_squared = [x * x for x in X]
    closed_form = 2 * sum(x_squared)
    lesson.say(
        "The gravity loss is L(a) = sum_i (y_i - a x_i)^2. ds.grad(L, [a], create_graph=True) "
        "returns dL/da as a graph of its own, so ds.grad can differentiate it again: that is "
        "L''(a), the curvature. By hand, L'' = 2 sum_i x_i^2 = 2 ("
        + " + ".join(f"{v:g}" for v in x_squared)
        + f") = {closed_form:g}, with no a in it."
    )
    table = lesson.table("L, L' and L'' by autodiff", ["a", "L(a)", "L'(a)", "L''(a)"])
    at = {}
    for a in AT:
        loss, slope, second = derivatives(a)
        at[f"{a:g}"] = {"loss": loss, "slope": slope, "curvature": second}
        table.add(a, loss, slope, second)
    curv = at[f"{A0:g}"]["curvature"]
    spread = max(v["curvature"] for v in at.values()) - min(v["curvature"] for v in at.values())
    max_lr, best_lr = 2.0 / curv, 1.0 / curv
    lesson.say(
        f"L'' is {curv:g} at every a (largest minus smallest: {spread:g}): the loss is a "
        "parabola, and its slope is the straight line L'(a) = L'' (a - 9.8). One step "
        "a := a - lr L'(a) therefore gives a - 9.8 := (1 - lr L'') (a - 9.8): each step "
        "multiplies the distance to the minimum by the same factor 1 - lr L''. Gradient "
        "descent converges exactly when |1 - lr L''| < 1, that is when 0 < lr < 2/L'' = "
        f"{max_lr:.6f}. Runs from a = {A0:g}, {STEPS} steps each, at rates below, at and above "
        f"that bound (the lecture's {DECK_LR:g} among them):"
    )
    rates = [DECK_LR, best_lr, BELOW_BOUNCING, max_lr, ABOVE]
    runs = []
    for lr in rates:
        path = _descend(A0, lr, STEPS, tolerance=LANDED)
        factor = 1 - lr * curv
        distance = [a - A_STAR for a in path["a"]]
        runs.append({
            "lr": lr, "lr_times_curvature": lr * curv, "factor": factor,
            "path": path, "distance": distance,
            "predicted": [(A0 - A_STAR) * factor**k for k in range(len(distance))],
            "verdict": _verdict(factor),
        })  # fmt: skip
    steps_table = lesson.table(
        f"a after each step, from a = {A0:g}", ["step"] + [f"lr {r['lr']:.6g}" for r in runs]
    )
    for k in range(STEPS + 1):
        steps_table.add(k, *(r["path"]["a"][k] if k < len(r["path"]["a"]) else "" for r in runs))
    verdicts = lesson.table(
        "Each rate against the bound",
        ["lr", "lr L''", "1 - lr L''", "steps", "|a - 9.8| run", "|a - 9.8| predicted", "verdict"],
    )
    for run in runs:
        verdicts.add(
            run["lr"], run["lr_times_curvature"], run["factor"], len(run["distance"]) - 1,
            abs(run["distance"][-1]), abs(run["predicted"][-1]), run["verdict"],
        )  # fmt: skip
    lesson.say(
        "The run matches the prediction (1 - lr L'')^k (a0 - 9.8) step for step. At "
        f"lr = {DECK_LR:g} the factor is {runs[0]['factor']:.4f}: safe but slow. The factor is "
        f"0 at lr = 1/L'' = {best_lr:.6f}, the best fixed rate: one step lands on 9.8."
    )
    newton = lesson.table(
        f"Newton's method from a = {A0:g}: a := a - L'(a) / L''(a)",
        ["step", "a", "L'(a)", "L''(a)", "a - 9.8"],
    )
    newton_path = []
    a = A0
    for k in range(3):
        _, slope, second = derivatives(a)
        newton_path.append({"a": a, "slope": slope, "curvature": second})
        newton.add(k, a, slope, second, a - A_STAR)
        a = a - slope / second
    lesson.say(
        "Newton's method divides the slope by the curvature, both from autodiff: "
        f"a := a - L'/L''. From a = {A0:g} it steps {-newton_path[0]['slope']:g} / "
        f"{newton_path[0]['curvature']:g} = {newton_path[1]['a'] - A0:g} and lands on "
        f"{newton_path[1]['a']:g}, where the slope is {newton_path[1]['slope']:.3g}: the same "
        "step as gradient descent with lr = 1/L''. On a parabola Newton's method needs one "
        "step; on other losses L'' changes with a and it takes a few."
    )

    # ---- two parameters, two curvatures ----------------------------------------------------
    H = _hessian_at(START)
    H_far = _hessian_at((0.0, 0.0))
    eigenvalues = np.linalg.eigvalsh(H)  # ascending: flat, steep
    eigenvectors = np.linalg.eigh(H)[1]  # (2, 2): one unit vector per column, same order
    eigenvectors *= np.sign(eigenvectors[0])  # each drawn with a increasing, for the reader
    lam_min, lam_max = float(eigenvalues[0]), float(eigenvalues[1])
    condition = lam_max / lam_min
    lesson.say(
        "Now two parameters: y^ = a x + b through the same three measurements, "
        "L(a, b) = sum_i (a x_i + b - y_i)^2, minimum at (a, b) = (9.8, 0). Its second "
        "derivatives form the Hessian, from ds.autograd.functional.hessian (by hand 2 X^T X, "
        "X the columns x and 1):"
    )
    h_table = lesson.table(
        f"The Hessian of L(a, b) at (a, b) = ({START[0]:g}, {START[1]:g})", ["", "d/da", "d/db"]
    )
    h_table.add("d/da", H[0, 0], H[0, 1])
    h_table.add("d/db", H[1, 0], H[1, 1])
    e_table = lesson.table(
        "Its eigenvalues (np.linalg.eigvalsh) and directions",
        ["direction", "curvature", "unit vector (a, b)", "largest stable lr 2/curvature"],
    )
    for name, lam, v in zip(("flat", "steep"), eigenvalues, eigenvectors.T):
        e_table.add(name, float(lam), vector_cell(v), 2 / float(lam))
    slow_lr = 1 / lam_min
    lesson.say(
        "The Hessian is the same everywhere (at (0, 0) too: largest difference "
        f"{np.abs(H_far - H).max():g}), and it has two curvatures, {lam_max:.6g} along the "
        f"steep direction and {lam_min:.6g} along the flat one, {condition:.4g} times less. "
        "Along each direction gradient descent is a one-parameter problem with its own factor "
        "1 - lr * curvature, and one lr must serve both. It is stable only below "
        f"2/{lam_max:.6g} = {2 / lam_max:.6f}; the flat direction then shrinks by no less than "
        f"1 - 2/{condition:.4g} = {1 - 2 / condition:.5f} per step. The rate that would suit "
        f"the flat direction, 1/{lam_min:.6g} = {slow_lr:.4f}, multiplies the steep one by "
        f"{1 - slow_lr * lam_max:.4g} every step."
    )
    path_2d = _descend_2d(LR_2D, STEPS_2D)
    theta = np.stack([path_2d["a"], path_2d["b"]], axis=1) - np.array(OPTIMUM)  # (steps+1, 2)
    along = theta @ eigenvectors  # (steps+1, 2): the distance along the flat, steep directions
    factors = 1 - LR_2D * eigenvalues
    run_table = lesson.table(
        f"Gradient descent on L(a, b) from ({START[0]:g}, {START[1]:g}), lr {LR_2D:g}",
        ["step", "a", "b", "L(a, b)", "along steep", "along flat"],
    )
    for k in SHOWN_2D:
        run_table.add(k, path_2d["a"][k], path_2d["b"][k], path_2d["loss"][k],
                      along[k, 1], along[k, 0])  # fmt: skip
    lesson.say(
        f"At lr = {LR_2D:g} the steep direction's factor is {factors[1]:.4f}: the path "
        "crosses the valley at every step and the crossings die out within a few dozen steps, "
        f"the zig-zag. The flat direction's factor is {factors[0]:.5f}: after {STEPS_2D} steps "
        f"b is still {path_2d['b'][-1]:.4f} from 0. A smaller rate calms the zig-zag and slows "
        "the crawl even more; a larger one than 2/curvature diverges. This is why methods that "
        "rescale each direction (Newton's method with the Hessian, and in a cheaper way Adam "
        "and RMSprop per parameter) help on losses whose curvatures differ."
    )
    newton_2d = np.array(START) - np.linalg.solve(H, _gradient_2d(START))
    newton_miss = float(np.abs(newton_2d - np.array(OPTIMUM)).max())
    lesson.say(
        "Newton's step with the Hessian, theta := theta - H^-1 grad L, rescales each direction "
        f"by its own curvature: from ({START[0]:g}, {START[1]:g}) it lands on (9.8, 0) in one "
        f"step (missing by {newton_miss:.2g}, rounding)."
    )
    lesson.results = {
        "lecture": {"deck": DECK, "slides": SLIDES, "lr": DECK_LR},
        "loss": "summed squared error of the gravity lesson: L(a) = sum((y - a x)^2)",
        "x_squared": x_squared,
        "closed_form": closed_form,
        "at": at,
        "curvature": curv,
        "curvature_spread": spread,
        "max_lr": max_lr,
        "best_lr": best_lr,
        "a0": A0,
        "steps": STEPS,
        "runs": runs,
        "newton": newton_path,
        "two_parameters": {
            "loss": "L(a, b) = sum((a x + b - y)^2)",
            "start": list(START),
            "optimum": list(OPTIMUM),
            "hessian": H.tolist(),
            "hessian_difference_at_origin": float(np.abs(H_far - H).max()),
            "eigenvalues": eigenvalues.tolist(),
            "eigenvectors": eigenvectors.T.tolist(),  # one row per eigenvalue
            "largest_stable_lr": (2 / eigenvalues).tolist(),  # flat, steep
            "condition": condition,
            "max_lr": 2 / lam_max,
            "best_flat_factor": 1 - 2 / condition,
            "flat_lr": slow_lr,
            "flat_lr_steep_factor": 1 - slow_lr * lam_max,
            "lr": LR_2D,
            "factors": factors.tolist(),  # flat, steep
            "steps": STEPS_2D,
            "shown": SHOWN_2D,
            "path": path_2d,
            "along": along.tolist(),  # per step: (along flat, along steep)
            "newton": newton_2d.tolist(),
            "newton_miss": newton_miss,
            "drawn": DRAWN_2D,
        },
    }
    lesson.say(
        "descent lesson curvature --plot DIR draws the distance to 9.8 per step for each rate, "
        f"the graph of dL/da that autodiff differentiates, and the first {DRAWN_2D} steps on "
        "L(a, b)'s contours; descent explain curvature walks the chain rule through the graph "
        f"of dL/da to L''({A0:g})."
    )
    lesson.figure("curvature-rates.png", _draw_rates(runs, curv))
    lesson.figure("curvature-gradient-graph.png", _gradient_graph())
    lesson.figure("curvature-zigzag.png", _draw_zigzag(path_2d, eigenvalues, eigenvectors, LR_2D))
    lesson.explain = explain_curvature
    return lesson
