"""What every plot shares: matplotlib loaded on use, an Agg figure, PNG bytes, saving.

Each plot function returns a matplotlib ``Figure`` and, given ``path=``, also writes it as
a PNG of ``figsize * dpi`` pixels. matplotlib is an optional extra (``pip install
'descent[viz]'``) imported only when a plot is made; figures are drawn on the Agg canvas,
never through pyplot, so nothing global changes and no window opens.
"""

from __future__ import annotations

import io
from contextlib import contextmanager

import numpy as np

from .._extras import require
from ..autograd import no_grad
from ..io import atomic_write
from ..tensor import Tensor

__all__ = ["POINT_COLOURS", "as_array", "evaluating", "figure", "finish", "png_bytes"]

# Light region colours and dark point colours for up to ten classes (Tableau's palette).
POINT_COLOURS = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
]  # fmt: skip


def _matplotlib():
    agg = require("matplotlib.backends.backend_agg", "viz", "descent.viz plots")
    return require("matplotlib.figure", "viz", "descent.viz plots").Figure, agg.FigureCanvasAgg


def figure(figsize, dpi: float):
    """A new figure on its own Agg canvas, laid out by matplotlib's constrained layout."""
    Figure, FigureCanvasAgg = _matplotlib()
    fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def png_bytes(fig) -> bytes:
    """The figure as PNG bytes, ``figsize * dpi`` pixels."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=fig.dpi)
    return buf.getvalue()


def finish(fig, path):
    """The figure, written as a PNG to ``path`` first when one is given."""
    if path is not None:
        atomic_write(path, png_bytes(fig))
    return fig


def as_array(x) -> np.ndarray:
    """The numbers behind what a caller passed: a Tensor, a Linear layer (its weight), a list."""
    if isinstance(x, Tensor):
        return x._data
    if hasattr(x, "weight") and not isinstance(x, np.ndarray):
        return as_array(x.weight)  # a Linear layer
    return np.asarray(x)


@contextmanager
def evaluating(model):
    """``model`` in eval mode and no graph recorded inside the block; each module's own
    mode is restored after it."""
    modes = [(m, m.training) for m in model.modules()]
    try:
        model.eval()
        with no_grad():
            yield model
    finally:
        for m, mode in modes:
            m.training = mode
