"""convexity: convex and non-convex losses, activation functions, the bias trick, two update rules.

The lecture: deck 002 (``002_aa120863d57339f7.txt``), slides 61-63 (lines 1151-1208:
convex losses have one minimum, gradient descent is not guaranteed to find the optimum of a
non-convex one); deck 004 (``004_feeceb0db53be35a.txt``) slide 37 (lines 678-683: it
converges to a local minimum), slide 6 (lines 60-73: the bias moved into the weight matrix,
"one matrix-vector multiplication"; slide 30, line 591, repeats [W b] with a slip) and
slides 38-39 (lines 990-1038: the update rules for squared error, w_j <- w_j + 2 alpha
sum_i delta_i x_ij, and for the sigmoid perceptron, w_j <- w_j + 2 alpha sum_i delta_i
sigma_i (1 - sigma_i) x_ij, each with an index slip); the activation functions of
deck 003 (``003_51de2ede2fa02b51.txt``, slide 2, lines 31-45: the step function) and deck 001
(slide 150, line 2959: ReLU). Slides are counted as the text separates its pages, by three
blank lines.
"""

from __future__ import annotations

import numpy as np

from ..autograd import grad
from ..ops.elementwise import relu, sigmoid, tanh
from ..optim import GradientDescent
from ..tensor import float64, tensor
from ..viz.figure import figure, finish
from .lesson import Lesson, vector_cell

DECK = "004_feeceb0db53be35a.txt"
SLIDES = {
    "the bias trick": [6, 6],
    "[W b] again, beside the search methods": [30, 30],
    "gradient descent finds a local minimum": [37, 37],
    "the update rules of squared error and the sigmoid perceptron": [38, 39],
}
ALSO = {
    "002_aa120863d57339f7.txt": {"convex against non-convex": [61, 63]},
    "003_51de2ede2fa02b51.txt": {"the step activation": [2, 2]},
    "001_06db21ae3b045989.txt": {"ReLU": [150, 150]},
}
STARTS = [-2.0, -0.5, 0.5, 2.0]
LR, STEPS = 0.05, 200
AT = [-2.0, -1.0, -0.5, 0.5, 1.0, 2.0]  # where the activations and derivatives are tabled
# The bias trick and the update rules: a 4-pixel image, 3 classes, and 4 examples.
W_BIAS = [[0.2, -0.5, 0.1, 2.0], [1.5, 1.3, 2.1, 0.0], [0.0, 0.25, 0.2, -0.3]]
B_BIAS = [1.1, 3.2, -1.2]
X_IMAGE = [56.0, 231.0, 24.0, 2.0]
X_RULE = [[1.0, 2.0, -1.0], [1.0, -0.5, 0.5], [1.0, 1.5, 2.0], [1.0, -2.0, -1.5]]
Y_RULE = [1.0, 0.0, 1.0, 0.0]
W_RULE = [0.1, -0.3, 0.2]
ALPHA = 0.1


def convex(x):
    """f(x) = (x - 1)^2 + 1: a bowl, one minimum at x = 1."""
    return (x - 1.0) * (x - 1.0) + 1.0


def non_convex(x):
    """g(x) = x^4 - 3 x^2 + x: two valleys, minima near x = -1.30 (global) and 1.13."""
    return x * x * x * x - 3.0 * x * x + x


def descend(f, x0: float) -> list[float]:
    """Gradient descent from x0 with ds.grad and GradientDescent: the x of every step."""
    x = tensor(x0, dtype=float64, requires_grad=True)
    optimizer = GradientDescent([x], lr=LR)
    path = [x0]
    for _ in range(STEPS):
        optimizer.zero_grad()
        f(x).backward()
        optimizer.step()
        path.append(x.item())
    return path


def second_derivative(f, x0: float) -> float:
    x = tensor(x0, dtype=float64, requires_grad=True)
    (slope,) = grad(f(x), [x], create_graph=True)
    (curve,) = grad(slope, [x])
    return curve.item()


def step(x):
    return (x > 0) * 1.0


ACTIVATIONS = {"step": step, "sigmoid": sigmoid, "tanh": tanh, "ReLU": relu}


