"""Classification pictures: decision regions, weight templates, the confusion matrix."""

from __future__ import annotations

import math

import numpy as np

from ..tensor import tensor
from .figure import POINT_COLOURS, as_array, evaluating, figure, finish

__all__ = ["plot_confusion_matrix", "plot_decision_boundary", "plot_weight_templates"]


def _labels_from(out: np.ndarray) -> np.ndarray:
    """Class labels from a model's output: argmax of scores, or a threshold on one column."""
    out = np.asarray(out)
    if out.ndim == 2 and out.shape[1] > 1:
        return out.argmax(axis=1)
    out = out.reshape(-1)
    if out.dtype.kind in "iub":
        return out.astype(np.int64)
    probabilities = np.all((out >= 0) & (out <= 1))
    return (out > (0.5 if probabilities else 0.0)).astype(np.int64)


def _predict(model, X: np.ndarray) -> np.ndarray:
    if hasattr(model, "named_parameters"):  # a descent Module: its forward, in eval mode
        params = list(model.parameters())
        dtype = params[0]._data.dtype if params else np.float32
        with evaluating(model):
            out = as_array(model(tensor(X.astype(dtype))))
    elif hasattr(model, "predict"):
        out = as_array(model.predict(X))
    else:
        out = as_array(model(X))
    return _labels_from(out)


def plot_decision_boundary(
    model_or_predict_fn,
    X,
    y,
    *,
    class_names=None,
    resolution: int = 200,
    margin: float = 0.5,
    path=None,
    title: str | None = None,
    figsize=(6, 5),
    dpi: float = 100,
    line=None,
):
    """The regions a 2-D classifier assigns to each class, and the labelled points.

    ``model_or_predict_fn``: a Module (scores or one logit/probability column), an
    estimator with ``predict``, or a function from an (n, 2) array to labels or scores.
    ``line=(w, b)``: the boundary is the line w1 x1 + w2 x2 + b = 0, drawn as that straight
    line (the regions' own edge is a staircase at the grid's resolution).
    """
    X = np.asarray(as_array(X), dtype=np.float64)
    y = np.asarray(as_array(y)).reshape(-1)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(
            f"plot_decision_boundary: X must have two features, got shape {tuple(X.shape)}"
        )
    x_lo, x_hi = X[:, 0].min() - margin, X[:, 0].max() + margin
    y_lo, y_hi = X[:, 1].min() - margin, X[:, 1].max() + margin
    A, B = np.meshgrid(np.linspace(x_lo, x_hi, resolution), np.linspace(y_lo, y_hi, resolution))
    grid = np.column_stack([A.ravel(), B.ravel()])
    regions = _predict(model_or_predict_fn, grid).reshape(A.shape)
    classes = np.unique(np.concatenate([np.unique(y.astype(np.int64)), np.unique(regions)]))
    k = int(classes.max()) + 1 if classes.size else 1

    fig = figure(figsize, dpi)
    from matplotlib.colors import BoundaryNorm, ListedColormap  # noqa: PLC0415

    ax = fig.subplots()
    colours = [POINT_COLOURS[i % len(POINT_COLOURS)] for i in range(k)]
    cmap = ListedColormap(colours)
    norm = BoundaryNorm(np.arange(-0.5, k + 0.5), k)
    ax.contourf(A, B, regions, levels=np.arange(-0.5, k + 0.5), cmap=cmap, norm=norm, alpha=0.25)
    if line is not None:
        (w1, w2), b = np.asarray(line[0], dtype=np.float64).reshape(2), float(line[1])
        if abs(w2) >= abs(w1):  # the line as x2 of x1, else x1 of x2
            ends = np.array([x_lo, x_hi]), -(w1 * np.array([x_lo, x_hi]) + b) / w2
        else:
            ends = -(w2 * np.array([y_lo, y_hi]) + b) / w1, np.array([y_lo, y_hi])
        ax.plot(*ends, color="black", linewidth=1.5, gid="boundary", label="boundary")
    elif k > 1:
        ax.contour(A, B, regions, levels=np.arange(0.5, k - 0.5), colors="black", linewidths=1.2)
    accuracy = np.mean(_predict(model_or_predict_fn, X) == y.astype(np.int64))
    for c in np.unique(y.astype(np.int64)):
        mask = y.astype(np.int64) == c
        name = class_names[c] if class_names is not None and c < len(class_names) else f"class {c}"
        ax.scatter(
            X[mask, 0],
            X[mask, 1],
            s=22,
            color=colours[c],
            edgecolors="black",
            linewidths=0.5,
            label=str(name),
        )
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(y_lo, y_hi)
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.legend(fontsize=8, loc="best")
    ax.set_title(title or f"decision regions (training accuracy {accuracy:.2f})")
    return finish(fig, path)


