"""One step as a user writes it, the same code for descent and PyTorch: models, training, chain.

The models are built from ``ds.nn`` or ``torch.nn``, whose layer names and signatures are
the same, and trained with ``F.cross_entropy`` or ``F.binary_cross_entropy_with_logits``
and ``optim.SGD``.

NOTE: descent and torch are imported inside the builders that need them, so that a
peak-memory child (``peak_child``) measures one framework without the other's memory.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .problems import ChainProblem, CNNProblem, MLPProblem


def to_numpy(value) -> np.ndarray:
    """A descent Tensor, torch tensor or array as a NumPy array (a copy)."""
    if hasattr(value, "detach"):
        value = value.detach().numpy()
    return np.array(value)


def mlp_model(nn, problem: MLPProblem):
    """Linear layers with the activation between them, from ``nn`` (``ds.nn`` or ``torch.nn``)."""
    activation = {"relu": nn.ReLU, "tanh": nn.Tanh}[problem.activation]
    layers = []
    for k, w in enumerate(problem.weights[0::2]):
        if k:
            layers.append(activation())
        layers.append(nn.Linear(w.shape[1], w.shape[0]))
    return nn.Sequential(*layers)


def cnn_model(nn, problem: CNNProblem):
    """The workload's CNN from ``nn`` (``ds.nn`` or ``torch.nn``)."""
    return nn.Sequential(
        nn.Conv2d(1, 8, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 10),
    )


def _loss_function(F, loss: str):
    """The loss of a problem from ``F`` (``ds.nn.functional`` or ``torch.nn.functional``)."""
    return F.cross_entropy if loss == "cross_entropy" else F.binary_cross_entropy_with_logits


def _check_shapes(params: list, weights: list) -> None:
    shapes = [tuple(p.shape) for p in params]
    wanted = [w.shape for w in weights]
    if shapes != wanted:
        raise ValueError(f"model parameters {shapes} do not match the problem's {wanted}")


class TrainingStep:
    """One SGD step as a PyTorch user writes it: zero_grad, forward, loss, backward, update."""

    def __init__(self, model, loss_fn: Callable, optimizer, x, y):
        self.model, self.loss_fn, self.optimizer = model, loss_fn, optimizer
        self.x, self.y = x, y
        self.args = (x, y)  # what ``run`` takes, for ``CompiledStep``

    def run(self, x, y):
        """The step's body, a function of the batch (the function ``ds.compile`` gets)."""
        self.optimizer.zero_grad()
        loss = self.loss_fn(self.model(x), y)
        loss.backward()
        self.optimizer.step()
        return loss

    def step(self):
        return self.run(self.x, self.y)

    def state(self) -> list:
        return [to_numpy(p) for p in self.model.parameters()]


class ChainStep:
    """The ops-tiny step: clear x's gradient, the chain of ops, backward from the output."""

    def __init__(self, x, a, b, ones, kinds: tuple):
        self.x, self.a, self.b, self.ones, self.kinds = x, a, b, ones, kinds
        self.args = (x, a, b)  # what ``run`` takes, for ``CompiledStep``

    def run(self, x, a, b):
        """The step's body, a function of its tensors (the function ``ds.compile`` gets)."""
        x.grad = None
        y = x
        for kind in self.kinds:
            if kind == "mul":
                y = y * a
            elif kind == "add":
                y = y + b
            else:
                y = y.tanh()
        y.backward(self.ones)
        return y

    def step(self):
        return self.run(self.x, self.a, self.b)

    def state(self) -> list:
        return [to_numpy(self.x.grad)]


class CompiledStep:
    """An eager step's body given to ``ds.compile`` once; each step calls what it returns.

    ``ds.compile(fn)`` traces ``fn`` and replays it, equal to eager bit for bit; the
    compiled function takes ``fn``'s arguments and returns what ``fn`` returns.
    """

    def __init__(self, eager, compile_fn: Callable):
        self.eager = eager
        self.run = compile_fn(eager.run)
        self.args = eager.args

    def step(self):
        return self.run(*self.args)

    def state(self) -> list:
        return self.eager.state()


def descent_compile() -> Callable | None:
    """``ds.compile``, or None while descent has none."""
    import descent as ds  # not at the top: the NOTE at the top says why  # noqa: PLC0415

    return getattr(ds, "compile", None)


def compiled(eager_builder: Callable, *args) -> CompiledStep:
    """The step that ``eager_builder(*args)`` builds, given to ``ds.compile``."""
    compile_fn = descent_compile()
    if compile_fn is None:
        raise RuntimeError("descent has no compile (ds.compile) yet")
    return CompiledStep(eager_builder(*args), compile_fn)


def descent_training(model_fn: Callable, problem) -> TrainingStep:
    """``model_fn(ds.nn, problem)`` with the problem's weights, trained by ``ds.optim.SGD``."""
    import descent as ds  # not at the top: the NOTE at the top says why  # noqa: PLC0415

    model = model_fn(ds.nn, problem)
    params = list(model.parameters())
    _check_shapes(params, problem.weights)
    for p, w in zip(params, problem.weights):
        np.copyto(p._data, w)
    loss_fn = _loss_function(ds.nn.functional, problem.loss)
    optimizer = ds.optim.SGD(params, lr=problem.lr)
    return TrainingStep(model, loss_fn, optimizer, ds.tensor(problem.x), ds.tensor(problem.y))


def torch_training(model_fn: Callable, problem) -> TrainingStep:
    """``model_fn(torch.nn, problem)`` with the problem's weights, trained by torch's SGD."""
    import torch  # optional  # noqa: PLC0415

    model = model_fn(torch.nn, problem)
    params = list(model.parameters())
    _check_shapes(params, problem.weights)
    with torch.no_grad():
        for p, w in zip(params, problem.weights):
            p.copy_(torch.from_numpy(w))
    loss_fn = _loss_function(torch.nn.functional, problem.loss)
    optimizer = torch.optim.SGD(params, lr=problem.lr)
    x, y = torch.from_numpy(problem.x.copy()), torch.from_numpy(problem.y.copy())
    return TrainingStep(model, loss_fn, optimizer, x, y)


def descent_chain(problem: ChainProblem) -> ChainStep:
    import descent as ds  # not at the top: the NOTE at the top says why  # noqa: PLC0415

    x = ds.tensor(problem.x, requires_grad=True)
    a, b, ones = ds.tensor(problem.a), ds.tensor(problem.b), ds.ones(*problem.x.shape)
    return ChainStep(x, a, b, ones, problem.kinds)


def torch_chain(problem: ChainProblem) -> ChainStep:
    import torch  # optional  # noqa: PLC0415

    x = torch.tensor(problem.x, requires_grad=True)
    a, b, ones = torch.tensor(problem.a), torch.tensor(problem.b), torch.ones(problem.x.shape)
    return ChainStep(x, a, b, ones, problem.kinds)
