"""Each estimator of ``ds.models`` beside its scikit-learn twin.

``python -m tools.estimator_table`` prints, as Markdown, in one run:

- for every pair, the test score of ours and of scikit-learn's on the bundled datasets
  (accuracy on iris, wine, breast cancer and digits; R^2 on diabetes; the adjusted Rand
  index of the clusters against the classes for KMeans), one fixed stratified 75/25 split
  (``random_state=0``), features standardised on the training part, both estimators at
  their defaults but for the settings the pair names, and the fit time of each (the best
  of ``--repeat`` fits);
- the Perceptron's fit time and 5-fold cross-validation time on breast cancer, ours
  beside scikit-learn's;
- for every pair, the parameters (shared with equal defaults, shared with other defaults,
  scikit-learn's only, ours only) and the fitted attributes, read from the classes
  themselves.

- GridSearchCV over MLPClassifier on digits, ours beside scikit-learn's, and where our
  search spends its time.

Both libraries run with ``--threads`` BLAS threads (default 1). ``--quick`` runs iris (and
diabetes) only, one fit each, for the tests. ``docs/estimators.md`` holds a run.
"""

from __future__ import annotations

import argparse
import cProfile
import inspect
import pstats
import time
import warnings

import numpy as np
from sklearn import cluster, linear_model, neural_network, svm
from sklearn.base import clone
from sklearn.metrics import adjusted_rand_score
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures
from threadpoolctl import threadpool_limits

import descent as ds
from descent import models as M

CLASSIFICATION = ("iris", "wine", "breast_cancer", "digits")
REGRESSION = ("diabetes",)

# (our estimator, scikit-learn's twin, the task: 'classify', 'regress' or 'cluster')
PAIRS = [
    ("LinearRegression", lambda: M.LinearRegression(), lambda: linear_model.LinearRegression(),
     "regress"),
    ("PolynomialRegression(degree=2)", lambda: M.PolynomialRegression(degree=2),
     lambda: make_pipeline(PolynomialFeatures(2), linear_model.LinearRegression()), "regress"),
    ("LogisticRegression", lambda: M.LogisticRegression(random_state=0),
     lambda: linear_model.LogisticRegression(), "classify"),
    ("LinearSVC", lambda: M.LinearSVC(random_state=0), lambda: svm.LinearSVC(random_state=0),
     "classify"),
    ("Perceptron", lambda: M.Perceptron(), lambda: linear_model.Perceptron(), "classify"),
    ("MLPClassifier", lambda: M.MLPClassifier(random_state=0),
     lambda: neural_network.MLPClassifier(random_state=0), "classify"),
    ("MLPRegressor", lambda: M.MLPRegressor(max_iter=1000, random_state=0),
     lambda: neural_network.MLPRegressor(max_iter=1000, random_state=0), "regress"),
    ("KMeans", lambda: M.KMeans(random_state=0), lambda: cluster.KMeans(random_state=0),
     "cluster"),
]  # fmt: skip


def load(name: str):
    """(X_train, y_train, X_test, y_test): a stratified 75/25 split, standardised on the
    training part; diabetes' target standardised too (the MLP regressors need it)."""
    X, y = getattr(ds.datasets, f"load_{name}")(return_X_y=True)
    X = np.asarray(X, np.float64)
    stratify = None if name in REGRESSION else y
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=0,
                                              stratify=stratify)  # fmt: skip
    mean, std = X_tr.mean(axis=0), X_tr.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    X_tr, X_te = (X_tr - mean) / std, (X_te - mean) / std
    if name in REGRESSION:
        y_mean, y_std = y_tr.mean(), y_tr.std()
        y_tr, y_te = (y_tr - y_mean) / y_std, (y_te - y_mean) / y_std
    return X_tr, y_tr, X_te, y_te