def plot_weight_templates(
    weight,
    image_shape,
    class_names=None,
    *,
    ncols: int | None = None,
    cmap: str = "RdBu_r",
    path=None,
    title: str | None = None,
    figsize=None,
    dpi: float = 100,
):
    """A linear classifier's weights as one image per class: what each class "looks for".

    ``weight``: (classes, pixels) as ``nn.Linear.weight`` (a Linear layer, Tensor or array;
    (pixels, classes) is transposed). ``image_shape``: (H, W), or (3, H, W) / (H, W, 3) for
    colour, drawn as RGB scaled to [0, 1] per class. Grey templates use a diverging colour
    map centred at 0: red where a pixel adds to the class's score, blue where it subtracts.
    """
    W = np.asarray(as_array(weight), dtype=np.float64)
    pixels = int(np.prod(image_shape))
    if W.ndim != 2:
        raise ValueError(f"plot_weight_templates: weight must be 2-D, got shape {tuple(W.shape)}")
    if W.shape[1] != pixels and W.shape[0] == pixels:
        W = W.T
    if W.shape[1] != pixels:
        raise ValueError(
            f"plot_weight_templates: weight of shape {tuple(W.shape)} does not fit images of shape "
            f"{tuple(image_shape)} ({pixels} pixels)"
        )
    n = W.shape[0]
    ncols = ncols or min(n, 5)
    nrows = math.ceil(n / ncols)
    fig = figure(figsize or (1.9 * ncols, 2.1 * nrows + 0.3), dpi)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    colour = len(image_shape) == 3 and 3 in (image_shape[0], image_shape[-1])
    vmax = float(np.abs(W).max()) or 1.0  # one scale for all, so classes compare
    image = None
    for i, ax in enumerate(axes.ravel()):
        ax.set_axis_off()
        if i >= n:
            continue
        t = W[i].reshape(image_shape)
        if colour:
            if t.shape[0] == 3:
                t = np.moveaxis(t, 0, -1)
            lo, hi = t.min(), t.max()
            ax.imshow((t - lo) / (hi - lo or 1.0), interpolation="nearest")
        else:
            t = t.reshape(image_shape[-2:]) if len(image_shape) > 2 else t
            image = ax.imshow(t, cmap=cmap, vmin=-vmax, vmax=vmax, interpolation="nearest")
        name = class_names[i] if class_names is not None else f"class {i}"
        ax.set_title(str(name), fontsize=10)
    if image is not None:
        fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.7, label="weight")
    fig.suptitle(title or "weight templates, one per class")
    return finish(fig, path)


def plot_confusion_matrix(
    cm,
    class_names=None,
    *,
    normalize: bool = False,
    cmap: str = "Blues",
    path=None,
    title: str | None = None,
    figsize=None,
    dpi: float = 100,
):
    """A confusion matrix (rows: true class, columns: predicted), each cell's count written.

    ``normalize=True`` colours by the fraction of each true class (the counts stay written).
    """
    cm = np.asarray(as_array(cm))
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"plot_confusion_matrix: cm must be square, got shape {tuple(cm.shape)}")
    k = cm.shape[0]
    names = [str(c) for c in class_names] if class_names is not None else [str(i) for i in range(k)]
    shown = cm.astype(np.float64)
    if normalize:
        shown = shown / np.maximum(shown.sum(axis=1, keepdims=True), 1)
    side = max(4.0, 0.55 * k + 2.2)
    fig = figure(figsize or (side + 0.8, side), dpi)
    ax = fig.subplots()
    image = ax.imshow(shown, cmap=cmap, interpolation="nearest")
    fig.colorbar(
        image, ax=ax, shrink=0.8, label="fraction of the true class" if normalize else "count"
    )
    top = shown.max() or 1.0
    fontsize = 10 if k <= 10 else max(5, 12 - k // 3)
    for i in range(k):
        for j in range(k):
            text = f"{int(cm[i, j])}" if cm.dtype.kind in "iub" else f"{cm[i, j]:.3g}"
            ax.text(
                j, i, text, ha="center", va="center", fontsize=fontsize,
                color="white" if shown[i, j] > 0.5 * top else "black",
            )  # fmt: skip
    ax.set_xticks(
        range(k),
        names,
        rotation=45 if max(map(len, names)) > 3 else 0,
        ha="right" if max(map(len, names)) > 3 else "center",
    )
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    total = cm.sum()
    accuracy = np.trace(cm) / total if total else float("nan")
    ax.set_title(title or f"confusion matrix (accuracy {accuracy:.3f}, {int(total)} examples)")
    return finish(fig, path)
