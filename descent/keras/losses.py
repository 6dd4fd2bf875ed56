"""Keras's loss classes, called as Keras calls them: ``loss(y_true, y_pred)``.

Each is the loss of the same name that ``ds.train.fit`` takes as a string, with Keras's
options: ``from_logits=False`` (the model's output is probabilities, from a softmax or
sigmoid layer) or True (the model ends with its last linear layer). The mean over the
batch is Keras's default reduction ('sum_over_batch_size'), the only one taken here.

>>> model.compile("adam", loss=ds.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
"""

from __future__ import annotations

from ..nn import functional as F
from ..train import losses as _losses

__all__ = [
    "Loss", "MeanSquaredError", "MeanAbsoluteError", "SparseCategoricalCrossentropy",
    "CategoricalCrossentropy", "BinaryCrossentropy",
]  # fmt: skip


class Loss:
    """Base class: ``call(y_pred, y_true)`` in descent's order; ``loss(y_true, y_pred)``
    in Keras's."""

    def __init__(self, reduction: str = "sum_over_batch_size", name: str | None = None):
        if reduction != "sum_over_batch_size":
            raise ValueError(
                f"{type(self).__name__}: only Keras's default reduction, 'sum_over_batch_size' "
                f"(the mean over the batch), is supported; got {reduction!r}"
            )
        self.reduction = reduction
        self.name = name or type(self).__name__

    def __call__(self, y_true, y_pred):
        return self.call(y_pred, y_true)

    def call(self, y_pred, y_true):
        raise NotImplementedError


class MeanSquaredError(Loss):
    """mean((y_pred - y_true)^2)."""

    def call(self, y_pred, y_true):
        return F.mse_loss(y_pred, y_true)


class MeanAbsoluteError(Loss):
    """mean(|y_pred - y_true|)."""

    def call(self, y_pred, y_true):
        return F.l1_loss(y_pred, y_true)


class _WithLogits(Loss):
    function = None  # the loss of ds.train's table, (pred, target, from_logits)

    def __init__(self, from_logits: bool = False, reduction="sum_over_batch_size", name=None):
        super().__init__(reduction, name)
        self.from_logits = bool(from_logits)

    def call(self, y_pred, y_true):
        return type(self).function(y_pred, y_true, from_logits=self.from_logits)


class SparseCategoricalCrossentropy(_WithLogits):
    """Class indices (N,) against (N, C) probabilities (or logits with from_logits)."""

    function = staticmethod(_losses.sparse_categorical_crossentropy)


class CategoricalCrossentropy(_WithLogits):
    """One-hot targets (N, C) against (N, C) probabilities (or logits with from_logits)."""

    function = staticmethod(_losses.categorical_crossentropy)


class BinaryCrossentropy(_WithLogits):
    """Targets in [0, 1] against probabilities (or logits with from_logits)."""

    function = staticmethod(_losses.binary_crossentropy)