def fit_and_score(make, task: str, data, repeat: int) -> tuple[float, float]:
    """(the test score, the best fit time in seconds) of ``make()`` on ``data``."""
    X_tr, y_tr, X_te, y_te = data
    best = np.inf
    for _ in range(repeat):
        est = make()
        if task == "cluster":
            est.set_params(n_clusters=len(np.unique(y_tr)))
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence warnings are part of the result
            est.fit(X_tr) if task == "cluster" else est.fit(X_tr, y_tr)
        best = min(best, time.perf_counter() - start)
    if task == "cluster":
        return adjusted_rand_score(y_te, est.predict(X_te)), best
    return est.score(X_te, y_te), best


def score_rows(datasets_for, repeat: int) -> list[str]:
    rows = [
        "| estimator | dataset | metric | descent | scikit-learn | descent fit (s) | "
        "scikit-learn fit (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    cache = {}
    for name, ours, theirs, task in PAIRS:
        for dataset in datasets_for(task):
            data = cache.setdefault(dataset, load(dataset))
            metric = {"classify": "accuracy", "regress": "R^2", "cluster": "ARI"}[task]
            s_ours, t_ours = fit_and_score(ours, task, data, repeat)
            s_theirs, t_theirs = fit_and_score(theirs, task, data, repeat)
            rows.append(f"| {name} | {dataset} | {metric} | {s_ours:.3f} | {s_theirs:.3f} | "
                        f"{t_ours:.4f} | {t_theirs:.4f} |")  # fmt: skip
    return rows


def perceptron_rows(repeat: int) -> list[str]:
    """Fit and 5-fold cross-validation times on the whole of breast cancer, standardised."""
    X, y = ds.datasets.load_breast_cancer(return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    rows = ["| Perceptron on breast cancer | epochs | fit (s) | 5-fold CV (s) | CV accuracy |",
            "|---|---|---|---|---|"]  # fmt: skip
    for label, make in (("descent", M.Perceptron), ("scikit-learn", linear_model.Perceptron)):
        fit_s = cv_s = np.inf
        for _ in range(repeat):
            start = time.perf_counter()
            est = make().fit(X, y)
            fit_s = min(fit_s, time.perf_counter() - start)
            start = time.perf_counter()
            scores = cross_val_score(make(), X, y, cv=5)
            cv_s = min(cv_s, time.perf_counter() - start)
        rows.append(f"| {label} | {est.n_iter_} | {fit_s:.4f} | {cv_s:.4f} | "
                    f"{scores.mean():.3f} |")  # fmt: skip
    return rows


GRID = {"hidden_layer_sizes": [(32,), (64,)], "alpha": [1e-4, 1e-2]}

# where a function's own time is counted, by the folder of its file (the first match)
PARTS = [
    ("descent/ops/", "the ops' array work: matrix products and the rest (descent/ops)"),
    ("descent/autograd/", "the backward engine (descent/autograd)"),
    ("descent/optim/", "the optimizer's update (descent/optim)"),
    ("descent/train/", "the training loop, loader and metrics (descent/train, descent/data)"),
    ("descent/data/", "the training loop, loader and metrics (descent/train, descent/data)"),
    ("descent/nn/", "layers and losses (descent/nn)"),
    ("descent/models/", "the estimator (descent/models)"),
]
OUTSIDE = "NumPy, Python and scikit-learn outside descent"


def grid_rows(quick: bool) -> list[str]:
    """GridSearchCV(MLPClassifier, GRID, cv=3) on the digits training part, ours beside
    scikit-learn's (both max_iter=50), and where our search's time goes (a second run under
    cProfile: each function's own time, summed by the part of descent its file is in)."""
    X_tr, y_tr, _, _ = load("digits")
    grid = {k: v[:1] for k, v in GRID.items()} if quick else GRID
    rows = ["| GridSearchCV on digits | fits | time (s) | best CV accuracy |", "|---|---|---|---|"]
    profile = cProfile.Profile()
    for label, est in (("descent", M.MLPClassifier(max_iter=50, random_state=0)),
                       ("scikit-learn", neural_network.MLPClassifier(max_iter=50,
                                                                     random_state=0))):  # fmt: skip
        search = GridSearchCV(est, grid, cv=3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = time.perf_counter()
            search.fit(X_tr, y_tr)
            seconds = time.perf_counter() - start
            if label == "descent":  # once more under the profiler, which slows it
                profile.runcall(clone(search).fit, X_tr, y_tr)
        n_fits = len(search.cv_results_["params"]) * 3 + 1
        rows.append(f"| {label} | {n_fits} | {seconds:.2f} | {search.best_score_:.3f} |")
    own = {}
    for (path, _, _), (_, _, tottime, _, _) in pstats.Stats(profile).stats.items():
        where = path.replace("\\", "/")
        part = next((label for folder, label in PARTS if folder in where), OUTSIDE)
        own[part] = own.get(part, 0.0) + tottime
    total = sum(own.values())
    rows += ["", "| where descent's grid search spends its time | s | share |", "|---|---|---|"]
    for part, seconds in sorted(own.items(), key=lambda kv: -kv[1]):
        rows.append(f"| {part} | {seconds:.2f} | {100 * seconds / total:.0f}% |")
    return rows


def _params(est) -> dict:
    return {
        p.name: p.default
        for p in inspect.signature(type(est).__init__).parameters.values()
        if p.name != "self"
    }


def _same(a, b) -> bool:
    try:
        return bool(type(a) is type(b) and a == b) or a is b
    except (TypeError, ValueError):
        return False


def _learned(est, task: str) -> set:
    X, y = ds.datasets.load_iris(return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X) if task == "cluster" else est.fit(X, y)
    if hasattr(est, "steps"):  # a pipeline: what its last step learned
        est = est.steps[-1][1]
    return {k for k in vars(est) if k.endswith("_") and not k.startswith("_")}


def parameter_rows() -> list[str]:
    rows = [
        "| estimator | shared, same default | shared, other default (ours / theirs) | "
        "scikit-learn's only | ours only | fitted: theirs | fitted: ours only |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, ours_for, theirs_for, task in PAIRS:
        ours, theirs = ours_for(), theirs_for()
        if not hasattr(theirs, "coef_") and hasattr(theirs, "steps"):
            theirs = theirs.steps[-1][1]  # the pipeline's linear regression
        mine, their = _params(ours), _params(theirs)
        shared = sorted(set(mine) & set(their))
        same = [k for k in shared if _same(mine[k], their[k])]
        other = [f"{k} ({mine[k]!r} / {their[k]!r})" for k in shared if k not in same]
        learned_theirs = _learned(theirs_for(), task)
        learned_ours = _learned(ours_for(), task)
        missing = learned_theirs - learned_ours
        cells = [
            ", ".join(same) or "-",
            ", ".join(other) or "-",
            ", ".join(sorted(set(their) - set(mine))) or "-",
            ", ".join(sorted(set(mine) - set(their))) or "-",
            ", ".join(sorted(learned_theirs)) + (f" (missing: {sorted(missing)})" * bool(missing)),
            ", ".join(sorted(learned_ours - learned_theirs)) or "-",
        ]  # fmt: skip
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    return rows


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="iris (and diabetes), one fit each")
    parser.add_argument("--repeat", type=int, default=3, help="fits per cell; the best time")
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS threads for both libraries (1: steady timings)")  # fmt: skip
    args = parser.parse_args(argv)
    with threadpool_limits(limits=args.threads):
        return _tables(args)


def _tables(args) -> str:
    repeat = 1 if args.quick else args.repeat

    def datasets_for(task):
        if task == "regress":
            return REGRESSION
        return ("iris",) if args.quick else CLASSIFICATION

    parts = ["## Test scores and fit times", "", *score_rows(datasets_for, repeat)]
    if not args.quick:
        parts += ["", "## The Perceptron's speed", "", *perceptron_rows(repeat)]
    parts += ["", "## MLP grid search", "", *grid_rows(args.quick)]
    parts += ["", "## Parameters and fitted attributes", "", *parameter_rows()]
    text = "\n".join(parts)
    print(text)
    return text


if __name__ == "__main__":
    main()
