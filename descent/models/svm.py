"""The linear support vector machine of the lectures: the multiclass hinge loss plus L2."""

from __future__ import annotations

from ..nn import functional as F
from ._classifier import LinearClassifier

__all__ = ["LinearSVM"]


class LinearSVM(LinearClassifier):
    """A linear classifier trained on the multiclass SVM loss of the lectures
    (``F.multiclass_hinge_loss``): per example $\\sum_{j \\ne y} \\max(0, s_j - s_y + m)$
    with margin ``margin``, averaged, plus $\\alpha R(W)$, $R = \\frac{1}{2}\\|W\\|^2$
    (``penalty='l2'``) or $\\|W\\|_1$ (``'l1'``).

    One score per class, also for two classes, where the loss is the binary hinge loss of
    the difference of the two scores. Training as in ``LogisticRegression``. An SVM gives
    no probabilities: use ``decision_function`` for the scores.

    Learned: ``coef_`` (C, d), ``intercept_`` (C,), ``classes_``, ``n_features_in_``,
    ``loss_curve_``, ``n_iter_``, ``model_``.

    >>> X, y = ds.datasets.make_blobs(90, centers=3, seed=0)
    >>> ds.models.LinearSVM(random_state=0).fit(X, y).score(X, y) > 0.9
    True
    """

    def __init__(
        self,
        penalty: str | None = "l2",
        alpha: float = 1e-4,
        margin: float = 1.0,
        fit_intercept: bool = True,
        solver: str = "adam",
        lr: float = 0.01,
        momentum: float = 0.9,
        epochs: int = 500,
        batch_size="auto",
        tol: float | None = 1e-4,
        n_iter_no_change: int = 10,
        shuffle: bool = True,
        dtype: str = "float32",
        random_state=None,
        verbose: int = 0,
    ):
        self.penalty = penalty
        self.alpha = alpha
        self.margin = margin
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.lr = lr
        self.momentum = momentum
        self.epochs = epochs
        self.batch_size = batch_size
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.shuffle = shuffle
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose

    def _n_outputs(self, n_classes: int) -> int:
        return n_classes

    def _data_loss(self, scores, target):
        return F.multiclass_hinge_loss(scores, target, margin=float(self.margin))
