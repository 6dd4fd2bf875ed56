"""The shared part of the linear classifiers (logistic regression, the linear SVM): one
nn.Linear trained from zero weights on a loss plus scikit-learn's C-weighted penalty, through
ds.train.fit.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import nn
from ..nn import functional as F
from .base import BaseEstimator, ClassifierMixin
from .checks import (
    check_choice,
    check_data,
    check_is_fitted,
    check_labels,
    check_positive,
    float_dtype,
    resolve_batch_size,
)
from .errors import ConvergenceWarning, sklearn_flavoured
from .inference import ClassLabels
from .networks import linear_from, linear_weights, zero_init
from .training import make_optimizer, make_rng, stop_on_plateau, train_module


class LinearScoresMixin:
    """``_scores(X)`` = $x W^T + b$ from the learned ``coef_`` and ``intercept_``."""

    def _scores(self, X) -> np.ndarray:  # noqa: N803
        check_is_fitted(self, "coef_")
        x = check_data(self, X, reset=False, method="predict")
        return x @ self.coef_.T + self.intercept_

    # the rule predict uses for a single score column ('positive': s > 0 means classes_[1])
    _one_score_rule = "positive"

    def _module_builders(self) -> dict:
        check_is_fitted(self, "coef_")
        k = self.coef_.shape[0]

        scores = self._score_module

        def predict():
            rule = self._one_score_rule if k == 1 else "argmax"
            return nn.Sequential(scores(), ClassLabels(self.classes_, rule))

        def decision_function():
            if k == 1:
                return nn.Sequential(scores(), nn.Flatten(0))
            if k == 2 and self._two_scores_differ:  # classes_[1]'s score minus classes_[0]'s
                diff = linear_from(self.coef_[1] - self.coef_[0],
                                   self.intercept_[1] - self.intercept_[0])  # fmt: skip
                return nn.Sequential(diff, nn.Flatten(0))
            return scores()

        return {"predict": predict, "decision_function": decision_function}

    def _score_module(self):
        """nn.Linear computing ``_scores``."""
        return linear_from(self.coef_, self.intercept_)

    _two_scores_differ = True  # decision_function of two score columns is their difference


class LinearClassifier(LinearScoresMixin, ClassifierMixin, BaseEstimator):
    """Scores $s = x W^T + b$, one row of W per output; subclasses say how many outputs,
    which targets, which loss and which penalty, and each public one names its own
    hyperparameters in its own ``__init__`` (so a wrong keyword names the public class).

    The objective is scikit-learn's $C \\sum_i L(s_i, y_i) + R(W)$ divided by $C n$:
    $\\frac{1}{n} \\sum_i L(s_i, y_i) + \\alpha R(W)$ with $\\alpha = 1 / (C n)$, the penalty on
    the weights only. Training: ``nn.Linear`` from zero weights, ``solver`` 'adam' or 'sgd'
    (with ``momentum``) at learning rate ``eta0``, mini-batches of ``batch_size``, at most
    ``max_iter`` epochs through ``ds.train.fit``, stopping when the training loss has not
    improved by ``tol`` for ``n_iter_no_change`` epochs (``tol=None``: every epoch runs).
    """

    def _n_outputs(self, n_classes: int) -> int:
        raise NotImplementedError

    def _targets(self, index: np.ndarray, n_classes: int) -> np.ndarray:
        return index  # class indices (int64) unless a subclass needs something else

    def _data_loss(self, scores, target):
        raise NotImplementedError

    def _penalty_weights(self, n: int) -> tuple[float, float]:
        """(the L2 weight $\\lambda_2$, the L1 weight $\\lambda_1$) of the penalty
        $\\frac{\\lambda_2}{2}\\|W\\|^2 + \\lambda_1 \\|W\\|_1$ for n training examples."""
        raise NotImplementedError

    def _check_params(self) -> None:
        check_positive(self, "C")
        check_positive(self, "eta0")
        check_positive(self, "max_iter", integer=True)
        check_positive(self, "momentum", zero=True)
        check_choice(self, "solver", ("adam", "sgd"))
        if self.tol is not None:
            check_positive(self, "tol", zero=True)
            check_positive(self, "n_iter_no_change", integer=True)

    def fit(self, X, y):  # noqa: N803 - scikit-learn's X
        """Fit to X (n, d) and labels y (n,) of any kind (ints, strings ...); returns self."""
        self._check_params()
        x = check_data(self, X, reset=True)
        self.classes_, index = check_labels(self, y, len(x))
        n_classes = len(self.classes_)
        dtype = float_dtype(self)
        rng = make_rng(self.random_state)
        model = nn.Linear(x.shape[1], self._n_outputs(n_classes), bias=self.fit_intercept,
                          dtype=dtype)  # fmt: skip
        zero_init(model)  # a convex problem: the start does not matter, so start at zero
        l2, l1 = self._penalty_weights(len(x))

        def loss_fn(scores, target):
            loss = self._data_loss(scores, target)
            if l2 > 0:
                loss = loss + (l2 / 2) * F.l2_penalty(model.weight)
            if l1 > 0:
                loss = loss + l1 * F.l1_penalty(model.weight)
            return loss

        optimizer = make_optimizer(self, model.parameters(), self.solver, float(self.eta0),
                                   float(self.momentum))  # fmt: skip
        stop = stop_on_plateau(self) if self.tol is not None else None
        train_module(
            self, model, loss_fn, optimizer, x, self._targets(index, n_classes), dtype=dtype,
            epochs=self.max_iter, batch_size=resolve_batch_size(self, self.batch_size, len(x)),
            rng=rng, callbacks=[stop] if stop is not None else [],
        )  # fmt: skip
        self.coef_, self.intercept_ = linear_weights(model, self.fit_intercept)
        if stop is not None and stop.stopped_epoch is None:
            warnings.warn(
                f"{type(self).__name__}: stopped at max_iter={self.max_iter} epochs before the "
                f"training loss settled (tol={self.tol}); raise max_iter or eta0 for a "
                f"converged fit",
                sklearn_flavoured(ConvergenceWarning),
                stacklevel=2,
            )
        return self

    def decision_function(self, X) -> np.ndarray:  # noqa: N803
        """The scores $x W^T + b$: (n, C) with one column per class in ``classes_``, or
        (n,) for two classes, positive where ``classes_[1]`` wins."""
        scores = self._scores(X)
        if scores.shape[1] == 1:
            return scores[:, 0]
        if scores.shape[1] == 2:
            return scores[:, 1] - scores[:, 0]
        return scores

    def predict(self, X) -> np.ndarray:  # noqa: N803
        """The label in ``classes_`` with the highest score."""
        scores = self._scores(X)
        if scores.shape[1] == 1:
            index = (scores[:, 0] > 0).astype(np.int64)
        else:
            index = scores.argmax(axis=1)
        return self.classes_[index]
