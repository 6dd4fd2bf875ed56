"""Charts of numbers: training histories, named series, grouped bars, small heatmaps."""

from __future__ import annotations

import numpy as np

from .figure import POINT_COLOURS, as_array, figure, finish

__all__ = ["plot_bars", "plot_heatmaps", "plot_history", "plot_series"]


def _history_dict(history) -> tuple[dict, list | None]:
    if hasattr(history, "history") and not isinstance(history, dict):
        return dict(history.history), list(getattr(history, "epoch", []) or []) or None
    history = dict(history)
    if "history" in history and isinstance(history["history"], dict):  # a state dict
        return dict(history["history"]), list(history.get("epoch") or []) or None
    return history, None


def plot_history(
    history,
    metrics=None,
    *,
    path=None,
    title: str | None = None,
    figsize=None,
    dpi: float = 100,
):
    """Training and validation curves from a ``History`` (or its dict), one panel per quantity.

    The loss comes first, then each metric (``metrics=['accuracy']``; default: all but
    'lr'), each with its ``val_`` twin where there is one. The best validation loss is
    marked.
    """
    h, epochs = _history_dict(history)
    if metrics is None:
        metrics = [k for k in h if not k.startswith("val_") and k not in ("loss", "lr")]
    panels = (["loss"] if "loss" in h or "val_loss" in h else []) + [
        m for m in metrics if m != "loss"
    ]
    panels = [p for p in panels if h.get(p) or h.get("val_" + p)]
    if not panels:
        raise ValueError(f"plot_history: nothing to plot; the history has {sorted(h)}")
    fig = figure(figsize or (4.2 * len(panels), 3.4), dpi)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, key in zip(axes, panels):
        for name, style in ((key, "-"), ("val_" + key, "--")):
            values = np.asarray(h.get(name) or [], dtype=np.float64)
            if values.size == 0:
                continue
            x = np.arange(1, values.size + 1)
            if epochs is not None and len(epochs) == values.size:
                x = np.asarray(epochs) + 1
            label = "validation" if name.startswith("val_") else "training"
            ax.plot(x, values, style, marker="o" if values.size < 30 else None, ms=3, label=label)
            if name == "val_loss" and np.isfinite(values).any():
                best = int(np.nanargmin(values))
                ax.plot(x[best], values[best], "k*", ms=10, label=f"best (epoch {x[best]})")
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.set_title(key)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        if key == "lr":
            ax.set_yscale("log")
    if title:
        fig.suptitle(title)
    return finish(fig, path)


def _xy(values) -> tuple[np.ndarray, np.ndarray]:
    """(xs, ys) from ys alone (xs = 0, 1, 2, ...) or from an (xs, ys) pair."""
    if isinstance(values, tuple) and len(values) == 2:
        xs, ys = (np.asarray(as_array(v), dtype=np.float64).reshape(-1) for v in values)
    else:
        ys = np.asarray(as_array(values), dtype=np.float64).reshape(-1)
        xs = np.arange(ys.size, dtype=np.float64)
    if xs.shape != ys.shape:
        raise ValueError(f"{xs.size} x values for {ys.size} y values")
    return xs, ys


def plot_series(
    series=None,
    *,
    points=None,
    vlines=None,
    hlines=None,
    xlabel: str = "x",
    ylabel: str = "y",
    log_y: bool = False,
    ylim=None,
    legend_below: bool = False,
    path=None,
    title: str | None = None,
    figsize=(6, 4),
    dpi: float = 100,
):
    """Named curves and point sets on one pair of axes: learning curves, data and fitted lines.

    ``series``: ``{name: ys}`` (drawn against 0, 1, 2, ...) or ``{name: (xs, ys)}``, as lines
    (with markers when they are short). ``points``: ``{name: (xs, ys)}``, as dots.
    ``vlines`` / ``hlines``: ``{label: position}``, dashed reference lines.
    ``legend_below``: the legend under the axes, off the curves (for curves that fill them).
    """
    series, points = dict(series or {}), dict(points or {})
    if not series and not points:
        raise ValueError("plot_series: nothing to plot; give series= or points=")
    fig = figure(figsize, dpi)
    ax = fig.subplots()
    for i, (name, values) in enumerate(points.items()):
        xs, ys = _xy(values)
        colour = POINT_COLOURS[i % len(POINT_COLOURS)]
        ax.scatter(xs, ys, s=24, color=colour, edgecolors="black", linewidths=0.5,
                   label=str(name), zorder=3)  # fmt: skip
    for i, (name, values) in enumerate(series.items()):
        xs, ys = _xy(values)
        colour = POINT_COLOURS[(i + len(points)) % len(POINT_COLOURS)]
        marker = "o" if 2 < xs.size <= 30 else None  # dots on short curves, not on segments
        ax.plot(xs, ys, "-", color=colour, lw=1.8, marker=marker, ms=3.5, label=str(name))
    for label, x in (vlines or {}).items():
        ax.axvline(float(x), color="black", ls="--", lw=1.0, alpha=0.6, label=str(label))
    for label, y in (hlines or {}).items():
        ax.axhline(float(y), color="#555555", ls=":", lw=1.2, label=str(label))
    if log_y:
        ax.set_yscale("log")
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    if legend_below:
        fig.legend(loc="outside lower center", ncol=3, fontsize=8)
    else:
        ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return finish(fig, path)


