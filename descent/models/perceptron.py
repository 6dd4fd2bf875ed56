"""Rosenblatt's perceptron: a step unit whose weights change only on a misclassified example."""

from __future__ import annotations

import warnings

import numpy as np

from ._classifier import LinearScoresMixin
from .base import BaseEstimator, ClassifierMixin
from .checks import check_data, check_labels, check_positive
from .errors import ConvergenceWarning, sklearn_flavoured
from .training import make_rng

__all__ = ["Perceptron"]


def perceptron_epoch(
    x: np.ndarray, target: np.ndarray, w: np.ndarray, b: np.ndarray, eta0: float,
    order: np.ndarray, fit_intercept: bool,
) -> tuple[int, float]:  # fmt: skip
    """One epoch of the perceptron rule in place on ``w`` (k, d) and ``b`` (k,), visiting the
    rows of x (n, d) in ``order``; ``target`` (n, k) holds 0/1 per unit.

    For each example: $s = W x + b$, $\\hat y = [s \\ge 0]$, and where $t \\ne \\hat y$,
    $W \\mathrel{+}= \\eta_0 (t - \\hat y) x^T$, $b \\mathrel{+}= \\eta_0 (t - \\hat y)$.
    Returns (the examples that any unit got wrong, the summed perceptron criterion
    $\\sum -(t - \\hat y) s$, which is $|s|$ summed over the wrong units).

    NOTE: one example at a time is NumPy work: a Python loop over rows, a (k, d) @ (d,)
    product each, and an update only on a mistake.
    """
    errors, criterion = 0, 0.0
    for i in order:
        xi = x[i]
        s = w @ xi + b  # (k,)
        miss = target[i] - (s >= 0)  # +1, -1, or 0 where the unit is right
        if miss.any():
            errors += 1
            criterion -= float(miss @ s)
            step = eta0 * miss
            w += np.outer(step, xi)
            if fit_intercept:
                b += step
    return errors, criterion


class Perceptron(LinearScoresMixin, ClassifierMixin, BaseEstimator):
    """The classic perceptron learning rule, with scikit-learn's names, defaults and
    stopping rule.

    The unit outputs $\\hat y = 1$ if $x \\cdot w + b \\ge 0$ else 0 (a step). Weights start
    at zero; each epoch visits the examples one at a time (in a new random order drawn
    from ``random_state`` when ``shuffle``) and, for each, updates
    $w \\mathrel{+}= \\eta_0\\,(y - \\hat y)\\,x$, $b \\mathrel{+}= \\eta_0\\,(y - \\hat y)$, which
    changes nothing unless the example is misclassified. Plain NumPy, in float64.

    Training stops after the first epoch with no mistakes (the data are separated: no
    further epoch would change anything), or, as scikit-learn, once the epoch's mean
    perceptron criterion $\\frac{1}{n}\\sum -(y - \\hat y)(x \\cdot w + b)$ has not dropped
    below its best minus ``tol`` for ``n_iter_no_change`` epochs in a row (``tol=None``: no
    such stop), or after ``max_iter`` epochs, then with a ``ConvergenceWarning`` (the data
    may not be linearly separable).

    More than two classes: one-vs-rest, one step unit per class trained side by side on
    the same examples ("this class or not"); ``predict`` takes the class whose unit has the
    highest score. An example counts as one error when any unit gets it wrong.

    Not here from scikit-learn's Perceptron: ``penalty``/``alpha``/``l1_ratio`` (the
    lectures' rule has no penalty), ``early_stopping``/``validation_fraction``,
    ``class_weight``, ``warm_start`` and ``n_jobs``.

    Learned: ``coef_`` (1, d) for two classes or (C, d), ``intercept_``, ``classes_``,
    ``errors_`` (misclassified examples per epoch, during the epoch), ``n_iter_``
    (epochs run), ``t_`` (scikit-learn's count of examples seen plus one),
    ``loss_curve_`` (the mean perceptron criterion per epoch), ``n_features_in_``.

    >>> X, y = ds.datasets.make_separable(50, seed=0)
    >>> clf = ds.models.Perceptron().fit(X, y)
    >>> clf.errors_[-1], clf.score(X, y)
    (0, 1.0)
    """

    def __init__(
        self,
        fit_intercept: bool = True,
        max_iter: int = 1000,
        tol: float | None = 1e-3,
        shuffle: bool = True,
        verbose: int = 0,
        eta0: float = 1.0,
        random_state=0,
        n_iter_no_change: int = 5,
    ):
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.shuffle = shuffle
        self.verbose = verbose
        self.eta0 = eta0
        self.random_state = random_state
        self.n_iter_no_change = n_iter_no_change

    def fit(self, X, y) -> Perceptron:  # noqa: N803 - scikit-learn's X
        """Run the perceptron rule on X (n, d) and labels y (n,); returns self."""
        check_positive(self, "eta0")
        check_positive(self, "max_iter", integer=True)
        if self.tol is not None:
            check_positive(self, "tol", zero=True)
            check_positive(self, "n_iter_no_change", integer=True)
        x = check_data(self, X, reset=True)
        self.classes_, index = check_labels(self, y, len(x))
        n, n_classes = len(x), len(self.classes_)
        if n_classes == 2:
            target = index.reshape(-1, 1)  # (n, 1): 1 for classes_[1]
        else:
            target = np.eye(n_classes, dtype=np.int64)[index]  # one-vs-rest: (n, C)
        w = np.zeros((target.shape[1], x.shape[1]))
        b = np.zeros(target.shape[1])
        rng = make_rng(self.random_state)
        self.errors_, self.loss_curve_ = [], []
        best, stale, stopped = np.inf, 0, False
        for epoch in range(1, self.max_iter + 1):
            order = rng.permutation(n) if self.shuffle else np.arange(n)
            errors, criterion = perceptron_epoch(x, target, w, b, float(self.eta0), order,
                                                 bool(self.fit_intercept))  # fmt: skip
            loss = criterion / n
            self.errors_.append(errors)
            self.loss_curve_.append(loss)
            if self.verbose:
                print(f"Perceptron: epoch {epoch}, {errors} errors, mean criterion {loss:.6g}")
            if errors == 0:
                stopped = True
                break
            if self.tol is not None:
                stale = stale + 1 if loss > best - self.tol else 0
                best = min(best, loss)
                if stale >= self.n_iter_no_change:
                    stopped = True
                    break
        self.n_iter_ = len(self.errors_)
        self.t_ = float(self.n_iter_ * n + 1)
        self.coef_, self.intercept_ = w, b
        if not stopped:
            warnings.warn(
                f"Perceptron: {self.errors_[-1]} training examples were still misclassified "
                f"in the last of max_iter={self.max_iter} epochs; the data may not be "
                f"linearly separable (or need more epochs)",
                sklearn_flavoured(ConvergenceWarning),
                stacklevel=2,
            )
        return self

    _one_score_rule = "nonnegative"
    _two_scores_differ = False

    def decision_function(self, X) -> np.ndarray:  # noqa: N803
        """$x \\cdot w + b$: (n,) for two classes (>= 0 means ``classes_[1]``), else (n, C)."""
        scores = self._scores(X)
        return scores[:, 0] if scores.shape[1] == 1 else scores

    def predict(self, X) -> np.ndarray:  # noqa: N803
        """The step unit's class: ``classes_[1]`` where the score is >= 0 (two classes), else
        the class whose unit scores highest."""
        scores = self._scores(X)
        if scores.shape[1] == 1:
            return self.classes_[(scores[:, 0] >= 0).astype(np.int64)]
        return self.classes_[scores.argmax(axis=1)]
