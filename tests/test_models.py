"""ds.models: scikit-learn-style estimators, checked against scikit-learn and NumPy."""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pytest

import descent as ds
from descent import models as M

sklearn = pytest.importorskip("sklearn")
from sklearn import exceptions as sk_exceptions  # noqa: E402
from sklearn import linear_model as sk_linear  # noqa: E402
from sklearn import svm as sk_svm  # noqa: E402
from sklearn.base import clone, is_classifier, is_regressor  # noqa: E402
from sklearn.cluster import KMeans as SkKMeans  # noqa: E402
from sklearn.metrics import adjusted_rand_score  # noqa: E402
from sklearn.model_selection import cross_val_score, train_test_split  # noqa: E402
from sklearn.multiclass import OneVsRestClassifier  # noqa: E402
from sklearn.neural_network import MLPClassifier as SkMLPClassifier  # noqa: E402
from sklearn.neural_network import MLPRegressor as SkMLPRegressor  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import PolynomialFeatures, StandardScaler  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402

SEEDS = (0, 1, 2)

# Short training runs stop at their epoch limit on purpose; tests that check the warning
# use pytest.warns.
pytestmark = [
    pytest.mark.filterwarnings("ignore::descent.models.ConvergenceWarning"),
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
]


def _rel(a, b) -> float:
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b)) / np.linalg.norm(b))


@functools.cache
def _digits_split(seed: int):
    """Digits, stratified 60/20/20 with ``seed``, standardised on the training part."""
    X, y = ds.datasets.load_digits(return_X_y=True)
    X_tr, X_val, X_te, y_tr, y_val, y_te = ds.data.train_val_test_split(X, y, seed=seed, stratify=y)
    scaler = ds.data.Standardizer().fit(X_tr)
    return scaler.transform(X_tr), y_tr, scaler.transform(X_te), y_te


@functools.cache
def _diabetes():
    """Diabetes with standardised features, float64."""
    X, y = ds.datasets.load_diabetes(return_X_y=True)
    X = X.astype(np.float64)
    return (X - X.mean(axis=0)) / X.std(axis=0), y.astype(np.float64)


def _lstsq(X, y):  # noqa: N803
    """(coef, intercept) by numpy.linalg.lstsq on [X, 1]."""
    theta = np.linalg.lstsq(np.c_[X, np.ones(len(X))], y, rcond=None)[0]
    return theta[:-1], theta[-1]


# ---- the digits comparison: ours beside scikit-learn's twins ------------------------------------

DIGITS_PAIRS = {
    # name: (our estimator for a seed, scikit-learn's twin for a seed, allowed shortfall)
    # both at their defaults: C=1, scikit-learn's objective C * sum(CE) + ||W||^2 / 2
    "LogisticRegression": (
        lambda s, n: M.LogisticRegression(random_state=s),
        lambda s: sk_linear.LogisticRegression(max_iter=5000),
        0.5,
    ),
    "MLPClassifier": (
        lambda s, n: M.MLPClassifier(random_state=s),
        lambda s: SkMLPClassifier(random_state=s),
        0.5,
    ),
    "LinearSVC": (
        lambda s, n: M.LinearSVC(random_state=s),
        lambda s: LinearSVC(random_state=s),
        2.0,
    ),
    # the same rule, both stopping by scikit-learn's tol and n_iter_no_change
    "Perceptron": (
        lambda s, n: M.Perceptron(random_state=s),
        lambda s: sk_linear.Perceptron(random_state=s),
        3.0,
    ),
}


@pytest.mark.parametrize("name", list(DIGITS_PAIRS))
def test_digits_accuracy_beside_scikit_learn(name):
    ours_for, twin_for, shortfall = DIGITS_PAIRS[name]
    ours, twin = [], []
    for seed in SEEDS:
        X_tr, y_tr, X_te, y_te = _digits_split(seed)
        ours.append(100 * ours_for(seed, len(X_tr)).fit(X_tr, y_tr).score(X_te, y_te))
        twin.append(100 * twin_for(seed).fit(X_tr, y_tr).score(X_te, y_te))
    twin_name = type(twin_for(0)).__name__
    print(f"\ndigits test accuracy (%), seeds {SEEDS}, then the average")
    for label, accs in ((f"descent {name}", ours), (f"sklearn {twin_name}", twin)):
        cells = "  ".join(f"{a:6.2f}" for a in accs)
        print(f"  {label:34s} {cells}   avg {np.mean(accs):6.2f}")
    assert np.mean(ours) >= np.mean(twin) - shortfall


# ---- LinearRegression ---------------------------------------------------------------------------


def test_linear_regression_normal_equals_lstsq_on_diabetes():
    X, y = ds.datasets.load_diabetes(return_X_y=True)
    X, y = X.astype(np.float64), y.astype(np.float64)
    coef, intercept = _lstsq(X, y)
    reg = M.LinearRegression(solver="normal").fit(X, y)
    np.testing.assert_allclose(reg.coef_, coef, rtol=1e-8, atol=1e-8 * np.abs(coef).max())
    assert abs(reg.intercept_ - intercept) <= 1e-8 * abs(intercept)
    assert reg.rank_ == X.shape[1]
    np.testing.assert_allclose(reg.predict(X), np.c_[X, np.ones(len(X))] @ np.r_[coef, intercept])


# (solver, settings, allowed relative error of coef_) -- X standardised, float64 for 'sgd'.
GRADIENT_SETTINGS = [
    ("gd", dict(eta0=0.2, max_iter=3000), 1e-3),
    (
        "minibatch",
        dict(batch_size=32, eta0=0.01, momentum=0.98, lr_decay=1e-4 ** (1 / 1000), max_iter=1000),
        1e-3,
    ),
    # One example per step, with SAGA's correction of each example's gradient: see
    # test_one_example_steps_need_saga_to_settle for why plain SGD cannot get there.
    ("sgd", dict(optimizer="saga", eta0=0.02, max_iter=60, dtype="float64"), 1e-3),
]


