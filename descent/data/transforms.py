"""Standardizer: scale features to zero mean and unit variance (scikit-learn's StandardScaler)."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor


class Standardizer:
    """Standardize features: ``z = (x - mean_) / scale_``, column by column.

    The statistics come from ``fit`` on the training data only; ``transform`` then applies
    the same ones to validation and test data (fitting on them would leak information).
    ``scale_`` is the standard deviation with ``ddof=0``, and 1 for a constant column, as in
    scikit-learn's ``StandardScaler``. ``with_mean=False`` or ``with_std=False`` skips the
    centering or the scaling; ``mean_``, ``var_`` and ``scale_`` are learned either way.

    Works on 2-D Tensors (giving Tensors, differentiable) and arrays (giving arrays). A
    floating input keeps its dtype; an integer one becomes float32 (a Tensor) or float64
    (an array, as NumPy and scikit-learn do).

    >>> sc = Standardizer().fit(np.array([[1.0, 10.0], [3.0, 10.0]]))
    >>> sc.mean_, sc.scale_
    (array([ 2., 10.]), array([1., 1.]))
    >>> sc.transform(np.array([[5.0, 12.0]]))
    array([[3., 2.]])
    """

    def __init__(self, with_mean: bool = True, with_std: bool = True):
        self.with_mean = with_mean
        self.with_std = with_std

    def fit(self, X, y=None) -> Standardizer:  # noqa: N803 - scikit-learn's X
        """Learn ``mean_``, ``var_``, ``scale_`` and ``n_features_in_`` from X (rows =
        examples). ``y`` is ignored (scikit-learn's signature)."""
        x = _as_2d(X, "fit").astype(np.float64)
        if x.shape[0] == 0:
            raise ValueError("Standardizer.fit: X has no rows; fit needs at least one example")
        bad = ~np.isfinite(x)
        if bad.any():
            row, col = np.argwhere(bad)[0]
            raise ValueError(
                f"Standardizer.fit: X holds {x[row, col]} at row {row}, column {col}; remove "
                f"or fill non-finite values before fitting"
            )
        n = x.shape[0]
        mean = x.mean(axis=0)
        var = ((x - mean) ** 2).mean(axis=0)  # two passes: more accurate than E[x^2] - E[x]^2
        # A column is constant when its variance is within float64 rounding of zero
        # (scikit-learn's bound), so float noise never inflates it by 1/eps.
        eps = np.finfo(np.float64).eps
        constant = var <= n * eps * var + (n * mean * eps) ** 2
        scale = np.where(constant, 1.0, np.sqrt(var))
        self.mean_ = mean
        self.var_ = var
        self.scale_ = scale
        self.n_features_in_ = x.shape[1]
        self.n_samples_seen_ = n
        return self

    def transform(self, X):  # noqa: N803
        """``(X - mean_) / scale_`` with the statistics learned by ``fit``."""
        self._check_features(X, "transform")
        if isinstance(X, Tensor):
            x = X if X.dtype.kind == "f" else X.float()
            if self.with_mean:
                x = x - self.mean_.astype(x.dtype)
            if self.with_std:
                x = x / self.scale_.astype(x.dtype)
            return x
        x = _float_array(X)
        if self.with_mean:
            x = x - self.mean_.astype(x.dtype)
        if self.with_std:
            x = x / self.scale_.astype(x.dtype)
        return x

    def fit_transform(self, X, y=None):  # noqa: N803
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X).transform(X)

    def inverse_transform(self, X):  # noqa: N803
        """Undo ``transform``: ``X * scale_ + mean_``."""
        self._check_features(X, "inverse_transform")
        if isinstance(X, Tensor):
            x = X if X.dtype.kind == "f" else X.float()
            if self.with_std:
                x = x * self.scale_.astype(x.dtype)
            if self.with_mean:
                x = x + self.mean_.astype(x.dtype)
            return x
        x = _float_array(X)
        if self.with_std:
            x = x * self.scale_.astype(x.dtype)
        if self.with_mean:
            x = x + self.mean_.astype(x.dtype)
        return x

    # ---- checkpointing -------------------------------------------------------------------
    def state_dict(self) -> dict:
        """The learned statistics as arrays (``mean_``, ``var_``, ``scale_``,
        ``n_samples_seen_``), for a checkpoint."""
        self._check_fitted("state_dict")
        return {
            "mean_": self.mean_.copy(),
            "var_": self.var_.copy(),
            "scale_": self.scale_.copy(),
            "n_samples_seen_": np.asarray(self.n_samples_seen_, dtype=np.int64),
        }

    def load_state_dict(self, state: dict) -> Standardizer:
        """Restore statistics saved by ``state_dict`` (Tensors or arrays)."""
        expected = {"mean_", "var_", "scale_", "n_samples_seen_"}
        missing, unexpected = expected - set(state), set(state) - expected
        if missing or unexpected:
            raise KeyError(
                f"Standardizer.load_state_dict: missing keys {sorted(missing)}, unexpected "
                f"keys {sorted(unexpected)}; expected the dict that state_dict() returns"
            )
        arrays = {}
        for key in ("mean_", "var_", "scale_"):
            value = state[key]
            arr = np.asarray(value._data if isinstance(value, Tensor) else value, np.float64)
            if arr.ndim != 1:
                raise ValueError(
                    f"Standardizer.load_state_dict: {key} must be 1-d (one value per feature), "
                    f"got shape {tuple(arr.shape)}"
                )
            arrays[key] = arr.copy()
        sizes = {k: len(v) for k, v in arrays.items()}
        if len(set(sizes.values())) > 1:
            raise ValueError(
                f"Standardizer.load_state_dict: mean_, var_ and scale_ must have one length, "
                f"got {sizes}"
            )
        if (arrays["scale_"] <= 0).any():
            raise ValueError("Standardizer.load_state_dict: scale_ must be positive")
        self.mean_, self.var_, self.scale_ = arrays["mean_"], arrays["var_"], arrays["scale_"]
        self.n_features_in_ = len(self.mean_)
        count = state["n_samples_seen_"]
        self.n_samples_seen_ = int(count.item() if hasattr(count, "item") else count)
        return self

    def _check_fitted(self, method: str) -> None:
        if not hasattr(self, "mean_"):
            raise RuntimeError(
                f"Standardizer.{method}: this Standardizer is not fitted yet; call "
                f"fit(X_train) first (on the training data only)"
            )

    def _check_features(self, x, method: str) -> None:
        self._check_fitted(method)
        shape = _as_2d(x, method).shape
        if shape[1] != self.n_features_in_:
            raise ValueError(
                f"Standardizer.{method}: X has {shape[1]} features but the Standardizer was "
                f"fitted on {self.n_features_in_} features"
            )

    def __repr__(self) -> str:
        args = []
        if not self.with_mean:
            args.append("with_mean=False")
        if not self.with_std:
            args.append("with_std=False")
        return f"Standardizer({', '.join(args)})"


def _as_2d(data, method: str) -> np.ndarray:
    """The array behind X, checked to be 2-D (rows = examples, columns = features)."""
    x = data._data if isinstance(data, Tensor) else np.asarray(data)
    if x.ndim != 2:
        hint = " use X.reshape(-1, 1) for a single feature" if x.ndim == 1 else ""
        raise ValueError(
            f"Standardizer.{method}: expected a 2-D X (examples x features), got shape "
            f"{tuple(x.shape)};{hint or ' flatten each example to a row first'}"
        )
    if x.dtype.kind not in "fiub":
        raise TypeError(f"Standardizer.{method}: X must be numeric, got dtype {x.dtype}")
    return x


def _float_array(data) -> np.ndarray:
    x = np.asarray(data)
    return x if x.dtype.kind == "f" else x.astype(np.float64)
