"""Real datasets that scikit-learn ships, and generators of the lectures' toy data.

Nothing is downloaded: ``load_*`` read the files inside the scikit-learn package, and
``load_mnist1d`` generates MNIST-1D with the mnist1d package (install the extra:
``pip install 'descent[datasets]'``). Features come as float32
arrays, class labels as int64, regression targets as float32.

>>> digits = ds.datasets.load_digits()
>>> digits.data.shape, digits.target.shape, len(digits.target_names)
((1797, 64), (1797,), 10)
"""

from __future__ import annotations

import functools
import random as _random
from dataclasses import dataclass, field

import numpy as np

from ._extras import require

__all__ = [
    "Bunch", "load_digits", "load_iris", "load_wine", "load_breast_cancer", "load_diabetes",
    "make_line", "make_polynomial", "make_moons", "make_blobs", "make_separable", "load_mnist1d",
]  # fmt: skip


@dataclass
class Bunch:
    """A dataset: ``data`` (n, d) float32, ``target`` (n,), names and a description."""

    data: np.ndarray
    target: np.ndarray
    feature_names: list = field(default_factory=list)
    target_names: list = field(default_factory=list)
    description: str = ""

    def __iter__(self):  # X, y = load_iris()
        return iter((self.data, self.target))


def _sklearn_datasets():
    return require("sklearn.datasets", "datasets", "the real datasets (read from the files "
                   "scikit-learn ships)", package="scikit-learn")  # fmt: skip


def _load(name: str, classification: bool, return_X_y: bool):  # noqa: N803
    raw = getattr(_sklearn_datasets(), name)()
    X = np.asarray(raw.data, dtype=np.float32)
    y = np.asarray(raw.target, dtype=np.int64 if classification else np.float32)
    if return_X_y:
        return X, y
    names = [str(n) for n in getattr(raw, "target_names", [])]
    return Bunch(X, y, [str(n) for n in raw.feature_names], names, raw.DESCR)


def load_digits(return_X_y: bool = False):  # noqa: N803
    """8x8 images of handwritten digits: 1797 examples, 64 pixels (0..16), 10 classes."""
    return _load("load_digits", True, return_X_y)


def load_iris(return_X_y: bool = False):  # noqa: N803
    """Fisher's iris flowers: 150 examples, 4 measurements, 3 species."""
    return _load("load_iris", True, return_X_y)


def load_wine(return_X_y: bool = False):  # noqa: N803
    """Wine recognition: 178 examples, 13 chemical measurements, 3 cultivars."""
    return _load("load_wine", True, return_X_y)


def load_breast_cancer(return_X_y: bool = False):  # noqa: N803
    """Wisconsin breast cancer: 569 examples, 30 features, malignant (0) or benign (1)."""
    return _load("load_breast_cancer", True, return_X_y)


def load_diabetes(return_X_y: bool = False):  # noqa: N803
    """Diabetes progression: 442 patients, 10 (scaled) features, a real-valued target."""
    return _load("load_diabetes", False, return_X_y)


# ---- the lectures' toy data ------------------------------------------------------------------


def make_line(n: int = 100, slope: float = 2.0, intercept: float = 1.0, noise: float = 1.0,
              low: float = 0.0, high: float = 10.0, seed: int | None = None):  # fmt: skip
    """x uniform on [low, high], y = slope x + intercept + N(0, noise^2); X is (n, 1)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(low, high, n)
    y = slope * x + intercept + rng.normal(0.0, noise, n)
    return x.reshape(-1, 1).astype(np.float32), y.astype(np.float32)


def make_polynomial(n: int = 30, coefficients=(0.0, 1.0, -0.5), noise: float = 0.3,
                    low: float = -3.0, high: float = 3.0, seed: int | None = None):  # fmt: skip
    """y = sum_k c_k x^k + noise, x uniform on [low, high]; X is (n, 1)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(low, high, n)
    y = np.polynomial.polynomial.polyval(x, coefficients) + rng.normal(0.0, noise, n)
    return x.reshape(-1, 1).astype(np.float32), y.astype(np.float32)


def make_moons(n: int = 100, noise: float = 0.1, seed: int | None = None):
    """Two interleaving half circles (labels 0 and 1), scikit-learn's classic toy problem."""
    rng = np.random.default_rng(seed)
    n_out = n // 2
    n_in = n - n_out
    t_out = np.linspace(0, np.pi, n_out)
    t_in = np.linspace(0, np.pi, n_in)
    outer = np.stack([np.cos(t_out), np.sin(t_out)], 1)
    inner = np.stack([1 - np.cos(t_in), 1 - np.sin(t_in) - 0.5], 1)
    X = np.concatenate([outer, inner]) + rng.normal(0.0, noise, (n, 2))
    y = np.concatenate([np.zeros(n_out), np.ones(n_in)]).astype(np.int64)
    order = rng.permutation(n)
    return X[order].astype(np.float32), y[order]


