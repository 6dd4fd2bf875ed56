"""The estimator frame: BaseEstimator, the mixins, input checks, and the bridge to ``fit``.

Estimators follow scikit-learn's conventions (its ``doc/developers/develop.rst``):
``__init__`` stores its arguments as attributes of the same name and does nothing else,
``fit`` returns ``self``, and what ``fit`` learns ends in an underscore (``coef_``,
``classes_``, ``n_features_in_``, ``loss_curve_``). So ``get_params``/``set_params`` read
the hyperparameters from the ``__init__`` signature and ``sklearn.base.clone`` works.

Every gradient-based model trains an ``nn`` Module with an ``optim`` optimizer through
``ds.train.fit`` (see ``train_module``); nothing here repeats that loop by hand.
"""

from __future__ import annotations

import copy
import functools
import inspect
import numbers
import sys
import warnings

import numpy as np

from .. import random as _random
from ..autograd import no_grad
from ..data import TensorDataset
from ..optim import SGD, Adam
from ..tensor import array_of, tensor
from ..train import Callback, fit

__all__ = [
    "BaseEstimator", "ClassifierMixin", "RegressorMixin", "TransformerMixin", "ClusterMixin",
    "NotFittedError", "ConvergenceWarning", "IllConditionedWarning", "DataConversionWarning",
    "check_array", "check_is_fitted",
]  # fmt: skip


class NotFittedError(ValueError, AttributeError):
    """A method that needs a fitted estimator was called before ``fit``.

    A ValueError and an AttributeError, like scikit-learn's ``NotFittedError``; once
    scikit-learn is imported, the error raised is also an instance of scikit-learn's.
    """


class ConvergenceWarning(UserWarning):
    """Training stopped at its epoch limit before meeting its convergence criterion."""


class IllConditionedWarning(UserWarning):
    """The least-squares problem is ill-conditioned: its solution is unstable."""


class DataConversionWarning(UserWarning):
    """The input had to be reshaped (a column of labels where a 1-D array was expected)."""


# ---- the estimator base ------------------------------------------------------------------


class BaseEstimator:
    """Hyperparameters from the ``__init__`` signature: ``get_params``, ``set_params``, repr.

    A subclass's ``__init__`` names every hyperparameter explicitly (no ``*args`` or
    ``**kwargs``) and stores each one unchanged under its own name.

    >>> est = ds.models.SoftmaxRegression(alpha=0.01)
    >>> est.get_params()["alpha"]
    0.01
    >>> est.set_params(alpha=0.1).alpha
    0.1
    """

    _estimator_type: str | None = None

    @classmethod
    def _get_param_names(cls) -> list[str]:
        init = cls.__init__
        if init is object.__init__:
            return []
        names = []
        for p in inspect.signature(init).parameters.values():
            if p.name == "self":
                continue
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise TypeError(
                    f"{cls.__name__}.__init__ takes *args or **kwargs; an estimator must name "
                    f"each hyperparameter so get_params can find it"
                )
            names.append(p.name)
        return sorted(names)

    def get_params(self, deep: bool = True) -> dict:
        """The hyperparameters as ``{name: value}``; with ``deep``, also those of nested
        estimators as ``name__param``."""
        out = {}
        for name in self._get_param_names():
            value = getattr(self, name)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                for sub, sub_value in value.get_params().items():
                    out[f"{name}__{sub}"] = sub_value
            out[name] = value
        return out

    def set_params(self, **params) -> BaseEstimator:
        """Set hyperparameters by name (``name__param`` reaches into a nested estimator);
        returns ``self``. An unknown name raises a ValueError listing the valid ones."""
        if not params:
            return self
        valid = self.get_params(deep=True)
        nested: dict[str, dict] = {}
        for key, value in params.items():
            name, _, sub = key.partition("__")
            if name not in valid:
                raise ValueError(
                    f"Invalid parameter {name!r} for estimator {type(self).__name__}; valid "
                    f"parameters are {self._get_param_names()}"
                )
            if sub:
                nested.setdefault(name, {})[sub] = value
            else:
                setattr(self, name, value)
                valid[name] = value
        for name, sub_params in nested.items():
            valid[name].set_params(**sub_params)
        return self

    def __repr__(self) -> str:
        # Like scikit-learn: only the hyperparameters that differ from their defaults.
        defaults = {
            p.name: p.default for p in inspect.signature(type(self).__init__).parameters.values()
        }
        changed = []
        for name in self._get_param_names():
            value = getattr(self, name, None)
            default = defaults.get(name, inspect.Parameter.empty)
            if not _same_value(value, default):
                changed.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(changed)})"

    def __sklearn_is_fitted__(self) -> bool:
        return any(k.endswith("_") and not k.startswith("__") for k in vars(self))

    def __sklearn_tags__(self):
        # Called by scikit-learn only (cross_val_score, GridSearchCV, is_classifier ...),
        # so scikit-learn is importable whenever this runs.
        from sklearn.utils import (
            ClassifierTags,
            RegressorTags,
            Tags,
            TargetTags,
            TransformerTags,
        )

        kind = self._estimator_type
        tags = Tags(estimator_type=kind, target_tags=TargetTags(required=False))
        if kind == "classifier":
            tags.classifier_tags = ClassifierTags()
            tags.target_tags.required = True
        elif kind == "regressor":
            tags.regressor_tags = RegressorTags()
            tags.target_tags.required = True
            tags.target_tags.multi_output = True  # each regressor here takes y (n, k)
        if hasattr(self, "transform"):
            tags.transformer_tags = TransformerTags()
        return tags


