"""The data and starting weights of each workload, as float32 NumPy arrays from one seed.

NOTE: only NumPy is imported at the top, so that a peak-memory child can load this file
without descent (see ``peak_child``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

F32 = np.float32


def _uniform(rng: np.random.Generator, shape: tuple, fan_in: int) -> np.ndarray:
    """PyTorch's default init for Linear and Conv2d: uniform on +-1/sqrt(fan_in)."""
    bound = 1.0 / np.sqrt(fan_in)
    return rng.uniform(-bound, bound, shape).astype(F32)


def _linear_weights(rng: np.random.Generator, sizes: tuple) -> list:
    """[W1, b1, W2, b2, ...] of linear layers ``sizes[0] -> sizes[1] -> ...``, W as (out, in)."""
    weights = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        weights += [_uniform(rng, (n_out, n_in), n_in), _uniform(rng, (n_out,), n_in)]
    return weights


@dataclass
class MLPProblem:
    """A fully connected net: ``weights`` is [W1, b1, W2, b2, ...] with W as (out, in)."""

    weights: list
    x: np.ndarray  # (N, in) float32
    y: np.ndarray  # (N,) int64 classes for 'cross_entropy'; (N, 1) float32 0/1 for 'bce'
    lr: float
    activation: str  # 'relu' or 'tanh', between the linear layers
    loss: str  # 'cross_entropy' (softmax) or 'bce' (binary cross-entropy with logits)


@dataclass
class CNNProblem:
    """conv 1->8 3x3, ReLU, pool 2, conv 8->16 3x3, ReLU, pool 2, linear 400->10.

    ``weights`` is [conv1 W (8, 1, 3, 3), b, conv2 W (16, 8, 3, 3), b, linear W (10, 400), b].
    """

    weights: list
    x: np.ndarray  # (N, 1, 28, 28) float32
    y: np.ndarray  # (N,) int64
    lr: float
    loss: str = "cross_entropy"


@dataclass
class ChainProblem:
    """``kinds[i]`` is applied to the running value: 'mul' by a, 'add' b, or 'tanh'."""

    x: np.ndarray
    a: np.ndarray
    b: np.ndarray
    kinds: tuple


def mlp_problem(
    seed: int = 0, batch: int = 128, lr: float = 0.01, sizes: tuple = (784, 512, 512, 10)
) -> MLPProblem:
    """MLP 784-512-512-10 (or ``sizes``), ReLU, softmax cross-entropy, on random data in
    [0, 1) (of MNIST's shape by default)."""
    rng = np.random.default_rng(seed)
    weights = _linear_weights(rng, sizes)
    x = rng.random((batch, sizes[0]), dtype=F32)  # pixels in [0, 1)
    y = rng.integers(0, sizes[-1], batch, dtype=np.int64)
    return MLPProblem(weights, x, y, lr, "relu", "cross_entropy")


def tiny_mlp_problem(seed: int = 0, lr: float = 0.1) -> MLPProblem:
    """MLP 2-16-16-1, tanh, binary cross-entropy with logits, on 100 two-moons points."""
    # NOTE: here, not at the top: the peak-memory child of NumPy or torch must not load descent
    from descent.datasets import make_moons  # noqa: PLC0415

    rng = np.random.default_rng(seed)
    weights = _linear_weights(rng, (2, 16, 16, 1))
    x, labels = make_moons(100, noise=0.1, seed=seed)
    y = labels.astype(F32).reshape(-1, 1)
    return MLPProblem(weights, x, y, lr, "tanh", "bce")


def cnn_problem(seed: int = 0, batch: int = 64, lr: float = 0.01) -> CNNProblem:
    """The small CNN on random 28x28 images (no padding: 28 -> 26 -> 13 -> 11 -> 5)."""
    rng = np.random.default_rng(seed)
    weights = [
        _uniform(rng, (8, 1, 3, 3), 1 * 9),
        _uniform(rng, (8,), 1 * 9),
        _uniform(rng, (16, 8, 3, 3), 8 * 9),
        _uniform(rng, (16,), 8 * 9),
        _uniform(rng, (10, 16 * 5 * 5), 16 * 5 * 5),
        _uniform(rng, (10,), 16 * 5 * 5),
    ]
    x = rng.random((batch, 1, 28, 28), dtype=F32)
    y = rng.integers(0, 10, batch, dtype=np.int64)
    return CNNProblem(weights, x, y, lr)


def chain_problem(seed: int = 0, n_ops: int = 200) -> ChainProblem:
    """200 ops on a (4, 4) tensor: tanh every 10th, otherwise mul and add in turn."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((4, 4), dtype=F32)
    a = rng.uniform(0.9, 1.1, (4, 4)).astype(F32)  # near 1, so the chain neither dies
    b = rng.uniform(-0.1, 0.1, (4, 4)).astype(F32)  # nor blows up
    kinds = tuple("tanh" if i % 10 == 9 else ("mul" if i % 2 == 0 else "add") for i in range(n_ops))
    return ChainProblem(x, a, b, kinds)
