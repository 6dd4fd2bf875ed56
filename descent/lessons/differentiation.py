"""differentiation: symbolic, numerical and automatic derivatives of one loss, side by side.

The lecture: deck 004 (``004_feeceb0db53be35a.txt``), slide 37 (lines 685-692: "several
ways to compute dL/dw_i: manual, symbolic, numerical, automatic differentiation"), slide
38 (lines 968-1028: numerical against analytic gradients, and the sigmoid loss
L = sum_i (y_i - sigma(sum_k w_k x_ik))^2 with its derivative
dL/dw_j = sum_i -2 delta_i sigma(d_i) (1 - sigma(d_i)) x_ij) and slide 39 (lines 1032-1038).
Slides are counted as the text separates its pages, by three blank lines.

The slide's function has no numbers on the slide; here it runs on four examples of three
features (the first a constant 1, the bias trick). The derivative written out by hand is
the symbolic one; one-sided and central differences are the numerical one (why the central
one's error is O(h^2) against O(h) is the numerical-gradient lesson's, which follows deck
004's walk-through); ``ds.grad`` is the automatic one. Their costs are counted in
evaluations of the loss.
"""

from __future__ import annotations

import numpy as np

from ..autograd import grad
from ..ops.elementwise import sigmoid
from ..tensor import float64, tensor
from ..viz.figure import figure, finish
from .lesson import Lesson, vector_cell

DECK = "004_feeceb0db53be35a.txt"
SLIDES = {"ways to compute the gradient": [37, 37], "the sigmoid loss and its derivative": [38, 39]}
# Four examples (rows) of three features; the first feature is the constant 1.
X = [
    [1.0, 2.0, -1.0],
    [1.0, -0.5, 0.5],
    [1.0, 1.5, 2.0],
    [1.0, -2.0, -1.5],
]
Y = [1.0, 0.0, 1.0, 0.0]
W0 = [0.1, -0.3, 0.2]  # where the gradient is taken
H = 1e-4  # the slide's step
SIZES = [10**k for k in range(7)]  # numbers of weights d for the picture of the costs


def loss_numpy(w: np.ndarray) -> float:
    """L(w) = sum_i (y_i - sigma(sum_k w_k x_ik))^2, on NumPy arrays."""
    d = np.asarray(X) @ w
    return float(np.sum((np.asarray(Y) - 1.0 / (1.0 + np.exp(-d))) ** 2))


def symbolic_gradient(w: np.ndarray) -> np.ndarray:
    """The slide's formula: dL/dw_j = sum_i -2 delta_i sigma(d_i) (1 - sigma(d_i)) x_ij."""
    x = np.asarray(X)
    s = 1.0 / (1.0 + np.exp(-(x @ w)))  # sigma(d_i)
    delta = np.asarray(Y) - s
    return -2.0 * (delta * s * (1.0 - s)) @ x


def numerical_gradient(w: np.ndarray, h: float, central: bool = True) -> np.ndarray:
    """Finite differences, one coordinate at a time: central (2 d calls) or one-sided (d + 1)."""
    g = np.zeros_like(w)
    base = None if central else loss_numpy(w)
    for j in range(w.size):
        e = np.zeros_like(w)
        e[j] = h
        if central:
            g[j] = (loss_numpy(w + e) - loss_numpy(w - e)) / (2 * h)
        else:
            g[j] = (loss_numpy(w + e) - base) / h
    return g


def automatic_gradient(w0) -> tuple[float, np.ndarray]:
    """One forward pass through descent's graph and one backward: (L, dL/dw)."""
    x, y = tensor(X, dtype=float64), tensor(Y, dtype=float64)
    w = tensor(w0, dtype=float64, requires_grad=True)
    residual = y - sigmoid(x @ w)
    loss = (residual * residual).sum()
    (g,) = grad(loss, [w])
    return loss.item(), g.numpy().copy()


def costs(d: int) -> dict:
    """Evaluations of the loss for one gradient of ``d`` weights: one-sided differences d + 1,
    central 2 d; ds.grad one forward and one backward pass, whatever d is (counted as 2)."""
    return {"one_sided": d + 1, "central": 2 * d, "automatic": 2}


