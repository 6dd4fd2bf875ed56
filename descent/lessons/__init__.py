"""The lectures' worked examples, runnable: ``descent lesson NAME`` or ``ds.lessons.run(NAME)``.

Each lesson is a function returning a ``Lesson`` (text, tables of iterations, key
numbers). The table below is the one place that lists them.
"""

from __future__ import annotations

from .autoencoder_classifier import autoencoder_classifier
from .backprop import backprop
from .bce_gradient import bce_gradient
from .conv_forward import conv_forward
from .convexity import convexity
from .curvature import curvature
from .decks import DECKS, slide_ranges
from .decks import by_deck as _by_deck
from .differentiation import differentiation
from .digits import digits
from .gradient_check import gradient_check
from .gravity import gravity
from .learning_rate import learning_rate
from .lesson import Lesson, Table
from .linear_regression import linear_regression
from .logistic_regression import logistic_regression
from .mnist1d import mnist1d
from .model_choice import model_choice
from .numerical_gradient import numerical_gradient
from .partial_derivatives import partial_derivatives
from .perceptron import perceptron
from .regularisation import regularisation
from .search_methods import search_methods
from .secret_number import secret_number
from .softmax_svm import softmax_svm
from .supervised_unsupervised import supervised_unsupervised
from .svm_questions import svm_questions
from .tf_optimizer import tf_optimizer
from .two_parameters import two_parameters
from .vectorisation import vectorisation

LESSONS: dict = {  # in the order of the lectures
    "secret-number": secret_number,
    "gravity": gravity,
    "learning-rate": learning_rate,
    "curvature": curvature,
    "two-parameters": two_parameters,
    "partial-derivatives": partial_derivatives,
    "linear-regression": linear_regression,
    "tf-optimizer": tf_optimizer,
    "vectorisation": vectorisation,
    "model-choice": model_choice,
    "regularisation": regularisation,
    "logistic-regression": logistic_regression,
    "perceptron": perceptron,
    "bce-gradient": bce_gradient,
    "softmax-svm": softmax_svm,
    "svm-questions": svm_questions,
    "backprop": backprop,
    "autoencoder-classifier": autoencoder_classifier,
    "supervised-unsupervised": supervised_unsupervised,
    "conv-forward": conv_forward,
    "numerical-gradient": numerical_gradient,
    "gradient-check": gradient_check,
    "differentiation": differentiation,
    "convexity": convexity,
    "search-methods": search_methods,
    "digits": digits,
    "mnist1d": mnist1d,
}


def names() -> list[str]:
    return list(LESSONS)


def by_deck() -> dict:
    """The decks, each with its title, its lessons (name, {topic: [first, last]}) and the
    topics only its schedule names; read from each lesson's module (``DECK``, ``SLIDES``,
    ``ALSO``), so a new lesson appears under its deck once it is in ``LESSONS``."""
    return _by_deck(LESSONS)


def run(name: str) -> Lesson:
    """Compute lesson ``name`` and return it (``.render()`` for text, ``.to_dict()`` for JSON)."""
    try:
        lesson = LESSONS[name]
    except KeyError:
        raise KeyError(f"no lesson {name!r}; the lessons are: {', '.join(LESSONS)}") from None
    return lesson()


__all__ = ["DECKS", "LESSONS", "Lesson", "Table", "by_deck", "names", "run", "slide_ranges"]