@pytest.mark.parametrize(
    "solver, settings, tol", GRADIENT_SETTINGS, ids=[s[0] for s in GRADIENT_SETTINGS]
)
def test_linear_regression_gradient_solvers_reach_lstsq(solver, settings, tol):
    X, y = _diabetes()
    coef, intercept = _lstsq(X, y)
    reg = M.LinearRegression(solver=solver, random_state=0, **settings).fit(X, y)
    best = np.c_[X, np.ones(len(X))] @ np.r_[coef, intercept]
    errors = {
        "coef_": _rel(reg.coef_, coef),
        "intercept_": abs(reg.intercept_ - intercept) / abs(intercept),
        "predictions": _rel(reg.predict(X), best),
    }
    print(f"\n{solver} {settings}: relative errors", {k: f"{v:.2e}" for k, v in errors.items()})
    assert errors["coef_"] <= tol
    assert errors["intercept_"] <= 1e-3
    assert errors["predictions"] <= 1e-3
    assert len(reg.loss_curve_) == reg.n_iter_ == settings["max_iter"]
    assert reg.loss_curve_[-1] < reg.loss_curve_[0]


def test_one_example_steps_need_saga_to_settle():
    """Plain one-example SGD with a constant rate keeps wandering around the optimum at a
    distance proportional to the rate; diabetes' slowest direction (eigenvalue 0.0086 of
    X^T X / n) then needs thousands of epochs at a small rate. SAGA converges at one rate."""
    X, y = _diabetes()
    coef, _ = _lstsq(X, y)
    errors = {}
    for optimizer in ("sgd", "saga"):
        reg = M.LinearRegression(solver="sgd", optimizer=optimizer, eta0=0.02, max_iter=30,
                                 dtype="float64", random_state=0).fit(X, y)  # fmt: skip
        errors[optimizer] = _rel(reg.coef_, coef)
    print("\nrelative error of coef_ after 30 epochs at eta0 0.02:", errors)
    assert errors["sgd"] > 0.05
    assert errors["saga"] < errors["sgd"] / 20


@pytest.mark.parametrize(
    "settings, match",
    [
        (dict(solver="minibatch", optimizer="saga"), "one example per step: use solver='sgd'"),
        (dict(solver="sgd", optimizer="saga", momentum=0.9), "has no momentum"),
        (dict(solver="sgd", optimizer="adam"), "optimizer"),
    ],
)
def test_saga_settings_are_checked(settings, match):
    X, y = _diabetes()
    with pytest.raises(ValueError, match=match):
        M.LinearRegression(**settings).fit(X, y)


def test_minibatch_steps_weigh_every_example_alike():
    # 100 = 3 * 32 + 4. In data order (shuffle=False), a plain batch mean would give the
    # last 4 examples 8 times the weight of the others in every epoch, and descent would
    # settle on that weighted least-squares solution instead of the plain one.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 3.0 + rng.normal(size=100)
    A = np.c_[X, np.ones(100)]
    plain = np.linalg.lstsq(A, y, rcond=None)[0]
    root_w = np.sqrt(np.r_[np.ones(96), np.full(4, 8.0)])
    weighted = np.linalg.lstsq(A * root_w[:, None], y * root_w, rcond=None)[0]
    assert _rel(weighted, plain) > 1e-2  # far enough apart to tell
    reg = M.LinearRegression(
        solver="minibatch", batch_size=32, eta0=0.1, lr_decay=1e-3 ** (1 / 300), max_iter=300,
        shuffle=False, dtype="float64",
    ).fit(X, y)  # fmt: skip
    assert _rel(np.r_[reg.coef_, reg.intercept_], plain) < 1e-3


def test_linear_regression_warns_when_ill_conditioned():
    rng = np.random.default_rng(0)
    x1 = rng.normal(size=200)
    X = np.c_[x1, x1 + 1e-7 * rng.normal(size=200), rng.normal(size=200)]  # nearly collinear
    y = X @ np.array([1.0, 2.0, 3.0]) + rng.normal(size=200)
    with pytest.warns(M.IllConditionedWarning, match="ill-conditioned"):
        reg = M.LinearRegression().fit(X, y)
    assert reg.condition_number_ > 1e10
    assert issubclass(M.IllConditionedWarning, UserWarning)
    with warnings.catch_warnings():
        warnings.simplefilter("error", M.IllConditionedWarning)
        reg = M.LinearRegression().fit(X[:, [0, 2]], y)  # the same data without the twin
    assert reg.condition_number_ < 10


def test_linear_regression_two_targets_and_no_intercept():
    X, y = _diabetes()
    Y = np.c_[y, 2 * y - X[:, 0]]
    reg = M.LinearRegression().fit(X, Y)
    assert reg.coef_.shape == (2, X.shape[1]) and reg.intercept_.shape == (2,)
    theta = np.linalg.lstsq(np.c_[X, np.ones(len(X))], Y, rcond=None)[0]
    np.testing.assert_allclose(reg.coef_, theta[:-1].T, atol=1e-9)
    assert reg.predict(X).shape == (len(X), 2)
    flat = M.LinearRegression(fit_intercept=False).fit(X, y)
    np.testing.assert_allclose(flat.coef_, np.linalg.lstsq(X, y, rcond=None)[0], atol=1e-9)
    assert flat.intercept_ == 0.0


# ---- PolynomialRegression -----------------------------------------------------------------------


def test_polynomial_regression_recovers_a_polynomial():
    X, y = ds.datasets.make_polynomial(40, coefficients=(1.0, -2.0, 0.5, 0.25), noise=0.0,
                                       seed=0)  # fmt: skip
    reg = M.PolynomialRegression(degree=3).fit(X, y)
    np.testing.assert_allclose(reg.coef_, [-2.0, 0.5, 0.25], atol=1e-5)
    assert reg.intercept_ == pytest.approx(1.0, abs=1e-5)
    gd = M.PolynomialRegression(degree=3, solver="gd", eta0=0.3, max_iter=3000, dtype="float64")
    gd.fit(X, y)
    np.testing.assert_allclose(gd.predict(X), reg.predict(X), atol=1e-3)


