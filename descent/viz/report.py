"""The run report: one self-contained ``report.html`` holding everything about a training run.

Hyperparameters, training curves, final metrics, the confusion matrix of a classifier and
the model's graph, with every picture embedded (PNG as data URIs, the graph as inline SVG),
so the file reads offline and can be mailed or archived alone.
"""

from __future__ import annotations

import base64
import html
import shutil
import time
from pathlib import Path

import numpy as np

from ..autograd import enable_grad
from ..io import atomic_write
from ..tensor import Tensor, tensor
from ..train.callbacks import Callback
from .charts import plot_history
from .classification import plot_confusion_matrix
from .figure import png_bytes
from .graph import GraphvizNotFoundError, graph, missing_graphviz_note

__all__ = ["write_report", "RunReport"]

CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto;
       max-width: 1100px; color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.2em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 1.6em; }
table { border-collapse: collapse; font-size: 0.92em; }
td, th { border: 1px solid #ddd; padding: 0.25em 0.7em; text-align: left; }
th { background: #f3f5f8; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
img { max-width: 100%; height: auto; }
pre { background: #f6f8fa; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
.note { color: #666; font-size: 0.9em; }
.graph svg { max-width: 100%; height: auto; }
"""


def _esc(value) -> str:
    return html.escape(str(value), quote=True)


def _number(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.6g}"
    return str(value)


def _table(rows, header=("name", "value")) -> str:
    out = ["<table>", "<tr>" + "".join(f"<th>{_esc(h)}</th>" for h in header) + "</tr>"]
    for row in rows:
        cells = []
        for v in row:
            numeric = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(
                v, bool
            )
            cls = ' class="num"' if numeric else ""
            cells.append(f"<td{cls}>{_esc(_number(v))}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def _picture(make_figure, alt: str) -> str:
    """An <img> holding the figure as a PNG data URI, or a note when matplotlib is missing."""
    try:
        fig = make_figure()
    except ImportError as e:
        return f'<p class="note">No picture: {_esc(e)}</p>'
    data = base64.b64encode(png_bytes(fig)).decode("ascii")
    return f'<img alt="{_esc(alt)}" src="data:image/png;base64,{data}">'


def _history_dict(history) -> dict:
    if history is None:
        return {}
    if hasattr(history, "history") and not isinstance(history, dict):
        return dict(history.history)
    return dict(history)


def _graph_section(model, example_input) -> str:
    x = example_input if isinstance(example_input, Tensor) else tensor(example_input)
    params = list(model.parameters())
    if params and x.dtype.kind == "f" and x.dtype != params[0].dtype:
        x = x.to(params[0].dtype)  # float64 data for a float32 model, or the other way round
    with enable_grad():
        out = model(x)
    g = graph(out, collapse=True)
    if shutil.which("dot") is None:
        return f'<p class="note">{_esc(missing_graphviz_note())}</p>'
    try:
        svg = g.pipe("svg").decode("utf-8")
    except (GraphvizNotFoundError, RuntimeError) as e:
        return f'<p class="note">Graphviz could not draw the graph: {_esc(e)}</p>'
    return '<div class="graph">' + svg[svg.find("<svg") :] + "</div>"


def write_report(
    run_dir,
    *,
    title: str,
    config: dict,
    history=None,
    test_metrics: dict | None = None,
    confusion=None,
    class_names=None,
    model=None,
    example_input=None,
    weights_epoch: int | None = None,
) -> Path:
    """Write ``run_dir/report.html`` (atomically) and return its path.

    ``config``: the hyperparameters; ``history``: a ``History`` or its dict;
    ``test_metrics``: final metrics; ``confusion`` and ``class_names`` for classifiers;
    ``model`` and ``example_input`` (a small batch) to draw the model's graph, one node per
    layer. ``weights_epoch``: the epoch (from 1) whose weights the test figures come from,
    the best one that early stopping restored. ``None`` values of ``config`` (a setting that
    does not apply) are left out. Without matplotlib the pictures are replaced by a note,
    without Graphviz the graph by how to install it.
    """
    run_dir = Path(run_dir)
    h = _history_dict(history)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{_esc(title)}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        f"<h1>{_esc(title)}</h1>",
        f'<p class="note">Run folder <code>{_esc(run_dir)}</code>; report written '
        f"{_esc(time.strftime('%Y-%m-%d %H:%M:%S'))} by descent.</p>",
    ]

    parts.append("<h2>Hyperparameters</h2>")
    settings = [(k, _config_value(v)) for k, v in (config or {}).items() if v is not None]
    parts.append(_table(settings))

    parts.append("<h2>Final metrics</h2>")
    rows = [(f"test {k}", v) for k, v in (test_metrics or {}).items()]
    epochs = max((len(v) for v in h.values()), default=0)
    for key, values in h.items():
        if values:
            rows.append((f"{key} (last epoch)", values[-1]))
    if epochs:
        rows.append(("epochs trained", epochs))
    parts.append(_table(rows) if rows else '<p class="note">No metrics were given.</p>')
    if test_metrics and weights_epoch is not None:
        parts.append(
            f'<p class="note">The test figures come from the weights of epoch {weights_epoch} '
            f"(the best by val_loss, restored by early stopping); the last epoch's figures are "
            f"those of the last weights trained.</p>"
        )

    if any(h.values()):
        parts.append("<h2>Training curves</h2>")
        parts.append(_picture(lambda: plot_history(h), "training and validation curves"))
    if confusion is not None:
        parts.append("<h2>Confusion matrix</h2>")
        cm = np.asarray(confusion._data if isinstance(confusion, Tensor) else confusion)
        parts.append(_picture(lambda: plot_confusion_matrix(cm, class_names), "confusion matrix"))
        names = [str(c) for c in class_names] if class_names is not None else range(len(cm))
        header = ["true \\ predicted", *[str(c) for c in names]]
        parts.append(_table([[str(n), *map(int, row)] for n, row in zip(names, cm)], header))

    if model is not None:
        parts.append("<h2>Model</h2>")
        count = sum(p._data.size for p in model.parameters())
        parts.append(f"<pre>{_esc(repr(model))}</pre>\n<p>{count} parameters.</p>")
        if example_input is not None:
            parts.append("<h2>The model's graph</h2>")
            parts.append(
                '<p class="note">One node per layer, drawn for an example batch of shape '
                f"{_esc(tuple(np.shape(example_input)))}: each node shows its output's shape "
                "and values.</p>"
            )
            parts.append(_graph_section(model, example_input))

    parts += ["</body>", "</html>", ""]
    return atomic_write(run_dir / "report.html", "\n".join(parts))


def _config_value(value) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) if value else "()"
    return value


class RunReport(Callback):
    """A fit callback that writes ``run_dir/report.html`` when training ends.

    ``fit(..., callbacks=[ds.viz.RunReport("runs/exp1")])``: the report holds fit's
    settings, the curves, the last epoch's metrics and the model's graph (drawn for the
    first examples of the training data).
    """

    def __init__(self, run_dir, title: str | None = None, config: dict | None = None):
        self.run_dir = Path(run_dir)
        self.title = title
        self.config = config
        self.path: Path | None = None

    def on_train_end(self, logs=None):
        run = self.run
        group = run.optimizer.param_groups[0]
        config = {
            "optimizer": type(run.optimizer).__name__,
            "lr": group["lr"] if isinstance(group["lr"], (int, float)) else repr(group["lr"]),
            "epochs": run.history.params.get("epochs"),
            "steps per epoch": run.history.params.get("steps"),
            "batch size": run.loader.batch_size,
            "global step": run.optimizer.global_step,
            **(self.config or {}),
        }
        example = _first_inputs(run.loader.dataset)
        self.path = write_report(
            self.run_dir,
            title=self.title or f"{type(run.model).__name__} trained by descent",
            config=config,
            history=run.history,
            model=run.model,
            example_input=example,
        )


def _first_inputs(dataset, n: int = 4) -> Tensor:
    """The inputs of a dataset's first examples (the loader is left where it is)."""
    rows = [dataset[i][0] for i in range(min(n, len(dataset)))]
    return tensor(np.stack([np.asarray(r) for r in rows]))
