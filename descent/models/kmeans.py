"""k-means clustering: Lloyd's algorithm from k-means++ starts, the best of ``n_init`` runs."""

from __future__ import annotations

import warnings

import numpy as np

from .base import BaseEstimator, ClusterMixin, TransformerMixin
from .checks import check_array, check_data, check_is_fitted, check_positive
from .errors import ConvergenceWarning, sklearn_flavoured
from .inference import NearestCenter
from .training import make_rng

__all__ = ["KMeans"]


def squared_distances(x: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """(n, k): $\\|x_i - c_j\\|^2 = \\|x_i\\|^2 - 2 x_i \\cdot c_j + \\|c_j\\|^2$, clipped at 0."""
    d2 = (x * x).sum(axis=1)[:, None] - 2.0 * (x @ centers.T) + (centers * centers).sum(axis=1)
    return np.maximum(d2, 0.0)


def kmeans_plusplus(x: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k starting centers by greedy k-means++ (Arthur and Vassilvitskii, 2007).

    The first center is a random example; each next one is the best (the one that most
    lowers the potential, the summed squared distance to the nearest center) of
    2 + ln(k) candidates drawn with probability proportional to that squared distance.
    """
    n = len(x)
    trials = 2 + int(np.log(k))
    centers = np.empty((k, x.shape[1]))
    centers[0] = x[rng.integers(n)]
    closest = squared_distances(x, centers[:1])[:, 0]  # (n,) to the nearest center so far
    for c in range(1, k):
        potential = closest.sum()
        if potential <= 0:  # every example sits on a center already: take any
            centers[c] = x[rng.integers(n)]
            continue
        draws = rng.random(trials) * potential
        candidates = np.minimum(np.searchsorted(np.cumsum(closest), draws), n - 1)
        # (trials, n): each candidate's new nearest-center distances
        d2 = np.minimum(closest[None, :], squared_distances(x, x[candidates]).T)
        best = int(d2.sum(axis=1).argmin())
        centers[c] = x[candidates[best]]
        closest = d2[best]
    return centers


def lloyd(x: np.ndarray, centers: np.ndarray, max_iter: int, tol: float):
    """Alternate assignment and update until the centers move less than ``tol`` in total
    (squared). Returns (centers, labels, inertia, iterations, converged)."""
    k = len(centers)
    converged = False
    iterations = 0
    while iterations < max_iter:
        iterations += 1
        labels = squared_distances(x, centers).argmin(axis=1)
        counts = np.bincount(labels, minlength=k)
        sums = np.zeros_like(centers)
        np.add.at(sums, labels, x)
        new = sums / np.maximum(counts, 1)[:, None]
        empty = np.flatnonzero(counts == 0)
        if len(empty):  # move each empty cluster to one of the examples farthest from theirs
            far = np.argsort(-squared_distances(x, centers)[np.arange(len(x)), labels])
            new[empty] = x[far[: len(empty)]]
        shift = float(((new - centers) ** 2).sum())
        centers = new
        if shift <= tol:
            converged = True
            break
    # the final assignment, so labels and inertia belong to the returned centers
    d2 = squared_distances(x, centers)
    labels = d2.argmin(axis=1)
    inertia = float(d2[np.arange(len(x)), labels].sum())
    return centers, labels, inertia, iterations, converged


class KMeans(ClusterMixin, TransformerMixin, BaseEstimator):
    """k-means: ``n_clusters`` centers minimising the inertia, the summed squared distance
    of each example to its nearest center.

    Lloyd's algorithm (assign each example to its nearest center, move each center to the
    mean of its examples) from ``init`` ('k-means++', scikit-learn's greedy variant;
    'random', k distinct examples; or an array of centers), stopped after ``max_iter``
    iterations or when the centers move less than ``tol`` times the mean feature variance
    (squared distance, summed over centers). The best of ``n_init`` runs is kept
    (``'auto'``, scikit-learn's default: 1 run from k-means++, 10 from 'random' starts). An
    empty cluster is moved to the example farthest from its center. Not gradient based:
    plain NumPy, in float64.

    Learned: ``cluster_centers_`` (k, d), ``labels_`` (n,), ``inertia_``, ``n_iter_``
    (iterations of the best run), ``n_features_in_``.

    >>> X, _ = ds.datasets.make_blobs(150, centers=3, seed=0)
    >>> km = ds.models.KMeans(n_clusters=3, random_state=0).fit(X)
    >>> km.cluster_centers_.shape, len(set(km.labels_))
    ((3, 2), 3)
    """

    def __init__(
        self,
        n_clusters: int = 8,
        init="k-means++",
        n_init="auto",
        max_iter: int = 300,
        tol: float = 1e-4,
        random_state=None,
        verbose: int = 0,
    ):
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.verbose = verbose

    def _n_runs(self) -> int:
        """``n_init``, where 'auto' is scikit-learn's: 1 run from k-means++, 10 otherwise."""
        if self.n_init == "auto":
            return 1 if isinstance(self.init, str) and self.init == "k-means++" else 10
        check_positive(self, "n_init", integer=True)
        return int(self.n_init)

    def fit(self, X, y=None) -> KMeans:  # noqa: N803 - scikit-learn's X
        """Cluster X (n, d); ``y`` is ignored. Returns self."""
        check_positive(self, "n_clusters", integer=True)
        n_init = self._n_runs()
        check_positive(self, "max_iter", integer=True)
        check_positive(self, "tol", zero=True)
        x = check_data(self, X, reset=True)
        k = int(self.n_clusters)
        if len(x) < k:
            raise ValueError(
                f"KMeans.fit: n_clusters={k} needs at least {k} examples, X has {len(x)}"
            )
        rng = make_rng(self.random_state)
        tol = float(self.tol) * float(np.mean(np.var(x, axis=0)))
        starts = self._starts(x, k)
        best = None
        for run in range(1 if starts is not None else n_init):
            centers = starts if starts is not None else self._init_centers(x, k, rng)
            result = lloyd(x, centers.copy(), int(self.max_iter), tol)
            if self.verbose:
                print(f"KMeans run {run + 1}: inertia {result[2]:.6g} after {result[3]} iterations")
            if best is None or result[2] < best[2]:
                best = result
        centers, labels, inertia, iterations, converged = best
        if not converged:
            warnings.warn(
                f"KMeans: the best run stopped at max_iter={self.max_iter} before the centers "
                f"settled (tol={self.tol}); raise max_iter",
                sklearn_flavoured(ConvergenceWarning),
                stacklevel=2,
            )
        self.cluster_centers_ = centers
        self.labels_ = labels
        self.inertia_ = inertia
        self.n_iter_ = iterations
        return self

    def _starts(self, x: np.ndarray, k: int):
        """The given initial centers as an array, or None for 'k-means++' / 'random'."""
        if isinstance(self.init, str):
            if self.init not in ("k-means++", "random"):
                raise ValueError(
                    f"KMeans: init={self.init!r} is not one of ['k-means++', 'random'] or an "
                    f"array of centers"
                )
            return None
        starts = check_array(self.init, "KMeans.fit (init)")
        if starts.shape != (k, x.shape[1]):
            raise ValueError(
                f"KMeans.fit: init has shape {tuple(starts.shape)}; initial centers must be "
                f"(n_clusters, n_features) = {(k, x.shape[1])}"
            )
        return starts

    def _init_centers(self, x: np.ndarray, k: int, rng) -> np.ndarray:
        if self.init == "random":
            return x[rng.choice(len(x), size=k, replace=False)].copy()
        return kmeans_plusplus(x, k, rng)

    def transform(self, X) -> np.ndarray:  # noqa: N803
        """(n, k): the distance of each example to each center."""
        check_is_fitted(self, "cluster_centers_")
        x = check_data(self, X, reset=False, method="transform")
        return np.sqrt(squared_distances(x, self.cluster_centers_))

    def predict(self, X) -> np.ndarray:  # noqa: N803
        """The index of the nearest center for each example."""
        check_is_fitted(self, "cluster_centers_")
        x = check_data(self, X, reset=False, method="predict")
        return squared_distances(x, self.cluster_centers_).argmin(axis=1)

    def _module_builders(self) -> dict:
        check_is_fitted(self, "cluster_centers_")
        return {
            "predict": lambda: NearestCenter(self.cluster_centers_, "index"),
            "transform": lambda: NearestCenter(self.cluster_centers_, "distance"),
        }

    def score(self, X, y=None) -> float:  # noqa: N803
        """Minus the inertia of X with the fitted centers (higher is better)."""
        check_is_fitted(self, "cluster_centers_")
        x = check_data(self, X, reset=False, method="score")
        return -float(squared_distances(x, self.cluster_centers_).min(axis=1).sum())