def _same_value(a, b) -> bool:
    if a is b:
        return True
    try:
        return bool(type(a) is type(b) and a == b)
    except (TypeError, ValueError):
        return False


# ---- mixins: what each kind of estimator adds ----------------------------------------------


class ClassifierMixin:
    """``score`` is the accuracy: the fraction of examples whose predicted label is right."""

    _estimator_type = "classifier"

    def score(self, X, y, sample_weight=None) -> float:  # noqa: N803 - scikit-learn's X
        y = as_labels(y, "score")
        right = (self.predict(X) == y).astype(np.float64)
        return float(np.average(right, weights=sample_weight))


class LinearScoresMixin:
    """``_scores(X)`` = $x W^T + b$ from the learned ``coef_`` and ``intercept_``."""

    def _scores(self, X) -> np.ndarray:  # noqa: N803
        check_is_fitted(self, "coef_")
        x = check_data(self, X, reset=False, method="predict")
        return x @ self.coef_.T + self.intercept_


class RegressorMixin:
    """``score`` is $R^2 = 1 - SS_{res} / SS_{tot}$ (averaged over outputs), as scikit-learn."""

    _estimator_type = "regressor"

    def score(self, X, y, sample_weight=None) -> float:  # noqa: N803
        y = np.asarray(array_of(y), dtype=np.float64)
        pred = np.asarray(self.predict(X), dtype=np.float64).reshape(y.shape)
        return r2_score(y, pred, sample_weight)


class TransformerMixin:
    """``fit_transform(X, y)`` is ``fit(X, y).transform(X)``."""

    def fit_transform(self, X, y=None):  # noqa: N803
        return self.fit(X, y).transform(X)


class ClusterMixin:
    """``fit_predict(X)`` is ``fit(X).labels_``."""

    _estimator_type = "clusterer"

    def fit_predict(self, X, y=None):  # noqa: N803
        return self.fit(X).labels_


def r2_score(y_true: np.ndarray, y_pred: np.ndarray, sample_weight=None) -> float:
    """$R^2$ per output, averaged; a constant target scores 1 if predicted exactly, else 0."""
    t = y_true.reshape(len(y_true), -1)
    p = y_pred.reshape(len(y_pred), -1)
    w = np.ones(len(t)) if sample_weight is None else np.asarray(sample_weight, np.float64)
    w = w.reshape(-1, 1)
    mean = (w * t).sum(axis=0) / w.sum()
    ss_res = (w * (t - p) ** 2).sum(axis=0)
    ss_tot = (w * (t - mean) ** 2).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = np.where(ss_tot > 0, 1 - ss_res / ss_tot, np.where(ss_res == 0, 1.0, 0.0))
    return float(scores.mean())


# ---- input checks ----------------------------------------------------------------------------


