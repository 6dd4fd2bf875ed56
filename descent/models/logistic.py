"""Logistic regression (binary cross-entropy) and softmax regression (cross-entropy)."""

from __future__ import annotations

import numpy as np

from .. import nn
from ..nn import functional as F
from ._classifier import LinearClassifier
from .inference import OneVsRestProba

__all__ = ["LogisticRegression", "SoftmaxRegression"]


def _softmax(scores: np.ndarray) -> np.ndarray:
    z = np.exp(scores - scores.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def _sigmoid(s: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * s))  # = 1 / (1 + e^-s), without overflow


class LogisticRegression(LinearClassifier):
    """Logistic regression: $p(y = 1 \\mid x) = \\sigma(x \\cdot w + b)$, trained on the binary
    cross-entropy of the logits (``F.binary_cross_entropy_with_logits``) plus
    $\\alpha R(w)$, $R = \\frac{1}{2}\\|w\\|^2$ (``penalty='l2'``) or $\\|w\\|_1$ (``'l1'``).

    Two classes: ``classes_[1]`` is the positive one. More than two: one-vs-rest, one
    logistic unit per class trained side by side (the binary cross-entropy of each unit
    against "this class or not", summed over the units); ``predict`` takes the unit with
    the highest score and ``predict_proba`` normalises the units' probabilities to sum to
    1. For a single model of C classes use ``SoftmaxRegression``.

    Training: ``nn.Linear`` from zero weights, ``solver`` 'adam' (default) or 'sgd' (with
    ``momentum``), learning rate ``lr``, mini-batches of ``batch_size`` (``'auto'`` =
    min(200, n)), at most ``epochs`` epochs through ``ds.train.fit``; training stops
    early when the loss has not improved by ``tol`` for ``n_iter_no_change`` epochs
    (``tol=None``: always run every epoch) and warns with ``ConvergenceWarning`` when the
    epochs run out first.

    Learned: ``coef_`` (1, d) for two classes or (C, d), ``intercept_``, ``classes_``,
    ``n_features_in_``, ``loss_curve_``, ``n_iter_``, ``model_`` (the nn.Linear).

    >>> X = np.array([[30.0], [33.0], [35.0], [37.0], [39.0]])
    >>> clf = ds.models.LogisticRegression(epochs=2000, lr=0.1, tol=None)
    >>> clf.fit((X - 35) / 3, ["F", "F", "F", "T", "T"]).predict([[2.0]]).tolist()
    ['T']
    """

    def _n_outputs(self, n_classes: int) -> int:
        return 1 if n_classes == 2 else n_classes

    def _targets(self, index: np.ndarray, n_classes: int) -> np.ndarray:
        if n_classes == 2:
            return index.astype(np.float64).reshape(-1, 1)  # (n, 1): 1 for classes_[1]
        return np.eye(n_classes)[index]  # (n, C): one-vs-rest targets

    def _data_loss(self, scores, target):
        # sum over the one-vs-rest units, mean over examples
        total = F.binary_cross_entropy_with_logits(scores, target, reduction="sum")
        return total / scores.shape[0]

    def predict_proba(self, X) -> np.ndarray:  # noqa: N803
        """(n, C) class probabilities, columns in the order of ``classes_``; rows sum to 1."""
        scores = self._scores(X)
        p = _sigmoid(scores)
        if scores.shape[1] == 1:
            return np.hstack([1 - p, p])
        return p / p.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X) -> np.ndarray:  # noqa: N803
        return np.log(self.predict_proba(X))

    def _module_builders(self) -> dict:
        builders = super()._module_builders()
        k = self.coef_.shape[0]
        builders["predict_proba"] = lambda: nn.Sequential(self._score_module(), OneVsRestProba(k))
        return builders


class SoftmaxRegression(LinearClassifier):
    """Multinomial logistic regression: $p(y = c \\mid x) = \\mathrm{softmax}(x W^T + b)_c$,
    trained on the cross-entropy (``F.cross_entropy`` of the logits) plus $\\alpha R(W)$,
    $R = \\frac{1}{2}\\|W\\|^2$ (``penalty='l2'``) or $\\|W\\|_1$ (``'l1'``).

    One output per class, also for two classes. Training as in ``LogisticRegression``.

    Learned: ``coef_`` (C, d), ``intercept_`` (C,), ``classes_``, ``n_features_in_``,
    ``loss_curve_``, ``n_iter_``, ``model_``.

    >>> X, y = ds.datasets.load_iris(return_X_y=True)
    >>> clf = ds.models.SoftmaxRegression(random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:2]).sum(axis=1).round(6).tolist()
    [1.0, 1.0]
    """

    def _n_outputs(self, n_classes: int) -> int:
        return n_classes

    def _data_loss(self, scores, target):
        return F.cross_entropy(scores, target)

    def predict_proba(self, X) -> np.ndarray:  # noqa: N803
        """(n, C) softmax probabilities, columns in the order of ``classes_``."""
        return _softmax(self._scores(X))

    def _module_builders(self) -> dict:
        builders = super()._module_builders()
        builders["predict_proba"] = lambda: nn.Sequential(self._score_module(), nn.Softmax(1))
        return builders

    def predict_log_proba(self, X) -> np.ndarray:  # noqa: N803
        s = self._scores(X)
        s = s - s.max(axis=1, keepdims=True)
        return s - np.log(np.exp(s).sum(axis=1, keepdims=True))