def make_blobs(n: int = 150, centers=3, std: float = 1.0, n_features: int = 2,
               box: tuple = (-10.0, 10.0), seed: int | None = None):  # fmt: skip
    """Gaussian clusters: ``centers`` (a count, drawn in ``box``, or an array of points)."""
    rng = np.random.default_rng(seed)
    if isinstance(centers, int):
        centers = rng.uniform(box[0], box[1], (centers, n_features))
    centers = np.asarray(centers, dtype=np.float64)
    y = np.arange(n) % len(centers)
    X = centers[y] + rng.normal(0.0, std, (n, centers.shape[1]))
    order = rng.permutation(n)
    return X[order].astype(np.float32), y[order].astype(np.int64)


def make_separable(n: int = 100, n_features: int = 2, margin: float = 0.5,
                   seed: int | None = None):  # fmt: skip
    """Linearly separable points: labels 0/1 by the side of a random hyperplane through 0,
    with no point closer than ``margin`` to it (so the perceptron converges)."""
    rng = np.random.default_rng(seed)
    w = rng.normal(size=n_features)
    w /= np.linalg.norm(w)
    X = rng.uniform(-3, 3, (n, n_features))
    side = X @ w
    X += np.outer(np.where(side >= 0, margin, -margin), w)  # push points off the plane
    y = (X @ w > 0).astype(np.int64)
    return X.astype(np.float32), y


# ---- MNIST-1D ------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _mnist1d_series(seed: int, num_samples: int, train_split: float, length: int) -> dict:
    """mnist1d's dataset (x, y, x_test, y_test), generated once per setting and process."""
    data = require("mnist1d.data", "datasets", "load_mnist1d (the MNIST-1D series)")
    args = data.get_dataset_args()
    args.num_samples, args.train_split, args.final_seq_length = num_samples, train_split, length
    args.seed, args.shuffle_seq = seed, False
    # NOTE: make_dataset seeds NumPy's (and Python's) global generators; a loader must not
    # change the caller's random streams, so both are put back
    numpy_state, python_state = np.random.get_state(), _random.getstate()
    try:
        raw = data.make_dataset(args)
    finally:
        np.random.set_state(numpy_state)
        _random.setstate(python_state)
    for key in ("x", "y", "x_test", "y_test"):
        raw[key].flags.writeable = False  # shared by every call: the loader copies
    return {key: raw[key] for key in ("x", "y", "x_test", "y_test")}


def load_mnist1d(shuffle_positions: bool = False, seed: int = 42, num_samples: int = 5000,
                 train_split: float = 0.8, length: int = 40):  # fmt: skip
    """MNIST-1D (Greydanus, "Scaling Down Deep Learning", 2020): ``(train, test)``, two
    Bunches of series (n, length) float32 and their digits (n,) int64.

    The ``mnist1d`` package (the datasets extra) generates the series in memory from its
    ten templates, with ``seed``; nothing is downloaded and no file is read or written
    (the package's cached copy is a pickle, which descent never opens). The defaults are
    the paper's: 4,000 training and 1,000 test series of 40 positions. With
    ``shuffle_positions`` one fixed permutation of the positions (drawn from ``seed``,
    the same for every example, train and test alike) is applied; it is kept in each
    Bunch's ``positions``.

    >>> (X, y), (X_test, y_test) = ds.datasets.load_mnist1d()
    >>> X.shape, X_test.shape
    ((4000, 40), (1000, 40))
    """
    raw = _mnist1d_series(seed, num_samples, train_split, length)
    positions = np.arange(length)
    if shuffle_positions:
        positions = np.random.default_rng(seed).permutation(length)
    about = (
        f"MNIST-1D, generated by the mnist1d package with seed {seed}: "
        f"{len(raw['y'])} training and {len(raw['y_test'])} test series of {length} positions"
        + (
            ", positions shuffled (the same permutation for every series)"
            if shuffle_positions
            else ""
        )
    )
    names = [str(d) for d in range(10)]
    parts = []
    for x, y in ((raw["x"], raw["y"]), (raw["x_test"], raw["y_test"])):
        X = np.array(np.asarray(x, np.float32)[:, positions])
        bunch = Bunch(X, np.array(y, np.int64), [f"t{i}" for i in positions], names, about)
        bunch.positions = positions
        parts.append(bunch)
    return tuple(parts)
