"""The benchmark workloads: each one computation with one builder per framework.

A workload's ``make_problem(seed)`` draws its data and starting weights as float32 NumPy
arrays (``problems``). Each framework's builder turns that problem into an object with two
methods:

    step()   one step, the thing the benchmark times; returns the loss (or the output)
    state()  the arrays a test compares across frameworks, as NumPy arrays in PyTorch's
             layouts: the weights after the steps taken, or the input's gradient

so the implementations start from the same numbers and are checked against each other
(tests/test_bench.py) before they are timed against each other (``timing``). descent and
PyTorch run the very same user code (``steps``), and 'compiled' is that descent code given
to ``ds.compile``; JAX's step is the same math compiled by ``jax.jit`` (``jax_steps``); the
NumPy step is written out by hand (``reference``).

NOTE: only NumPy is imported at the top of this file and of those it imports, so that a
peak-memory child (``peak_child``) measures one framework without the others' memory.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from .jax_steps import jax_chain, jax_cnn, jax_mlp
from .problems import chain_problem, cnn_problem, mlp_problem, tiny_mlp_problem
from .reference import NumpyChain, NumpyCNN, NumpyMLP
from .steps import (
    cnn_model,
    compiled,
    descent_chain,
    descent_training,
    mlp_model,
    torch_chain,
    torch_training,
)

# The order each round times them in. 'compiled' is descent's step given to ds.compile;
# a workload without a builder for one of them shows n/a there.
FRAMEWORKS = ("descent", "compiled", "torch", "jax", "numpy")


@dataclass(frozen=True)
class Workload:
    """A timed computation: its problem and one builder per framework."""

    name: str
    summary: str
    unit: str  # how the table reports it: 'ms/step' or 'us/op'
    ops_per_step: int  # the step time is divided by this for 'us/op'
    make_problem: Callable
    builders: dict  # framework -> builder(problem) -> an object with step() and state();
    # a framework missing here is n/a in the workload's row

    def seconds_to_unit(self, seconds: float) -> float:
        scale = 1e3 if self.unit == "ms/step" else 1e6 / self.ops_per_step
        return seconds * scale


def _training_builders(model_fn: Callable, numpy_class: type, jax_builder: Callable) -> dict:
    return {
        "descent": functools.partial(descent_training, model_fn),
        "compiled": functools.partial(compiled, descent_training, model_fn),
        "torch": functools.partial(torch_training, model_fn),
        "jax": jax_builder,
        "numpy": numpy_class,
    }


_MLP = "MLP 784-512-512-10, ReLU, softmax cross-entropy, SGD step"
_CNN = "CNN conv8-pool-conv16-pool-linear on 28x28, batch 64, SGD step"
_OPS = "200 elementwise ops (mul, add, tanh) on (4, 4), forward + backward"
_TINY = "MLP 2-16-16-1, tanh, BCE with logits, full batch of 100 moons, SGD step"
MLP_BUILDERS = _training_builders(mlp_model, NumpyMLP, jax_mlp)
_CHAIN_BUILDERS = {
    "descent": descent_chain,
    "compiled": functools.partial(compiled, descent_chain),
    "torch": torch_chain,
    "jax": jax_chain,
    "numpy": NumpyChain,
}

WORKLOADS = {
    w.name: w
    for w in (
        Workload("mlp-b32", f"{_MLP}, batch 32", "ms/step", 1,
                 functools.partial(mlp_problem, batch=32), MLP_BUILDERS),
        Workload("mlp-b128", f"{_MLP}, batch 128", "ms/step", 1,
                 functools.partial(mlp_problem, batch=128), MLP_BUILDERS),
        Workload("mlp-b1024", f"{_MLP}, batch 1024", "ms/step", 1,
                 functools.partial(mlp_problem, batch=1024), MLP_BUILDERS),
        Workload("cnn-b64", _CNN, "ms/step", 1, cnn_problem,
                 _training_builders(cnn_model, NumpyCNN, jax_cnn)),
        Workload("ops-tiny", _OPS, "us/op", 200, chain_problem, _CHAIN_BUILDERS),
        Workload("tiny-mlp", _TINY, "ms/step", 1, tiny_mlp_problem, MLP_BUILDERS),
    )
}  # fmt: skip
