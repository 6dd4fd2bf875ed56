"""History: what ``fit`` measured, one value per epoch for each quantity."""

from __future__ import annotations

import html
import math

# The small plot of the loss curves in Jupyter: its size and each curve's colour.
PLOT_WIDTH, PLOT_HEIGHT, PLOT_MARGIN = 360, 180, 34
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")


class History:
    """Per-epoch values: ``history['loss']``, ``history['val_loss']``, one list per metric.

    ``history.history`` is the plain dict (Keras's layout); ``history.epoch`` lists the
    epoch numbers (0-based) the values belong to. ``stopped_by`` says what ended training
    before its last epoch, in one line beginning with the callback's name (e.g.
    ``'TerminateOnNaN: the loss became nan at epoch 2, step 3 ...'``), or is None.
    """

    def __init__(self, history: dict | None = None, epoch: list | None = None):
        self.history: dict[str, list] = {k: list(v) for k, v in (history or {}).items()}
        self.epoch: list[int] = list(epoch or [])
        self.params: dict = {}
        self.stopped_by: str | None = None

    def append(self, epoch: int, logs: dict) -> None:
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)

    def rows(self):
        """``(epoch, logs)`` for each epoch recorded, the logs as ``fit`` passed them on."""
        for i, epoch in enumerate(self.epoch):
            yield epoch, {k: v[i] for k, v in self.history.items() if i < len(v)}

    def __getitem__(self, key: str) -> list:
        try:
            return self.history[key]
        except KeyError:
            raise KeyError(f"no {key!r} in this history; it has {sorted(self.history)}") from None

    def __contains__(self, key: str) -> bool:
        return key in self.history

    def keys(self):
        return self.history.keys()

    def __len__(self) -> int:
        return len(self.epoch)

    def state_dict(self) -> dict:
        return {"history": {k: list(v) for k, v in self.history.items()}, "epoch": list(self.epoch)}

    @classmethod
    def from_state_dict(cls, state: dict) -> History:
        return cls(state["history"], state["epoch"])

    def __repr__(self) -> str:
        last = {k: v[-1] for k, v in self.history.items() if v}
        return f"History(epochs={len(self.epoch)}, last={last})"

    # ---- Jupyter: a small plot of the loss curves and a table of the last epoch -----------

    def curves(self) -> list[str]:
        """The quantities the plot draws: those whose name has 'loss' in it (``loss``,
        ``val_loss``), or every one that is all numbers where none is a loss."""
        numeric = [k for k, v in self.history.items() if v and all(_is_number(x) for x in v)]
        losses = [k for k in numeric if "loss" in k]
        return losses or numeric

    def _repr_svg_(self) -> str | None:
        """The loss curves as an SVG line plot drawn by hand (no matplotlib needed), one
        polyline per curve with a point per epoch; a non-finite value breaks its line."""
        keys = self.curves()
        values = [float(x) for k in keys for x in self.history[k] if math.isfinite(float(x))]
        if not keys or not values or not self.epoch:
            return None
        w, h, m = PLOT_WIDTH, PLOT_HEIGHT, PLOT_MARGIN
        lo, hi = min(values), max(values)
        if hi == lo:
            lo, hi = lo - 0.5, hi + 0.5
        first, last = self.epoch[0], self.epoch[-1]
        span = max(last - first, 1)

        def x_of(epoch) -> float:
            return m + (epoch - first) / span * (w - 1.5 * m)

        def y_of(value) -> float:
            return h - m + (lo - value) / (hi - lo) * (h - 1.5 * m)

        out = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
            f'viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="10">',
            f'<rect x="0" y="0" width="{w}" height="{h}" fill="white"/>',
            f'<line x1="{m}" y1="{h - m}" x2="{w - m / 2}" y2="{h - m}" stroke="#888"/>',
            f'<line x1="{m}" y1="{m / 2}" x2="{m}" y2="{h - m}" stroke="#888"/>',
            f'<text x="{m - 3}" y="{y_of(hi) + 3:.1f}" text-anchor="end">{_short(hi)}</text>',
            f'<text x="{m - 3}" y="{y_of(lo) + 3:.1f}" text-anchor="end">{_short(lo)}</text>',
            f'<text x="{m}" y="{h - m + 12}" text-anchor="middle">{first}</text>',
            f'<text x="{x_of(last):.1f}" y="{h - m + 12}" text-anchor="middle">{last}</text>',
            f'<text x="{(w + m) / 2:.1f}" y="{h - 6}" text-anchor="middle">epoch</text>',
        ]
        for i, key in enumerate(keys):
            colour = COLOURS[i % len(COLOURS)]
            for run in _finite_runs(self.epoch, self.history[key]):
                points = " ".join(f"{x_of(e):.2f},{y_of(v):.2f}" for e, v in run)
                out.append(
                    f'<polyline class="{html.escape(key)}" fill="none" stroke="{colour}" '
                    f'stroke-width="1.5" points="{points}"/>'
                )
            out.append(
                f'<text x="{w - m / 2}" y="{m / 2 + 12 * i + 4}" text-anchor="end" '
                f'fill="{colour}">{html.escape(key)}</text>'
            )
        out.append("</svg>")
        return "\n".join(out)

    def _repr_html_(self) -> str:
        """The plot above a table of the last epoch's values and what stopped training."""
        last = {k: v[-1] for k, v in self.history.items() if v}
        rows = "".join(
            f"<tr><td>{html.escape(k)}</td><td>{html.escape(_short(v, 6))}</td></tr>"
            for k, v in last.items()
        )
        epochs = len(self.epoch)
        parts = [f"<p><b>History</b>: {epochs} epoch{'s' if epochs != 1 else ''}</p>"]
        svg = self._repr_svg_()
        if svg is not None:
            parts.append(svg)
        if rows:
            parts.append(
                '<table class="descent-history"><thead><tr><th>last epoch</th><th>value</th>'
                f"</tr></thead><tbody>{rows}</tbody></table>"
            )
        if self.stopped_by:
            parts.append(f"<p>Stopped early by {html.escape(self.stopped_by)}</p>")
        return '<div class="descent-history">' + "\n".join(parts) + "</div>"


def _is_number(x) -> bool:
    try:
        float(x)
    except (TypeError, ValueError):
        return False
    return not isinstance(x, bool)


def _short(value, digits: int = 4) -> str:
    try:
        return f"{float(value):.{digits}g}"
    except (TypeError, ValueError):
        return str(value)


def _finite_runs(epochs: list, values: list) -> list:
    """The (epoch, value) pairs in stretches of finite values (a nan or inf ends one)."""
    runs, run = [], []
    for e, v in zip(epochs, values):
        if math.isfinite(float(v)):
            run.append((e, float(v)))
        elif run:
            runs.append(run)
            run = []
    if run:
        runs.append(run)
    return runs
