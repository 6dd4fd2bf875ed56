"""Landscapes: a loss drawn over its parameters, with the optimizer's path on it.

A loss curve of one parameter, a loss landscape of two (or of a model along two
directions), and several learning rates side by side on one loss.
"""

from __future__ import annotations

import numpy as np

from .._extras import require
from ..autograd import enable_grad
from ..autograd import grad as autodiff_grad
from ..gradcheck import numerical_grad
from ..nn import functional as F
from ..optim import GradientDescent
from ..tensor import Tensor, tensor
from .figure import as_array, evaluating, figure, finish

__all__ = ["plot_learning_rates", "plot_loss_curve", "plot_loss_landscape"]


# ---- calling loss functions -------------------------------------------------------------------


def _call(fn, *values) -> float:
    """``fn`` at plain numbers, or at 0-d float64 tensors where numbers do not work."""
    try:
        out = fn(*values)
    except (TypeError, AttributeError):
        out = fn(*(tensor(v, dtype=np.float64) for v in values))
    return float(as_array(out))


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
            return np.array([0.0 if g is None else float(g._data) for g in grads])
    # fn works on numbers only: central differences on one float64 vector of them
    at = tensor(point, dtype=np.float64)
    (g,) = numerical_grad(lambda p: tensor(_call(fn, *p._data), dtype=np.float64), [at])
    return g._data


def _values(fn, *grids: np.ndarray) -> np.ndarray:
    """fn on a curve (one array) or a grid (two): in one vectorised call where fn allows
    it, else point by point."""
    try:
        with np.errstate(all="ignore"):
            Z = np.asarray(as_array(fn(*grids)), dtype=np.float64)
        if Z.shape == grids[0].shape:
            return Z
    except Exception:  # noqa: BLE001 - any failure means: evaluate point by point
        pass
    Z = np.empty(grids[0].shape)
    for idx in np.ndindex(Z.shape):
        Z[idx] = _call(fn, *(float(g[idx]) for g in grids))
    return Z


def _losses_at(fn, points: np.ndarray) -> np.ndarray:
    """fn at each point of an (n, d) array (or an (n,) one of single numbers), one by one."""
    return np.array([_call(fn, *map(float, np.atleast_1d(p))) for p in points])


