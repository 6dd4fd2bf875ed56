"""The errors and warnings the estimators raise.

Each has a twin in ``sklearn.exceptions`` (but ``IllConditionedWarning``). Once scikit-learn
is imported, what the estimators raise or warn is a subclass of both classes, so
``except sklearn.exceptions.NotFittedError`` and
``warnings.filterwarnings("ignore", category=sklearn.exceptions.ConvergenceWarning)`` see
descent's too, and descent's own classes keep working as before.
"""

from __future__ import annotations

import functools
import sys

__all__ = [
    "NotFittedError", "ConvergenceWarning", "IllConditionedWarning", "DataConversionWarning",
    "not_fitted_error", "sklearn_flavoured",
]  # fmt: skip


class NotFittedError(ValueError, AttributeError):
    """A method that needs a fitted estimator was called before ``fit``.

    A ValueError and an AttributeError, like scikit-learn's ``NotFittedError``; once
    scikit-learn is imported, the error raised is also an instance of scikit-learn's.
    """


class ConvergenceWarning(UserWarning):
    """Training stopped at its epoch limit before meeting its convergence criterion; once
    scikit-learn is imported, the warning is also scikit-learn's ``ConvergenceWarning``."""


class IllConditionedWarning(UserWarning):
    """The least-squares problem is ill-conditioned: its solution is unstable."""


class DataConversionWarning(UserWarning):
    """The input had to be reshaped (a column of labels where a 1-D array was expected); once
    scikit-learn is imported, the warning is also scikit-learn's ``DataConversionWarning``."""


# descent's class -> the name of its twin in sklearn.exceptions
_TWINS = {
    NotFittedError: "NotFittedError",
    ConvergenceWarning: "ConvergenceWarning",
    DataConversionWarning: "DataConversionWarning",
}


@functools.cache
def _both(ours: type, theirs: type) -> type:
    return type(ours.__name__, (ours, theirs), {"__module__": __name__, "__doc__": ours.__doc__})


def sklearn_flavoured(cls: type) -> type:
    """``cls`` itself, or once scikit-learn is imported a subclass of ``cls`` and of its twin in
    ``sklearn.exceptions`` (the same class every time), for raising and warning.

    NOTE: looked up in sys.modules, so descent itself never imports scikit-learn. A filter or
    an ``except`` that names scikit-learn's class has imported scikit-learn already.
    """
    sk = sys.modules.get("sklearn.exceptions")
    if sk is None or cls not in _TWINS:
        return cls
    return _both(cls, getattr(sk, _TWINS[cls]))


def not_fitted_error() -> type:
    """NotFittedError, scikit-learn's too once it is imported (``sklearn_flavoured``)."""
    return sklearn_flavoured(NotFittedError)
