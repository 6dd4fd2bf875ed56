"""Rosenblatt's perceptron: a step unit whose weights change only on a misclassified example."""

from __future__ import annotations

import warnings

import numpy as np

from .. import nn
from ..optim import SGD
from ..tensor import tensor
from ..train import Callback
from ._classifier import LinearScoresMixin
from .base import BaseEstimator, ClassifierMixin
from .checks import check_data, check_labels, check_positive, float_dtype
from .errors import ConvergenceWarning
from .networks import linear_weights, zero_init
from .training import make_rng, train_module

__all__ = ["Perceptron"]


class _PerceptronCriterion(Callback):
    """The loss whose gradient step is the perceptron rule, and the epoch's error count.

    For scores s, 0/1 targets t and the step unit's outputs $\\hat y = [s \\ge 0]$ (a
    constant, no gradient): $L = -\\sum (t - \\hat y) s$. Its gradient is
    $-(t - \\hat y) x$, so one SGD step with learning rate lr is exactly
    $w \\mathrel{+}= lr (t - \\hat y) x$ (and $b \\mathrel{+}= lr (t - \\hat y)$): zero unless
    the example is misclassified.
    """

    def __init__(self):
        self.errors_per_epoch: list[int] = []
        self.errors = 0

    def __call__(self, scores, target):
        y_hat = (scores._data >= 0).astype(scores._data.dtype)
        miss = target._data - y_hat  # +1, -1, or 0 where the unit is right
        self.errors += int(np.any(miss != 0, axis=1).sum())
        return -(scores * tensor(miss, dtype=scores.dtype)).sum()

    def on_epoch_end(self, epoch, logs=None):
        self.errors_per_epoch.append(self.errors)
        if self.errors == 0:  # a whole epoch without a mistake: every example is right
            self.run.stop_training = True
        self.errors = 0


class Perceptron(LinearScoresMixin, ClassifierMixin, BaseEstimator):
    """The classic perceptron learning rule.

    The unit outputs $\\hat y = 1$ if $x \\cdot w + b \\ge 0$ else 0 (a step). Weights start
    at zero; each epoch visits the examples one at a time (in a new random order when
    ``shuffle``) and, for each, updates $w \\mathrel{+}= lr\\,(y - \\hat y)\\,x$,
    $b \\mathrel{+}= lr\\,(y - \\hat y)$, which changes nothing unless the example is
    misclassified. Training stops after the first epoch with no mistakes (zero training
    errors: the data are separated) or after ``max_epochs`` epochs, then with a
    ``ConvergenceWarning`` (the data may not be linearly separable).

    The rule is run as one-example SGD steps on the perceptron criterion
    $-\\sum (y - \\hat y)(x \\cdot w + b)$ through ``ds.train.fit``.

    More than two classes: one-vs-rest, one step unit per class trained side by side on
    the same examples ("this class or not"); ``predict`` takes the class whose unit has the
    highest score. An example counts as one error when any unit gets it wrong.

    Learned: ``coef_`` (1, d) for two classes or (C, d), ``intercept_``, ``classes_``,
    ``errors_`` (misclassified examples per epoch, during the epoch), ``n_iter_``
    (epochs run), ``loss_curve_`` (the mean perceptron criterion per epoch),
    ``n_features_in_``, ``model_``.

    >>> X, y = ds.datasets.make_separable(50, seed=0)
    >>> clf = ds.models.Perceptron(random_state=0).fit(X, y)
    >>> clf.errors_[-1], clf.score(X, y)
    (0, 1.0)
    """

    def __init__(
        self,
        lr: float = 1.0,
        max_epochs: int = 100,
        fit_intercept: bool = True,
        shuffle: bool = True,
        dtype: str = "float32",
        random_state=None,
        verbose: int = 0,
    ):
        self.lr = lr
        self.max_epochs = max_epochs
        self.fit_intercept = fit_intercept
        self.shuffle = shuffle
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose

    def fit(self, X, y) -> Perceptron:  # noqa: N803 - scikit-learn's X
        """Run the perceptron rule on X (n, d) and labels y (n,); returns self."""
        check_positive(self, "lr")
        check_positive(self, "max_epochs", integer=True)
        x = check_data(self, X, reset=True)
        self.classes_, index = check_labels(self, y, len(x))
        n_classes = len(self.classes_)
        dtype = float_dtype(self)
        if n_classes == 2:
            target = index.astype(np.float64).reshape(-1, 1)  # 1 for classes_[1]
        else:
            target = np.eye(n_classes)[index]  # one-vs-rest: (n, C)
        model = nn.Linear(x.shape[1], target.shape[1], bias=self.fit_intercept, dtype=dtype)
        zero_init(model)
        criterion = _PerceptronCriterion()
        train_module(
            self, model, criterion, SGD(model.parameters(), lr=float(self.lr)), x, target,
            dtype=dtype, epochs=self.max_epochs, batch_size=1,
            rng=make_rng(self.random_state), callbacks=[criterion],
        )  # fmt: skip
        self.errors_ = list(criterion.errors_per_epoch)
        self.coef_, self.intercept_ = linear_weights(model, self.fit_intercept)
        if self.errors_[-1] > 0:
            warnings.warn(
                f"Perceptron: {self.errors_[-1]} training examples were still misclassified "
                f"in the last of max_epochs={self.max_epochs} epochs; the data may not be "
                f"linearly separable (or need more epochs)",
                ConvergenceWarning,
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
