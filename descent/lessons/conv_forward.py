"""conv-forward: one patch through convolution, max pooling and ReLU, every number shown.

A 4x6 patch and a 3x3 edge filter: convolution with no padding and stride 1 gives a 2x4
map, 2x2 max pooling with stride 2 gives 1x2, ReLU keeps the positive part.
"""

from __future__ import annotations

import numpy as np

from .. import viz
from ..nn import functional as F
from ..tensor import float64, tensor
from .lesson import Lesson

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
            "of each block, and ReLU sets negative values to 0."
        ),
    )
    x = tensor(PATCH, dtype=float64).reshape(1, 1, 4, 6)  # (N, C, H, W)
    w = tensor(FILTER, dtype=float64).reshape(1, 1, 3, 3)  # (out, in, kh, kw)
    _grid(lesson, "The input patch (4x6)", x._data[0, 0])
    _grid(lesson, "The filter (3x3)", w._data[0, 0])
    lesson.say(
        "This filter adds up the row above with weights 1 2 1 and subtracts the row below: "
        "it responds to horizontal edges, positive where the image gets darker going down. As "
        "in every deep-learning library the filter is not flipped (strictly, this is "
        "cross-correlation; the lectures and the libraries call it convolution)."
    )

    conv = F.conv2d(x, w)  # no padding, stride 1: (1, 1, 4-3+1, 6-3+1) = (1, 1, 2, 4)
    window = x._data[0, 0, 0:3, 0:3]
    products = window * w._data[0, 0]
    _grid(
        lesson, "Output[0, 0] step by step: patch[0:3, 0:3] * filter, element by element", products
    )
    lesson.say(
        f"The products add up to {_number(products.sum())}: that is output[0, 0]. Moving the "
        f"filter one column to the right gives output[0, 1], and so on: the 3x3 filter fits "
        f"in 4 - 3 + 1 = 2 rows and 6 - 3 + 1 = 4 columns of positions."
    )
    _grid(lesson, "After convolution (2x4), F.conv2d", conv._data[0, 0])

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
    _grid(lesson, "After 2x2 max pooling, stride 2 (1x2), F.max_pool2d", pooled._data[0, 0])

    out = F.relu(pooled)
    lesson.say("ReLU, max(0, v), keeps positive values and turns negative ones into 0.")
    _grid(lesson, "After ReLU (1x2), F.relu", out._data[0, 0])
    lesson.say(
        f"From {x._data.size} numbers to {out._data.size}: each says how strongly a horizontal "
        f"edge appears in one half of the patch. (ReLU and max pooling commute, so the order "
        f"of these two does not matter.)"
    )

    lesson.results.update(
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
