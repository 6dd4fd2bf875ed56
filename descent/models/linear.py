"""Linear and polynomial regression: the normal equations, or gradient descent on nn.Linear.

``solver='normal'`` solves least squares in float64 with ``np.linalg.lstsq`` and warns
when $X^T X$ is ill-conditioned. The other solvers train one ``nn.Linear`` on the mean
squared error with ``optim.SGD`` through ``ds.train.fit``, and differ only in how many
examples each step sees: all of them ('gd'), one ('sgd'), or ``batch_size`` ('minibatch').
One-example steps can use ``optim.SAGA`` instead (``optimizer='saga'``), which converges
where plain SGD keeps wandering around the optimum.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np

from .. import nn
from ..distributed import global_batch_rows
from ..nn import functional as F
from ..optim import SAGA, SGD
from ..optim.lr_scheduler import ExponentialLR
from .base import BaseEstimator, RegressorMixin
from .checks import (
    check_choice,
    check_data,
    check_is_fitted,
    check_positive,
    check_targets,
    float_dtype,
)
from .errors import IllConditionedWarning
from .inference import Monomials
from .networks import linear_from, linear_weights, zero_init
from .training import make_rng, train_module

__all__ = ["LinearRegression", "PolynomialRegression", "polynomial_powers"]

SOLVERS = ("normal", "gd", "sgd", "minibatch")
OPTIMIZERS = ("sgd", "saga")

# Above this condition number of X^T X the least-squares solution is numerically unstable
# (about 1e-6 relative error in float64, as eps * cond).
ILL_CONDITIONED = 1e10


def _least_squares(x: np.ndarray, y: np.ndarray, who: str, ridge: float = 0.0, hint: str = ""):
    """Solve $\\min_w \\|x w - y\\|^2 / n + ridge \\|w\\|^2$ by lstsq in float64.

    Returns (w, rank, singular values of x, condition number of $x^T x + n\\,ridge\\,I$), and
    warns with IllConditionedWarning when that condition number is above 1e10.
    """
    n, d = x.shape
    a, b = x, y
    if ridge > 0:  # ridge as least squares on [x; sqrt(n ridge) I] w ~ [y; 0]
        a = np.vstack([x, np.sqrt(n * ridge) * np.eye(d)])
        b = np.concatenate([y, np.zeros((d,) + y.shape[1:])])
    w, _, rank, sv = np.linalg.lstsq(a, b, rcond=None)
    # cond(A^T A) = (s_max / s_min)^2; a rank-deficient A (s_min = 0 or fewer rows than
    # columns) is infinitely ill-conditioned.
    s_min = sv[-1] if len(sv) == d else 0.0
    cond = np.inf if s_min <= sv[0] * np.finfo(np.float64).eps else float((sv[0] / s_min) ** 2)
    if cond > ILL_CONDITIONED:
        warnings.warn(
            f"{who}: X^T X is ill-conditioned (condition number {cond:.3g} > "
            f"{ILL_CONDITIONED:.0e}; rank {rank} of {d} columns): some columns of X are "
            f"(nearly) linear combinations of others, so the coefficients are unstable. "
            f"{hint}",
            IllConditionedWarning,
            stacklevel=3,
        )
    if ridge > 0:
        sv = np.linalg.svd(x, compute_uv=False)  # report the singular values of x itself
    return w, int(rank), sv, cond


class _GradientRegression(RegressorMixin, BaseEstimator):
    """The gradient-descent part shared by LinearRegression and PolynomialRegression."""

    def _check_solver(self) -> None:
        check_choice(self, "solver", SOLVERS)
        if self.solver != "normal":
            check_positive(self, "eta0")
            check_positive(self, "max_iter", integer=True)
            check_positive(self, "batch_size", integer=True)
            check_positive(self, "momentum", zero=True)
            check_positive(self, "lr_decay")
            check_choice(self, "optimizer", OPTIMIZERS)
            if self.optimizer == "saga" and self.solver != "sgd":
                raise ValueError(
                    f"{type(self).__name__}: optimizer='saga' keeps one gradient per example, "
                    f"so it needs one example per step: use solver='sgd', not "
                    f"{self.solver!r}"
                )
            if self.optimizer == "saga" and self.momentum != 0:
                raise ValueError(
                    f"{type(self).__name__}: optimizer='saga' has no momentum; leave momentum "
                    f"at 0 (got {self.momentum!r})"
                )

    def _gradient_fit(self, x: np.ndarray, y: np.ndarray, bias: bool, penalty=None):
        """Train nn.Linear(d, k) from zero weights on MSE (+ ``penalty(weight)``) with SGD.

        Returns (weight (k, d), bias (k,)) as float64 arrays.
        """
        dtype = float_dtype(self)
        target = y.reshape(len(y), -1)
        model = nn.Linear(x.shape[1], target.shape[1], bias=bias, dtype=dtype)
        zero_init(model)
        batch = {"gd": len(x), "sgd": 1, "minibatch": min(int(self.batch_size), len(x))}
        size = batch[self.solver]

        def loss_fn(pred, t):
            mse = F.mse_loss(pred, t)
            rows = global_batch_rows(len(t))  # the whole batch's, under fit(distributed=True)
            if rows == size:
                return mse if penalty is None else mse + penalty(model.weight)
            # NOTE: each example weighs 1/batch_size in every step, so a smaller last batch
            # takes a proportionally smaller step and each epoch's steps sum to whole
            # gradients. (A plain mean would overweight the last batch's examples, which
            # keeps mini-batch descent from settling on the least-squares solution.) The
            # detached rest keeps the loss's value the batch's MSE, which fit logs.
            scaled = mse * (rows / size)
            loss = scaled if penalty is None else scaled + penalty(model.weight)
            return loss + (mse - scaled).detach()

        if self.optimizer == "saga":
            optimizer = SAGA(model.parameters(), lr=float(self.eta0), n_examples=len(x))
        else:
            optimizer = SGD(model.parameters(), lr=float(self.eta0), momentum=float(self.momentum))
        scheduler = ExponentialLR(optimizer, float(self.lr_decay)) if self.lr_decay != 1 else None
        train_module(
            self, model, loss_fn, optimizer, x, target, dtype=dtype, epochs=self.max_iter,
            batch_size=size, rng=make_rng(self.random_state), scheduler=scheduler,
        )  # fmt: skip
        return linear_weights(model, bias)

    def _output_module(self) -> nn.Module:
        """nn.Linear with ``coef_`` and ``intercept_``, its (N, 1) output made (N,) for a
        1-D training target, as predict."""
        check_is_fitted(self, "coef_")
        layer = linear_from(self.coef_, self.intercept_)
        return nn.Sequential(layer, nn.Flatten(0)) if np.ndim(self.coef_) == 1 else layer

    def _shape_outputs(self, w: np.ndarray, b: np.ndarray, y: np.ndarray) -> None:
        """coef_ (d,) and a float intercept_ for a 1-D y; (k, d) and (k,) for a 2-D y."""
        if y.ndim == 1:
            self.coef_, self.intercept_ = w.reshape(-1), float(b.reshape(-1)[0])
        else:
            self.coef_, self.intercept_ = w, b


class LinearRegression(_GradientRegression):
    """Ordinary least squares, $\\min_{w, b} \\frac{1}{n} \\sum_i (x_i \\cdot w + b - y_i)^2$.

    - ``solver='normal'``: the least-squares solution by ``np.linalg.lstsq`` in float64
      (on centred X and y when ``fit_intercept``); warns with ``IllConditionedWarning``
      when $X^T X$ has a condition number above 1e10 (``condition_number_``).
    - ``'gd'``: full-batch gradient descent, one step per epoch;
      ``'sgd'``: one example per step; ``'minibatch'``: ``batch_size`` examples per step.
      All three train the same ``nn.Linear`` from zero weights with ``optim.SGD`` at
      learning rate ``eta0`` (and ``momentum``) through ``ds.train.fit`` for ``max_iter``
      epochs, the rate multiplied by ``lr_decay`` after each epoch (scikit-learn's
      SGDRegressor names the rate ``eta0`` and the epochs ``max_iter``). Gradient descent
      needs features of similar scale: standardise X first (``ds.data.Standardizer``).
    - ``optimizer='saga'`` (with ``solver='sgd'``) takes the one-example steps with
      ``optim.SAGA``, which corrects each example's gradient by the last one it saw of
      that example. Plain SGD with a constant rate stays at a distance from the optimum
      that shrinks only with the rate; SAGA converges with a constant rate. Its proven
      rate is ``1 / (6 max_i ||x_i||^2)`` (counting the intercept's 1 in x_i); on the
      standardised diabetes data six times that (eta0=0.02) converges fastest, nine times
      slowly and twelve times diverges. It keeps one gradient per example.

    Learned: ``coef_`` (d,) or (k, d) for a 2-D y, ``intercept_``, ``n_features_in_``;
    ``n_iter_`` (epochs, or 1 for the one solve of 'normal'); 'normal' adds ``rank_``,
    ``singular_`` and ``condition_number_``; the others ``loss_curve_`` (the training MSE
    per epoch) and ``model_``.

    >>> X, y = ds.datasets.make_line(100, slope=2.0, intercept=1.0, noise=0.0, seed=0)
    >>> reg = ds.models.LinearRegression().fit(X, y)
    >>> round(float(reg.coef_[0]), 6), round(reg.intercept_, 6)
    (2.0, 1.0)
    """

    def __init__(
        self,
        solver: str = "normal",
        fit_intercept: bool = True,
        eta0: float = 0.01,
        max_iter: int = 100,
        batch_size: int = 32,
        momentum: float = 0.0,
        lr_decay: float = 1.0,
        optimizer: str = "sgd",
        shuffle: bool = True,
        dtype: str = "float32",
        random_state=None,
        verbose: int = 0,
    ):
        self.solver = solver
        self.fit_intercept = fit_intercept
        self.eta0 = eta0
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.momentum = momentum
        self.lr_decay = lr_decay
        self.optimizer = optimizer
        self.shuffle = shuffle
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose

    def fit(self, X, y) -> LinearRegression:  # noqa: N803 - scikit-learn's X
        """Fit to X (n, d) and y (n,) or (n, k); returns self."""
        self._check_solver()
        x = check_data(self, X, reset=True)
        y = check_targets(self, y, len(x))
        if self.solver == "normal":
            self.n_iter_ = 1  # one solve (scikit-learn's tools read n_iter_ beside max_iter)
            x_mean = x.mean(axis=0) if self.fit_intercept else np.zeros(x.shape[1])
            y_mean = y.mean(axis=0) if self.fit_intercept else np.zeros(y.shape[1:])
            w, self.rank_, self.singular_, self.condition_number_ = _least_squares(
                x - x_mean, y - y_mean, "LinearRegression.fit",
                hint="Drop or merge collinear features, or regularise (ridge regression is "
                "PolynomialRegression(degree=1, alpha=...)).",
            )  # fmt: skip
            w = w.reshape(x.shape[1], -1).T  # (k, d)
            b = np.atleast_1d(y_mean - x_mean @ w.T)
        else:
            w, b = self._gradient_fit(x, y, bias=self.fit_intercept)
        self._shape_outputs(w, b, y)
        return self

    def predict(self, X) -> np.ndarray:  # noqa: N803
        """$X w + b$: (n,) for a 1-D training target, (n, k) otherwise."""
        check_is_fitted(self, "coef_")
        x = check_data(self, X, reset=False, method="predict")
        return x @ self.coef_.T + self.intercept_

    def _module_builders(self) -> dict:
        return {"predict": self._output_module}


def polynomial_powers(n_features: int, degree: int) -> np.ndarray:
    """The exponents of every monomial of degree 1..``degree`` in ``n_features`` variables,
    one row per monomial, in scikit-learn's ``PolynomialFeatures`` order.

    >>> polynomial_powers(2, 2).tolist()
    [[1, 0], [0, 1], [2, 0], [1, 1], [0, 2]]
    """
    rows = []
    for d in range(1, degree + 1):
        for combo in itertools.combinations_with_replacement(range(n_features), d):
            rows.append(np.bincount(combo, minlength=n_features))
    return np.array(rows, dtype=np.int64).reshape(-1, n_features)


class PolynomialRegression(_GradientRegression):
    """Linear regression on the monomials of X up to ``degree`` (all products of features,
    as scikit-learn's ``PolynomialFeatures``), optionally regularised:

    $\\min_{w, b} \\frac{1}{n} \\sum_i (\\phi(x_i) \\cdot w + b - y_i)^2 + \\alpha R(w)$ with
    $R(w) = \\|w\\|_2^2$ (``penalty='l2'``, ridge) or $\\|w\\|_1$ (``'l1'``, lasso).

    The monomials are standardised internally (mean 0 and standard deviation 1 on the
    training data; only scaled when ``include_bias=False``), so gradient descent converges
    at any degree and alpha weighs every term alike; ``coef_`` and ``intercept_`` are then
    given for the raw monomials ``powers_``. ``include_bias`` fits the constant term b.
    ``solver='normal'`` solves least squares (ridge for alpha > 0) by ``np.linalg.lstsq``
    in float64; 'gd', 'sgd' and 'minibatch' (and ``optimizer``) as in LinearRegression.
    The l1 penalty has no
    closed form: use a gradient solver.

    Learned: ``coef_`` (one per monomial), ``intercept_``, ``powers_`` (monomial
    exponents, one row each), ``n_features_in_``; ``loss_curve_`` and ``n_iter_`` for the
    gradient solvers.

    >>> X, y = ds.datasets.make_polynomial(50, coefficients=(1.0, 0.0, 2.0), noise=0.0, seed=0)
    >>> reg = ds.models.PolynomialRegression(degree=2).fit(X, y)
    >>> np.allclose(reg.coef_, [0.0, 2.0], atol=1e-6), round(reg.intercept_, 6)
    (True, 1.0)
    """

    def __init__(
        self,
        degree: int = 2,
        alpha: float = 0.0,
        penalty: str = "l2",
        solver: str = "normal",
        include_bias: bool = True,
        eta0: float = 0.01,
        max_iter: int = 100,
        batch_size: int = 32,
        momentum: float = 0.0,
        lr_decay: float = 1.0,
        optimizer: str = "sgd",
        shuffle: bool = True,
        dtype: str = "float32",
        random_state=None,
        verbose: int = 0,
    ):
        self.degree = degree
        self.alpha = alpha
        self.penalty = penalty
        self.solver = solver
        self.include_bias = include_bias
        self.eta0 = eta0
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.momentum = momentum
        self.lr_decay = lr_decay
        self.optimizer = optimizer
        self.shuffle = shuffle
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose

    def fit(self, X, y) -> PolynomialRegression:  # noqa: N803
        """Fit to X (n, d) and y (n,) or (n, k); returns self."""
        self._check_solver()
        check_positive(self, "degree", integer=True)
        check_positive(self, "alpha", zero=True)
        check_choice(self, "penalty", ("l2", "l1"))
        if self.penalty == "l1" and self.solver == "normal" and self.alpha > 0:
            raise ValueError(
                "PolynomialRegression: penalty='l1' has no closed-form solution; use "
                "solver='gd', 'sgd' or 'minibatch'"
            )
        x = check_data(self, X, reset=True)
        y = check_targets(self, y, len(x))
        self.powers_ = polynomial_powers(x.shape[1], self.degree)
        phi = self._features(x)
        # Standardise the monomials: z = (phi - shift) / scale.
        if self.include_bias:
            shift = phi.mean(axis=0)
            scale = phi.std(axis=0)
        else:
            shift = np.zeros(phi.shape[1])
            scale = np.sqrt((phi**2).mean(axis=0))
        scale = np.where(scale > 0, scale, 1.0)
        z = (phi - shift) / scale
        if self.solver == "normal":
            self.n_iter_ = 1  # one solve (scikit-learn's tools read n_iter_ beside max_iter)
            y_mean = y.mean(axis=0) if self.include_bias else np.zeros(y.shape[1:])
            w, self.rank_, self.singular_, self.condition_number_ = _least_squares(
                z, y - y_mean, "PolynomialRegression.fit", ridge=float(self.alpha),
                hint="Lower the degree or regularise with alpha > 0.",
            )  # fmt: skip
            w = w.reshape(z.shape[1], -1).T  # (k, p)
            b = np.atleast_1d(y_mean).astype(np.float64)
        else:
            alpha = float(self.alpha)
            norm = F.l2_penalty if self.penalty == "l2" else F.l1_penalty
            penalty = (lambda weight: alpha * norm(weight)) if alpha > 0 else None
            w, b = self._gradient_fit(z, y, bias=self.include_bias, penalty=penalty)
        # Back to raw monomials: z w + b = phi (w / scale) + (b - shift . (w / scale)).
        w_raw = w / scale
        b_raw = b - w_raw @ shift
        self._shape_outputs(w_raw, b_raw, y)
        return self

    def _features(self, x: np.ndarray) -> np.ndarray:
        # (n, p): column j is prod_f x[:, f] ** powers_[j, f]
        return np.prod(x[:, None, :] ** self.powers_[None, :, :], axis=2)

    def features(self, X) -> np.ndarray:  # noqa: N803
        """The raw monomials of X, (n, len(powers_)), in the order of ``coef_``."""
        check_is_fitted(self, "coef_")
        return self._features(check_data(self, X, reset=False, method="features"))

    def predict(self, X) -> np.ndarray:  # noqa: N803
        """$\\phi(X) w + b$."""
        return self.features(X) @ self.coef_.T + self.intercept_

    def _module_builders(self) -> dict:
        def predict():
            return nn.Sequential(Monomials(self.powers_), self._output_module())

        return {"predict": predict}
