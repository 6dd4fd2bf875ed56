"""What the estimators' ``to_module(method)`` builds its prediction modules from, beside the
layers of ``nn``: the steps of a prediction that are no PyTorch layer (monomials, class
labels, one-vs-rest probabilities, nearest centers).

Each is an ``nn.Module`` whose forward is the estimator's own arithmetic, and each says
what it is in ONNX through ``onnx_export(graph, x)`` (the exporter's protocol, see
``descent/onnx/export.py``): it adds nodes with ``graph.node`` / ``graph.const`` and
returns its output's name, so this floor needs nothing of the exporter's.
"""

from __future__ import annotations

import numpy as np

from .. import nn
from ..ops.shape import cat
from ..tensor import Tensor, make_tensor

__all__ = ["Monomials", "ClassLabels", "OneVsRestProba", "NearestCenter"]


class Monomials(nn.Module):
    """(N, d) -> (N, p): column j is $\\prod_f x_f^{powers_{jf}}$ (PolynomialRegression's
    features)."""

    def __init__(self, powers: np.ndarray):
        super().__init__()
        self.powers = np.asarray(powers, np.int64)

    def forward(self, x: Tensor) -> Tensor:
        p = make_tensor(self.powers.astype(x.dtype))
        return (x.unsqueeze(1) ** p).prod(dim=2)

    def onnx_export(self, g, x: str) -> str:
        wide = g.node("Unsqueeze", x, g.ints([1], "axes"))  # (N, 1, d)
        powered = g.node("Pow", wide, g.const(self.powers.astype(g.dtype), "powers"))
        return g.reduce("ReduceProd", powered, [2], keepdims=False)


class ClassLabels(nn.Module):
    """Scores (N, C) -> labels (N,) from ``classes``: the class of the highest score
    (``rule='argmax'``), or for one score column ``classes[1]`` where the score is > 0
    (``'positive'``) or >= 0 (``'nonnegative'``, the perceptron's step)."""

    RULES = ("argmax", "positive", "nonnegative")

    def __init__(self, classes, rule: str = "argmax"):
        super().__init__()
        if rule not in self.RULES:
            raise ValueError(f"ClassLabels: rule must be one of {self.RULES}, got {rule!r}")
        self.classes, self.rule = np.asarray(classes), rule

    def forward(self, scores: Tensor) -> np.ndarray:
        s = scores.numpy()
        if self.rule == "argmax":
            index = s.argmax(axis=1)
        elif self.rule == "positive":
            index = (s[:, 0] > 0).astype(np.int64)
        else:
            index = (s[:, 0] >= 0).astype(np.int64)
        return self.classes[index]

    def onnx_export(self, g, x: str) -> str:
        if self.rule == "argmax":
            index = g.node("ArgMax", x, axis=1, keepdims=0)
        else:
            column = g.node("Squeeze", x, g.ints([1], "axes"))
            op = "Greater" if self.rule == "positive" else "GreaterOrEqual"
            index = g.node("Cast", g.node(op, column, g.scalar(0.0, "zero")), to=7)  # int64
        return g.node("Gather", g.const(self.classes, "classes"), index, axis=0)


class OneVsRestProba(nn.Module):
    """LogisticRegression's probabilities from its scores: $[1 - \\sigma(s), \\sigma(s)]$
    for one score column, else the units' $\\sigma(s_c)$ normalised to sum to 1."""

    def forward(self, scores: Tensor) -> Tensor:
        p = scores.sigmoid()
        if p.shape[1] == 1:
            return cat([1.0 - p, p], dim=1)
        return p / p.sum(dim=1, keepdim=True)

    def __init__(self, n_scores: int):
        super().__init__()
        self.n_scores = int(n_scores)

    def onnx_export(self, g, x: str) -> str:
        p = g.node("Sigmoid", x)
        if self.n_scores == 1:
            return g.node("Concat", g.node("Sub", g.scalar(1.0, "one"), p), p, axis=1)
        return g.node("Div", p, g.reduce("ReduceSum", p, [1]))


class NearestCenter(nn.Module):
    """(N, d) -> the index of the nearest of ``centers`` (k, d) (``output='index'``, KMeans's
    predict) or the distances to all of them, (N, k) (``'distance'``, its transform)."""

    def __init__(self, centers: np.ndarray, output: str = "index"):
        super().__init__()
        if output not in ("index", "distance"):
            raise ValueError(f"NearestCenter: output must be 'index' or 'distance', got {output!r}")
        self.register_buffer("centers", make_tensor(np.asarray(centers, np.float64)))
        self.output = output

    def _squared(self, x: Tensor) -> Tensor:
        c = self.centers
        d2 = (x * x).sum(dim=1, keepdim=True) - 2.0 * (x @ c.T) + (c * c).sum(dim=1)
        return d2.clamp(min=0.0)

    def forward(self, x: Tensor):
        d2 = self._squared(x)
        if self.output == "index":
            return d2.numpy().argmin(axis=1)
        return d2.sqrt()

    def onnx_export(self, g, x: str) -> str:
        c = self.centers.numpy()
        norms = g.reduce("ReduceSumSquare", x, [1])  # (N, 1)
        cross = g.node("MatMul", x, g.const(-2.0 * c.T, "centers_t"))
        d2 = g.node("Add", g.node("Add", norms, cross), g.const((c * c).sum(axis=1), "c2"))
        d2 = g.node("Max", d2, g.scalar(0.0, "zero"))
        if self.output == "index":
            return g.node("ArgMin", d2, axis=1, keepdims=0)
        return g.node("Sqrt", d2)