def plot_bars(
    values,
    categories,
    *,
    xlabel: str | None = None,
    ylabel=None,
    log_y: bool = False,
    annotate: bool = True,
    path=None,
    title: str | None = None,
    figsize=None,
    dpi: float = 100,
):
    """Grouped bars, one group per category and one bar per series, each bar's value on it.

    ``values``: ``{series: one value per category}``; or ``{panel title: {series: values}}``
    for several panels side by side (``ylabel`` then one label, or one per panel).
    """
    values = dict(values)
    if not values:
        raise ValueError("plot_bars: nothing to plot")
    if all(isinstance(v, dict) for v in values.values()):
        panels = values
    else:
        panels = {title or "": values}
        title = None
    categories = [str(c) for c in categories]
    ylabels = list(ylabel) if isinstance(ylabel, (list, tuple)) else [ylabel] * len(panels)
    n = len(panels)
    most = max(len(bars) for bars in panels.values())
    fig = figure(figsize or (n * max(4.0, 0.4 * len(categories) * most + 2.4), 3.8), dpi)
    axes = fig.subplots(1, n, squeeze=False)[0]
    positions = np.arange(len(categories))
    for ax, (panel, bars), label in zip(axes, panels.items(), ylabels):
        width = 0.8 / len(bars)
        for i, (name, heights) in enumerate(bars.items()):
            heights = np.asarray(as_array(heights), dtype=np.float64).reshape(-1)
            if heights.size != len(categories):
                raise ValueError(
                    f"plot_bars: {name!r} has {heights.size} values for "
                    f"{len(categories)} categories"
                )
            offset = (i - (len(bars) - 1) / 2) * width
            drawn = ax.bar(positions + offset, heights, width * 0.92, label=str(name),
                           color=POINT_COLOURS[i % len(POINT_COLOURS)])  # fmt: skip
            if annotate:
                ax.bar_label(drawn, labels=[f"{h:.3g}" for h in heights], fontsize=7, padding=1)
        ax.set_xticks(positions, categories)
        if log_y:
            ax.set_yscale("log")
        else:
            ax.margins(y=0.12)  # room for the numbers on the bars
        if label:
            ax.set_ylabel(label)
        if xlabel:
            ax.set_xlabel(xlabel)
        if panel:
            ax.set_title(panel)
        ax.grid(axis="y", alpha=0.3)
        if len(bars) > 1:
            ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    return finish(fig, path)


def plot_heatmaps(
    arrays,
    *,
    annotate: bool = True,
    digits: int = 3,
    path=None,
    title: str | None = None,
    figsize=None,
    dpi: float = 100,
    shared_scale: bool = False,
):
    """Small 2-D arrays side by side, ``{title: array}``, each cell's number written in it.

    Each array has its own colour scale: red for positive values, blue for negative ones
    (a red-blue map centred at 0), white at 0. ``shared_scale``: one scale for all, so a
    value has the same colour in every panel (stages of one computation).
    """
    arrays = {str(k): np.asarray(as_array(v), dtype=np.float64) for k, v in dict(arrays).items()}
    if not arrays:
        raise ValueError("plot_heatmaps: nothing to plot")
    for name, a in arrays.items():
        if a.ndim == 1:
            arrays[name] = a = a.reshape(1, -1)
        if a.ndim != 2:
            raise ValueError(f"plot_heatmaps: {name!r} must be 2-D, got shape {tuple(a.shape)}")
    widths = [a.shape[1] for a in arrays.values()]
    rows = max(a.shape[0] for a in arrays.values())
    fig = figure(figsize or (0.75 * sum(widths) + 0.6 * len(arrays), 0.75 * rows + 1.3), dpi)
    axes = fig.subplots(1, len(arrays), squeeze=False, width_ratios=widths)[0]
    every = np.concatenate([a.ravel() for a in arrays.values()])
    for ax, (name, a) in zip(axes, arrays.items()):
        top = float(np.abs(every if shared_scale else a).max()) or 1.0
        if shared_scale or a.min() < 0:
            image = ax.imshow(a, cmap="RdBu_r", vmin=-top, vmax=top)
        else:
            image = ax.imshow(a, cmap="Reds", vmin=0, vmax=top)
        if annotate:
            for (i, j), v in np.ndenumerate(a):
                r, g, b, _ = image.cmap(image.norm(v))
                dark = 0.299 * r + 0.587 * g + 0.114 * b < 0.5
                text = f"{int(v)}" if float(v).is_integer() else f"{v:.{digits}g}"
                ax.text(j, i, text, ha="center", va="center", fontsize=10,
                        color="white" if dark else "black")  # fmt: skip
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"{name}\n{a.shape[0]}x{a.shape[1]}", fontsize=10)
    if title:
        fig.suptitle(title)
    return finish(fig, path)