def test_polynomial_ridge_matches_scikit_learn():
    X, y = ds.datasets.make_polynomial(60, coefficients=(0.0, 1.0, -0.5), noise=0.3, seed=1)
    X = np.c_[X, np.sin(X)].astype(np.float64)  # two features: products appear too
    y = y.astype(np.float64)
    alpha, n = 0.05, len(X)
    reg = M.PolynomialRegression(degree=3, alpha=alpha).fit(X, y)
    assert reg.powers_.shape == (9, 2)
    # ours: MSE + alpha ||w||^2 on standardised monomials = (Ridge(alpha n) objective) / n
    sk = make_pipeline(PolynomialFeatures(3, include_bias=False), StandardScaler(),
                       sk_linear.Ridge(alpha=alpha * n)).fit(X, y)  # fmt: skip
    np.testing.assert_allclose(reg.predict(X), sk.predict(X), rtol=1e-8, atol=1e-8)
    gd = M.PolynomialRegression(degree=3, alpha=alpha, solver="gd", eta0=0.1, max_iter=4000,
                                dtype="float64").fit(X, y)  # fmt: skip
    np.testing.assert_allclose(gd.predict(X), sk.predict(X), atol=1e-3)


def test_polynomial_lasso_by_gradient_descent_near_scikit_learn():
    X, y = ds.datasets.make_polynomial(80, coefficients=(0.5, 1.0, -0.5), noise=0.2, seed=2)
    X, y = X.astype(np.float64), y.astype(np.float64)
    alpha = 0.1
    reg = M.PolynomialRegression(degree=4, alpha=alpha, penalty="l1", solver="gd", eta0=0.02,
                                 max_iter=3000, dtype="float64").fit(X, y)  # fmt: skip
    # ours: MSE + alpha ||w||_1 = 2 * (Lasso(alpha / 2) objective) on standardised monomials
    sk = make_pipeline(PolynomialFeatures(4, include_bias=False), StandardScaler(),
                       sk_linear.Lasso(alpha=alpha / 2)).fit(X, y)  # fmt: skip
    np.testing.assert_allclose(reg.predict(X), sk.predict(X), atol=2e-2)
    with pytest.raises(ValueError, match="l1"):
        M.PolynomialRegression(alpha=alpha, penalty="l1").fit(X, y)


# ---- logistic and softmax regression, linear SVM ------------------------------------------------


def _split(X, y):  # noqa: N803
    """A fixed stratified 75/25 split."""
    return train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)


@functools.cache
def _breast_cancer():
    X, y = ds.datasets.load_breast_cancer(return_X_y=True)
    X = X.astype(np.float64)
    return (X - X.mean(axis=0)) / X.std(axis=0), y


def test_logistic_regression_reaches_scikit_learns_optimum():
    X, y = _breast_cancer()
    C = 1.0
    sk = sk_linear.LogisticRegression(C=C, max_iter=5000, tol=1e-10).fit(X, y)
    ours = M.LogisticRegression(C=C, batch_size=len(X), eta0=0.05, max_iter=2000,
                                tol=None, dtype="float64", random_state=0).fit(X, y)  # fmt: skip
    assert ours.coef_.shape == (1, X.shape[1])
    np.testing.assert_allclose(ours.coef_, sk.coef_, atol=2e-2 * np.abs(sk.coef_).max())
    np.testing.assert_allclose(ours.predict_proba(X), sk.predict_proba(X), atol=1e-2)
    np.testing.assert_allclose(ours.decision_function(X), sk.decision_function(X), atol=0.1)
    assert ours.score(X, y) == pytest.approx(sk.score(X, y), abs=0.01)