def activation_derivatives(xs) -> dict:
    """name -> (values, derivatives by ds.grad) on xs; the step's derivative is 0 off x = 0."""
    out = {}
    for name, fn in ACTIVATIONS.items():
        x = tensor(xs, dtype=float64, requires_grad=True)
        y = fn(x)
        if name == "step":
            out[name] = (y.numpy().copy(), np.zeros(len(xs)))
            continue
        (g,) = grad(y.sum(), [x])
        out[name] = (y.numpy().copy(), g.numpy().copy())
    return out


def update_by_formula(sigmoid_unit: bool) -> np.ndarray:
    """One step of the slide's rule, in NumPy: w_j + 2 alpha sum_i delta_i [s_i (1 - s_i)] x_ij."""
    x, y, w = np.asarray(X_RULE), np.asarray(Y_RULE), np.asarray(W_RULE)
    d = x @ w
    out = 1.0 / (1.0 + np.exp(-d)) if sigmoid_unit else d
    delta = y - out
    factor = out * (1.0 - out) if sigmoid_unit else 1.0
    return w + 2 * ALPHA * (delta * factor) @ x


def update_by_autodiff(sigmoid_unit: bool) -> np.ndarray:
    """One step of GradientDescent on L = sum_i (y_i - f(x_i))^2, its gradient by backward."""
    x, y = tensor(X_RULE, dtype=float64), tensor(Y_RULE, dtype=float64)
    w = tensor(W_RULE, dtype=float64, requires_grad=True)
    optimizer = GradientDescent([w], lr=ALPHA)
    out = sigmoid(x @ w) if sigmoid_unit else x @ w
    residual = y - out
    (residual * residual).sum().backward()
    optimizer.step()
    return w.numpy().copy()


def _draw_minima(paths: dict):
    def draw(path):
        fig = figure((10, 4), 100)
        axes = fig.subplots(1, 2)
        grid = np.linspace(-2.2, 2.2, 400)
        for ax, (name, fn) in zip(axes, (("convex", convex), ("non-convex", non_convex))):
            ax.plot(grid, fn(grid), color="black", lw=1.5, label=name)
            for i, (x0, xs) in enumerate(paths[name].items()):
                xs = np.array(xs)
                ax.plot(xs[:40], fn(xs[:40]), "o-", ms=3, lw=1, label=f"start {x0:g}",
                        color=f"C{i}")  # fmt: skip
                ax.plot(xs[-1], fn(xs[-1]), "*", ms=14, color=f"C{i}", markeredgecolor="k")
            ax.set_xlabel("x")
            ax.set_ylabel("loss")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
        axes[0].set_title("(x - 1)^2 + 1: every start reaches the one minimum")
        axes[1].set_title("x^4 - 3x^2 + x: the start decides the minimum")
        fig.suptitle("Gradient descent from four starts (first 40 steps; stars: where it ends)")
        finish(fig, path)

    return draw


def _draw_activations(grid: np.ndarray, curves: dict):
    def draw(path):
        fig = figure((10, 4), 100)
        axes = fig.subplots(1, 2, sharex=True)
        for name, (values, slopes) in curves.items():
            axes[0].plot(grid, values, lw=1.8, label=name)
            axes[1].plot(grid, slopes, lw=1.8, label=f"d {name} / dx")
        axes[0].set_title("activation functions")
        axes[1].set_title("their derivatives (by ds.grad; the step's is 0 off x = 0)")
        for ax in axes:
            ax.set_xlabel("x")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
        finish(fig, path)

    return draw


