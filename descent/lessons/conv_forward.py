"""conv-forward: one patch through convolution, max pooling and ReLU, every number shown.

The lecture: deck 001 (``001_06db21ae3b045989.txt``), slides 151-152, Q3 and its solution:
the 4x6 image patch I and the 3x3 filter W; J = I * W (no padding, stride 1) is 2x4,
K = max pool(J) (2x2, stride 2) is 1x2, O = ReLU(K) keeps the positive part. The slide's
J = [[1, -1, -3, -2], [3, 1, -12, -20]], K = [3, -2] and O = [3, 0] are what descent computes.
"""

from __future__ import annotations

import numpy as np

from .. import viz
from ..nn import functional as F
from ..tensor import float64, tensor
from .lesson import Lesson

DECK = "001_06db21ae3b045989.txt"
SLIDES = {"Q3: J = I * W, K = max pool(J), O = ReLU(K), and its solution": [151, 152]}
PATCH = [
    [1, 3, 2, 4, 6, 4],
    [4, 8, 3, 1, 0, 2],
    [2, 1, 4, 3, 9, 1],
    [4, 7, 2, 3, 9, 2],
]
FILTER = [
    [1, 2, 1],
    [0, 0, 0],
    [-1, -2, -1],
]


def _grid(lesson: Lesson, title: str, values: np.ndarray) -> None:
    """A 2-d array as a table: one row per image row, one column per image column."""
    rows, cols = values.shape
    table = lesson.table(title, ["row"] + [f"col {j}" for j in range(cols)])
    for i in range(rows):
        table.add(i, *[_number(v) for v in values[i]])


def _number(v) -> int | float:
    """Whole numbers as ints (the grids hold integers), anything else as a float."""
    v = float(v)
    return int(v) if v.is_integer() else v


def _draw_maps(maps: dict):
    def draw(path):
        viz.plot_heatmaps(
            maps,
            title="One patch through a convolutional layer (red positive, blue negative, "
            "one colour scale for every stage)",
            path=path,
            shared_scale=True,
        )

    return draw


def conv_forward() -> Lesson:
    """Convolution (no padding, stride 1), 2x2 max pooling (stride 2) and ReLU on a 4x6 patch."""
    lesson = Lesson(
        name="conv-forward",
        title="The forward pass of a convolutional layer: convolution, max pooling, ReLU",
        summary=(
            "A convolutional layer slides a small filter over the image. At each position it "
            "multiplies the filter with the patch under it, element by element, and adds the "
            "products up: one number per position. Max pooling then keeps the largest value "
            "of each block, and ReLU sets negative values to 0. The slides' question: the image "
            "patch I, the filter W; compute J = I * W (no padding, stride 1), K = max pool(J) "
            "(2x2, stride 2) and O = ReLU(K). The lecture: deck "
            f"{DECK}, slides 151-152."
        ),
    )
    x = tensor(PATCH, dtype=float64).reshape(1, 1, 4, 6)  # (N, C, H, W)
    w = tensor(FILTER, dtype=float64).reshape(1, 1, 3, 3)  # (out, in, kh, kw)
    _grid(lesson, "The image patch I (4x6)", x._data[0, 0])
    _grid(lesson, "The filter W (3x3)", w._data[0, 0])
    lesson.say(
        "This filter adds up the row above with weights 1 2 1 and subtracts the row below: "
        "it responds to horizontal edges, positive where the image gets darker going down. As "
        "in every deep-learning library the filter is not flipped (strictly, this is "
        "cross-correlation; the lectures and the libraries call it convolution)."
    )

    conv = F.conv2d(x, w)  # no padding, stride 1: (1, 1, 4-3+1, 6-3+1) = (1, 1, 2, 4)
    window = x._data[0, 0, 0:3, 0:3]
    products = window * w._data[0, 0]
    _grid(lesson, "J[0, 0] step by step: I[0:3, 0:3] * W, element by element", products)
    lesson.say(
        f"The products add up to {_number(products.sum())}: that is J[0, 0]. Moving the "
        f"filter one column to the right gives J[0, 1], and so on: the 3x3 filter fits "
        f"in 4 - 3 + 1 = 2 rows and 6 - 3 + 1 = 4 columns of positions."
    )
    _grid(lesson, "J = I * W, the convolution (2x4), F.conv2d", conv._data[0, 0])

    pooled = F.max_pool2d(conv, kernel_size=2, stride=2)  # (1, 1, 1, 2)
    blocks = [conv._data[0, 0, 0:2, 2 * k : 2 * k + 2] for k in range(pooled.shape[3])]
    lesson.say(
        "2x2 max pooling with stride 2 cuts the map into blocks of 2x2 that do not overlap "
        "and keeps the largest value of each: "
        + "; ".join(
            f"max({', '.join(str(_number(v)) for v in b.ravel())}) = {_number(b.max())}"
            for b in blocks
        )
        + "."
    )
    _grid(lesson, "K = max pool(J), 2x2 with stride 2 (1x2), F.max_pool2d", pooled._data[0, 0])

    out = F.relu(pooled)
    lesson.say("ReLU, max(0, v), keeps positive values and turns negative ones into 0.")
    _grid(lesson, "O = ReLU(K) (1x2), F.relu", out._data[0, 0])
    lesson.say(
        f"From {x._data.size} numbers to {out._data.size}: each says how strongly a horizontal "
        f"edge appears in one half of the patch. (ReLU and max pooling commute, so the order "
        f"of these two does not matter.) J, K and O are the slide's solution, number for "
        f"number."
    )

    lesson.results.update(
        lecture={"deck": DECK, "slides": SLIDES},
        sizes={"I": x._data.size, "O": out._data.size},
        product_00=products.tolist(),
        patch=PATCH,
        filter=FILTER,
        convolution=conv._data[0, 0].tolist(),
        pooled=pooled._data[0, 0].tolist(),
        relu=out._data[0, 0].tolist(),
    )
    lesson.say(
        "descent lesson conv-forward --plot DIR draws the patch, the filter, the convolution "
        "output, the pooled map and the ReLU output, every number in its cell."
    )
    maps = {
        "input patch": x._data[0, 0],
        "filter": w._data[0, 0],
        "convolution": conv._data[0, 0],
        "2x2 max pool": pooled._data[0, 0],
        "ReLU": out._data[0, 0],
    }
    lesson.figure("conv-forward-maps.png", _draw_maps(maps))
    return lesson
