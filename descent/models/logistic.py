"""Logistic regression: the binary cross-entropy of one logit, or for more classes the
multinomial (softmax) cross-entropy, as scikit-learn's LogisticRegression."""

from __future__ import annotations

import numpy as np

from .. import nn
from ..nn import functional as F
from ._classifier import LinearClassifier
from .checks import check_positive
from .inference import OneVsRestProba

__all__ = ["LogisticRegression", "SoftmaxRegression"]


def _softmax(scores: np.ndarray) -> np.ndarray:
    z = np.exp(scores - scores.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def _sigmoid(s: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * s))  # = 1 / (1 + e^-s), without overflow


class LogisticRegression(LinearClassifier):
    """Logistic regression with scikit-learn's names, defaults and objective.

    Two classes: $p(y = \\text{classes\\_}[1] \\mid x) = \\sigma(x \\cdot w + b)$, one logit,
    trained on the binary cross-entropy. More than two: multinomial (softmax regression,
    scikit-learn's only multiclass form since 1.5),
    $p(y = c \\mid x) = \\mathrm{softmax}(x W^T + b)_c$, trained on the cross-entropy. For
    one-vs-rest, wrap it as scikit-learn says: ``OneVsRestClassifier(LogisticRegression())``.

    The objective is scikit-learn's, $C \\sum_i L_i + (1 - \\rho) \\frac{1}{2}\\|W\\|^2 +
    \\rho \\|W\\|_1$ with $\\rho$ = ``l1_ratio`` (0: ridge, 1: lasso, between: elastic net;
    ``C=np.inf``: no penalty), minimised in the form divided by $C n$ (a mean loss plus
    $\\alpha$ times the penalty, $\\alpha = 1/(C n)$), so the same C gives scikit-learn's
    coefficients where both converge.

    Training (the solvers are descent's own; scikit-learn's default is lbfgs): ``nn.Linear``
    from zero weights, ``solver`` 'adam' (default) or 'sgd' (with ``momentum``) at learning
    rate ``eta0``, mini-batches of ``batch_size`` (``'auto'`` = min(200, n)), at most
    ``max_iter`` epochs through ``ds.train.fit``; training stops when the loss has not
    improved by ``tol`` for ``n_iter_no_change`` epochs (``tol=None``: every epoch runs)
    and warns with ``ConvergenceWarning`` when ``max_iter`` comes first.

    Learned: ``coef_`` (1, d) for two classes or (C, d), ``intercept_``, ``classes_``,
    ``n_features_in_``, ``n_iter_`` (epochs run, as an array of one, like scikit-learn's),
    ``loss_curve_``, ``model_`` (the nn.Linear).

    >>> X = np.array([[30.0], [33.0], [35.0], [37.0], [39.0]])
    >>> clf = ds.models.LogisticRegression(C=100.0, max_iter=2000, eta0=0.1, tol=None)
    >>> clf.fit((X - 35) / 3, ["F", "F", "F", "T", "T"]).predict([[2.0]]).tolist()
    ['T']
    """

    def __init__(
        self,
        C: float = 1.0,  # noqa: N803 - scikit-learn's name
        l1_ratio: float = 0.0,
        tol: float | None = 1e-4,
        fit_intercept: bool = True,
        solver: str = "adam",
        max_iter: int = 500,
        eta0: float = 0.01,
        momentum: float = 0.9,
        batch_size="auto",
        n_iter_no_change: int = 10,
        shuffle: bool = True,
        dtype: str = "float32",
        random_state=None,
        verbose: int = 0,
    ):
        self.C = C
        self.l1_ratio = l1_ratio
        self.tol = tol
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.max_iter = max_iter
        self.eta0 = eta0
        self.momentum = momentum
        self.batch_size = batch_size
        self.n_iter_no_change = n_iter_no_change
        self.shuffle = shuffle
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose

    def _check_params(self) -> None:
        super()._check_params()
        check_positive(self, "l1_ratio", zero=True)
        if self.l1_ratio > 1:
            raise ValueError(
                f"{type(self).__name__}: l1_ratio must be in [0, 1] (0: L2, 1: L1), got "
                f"{self.l1_ratio!r}"
            )

    def _penalty_weights(self, n: int) -> tuple[float, float]:
        alpha = 1.0 / (float(self.C) * n)  # 0 for C = inf
        rho = float(self.l1_ratio)
        return alpha * (1 - rho), alpha * rho

    def _n_outputs(self, n_classes: int) -> int:
        return 1 if n_classes == 2 else n_classes

    def _targets(self, index: np.ndarray, n_classes: int) -> np.ndarray:
        if n_classes == 2:
            return index.astype(np.float64).reshape(-1, 1)  # (n, 1): 1 for classes_[1]
        return index  # class indices for the cross-entropy

    def _data_loss(self, scores, target):
        if scores.shape[1] == 1:
            return F.binary_cross_entropy_with_logits(scores, target)
        return F.cross_entropy(scores, target)

    def fit(self, X, y) -> LogisticRegression:  # noqa: N803 - scikit-learn's X
        """Fit to X (n, d) and labels y (n,) of any kind (ints, strings ...); returns self."""
        super().fit(X, y)
        self.n_iter_ = np.array([self.n_iter_], dtype=np.int32)
        return self

    def predict_proba(self, X) -> np.ndarray:  # noqa: N803
        """(n, C) class probabilities, columns in the order of ``classes_``; rows sum to 1."""
        scores = self._scores(X)
        if scores.shape[1] == 1:
            p = _sigmoid(scores)
            return np.hstack([1 - p, p])
        return _softmax(scores)

    def predict_log_proba(self, X) -> np.ndarray:  # noqa: N803
        """The log of ``predict_proba``, computed without taking the log of a rounded 0."""
        s = self._scores(X)
        if s.shape[1] == 1:
            s = np.hstack([np.zeros_like(s), s])  # softmax([0, s]) = [1 - sigma(s), sigma(s)]
        s = s - s.max(axis=1, keepdims=True)
        return s - np.log(np.exp(s).sum(axis=1, keepdims=True))

    def _module_builders(self) -> dict:
        builders = super()._module_builders()
        if self.coef_.shape[0] == 1:
            proba = lambda: nn.Sequential(self._score_module(), OneVsRestProba(1))  # noqa: E731
        else:
            proba = lambda: nn.Sequential(self._score_module(), nn.Softmax(1))  # noqa: E731
        builders["predict_proba"] = proba
        return builders


# The lectures' name for multinomial logistic regression, which LogisticRegression is.
SoftmaxRegression = LogisticRegression
