"""The losses ``fit`` takes by name: descent's (PyTorch's) and Keras's.

descent's names follow PyTorch: ``'cross_entropy'`` takes logits and class indices,
``'binary_cross_entropy'`` probabilities. Keras's names follow Keras, whose string losses
take the model's *probabilities* (a softmax or sigmoid output layer), as a Keras program
is written:

- ``'sparse_categorical_crossentropy'``: probabilities (N, C), class indices (N,) or (N, 1);
- ``'categorical_crossentropy'``: probabilities (N, C), one-hot (or soft) targets (N, C);
- ``'binary_crossentropy'``: probabilities, targets in [0, 1] of the same shape (a target
  of shape (N,) beside an output (N, 1) gets the missing axis, as Keras gives it).

As Keras computes them, the probabilities are divided by their sum over the classes
(categorical) and clipped to [1e-7, 1 - 1e-7] before the log, so a probability of 0 gives
a large finite loss rather than inf. Each takes ``from_logits=True`` for a model that ends
without the softmax or sigmoid (``ds.keras.losses`` has Keras's classes with that option).
Every function here takes ``(pred, target)``, descent's order (Keras's is
``(y_true, y_pred)``; ``ds.keras`` turns it round).
"""

from __future__ import annotations

from ..nn import functional as F
from ..tensor import Tensor

__all__ = [
    "LOSSES", "loss_function", "sparse_categorical_crossentropy", "categorical_crossentropy",
    "binary_crossentropy",
]  # fmt: skip

# Keras's epsilon (keras.config.epsilon()), the clip of probabilities before their log.
EPSILON = 1e-7


def _clipped_log(p: Tensor) -> Tensor:
    return p.clamp(EPSILON, 1.0 - EPSILON).log()


def _check_probabilities(pred: Tensor, target: Tensor, who: str, targets: str) -> None:
    if pred.ndim != 2:
        raise ValueError(
            f"{who}: the model's output must be (N, C) class probabilities, got shape "
            f"{tuple(pred.shape)}"
        )
    if targets == "indices" and tuple(target.shape) not in ((pred.shape[0],), (pred.shape[0], 1)):
        raise ValueError(
            f"{who}: the targets must be N class indices, shape ({pred.shape[0]},) or "
            f"({pred.shape[0]}, 1), for an output of shape {tuple(pred.shape)}; got "
            f"{tuple(target.shape)} (one-hot targets take 'categorical_crossentropy')"
        )
    if targets == "one-hot" and tuple(target.shape) != tuple(pred.shape):
        raise ValueError(
            f"{who}: the targets must be one-hot, of the output's shape {tuple(pred.shape)}; "
            f"got {tuple(target.shape)} (class indices take 'sparse_categorical_crossentropy')"
        )


def sparse_categorical_crossentropy(pred: Tensor, target: Tensor, from_logits: bool = False):
    """$-\\frac{1}{N}\\sum_i \\log p_{i, y_i}$ of probabilities p, class indices y (Keras)."""
    who = "sparse_categorical_crossentropy"
    _check_probabilities(pred, target, who, "indices")
    target = target.reshape(-1)
    if from_logits:
        return F.cross_entropy(pred, target)
    return F.nll_loss(_clipped_log(pred / pred.sum(dim=-1, keepdim=True)), target)


def categorical_crossentropy(pred: Tensor, target: Tensor, from_logits: bool = False):
    """$-\\frac{1}{N}\\sum_i \\sum_c t_{ic} \\log p_{ic}$ of probabilities p, one-hot t (Keras)."""
    _check_probabilities(pred, target, "categorical_crossentropy", "one-hot")
    if from_logits:
        log_p = F.log_softmax(pred, dim=-1)
    else:
        log_p = _clipped_log(pred / pred.sum(dim=-1, keepdim=True))
    return -(target * log_p).sum(dim=-1).mean()


def binary_crossentropy(pred: Tensor, target: Tensor, from_logits: bool = False):
    """$-\\mathrm{mean}(t \\log p + (1 - t) \\log(1 - p))$ of probabilities p (Keras)."""
    if target.ndim == pred.ndim - 1 and pred.shape[-1] == 1:
        target = target.reshape(*target.shape, 1)  # Keras's expand of y_true to y_pred's rank
    if tuple(target.shape) != tuple(pred.shape):
        raise ValueError(
            f"binary_crossentropy: the targets' shape {tuple(target.shape)} differs from the "
            f"output's {tuple(pred.shape)}; give one target in [0, 1] per output"
        )
    target = target.to(pred.dtype)
    if from_logits:
        return F.binary_cross_entropy_with_logits(pred, target)
    return -(target * _clipped_log(pred) + (1 - target) * _clipped_log(1 - pred)).mean()


LOSSES = {
    # descent's (PyTorch's functional names)
    "mse": F.mse_loss,
    "mse_loss": F.mse_loss,
    "l1": F.l1_loss,
    "mae": F.l1_loss,
    "l1_loss": F.l1_loss,
    "cross_entropy": F.cross_entropy,
    "binary_cross_entropy": F.binary_cross_entropy,
    "binary_cross_entropy_with_logits": F.binary_cross_entropy_with_logits,
    "multiclass_hinge_loss": F.multiclass_hinge_loss,
    # Keras's (probabilities in)
    "mean_squared_error": F.mse_loss,
    "mean_absolute_error": F.l1_loss,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
    "categorical_crossentropy": categorical_crossentropy,
    "binary_crossentropy": binary_crossentropy,
}


def loss_function(loss_fn, who: str = "fit"):
    """``loss_fn`` itself when it is callable, else the loss of that name."""
    if callable(loss_fn):
        return loss_fn
    try:
        return LOSSES[loss_fn]
    except (KeyError, TypeError):
        raise ValueError(
            f"{who}: unknown loss {loss_fn!r}; pass a function (pred, target) -> scalar Tensor "
            f"or one of {sorted(LOSSES)} (the Keras names, such as "
            f"'sparse_categorical_crossentropy', take probabilities; 'cross_entropy' logits)"
        ) from None