def check_array(X, who: str, dtype=np.float64) -> np.ndarray:  # noqa: N803
    """X as a 2-D ``dtype`` array of finite numbers with at least one row and one column.

    ``who`` (e.g. ``"LinearRegression.fit"``) starts every error message.
    """
    if hasattr(X, "toarray") and not isinstance(X, np.ndarray):
        raise TypeError(f"{who}: sparse input is not supported; pass a dense array (X.toarray())")
    x = np.asarray(array_of(X))
    if x.dtype.kind == "O":  # e.g. numbers of mixed types
        try:
            x = x.astype(np.float64)
        except (TypeError, ValueError) as e:
            raise TypeError(f"{who}: X must hold real numbers: {e}") from None
    if x.dtype.kind == "c":
        raise ValueError(f"{who}: Complex data not supported; X must hold real numbers")
    if x.dtype.kind not in "fiub":
        raise TypeError(
            f"{who}: X must hold real numbers, got an array of dtype {x.dtype}; encode text "
            f"or categories as numbers first"
        )
    if x.ndim != 2:
        hint = (
            "Reshape your data with X.reshape(-1, 1) if it is a single feature, or "
            "X.reshape(1, -1) if it is a single example"
            if x.ndim in (0, 1)
            else "Flatten each example to one row, e.g. X.reshape(len(X), -1)"
        )
        raise ValueError(
            f"{who}: expected a 2-D X (examples x features), got a {x.ndim}-D array of "
            f"shape {x.shape}. {hint}"
        )
    # (the parenthesis is scikit-learn's wording, which its tools look for)
    if x.shape[0] == 0:
        raise ValueError(
            f"{who}: X has 0 examples (found array with 0 sample(s) (shape={x.shape}) while "
            f"a minimum of 1 is required)"
        )
    if x.shape[1] == 0:
        raise ValueError(
            f"{who}: X has 0 features (found array with 0 feature(s) (shape={x.shape}) while "
            f"a minimum of 1 is required)"
        )
    x = x.astype(dtype, copy=False)
    _check_finite(x, who, "X")
    return x


def _check_finite(x: np.ndarray, who: str, name: str) -> None:
    bad = ~np.isfinite(x)
    if bad.any():
        where = np.argwhere(bad)[0]
        place = f"row {where[0]}, column {where[1]}" if x.ndim == 2 else f"position {where[0]}"
        raise ValueError(
            f"{who}: {name} holds {x[tuple(where)]} at {place} ({int(bad.sum())} non-finite "
            f"value(s) in all); remove or fill NaN and infinite values first"
        )


def check_data(estimator, X, *, reset: bool, method: str = "fit") -> np.ndarray:  # noqa: N803
    """``check_array`` for ``estimator.method``; ``reset`` stores ``n_features_in_`` (fit),
    otherwise X must have that many features (predict, transform, score ...)."""
    who = f"{type(estimator).__name__}.{method}"
    x = check_array(X, who)
    if reset:
        estimator.n_features_in_ = x.shape[1]
    elif x.shape[1] != estimator.n_features_in_:
        raise ValueError(
            f"{who}: X has {x.shape[1]} features, but {type(estimator).__name__} is expecting "
            f"{estimator.n_features_in_} features as input (the number it was fitted on)"
        )
    return x


def as_labels(y, who: str, warn: bool = False) -> np.ndarray:
    """Labels as a 1-D array; a column (n, 1) is flattened (with a warning if ``warn``)."""
    y = np.asarray(array_of(y))
    if y.ndim == 2 and y.shape[1] == 1:
        if warn:
            warnings.warn(
                f"A column-vector y was passed when a 1d array was expected ({who}); it is "
                f"used as y.ravel() (pass shape (n,) to silence this)",
                DataConversionWarning,
                stacklevel=4,
            )
        y = y.ravel()
    if y.ndim != 1:
        raise ValueError(
            f"{who}: y must be 1-D, one label per example, got shape {y.shape}; one-hot "
            f"labels can be turned into indices with y.argmax(axis=1)"
        )
    return y


def _require_y(y, who: str) -> None:
    if y is None:
        raise ValueError(
            f"{who} requires y to be passed, but the target y is None; give the labels or "
            f"targets as fit(X, y)"
        )