def test_multinomial_logistic_regression_reaches_scikit_learns_optimum():
    """Three classes are one softmax model, as scikit-learn's (multinomial, its only form
    since 1.5): at C=1 on standardised iris our adam run reaches lbfgs's optimum. The
    tolerances are what 3000 full-batch float64 adam steps at eta0=0.05 leave of a strictly
    convex problem: probabilities within 1e-3, coefficients within 1% of the largest."""
    X, y = ds.datasets.load_iris(return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    sk = sk_linear.LogisticRegression(C=1.0, max_iter=5000, tol=1e-10).fit(X, y)
    ours = M.LogisticRegression(C=1.0, batch_size=len(X), eta0=0.05, max_iter=3000,
                                tol=None, dtype="float64", random_state=0).fit(X, y)  # fmt: skip
    assert ours.coef_.shape == sk.coef_.shape == (3, 4)
    np.testing.assert_allclose(ours.coef_, sk.coef_, atol=1e-2 * np.abs(sk.coef_).max())
    np.testing.assert_allclose(ours.predict_proba(X), sk.predict_proba(X), atol=1e-3)
    np.testing.assert_allclose(ours.predict_log_proba(X), np.log(ours.predict_proba(X)))
    s = ours.decision_function(X)
    np.testing.assert_allclose(ours.predict_proba(X), np.exp(s) / np.exp(s).sum(1, keepdims=True))


def test_logistic_regression_at_its_defaults_scores_as_scikit_learns_on_iris():
    """The issue's number: one-vs-rest scored 0.868 on iris against scikit-learn's 0.974."""
    X, y = _iris()
    X_tr, X_te, y_tr, y_te = _split(X, y)
    ours = M.LogisticRegression(random_state=0).fit(X_tr, y_tr).score(X_te, y_te)
    theirs = sk_linear.LogisticRegression().fit(X_tr, y_tr).score(X_te, y_te)
    assert ours >= theirs - 0.03


def test_one_vs_rest_is_scikit_learns_wrapper_around_it():
    X, y = _iris()
    ovr = OneVsRestClassifier(M.LogisticRegression(random_state=0)).fit(X, y)
    assert len(ovr.estimators_) == 3 and ovr.score(X, y) > 0.85
    assert all(e.coef_.shape == (1, 4) for e in ovr.estimators_)


def test_c_is_scikit_learns_inverse_penalty_weight():
    """Smaller C, smaller weights: at C -> inf the penalty goes (and alpha = 1/(C n) is 0)."""
    X, y = _breast_cancer()
    norms = []
    for C in (0.01, 1.0, np.inf):
        est = M.LogisticRegression(C=C, max_iter=200, random_state=0).fit(X, y)
        norms.append(np.linalg.norm(est.coef_))
    assert norms[0] < norms[1] < norms[2]
    assert M.LogisticRegression(C=2.0)._penalty_weights(100) == (1 / 200, 0.0)
    assert M.LogisticRegression(C=2.0, l1_ratio=1.0)._penalty_weights(100) == (0.0, 1 / 200)


def test_linear_svm_binary_and_multiclass():
    X, y = _breast_cancer()
    svm = M.LinearSVC(random_state=0).fit(X, y)
    scores = svm.decision_function(X)
    assert scores.shape == (len(X),)
    np.testing.assert_array_equal(svm.predict(X), svm.classes_[(scores > 0).astype(int)])
    assert svm.score(X, y) > 0.97
    assert not hasattr(svm, "predict_proba")
    X3, y3 = ds.datasets.make_blobs(150, centers=3, seed=0)
    svm3 = M.LinearSVC(random_state=0).fit(X3, y3)
    assert svm3.decision_function(X3).shape == (150, 3) and svm3.score(X3, y3) > 0.95


def test_l1_penalty_zeroes_weights_of_useless_features():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 6))
    y = (X[:, 0] - X[:, 1] > 0).astype(int)  # features 2..5 are noise
    C = 1 / (0.05 * len(X))  # a penalty weight alpha = 1 / (C n) of 0.05
    l1 = M.LogisticRegression(C=C, l1_ratio=1.0, solver="sgd", eta0=0.05, max_iter=300,
                              tol=None, random_state=0).fit(X, y)  # fmt: skip
    l2 = M.LogisticRegression(C=C, l1_ratio=0.0, solver="sgd", eta0=0.05, max_iter=300,
                              tol=None, random_state=0).fit(X, y)  # fmt: skip
    noise_l1 = np.abs(l1.coef_[0, 2:]).max()
    assert noise_l1 < 0.05 < np.abs(l1.coef_[0, :2]).min()
    assert noise_l1 < np.abs(l2.coef_[0, 2:]).max()


# ---- the perceptron -----------------------------------------------------------------------------


def test_perceptron_converges_on_separable_data_and_stops_early():
    X, y = ds.datasets.make_separable(200, margin=0.3, seed=0)
    clf = M.Perceptron(max_iter=100, tol=None, random_state=0).fit(X, y)
    assert clf.errors_[-1] == 0 and clf.score(X, y) == 1.0
    assert clf.n_iter_ == len(clf.errors_) < 100
    assert all(e > 0 for e in clf.errors_[:-1])  # it stopped at the first clean epoch


def test_perceptron_runs_to_max_epochs_on_non_separable_data():
    X, y = ds.datasets.make_moons(100, noise=0.3, seed=0)
    with pytest.warns(M.ConvergenceWarning, match="separable"):
        clf = M.Perceptron(max_iter=7, tol=None, random_state=0).fit(X, y)
    assert clf.n_iter_ == len(clf.errors_) == 7
    assert min(clf.errors_) > 0


def test_perceptron_rule_by_hand():
    """One epoch by hand: w += eta0 (y - y_hat) x, y_hat = [w.x + b >= 0], in data order."""
    X, y = ds.datasets.make_moons(40, noise=0.2, seed=3)
    X = X.astype(np.float64)
    lr = 0.5
    w, b, errors, changed_on_right = np.zeros(2), 0.0, 0, False
    for x_i, y_i in zip(X, y):
        y_hat = 1.0 if x_i @ w + b >= 0 else 0.0
        new_w, new_b = w + lr * (y_i - y_hat) * x_i, b + lr * (y_i - y_hat)
        if y_hat == y_i:
            changed_on_right |= not (np.array_equal(new_w, w) and new_b == b)
        else:
            errors += 1
        w, b = new_w, new_b
    assert not changed_on_right and 0 < errors < len(X)
    with pytest.warns(M.ConvergenceWarning):
        clf = M.Perceptron(eta0=lr, max_iter=1, shuffle=False).fit(X, y)
    np.testing.assert_allclose(clf.coef_[0], w, rtol=1e-12)
    assert clf.intercept_[0] == pytest.approx(b, rel=1e-12)
    assert clf.errors_ == [errors]


def test_perceptron_one_vs_rest():
    X, y = ds.datasets.make_blobs(150, centers=3, std=0.5, seed=1)
    clf = M.Perceptron(random_state=0).fit(X, y)
    assert clf.coef_.shape == (3, 2) and clf.decision_function(X).shape == (150, 3)
    assert clf.score(X, y) == 1.0 and clf.errors_[-1] == 0


def test_perceptron_stops_by_scikit_learns_tol_rule():
    """Replaying loss_curve_ through scikit-learn's rule (the epoch's mean criterion above
    best - tol counts as no improvement; n_iter_no_change of them in a row stop) gives
    the epoch it stopped at; on breast cancer that is early, as scikit-learn's (8 epochs)."""
    X, y = _breast_cancer()
    clf = M.Perceptron().fit(X, y)
    best, stale, stop = np.inf, 0, None
    for epoch, loss in enumerate(clf.loss_curve_, start=1):
        stale = stale + 1 if loss > best - clf.tol else 0
        best = min(best, loss)
        if stale >= clf.n_iter_no_change:
            stop = epoch
            break
    assert stop == clf.n_iter_ < 100
    assert clf.t_ == clf.n_iter_ * len(X) + 1
    assert clf.score(X, y) > 0.95
    assert M.Perceptron(tol=None, max_iter=stop + 10).fit(X, y).n_iter_ == stop + 10


