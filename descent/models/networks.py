"""The networks the estimators train: the activation table, the MLP builder, their inits."""

from __future__ import annotations

import numpy as np

from .. import nn

__all__ = [
    "ACTIVATIONS", "ESTIMATOR_ACTIVATIONS", "build_mlp", "glorot_init", "zero_init",
    "linear_weights", "linear_from",
]  # fmt: skip

# 'logistic' is scikit-learn's name for the sigmoid, 'sigmoid' PyTorch's
ACTIVATIONS = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "logistic": nn.Sigmoid,
    "sigmoid": nn.Sigmoid,
    "identity": nn.Identity,
}
# The names the estimators take: scikit-learn's own, so one concept has one name there
ESTIMATOR_ACTIVATIONS = ("identity", "logistic", "tanh", "relu")


def build_mlp(
    sizes, activation: str = "relu", *, rng: np.random.Generator | None = None, dtype=None,
    dropout: float = 0.0, activate_output: bool = False,
) -> nn.Sequential:  # fmt: skip
    """``nn.Linear`` layers of ``sizes`` (inputs, hidden..., outputs) with ``activation``
    (a name in ``ACTIVATIONS``) and, if ``dropout``, ``nn.Dropout`` after each hidden one;
    ``activate_output`` activates the last layer too.

    With ``rng`` the layers start as scikit-learn's MLP (``glorot_init``, drawn in layer
    order), otherwise with ``nn.Linear``'s own init.

    >>> build_mlp([4, 8, 3], "tanh")
    Sequential(
      (0): Linear(in_features=4, out_features=8, bias=True)
      (1): Tanh()
      (2): Linear(in_features=8, out_features=3, bias=True)
    )
    """
    act = ACTIVATIONS[activation]
    gain = 2.0 if act is nn.Sigmoid else 6.0  # scikit-learn's Glorot gain
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        linear = nn.Linear(int(n_in), int(n_out), dtype=dtype)
        if rng is not None:
            glorot_init(linear, rng, gain)
        layers.append(linear)
        if activate_output or i < len(sizes) - 2:
            layers.append(act())
            if dropout:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


def glorot_init(layer, rng: np.random.Generator, gain: float = 6.0) -> None:
    """Weights and bias uniform on $\\pm\\sqrt{gain / (fan_{in} + fan_{out})}$, drawn from
    ``rng`` (scikit-learn's MLP init: gain 6, or 2 for logistic units)."""
    bound = np.sqrt(gain / (layer.in_features + layer.out_features))
    dtype = layer.weight._data.dtype
    layer.weight._data[...] = rng.uniform(-bound, bound, layer.weight.shape).astype(dtype)
    if layer.bias is not None:
        layer.bias._data[...] = rng.uniform(-bound, bound, layer.bias.shape).astype(dtype)


def zero_init(layer) -> None:
    layer.weight._data[...] = 0
    if layer.bias is not None:
        layer.bias._data[...] = 0


def linear_from(coef: np.ndarray, intercept) -> nn.Linear:
    """An ``nn.Linear`` (float64) holding ``coef`` (k, d) and ``intercept`` (k,), the
    learned arrays of a linear estimator (a 1-D coef is one output)."""
    coef = np.atleast_2d(np.asarray(coef, np.float64))
    layer = nn.Linear(coef.shape[1], coef.shape[0], dtype="float64")
    layer.weight._data[...] = coef
    layer.bias._data[...] = np.broadcast_to(np.asarray(intercept, np.float64), (coef.shape[0],))
    return layer


def linear_weights(layer, fit_intercept: bool) -> tuple[np.ndarray, np.ndarray]:
    """(``coef_``, ``intercept_``) of a trained ``nn.Linear`` as float64 arrays; a layer
    without a bias has zero intercepts."""
    coef = layer.weight.numpy().astype(np.float64)
    intercept = layer.bias.numpy().astype(np.float64) if fit_intercept else np.zeros(len(coef))
    return coef, intercept
