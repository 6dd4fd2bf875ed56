"""Multi-layer perceptrons with scikit-learn's hyperparameters: MLPClassifier, MLPRegressor."""

from __future__ import annotations

import copy
import warnings

import numpy as np

from .. import nn
from ..data import train_val_test_split
from ..distributed import global_batch_rows
from ..nn import functional as F
from ..train import EarlyStopping
from ..train.metrics import r2
from .base import BaseEstimator, ClassifierMixin, RegressorMixin
from .checks import (
    check_choice,
    check_data,
    check_is_fitted,
    check_labels,
    check_positive,
    check_targets,
    float_dtype,
    resolve_batch_size,
)
from .errors import ConvergenceWarning, sklearn_flavoured
from .inference import ClassLabels
from .networks import ESTIMATOR_ACTIVATIONS, build_mlp
from .training import (
    forward,
    make_optimizer,
    make_rng,
    predict_forward,
    stop_on_plateau,
    train_module,
)

__all__ = ["MLPClassifier", "MLPRegressor"]


class _BaseMLP(BaseEstimator):
    """Shared by MLPClassifier and MLPRegressor; see their docstrings. Each names its
    hyperparameters in its own ``__init__``, so a wrong keyword names the public class."""

    # what the subclasses define
    _out_activation = "identity"

    def _data_loss(self, out, target):
        raise NotImplementedError

    def _validation_score(self, x: np.ndarray, target: np.ndarray) -> float:
        raise NotImplementedError

    def _hidden_sizes(self) -> list[int]:
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if isinstance(sizes, (int, np.integer)) else list(sizes)
        if any(isinstance(h, bool) or not isinstance(h, (int, np.integer)) or h < 1 for h in sizes):
            raise ValueError(
                f"{type(self).__name__}: hidden_layer_sizes must be positive ints, got "
                f"{self.hidden_layer_sizes!r}"
            )
        return [int(h) for h in sizes]

    def _check_params(self) -> None:
        check_choice(self, "activation", ESTIMATOR_ACTIVATIONS)
        check_choice(self, "solver", ("adam", "sgd"))
        check_positive(self, "alpha", zero=True)
        check_positive(self, "learning_rate_init")
        check_positive(self, "max_iter", integer=True)
        check_positive(self, "tol", zero=True)
        check_positive(self, "n_iter_no_change", integer=True)
        check_positive(self, "momentum", zero=True)
        check_positive(self, "epsilon")
        for name in ("beta_1", "beta_2"):
            if not 0 <= getattr(self, name) < 1:
                raise ValueError(
                    f"{type(self).__name__}: {name} must be in [0, 1), got {getattr(self, name)!r}"
                )
        if self.early_stopping and not 0 < self.validation_fraction < 1:
            raise ValueError(
                f"{type(self).__name__}: validation_fraction must be in (0, 1), got "
                f"{self.validation_fraction!r}"
            )

    def _train(self, x: np.ndarray, target: np.ndarray, n_out: int, stratify=None):
        """Build the network and train it; sets every learned attribute but classes_."""
        self._check_params()
        dtype = float_dtype(self)
        rng = make_rng(self.random_state)
        sizes = [x.shape[1], *self._hidden_sizes(), n_out]
        model = build_mlp(sizes, self.activation, rng=rng, dtype=dtype)
        weights = [m.weight for m in model if isinstance(m, nn.Linear)]
        alpha = float(self.alpha)

        def loss_fn(out, t):
            # scikit-learn's objective: data loss + alpha / (2 * batch) * sum of squared weights
            # (the whole batch's size: under fit(distributed=True) a rank holds part of it)
            loss = self._data_loss(out, t)
            if alpha > 0:
                rows = global_batch_rows(out.shape[0])
                loss = loss + (alpha / (2 * rows)) * F.l2_penalty(weights)
            return loss

        x_train, t_train = x, target
        if self.early_stopping:
            fractions = (1 - self.validation_fraction, self.validation_fraction, 0.0)
            x_train, x_val, _, t_train, t_val, _ = train_val_test_split(
                x, target, fractions=fractions, seed=int(rng.integers(2**63)), stratify=stratify
            )
            stop = EarlyStopping(
                lambda: self._validation_score(forward(model, x_val, dtype), t_val),
                mode="max", patience=int(self.n_iter_no_change), tol=self.tol,
                restore_best_weights=True,
            )  # fmt: skip
        else:
            stop = stop_on_plateau(self)
        optimizer = make_optimizer(
            self, model.parameters(), self.solver, float(self.learning_rate_init),
            float(self.momentum), bool(self.nesterovs_momentum), (self.beta_1, self.beta_2),
            float(self.epsilon),
        )  # fmt: skip
        train_module(
            self, model, loss_fn, optimizer, x_train, t_train, dtype=dtype, epochs=self.max_iter,
            batch_size=resolve_batch_size(self, self.batch_size, len(x_train)), rng=rng,
            callbacks=[stop], compile=True,
        )  # fmt: skip
        linears = [m for m in model if isinstance(m, nn.Linear)]
        self.coefs_ = [m.weight.numpy().T.astype(np.float64) for m in linears]  # (in, out)
        self.intercepts_ = [m.bias.numpy().astype(np.float64) for m in linears]
        self.n_layers_ = len(linears) + 1
        self.n_outputs_ = n_out
        self.out_activation_ = self._out_activation
        self.loss_ = self.loss_curve_[-1]
        self.t_ = self.n_iter_ * len(x_train)  # training examples seen, as scikit-learn
        if self.early_stopping:
            self.validation_scores_ = list(stop.scores)
            self.best_validation_score_ = stop.best
            self.best_loss_ = None
        else:
            self.validation_scores_ = None
            self.best_validation_score_ = None
            self.best_loss_ = min(self.loss_curve_)
        if stop.stopped_epoch is None:
            warnings.warn(
                f"{type(self).__name__}: stopped at max_iter={self.max_iter} epochs before "
                f"the optimization converged (tol={self.tol}); raise max_iter",
                sklearn_flavoured(ConvergenceWarning),
                stacklevel=3,
            )

    def _network(self) -> nn.Module:
        """A copy of the trained network (``model_``)."""
        check_is_fitted(self, "model_")
        return copy.deepcopy(self.model_)

    def _forward(self, X, method: str) -> np.ndarray:  # noqa: N803
        check_is_fitted(self, "model_")
        x = check_data(self, X, reset=False, method=method)
        return predict_forward(self.model_, x)


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """A multi-layer perceptron classifier with scikit-learn's hyperparameters and defaults.

    ``nn.Linear`` layers of ``hidden_layer_sizes`` units with ``activation`` ('relu',
    'tanh', 'logistic' or 'identity') between them, and one output per class (softmax;
    also for two classes). Trained on the cross-entropy plus
    $\\frac{\\alpha}{2 B} \\sum \\|W\\|^2$ over the weight matrices (B = the batch size,
    as scikit-learn) with ``solver`` 'adam' or 'sgd' (``momentum``, Nesterov's when
    ``nesterovs_momentum``) at ``learning_rate_init``, in mini-batches of ``batch_size``
    (``'auto'`` = min(200, n)), for at most ``max_iter`` epochs, through ``ds.train.fit``.
    Weights start as scikit-learn's (Glorot uniform) from ``random_state``.

    Stopping as scikit-learn: without ``early_stopping``, when the training loss has not
    improved by ``tol`` for more than ``n_iter_no_change`` epochs; with it,
    ``validation_fraction`` of the training data (stratified) is held out and training
    stops when its accuracy has not improved by ``tol`` for more than
    ``n_iter_no_change`` epochs, keeping the weights of the best epoch. Reaching
    ``max_iter`` first warns with ``ConvergenceWarning``.

    Adam's ``beta_1``, ``beta_2`` and ``epsilon`` as scikit-learn's. Not here from
    scikit-learn's MLPs: ``solver='lbfgs'`` (and its ``max_fun``), the ``learning_rate``
    schedules 'invscaling' and 'adaptive' (and ``power_t``; the rate is constant) and
    ``warm_start``.

    Learned (scikit-learn's fitted attributes): ``classes_``, ``coefs_`` (weight matrices,
    (n_in, n_out) each), ``intercepts_``, ``loss_`` (the last epoch's loss),
    ``loss_curve_``, ``best_loss_`` (None with early stopping), ``validation_scores_`` /
    ``best_validation_score_`` (early stopping, else None), ``n_iter_`` (epochs), ``t_``
    (training examples seen), ``n_layers_``, ``n_outputs_``, ``out_activation_``,
    ``n_features_in_``; and ``model_`` (the trained ``nn.Sequential``, returning logits).

    >>> X, y = ds.datasets.make_moons(200, noise=0.1, seed=0)
    >>> clf = ds.models.MLPClassifier((32,), learning_rate_init=0.01, random_state=0).fit(X, y)
    >>> clf.score(X, y) > 0.95
    True
    """

    _out_activation = "softmax"

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation: str = "relu",
        solver: str = "adam",
        alpha: float = 1e-4,
        batch_size="auto",
        learning_rate_init: float = 1e-3,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state=None,
        tol: float = 1e-4,
        verbose: int = 0,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int = 10,
        dtype: str = "float32",
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.dtype = dtype

    def fit(self, X, y) -> MLPClassifier:  # noqa: N803 - scikit-learn's X
        """Fit to X (n, d) and labels y (n,) of any kind; returns self."""
        x = check_data(self, X, reset=True)
        self.classes_, index = check_labels(self, y, len(x))
        self._train(x, index, len(self.classes_), stratify=index)
        return self

    def _data_loss(self, out, target):
        return F.cross_entropy(out, target)

    def _validation_score(self, logits: np.ndarray, target: np.ndarray) -> float:
        return float(np.mean(logits.argmax(axis=1) == target))

    def predict_proba(self, X) -> np.ndarray:  # noqa: N803
        """(n, C) softmax probabilities, columns in the order of ``classes_``."""
        logits = self._forward(X, "predict_proba")
        z = np.exp(logits - logits.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X) -> np.ndarray:  # noqa: N803
        return np.log(self.predict_proba(X))

    def predict(self, X) -> np.ndarray:  # noqa: N803
        """The most probable label in ``classes_``."""
        logits = self._forward(X, "predict")
        return self.classes_[logits.argmax(axis=1)]

    def _module_builders(self) -> dict:
        return {
            "predict": lambda: nn.Sequential(self._network(), ClassLabels(self.classes_)),
            "predict_proba": lambda: nn.Sequential(self._network(), nn.Softmax(1)),
        }


