"""The linear support vector machine of the lectures: the multiclass hinge loss plus L2."""

from __future__ import annotations

from ..nn import functional as F
from ._classifier import LinearClassifier
from .checks import check_choice

__all__ = ["LinearSVC", "LinearSVM"]


class LinearSVC(LinearClassifier):
    """A linear support vector classifier with scikit-learn's names for its penalty and
    stopping, trained on the lectures' multiclass SVM loss (``F.multiclass_hinge_loss``):
    per example $\\sum_{j \\ne y} \\max(0, s_j - s_y + m)$ with margin ``margin``.

    The objective is scikit-learn's form $C \\sum_i L_i + R(W)$,
    $R = \\frac{1}{2}\\|W\\|^2$ (``penalty='l2'``) or $\\|W\\|_1$ (``'l1'``), minimised divided by
    $C n$. NOTE: the loss is the lectures' (Weston and Watkins'), one score per class, also
    for two classes (the hinge of the difference of the two scores); scikit-learn's
    LinearSVC trains one-vs-rest units on the squared hinge by liblinear, so equal C gives
    similar, not equal, coefficients. Training as in ``LogisticRegression``. An SVM gives no
    probabilities: use ``decision_function`` for the scores.

    ``LinearSVM``, the lectures' name, is this class.

    Learned: ``coef_`` (C, d), ``intercept_`` (C,), ``classes_``, ``n_features_in_``,
    ``n_iter_``, ``loss_curve_``, ``model_``.

    >>> X, y = ds.datasets.make_blobs(90, centers=3, seed=0)
    >>> ds.models.LinearSVC(random_state=0).fit(X, y).score(X, y) > 0.9
    True
    """

    def __init__(
        self,
        penalty: str = "l2",
        C: float = 1.0,  # noqa: N803 - scikit-learn's name
        tol: float | None = 1e-4,
        fit_intercept: bool = True,
        max_iter: int = 1000,
        margin: float = 1.0,
        solver: str = "adam",
        eta0: float = 0.01,
        momentum: float = 0.9,
        batch_size="auto",
        n_iter_no_change: int = 10,
        shuffle: bool = True,
        dtype: str = "float32",
        random_state=None,
        verbose: int = 0,
    ):
        self.penalty = penalty
        self.C = C
        self.tol = tol
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.margin = margin
        self.solver = solver
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
        check_choice(self, "penalty", ("l2", "l1"))

    def _penalty_weights(self, n: int) -> tuple[float, float]:
        alpha = 1.0 / (float(self.C) * n)
        return (alpha, 0.0) if self.penalty == "l2" else (0.0, alpha)

    def _n_outputs(self, n_classes: int) -> int:
        return n_classes

    def _data_loss(self, scores, target):
        return F.multiclass_hinge_loss(scores, target, margin=float(self.margin))


# The lectures' name for it.
LinearSVM = LinearSVC
