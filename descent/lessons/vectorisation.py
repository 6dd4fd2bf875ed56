"""vectorisation: the loop over examples against the matrix form, equal and many times faster.

The lectures: deck 000 (``000_3ab0e19925976932.txt``), slides 8-10 as the text's pages are
counted, by three blank lines (lines 1115-1223: "Vectorization", "#1: multi-variable
regression", Y^ = X^T W + b for one example, X in R^m; "#2: Batch examples", Y^ = X W + b
for n examples, X in R^{n x m}, "This is what we'll end up doing for most of this
class"), and deck 001 (``001_06db21ae3b045989.txt``), slides 112-117 (lines 2522-2583:
y^ = x theta + b = sum_i x_i theta_i + b, then n outputs at once, theta an m x n matrix).

The same predictions Y^ = X W + b (and the gradient of the mean squared error, sum over
the examples of x_i (y^_i - y_i)) computed three ways: the sums as the slides write them, in
Python loops; one example at a time, as slide #1 does; and in one matrix product, as slide
#2 does. They agree to float rounding; the matrix form is much faster. The times are
measured with time.perf_counter (the best of a few repeats) each time the lesson runs, so
they change from run to run and machine to machine; the ratio is what to read.
"""

from __future__ import annotations

import time

import numpy as np

from .. import viz
from ..autograd import grad
from ..tensor import float64, tensor
from ..viz.figure import finish
from .lesson import Lesson

DECK = "000_3ab0e19925976932.txt"
DECKS = {"vectorization #1 and #2": DECK, "y^ = x theta + b, n outputs": "001_06db21ae3b045989.txt"}
TOPIC_SLIDES = {"vectorization #1 and #2": [8, 10], "y^ = x theta + b, n outputs": [112, 117]}
# each topic's slides in its own deck: SLIDES the main deck's, ALSO the others'
SLIDES = {t: r for t, r in TOPIC_SLIDES.items() if DECKS[t] == DECK}
ALSO = {DECKS[t]: {t: r} for t, r in TOPIC_SLIDES.items() if DECKS[t] != DECK}
LINES = {"vectorization #1 and #2": [1115, 1223], "y^ = x theta + b, n outputs": [2522, 2583]}
# Results whose numbers are measured when the lesson runs (they differ between runs); the
# tests that compare two runs of a lesson compare these by shape, not by value.
MEASURED = ("timing",)
N, M, K = 500, 16, 4  # examples, features (inputs), outputs
SEED = 0
REPEATS = 5  # each form is timed this many times; the best is kept


def data():
    """X (N x M), W (M x K), b (K,), Y (N x K): fixed random numbers."""
    rng = np.random.default_rng(SEED)
    x = rng.normal(size=(N, M))
    w = rng.normal(size=(M, K))
    b = rng.normal(size=K)
    y = rng.normal(size=(N, K))
    return x, w, b, y


def by_sums(x, w, b) -> np.ndarray:
    """y^_ij = sum_k x_ik w_kj + b_j: every sum a Python loop, as the slides write them."""
    xs, ws, bs = x.tolist(), w.tolist(), b.tolist()
    out = []
    for row in xs:  # each example
        preds = []
        for j in range(len(bs)):  # each output
            total = 0.0
            for k, value in enumerate(row):  # each input
                total += value * ws[k][j]
            preds.append(total + bs[j])
        out.append(preds)
    return np.array(out)


def by_examples(x, w, b) -> np.ndarray:
    """One example at a time, as vectorization #1: y^_i = x_i W + b for each row x_i."""
    out = np.empty((x.shape[0], w.shape[1]))
    for i in range(x.shape[0]):
        out[i] = x[i] @ w + b
    return out


def by_matrix(x, w, b) -> np.ndarray:
    """All examples at once, as vectorization #2: Y^ = X W + b, with descent's tensors."""
    return (tensor(x, dtype=float64) @ tensor(w, dtype=float64) + tensor(b, dtype=float64)).numpy()


def gradient_by_examples(x, w, b, y) -> np.ndarray:
    """dJ/dW of J = (1/N) sum_i |x_i W + b - y_i|^2, summed example by example:
    (2/N) sum_i x_i^T (y^_i - y_i)."""
    total = np.zeros_like(w)
    for i in range(x.shape[0]):
        error = x[i] @ w + b - y[i]  # (K,)
        total += np.outer(x[i], error)  # (M, K)
    return 2 * total / x.shape[0]


def gradient_by_matrix(x, w, b, y) -> np.ndarray:
    """The same in one product: (2/N) X^T (X W + b - Y)."""
    return 2 * x.T @ (x @ w + b - y) / x.shape[0]


def gradient_by_autodiff(x, w, b, y) -> np.ndarray:
    """ds.grad of the matrix form's loss: what training computes."""
    W = tensor(w, dtype=float64, requires_grad=True)
    r = tensor(x, dtype=float64) @ W + tensor(b, dtype=float64) - tensor(y, dtype=float64)
    (g,) = grad((r * r).sum() / x.shape[0], [W])
    return g.numpy()


