"""mnist1d: why a CNN beats an MLP, and when it stops beating it (MNIST-1D, shuffled).

Greydanus, "Scaling Down Deep Learning" (2020), builds MNIST-1D: ten digit templates of
12 points, padded, translated, sheared, scaled and made noisy into series of 40
positions (the mnist1d package generates it). Its table: logistic regression 32% test
accuracy, an MLP 68%, a CNN 94%; and with the 40 positions shuffled the same way in
every series, the CNN falls to 56% while the MLP stays at 68%. Here the three models are
trained with the paper repository's recipe (Adam, lr 1e-2, batches of 100 in order,
8,000 steps) on the same data, plain and shuffled, and set beside the paper's figures.

This lesson comes from no lecture deck: it is the paper's experiment. ``--quick`` (or
``DESCENT_LESSON_QUICK=1`` in the environment, as the test suite sets it) trains for
fewer steps; its numbers are lower but tell the same story.
"""

from __future__ import annotations

import os

import numpy as np

from .. import nn, optim, viz
from ..autograd import no_grad
from ..datasets import load_mnist1d
from ..nn import functional as F
from ..random import manual_seed
from ..tensor import from_numpy
from .lesson import Lesson

DECK = None  # from no deck: the paper's experiment
SLIDES: dict = {}
ALSO: dict = {}
SOURCE = 'Greydanus, "Scaling Down Deep Learning" (2020)'

STEPS, QUICK_STEPS = 8000, 500
BATCH, LR, SEED = 100, 1e-2, 0
MODELS = ("linear", "mlp", "cnn")
# the paper's test accuracies in percent (its Table 1 and Figure 3; no shuffled linear model)
PAPER = {"linear": 32, "mlp": 68, "cnn": 94}
PAPER_SHUFFLED = {"mlp": 68, "cnn": 56}
QUICK_ENVIRONMENT = "DESCENT_LESSON_QUICK"


class ResidualMLP(nn.Module):
    """40 -> 256 -> 256 -> 10 with ReLU; the second layer adds to its input (a residual)."""

    def __init__(self, hidden: int = 256):
        super().__init__()
        self.linear1 = nn.Linear(40, hidden)
        self.linear2 = nn.Linear(hidden, hidden)
        self.linear3 = nn.Linear(hidden, 10)

    def forward(self, x):
        h = self.linear1(x).relu()
        h = h + self.linear2(h).relu()
        return self.linear3(h)


class ConvNet(nn.Module):
    """Three 1-D convolutions of 25 channels, each halving the length, then a linear layer."""

    def __init__(self, channels: int = 25):
        super().__init__()
        self.conv1 = nn.Conv1d(1, channels, 5, stride=2, padding=1)  # 40 -> 19 positions
        self.conv2 = nn.Conv1d(channels, channels, 3, stride=2, padding=1)  # -> 10
        self.conv3 = nn.Conv1d(channels, channels, 3, stride=2, padding=1)  # -> 5
        self.linear = nn.Linear(channels * 5, 10)

    def forward(self, x):
        h = x.reshape(x.shape[0], 1, x.shape[-1])  # (N, 40) -> (N, 1, 40)
        h = self.conv1(h).relu()
        h = self.conv2(h).relu()
        h = self.conv3(h).relu()
        return self.linear(h.reshape(h.shape[0], -1))


def _model(kind: str) -> nn.Module:
    manual_seed(SEED)
    return {"linear": lambda: nn.Linear(40, 10), "mlp": ResidualMLP, "cnn": ConvNet}[kind]()


def _accuracy(model, x, y) -> float:
    with no_grad():
        return float((model(x)._data.argmax(axis=1) == y._data).mean())


def _train(kind: str, data: tuple, steps: int, every: int) -> list:
    """The paper's recipe; the test accuracy every ``every`` steps: [(step, accuracy)]."""
    model = _model(kind)
    x, y, x_test, y_test = (from_numpy(a) for a in data)
    opt = optim.Adam(model.parameters(), lr=LR)
    curve = [(0, _accuracy(model, x_test, y_test))]
    for step in range(1, steps + 1):
        i = (step - 1) * BATCH % len(x)
        loss = F.cross_entropy(model(x[i : i + BATCH]), y[i : i + BATCH])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % every == 0 or step == steps:
            curve.append((step, _accuracy(model, x_test, y_test)))
    return curve


