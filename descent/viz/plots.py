"""Pictures of learning: curves, loss landscapes with the optimizer's path, decision regions.

Each function returns a matplotlib ``Figure`` and, given ``path=``, also writes it as a PNG
of ``figsize * dpi`` pixels. matplotlib is an optional extra (``pip install 'descent[viz]'``)
imported only when a plot is made; figures are drawn on the Agg canvas, never through
pyplot, so nothing global changes and no window opens.
"""

from __future__ import annotations

import io
import math

import numpy as np

from ..autograd import enable_grad, no_grad
from ..autograd import grad as autodiff_grad
from ..io import atomic_write
from ..tensor import Tensor, tensor

__all__ = [
    "plot_history", "plot_loss_curve", "plot_loss_landscape", "plot_learning_rates",
    "plot_decision_boundary", "plot_weight_templates", "plot_confusion_matrix", "plot_series",
    "plot_bars", "plot_heatmaps", "png_bytes",
]  # fmt: skip

# Light region colours and dark point colours for up to ten classes (Tableau's palette).
POINT_COLOURS = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
]  # fmt: skip


# ---- figures ---------------------------------------------------------------------------------


def _matplotlib():
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as e:
        raise ImportError(
            "descent.viz plots need matplotlib, an optional extra: pip install 'descent[viz]' "
            "(or pip install matplotlib)"
        ) from e
    return Figure, FigureCanvasAgg