def _draw_costs(d_lesson: int):
    def draw(path):
        fig = figure((6.5, 4.2), 100)
        ax = fig.subplots()
        table = [costs(d) for d in SIZES]
        ax.loglog(SIZES, [c["central"] for c in table], "s-", label="numerical, central: 2 d")
        ax.loglog(SIZES, [c["one_sided"] for c in table], "o-", label="numerical, one-sided: d + 1")
        ax.loglog(
            SIZES,
            [c["automatic"] for c in table],
            "^-",
            label="automatic (ds.grad): 1 forward + 1 backward",
        )
        ax.axvline(
            d_lesson, color="black", ls="--", lw=1.0, alpha=0.6, label=f"here, d = {d_lesson}"
        )
        ax.set_xlabel("number of weights d")
        ax.set_ylabel("passes through the loss, per gradient")
        ax.set_title("One gradient's cost: numerical grows with d, automatic does not")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8, loc="upper left")
        finish(fig, path)

    return draw


def differentiation() -> Lesson:
    """Symbolic, numerical and automatic gradients of the slide's sigmoid loss, and their costs."""
    lesson = Lesson(
        name="differentiation",
        title="Three ways to a gradient: symbolic, numerical, automatic",
        summary=(
            "Deck 004 lists the ways to compute dL/dw (slide 37) and derives one by hand for "
            "the sigmoid unit (slides 38-39): L = sum_i (y_i - sigma(sum_k w_k x_ik))^2. Here "
            "the same gradient is computed three ways on four examples, and each is judged by "
            "its error and by how many times it evaluates the loss. The lecture: deck "
            f"{DECK}, slides 37-39."
        ),
    )
    w = np.array(W0)
    x = np.asarray(X)
    data = lesson.table("The data: four examples, x_i1 = 1 for the bias", ["i", "x_i", "y_i"])
    for i in range(len(Y)):
        data.add(i + 1, vector_cell(x[i]), Y[i])

    symbolic = symbolic_gradient(w)
    value, automatic = automatic_gradient(W0)
    central = numerical_gradient(w, H)
    one_sided = numerical_gradient(w, H, central=False)
    d = w.size
    lesson.say(
        f"At w = {vector_cell(w)} the loss is L = {value:.6f}. Symbolic differentiation is the "
        "slide's work with pencil and paper: the chain rule gives dL/dw_j = sum_i -2 delta_i "
        "sigma(d_i) (1 - sigma(d_i)) x_ij, with d_i = sum_k w_k x_ik and delta_i = y_i - "
        "sigma(d_i), written as a Python function. Numerical differentiation needs no "
        "derivative at all: it nudges one weight by h and watches the loss. Automatic "
        "differentiation (ds.grad) records the forward computation as a graph and runs the "
        "chain rule backwards through it, one local rule per operation."
    )
    methods = {
        "symbolic (the formula by hand)": (symbolic, "1 pass of the formula"),
        f"numerical, one-sided, h = {H:g}": (one_sided, f"{costs(d)['one_sided']} losses (d + 1)"),
        f"numerical, central, h = {H:g}": (central, f"{costs(d)['central']} losses (2 d)"),
        "automatic (ds.grad)": (automatic, "1 forward + 1 backward"),
    }
    side = lesson.table(
        "dL/dw three ways", ["method", "dL/dw", "max |error| against symbolic", "cost"]
    )
    errors = {}
    for name, (g, cost) in methods.items():
        errors[name] = float(np.max(np.abs(g - symbolic)))
        side.add(name, vector_cell(g), errors[name], cost)
    lesson.say(
        f"Automatic and symbolic agree to rounding ({errors['automatic (ds.grad)']:.1e}); the "
        f"central difference is off by {errors[f'numerical, central, h = {H:g}']:.1e} and the "
        f"one-sided one, the slide's, by {errors[f'numerical, one-sided, h = {H:g}']:.1e}. "
        f"With d = {d} weights the numerical gradient costs {2 * d} evaluations of the loss; "
        "with a million weights it would cost two million, while the backward pass costs "
        "about as much as one forward pass whatever d is. That is why training uses "
        "automatic differentiation, and numerical differences only to check it (the "
        "gradient check)."
    )

    lesson.say(
        "Why the central difference is so much better with the same h (its error O(h^2) "
        "against the one-sided O(h)), and how small h may go before rounding wins, is "
        "worked through step by step in descent lesson numerical-gradient."
    )
    lesson.results.update(
        x=X,
        y=Y,
        w=W0,
        h=H,
        loss=value,
        symbolic=symbolic.tolist(),
        automatic=automatic.tolist(),
        central=central.tolist(),
        one_sided=one_sided.tolist(),
        errors=errors,
        evaluations=costs(d),
        sizes=SIZES,
        costs_by_size=[costs(size) for size in SIZES],
    )
    lesson.say(
        "descent lesson differentiation --plot DIR draws each method's passes through the loss "
        "per gradient against the number of weights d."
    )
    lesson.figure("differentiation-costs.png", _draw_costs(d))
    return lesson