class MLPRegressor(RegressorMixin, _BaseMLP):
    """A multi-layer perceptron regressor with scikit-learn's hyperparameters and defaults.

    As ``MLPClassifier`` but with linear outputs (one per target column) and the loss
    $\\frac{1}{2}$ mean squared error (scikit-learn's); early stopping monitors $R^2$ on
    the held-out data. Targets are used as given: scale them (e.g. standardise) when they
    are large.

    Learned: as MLPClassifier's but ``classes_``: ``coefs_``, ``intercepts_``, ``loss_``,
    ``loss_curve_``, ``best_loss_``, ``validation_scores_`` / ``best_validation_score_``,
    ``n_iter_``, ``t_``, ``n_layers_``, ``n_outputs_``, ``out_activation_``,
    ``n_features_in_``, ``model_``.

    >>> X, y = ds.datasets.make_polynomial(200, coefficients=(0.0, 1.0, -0.5), noise=0.1, seed=0)
    >>> reg = ds.models.MLPRegressor((32,), max_iter=500, random_state=0).fit(X, y)
    >>> reg.score(X, y) > 0.9
    True
    """

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation: str = "relu",
        solver: str = "adam",
        alpha: float = 1e-4,
        batch_size="auto",
        learning_rate_init: float = 1e-3,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state=None,
        tol: float = 1e-4,
        verbose: int = 0,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int = 10,
        dtype: str = "float32",
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.dtype = dtype

    def fit(self, X, y) -> MLPRegressor:  # noqa: N803
        """Fit to X (n, d) and y (n,) or (n, k); returns self."""
        x = check_data(self, X, reset=True)
        y = check_targets(self, y, len(x))
        self._y_ndim = y.ndim
        target = y.reshape(len(y), -1)
        self._train(x, target, target.shape[1])
        return self

    def _data_loss(self, out, target):
        return F.mse_loss(out, target) / 2

    def _validation_score(self, pred: np.ndarray, target: np.ndarray) -> float:
        return r2(pred, target)

    def predict(self, X) -> np.ndarray:  # noqa: N803
        """(n,) predictions for a 1-D training target, (n, k) otherwise."""
        out = self._forward(X, "predict")
        return out[:, 0] if self._y_ndim == 1 else out

    def _module_builders(self) -> dict:
        def predict():
            net = self._network()
            return nn.Sequential(net, nn.Flatten(0)) if self._y_ndim == 1 else net

        return {"predict": predict}
