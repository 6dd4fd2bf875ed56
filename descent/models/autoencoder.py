"""An autoencoder, optionally with a classifier head on its code (the lectures' network)."""

from __future__ import annotations

import copy
import warnings

import numpy as np

from .. import nn
from ..nn import functional as F
from ..ops.shape import cat
from .base import BaseEstimator, TransformerMixin
from .checks import (
    as_labels,
    check_array,
    check_choice,
    check_data,
    check_is_fitted,
    check_labels,
    check_positive,
    float_dtype,
    resolve_batch_size,
)
from .errors import ConvergenceWarning, sklearn_flavoured
from .inference import ClassLabels
from .networks import ESTIMATOR_ACTIVATIONS, build_mlp
from .training import (
    make_optimizer,
    make_rng,
    predict_forward,
    stop_on_plateau,
    train_module,
)

__all__ = ["Autoencoder"]


class AutoencoderNet(nn.Module):
    """encoder: x -> code; decoder: code -> reconstruction; head (optional): code -> logits.

    ``forward`` returns the reconstruction, with the head's logits appended as extra
    columns when there is a head: (N, d) or (N, d + C).
    """

    def __init__(self, encoder: nn.Sequential, decoder: nn.Sequential, head=None):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.head = head

    def forward(self, x):
        code = self.encoder(x)
        recon = self.decoder(code)
        if self.head is None:
            return recon
        return cat([recon, self.head(code)], dim=1)