# ---- MLPs ---------------------------------------------------------------------------------------


def test_mlp_regressor_beside_scikit_learn():
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(400, 2))
    y = np.sin(X[:, 0]) * X[:, 1] + 0.05 * rng.normal(size=400)
    X_te = rng.uniform(-2, 2, size=(200, 2))
    y_te = np.sin(X_te[:, 0]) * X_te[:, 1]
    ours = M.MLPRegressor((50,), max_iter=500, random_state=0).fit(X, y)
    sk = SkMLPRegressor(hidden_layer_sizes=(50,), max_iter=500, random_state=0).fit(X, y)
    print(f"\nMLPRegressor test R^2: descent {ours.score(X_te, y_te):.4f}, "
          f"sklearn {sk.score(X_te, y_te):.4f}")  # fmt: skip
    assert ours.score(X_te, y_te) >= sk.score(X_te, y_te) - 0.03
    assert ours.predict(X_te).shape == (200,)
    assert [c.shape for c in ours.coefs_] == [c.shape for c in sk.coefs_]
    assert ours.loss_curve_[-1] < ours.loss_curve_[0]


def test_mlp_early_stopping_keeps_the_best_validation_epoch():
    X_tr, y_tr, X_te, y_te = _digits_split(0)
    clf = M.MLPClassifier((32,), early_stopping=True, n_iter_no_change=3, max_iter=200,
                          learning_rate_init=0.01, random_state=0).fit(X_tr, y_tr)  # fmt: skip
    assert clf.n_iter_ < 200
    assert len(clf.validation_scores_) == clf.n_iter_
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert clf.best_loss_ is None
    assert clf.score(X_te, y_te) > 0.9
    # the stopping rule: more than n_iter_no_change epochs without beating best + tol
    scores = clf.validation_scores_
    assert max(scores[-4:]) < max(scores[:-4]) + clf.tol


@pytest.mark.parametrize("activation", ["tanh", "logistic"])
def test_mlp_activations_and_sgd_solver(activation):
    X, y = ds.datasets.make_moons(200, noise=0.1, seed=0)
    clf = M.MLPClassifier((16,), activation=activation, solver="sgd", learning_rate_init=0.1,
                          max_iter=300, random_state=0).fit(X, y)  # fmt: skip
    assert clf.score(X, y) > 0.85
    assert isinstance(clf.model_[1], ds.nn.Tanh if activation == "tanh" else ds.nn.Sigmoid)


# ---- autoencoder --------------------------------------------------------------------------------


def test_autoencoder_reconstruction_error_falls():
    X_tr, _, X_te, _ = _digits_split(0)
    ae = M.Autoencoder(code_size=16, random_state=0).fit(X_tr)
    assert ae.loss_curve_[-1] < 0.5 * ae.loss_curve_[0]
    codes = ae.transform(X_te)
    assert codes.shape == (len(X_te), 16)
    assert ae.inverse_transform(codes).shape == X_te.shape
    # far better than the best constant (the mean: error = the variance, about 1 here) ...
    err = ae.reconstruction_error(X_te)
    assert err < 0.5 * np.mean((X_te - X_tr.mean(axis=0)) ** 2)
    # ... and in the range of the best linear code of that size (PCA, 16 components)
    _, _, vt = np.linalg.svd(X_tr - X_tr.mean(axis=0), full_matrices=False)
    proj = (X_te - X_tr.mean(axis=0)) @ vt[:16].T @ vt[:16] + X_tr.mean(axis=0)
    assert err < 1.5 * np.mean((proj - X_te) ** 2)
    with pytest.raises(AttributeError, match="head"):
        ae.predict(X_te)


def test_autoencoder_with_a_head_classifies_digits():
    X_tr, y_tr, X_te, y_te = _digits_split(1)
    plain = M.Autoencoder(code_size=16, max_iter=60, random_state=0).fit(X_tr)
    ae = M.Autoencoder(code_size=16, max_iter=60, random_state=0).fit(X_tr, y_tr)
    assert ae.score(X_te, y_te) > 0.9  # chance is 0.1
    np.testing.assert_allclose(ae.predict_proba(X_te).sum(axis=1), 1.0, rtol=1e-6)
    # the loss is the sum: the reconstruction part alone is below the total
    assert ae.reconstruction_error(X_tr) < ae.loss_curve_[-1]
    # ... and the head costs the reconstruction little
    assert ae.reconstruction_error(X_te) < 1.5 * plain.reconstruction_error(X_te)


# ---- k-means ------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1])
def test_kmeans_beside_scikit_learn(seed):
    X, _ = ds.datasets.make_blobs(300, centers=4, std=1.5, seed=seed)
    X = X.astype(np.float64)
    ours = M.KMeans(n_clusters=4, random_state=seed).fit(X)
    sk = SkKMeans(n_clusters=4, n_init=10, random_state=seed).fit(X)
    assert ours.inertia_ == pytest.approx(sk.inertia_, rel=1e-6)
    assert adjusted_rand_score(ours.labels_, sk.labels_) == 1.0
    np.testing.assert_array_equal(ours.predict(X), ours.labels_)
    d2 = ((X[:, None, :] - ours.cluster_centers_[None]) ** 2).sum(axis=2)
    np.testing.assert_array_equal(ours.labels_, d2.argmin(axis=1))
    assert ours.inertia_ == pytest.approx(d2.min(axis=1).sum())
    for k in range(4):  # each center is the mean of its cluster
        np.testing.assert_allclose(ours.cluster_centers_[k], X[ours.labels_ == k].mean(axis=0))
    assert ours.transform(X).shape == (300, 4) and ours.score(X) == pytest.approx(-ours.inertia_)


