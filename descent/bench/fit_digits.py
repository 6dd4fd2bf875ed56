"""fit-digits: descent's MLPClassifier against scikit-learn's on the digits: fit time, accuracy."""

from __future__ import annotations

import inspect
import statistics
import time
import warnings
from dataclasses import replace

import numpy as np

from descent.datasets import load_digits

from .problems import F32
from .settings import FitSettings, Settings
from .timing import error_text, ratio


def digits_split(seed: int = 0) -> tuple:
    """Digits scaled to [0, 1], stratified 75/25: (X_train, X_test, y_train, y_test)."""
    from sklearn.model_selection import train_test_split  # optional  # noqa: PLC0415

    X, y = load_digits(return_X_y=True)
    return train_test_split(X / F32(16.0), y, test_size=0.25, stratify=y, random_state=seed)


def _timed_fit(model, data: tuple) -> tuple[float, float, int | None]:
    """(seconds to fit, test accuracy, epochs run as ``n_iter_`` says)."""
    X_train, X_test, y_train, y_test = data
    start = time.perf_counter()
    model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    accuracy = float(np.mean(np.asarray(model.predict(X_test)) == y_test))
    return seconds, accuracy, getattr(model, "n_iter_", None)


def fit_sklearn(data: tuple, settings: FitSettings) -> tuple[float, float, int | None]:
    """scikit-learn's MLPClassifier with adam for exactly ``epochs`` epochs."""
    from sklearn.exceptions import ConvergenceWarning  # optional  # noqa: PLC0415
    from sklearn.neural_network import MLPClassifier  # noqa: PLC0415

    model = MLPClassifier(
        hidden_layer_sizes=settings.hidden,
        batch_size=settings.batch_size,
        max_iter=settings.epochs,
        n_iter_no_change=settings.epochs + 1,  # never stops before max_iter
        solver="adam",
        learning_rate_init=settings.lr,
        alpha=settings.alpha,
        early_stopping=False,
        random_state=settings.seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return _timed_fit(model, data)


# descent.models is written by scikit-learn's conventions; these are the parameter names
# tried, in order, for each setting (the first one the constructor accepts is used).
_DESCENT_NAMES = {
    "hidden": ("hidden_layer_sizes", "hidden_sizes", "hidden"),
    "epochs": ("max_iter", "epochs", "max_epochs"),
    "batch_size": ("batch_size",),
    "optimizer": ("solver", "optimizer"),
    "lr": ("learning_rate_init", "lr", "learning_rate"),
    "alpha": ("alpha",),
    "early_stopping": ("early_stopping",),
    "patience": ("n_iter_no_change",),
    "seed": ("random_state", "seed"),
    "verbose": ("verbose",),
}
_REQUIRED = ("hidden", "epochs", "batch_size")


class MissingModelError(Exception):
    """descent.models.MLPClassifier is not there, or takes none of the names we try."""


def descent_classifier_options(cls, settings: FitSettings) -> dict:
    """Keyword arguments for descent's MLPClassifier that match ``settings``."""
    values = {
        "hidden": settings.hidden,
        "epochs": settings.epochs,
        "batch_size": settings.batch_size,
        "optimizer": "adam",
        "lr": settings.lr,
        "alpha": settings.alpha,
        "early_stopping": False,
        "patience": settings.epochs + 1,  # never stops before the last epoch
        "seed": settings.seed,
        "verbose": 0,
    }
    params = inspect.signature(cls).parameters
    options = {}
    for setting, names in _DESCENT_NAMES.items():
        accepted = [n for n in names if n in params]
        if accepted:
            options[accepted[0]] = values[setting]
        elif setting in _REQUIRED:
            raise MissingModelError(f"MLPClassifier takes none of {names}")
    return options


def descent_classifier() -> type:
    """``descent.models.MLPClassifier``; MissingModelError if it is not there (yet)."""
    try:  # here, not at the top: it may be missing, and `descent --help` loads this file
        import descent.models as models  # noqa: PLC0415
    except ImportError:
        raise MissingModelError("descent.models missing") from None
    cls = getattr(models, "MLPClassifier", None)
    if cls is None:
        raise MissingModelError("descent.models.MLPClassifier missing")
    return cls


def fit_descent(data: tuple, settings: FitSettings) -> tuple[float, float, int | None]:
    """descent's MLPClassifier with the same settings as ``fit_sklearn``."""
    cls = descent_classifier()
    model = cls(**descent_classifier_options(cls, settings))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*max_iter")  # it stops there on purpose
        return _timed_fit(model, data)


def time_fit_digits(settings: Settings) -> dict:
    """Seconds per fit (median) and test accuracy (the mean over ``fit.n_seeds`` seeds, each
    its own split and initialisation), descent's MLPClassifier and scikit-learn's."""
    fit = settings.fit
    seeds = [fit.seed + i for i in range(fit.n_seeds)]
    splits = {seed: digits_split(seed) for seed in seeds}
    runners = {"descent": fit_descent, "sklearn": fit_sklearn}
    status = {name: "ok" for name in runners}
    seconds = {name: [] for name in runners}
    by_seed = {name: {} for name in runners}
    epochs_run = {name: None for name in runners}
    for _ in range(settings.fit_repeat):
        for seed in seeds:
            for name, fit_fn in runners.items():
                if status[name] != "ok":
                    continue
                try:
                    s, by_seed[name][seed], epochs_run[name] = fit_fn(
                        splits[seed], replace(fit, seed=seed)
                    )
                    seconds[name].append(s)
                except MissingModelError as e:
                    status[name] = f"n/a ({e})"
                except Exception as e:
                    status[name] = error_text(e)
    medians = {n: statistics.median(s) if s else None for n, s in seconds.items()}
    accuracy = {
        n: statistics.fmean(a.values()) if status[n] == "ok" and a else None
        for n, a in by_seed.items()
    }
    acc_d, acc_s = accuracy["descent"], accuracy["sklearn"]
    return {
        "name": "fit-digits",
        "settings": {
            "hidden": list(fit.hidden),
            "batch_size": fit.batch_size,
            "epochs": fit.epochs,
            "optimizer": "adam",
            "lr": fit.lr,
            "alpha": fit.alpha,
            "seeds": seeds,
            "early_stopping": False,
            "test_fraction": 0.25,
        },
        "seconds": medians,
        "samples": seconds,
        "accuracy": accuracy,
        "accuracy_by_seed": {n: [a.get(seed) for seed in seeds] for n, a in by_seed.items()},
        "epochs_run": epochs_run,
        "descent_options": _descent_options(fit),
        "status": status,
        "ratios": {
            "descent/sklearn": ratio(medians["descent"], medians["sklearn"]),
            "accuracy descent - sklearn": None if None in (acc_d, acc_s) else acc_d - acc_s,
        },
    }


def _descent_options(fit: FitSettings) -> dict | None:
    """The keyword arguments given to descent's MLPClassifier (None if there is none)."""
    try:
        options = descent_classifier_options(descent_classifier(), fit)
    except MissingModelError:
        return None
    return {k: list(v) if isinstance(v, tuple) else v for k, v in options.items()}
