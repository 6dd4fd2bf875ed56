"""ds.datasets: the real datasets scikit-learn ships, and the lectures' toy data."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import descent as ds

sklearn_datasets = pytest.importorskip("sklearn.datasets")

REAL = ["digits", "iris", "wine", "breast_cancer", "diabetes"]


@pytest.mark.parametrize("name", REAL)
def test_real_datasets_hold_scikit_learns_data(name):
    ours = getattr(ds.datasets, f"load_{name}")()
    theirs = getattr(sklearn_datasets, f"load_{name}")()
    np.testing.assert_array_equal(ours.data, theirs.data.astype(np.float32))
    assert ours.data.dtype == np.float32
    if name == "diabetes":
        assert ours.target.dtype == np.float32
        np.testing.assert_allclose(ours.target, theirs.target, rtol=1e-6)
    else:
        assert ours.target.dtype == np.int64
        np.testing.assert_array_equal(ours.target, theirs.target)
        assert ours.target_names == [str(n) for n in theirs.target_names]
    assert ours.feature_names == [str(n) for n in theirs.feature_names]
    X, y = getattr(ds.datasets, f"load_{name}")(return_X_y=True)
    assert X.shape == theirs.data.shape and len(y) == len(theirs.target)


def test_a_missing_scikit_learn_is_named_with_the_extra_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)  # makes `import sklearn` fail
    with pytest.raises(ImportError, match=r"pip install 'descent\[datasets\]'"):
        ds.datasets.load_iris()


def test_make_line_recovers_its_slope_and_intercept():
    X, y = ds.datasets.make_line(2000, slope=2.0, intercept=1.0, noise=0.5, seed=0)
    slope, intercept = np.polyfit(X[:, 0], y, 1)
    assert abs(slope - 2.0) < 0.02 and abs(intercept - 1.0) < 0.1
    assert X.shape == (2000, 1) and X.dtype == np.float32


def test_make_polynomial_follows_its_coefficients():
    X, y = ds.datasets.make_polynomial(3000, coefficients=(0.5, 1.0, -0.5), noise=0.1, seed=1)
    fitted = np.polynomial.polynomial.polyfit(X[:, 0], y, 2)
    np.testing.assert_allclose(fitted, [0.5, 1.0, -0.5], atol=0.02)


def test_make_separable_is_linearly_separable_with_a_margin():
    from sklearn.svm import LinearSVC

    X, y = ds.datasets.make_separable(200, margin=0.5, seed=3)
    svm = LinearSVC(C=1e4, max_iter=100_000).fit(X, y)
    assert svm.score(X, y) == 1.0
    assert 0.3 < y.mean() < 0.7


def test_make_moons_and_blobs_have_balanced_labels():
    X, y = ds.datasets.make_moons(101, noise=0.0, seed=0)
    assert X.shape == (101, 2) and sorted(np.bincount(y)) == [50, 51]
    X, y = ds.datasets.make_blobs(150, centers=3, std=0.1, seed=0)
    assert np.bincount(y).tolist() == [50, 50, 50]
    # tight blobs: each point is nearest to its own class mean
    means = np.stack([X[y == k].mean(0) for k in range(3)])
    nearest = np.argmin(((X[:, None, :] - means[None]) ** 2).sum(-1), axis=1)
    assert (nearest == y).all()