def _draw_examples(x: np.ndarray, y: np.ndarray, title: str):
    def draw(path):
        series = {}
        for digit in range(10):
            picks = x[y == digit][:3]
            xs = np.concatenate([np.append(np.arange(40.0), np.nan) for _ in picks])
            ys = np.concatenate([np.append(p - 4.0 * digit, np.nan) for p in picks])
            series[f"digit {digit}"] = (xs, ys)
        viz.plot_series(series, xlabel="position", ylabel="series (each digit 4 lower)",
                        legend_below=True, title=title, figsize=(7, 7.5), path=path)  # fmt: skip

    return draw


def _draw_curves(curves: dict, steps: int):
    def draw(path):
        series = {}
        for (kind, shuffled), curve in curves.items():
            steps_, acc = zip(*curve)
            label = f"{kind}, shuffled" if shuffled else kind
            series[label] = (np.array(steps_), 100 * np.array(acc))
        viz.plot_series(series, xlabel="step", ylabel="test accuracy (%)", ylim=(0, 100),
                        legend_below=True, figsize=(7, 4.5), path=path,
                        title=f"Test accuracy while training ({steps} steps)")  # fmt: skip

    return draw


def _draw_table(ours: dict, steps: int):
    def draw(path):
        keys = [(k, False) for k in MODELS] + [(k, True) for k in MODELS]
        paper = [(PAPER_SHUFFLED if s else PAPER).get(k, np.nan) for k, s in keys]
        viz.plot_bars(
            {"paper": paper, f"descent, {steps} steps": [100 * ours[key] for key in keys]},
            [f"{k}\nshuffled" if s else k for k, s in keys],
            ylabel="test accuracy (%)",
            title="MNIST-1D: the paper's table and descent's (the paper gives no shuffled linear)",
            figsize=(8, 4),
            path=path,
        )

    return draw