def convexity() -> Lesson:
    """Local minima of a non-convex loss; activations; the bias trick; the slide's update rules."""
    lesson = Lesson(
        name="convexity",
        title="Convex and non-convex losses, activations, the bias trick, two update rules",
        summary=(
            "Deck 002 (slides 61-63) says the losses met so far are convex: one minimum, the "
            "global one, which gradient descent finds; for non-convex losses it is not "
            "guaranteed, and deck 004 (slide 37) says it converges to a local minimum. Here "
            "gradient descent runs from four starts on a convex and on a non-convex function. "
            "Then the activation functions of decks 001 and 003, and two things deck 004 "
            "writes out: the bias trick (slide 6) and the update rules (slides 38-39). "
            f"The lecture: deck {DECK}, with decks 001, 002 and 003."
        ),
    )
    paths = {"convex": {}, "non-convex": {}}
    runs = lesson.table(
        f"Gradient descent, lr {LR:g}, {STEPS} steps, from four starts",
        ["function", "start", "end x", "loss there", "second derivative there"],
    )
    ends = {"convex": [], "non-convex": []}
    for name, fn in (("convex", convex), ("non-convex", non_convex)):
        for x0 in STARTS:
            xs = descend(fn, x0)
            paths[name][x0] = xs
            end = xs[-1]
            ends[name].append({
                "start": x0, "x": end, "loss": float(fn(end)),
                "curvature": second_derivative(fn, end),
            })  # fmt: skip
            runs.add(name, x0, end, float(fn(end)), ends[name][-1]["curvature"])
    lows = sorted({round(e["x"], 6) for e in ends["non-convex"]})
    least = min(ends["non-convex"], key=lambda e: e["loss"])
    other = max(ends["non-convex"], key=lambda e: e["loss"])
    lesson.say(
        "The convex bowl (x - 1)^2 + 1 has second derivative 2 everywhere: every start ends "
        f"at its one minimum, x = {ends['convex'][0]['x']:.6f}. The non-convex x^4 - 3x^2 + x "
        "curves down "
        "between its valleys (its second derivative 12x^2 - 6 is negative for |x| < "
        f"{np.sqrt(0.5):.4f}), and where a run ends depends on where it starts: at x = "
        f"{least['x']:.4f} (loss {least['loss']:.4f}, the global minimum) or at x = "
        f"{other['x']:.4f} (loss {other['loss']:.4f}, a local minimum only). At both the "
        "slope is 0 and the second derivative positive: nothing in the gradient tells the "
        "run that a lower valley exists."
    )

    grid = np.linspace(-3.0, 3.0, 241)
    curves = activation_derivatives(grid)
    table = lesson.table(
        "Activation functions and their derivatives (by ds.grad)",
        ["x"] + [f"{n}(x)" for n in ACTIVATIONS] + [f"{n}'(x)" for n in ACTIVATIONS],
    )
    at = activation_derivatives(AT)
    for i, x0 in enumerate(AT):
        table.add(x0, *[float(at[n][0][i]) for n in ACTIVATIONS],
                  *[float(at[n][1][i]) for n in ACTIVATIONS])  # fmt: skip
    lesson.say(
        "The step function of the perceptron (deck 003) is flat on both sides: its "
        "derivative is 0 wherever it exists, so gradient descent gets no signal through it. "
        "The sigmoid's derivative is sigma (1 - sigma), at most 1/4; tanh's is 1 - tanh^2, "
        "at most 1; ReLU's (deck 001's exam) is 1 for x > 0 and 0 below: each passes a "
        "gradient back, which is why they, not the step, are used in networks."
    )

    w, b, x = np.asarray(W_BIAS), np.asarray(B_BIAS), np.asarray(X_IMAGE)
    separate = tensor(W_BIAS, dtype=float64) @ tensor(X_IMAGE, dtype=float64) + tensor(
        B_BIAS, dtype=float64
    )
    wide = np.concatenate([w, b[:, None]], axis=1)  # (3, 5): [W b]
    stacked = tensor(wide, dtype=float64) @ tensor(np.append(x, 1.0), dtype=float64)
    lesson.say(
        "The bias trick (deck 004, slide 6): for an image of 4 pixels and 3 classes "
        f"(cat/dog/ship), W x + b with x = {vector_cell(x)} gives {vector_cell(separate.numpy())}; "
        f"[W b] [x; 1], one 3x5 matrix times one 5-vector, gives "
        f"{vector_cell(stacked.numpy())}, the same numbers (largest difference "
        f"{float(np.max(np.abs(separate.numpy() - stacked.numpy()))):g}). The weights and "
        "numbers are our own: the slide's are in a picture."
    )
    third = wide.shape[0]  # [W b]'s last row: the weights of class 3, then its bias
    row_names = f"w{third}1 w{third}2 ... w{third}m b{third}"
    lesson.slip(
        f"slide slip: slide 30 repeats the bias trick's [W b] with its third row w21 w22 ... "
        f"w3m b3; it is {row_names}, as slide 6 has it (row {third} of the "
        f"{wide.shape[0]} x {wide.shape[1]} [W b] here: {vector_cell(wide[third - 1])}).",
        {
            "deck": DECK, "line": 591, "slide": 30,
            "quote": "w_{21} & w_{22} & \\cdots & w_{3m} & b_3",
            "slide_value": "w21 w22 ... w3m b3", "correct": row_names,
        },
    )  # fmt: skip

    rules = lesson.table(
        f"One step, alpha = {ALPHA:g}, from w = {vector_cell(W_RULE)}: the slide's rule and "
        "autodiff + GradientDescent",
        ["model", "w by the slide's formula", "w by backward + step", "max |difference|"],
    )
    steps = {}
    for label, unit in (("w . x, squared error", False), ("sigmoid(w . x), squared error", True)):
        by_formula, by_autodiff = update_by_formula(unit), update_by_autodiff(unit)
        gap = float(np.max(np.abs(by_formula - by_autodiff)))
        steps[label] = {"formula": by_formula.tolist(), "autodiff": by_autodiff.tolist(),
                        "difference": gap}  # fmt: skip
        rules.add(label, vector_cell(by_formula), vector_cell(by_autodiff), gap)
    lesson.say(
        "Deck 004 derives, for L = sum_i (y_i - w . x_i)^2, the rule w_j <- w_j + 2 alpha "
        "sum_i delta_i x_ij with delta_i = y_i - w . x_i, and with a sigmoid, w_j <- w_j + "
        "2 alpha sum_i delta_i sigma_i (1 - sigma_i) x_ij. One step of each on the four "
        "examples of the differentiation lesson equals one step of GradientDescent whose "
        "gradient came from backward. Two index slips on the slides:"
    )
    n_examples, d_weights = np.asarray(X_RULE).shape
    lesson.slip(
        "slide slip: slide 38 writes w . x_i as sum_{k=1}^N w_k x_ik; it sums over the d "
        f"weights, sum_{{k=1}}^d w_k x_ik (N counts the examples: here d = {d_weights}, "
        f"N = {n_examples}).",
        {
            "deck": DECK, "line": 1011, "slide": 38, "quote": "\\sum_{k=1}^N w_k x_{ik}",
            "slide_value": "sum_{k=1}^N w_k x_ik", "correct": "sum_{k=1}^d w_k x_ik",
        },
    )  # fmt: skip
    lesson.slip(
        "slide slip: slide 39's sigmoid rule writes w_j <- w_j + 2 alpha sum_{k=1}^N delta_i "
        "sigma_i (1 - sigma_i) x_ij; the sum runs over the examples, sum_{i=1}^N delta_i "
        f"sigma_i (1 - sigma_i) x_ij (no k is left in it), {n_examples} terms here.",
        {
            "deck": DECK, "line": 1034, "slide": 39, "quote": "\\sum_{k=1}^N \\delta_i",
            "slide_value": "sum_{k=1}^N delta_i", "correct": "sum_{i=1}^N delta_i",
        },
    )  # fmt: skip
    lesson.results.update(
        nonconvex_second_derivative="12x^2 - 6",
        bias_trick_shapes={"[W b]": list(wide.shape), "[x; 1]": [wide.shape[1]]},
        starts=STARTS,
        lr=LR,
        steps=STEPS,
        ends=ends,
        minima=lows,
        concave_below=float(np.sqrt(0.5)),
        activations_at=AT,
        activations={n: {"value": at[n][0].tolist(), "slope": at[n][1].tolist()} for n in at},
        bias_trick={"W": W_BIAS, "b": B_BIAS, "x": X_IMAGE, "Wx + b": separate.numpy().tolist(),
                    "[W b][x; 1]": stacked.numpy().tolist(),
                    "difference": float(np.max(np.abs(separate.numpy() - stacked.numpy())))},
        alpha=ALPHA,
        rule_x=X_RULE,
        rule_y=Y_RULE,
        rule_w=W_RULE,
        rule_examples=n_examples,
        rule_weights=d_weights,
        updates=steps,
    )  # fmt: skip
    lesson.say(
        "descent lesson convexity --plot DIR draws the runs on both functions, and the four "
        "activations with their derivatives."
    )
    lesson.figure("convexity-minima.png", _draw_minima(paths))
    lesson.figure("convexity-activations.png", _draw_activations(grid, curves))
    return lesson