def test_kmeans_plus_plus_beats_bad_starts_and_checks_init():
    X, _ = ds.datasets.make_blobs(200, centers=5, std=0.5, seed=4)
    best = M.KMeans(n_clusters=5, random_state=0).fit(X).inertia_
    one = M.KMeans(n_clusters=5, n_init=1, random_state=0).fit(X).inertia_
    assert best <= one
    starts = X[:5].astype(np.float64)
    fixed = M.KMeans(n_clusters=5, init=starts).fit(X)
    assert fixed.n_iter_ >= 1
    with pytest.raises(ValueError, match="shape"):
        M.KMeans(n_clusters=5, init=starts[:3]).fit(X)
    with pytest.raises(ValueError, match="at least 5"):
        M.KMeans(n_clusters=5).fit(X[:3])


# ---- the estimator API --------------------------------------------------------------------------


def _fast(cls):
    """An instance of ``cls`` with settings that fit in milliseconds."""
    quick = {
        "LinearRegression": {},
        "PolynomialRegression": {"degree": 2},
        "MLPClassifier": {"hidden_layer_sizes": (8,), "max_iter": 5},
        "MLPRegressor": {"hidden_layer_sizes": (8,), "max_iter": 5},
        "Autoencoder": {"code_size": 2, "max_iter": 5},
        "KMeans": {"n_clusters": 3, "n_init": 2},
        "Perceptron": {"max_iter": 3},
    }
    settings = quick.get(cls.__name__, {"max_iter": 5})
    if "random_state" in cls().get_params():
        settings = {**settings, "random_state": 0}
    return cls(**settings)


ALL = [
    M.LinearRegression, M.PolynomialRegression, M.LogisticRegression, M.LinearSVC,
    M.Perceptron, M.MLPClassifier, M.MLPRegressor, M.Autoencoder, M.KMeans,
]  # fmt: skip
CLASSIFIERS = [M.LogisticRegression, M.LinearSVC, M.Perceptron, M.MLPClassifier]  # fmt: skip
WITH_PROBA = [M.LogisticRegression, M.MLPClassifier]
GRADIENT_BASED = [M.LogisticRegression, M.LinearSVC, M.MLPClassifier,
                  M.MLPRegressor, M.Autoencoder]  # fmt: skip


@functools.cache
def _iris():
    X, y = ds.datasets.load_iris(return_X_y=True)
    return ((X - X.mean(axis=0)) / X.std(axis=0)).astype(np.float64), y


def _fit(est):
    X, y = _iris()
    return est.fit(X) if isinstance(est, (M.KMeans, M.Autoencoder)) else est.fit(X, y)


def _names(cls):
    return [c.__name__ for c in cls]


@pytest.mark.parametrize("cls", ALL, ids=_names(ALL))
def test_init_only_stores_hyperparameters_and_params_round_trip(cls):
    est = _fast(cls)
    assert not [k for k in vars(est) if k.endswith("_")]  # nothing learned before fit
    params = est.get_params()
    assert set(params) == set(vars(est))  # __init__ stored each argument, nothing else
    twin = clone(est)
    assert twin is not est and twin.get_params() == params
    assert cls(**params).get_params() == params
    name = sorted(params)[0]
    assert est.set_params(**{name: params[name]}) is est
    with pytest.raises(ValueError, match="Invalid parameter 'nonsense'"):
        est.set_params(nonsense=1)
    assert repr(est).startswith(cls.__name__ + "(")


@pytest.mark.parametrize("cls", ALL, ids=_names(ALL))
def test_fit_returns_self_and_checks_inputs(cls):
    X, _ = _iris()
    est = _fast(cls)
    with pytest.raises(M.NotFittedError, match=f"This {cls.__name__} instance is not fitted yet"):
        (est.transform if cls in (M.Autoencoder,) else est.predict)(X)
    assert issubclass(M.NotFittedError, ValueError) and issubclass(M.NotFittedError, AttributeError)
    assert _fit(est) is est
    assert est.n_features_in_ == 4
    method = est.transform if cls is M.Autoencoder else est.predict
    with pytest.raises(ValueError, match="X has 3 features, but .* expecting 4 features"):
        method(X[:, :3])
    y = _iris()[1]
    bad = X.copy()
    bad[5, 2] = np.nan
    with pytest.raises(ValueError, match="row 5, column 2"):
        clone(est).fit(bad, y)
    with pytest.raises(ValueError, match="2-D"):
        clone(est).fit(X[:, 0], y)
    with pytest.raises(ValueError, match="0 examples"):
        clone(est).fit(X[:0], y[:0])


@pytest.mark.parametrize("cls", GRADIENT_BASED, ids=_names(GRADIENT_BASED))
def test_gradient_based_keep_a_loss_curve_and_repeat_with_random_state(cls):
    first = _fit(_fast(cls))
    again = _fit(_fast(cls))
    assert len(first.loss_curve_) == first.n_iter_ >= 1
    assert all(np.isfinite(first.loss_curve_))
    assert first.loss_curve_ == again.loss_curve_
    other = _fit(_fast(cls).set_params(random_state=1))
    assert other.loss_curve_ != first.loss_curve_


@pytest.mark.parametrize("cls", CLASSIFIERS, ids=_names(CLASSIFIERS))
def test_classifiers_take_any_labels(cls):
    X, y = _iris()
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    est = cls(random_state=0).fit(X, names)
    assert est.classes_.tolist() == ["setosa", "versicolor", "virginica"]
    assert set(est.predict(X)) <= set(names)
    assert est.score(X, names) > 0.8
    # integer labels that do not start at 0, two classes
    two = np.where(y == 0, 7, 12)
    est2 = cls(random_state=0).fit(X, two)
    assert est2.classes_.tolist() == [7, 12] and est2.score(X, two) > 0.95
    with pytest.raises(ValueError, match="at least 2 classes"):
        cls().fit(X, np.zeros(len(X)))


