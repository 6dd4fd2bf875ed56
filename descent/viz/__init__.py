"""Seeing it: computation graphs drawn, the chain rule explained, plots of learning, run reports.

- ``graph(tensor)``: the computation graph as Graphviz DOT text; ``.render('g.svg')``.
- ``explain(loss, wrt=tensor)``: the chain rule for one gradient, edge by edge, with numbers.
- ``plot_*``: matplotlib figures (``pip install 'descent[viz]'``), each also written as a PNG
  when given ``path=``: charts of numbers (``charts``), losses over their parameters
  (``landscapes``), classifiers (``classification``), on shared plumbing (``figure``).
- ``write_report(run_dir, ...)``: one self-contained ``report.html`` for a training run.

Importing this package does not import matplotlib; the plot functions do, when called.
"""

from .charts import plot_bars, plot_heatmaps, plot_history, plot_series
from .classification import plot_confusion_matrix, plot_decision_boundary, plot_weight_templates
from .explain import Explanation, explain
from .graph import Graph, GraphvizNotFoundError, graph
from .landscapes import plot_learning_rates, plot_loss_curve, plot_loss_landscape
from .report import RunReport, write_report

__all__ = [
    "graph", "Graph", "GraphvizNotFoundError", "explain", "Explanation",
    "plot_history", "plot_loss_curve", "plot_loss_landscape", "plot_learning_rates",
    "plot_decision_boundary", "plot_weight_templates", "plot_confusion_matrix", "plot_series",
    "plot_bars", "plot_heatmaps",
    "write_report", "RunReport",
]  # fmt: skip