def mnist1d(quick: bool | None = None) -> Lesson:
    """Train a linear model, an MLP and a CNN on MNIST-1D, plain and position-shuffled."""
    if quick is None:
        quick = os.environ.get(QUICK_ENVIRONMENT, "") not in ("", "0")
    steps = QUICK_STEPS if quick else STEPS
    every = steps // 10
    lesson = Lesson(
        name="mnist1d",
        title="MNIST-1D: what a convolution assumes, and what happens when it is wrong",
        summary=(
            f"From {SOURCE}, not from a lecture deck. MNIST-1D is a small stand-in for "
            "MNIST: each example is a series of 40 numbers made from one of ten digit "
            "templates, padded, shifted, sheared, scaled and made noisy. It is small enough "
            "to train on a CPU in seconds, and hard enough that models differ: the paper "
            "reports 32% test accuracy for logistic regression, 68% for an MLP and 94% for "
            "a CNN, and, with the 40 positions shuffled the same way in every series, 56% "
            "for the CNN and still 68% for the MLP."
            + (f" Quick mode: {steps} steps instead of the paper's {STEPS}." if quick else "")
        ),
    )
    (x, y), (x_test, y_test) = load_mnist1d()
    (xs, ys), (xs_test, ys_test) = shuffled = load_mnist1d(shuffle_positions=True)
    order = shuffled[0].positions
    lesson.say(
        f"The data, generated by the mnist1d package (seed 42, nothing downloaded): "
        f"{len(y)} training and {len(y_test)} test series of {x.shape[1]} positions, ten "
        "classes. Shuffled: one permutation of the 40 positions, applied to every series, "
        f"train and test alike; position 0 of a shuffled series is position {order[0]} of "
        f"the plain one, position 1 is position {order[1]}, and so on."
    )
    counts = lesson.table("Series of each digit", ["digit", "train", "test"])
    for digit in range(10):
        counts.add(digit, int((y == digit).sum()), int((y_test == digit).sum()))
    lesson.say(
        f"The recipe of the paper's code: Adam with learning rate {LR:g}, batches of {BATCH} "
        f"taken in order, {steps} steps ({steps * BATCH // len(y)} passes over the training "
        f"series), cross-entropy, every model from seed {SEED}. The models: logistic "
        "regression (one linear layer, 40 -> 10); an MLP 40 -> 256 -> 256 -> 10 with ReLU, "
        "its second layer added to its input; a CNN of three 1-D convolutions with 25 "
        "channels (kernels 5, 3, 3, stride 2: 40 -> 19 -> 10 -> 5 positions) and a linear "
        "layer on the 125 features."
    )
    data = {False: (x, y, x_test, y_test), True: (xs, ys, xs_test, ys_test)}
    curves = {
        (kind, s): _train(kind, data[s], steps, every) for s in (False, True) for kind in MODELS
    }
    ours = {key: curve[-1][1] for key, curve in curves.items()}
    table = lesson.table(
        "Test accuracy (%): the paper and descent",
        ["model", "paper", "descent", "paper, shuffled", "descent, shuffled"],
    )
    for kind in MODELS:
        table.add(kind, PAPER[kind], round(100 * ours[kind, False], 1),
                  PAPER_SHUFFLED.get(kind, "-"), round(100 * ours[kind, True], 1))  # fmt: skip
    cnn_drop = 100 * (ours["cnn", False] - ours["cnn", True])
    mlp_change = 100 * (ours["mlp", True] - ours["mlp", False])
    linear_change = 100 * (ours["linear", True] - ours["linear", False])
    lesson.say(
        f"The point. A convolution assumes that neighbouring positions belong together: each "
        f"of its filters looks at a few adjacent numbers, and the same filter slides along "
        f"the whole series, so a bump is recognised wherever it is. On MNIST-1D that "
        f"assumption is right, and the CNN beats the MLP ({100 * ours['cnn', False]:.1f}% "
        f"against {100 * ours['mlp', False]:.1f}%) with far fewer weights. Shuffle the "
        f"positions and neighbours are no longer neighbours: the assumption is now wrong, and "
        f"the CNN loses {cnn_drop:.1f} points ({100 * ours['cnn', True]:.1f}%). The MLP and "
        f"the linear model assume nothing about which position is next to which: a fixed "
        f"shuffle only reorders the columns of their first weight matrix (started from "
        f"weights reordered the same way they would train exactly as before), and they end "
        f"where they were: changes of {mlp_change:+.1f} and {linear_change:+.1f} points, the "
        "size of their curves' wobble from one evaluation to the next. A built-in "
        "assumption is a model's advantage exactly as far as it is true of the data."
    )
    curve_table = lesson.table(
        "Test accuracy (%) while training",
        ["step"] + [f"{k}, shuffled" if s else k for s in (False, True) for k in MODELS],
    )
    for i, (step, _) in enumerate(curves["linear", False]):
        curve_table.add(step, *(round(100 * curves[k, s][i][1], 1) for s in (False, True)
                                for k in MODELS))  # fmt: skip
    lesson.results = {
        "steps": steps,
        "batch": BATCH,
        "lr": LR,
        "seed": SEED,
        "train": len(y),
        "test": len(y_test),
        "positions": [int(p) for p in order[:2]],
        "paper": {
            "source": SOURCE,
            "steps": STEPS,
            "accuracy": {k: v / 100 for k, v in PAPER.items()},
            "accuracy_shuffled": {k: v / 100 for k, v in PAPER_SHUFFLED.items()},
        },
        "models": {
            "linear": [40, 10],
            "mlp": [40, 256, 256, 10],
            "cnn": {
                "channels": 25,
                "kernels": [5, 3, 3],
                "stride": 2,
                "lengths": [40, 19, 10, 5],
                "features": 125,
            },
        },
        "accuracy": {k: ours[k, False] for k in MODELS},
        "accuracy_shuffled": {k: ours[k, True] for k in MODELS},
        "cnn_drop_points": cnn_drop,
        "mlp_change_points": mlp_change,
        "linear_change_points": linear_change,
    }
    lesson.figure(
        "mnist1d-examples.png", _draw_examples(x, y, "Three training series of each digit")
    )
    lesson.figure(
        "mnist1d-examples-shuffled.png",
        _draw_examples(xs, ys, "The same series, positions shuffled (what the models see)"),
    )
    lesson.figure("mnist1d-curves.png", _draw_curves(curves, steps))
    lesson.figure("mnist1d-table.png", _draw_table(ours, steps))
    return lesson