class Autoencoder(TransformerMixin, BaseEstimator):
    """An autoencoder trained to reproduce its input through a small code.

    encoder: ``nn.Linear`` layers d -> ``hidden_layer_sizes`` -> ``code_size``, each
    followed by ``activation``; decoder: the mirror image back to d, linear at the output.
    With ``hidden_layer_sizes=()`` this is the lectures' network
    $Z = \\mathrm{ReLU}(X W_1 + b_1)$, $Y = Z W_2 + b_2$.

    ``fit(X)`` minimises the reconstruction error ``F.mse_loss(Y, X)``. ``fit(X, y)`` with
    labels adds a classifier head on the code, $C = \\mathrm{softmax}(Z W_3 + b_3)$, and
    trains everything on the sum $\\mathrm{MSE}(Y, X) + w\\,\\mathrm{CE}(C, y)$ with
    $w$ = ``classifier_weight``; ``predict``/``predict_proba``/``score`` then classify.
    Training: ``solver`` 'adam' or 'sgd' at ``learning_rate_init``, mini-batches of
    ``batch_size`` ('auto' = min(200, n)), at most ``max_iter`` epochs through
    ``ds.train.fit``, stopping when the loss has not improved by ``tol`` for more than
    ``n_iter_no_change`` epochs (scikit-learn's rule). Scale X first (standardise).

    Learned: ``n_features_in_``, ``loss_curve_``, ``n_iter_``, ``model_`` (the
    ``AutoencoderNet``: ``.encoder``, ``.decoder``, ``.head``), and with labels
    ``classes_``.

    >>> X, y = ds.datasets.load_iris(return_X_y=True)
    >>> ae = ds.models.Autoencoder(code_size=2, random_state=0).fit((X - X.mean(0)) / X.std(0))
    >>> ae.transform(X[:3]).shape
    (3, 2)
    """

    def __init__(
        self,
        code_size: int = 16,
        hidden_layer_sizes=(),
        activation: str = "relu",
        classifier_weight: float = 1.0,
        solver: str = "adam",
        learning_rate_init: float = 1e-3,
        batch_size="auto",
        max_iter: int = 200,
        tol: float = 1e-4,
        n_iter_no_change: int = 10,
        shuffle: bool = True,
        dtype: str = "float32",
        random_state=None,
        verbose: int = 0,
    ):
        self.code_size = code_size
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.classifier_weight = classifier_weight
        self.solver = solver
        self.learning_rate_init = learning_rate_init
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.shuffle = shuffle
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose

    def _build(self, d: int, n_classes: int, rng, dtype) -> AutoencoderNet:
        hidden = self.hidden_layer_sizes
        hidden = [hidden] if isinstance(hidden, (int, np.integer)) else list(hidden)
        sizes = [d, *hidden, int(self.code_size)]
        encoder = build_mlp(sizes, self.activation, rng=rng, dtype=dtype, activate_output=True)
        decoder = build_mlp(sizes[::-1], self.activation, rng=rng, dtype=dtype)
        head = None
        if n_classes:  # one nn.Linear, initialised as the other layers
            head = build_mlp([sizes[-1], n_classes], self.activation, rng=rng, dtype=dtype)[0]
        return AutoencoderNet(encoder, decoder, head)

    def fit(self, X, y=None) -> Autoencoder:  # noqa: N803 - scikit-learn's X
        """Fit to X (n, d); with labels y (n,) also train the classifier head. Returns self."""
        check_positive(self, "code_size", integer=True)
        check_choice(self, "activation", ESTIMATOR_ACTIVATIONS)
        check_positive(self, "classifier_weight", zero=True)
        check_positive(self, "learning_rate_init")
        check_positive(self, "max_iter", integer=True)
        check_positive(self, "tol", zero=True)
        check_positive(self, "n_iter_no_change", integer=True)
        x = check_data(self, X, reset=True)
        d = x.shape[1]
        target = x
        n_classes = 0
        if y is not None:
            self.classes_, index = check_labels(self, y, len(x))
            n_classes = len(self.classes_)
            target = np.hstack([x, np.eye(n_classes)[index]])  # (n, d + C)
        elif hasattr(self, "classes_"):
            del self.classes_  # a refit without labels has no head
        dtype = float_dtype(self)
        rng = make_rng(self.random_state)
        model = self._build(d, n_classes, rng, dtype)
        weight = float(self.classifier_weight)

        def loss_fn(out, t):
            if not n_classes:
                return F.mse_loss(out, t)
            recon = F.mse_loss(out[:, :d], t[:, :d])
            return recon + weight * F.cross_entropy(out[:, d:], t[:, d:])

        stop = stop_on_plateau(self)
        optimizer = make_optimizer(self, model.parameters(), self.solver,
                                   float(self.learning_rate_init))  # fmt: skip
        train_module(
            self, model, loss_fn, optimizer, x, target, dtype=dtype, epochs=self.max_iter,
            batch_size=resolve_batch_size(self, self.batch_size, len(x)), rng=rng,
            callbacks=[stop],
        )  # fmt: skip
        if stop.stopped_epoch is None:
            warnings.warn(
                f"Autoencoder: stopped at max_iter={self.max_iter} epochs before the loss "
                f"settled (tol={self.tol}); raise max_iter",
                sklearn_flavoured(ConvergenceWarning),
                stacklevel=2,
            )
        return self

    def transform(self, X) -> np.ndarray:  # noqa: N803
        """The codes of X, (n, code_size)."""
        check_is_fitted(self, "model_")
        x = check_data(self, X, reset=False, method="transform")
        return predict_forward(self.model_.encoder, x)

    def inverse_transform(self, Z) -> np.ndarray:  # noqa: N803
        """Decode codes Z (n, code_size) back to inputs, (n, n_features_in_)."""
        check_is_fitted(self, "model_")
        z = check_array(Z, "Autoencoder.inverse_transform")
        if z.shape[1] != self.code_size:
            raise ValueError(
                f"Autoencoder.inverse_transform: Z has {z.shape[1]} columns, but the code has "
                f"code_size={self.code_size}"
            )
        return predict_forward(self.model_.decoder, z)

    def reconstruct(self, X) -> np.ndarray:  # noqa: N803
        """``inverse_transform(transform(X))``: X passed through the whole autoencoder."""
        return self.inverse_transform(self.transform(X))

    def reconstruction_error(self, X) -> float:  # noqa: N803
        """The mean squared error between X and its reconstruction (the training loss
        without the head's term)."""
        check_is_fitted(self, "model_")
        x = check_data(self, X, reset=False, method="reconstruction_error")
        return float(np.mean((self.reconstruct(x) - x) ** 2))

    def _logits(self, X, method: str) -> np.ndarray:  # noqa: N803
        check_is_fitted(self, "model_")
        if self.model_.head is None:
            raise AttributeError(
                f"Autoencoder.{method}: this autoencoder has no classifier head; fit it with "
                f"labels, fit(X, y), to classify"
            )
        z = self.transform(X)
        return predict_forward(self.model_.head, z)

    def predict_proba(self, X) -> np.ndarray:  # noqa: N803
        """(n, C) class probabilities from the head (softmax of its logits)."""
        logits = self._logits(X, "predict_proba")
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, X) -> np.ndarray:  # noqa: N803
        """The head's most probable label in ``classes_``."""
        logits = self._logits(X, "predict")
        return self.classes_[logits.argmax(axis=1)]

    def _module_builders(self) -> dict:
        check_is_fitted(self, "model_")
        net = self.model_

        def part(name):
            return copy.deepcopy(getattr(net, name))

        builders = {
            "transform": lambda: part("encoder"),
            "reconstruct": lambda: nn.Sequential(part("encoder"), part("decoder")),
        }
        if net.head is not None:
            builders["predict_proba"] = lambda: nn.Sequential(
                part("encoder"), part("head"), nn.Softmax(1)
            )
            builders["predict"] = lambda: nn.Sequential(
                part("encoder"), part("head"), ClassLabels(self.classes_)
            )
        return builders

    def score(self, X, y) -> float:  # noqa: N803
        """The head's accuracy on (X, y)."""
        return float(np.mean(self.predict(X) == as_labels(y, "Autoencoder.score")))