def best_time(fn, *args, repeats: int = REPEATS) -> float:
    """The shortest of ``repeats`` runs of ``fn(*args)``, in seconds (time.perf_counter)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return min(times)


def _draw_times(timing: dict):
    def draw(path):
        forms = list(timing["seconds"])
        ms = [timing["seconds"][f] * 1e3 for f in forms]
        ratios = timing["ratio_to_matrix_form"]
        labels = [f.replace(", ", ",\n") + f"\n({ratios[f]:.0f}x)" for f in forms]
        fig = viz.plot_bars(
            {"time (ms)": ms},
            labels,
            ylabel=f"best of {timing['repeats']}, milliseconds (log scale)",
            log_y=True,
            title=f"Y^ = X W + b for {N} examples, {M} inputs, {K} outputs (measured on this run)",
            figsize=(8, 4.5),
        )
        fig.axes[0].set_ylim(min(ms) / 10, max(ms) * 3)
        finish(fig, path)

    return draw


def vectorisation() -> Lesson:
    """Loops over examples against Y^ = X W + b: the same numbers, and how much faster."""
    lesson = Lesson(
        name="vectorisation",
        title="Vectorisation: one matrix product instead of a loop",
        summary=(
            "The slides first write a prediction one example and one weight at a time, "
            "y^ = sum_i x_i theta_i + b, then as a vector product for one example, "
            "Y^ = X^T W + b, then for a whole batch as one matrix product, Y^ = X W + b: "
            "'this is what we'll end up doing for most of this class'. Here the three give "
            "the same numbers, and the last is timed against the others. The lectures: deck "
            f"{DECK}, slides {TOPIC_SLIDES['vectorization #1 and #2'][0]}-"
            f"{TOPIC_SLIDES['vectorization #1 and #2'][1]}, and deck "
            f"{DECKS['y^ = x theta + b, n outputs']}, slides "
            f"{TOPIC_SLIDES['y^ = x theta + b, n outputs'][0]}-"
            f"{TOPIC_SLIDES['y^ = x theta + b, n outputs'][1]}."
        ),
    )
    x, w, b, y = data()
    shapes = lesson.table(
        "The shapes (check that the matrix dimensions work out, as the slides ask)",
        ["name", "what", "shape"],
    )
    shapes.add("X", f"{N} examples, one row each, {M} inputs", f"{N} x {M}")
    shapes.add("W", f"one column of weights per output ({K} outputs)", f"{M} x {K}")
    shapes.add("b", "one bias per output, added to every row", f"{K}")
    shapes.add("Y^ = X W + b", "one row of predictions per example", f"{N} x {K}")
    lesson.say(
        "Deck 001 writes the n outputs of one example as y^ = x theta + b with theta an "
        "m x n matrix, and deck 000 stacks the examples as the rows of X, so both are "
        f"Y^ = X W + b. Here X holds {N} examples of {M} inputs and W has {K} outputs "
        f"(fixed random numbers, seed {SEED}). Three slips on the slides, none changing the "
        "idea:"
    )
    try:  # the slide's X^T W: X^T is M x N, W is M x K
        np.matmul(x.T, w)
        transposed = "fits"
    except ValueError:
        transposed = "does not fit"
    lesson.slip(
        "slide slip: deck 000's batch slide (slide 9) writes Y^ = X^T W + b, carried over "
        "from the one-example slide; with X n x m it is Y^ = X W + b, as slide 10 has it "
        f"(here X^T W, {M} x {N} times {M} x {K}, {transposed}).",
        {
            "deck": DECK, "line": 1190, "slide": 9, "quote": "𝑋𝑇𝑊 + 𝑏",
            "slide_value": "Y^ = X^T W + b", "correct": "Y^ = X W + b",
        },
    )  # fmt: skip
    lesson.slip(
        "slide slip: deck 001's slide 113 writes y^ = x theta + b = sum_{i=0}^m x_i theta_i "
        "+ b, but x = [x_1, ..., x_m] has no x_0: the sum is sum_{i=1}^m x_i theta_i, "
        f"{M} terms for {M} inputs here (slides 114-115 repeat the i = 0).",
        {
            "deck": DECKS["y^ = x theta + b, n outputs"], "line": 2527, "slide": 113,
            "quote": "\\sum_{i=0}^m x_i \\theta_i",
            "slide_value": "sum_{i=0}^m x_i theta_i", "correct": "sum_{i=1}^m x_i theta_i",
        },
    )  # fmt: skip
    row, hidden = tensor(x[:1], dtype=float64), tensor(w, dtype=float64)  # x: 1 x M, theta: M x K
    as_row = tuple((row @ hidden + tensor(b[None, :], dtype=float64)).shape)
    as_column = tuple((row @ hidden + tensor(b[:, None], dtype=float64)).shape)
    lesson.slip(
        "slide slip: deck 001's slide 117 gives theta^(1) M x N and b^(1): N x 1, but x is a "
        "row, so x theta^(1) is 1 x N and b^(1): 1 x N, a row like slide 115's b = "
        f"[b_1 ... b_n] (here a 1 x {K} b^(1) keeps x theta^(1) + b^(1) "
        f"{as_row[0]} x {as_row[1]}; a {K} x 1 one broadcasts it to "
        f"{as_column[0]} x {as_column[1]}).",
        {
            "deck": DECKS["y^ = x theta + b, n outputs"], "line": 2581, "slide": 117,
            "quote": "\\mathbf{b}^{(1)} - N \\times 1",
            "slide_value": "b^(1): N x 1", "correct": "b^(1): 1 x N",
        },
    )  # fmt: skip
    forms = {
        "the sums, in Python loops": by_sums,
        "one example at a time, x_i W + b": by_examples,
        "the matrix form, X W + b": by_matrix,
    }
    outputs = {name: fn(x, w, b) for name, fn in forms.items()}
    reference = outputs["the matrix form, X W + b"]
    differences = {name: float(np.abs(out - reference).max()) for name, out in outputs.items()}
    grads = {
        "example by example": gradient_by_examples(x, w, b, y),
        "matrix form (2/N) X^T (X W + b - Y)": gradient_by_matrix(x, w, b, y),
        "ds.grad of the matrix form's loss": gradient_by_autodiff(x, w, b, y),
    }
    grad_reference = grads["matrix form (2/N) X^T (X W + b - Y)"]
    grad_differences = {n: float(np.abs(g - grad_reference).max()) for n, g in grads.items()}
    seconds = {name: best_time(fn, x, w, b) for name, fn in forms.items()}
    grad_seconds = {
        "example by example": best_time(gradient_by_examples, x, w, b, y),
        "matrix form (2/N) X^T (X W + b - Y)": best_time(gradient_by_matrix, x, w, b, y),
    }
    fastest = seconds["the matrix form, X W + b"]
    ratios = {name: s / fastest for name, s in seconds.items()}
    grad_ratio = (
        grad_seconds["example by example"] / grad_seconds["matrix form (2/N) X^T (X W + b - Y)"]
    )
    table = lesson.table(
        f"Y^ = X W + b three ways: the same numbers (best of {REPEATS} runs, measured now)",
        ["form", "largest |difference| from X W + b", "time (ms)", "times slower than X W + b"],
    )
    for name in forms:
        table.add(name, differences[name], seconds[name] * 1e3, ratios[name])
    loops = ratios["the sums, in Python loops"]
    rows = ratios["one example at a time, x_i W + b"]
    lesson.say(
        f"All three agree to {max(differences.values()):.1e}: float rounding, since the loops "
        "add the products in another order than the matrix product does. Each number is the "
        f"same; what differs is the time. On this run the loops took {loops:.0f} times as "
        f"long as the matrix form, and one example at a time {rows:.0f} times as long. "
        f"The loops pay Python's price for each of the {N * M * K} multiplications; the row "
        f"loop pays it once per example ({N} times); the matrix form once, handing all the "
        "arithmetic to compiled code that runs it in cache-friendly blocks. The numbers "
        "change from run to run and machine to machine; the matrix form's lead does not."
    )
    gtable = lesson.table(
        "The gradient dJ/dW of the mean squared error, example by example and at once",
        ["form", "largest |difference| from the matrix form", "time (ms)"],
    )
    for name in grads:
        gtable.add(
            name,
            grad_differences[name],
            grad_seconds[name] * 1e3 if name in grad_seconds else "not timed",
        )
    lesson.say(
        "Training needs the gradient too. Deck 000's 'sum over all examples = Delta W' is "
        "the loop (2/N) sum_i x_i^T (y^_i - y_i); in matrix form it is (2/N) X^T (Y^ - Y), "
        "and that is what ds.grad computes from the matrix form's loss (its matmul's "
        "backward rule is X^T times the incoming gradient). They agree to "
        f"{max(grad_differences.values()):.1e}; the loop takes {grad_ratio:.0f} times as long."
    )
    lesson.results = {
        "lecture": {"decks": DECKS, "slides": TOPIC_SLIDES, "lines": LINES},
        "shapes": {
            "examples": N,
            "inputs": M,
            "outputs": K,
            "seed": SEED,
            "multiplications": N * M * K,
        },
        "slip_checks": {
            "x_transposed_times_w": transposed,
            "bias_as_row": list(as_row),
            "bias_as_column": list(as_column),
        },
        "largest_difference": differences,
        "gradient_largest_difference": grad_differences,
        "timing": {
            "repeats": REPEATS,
            "seconds": seconds,
            "ratio_to_matrix_form": ratios,
            "gradient_seconds": grad_seconds,
            "gradient_ratio": grad_ratio,
        },
    }
    lesson.say(
        "descent lesson vectorisation --plot DIR draws the three forms' times on a log scale "
        "(measured on that run)."
    )
    lesson.figure("vectorisation-times.png", _draw_times(lesson.results["timing"]))
    return lesson
