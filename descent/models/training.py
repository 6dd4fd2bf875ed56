"""The bridge from an estimator to ``ds.train.fit``: generators, optimizers, stopping, forward.

Every gradient-based model trains an ``nn`` Module with an ``optim`` optimizer through
``ds.train.fit`` (``train_module``); nothing here repeats that loop by hand.
"""

from __future__ import annotations

import copy
import numbers

import numpy as np

from .. import random as _random
from ..autograd import no_grad
from ..data import TensorDataset
from ..optim import SGD, Adam
from ..tensor import tensor
from ..train import EarlyStopping, History, fit

__all__ = [
    "make_rng", "make_optimizer", "stop_on_plateau", "train_module", "forward",
    "predict_forward",
]  # fmt: skip


def make_rng(random_state) -> np.random.Generator:
    """A NumPy Generator for ``random_state``: an int seeds it, a Generator is used as is,
    and None draws a seed from descent's generator (so ``ds.manual_seed`` repeats runs)."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None:
        return np.random.default_rng(int(_random.generator().integers(2**63)))
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        return np.random.default_rng(int(random_state))
    raise TypeError(f"random_state must be None, an int or a numpy Generator, got {random_state!r}")


def make_optimizer(estimator, params, solver: str, lr: float, momentum: float = 0.9,
                   nesterov: bool = False, betas=(0.9, 0.999), eps: float = 1e-8):  # fmt: skip
    """'adam' -> Adam(lr, betas, eps); 'sgd' -> SGD(lr, momentum) (Nesterov's if asked and
    momentum > 0)."""
    params = list(params)
    if solver == "adam":
        return Adam(params, lr=lr, betas=(float(betas[0]), float(betas[1])), eps=float(eps))
    if solver == "sgd":
        return SGD(params, lr=lr, momentum=momentum, nesterov=bool(nesterov and momentum > 0))
    raise ValueError(f"{type(estimator).__name__}: solver={solver!r} is not one of ['adam', 'sgd']")


def stop_on_plateau(estimator) -> EarlyStopping:
    """scikit-learn's stopping rule on the training loss: stop once the loss has failed to
    drop below ``best - tol`` for more than ``n_iter_no_change`` epochs in a row."""
    return EarlyStopping(
        "loss", mode="min", patience=int(estimator.n_iter_no_change), tol=estimator.tol
    )


def train_module(
    estimator, model, loss_fn, optimizer, x: np.ndarray, target: np.ndarray, *, dtype,
    epochs: int, batch_size: int, rng: np.random.Generator, callbacks=(), scheduler=None,
    compile: bool = False,  # noqa: A002 - fit's keyword
) -> History:  # fmt: skip
    """Train ``model`` on (x, target) with ``ds.train.fit`` as ``estimator`` says (its
    ``verbose`` and ``shuffle``); set its ``model_``, ``loss_curve_`` (the epochs' mean
    training loss) and ``n_iter_``, and return the History.

    x becomes a ``dtype`` Tensor; a floating target too, integer targets (class indices)
    stay int64. The DataLoader's shuffling seed comes from ``rng``. ``compile=True``
    replays each batch's step (``ds.compile``): the same numbers, less time.
    """
    xt = tensor(x, dtype=dtype)
    yt = tensor(target, dtype=dtype if target.dtype.kind == "f" else np.int64)
    history = fit(
        model, loss_fn, optimizer, TensorDataset(xt, yt), epochs=int(epochs),
        batch_size=int(batch_size), callbacks=list(callbacks), shuffle=estimator.shuffle,
        seed=int(rng.integers(2**63)), scheduler=scheduler, verbose=int(estimator.verbose),
        compile=compile,
    )  # fmt: skip
    estimator.model_ = model
    estimator.loss_curve_ = [float(v) for v in history["loss"]]
    estimator.n_iter_ = len(history)
    return history


def forward(model, x: np.ndarray, dtype) -> np.ndarray:
    """``model(x)`` in eval mode without a graph, as a NumPy array."""
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            return model(tensor(x, dtype=dtype)).numpy()
    finally:
        model.train(was_training)


def predict_forward(model, x: np.ndarray) -> np.ndarray:
    """``model(x)`` for a prediction: float64 arithmetic from the trained weights, whatever
    dtype trained them.

    NOTE: a matrix product can round a row differently alone than inside a batch. In
    float32 that moves a prediction by 1e-7 relative, enough to fail scikit-learn's
    check_methods_subset_invariance; in float64 it stays near 1e-16.
    """
    return forward(copy.deepcopy(model).double(), x, np.float64)
