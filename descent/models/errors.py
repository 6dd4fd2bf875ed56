"""The errors and warnings the estimators raise."""

from __future__ import annotations

import functools
import sys

__all__ = [
    "NotFittedError", "ConvergenceWarning", "IllConditionedWarning", "DataConversionWarning",
    "not_fitted_error",
]  # fmt: skip


class NotFittedError(ValueError, AttributeError):
    """A method that needs a fitted estimator was called before ``fit``.

    A ValueError and an AttributeError, like scikit-learn's ``NotFittedError``; once
    scikit-learn is imported, the error raised is also an instance of scikit-learn's.
    """


class ConvergenceWarning(UserWarning):
    """Training stopped at its epoch limit before meeting its convergence criterion."""


class IllConditionedWarning(UserWarning):
    """The least-squares problem is ill-conditioned: its solution is unstable."""


class DataConversionWarning(UserWarning):
    """The input had to be reshaped (a column of labels where a 1-D array was expected)."""


@functools.cache
def _sklearn_flavoured(sklearn_error: type) -> type:
    return type("NotFittedError", (NotFittedError, sklearn_error), {"__module__": __name__})


def not_fitted_error() -> type:
    """NotFittedError; once scikit-learn is imported, a subclass that is also scikit-learn's
    NotFittedError, so its tools (and ``except sklearn.exceptions.NotFittedError``) see it.
    NOTE: looked up in sys.modules, so descent itself never imports scikit-learn."""
    sk = sys.modules.get("sklearn.exceptions")
    if sk is None:
        return NotFittedError
    return _sklearn_flavoured(sk.NotFittedError)
