"""Estimators with scikit-learn's conventions, built on ds.nn, ds.optim and ds.train.

``__init__`` stores hyperparameters and nothing else, ``fit(X, y)`` returns the
estimator, and what it learns ends in an underscore (``coef_``, ``classes_``,
``loss_curve_``). ``predict``, ``score``, ``get_params``/``set_params`` everywhere, and
``predict_proba`` / ``decision_function`` / ``transform`` where they make sense;
``sklearn.base.clone``, pipelines and model selection accept them.

- regression: ``LinearRegression`` (normal equations, or full-batch / one-example /
  mini-batch gradient descent), ``PolynomialRegression``, ``MLPRegressor``;
- classification: ``LogisticRegression`` (multinomial for more than two classes; the
  lectures' ``SoftmaxRegression`` is the same class), ``LinearSVC`` (the lectures'
  ``LinearSVM``), ``Perceptron``, ``MLPClassifier``;
- unsupervised: ``Autoencoder`` (with an optional classifier head), ``KMeans``.

Every gradient-based one trains an ``nn`` Module with an ``optim`` optimizer through
``ds.train.fit`` and keeps ``loss_curve_`` (one value per epoch) and ``n_iter_``. The
hyperparameters have scikit-learn's names: ``C``, ``max_iter`` (epochs), ``tol``,
``n_iter_no_change``, ``eta0`` (the learning rate of the linear models, as scikit-learn's
SGD models and Perceptron) and ``learning_rate_init`` (the MLPs' and the autoencoder's);
``docs/estimators.md`` maps the lectures' names onto them.

>>> X, y = ds.datasets.load_iris(return_X_y=True)
>>> clf = ds.models.LogisticRegression(random_state=0).fit(X, y)
>>> clf.score(X, y) > 0.9
True
"""

from .autoencoder import Autoencoder, AutoencoderNet
from .base import BaseEstimator, ClassifierMixin, ClusterMixin, RegressorMixin, TransformerMixin
from .errors import ConvergenceWarning, DataConversionWarning, IllConditionedWarning, NotFittedError
from .kmeans import KMeans
from .linear import LinearRegression, PolynomialRegression
from .logistic import LogisticRegression, SoftmaxRegression
from .mlp import MLPClassifier, MLPRegressor
from .perceptron import Perceptron
from .svm import LinearSVC, LinearSVM

__all__ = [
    "LinearRegression", "PolynomialRegression", "LogisticRegression", "SoftmaxRegression",
    "LinearSVC", "LinearSVM", "Perceptron", "MLPClassifier", "MLPRegressor", "Autoencoder",
    "AutoencoderNet", "KMeans", "BaseEstimator", "ClassifierMixin", "RegressorMixin",
    "TransformerMixin", "ClusterMixin", "NotFittedError", "ConvergenceWarning",
    "IllConditionedWarning", "DataConversionWarning",
]  # fmt: skip