def _figure(figsize, dpi: float):
    Figure, FigureCanvasAgg = _matplotlib()
    fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def png_bytes(fig) -> bytes:
    """The figure as PNG bytes, ``figsize * dpi`` pixels."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=fig.dpi)
    return buf.getvalue()


def _done(fig, path):
    if path is not None:
        atomic_write(path, png_bytes(fig))
    return fig


def _array(x) -> np.ndarray:
    if isinstance(x, Tensor):
        return x.data
    if hasattr(x, "weight") and not isinstance(x, np.ndarray):
        return _array(x.weight)  # a Linear layer
    return np.asarray(x)


# ---- training curves ------------------------------------------------------------------------


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
    fig = _figure(figsize or (4.2 * len(panels), 3.4), dpi)
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
    return _done(fig, path)


# ---- calling loss functions -------------------------------------------------------------------


def _call(fn, *values) -> float:
    """``fn`` at plain numbers, or at 0-d float64 tensors where numbers do not work."""
    try:
        out = fn(*values)
    except (TypeError, AttributeError):
        out = fn(*(tensor(v, dtype=np.float64) for v in values))
    return float(_array(out))


def _gradient(fn, point: np.ndarray) -> np.ndarray:
    """d fn / d point by autodiff where ``fn`` is written with tensors, else numerically."""
    with enable_grad():
        xs = [tensor(v, dtype=np.float64, requires_grad=True) for v in point]
        try:
            out = fn(*xs)
        except (TypeError, AttributeError):
            out = None
        if isinstance(out, Tensor) and out.requires_grad:
            grads = autodiff_grad(out, xs, allow_unused=True)
            return np.array([0.0 if g is None else float(g.data) for g in grads])
    eps = 1e-6
    g = np.zeros(len(point))
    for i in range(len(point)):
        up, down = point.astype(np.float64), point.astype(np.float64)
        up[i] += eps
        down[i] -= eps
        g[i] = (_call(fn, *up) - _call(fn, *down)) / (2 * eps)
    return g


def _grid_values(fn, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """fn(a, b) on a grid: in one vectorised call where fn allows it, else point by point."""
    try:
        with np.errstate(all="ignore"):
            Z = np.asarray(_array(fn(A, B)), dtype=np.float64)
        if Z.shape == A.shape:
            return Z
    except Exception:  # noqa: BLE001 - any failure means: evaluate point by point
        pass
    Z = np.empty(A.shape)
    for idx in np.ndindex(A.shape):
        Z[idx] = _call(fn, float(A[idx]), float(B[idx]))
    return Z


def _curve_values(fn, xs: np.ndarray) -> np.ndarray:
    try:
        with np.errstate(all="ignore"):
            ys = np.asarray(_array(fn(xs)), dtype=np.float64)
        if ys.shape == xs.shape:
            return ys
    except Exception:  # noqa: BLE001 - any failure means: evaluate point by point
        pass
    return np.array([_call(fn, float(x)) for x in xs])


def _draw_path(ax, xs, ys, colour="#d62728", label="optimizer steps"):
    ax.plot(xs, ys, "-", color=colour, lw=1.2, alpha=0.9, zorder=3)
    ax.plot(xs, ys, "o", color=colour, ms=3.5, zorder=4, label=label)
    ax.plot(xs[0], ys[0], "o", mfc="white", mec=colour, ms=8, mew=2, zorder=5, label="start")
    ax.plot(xs[-1], ys[-1], "*", color="black", ms=12, zorder=5, label="end")


def plot_loss_curve(
    loss_fn,
    values,
    path_points=None,
    *,
    path=None,
    title: str | None = None,
    xlabel: str = "w",
    ylabel: str = "loss",
    figsize=(6, 4),
    dpi: float = 100,
):
    """A loss of one parameter, ``loss_fn(w)``, over ``values`` (points, or a (low, high) pair).

    ``path_points``: the parameter after each optimizer step, drawn on the curve.
    """
    xs = np.asarray(values, dtype=np.float64)
    if xs.shape == (2,):
        xs = np.linspace(xs[0], xs[1], 300)
    ys = _curve_values(loss_fn, xs)
    fig = _figure(figsize, dpi)
    ax = fig.subplots()
    ax.plot(xs, ys, color="#1f77b4", lw=2, label="loss")
    if path_points is not None and len(path_points):
        px = np.asarray(_array(path_points), dtype=np.float64).reshape(-1)
        py = np.array([_call(loss_fn, float(p)) for p in px])
        _draw_path(ax, px, py)
        span = np.nanmax(ys) - np.nanmin(ys)
        ax.set_ylim(np.nanmin(ys) - 0.05 * span, np.nanmax(ys) + 0.05 * span)
    ax.set_xlim(xs[0], xs[-1])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title or "loss curve")
    return _done(fig, path)


# ---- loss landscapes ----------------------------------------------------------------------------


def _limits(trajectory: np.ndarray | None, lim, axis: int, span: float, centre: float):
    if lim is not None:
        return tuple(lim)
    if trajectory is None or len(trajectory) == 0:
        return centre - span, centre + span
    lo = min(np.nanmin(trajectory[:, axis]), centre - 0.1 * span)
    hi = max(np.nanmax(trajectory[:, axis]), centre + 0.1 * span)
    pad = max(0.2 * (hi - lo), 0.1 * span)
    return lo - pad, hi + pad


def _contours(ax, fig, A, B, Z, levels: int, log_scale, colorbar: bool = True):
    """Filled contours of Z. Levels: even (log_scale=False), geometric (True), or by default
    at quantiles of the values, so every band covers a similar area whatever the loss's range.
    """
    from matplotlib.colors import BoundaryNorm

    finite = Z[np.isfinite(Z)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if hi <= lo:
        hi = lo + 1.0
    if log_scale and lo > 0:
        lv = np.geomspace(lo, hi, levels)
    elif log_scale is None and finite.size:
        lv = np.unique(np.quantile(finite, np.linspace(0, 1, levels)))
        if lv.size < 3:
            lv = np.linspace(lo, hi, levels)
    else:
        lv = np.linspace(lo, hi, levels)
    norm = BoundaryNorm(lv, 256)
    filled = ax.contourf(A, B, np.clip(Z, lo, hi), levels=lv, cmap="viridis", norm=norm)
    ax.contour(A, B, Z, levels=lv[::3], colors="white", linewidths=0.4, alpha=0.6)
    if colorbar:
        fig.colorbar(filled, ax=ax, label="loss", format="%.4g")


def _loss_of(loss_fn):
    if isinstance(loss_fn, str):
        from ..nn import functional as F

        try:
            return {"mse": F.mse_loss, "cross_entropy": F.cross_entropy}[loss_fn]
        except KeyError:
            raise ValueError(
                f"unknown loss {loss_fn!r}; use 'mse', 'cross_entropy' or a function"
            ) from None
    return loss_fn


def _parameter_list(model) -> list:
    return list(model.named_parameters())


def _filter_normalised(params: list, rng) -> list:
    """A random direction scaled filter by filter to the weights' norms (Li et al., 2018).

    Biases and other 1-D parameters get no component, unless the model has nothing else.
    """
    has_matrix = any(p.data.ndim >= 2 for _, p in params)
    out = []
    for _, p in params:
        w = p.data.astype(np.float64)
        if w.ndim <= 1 and has_matrix:
            out.append(np.zeros_like(w))
            continue
        d = rng.standard_normal(w.shape)
        if w.ndim <= 1:
            d *= np.linalg.norm(w) / (np.linalg.norm(d) + 1e-10)
        else:
            axes = tuple(range(1, w.ndim))
            wn = np.sqrt(np.sum(w * w, axis=axes, keepdims=True))
            dn = np.sqrt(np.sum(d * d, axis=axes, keepdims=True))
            d *= wn / (dn + 1e-10)
        out.append(d)
    return out


def _flat_state(state, params: list) -> np.ndarray:
    """One flat vector of the model's parameters from a state dict (names as the model's)."""
    parts = []
    for name, _ in params:
        if name not in state:
            raise KeyError(f"trajectory: a state is missing {name!r}; it has {sorted(state)}")
        parts.append(np.asarray(_array(state[name]), dtype=np.float64).reshape(-1))
    return np.concatenate(parts)


def _pick(model, spec) -> tuple:
    """(parameter, index, label) for one chosen scalar: ('0.weight', (0, 1)) or a Tensor."""
    named = dict(model.named_parameters())
    if isinstance(spec, Tensor):
        spec = (spec, ())
    if isinstance(spec, str):
        spec = (spec, ())
    ref, index = spec
    index = index if isinstance(index, tuple) else (index,)
    if isinstance(ref, str):
        if ref not in named:
            raise KeyError(
                f"plot_loss_landscape: no parameter {ref!r}; the model has {sorted(named)}"
            )
        p, label = named[ref], ref
    else:
        p = ref
        label = next((n for n, q in named.items() if q is p), "parameter")
    if len(index) != p.data.ndim:
        if p.data.size == 1:
            index = (0,) * p.data.ndim
        else:
            raise ValueError(
                f"plot_loss_landscape: {label} has shape {p.shape}; give an index into it, "
                f"e.g. ({label!r}, {(0,) * p.data.ndim})"
            )
    if index:
        label += "[" + ", ".join(str(i) for i in index) + "]"
    return p, index, label


def plot_loss_landscape(
    model_or_loss_fn,
    data=None,
    loss_fn=None,
    *,
    params=None,
    trajectory=None,
    directions: str = "random",
    span: float = 1.0,
    xlim=None,
    ylim=None,
    resolution: int | None = None,
    seed: int = 0,
    levels: int = 30,
    log_scale: bool | None = None,
    title: str | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    path=None,
    figsize=(6, 5),
    dpi: float = 100,
):
    """A 2-D loss landscape (contours) with the optimizer's path on it.

    Three ways to call it:

    - ``plot_loss_landscape(f, trajectory=steps)``: ``f(a, b)`` a loss of two numbers, and
      ``steps`` an array of (a, b) points.
    - ``plot_loss_landscape(model, (X, y), loss_fn, params=[('0.weight', (0, 0)),
      ('0.bias', 0)])``: the loss as two chosen scalar parameters vary, the rest fixed;
      ``trajectory`` as (a, b) points or a list of state dicts saved during training.
    - ``plot_loss_landscape(model, (X, y), loss_fn)``: around the current weights along two
      random filter-normalised directions (``directions='random'``, Li et al. 2018), or the
      two main directions of a trajectory of state dicts (``directions='pca'``); ``span`` is
      the distance drawn along each, in units of the direction.

    ``loss_fn(output, target)`` is a function or 'mse' / 'cross_entropy'. The contour
    levels sit at quantiles of the loss (``log_scale=None``), so valleys stay visible
    whatever the range; ``log_scale=True`` spaces them geometrically, False evenly.
    """
    fig = _figure(figsize, dpi)
    ax = fig.subplots()
    is_model = hasattr(model_or_loss_fn, "named_parameters")
    traj = None
    if not is_model:
        fn = model_or_loss_fn
        if trajectory is not None:
            traj = np.asarray(_array(trajectory), dtype=np.float64).reshape(-1, 2)
        centre = traj[-1] if traj is not None else np.zeros(2)
        res = resolution or 101
        ax_x = np.linspace(*_limits(traj, xlim, 0, span, centre[0]), res)
        ax_y = np.linspace(*_limits(traj, ylim, 1, span, centre[1]), res)
        A, B = np.meshgrid(ax_x, ax_y)
        Z = _grid_values(fn, A, B)
        labels = (xlabel or "a", ylabel or "b")
    else:
        model = model_or_loss_fn
        if data is None or loss_fn is None:
            raise ValueError("plot_loss_landscape(model, (X, y), loss_fn): give the data and loss")
        A, B, Z, traj, labels = _model_landscape(
            model, data, _loss_of(loss_fn), params, trajectory, directions, span, xlim, ylim,
            resolution or 25, seed,
        )  # fmt: skip
        labels = (xlabel or labels[0], ylabel or labels[1])
    _contours(ax, fig, A, B, Z, levels, log_scale)
    if traj is not None and len(traj):
        _draw_path(ax, traj[:, 0], traj[:, 1], colour="#ff5a4e")
        ax.legend(fontsize=8, loc="upper right")
    if is_model and params is None:
        ax.plot(0, 0, "w+", ms=12, mew=2)
    ax.set_xlim(A[0, 0], A[0, -1])
    ax.set_ylim(B[0, 0], B[-1, 0])
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    ax.set_title(title or "loss landscape")
    return _done(fig, path)


def _model_landscape(
    model, data, loss_fn, params, trajectory, directions, span, xlim, ylim, res, seed
):
    X, y = data
    X = X if isinstance(X, Tensor) else tensor(X)
    y = y if isinstance(y, Tensor) else tensor(y)
    named = _parameter_list(model)
    originals = [p.data.copy() for _, p in named]
    modes = [(m, m.training) for m in model.modules()]

    if params is not None:
        if len(params) != 2:
            raise ValueError("plot_loss_landscape: params= takes exactly two scalar parameters")
        picks = [_pick(model, s) for s in params]
        centre = np.array([float(p.data[idx]) for p, idx, _ in picks])
        traj = None
        if trajectory is not None:
            if len(trajectory) and isinstance(trajectory[0], dict):
                names = {id(p): n for n, p in named}
                traj = np.array(
                    [
                        [float(_array(s[names[id(p)]])[idx]) for p, idx, _ in picks]
                        for s in trajectory
                    ]
                )
            else:
                traj = np.asarray(_array(trajectory), dtype=np.float64).reshape(-1, 2)

        def set_point(a, b):
            for (p, idx, _), v in zip(picks, (a, b)):
                p.data[idx] = v

        xs = np.linspace(*_limits(traj, xlim, 0, span, centre[0]), res)
        ys = np.linspace(*_limits(traj, ylim, 1, span, centre[1]), res)
        labels = (picks[0][2], picks[1][2])
    else:
        centre_vec = np.concatenate([o.reshape(-1).astype(np.float64) for o in originals])
        states = None
        if trajectory is not None:
            states = np.stack([_flat_state(s, named) for s in trajectory])
        if directions == "pca":
            if states is None or len(states) < 3:
                raise ValueError(
                    "plot_loss_landscape: directions='pca' needs a trajectory of 3+ states"
                )
            diffs = states - centre_vec
            _, _, vt = np.linalg.svd(diffs - diffs.mean(axis=0), full_matrices=False)
            d1, d2 = vt[0], vt[1]
            labels = ("1st principal direction", "2nd principal direction")
        elif directions == "random":
            rng = np.random.default_rng(seed)
            d1 = np.concatenate([d.reshape(-1) for d in _filter_normalised(named, rng)])
            d2 = np.concatenate([d.reshape(-1) for d in _filter_normalised(named, rng)])
            labels = ("direction 1 (random, filter-normalised)", "direction 2")
        else:
            raise ValueError(
                f"plot_loss_landscape: directions must be 'random' or 'pca', not {directions!r}"
            )
        traj = None
        if states is not None:
            basis = np.stack([d1, d2], axis=1)  # (P, 2)
            traj, *_ = np.linalg.lstsq(basis, (states - centre_vec).T, rcond=None)
            traj = traj.T
        sizes = [o.size for o in originals]
        splits = np.cumsum(sizes)[:-1]

        def set_point(a, b):
            flat = centre_vec + a * d1 + b * d2
            for (_, p), part, o in zip(named, np.split(flat, splits), originals):
                p.data[...] = part.reshape(o.shape)

        xs = np.linspace(*_limits(traj, xlim, 0, span, 0.0), res)
        ys = np.linspace(*_limits(traj, ylim, 1, span, 0.0), res)

    A, B = np.meshgrid(xs, ys)
    Z = np.empty(A.shape)
    try:
        model.eval()
        with no_grad():
            for idx in np.ndindex(A.shape):
                set_point(A[idx], B[idx])
                Z[idx] = float(_array(loss_fn(model(X), y)))
    finally:
        for (_, p), o in zip(named, originals):
            p.data[...] = o
        for m, mode in modes:
            m.training = mode
    return A, B, Z, traj, labels


# ---- learning rates side by side -------------------------------------------------------------


def _descend(loss_fn, start: np.ndarray, lr: float, steps: int) -> tuple[np.ndarray, bool]:
    """Plain gradient descent from ``start``: the points visited, and whether it diverged."""
    points = [start.astype(np.float64)]
    for _ in range(steps):
        p = points[-1]
        nxt = p - lr * _gradient(loss_fn, p)
        if not np.all(np.isfinite(nxt)) or np.max(np.abs(nxt)) > 1e6:
            return np.array(points), True
        points.append(nxt)
    return np.array(points), False


def plot_learning_rates(
    loss_fn,
    lrs=None,
    *,
    start=None,
    steps: int = 20,
    runs=None,
    xlim=None,
    ylim=None,
    path=None,
    title: str | None = None,
    figsize=None,
    dpi: float = 100,
):
    """Several learning rates side by side on one loss, one panel each.

    Either ``lrs`` and ``start`` (a number for a loss of one parameter, a pair for two):
    plain gradient descent runs ``steps`` steps from ``start`` with each rate (gradients by
    autodiff where ``loss_fn`` is written with tensors, else numerically); or ``runs``, a
    list of ``(lr, points)`` already recorded. 1-D losses are drawn as curves, 2-D as
    contours; a run that blows up is marked 'diverged'.
    """
    if runs is None:
        if lrs is None or start is None:
            raise ValueError(
                "plot_learning_rates: give lrs= and start=, or runs=[(lr, points), ...]"
            )
        start_arr = np.atleast_1d(np.asarray(start, dtype=np.float64))
        runs = []
        for lr in lrs:
            pts, diverged = _descend(loss_fn, start_arr, float(lr), steps)
            runs.append((lr, pts, diverged))
    else:
        runs = [(lr, np.asarray(_array(pts), dtype=np.float64), False) for lr, pts in runs]
    dim = 1 if runs[0][1].ndim == 1 or runs[0][1].shape[-1] == 1 else 2
    runs = [(lr, pts.reshape(len(pts), dim), div) for lr, pts, div in runs]
    n = len(runs)
    fig = _figure(figsize or (3.4 * n, 3.3), dpi)
    axes = fig.subplots(1, n, squeeze=False)[0]
    # The view fits the runs that settle; a diverging one runs out of it, as it should.
    settling = [p for _, p, div in runs if not div and not _grows(loss_fn, p)] or [
        p for _, p, _ in runs
    ]
    visible = np.concatenate([p[np.all(np.abs(p) < 1e3, axis=1)] for p in settling])
    if dim == 1:
        lo, hi = xlim or _span_of(visible[:, 0])
        xs = np.linspace(lo, hi, 300)
        ys = _curve_values(loss_fn, xs)
        y_lo, y_hi = ylim or (np.nanmin(ys), np.nanmax(ys))
        pad = 0.05 * (y_hi - y_lo or 1.0)
        for ax, (lr, pts, diverged) in zip(axes, runs):
            ax.plot(xs, ys, color="#1f77b4", lw=1.8)
            py = np.array([_call(loss_fn, float(v)) for v in pts[:, 0]])
            _draw_path(ax, pts[:, 0], py)
            ax.set_xlim(lo, hi)
            ax.set_ylim(y_lo - pad, y_hi + pad)
            ax.set_xlabel("w")
            _run_title(ax, lr, diverged, py)
        axes[0].set_ylabel("loss")
    else:
        xr = xlim or _span_of(visible[:, 0])
        yr = ylim or _span_of(visible[:, 1])
        A, B = np.meshgrid(np.linspace(*xr, 81), np.linspace(*yr, 81))
        Z = _grid_values(loss_fn, A, B)
        for ax, (lr, pts, diverged) in zip(axes, runs):
            _contours(ax, fig, A, B, Z, 25, None, colorbar=False)
            losses = np.array([_call(loss_fn, *map(float, p)) for p in pts])
            _draw_path(ax, pts[:, 0], pts[:, 1], colour="#ff5a4e")
            ax.set_xlim(*xr)
            ax.set_ylim(*yr)
            ax.set_xlabel("a")
            _run_title(ax, lr, diverged, losses)
        axes[0].set_ylabel("b")
    if title:
        fig.suptitle(title)
    return _done(fig, path)


def _span_of(values: np.ndarray) -> tuple[float, float]:
    lo, hi = float(np.min(values)), float(np.max(values))
    pad = 0.15 * (hi - lo) if hi > lo else 1.0
    return lo - pad, hi + pad


def _grows(loss_fn, points: np.ndarray) -> bool:
    """Whether the loss ends higher than it started (a run on its way to diverging)."""
    first = _call(loss_fn, *map(float, points[0]))
    last = _call(loss_fn, *map(float, points[-1]))
    return not np.isfinite(last) or last > first


def _run_title(ax, lr, diverged: bool, losses: np.ndarray) -> None:
    last = losses[-1] if len(losses) else float("nan")
    steps = len(losses) - 1
    if diverged or not np.isfinite(last):
        status = f"diverged after {steps} steps"
    elif len(losses) > 1 and last > losses[0]:
        status = f"diverging: loss {losses[0]:.3g} -> {last:.3g}"
    else:
        status = f"loss {last:.3g} after {steps} steps"
    ax.set_title(f"lr = {lr:g}\n{status}", fontsize=10)
    ax.grid(alpha=0.3)


# ---- classifiers ------------------------------------------------------------------------------


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
        dtype = params[0].data.dtype if params else np.float32
        modes = [(m, m.training) for m in model.modules()]
        try:
            model.eval()
            with no_grad():
                out = _array(model(tensor(X.astype(dtype))))
        finally:
            for m, mode in modes:
                m.training = mode
    elif hasattr(model, "predict"):
        out = _array(model.predict(X))
    else:
        out = _array(model(X))
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
):
    """The regions a 2-D classifier assigns to each class, and the labelled points.

    ``model_or_predict_fn``: a Module (scores or one logit/probability column), an
    estimator with ``predict``, or a function from an (n, 2) array to labels or scores.
    """
    X = np.asarray(_array(X), dtype=np.float64)
    y = np.asarray(_array(y)).reshape(-1)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary: X must have two features, got shape {X.shape}")
    x_lo, x_hi = X[:, 0].min() - margin, X[:, 0].max() + margin
    y_lo, y_hi = X[:, 1].min() - margin, X[:, 1].max() + margin
    A, B = np.meshgrid(np.linspace(x_lo, x_hi, resolution), np.linspace(y_lo, y_hi, resolution))
    grid = np.column_stack([A.ravel(), B.ravel()])
    regions = _predict(model_or_predict_fn, grid).reshape(A.shape)
    classes = np.unique(np.concatenate([np.unique(y.astype(np.int64)), np.unique(regions)]))
    k = int(classes.max()) + 1 if classes.size else 1

    fig = _figure(figsize, dpi)
    from matplotlib.colors import BoundaryNorm, ListedColormap

    ax = fig.subplots()
    colours = [POINT_COLOURS[i % len(POINT_COLOURS)] for i in range(k)]
    cmap = ListedColormap(colours)
    norm = BoundaryNorm(np.arange(-0.5, k + 0.5), k)
    ax.contourf(A, B, regions, levels=np.arange(-0.5, k + 0.5), cmap=cmap, norm=norm, alpha=0.25)
    if k > 1:
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
    return _done(fig, path)


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
    W = np.asarray(_array(weight), dtype=np.float64)
    pixels = int(np.prod(image_shape))
    if W.ndim != 2:
        raise ValueError(f"plot_weight_templates: weight must be 2-D, got shape {W.shape}")
    if W.shape[1] != pixels and W.shape[0] == pixels:
        W = W.T
    if W.shape[1] != pixels:
        raise ValueError(
            f"plot_weight_templates: weight of shape {W.shape} does not fit images of shape "
            f"{tuple(image_shape)} ({pixels} pixels)"
        )
    n = W.shape[0]
    ncols = ncols or min(n, 5)
    nrows = math.ceil(n / ncols)
    fig = _figure(figsize or (1.9 * ncols, 2.1 * nrows + 0.3), dpi)
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
    return _done(fig, path)


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
    cm = np.asarray(_array(cm))
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"plot_confusion_matrix: cm must be square, got shape {cm.shape}")
    k = cm.shape[0]
    names = [str(c) for c in class_names] if class_names is not None else [str(i) for i in range(k)]
    shown = cm.astype(np.float64)
    if normalize:
        shown = shown / np.maximum(shown.sum(axis=1, keepdims=True), 1)
    side = max(4.0, 0.55 * k + 2.2)
    fig = _figure(figsize or (side + 0.8, side), dpi)
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
    return _done(fig, path)


# ---- lines, bars and grids of numbers ----------------------------------------------------------


def _xy(values) -> tuple[np.ndarray, np.ndarray]:
    """(xs, ys) from ys alone (xs = 0, 1, 2, ...) or from an (xs, ys) pair."""
    if isinstance(values, tuple) and len(values) == 2:
        xs, ys = (np.asarray(_array(v), dtype=np.float64).reshape(-1) for v in values)
    else:
        ys = np.asarray(_array(values), dtype=np.float64).reshape(-1)
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
    path=None,
    title: str | None = None,
    figsize=(6, 4),
    dpi: float = 100,
):
    """Named curves and point sets on one pair of axes: learning curves, data and fitted lines.

    ``series``: ``{name: ys}`` (drawn against 0, 1, 2, ...) or ``{name: (xs, ys)}``, as lines
    (with markers when they are short). ``points``: ``{name: (xs, ys)}``, as dots.
    ``vlines`` / ``hlines``: ``{label: position}``, dashed reference lines.
    """
    series, points = dict(series or {}), dict(points or {})
    if not series and not points:
        raise ValueError("plot_series: nothing to plot; give series= or points=")
    fig = _figure(figsize, dpi)
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
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return _done(fig, path)


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
    fig = _figure(figsize or (n * max(4.0, 0.4 * len(categories) * most + 2.4), 3.8), dpi)
    axes = fig.subplots(1, n, squeeze=False)[0]
    positions = np.arange(len(categories))
    for ax, (panel, bars), label in zip(axes, panels.items(), ylabels):
        width = 0.8 / len(bars)
        for i, (name, heights) in enumerate(bars.items()):
            heights = np.asarray(_array(heights), dtype=np.float64).reshape(-1)
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
    return _done(fig, path)


def plot_heatmaps(
    arrays,
    *,
    annotate: bool = True,
    digits: int = 3,
    path=None,
    title: str | None = None,
    figsize=None,
    dpi: float = 100,
):
    """Small 2-D arrays side by side, ``{title: array}``, each cell's number written in it.

    Each array has its own colour scale: red for positive values, blue for negative ones
    (a red-blue map centred at 0), white at 0.
    """
    arrays = {str(k): np.asarray(_array(v), dtype=np.float64) for k, v in dict(arrays).items()}
    if not arrays:
        raise ValueError("plot_heatmaps: nothing to plot")
    for name, a in arrays.items():
        if a.ndim == 1:
            arrays[name] = a = a.reshape(1, -1)
        if a.ndim != 2:
            raise ValueError(f"plot_heatmaps: {name!r} must be 2-D, got shape {a.shape}")
    widths = [a.shape[1] for a in arrays.values()]
    rows = max(a.shape[0] for a in arrays.values())
    fig = _figure(figsize or (0.75 * sum(widths) + 0.6 * len(arrays), 0.75 * rows + 1.3), dpi)
    axes = fig.subplots(1, len(arrays), squeeze=False, width_ratios=widths)[0]
    for ax, (name, a) in zip(axes, arrays.items()):
        top = float(np.abs(a).max()) or 1.0
        if a.min() < 0:
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
    return _done(fig, path)
