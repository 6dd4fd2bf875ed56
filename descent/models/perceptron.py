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
    x: np.ndarray, target: np.ndarray, w: np.ndarray, b: np.ndarray, eta0: np.ndarray,
    order: np.ndarray, fit_intercept: bool,
) -> tuple[int, np.ndarray, np.ndarray]:  # fmt: skip
    """One epoch of the perceptron rule in place on ``w`` (k, d) and ``b`` (k,), visiting the
    rows of x (n, d) in ``order``; ``target`` (n, k) holds 0/1 per unit and ``eta0`` (k,) is
    each unit's rate (0 for a unit that has stopped, which changes no more).

    For each example: $s = W x + b$, $\\hat y = [s \\ge 0]$, and where $t \\ne \\hat y$,
    $W \\mathrel{+}= \\eta_0 (t - \\hat y) x^T$, $b \\mathrel{+}= \\eta_0 (t - \\hat y)$.
    Returns (the examples that any unit got wrong, each unit's mistakes (k,), each unit's
    summed perceptron criterion $\\sum -(t - \\hat y) s$ (k,), which is $|s|$ summed over its
    mistakes).

    NOTE: one example at a time is NumPy work, not graph work. The units do not interact,
    so each runs its epoch alone (``_unit_epoch``), and a stopped unit's mistakes are one
    matrix product.
    """
    xs, ts = x[order], target[order]
    k = w.shape[0]
    wrong_any = np.zeros(len(xs), bool)
    mistakes, criterion = np.zeros(k, np.int64), np.zeros(k)
    for c in range(k):
        if eta0[c] > 0:
            wrong, criterion[c] = _unit_epoch(xs, ts[:, c], w[c], b[c : c + 1], float(eta0[c]),
                                              fit_intercept)  # fmt: skip
        else:
            s = xs @ w[c] + b[c]
            wrong = ts[:, c] != (s >= 0)
            criterion[c] = float(np.abs(s[wrong]).sum())
        mistakes[c] = int(wrong.sum())
        wrong_any |= wrong
    return int(wrong_any.sum()), mistakes, criterion


def _unit_epoch(xs: np.ndarray, t: np.ndarray, w: np.ndarray, b: np.ndarray, eta0: float,
                fit_intercept: bool) -> tuple[np.ndarray, float]:  # fmt: skip
    """One unit's epoch in place on ``w`` (d,) and ``b`` (1,) over the rows of ``xs`` in
    order; returns (which rows it got wrong, its summed criterion).

    The weights change only on a mistake: so the scores of a block of the next rows are
    one matrix-vector product, the first mistake among them is found by ``argmax``, the
    weights are updated there, and the next block starts after it. The block doubles
    while no mistake comes (a late epoch) and shrinks after one; the result is the
    one-at-a-time rule's.
    """
    n = len(xs)
    wrong = np.zeros(n, bool)
    criterion, pos, block = 0.0, 0, 16
    while pos < n:
        end = min(pos + block, n)
        s = xs[pos:end] @ w + b[0]  # (m,): the scores with the current weights
        miss = t[pos:end] != (s >= 0)
        if not miss.any():
            pos, block = end, min(2 * block, 4096)
            continue
        j = int(miss.argmax())  # the first mistake: the rows before it change nothing
        i = pos + j
        wrong[i] = True
        criterion += abs(float(s[j]))
        step = eta0 if t[i] else -eta0  # eta0 (t - y_hat)
        w += step * xs[i]
        if fit_intercept:
            b += step
        pos, block = i + 1, max(4, 2 * (j + 1))
    return wrong, criterion


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
    the same examples ("this class or not"), each stopping on its own as above (a stopped
    unit changes no more); ``predict`` takes the class whose unit has the highest score.
    An example counts as one error when any unit gets it wrong, and ``loss_curve_`` sums
    the units' criteria.

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
        k = target.shape[1]
        w, b = np.zeros((k, x.shape[1])), np.zeros(k)
        rng = make_rng(self.random_state)
        self.errors_, self.loss_curve_ = [], []
        # each unit stops on its own (as scikit-learn's one-vs-rest binary perceptrons)
        rate = np.full(k, float(self.eta0))
        best, stale = np.full(k, np.inf), np.zeros(k, np.int64)
        for epoch in range(1, self.max_iter + 1):
            order = rng.permutation(n) if self.shuffle else np.arange(n)
            errors, mistakes, criterion = perceptron_epoch(x, target, w, b, rate, order,
                                                           bool(self.fit_intercept))  # fmt: skip
            loss = criterion / n  # (k,) each unit's mean criterion
            self.errors_.append(errors)
            self.loss_curve_.append(float(loss.sum()))
            if self.verbose:
                print(f"Perceptron: epoch {epoch}, {errors} errors, criterion {loss.sum():.6g}")
            done = mistakes == 0  # a clean epoch: no further epoch would change the unit
            if self.tol is not None:
                stale = np.where(loss > best - self.tol, stale + 1, 0)
                best = np.minimum(best, loss)
                done |= stale >= self.n_iter_no_change
            rate[done] = 0.0
            if not rate.any():
                break
        stopped = not rate.any()
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
