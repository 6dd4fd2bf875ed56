"""Metrics computed from a whole epoch's predictions: accuracy, MSE, MAE, R^2; and the
confusion matrix.

Each metric takes ``(y_pred, y_true)`` as NumPy arrays and returns a float. Names given to
``fit(metrics=[...])`` are looked up here; a callable with the same signature works too.
"""

from __future__ import annotations

import numpy as np

__all__ = ["accuracy", "mse", "mae", "r2", "confusion_matrix", "get_metric"]


def _as_column(y: np.ndarray) -> np.ndarray:
    return y.reshape(len(y), -1) if y.ndim else y.reshape(1, 1)


def accuracy(y_pred: np.ndarray, y_true: np.ndarray) -> float:
    """The fraction of examples classified correctly.

    - (N, C) scores with C > 1: the predicted class is the argmax; targets are class
      indices (N,) or one-hot / probability rows (N, C).
    - (N,) or (N, 1) outputs: binary; probabilities in [0, 1] are thresholded at 0.5,
      anything else is taken as logits and thresholded at 0.
    """
    y_pred, y_true = np.asarray(y_pred), np.asarray(y_true)
    if y_pred.ndim == 2 and y_pred.shape[1] > 1:
        pred = y_pred.argmax(axis=1)
        true = y_true.argmax(axis=1) if y_true.ndim == 2 else y_true.reshape(-1)
    else:
        scores = y_pred.reshape(-1)
        threshold = 0.5 if scores.size and scores.min() >= 0 and scores.max() <= 1 else 0.0
        pred = scores > threshold
        true = y_true.reshape(-1) > 0.5
    if pred.shape != true.shape:
        raise ValueError(
            f"accuracy: {pred.shape[0]} predictions but {true.shape[0]} targets "
            f"(prediction shape {tuple(y_pred.shape)}, target shape {tuple(y_true.shape)})"
        )
    return float(np.mean(pred == true))


def mse(y_pred: np.ndarray, y_true: np.ndarray) -> float:
    """Mean squared error over all elements."""
    d = _as_column(np.asarray(y_pred, np.float64)) - _as_column(np.asarray(y_true, np.float64))
    return float(np.mean(d * d))


def mae(y_pred: np.ndarray, y_true: np.ndarray) -> float:
    """Mean absolute error over all elements."""
    d = _as_column(np.asarray(y_pred, np.float64)) - _as_column(np.asarray(y_true, np.float64))
    return float(np.mean(np.abs(d)))


def r2(y_pred: np.ndarray, y_true: np.ndarray, sample_weight=None) -> float:
    """Coefficient of determination $1 - SS_{res} / SS_{tot}$, averaged over outputs
    (scikit-learn's ``r2_score``, optionally weighted per example; a constant target
    gives 1 if predicted exactly, else 0)."""
    p = _as_column(np.asarray(y_pred, np.float64))
    t = _as_column(np.asarray(y_true, np.float64))
    w = np.ones(len(t)) if sample_weight is None else np.asarray(sample_weight, np.float64)
    w = w.reshape(-1, 1)
    mean = (w * t).sum(axis=0) / w.sum()
    ss_res = (w * (t - p) ** 2).sum(axis=0)
    ss_tot = (w * (t - mean) ** 2).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = np.where(ss_tot > 0, 1 - ss_res / ss_tot, np.where(ss_res == 0, 1.0, 0.0))
    return float(np.mean(scores))


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """(n_classes, n_classes) counts of class indices: row the true class, column the
    predicted one (scikit-learn's argument order).

    >>> ds.train.confusion_matrix(np.array([0, 1, 1]), np.array([0, 0, 1]), 2).tolist()
    [[1, 0], [1, 1]]
    """
    m = np.zeros((n_classes, n_classes), np.int64)
    np.add.at(m, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return m


_NAMES = {
    "accuracy": accuracy,
    "acc": accuracy,
    "mse": mse,
    "mean_squared_error": mse,
    "mae": mae,
    "mean_absolute_error": mae,
    "r2": r2,
}


def get_metric(metric) -> tuple[str, callable]:
    """(name, function) for a metric name or a callable ``f(y_pred, y_true) -> float``."""
    if callable(metric):
        return getattr(metric, "__name__", "metric"), metric
    try:
        fn = _NAMES[metric]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown metric {metric!r}; use one of {sorted(_NAMES)} or a function "
            f"f(y_pred, y_true) -> float"
        ) from None
    return fn.__name__, fn