def _draw_path(ax, xs, ys, colour="#d62728", label="optimizer steps"):
    """The steps as dots joined by a line, the start a ring and the end a star.

    The start is drawn above the end: a run that ends where it began (lr 1 on the secret
    number: 5, -1, 5, ...) shows the ring around the star, not the star alone.
    """
    ax.plot(xs, ys, "-", color=colour, lw=1.2, alpha=0.9, zorder=3)
    ax.plot(xs, ys, "o", color=colour, ms=3.5, zorder=4, label=label)
    ax.plot(xs[-1], ys[-1], "*", color="black", ms=12, zorder=5, label="end")
    back_at_start = len(xs) > 1 and xs[0] == xs[-1] and ys[0] == ys[-1]
    ring = {"mfc": "none", "ms": 16} if back_at_start else {"mfc": "white", "ms": 8}
    ax.plot(xs[0], ys[0], "o", mec=colour, mew=2, zorder=6, label="start", **ring)


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
    ys = _values(loss_fn, xs)
    fig = figure(figsize, dpi)
    ax = fig.subplots()
    ax.plot(xs, ys, color="#1f77b4", lw=2, label="loss")
    if path_points is not None and len(path_points):
        px = np.asarray(as_array(path_points), dtype=np.float64).reshape(-1)
        py = _losses_at(loss_fn, px)
        _draw_path(ax, px, py)
        span = np.nanmax(ys) - np.nanmin(ys)
        ax.set_ylim(np.nanmin(ys) - 0.05 * span, np.nanmax(ys) + 0.05 * span)
    ax.set_xlim(xs[0], xs[-1])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title or "loss curve")
    return finish(fig, path)


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
    from matplotlib.colors import BoundaryNorm  # noqa: PLC0415

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
    has_matrix = any(p._data.ndim >= 2 for _, p in params)
    out = []
    for _, p in params:
        w = p._data.astype(np.float64)
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
        parts.append(np.asarray(as_array(state[name]), dtype=np.float64).reshape(-1))
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
    if len(index) != p._data.ndim:
        if p._data.size == 1:
            index = (0,) * p._data.ndim
        else:
            raise ValueError(
                f"plot_loss_landscape: {label} has shape {tuple(p.shape)}; give an index into it, "
                f"e.g. ({label!r}, {(0,) * p._data.ndim})"
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
    fig = figure(figsize, dpi)
    ax = fig.subplots()
    is_model = hasattr(model_or_loss_fn, "named_parameters")
    traj = None
    if not is_model:
        fn = model_or_loss_fn
        if trajectory is not None:
            traj = np.asarray(as_array(trajectory), dtype=np.float64).reshape(-1, 2)
        centre = traj[-1] if traj is not None else np.zeros(2)
        res = resolution or 101
        ax_x = np.linspace(*_limits(traj, xlim, 0, span, centre[0]), res)
        ax_y = np.linspace(*_limits(traj, ylim, 1, span, centre[1]), res)
        A, B = np.meshgrid(ax_x, ax_y)
        Z = _values(fn, A, B)
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
    return finish(fig, path)


def _model_landscape(
    model, data, loss_fn, params, trajectory, directions, span, xlim, ylim, res, seed
):
    X, y = data
    X = X if isinstance(X, Tensor) else tensor(X)
    y = y if isinstance(y, Tensor) else tensor(y)
    named = _parameter_list(model)
    originals = [p._data.copy() for _, p in named]

    if params is not None:
        if len(params) != 2:
            raise ValueError("plot_loss_landscape: params= takes exactly two scalar parameters")
        picks = [_pick(model, s) for s in params]
        centre = np.array([float(p._data[idx]) for p, idx, _ in picks])
        traj = None
        if trajectory is not None:
            if len(trajectory) and isinstance(trajectory[0], dict):
                names = {id(p): n for n, p in named}
                traj = np.array(
                    [
                        [float(as_array(s[names[id(p)]])[idx]) for p, idx, _ in picks]
                        for s in trajectory
                    ]
                )
            else:
                traj = np.asarray(as_array(trajectory), dtype=np.float64).reshape(-1, 2)

        def set_point(a, b):
            for (p, idx, _), v in zip(picks, (a, b)):
                p._data[idx] = v

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
                p._data[...] = part.reshape(o.shape)

        xs = np.linspace(*_limits(traj, xlim, 0, span, 0.0), res)
        ys = np.linspace(*_limits(traj, ylim, 1, span, 0.0), res)

    A, B = np.meshgrid(xs, ys)
    Z = np.empty(A.shape)
    try:
        with evaluating(model):
            for idx in np.ndindex(A.shape):
                set_point(A[idx], B[idx])
                Z[idx] = float(as_array(loss_fn(model(X), y)))
    finally:
        for (_, p), o in zip(named, originals):
            p._data[...] = o
    return A, B, Z, traj, labels


# ---- learning rates side by side -------------------------------------------------------------


def _descend(loss_fn, start: np.ndarray, lr: float, steps: int) -> tuple[np.ndarray, bool]:
    """``optim.GradientDescent`` from ``start``: the points visited, and whether it diverged."""
    w = tensor(start, dtype=np.float64, requires_grad=True)
    opt = GradientDescent([w], lr=lr)
    points = [w._data.copy()]
    for _ in range(steps):
        opt.apply_gradients([(_gradient(loss_fn, w._data), w)])
        if not np.all(np.isfinite(w._data)) or np.max(np.abs(w._data)) > 1e6:
            return np.array(points), True
        points.append(w._data.copy())
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
        runs = [(lr, np.asarray(as_array(pts), dtype=np.float64), False) for lr, pts in runs]
    dim = 1 if runs[0][1].ndim == 1 or runs[0][1].shape[-1] == 1 else 2
    runs = [(lr, pts.reshape(len(pts), dim), div) for lr, pts, div in runs]
    n = len(runs)
    fig = figure(figsize or (3.4 * n, 3.3), dpi)
    axes = fig.subplots(1, n, squeeze=False)[0]
    # The panels share the view that fits the runs that settle; a run that leaves it (one
    # on its way to diverging) gets a wider view of its own, so its whole path is drawn.
    settling = [p for _, p, div in runs if not div and not _grows(loss_fn, p)] or [
        p for _, p, _ in runs
    ]
    visible = np.concatenate([p[np.all(np.abs(p) < 1e3, axis=1)] for p in settling])
    shared = [xlim or _span_of(visible[:, 0])]
    if dim == 2:
        shared.append(ylim or _span_of(visible[:, 1]))
    for ax, (lr, pts, diverged) in zip(axes, runs):
        spans = shared
        if (xlim is None and ylim is None) and not _inside(pts, shared):
            spans = [_span_of(np.append(pts[:, k], span)) for k, span in enumerate(shared)]
        if dim == 1:
            losses = _draw_curve_panel(ax, loss_fn, pts, spans[0], ylim)
        else:
            losses = _draw_contour_panel(ax, fig, loss_fn, pts, spans)
        _run_title(ax, lr, diverged, losses, own_view=spans is not shared)
    axes[0].set_ylabel("loss" if dim == 1 else "b")
    fig.legend(
        handles=_path_legend(axes[0]), loc="outside lower center", ncol=3, fontsize=9
    )  # fmt: skip
    if title:
        fig.suptitle(title)
    return finish(fig, path)


def _path_legend(ax) -> list:
    """Legend entries for the marks of ``_draw_path``, in reading order, at their usual size
    (a panel's start may be drawn as a wide ring around the end)."""
    Line2D = require("matplotlib.lines", "viz", "descent.viz plots").Line2D

    marks = {line.get_label(): line for line in ax.get_lines()}
    colour = marks["start"].get_markeredgecolor()
    return [
        Line2D([], [], ls="", marker="o", mfc="white", mec=colour, ms=8, mew=2, label="start"),
        Line2D([], [], marker="o", color=colour, lw=1.2, ms=3.5, label="optimizer steps"),
        Line2D([], [], ls="", marker="*", color="black", ms=12, label="end"),
    ]


def _inside(points: np.ndarray, spans: list) -> bool:
    """Whether every point lies within the (lo, hi) span of each coordinate."""
    return all(
        np.all((lo <= points[:, k]) & (points[:, k] <= hi)) for k, (lo, hi) in enumerate(spans)
    )


def _draw_curve_panel(ax, loss_fn, pts: np.ndarray, span, ylim) -> np.ndarray:
    """One run on the curve of a 1-D loss over ``span``; the losses along the path."""
    xs = np.linspace(*span, 300)
    ys = _values(loss_fn, xs)
    losses = _losses_at(loss_fn, pts)
    y_lo, y_hi = ylim or (np.nanmin(ys), max(np.nanmax(ys), np.nanmax(losses)))
    pad = 0.05 * (y_hi - y_lo or 1.0)
    ax.plot(xs, ys, color="#1f77b4", lw=1.8)
    _draw_path(ax, pts[:, 0], losses)
    ax.set_xlim(*span)
    ax.set_ylim(y_lo - pad, y_hi + pad)
    ax.set_xlabel("w")
    return losses


def _draw_contour_panel(ax, fig, loss_fn, pts: np.ndarray, spans: list) -> np.ndarray:
    """One run on the contours of a 2-D loss over ``spans``; the losses along the path."""
    A, B = np.meshgrid(np.linspace(*spans[0], 81), np.linspace(*spans[1], 81))
    _contours(ax, fig, A, B, _values(loss_fn, A, B), 25, None, colorbar=False)
    _draw_path(ax, pts[:, 0], pts[:, 1], colour="#ff5a4e")
    ax.set_xlim(*spans[0])
    ax.set_ylim(*spans[1])
    ax.set_xlabel("a")
    return _losses_at(loss_fn, pts)


def _span_of(values: np.ndarray) -> tuple[float, float]:
    lo, hi = float(np.min(values)), float(np.max(values))
    pad = 0.15 * (hi - lo) if hi > lo else 1.0
    return lo - pad, hi + pad


def _grows(loss_fn, points: np.ndarray) -> bool:
    """Whether the loss ends higher than it started (a run on its way to diverging)."""
    first = _call(loss_fn, *map(float, points[0]))
    last = _call(loss_fn, *map(float, points[-1]))
    return not np.isfinite(last) or last > first


def _run_title(ax, lr, diverged: bool, losses: np.ndarray, own_view: bool = False) -> None:
    last = losses[-1] if len(losses) else float("nan")
    steps = len(losses) - 1
    after = f"after {steps} step{'' if steps == 1 else 's'}"
    if diverged or not np.isfinite(last):
        status = f"diverged {after}"
    elif len(losses) > 1 and last > losses[0]:
        status = f"diverging: loss {losses[0]:.3g} -> {last:.3g}"
    else:
        status = f"loss {last:.3g} {after}"
    view = " (wider view)" if own_view else ""
    ax.set_title(f"lr = {lr:g}{view}\n{status}", fontsize=10)
    ax.grid(alpha=0.3)