@pytest.mark.parametrize("cls", WITH_PROBA, ids=_names(WITH_PROBA))
def test_predict_proba_rows_sum_to_one(cls):
    X, y = _iris()
    est = cls(random_state=0).fit(X, y)
    proba = est.predict_proba(X)
    assert proba.shape == (len(X), 3) and (proba >= 0).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(est.classes_[proba.argmax(axis=1)], est.predict(X))
    binary = cls(random_state=0).fit(X, y == 2)
    np.testing.assert_allclose(binary.predict_proba(X).sum(axis=1), 1.0, rtol=1e-6)


def test_works_inside_scikit_learn_tools():
    X, y = _iris()
    assert is_classifier(M.LogisticRegression()) and is_regressor(M.LinearRegression())
    scores = cross_val_score(make_pipeline(StandardScaler(), M.LogisticRegression(random_state=0)),
                             X, y, cv=3)  # fmt: skip
    assert scores.mean() > 0.85
    tensor_fit = M.LinearRegression().fit(ds.tensor(X), ds.tensor(y.astype(np.float32)))
    np.testing.assert_allclose(tensor_fit.coef_, M.LinearRegression().fit(X, y).coef_, rtol=1e-4)


@pytest.mark.parametrize(
    "module", [*"base networks linear logistic svm perceptron mlp autoencoder kmeans".split(), ""]
)
def test_docstring_examples_run(module, monkeypatch):
    import doctest
    import importlib

    monkeypatch.setattr(ds, "models", M, raising=False)  # until descent/__init__ imports it
    mod = importlib.import_module("descent.models" + (f".{module}" if module else ""))
    result = doctest.testmod(mod, extraglobs={"ds": ds, "np": np})
    assert result.attempted > 0 and result.failed == 0


SKLEARN_CHECKED = [
    M.LinearRegression(),
    M.PolynomialRegression(alpha=1e-3),  # its checks fit 65 monomials to fewer examples
    M.LogisticRegression(max_iter=30, random_state=0),
    M.LinearSVC(max_iter=30, random_state=0),
    M.Perceptron(max_iter=5),
    M.MLPClassifier((16,), learning_rate_init=0.01, max_iter=100, random_state=0),
    M.MLPRegressor((32,), learning_rate_init=0.01, max_iter=300, random_state=0),
    M.Autoencoder(code_size=2, max_iter=5, dtype="float64", random_state=0),
    M.KMeans(n_clusters=3, n_init=2, random_state=0),
]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.SkipTestWarning")
@pytest.mark.filterwarnings("ignore:Estimator .* does not inherit:UserWarning")
@pytest.mark.parametrize("est", SKLEARN_CHECKED, ids=[type(e).__name__ for e in SKLEARN_CHECKED])
def test_passes_scikit_learns_estimator_checks(est):
    checks = pytest.importorskip("sklearn.utils.estimator_checks")
    if tuple(int(p) for p in sklearn.__version__.split(".")[:2]) < (1, 6):
        pytest.skip("check_estimator(on_fail=None) needs scikit-learn >= 1.6")
    results = checks.check_estimator(clone(est), on_fail=None)
    failed = [f"{r['check_name']}: {r['exception']!r}" for r in results if r["status"] == "failed"]
    assert len(results) > 40 and not failed


def test_hyperparameters_are_checked_at_fit():
    X, y = _iris()
    with pytest.raises(ValueError, match="solver='newton'"):
        M.LinearRegression(solver="newton").fit(X, y)
    with pytest.raises(ValueError, match="penalty='l3'"):
        M.LinearSVC(penalty="l3").fit(X, y)
    with pytest.raises(ValueError, match="l1_ratio must be in"):
        M.LogisticRegression(l1_ratio=1.5).fit(X, y)
    with pytest.raises(ValueError, match="activation='swish'"):
        M.MLPClassifier(activation="swish").fit(X, y)
    with pytest.raises(ValueError, match="X has 150 examples but y has 149"):
        M.LogisticRegression().fit(X, y[:-1])


@pytest.mark.parametrize(
    "make",
    [
        lambda: M.MLPRegressor((32,), max_iter=20, random_state=0),
        lambda: M.MLPClassifier((32,), max_iter=20, random_state=0),
        lambda: M.Autoencoder(code_size=3, max_iter=5, random_state=0),
    ],
    ids=["MLPRegressor", "MLPClassifier", "Autoencoder"],
)
def test_float32_models_predict_a_row_alone_as_inside_its_batch(make):
    """Trained in float32, predicted in float64 from those weights: a row's prediction
    agrees with itself inside its batch to float64 rounding, far inside scikit-learn's
    1e-7 subset invariance (float32 inference misses it by an ulp now and then)."""
    X, y = _iris()
    est = make().fit(X, y)
    names = {M.Autoencoder: "transform", M.MLPClassifier: "predict_proba"}
    method = getattr(est, names.get(type(est), "predict"))
    whole = method(X)
    rows = np.concatenate([method(X[i : i + 1]) for i in range(len(X))])
    assert whole.dtype == np.float64
    np.testing.assert_allclose(rows, whole, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "cls", [ds.models.MLPClassifier, ds.models.MLPRegressor, ds.models.Autoencoder]
)
def test_estimators_take_scikit_learn_s_activation_names_only(cls):
    X = np.random.default_rng(0).normal(size=(20, 3))
    y = np.arange(20) % 2
    with pytest.raises(ValueError, match="activation"):
        cls(activation="sigmoid").fit(X, y)  # scikit-learn's name for it is 'logistic'