def check_labels(estimator, y, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(``classes_``, the index of each example's class in ``classes_``) for labels ``y``.

    Labels may be anything NumPy can sort: ints (from any start), strings, bools.
    """
    who = f"{type(estimator).__name__}.fit"
    _require_y(y, who)
    y = as_labels(y, who, warn=True)
    if len(y) != n:
        raise ValueError(f"{who}: X has {n} examples but y has {len(y)} labels; they must match")
    if y.dtype.kind == "f":
        _check_finite(y, who, "y")
        if not np.all(y == np.round(y)):
            raise ValueError(
                f"{who}: Unknown label type: continuous (y holds non-integer numbers such as "
                f"{y[y != np.round(y)][0]}); a classifier needs class labels, a regressor "
                f"takes real-valued targets"
            )
    classes, index = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise ValueError(
            f"{who}: y holds only one class ({classes[0]!r}); a classifier needs examples of "
            f"at least 2 classes"
        )
    return classes, index.reshape(-1).astype(np.int64)


def check_targets(estimator, y, n: int) -> np.ndarray:
    """Real-valued regression targets, shape (n,) or (n, k), float64 and finite."""
    who = f"{type(estimator).__name__}.fit"
    _require_y(y, who)
    y = np.asarray(array_of(y))
    if y.dtype.kind == "O":
        try:
            y = y.astype(np.float64)
        except (TypeError, ValueError) as e:
            raise TypeError(f"{who}: y must hold real numbers: {e}") from None
    if y.dtype.kind not in "fiub":
        raise TypeError(f"{who}: y must hold numbers, got dtype {y.dtype}")
    if y.ndim not in (1, 2):
        raise ValueError(f"{who}: y must be 1-D (one target) or 2-D (n, k), got shape {y.shape}")
    if len(y) != n:
        raise ValueError(f"{who}: X has {n} examples but y has {len(y)} targets; they must match")
    y = y.astype(np.float64)
    _check_finite(y, who, "y")
    return y


def check_is_fitted(estimator, attribute: str) -> None:
    """Raise NotFittedError (scikit-learn's message) unless ``fit`` has set ``attribute``."""
    if not hasattr(estimator, attribute):
        raise _not_fitted_error()(
            f"This {type(estimator).__name__} instance is not fitted yet. Call 'fit' with "
            f"appropriate arguments before using this estimator."
        )


@functools.cache
def _sklearn_flavoured(sklearn_error: type) -> type:
    return type("NotFittedError", (NotFittedError, sklearn_error), {"__module__": __name__})


def _not_fitted_error() -> type:
    """NotFittedError; once scikit-learn is imported, a subclass that is also scikit-learn's
    NotFittedError, so its tools (and ``except sklearn.exceptions.NotFittedError``) see it.
    NOTE: looked up in sys.modules, so descent itself never imports scikit-learn."""
    sk = sys.modules.get("sklearn.exceptions")
    if sk is None:
        return NotFittedError
    return _sklearn_flavoured(sk.NotFittedError)


def check_choice(estimator, name: str, allowed: tuple) -> None:
    value = getattr(estimator, name)
    if value not in allowed:
        raise ValueError(
            f"{type(estimator).__name__}: {name}={value!r} is not one of {list(allowed)}"
        )


def check_positive(estimator, name: str, integer: bool = False, zero: bool = False) -> None:
    value = getattr(estimator, name)
    kind = numbers.Integral if integer else numbers.Real
    ok = isinstance(value, kind) and not isinstance(value, bool)
    if not ok or value < 0 or (value == 0 and not zero):
        what = "an integer" if integer else "a number"
        bound = ">= 0" if zero else "> 0"
        raise ValueError(
            f"{type(estimator).__name__}: {name} must be {what} {bound}, got {value!r}"
        )


# ---- randomness and dtypes -----------------------------------------------------------------


def make_rng(random_state) -> np.random.Generator:
    """A NumPy Generator for ``random_state``: an int seeds it, a Generator is used as is,
    and None draws a seed from descent's generator (so ``ds.manual_seed`` repeats runs)."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None:
        return np.random.default_rng(int(_random.generator().integers(2**63)))
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        return np.random.default_rng(int(random_state))
    raise TypeError(f"random_state must be None, an int or a numpy Generator, got {random_state!r}")


def float_dtype(estimator) -> np.dtype:
    """The estimator's ``dtype`` hyperparameter ('float32' or 'float64') as a NumPy dtype."""
    dtype = np.dtype(estimator.dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(
            f"{type(estimator).__name__}: dtype must be 'float32' or 'float64', got "
            f"{estimator.dtype!r}"
        )
    return dtype


def glorot_init(layer, rng: np.random.Generator, gain: float = 6.0) -> None:
    """Weights and bias uniform on $\\pm\\sqrt{gain / (fan_{in} + fan_{out})}$, drawn from
    ``rng`` (scikit-learn's MLP init: gain 6, or 2 for logistic units)."""
    bound = np.sqrt(gain / (layer.in_features + layer.out_features))
    dtype = layer.weight.data.dtype
    layer.weight.data[...] = rng.uniform(-bound, bound, layer.weight.shape).astype(dtype)
    if layer.bias is not None:
        layer.bias.data[...] = rng.uniform(-bound, bound, layer.bias.shape).astype(dtype)


def zero_init(layer) -> None:
    layer.weight.data[...] = 0
    if layer.bias is not None:
        layer.bias.data[...] = 0


# ---- training and inference through ds.train.fit ----------------------------------------------


def resolve_batch_size(estimator, batch_size, n: int) -> int:
    """``None`` or ``'auto'`` -> min(200, n), as scikit-learn's MLP; a number is clipped to n."""
    if batch_size is None or batch_size == "auto":
        return min(200, n)
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral):
        raise ValueError(
            f"{type(estimator).__name__}: batch_size must be a positive int or 'auto', got "
            f"{batch_size!r}"
        )
    if batch_size < 1:
        raise ValueError(f"{type(estimator).__name__}: batch_size must be >= 1, got {batch_size}")
    return min(int(batch_size), n)


def train_module(
    model, loss_fn, optimizer, x: np.ndarray, target: np.ndarray, *, dtype, epochs: int,
    batch_size: int, rng: np.random.Generator, verbose=0, shuffle: bool = True,
    callbacks=(), scheduler=None,
):  # fmt: skip
    """Train ``model`` on (x, target) with ``ds.train.fit``; return its History.

    x becomes a ``dtype`` Tensor; a floating target too, integer targets (class indices)
    stay int64. The DataLoader's shuffling seed comes from ``rng``.
    """
    xt = tensor(x, dtype=dtype)
    yt = tensor(target, dtype=dtype if target.dtype.kind == "f" else np.int64)
    return fit(
        model, loss_fn, optimizer, TensorDataset(xt, yt), epochs=int(epochs),
        batch_size=int(batch_size), callbacks=list(callbacks), shuffle=shuffle,
        seed=int(rng.integers(2**63)), scheduler=scheduler, verbose=int(verbose),
    )  # fmt: skip


def forward(model, x: np.ndarray, dtype) -> np.ndarray:
    """``model(x)`` in eval mode without a graph, as a NumPy array."""
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            return model(tensor(x, dtype=dtype)).numpy()
    finally:
        model.train(was_training)


def predict_forward(model, x: np.ndarray) -> np.ndarray:
    """``model(x)`` for a prediction: float64 arithmetic from the trained weights, whatever
    dtype trained them.

    NOTE: a matrix product can round a row differently alone than inside a batch. In
    float32 that moves a prediction by 1e-7 relative, enough to fail scikit-learn's
    check_methods_subset_invariance; in float64 it stays near 1e-16.
    """
    return forward(copy.deepcopy(model).double(), x, np.float64)


def make_optimizer(estimator, params, solver: str, lr: float, momentum: float = 0.9,
                   nesterov: bool = False):  # fmt: skip
    """'adam' -> Adam(lr); 'sgd' -> SGD(lr, momentum) (Nesterov's if asked and momentum > 0)."""
    params = list(params)
    if solver == "adam":
        return Adam(params, lr=lr)
    if solver == "sgd":
        return SGD(params, lr=lr, momentum=momentum, nesterov=bool(nesterov and momentum > 0))
    raise ValueError(f"{type(estimator).__name__}: solver={solver!r} is not one of ['adam', 'sgd']")


class StopOnPlateau(Callback):
    """scikit-learn's stopping rule on the training loss: stop once the loss has failed to
    drop below ``best - tol`` for more than ``n_iter_no_change`` epochs in a row.

    ``converged`` tells afterwards whether the rule (rather than the epoch limit) stopped
    training.
    """

    def __init__(self, tol: float, n_iter_no_change: int):
        self.tol = float(tol)
        self.n_iter_no_change = int(n_iter_no_change)
        self.best = np.inf
        self.count = 0
        self.converged = False

    def on_epoch_end(self, epoch, logs=None):
        loss = logs["loss"]
        self.count = self.count + 1 if loss > self.best - self.tol else 0
        self.best = min(self.best, loss)
        if self.count > self.n_iter_no_change:
            self.converged = True
            self.run.stop_training = True
