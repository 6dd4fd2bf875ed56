"""Input checks: arrays, labels and targets, hyperparameters, and whether ``fit`` has run.

``who`` (e.g. ``"LinearRegression.fit"``) or the estimator's class and method start every
error message, so an error says where it came from.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np

from ..tensor import array_of
from .errors import DataConversionWarning, not_fitted_error, sklearn_flavoured


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
            f"shape {tuple(x.shape)}. {hint}"
        )
    # (the parenthesis is scikit-learn's wording, which its tools look for)
    if x.shape[0] == 0:
        raise ValueError(
            f"{who}: X has 0 examples (found array with 0 sample(s) (shape={tuple(x.shape)}) while "
            f"a minimum of 1 is required)"
        )
    if x.shape[1] == 0:
        raise ValueError(
            f"{who}: X has 0 features (found array with 0 feature(s) (shape={tuple(x.shape)}) "
            f"while "
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
                sklearn_flavoured(DataConversionWarning),
                stacklevel=4,
            )
        y = y.ravel()
    if y.ndim != 1:
        raise ValueError(
            f"{who}: y must be 1-D, one label per example, got shape {tuple(y.shape)}; one-hot "
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
        raise ValueError(
            f"{who}: y must be 1-D (one target) or 2-D (n, k), got shape {tuple(y.shape)}"
        )
    if len(y) != n:
        raise ValueError(f"{who}: X has {n} examples but y has {len(y)} targets; they must match")
    y = y.astype(np.float64)
    _check_finite(y, who, "y")
    return y


def check_is_fitted(estimator, attribute: str) -> None:
    """Raise NotFittedError (scikit-learn's message) unless ``fit`` has set ``attribute``."""
    if not hasattr(estimator, attribute):
        raise not_fitted_error()(
            f"This {type(estimator).__name__} instance is not fitted yet. Call 'fit' with "
            f"appropriate arguments before using this estimator."
        )


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


def float_dtype(estimator) -> np.dtype:
    """The estimator's ``dtype`` hyperparameter ('float32' or 'float64') as a NumPy dtype."""
    dtype = np.dtype(estimator.dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(
            f"{type(estimator).__name__}: dtype must be 'float32' or 'float64', got "
            f"{estimator.dtype!r}"
        )
    return dtype


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