# ---- scikit-learn's names, defaults, fitted attributes and warnings -----------------------------

# ours, its scikit-learn twin (fitted on the same data to list its learned attributes)
TWINS = [
    (lambda: M.LogisticRegression(max_iter=5), lambda: sk_linear.LogisticRegression(max_iter=5)),
    (lambda: M.LinearSVC(max_iter=5), lambda: sk_svm.LinearSVC(max_iter=5)),
    (lambda: M.Perceptron(max_iter=5), lambda: sk_linear.Perceptron(max_iter=5)),
    (lambda: M.MLPClassifier(max_iter=5), lambda: SkMLPClassifier(max_iter=5)),
    (lambda: M.MLPRegressor(max_iter=5), lambda: SkMLPRegressor(max_iter=5)),
    (lambda: M.KMeans(3), lambda: SkKMeans(3)),
    (lambda: M.LinearRegression(), lambda: sk_linear.LinearRegression()),
]
# scikit-learn's defaults that ours differ from on purpose, with why (docs/estimators.md)
OWN_DEFAULTS = {
    # an epoch of adam is not an lbfgs iteration: our solver needs more of them
    ("LogisticRegression", "max_iter"), ("LogisticRegression", "solver"),
}  # fmt: skip
PUBLIC = [getattr(M, name) for name in M.__all__ if isinstance(getattr(M, name), type)
          and hasattr(getattr(M, name), "fit") and not name.startswith(("Base", "Autoencoder"))
          or name == "Autoencoder"]  # fmt: skip


@pytest.mark.parametrize("pair", TWINS, ids=lambda p: type(p[0]()).__name__)
def test_scikit_learns_shared_parameters_have_its_defaults(pair):
    ours, twin = type(pair[0]())(), type(pair[1]())()  # at their defaults
    mine, theirs = ours.get_params(), twin.get_params()
    name = type(ours).__name__
    shared = set(mine) & set(theirs)
    differ = {k for k in shared if mine[k] != theirs[k] and (name, k) not in OWN_DEFAULTS}
    assert shared and not differ
    assert type(ours).__name__ == type(twin).__name__


@pytest.mark.parametrize("pair", TWINS, ids=lambda p: type(p[0]()).__name__)
def test_every_fitted_attribute_of_the_twin_is_learned(pair):
    X, y = _iris()
    ours, twin = pair[0](), pair[1]()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours.fit(X, y)
        twin.fit(X, y)
    learned = {k for k in vars(twin) if k.endswith("_") and not k.startswith("_")}
    assert learned and learned <= set(vars(ours))
    for k in learned:  # the same kind of value: shapes of arrays, lengths of lists
        mine, theirs = getattr(ours, k), getattr(twin, k)
        if isinstance(theirs, np.ndarray) and k not in ("n_iter_",):
            assert np.shape(mine) == np.shape(theirs), k
        elif isinstance(theirs, list) and k not in ("loss_curve_",):
            assert [np.shape(a) for a in mine] == [np.shape(a) for a in theirs], k


def test_mlp_counts_its_steps_as_scikit_learn():
    X, y = _iris()
    ours = M.MLPClassifier((8,), max_iter=7, random_state=0).fit(X, y)
    twin = SkMLPClassifier((8,), max_iter=7, random_state=0).fit(X, y)
    assert ours.n_iter_ == twin.n_iter_ == 7 and ours.t_ == twin.t_ == 7 * len(X)
    assert ours.loss_ == ours.loss_curve_[-1] and ours.best_loss_ == min(ours.loss_curve_)
    assert [b.shape for b in ours.intercepts_] == [(8,), (3,)]
    stopped = M.MLPClassifier((8,), max_iter=7, early_stopping=True, random_state=0).fit(X, y)
    assert stopped.best_loss_ is None and stopped.t_ == 7 * round(0.9 * len(X))


@pytest.mark.parametrize("cls", PUBLIC, ids=_names(PUBLIC))
def test_a_wrong_keyword_names_the_public_class(cls):
    with pytest.raises(TypeError, match=rf"^{cls.__name__}\.__init__\(\) got an unexpected "
                                        r"keyword argument 'nonsense'"):  # fmt: skip
        cls(nonsense=1)


def test_the_lectures_names_are_the_same_classes():
    assert M.LinearSVM is M.LinearSVC and M.SoftmaxRegression is M.LogisticRegression
    with pytest.raises(TypeError, match="Perceptron.__init__.*'max_epochs'"):
        M.Perceptron(max_epochs=10)


def test_warnings_are_scikit_learns_classes_too():
    X, y = _iris()
    with pytest.warns(sk_exceptions.ConvergenceWarning):
        M.LogisticRegression(max_iter=2).fit(X, y)
    with pytest.warns(M.ConvergenceWarning):  # and still descent's
        M.Perceptron(max_iter=1, tol=None).fit(X, y)
    with pytest.warns(sk_exceptions.DataConversionWarning, match="column-vector y"):
        M.Perceptron(max_iter=3).fit(X, y[:, None])
    with pytest.raises(sk_exceptions.NotFittedError):
        M.LinearSVC().predict(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error", sk_exceptions.ConvergenceWarning)
        with pytest.raises(M.ConvergenceWarning):
            M.KMeans(3, max_iter=1, tol=0.0, n_init=1, random_state=0).fit(X)


SUPERVISED = [e for e in SKLEARN_CHECKED if is_classifier(e) or is_regressor(e)]


@pytest.mark.parametrize("est", SUPERVISED, ids=[type(e).__name__ for e in SUPERVISED])
def test_supervised_y_2d_check_passes_with_every_warning_ignored(est):
    """scikit-learn's check records only its own DataConversionWarning: with a global
    'ignore' filter, descent's must be that class for the check to see it."""
    checks = pytest.importorskip("sklearn.utils.estimator_checks")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        checks.check_supervised_y_2d(type(est).__name__, clone(est))
