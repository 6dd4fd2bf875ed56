"""The benchmark workloads, each one computation written three ways: descent, PyTorch, NumPy.

A workload's ``make_problem(seed)`` draws its data and starting weights as float32 NumPy
arrays. Each framework's builder turns that problem into an object with two methods:

    step()   one step, the thing the benchmark times; returns the loss (or the output)
    state()  the arrays a test compares across frameworks, as NumPy arrays in PyTorch's
             layouts: the weights after the steps taken, or the input's gradient

so the three implementations start from the same numbers and are checked against each
other (tests/test_bench.py) before they are timed against each other (``runner``).

descent and PyTorch run the very same user code (``TrainingStep``, ``ChainStep``) on models
built from ``ds.nn`` or ``torch.nn``, whose layer names and signatures are the same. The
NumPy references are written out by hand, forward, backward and update, with every buffer
allocated once: the fastest plain NumPy we know how to write for the same computation.

NOTE: only NumPy is imported at the top. descent, torch and scikit-learn are imported
inside the functions that need them, so a peak-memory child (``peak_rss_child``) can load
this file by path and measure one framework without the others' memory.
"""

from __future__ import annotations

import functools
import inspect
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

FRAMEWORKS = ("descent", "torch", "numpy")
F32 = np.float32


def to_numpy(value) -> np.ndarray:
    """A descent Tensor, torch tensor or array as a NumPy array (a copy)."""
    if hasattr(value, "detach"):
        value = value.detach().numpy()
    return np.array(value)


def _uniform(rng: np.random.Generator, shape: tuple, fan_in: int) -> np.ndarray:
    """PyTorch's default init for Linear and Conv2d: uniform on +-1/sqrt(fan_in)."""
    bound = 1.0 / np.sqrt(fan_in)
    return rng.uniform(-bound, bound, shape).astype(F32)


# ---- problems: data and starting weights, NumPy only ----------------------------------------


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


def mlp_problem(seed: int = 0, batch: int = 128, lr: float = 0.01) -> MLPProblem:
    """MLP 784-512-512-10, ReLU, softmax cross-entropy, on random data of MNIST's shape."""
    rng = np.random.default_rng(seed)
    sizes = (784, 512, 512, 10)
    weights = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        weights += [_uniform(rng, (n_out, n_in), n_in), _uniform(rng, (n_out,), n_in)]
    x = rng.random((batch, sizes[0]), dtype=F32)  # pixels in [0, 1)
    y = rng.integers(0, sizes[-1], batch, dtype=np.int64)
    return MLPProblem(weights, x, y, lr, "relu", "cross_entropy")


def tiny_mlp_problem(seed: int = 0, lr: float = 0.1) -> MLPProblem:
    """MLP 2-16-16-1, tanh, binary cross-entropy with logits, on 100 two-moons points."""
    from descent.datasets import make_moons

    rng = np.random.default_rng(seed)
    sizes = (2, 16, 16, 1)
    weights = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        weights += [_uniform(rng, (n_out, n_in), n_in), _uniform(rng, (n_out,), n_in)]
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


# ---- descent and PyTorch: the same user code on either framework ----------------------------


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

    def step(self):
        self.optimizer.zero_grad()
        loss = self.loss_fn(self.model(self.x), self.y)
        loss.backward()
        self.optimizer.step()
        return loss

    def state(self) -> list:
        return [to_numpy(p) for p in self.model.parameters()]


class ChainStep:
    """The ops-tiny step: clear x's gradient, the chain of ops, backward from the output."""

    def __init__(self, x, a, b, ones, kinds: tuple):
        self.x, self.a, self.b, self.ones, self.kinds = x, a, b, ones, kinds

    def step(self):
        x, a, b = self.x, self.a, self.b
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

    def state(self) -> list:
        return [to_numpy(self.x.grad)]


def descent_training(model_fn: Callable, problem) -> TrainingStep:
    """``model_fn(ds.nn, problem)`` with the problem's weights, trained by ``ds.optim.SGD``."""
    import descent as ds

    model = model_fn(ds.nn, problem)
    params = list(model.parameters())
    _check_shapes(params, problem.weights)
    for p, w in zip(params, problem.weights):
        np.copyto(p.data, w)
    loss_fn = _loss_function(ds.nn.functional, problem.loss)
    optimizer = ds.optim.SGD(params, lr=problem.lr)
    return TrainingStep(model, loss_fn, optimizer, ds.tensor(problem.x), ds.tensor(problem.y))


def torch_training(model_fn: Callable, problem) -> TrainingStep:
    """``model_fn(torch.nn, problem)`` with the problem's weights, trained by torch's SGD."""
    import torch

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
    import descent as ds

    x = ds.tensor(problem.x, requires_grad=True)
    a, b, ones = ds.tensor(problem.a), ds.tensor(problem.b), ds.ones(*problem.x.shape)
    return ChainStep(x, a, b, ones, problem.kinds)


def torch_chain(problem: ChainProblem) -> ChainStep:
    import torch

    x = torch.tensor(problem.x, requires_grad=True)
    a, b, ones = torch.tensor(problem.a), torch.tensor(problem.b), torch.ones(problem.x.shape)
    return ChainStep(x, a, b, ones, problem.kinds)


# ---- the hand-written NumPy references -------------------------------------------------------
# Every array is allocated in __init__; step() writes into them with out= and in-place ufuncs.


class SoftmaxCrossEntropy:
    """Mean softmax cross-entropy of (N, C) logits and its gradient, in preallocated buffers."""

    def __init__(self, n: int, n_classes: int, y: np.ndarray):
        self.y, self.rows = y, np.arange(n)
        self.grad = np.empty((n, n_classes), F32)  # softmax(z) - onehot(y), over N
        self.row = np.empty((n, 1), F32)

    def __call__(self, z: np.ndarray) -> float:
        """The loss; ``self.grad`` holds d loss / dz afterwards."""
        p, row, rows, y = self.grad, self.row, self.rows, self.y
        np.max(z, axis=1, keepdims=True, out=row)
        np.subtract(z, row, out=p)  # shifted logits
        picked = p[rows, y]  # the label's shifted logit, (N,)
        np.exp(p, out=p)
        np.sum(p, axis=1, keepdims=True, out=row)
        loss = np.log(row).mean() - picked.mean()  # mean of log(sum exp) - z_y
        np.divide(p, row, out=p)
        p[rows, y] -= 1.0
        p *= F32(1.0 / len(y))
        return float(loss)


class BinaryCrossEntropyWithLogits:
    """Mean of max(z, 0) - z t + log(1 + e^-|z|) over (N, 1) logits, and its gradient."""

    def __init__(self, t: np.ndarray):
        self.t = t
        self.grad = np.empty_like(t)  # (sigmoid(z) - t) / N
        self.e = np.empty_like(t)
        self.tmp = np.empty_like(t)

    def __call__(self, z: np.ndarray) -> float:
        t, e, tmp, g = self.t, self.e, self.tmp, self.grad
        np.abs(z, out=e)
        np.negative(e, out=e)
        np.exp(e, out=e)  # e^-|z|, never overflows
        np.log1p(e, out=tmp)
        tmp += np.maximum(z, 0)
        tmp -= z * t
        loss = tmp.mean()
        # sigmoid(z) = 1 / (1 + e) for z >= 0, e / (1 + e) for z < 0
        np.add(e, 1.0, out=tmp)
        np.putmask(e, z >= 0, 1.0)
        np.divide(e, tmp, out=g)
        g -= t
        g *= F32(1.0 / len(t))
        return float(loss)


class NumpyMLP:
    """The MLP step by hand: forward, loss, backward, SGD update."""

    def __init__(self, problem: MLPProblem):
        self.x, self.lr = problem.x, problem.lr
        self.activation = problem.activation
        self.W = [w.copy() for w in problem.weights[0::2]]
        self.b = [b.copy() for b in problem.weights[1::2]]
        n = len(self.x)
        self.h = [np.empty((n, w.shape[0]), F32) for w in self.W]  # each layer's output
        self.dh = [np.empty_like(h) for h in self.h[:-1]]  # d loss / d hidden output
        # the activation's derivative at each hidden layer: h > 0 (ReLU) or 1 - h^2 (tanh)
        kind = np.bool_ if self.activation == "relu" else F32
        self.deriv = [np.empty(h.shape, kind) for h in self.h[:-1]]
        self.gW = [np.empty_like(w) for w in self.W]
        self.gb = [np.empty_like(b) for b in self.b]
        if problem.loss == "cross_entropy":
            self.loss = SoftmaxCrossEntropy(n, self.W[-1].shape[0], problem.y)
        else:
            self.loss = BinaryCrossEntropyWithLogits(problem.y)

    def step(self) -> float:
        W, b, h, last = self.W, self.b, self.h, len(self.W) - 1
        a = self.x
        for i in range(last + 1):
            np.matmul(a, W[i].T, out=h[i])  # (N, out)
            h[i] += b[i]
            if i < last:
                if self.activation == "relu":
                    np.maximum(h[i], 0.0, out=h[i])
                else:
                    np.tanh(h[i], out=h[i])
            a = h[i]
        loss = self.loss(h[last])
        g = self.loss.grad  # d loss / d h[i], (N, out)
        for i in range(last, -1, -1):
            a = self.x if i == 0 else h[i - 1]
            np.matmul(g.T, a, out=self.gW[i])
            np.sum(g, axis=0, out=self.gb[i])
            if i == 0:
                break
            dh, deriv = self.dh[i - 1], self.deriv[i - 1]
            np.matmul(g, W[i], out=dh)
            if self.activation == "relu":
                np.greater(a, 0.0, out=deriv)
            else:
                np.multiply(a, a, out=deriv)
                np.subtract(1.0, deriv, out=deriv)
            np.multiply(dh, deriv, out=dh)
            g = dh
        for param, grad in zip(W + b, self.gW + self.gb):
            grad *= self.lr
            param -= grad
        return loss

    def state(self) -> list:
        return [a.copy() for pair in zip(self.W, self.b) for a in pair]


class NumpyCNN:
    """The CNN step by hand, channels first (C, N, H, W) inside.

    Convolution is im2col: 9 strided slice copies into one (C*9, N*Ho*Wo) matrix and one
    matmul; 2x2 max-pooling is pairwise ``np.maximum`` of 4 strided views. The pooling
    gradient goes to every window element equal to the maximum: ties happen only among
    ReLU zeros, whose gradient the ReLU mask removes next.
    """

    def __init__(self, problem: CNNProblem):
        self.x, self.lr = problem.x, problem.lr
        self.params = [w.copy() for w in problem.weights]
        self.grads = [np.empty_like(w) for w in self.params]
        n = len(self.x)
        self.cols1 = np.empty((1, 3, 3, n, 26, 26), F32)  # (C, kh, kw, N, Ho, Wo)
        self.a1 = np.empty((8, n, 26, 26), F32)  # conv1 + ReLU
        self.p1 = np.empty((8, n, 13, 13), F32)
        self.cols2 = np.empty((8, 3, 3, n, 11, 11), F32)
        self.a2 = np.empty((16, n, 11, 11), F32)
        self.p2 = np.empty((16, n, 5, 5), F32)
        self.flat = np.empty((n, 16 * 5 * 5), F32)
        self.z3 = np.empty((n, 10), F32)
        self.loss = SoftmaxCrossEntropy(n, 10, problem.y)
        self.dflat = np.empty_like(self.flat)
        self.da2 = np.zeros_like(self.a2)  # row and column 10 are never pooled: stay 0
        self.dcols2 = np.empty_like(self.cols2)
        self.dp1 = np.empty_like(self.p1)
        self.da1 = np.empty_like(self.a1)
        self.eq1 = np.empty(self.p1.shape, np.bool_)
        self.eq2 = np.empty(self.p2.shape, np.bool_)
        self.mask1 = np.empty(self.a1.shape, np.bool_)
        self.mask2 = np.empty(self.a2.shape, np.bool_)

    @staticmethod
    def _im2col(cols: np.ndarray, x: np.ndarray, ho: int, wo: int) -> np.ndarray:
        for i in range(3):
            for j in range(3):
                cols[:, i, j] = x[:, :, i : i + ho, j : j + wo]
        return cols.reshape(len(cols) * 9, -1)  # (C*9, N*Ho*Wo)

    @staticmethod
    def _conv_relu(out: np.ndarray, w: np.ndarray, b: np.ndarray, cols: np.ndarray) -> None:
        out2 = out.reshape(len(w), -1)  # (O, N*Ho*Wo)
        np.matmul(w.reshape(len(w), -1), cols, out=out2)
        out2 += b[:, None]
        np.maximum(out2, 0.0, out=out2)

    @staticmethod
    def _pool(out: np.ndarray, a: np.ndarray) -> list:
        """2x2 max-pooling of ``a`` into ``out``; returns the 4 window views of ``a``."""
        h, w = out.shape[2] * 2, out.shape[3] * 2  # pool2 drops a's last row and column
        views = [a[:, :, i:h:2, j:w:2] for i in (0, 1) for j in (0, 1)]
        np.maximum(views[0], views[1], out=out)
        np.maximum(out, views[2], out=out)
        np.maximum(out, views[3], out=out)
        return views

    @staticmethod
    def _unpool(grad_a, views: list, pooled, grad_pooled, eq, a, mask) -> None:
        """Route the pooled gradient to each window's maxima, then through the ReLU mask."""
        (ho, wo) = pooled.shape[2:]
        for k, (i, j) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
            np.equal(views[k], pooled, out=eq)
            np.multiply(grad_pooled, eq, out=grad_a[:, :, i : 2 * ho : 2, j : 2 * wo : 2])
        np.greater(a, 0.0, out=mask)
        np.multiply(grad_a, mask, out=grad_a)

    def step(self) -> float:
        w1, b1, w2, b2, w3, b3 = self.params
        gw1, gb1, gw2, gb2, gw3, gb3 = self.grads
        n = len(self.x)
        # forward
        x = self.x.transpose(1, 0, 2, 3)  # (1, N, 28, 28)
        cols1 = self._im2col(self.cols1, x, 26, 26)
        self._conv_relu(self.a1, w1, b1, cols1)
        views1 = self._pool(self.p1, self.a1)
        cols2 = self._im2col(self.cols2, self.p1, 11, 11)
        self._conv_relu(self.a2, w2, b2, cols2)
        views2 = self._pool(self.p2, self.a2)
        np.copyto(self.flat.reshape(n, 16, 5, 5), self.p2.transpose(1, 0, 2, 3))
        np.matmul(self.flat, w3.T, out=self.z3)
        self.z3 += b3
        loss = self.loss(self.z3)
        # backward: linear
        dz3 = self.loss.grad
        np.matmul(dz3.T, self.flat, out=gw3)
        np.sum(dz3, axis=0, out=gb3)
        np.matmul(dz3, w3, out=self.dflat)
        dp2 = self.dflat.reshape(n, 16, 5, 5).transpose(1, 0, 2, 3)
        # pool2, ReLU, conv2
        self._unpool(self.da2, views2, self.p2, dp2, self.eq2, self.a2, self.mask2)
        dz2 = self.da2.reshape(16, -1)
        np.matmul(dz2, cols2.T, out=gw2.reshape(16, -1))
        np.sum(dz2, axis=1, out=gb2)
        dcols2 = self.dcols2.reshape(8 * 9, -1)
        np.matmul(w2.reshape(16, -1).T, dz2, out=dcols2)
        self.dp1.fill(0.0)
        for i in range(3):  # col2im: each window's gradient added back
            for j in range(3):
                window = self.dp1[:, :, i : i + 11, j : j + 11]
                np.add(window, self.dcols2[:, i, j], out=window)
        # pool1, ReLU, conv1 (the input needs no gradient)
        self._unpool(self.da1, views1, self.p1, self.dp1, self.eq1, self.a1, self.mask1)
        dz1 = self.da1.reshape(8, -1)
        np.matmul(dz1, cols1.T, out=gw1.reshape(8, -1))
        np.sum(dz1, axis=1, out=gb1)
        # update
        for param, grad in zip(self.params, self.grads):
            grad *= self.lr
            param -= grad
        return loss

    def state(self) -> list:
        return [p.copy() for p in self.params]


class NumpyChain:
    """The ops-tiny chain by hand: forward keeping each tanh output, backward in one buffer."""

    def __init__(self, problem: ChainProblem):
        self.x, self.a, self.b, self.kinds = problem.x, problem.a, problem.b, problem.kinds
        self.work = np.empty_like(self.x)
        self.saved = [np.empty_like(self.x) for k in self.kinds if k == "tanh"]
        self.grad = np.empty_like(self.x)
        self.tmp = np.empty_like(self.x)

    def step(self) -> np.ndarray:
        a, b, work, saved = self.a, self.b, self.work, self.saved
        y, t = self.x, 0
        for kind in self.kinds:
            if kind == "mul":
                np.multiply(y, a, out=work)
                y = work
            elif kind == "add":
                np.add(y, b, out=work)
                y = work
            else:
                np.tanh(y, out=saved[t])
                y, t = saved[t], t + 1
        g, tmp = self.grad, self.tmp
        g.fill(1.0)
        for kind in reversed(self.kinds):
            if kind == "mul":
                np.multiply(g, a, out=g)
            elif kind == "tanh":  # g *= 1 - tanh^2
                t -= 1
                np.multiply(saved[t], saved[t], out=tmp)
                np.subtract(1.0, tmp, out=tmp)
                np.multiply(g, tmp, out=g)
            # 'add' passes the gradient through unchanged
        return y

    def state(self) -> list:
        return [self.grad.copy()]


# ---- the registry ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    """A timed computation: its problem and one builder per framework."""

    name: str
    summary: str
    unit: str  # how the table reports it: 'ms/step' or 'us/op'
    ops_per_step: int  # the step time is divided by this for 'us/op'
    make_problem: Callable
    builders: dict  # framework -> builder(problem) -> an object with step() and state()

    def seconds_to_unit(self, seconds: float) -> float:
        scale = 1e3 if self.unit == "ms/step" else 1e6 / self.ops_per_step
        return seconds * scale


def _training_builders(model_fn: Callable, numpy_class: type) -> dict:
    return {
        "descent": functools.partial(descent_training, model_fn),
        "torch": functools.partial(torch_training, model_fn),
        "numpy": numpy_class,
    }


_MLP = "MLP 784-512-512-10, ReLU, softmax cross-entropy, SGD step"
_CNN = "CNN conv8-pool-conv16-pool-linear on 28x28, batch 64, SGD step"
_OPS = "200 elementwise ops (mul, add, tanh) on (4, 4), forward + backward"
_TINY = "MLP 2-16-16-1, tanh, BCE with logits, full batch of 100 moons, SGD step"
_MLP_BUILDERS = _training_builders(mlp_model, NumpyMLP)
_CHAIN_BUILDERS = {"descent": descent_chain, "torch": torch_chain, "numpy": NumpyChain}

WORKLOADS = {
    w.name: w
    for w in (
        Workload("mlp-b32", f"{_MLP}, batch 32", "ms/step", 1,
                 functools.partial(mlp_problem, batch=32), _MLP_BUILDERS),
        Workload("mlp-b128", f"{_MLP}, batch 128", "ms/step", 1,
                 functools.partial(mlp_problem, batch=128), _MLP_BUILDERS),
        Workload("mlp-b1024", f"{_MLP}, batch 1024", "ms/step", 1,
                 functools.partial(mlp_problem, batch=1024), _MLP_BUILDERS),
        Workload("cnn-b64", _CNN, "ms/step", 1, cnn_problem,
                 _training_builders(cnn_model, NumpyCNN)),
        Workload("ops-tiny", _OPS, "us/op", 200, chain_problem, _CHAIN_BUILDERS),
        Workload("tiny-mlp", _TINY, "ms/step", 1, tiny_mlp_problem, _MLP_BUILDERS),
    )
}  # fmt: skip


# ---- fit-digits: descent's MLPClassifier against scikit-learn's ------------------------------


@dataclass(frozen=True)
class FitSettings:
    """The same network and schedule for both estimators (scikit-learn's defaults otherwise)."""

    hidden: tuple = (100,)
    batch_size: int = 200
    epochs: int = 30
    lr: float = 1e-3
    alpha: float = 1e-4  # L2 penalty, scikit-learn's default
    seed: int = 0
    # Test accuracy on 450 digits moves by a point from one seed to the next, so it is
    # averaged over this many seeds (seed, seed + 1, ...), each its own split and start.
    n_seeds: int = 5


def digits_split(seed: int = 0) -> tuple:
    """Digits scaled to [0, 1], stratified 75/25: (X_train, X_test, y_train, y_test)."""
    from sklearn.model_selection import train_test_split

    from descent.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return train_test_split(X / F32(16.0), y, test_size=0.25, stratify=y, random_state=seed)


def _timed_fit(model, data: tuple) -> tuple[float, float, int | None]:
    """(seconds to fit, test accuracy, epochs run as ``n_iter_`` says)."""
    X_train, X_test, y_train, y_test = data
    start = time.perf_counter()
    model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    accuracy = float(np.mean(np.asarray(model.predict(X_test)) == y_test))
    return seconds, accuracy, getattr(model, "n_iter_", None)


def fit_sklearn(data: tuple, settings: FitSettings) -> tuple[float, float, int | None]:
    """scikit-learn's MLPClassifier with adam for exactly ``epochs`` epochs."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    model = MLPClassifier(
        hidden_layer_sizes=settings.hidden,
        batch_size=settings.batch_size,
        max_iter=settings.epochs,
        n_iter_no_change=settings.epochs + 1,  # never stops before max_iter
        solver="adam",
        learning_rate_init=settings.lr,
        alpha=settings.alpha,
        early_stopping=False,
        random_state=settings.seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return _timed_fit(model, data)


# descent.models is written by scikit-learn's conventions; these are the parameter names
# tried, in order, for each setting (the first one the constructor accepts is used).
_DESCENT_NAMES = {
    "hidden": ("hidden_layer_sizes", "hidden_sizes", "hidden"),
    "epochs": ("max_iter", "epochs", "max_epochs"),
    "batch_size": ("batch_size",),
    "optimizer": ("solver", "optimizer"),
    "lr": ("learning_rate_init", "lr", "learning_rate"),
    "alpha": ("alpha",),
    "early_stopping": ("early_stopping",),
    "patience": ("n_iter_no_change",),
    "seed": ("random_state", "seed"),
    "verbose": ("verbose",),
}
_REQUIRED = ("hidden", "epochs", "batch_size")


class MissingModelError(Exception):
    """descent.models.MLPClassifier is not there, or takes none of the names we try."""


def descent_classifier_options(cls, settings: FitSettings) -> dict:
    """Keyword arguments for descent's MLPClassifier that match ``settings``."""
    values = {
        "hidden": settings.hidden,
        "epochs": settings.epochs,
        "batch_size": settings.batch_size,
        "optimizer": "adam",
        "lr": settings.lr,
        "alpha": settings.alpha,
        "early_stopping": False,
        "patience": settings.epochs + 1,  # never stops before the last epoch
        "seed": settings.seed,
        "verbose": 0,
    }
    params = inspect.signature(cls).parameters
    options = {}
    for setting, names in _DESCENT_NAMES.items():
        accepted = [n for n in names if n in params]
        if accepted:
            options[accepted[0]] = values[setting]
        elif setting in _REQUIRED:
            raise MissingModelError(f"MLPClassifier takes none of {names}")
    return options


def descent_classifier() -> type:
    """``descent.models.MLPClassifier``; MissingModelError if it is not there (yet)."""
    try:
        import descent.models as models
    except ImportError:
        raise MissingModelError("descent.models missing") from None
    cls = getattr(models, "MLPClassifier", None)
    if cls is None:
        raise MissingModelError("descent.models.MLPClassifier missing")
    return cls


def fit_descent(data: tuple, settings: FitSettings) -> tuple[float, float, int | None]:
    """descent's MLPClassifier with the same settings as ``fit_sklearn``."""
    cls = descent_classifier()
    model = cls(**descent_classifier_options(cls, settings))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*max_iter")  # it stops there on purpose
        return _timed_fit(model, data)


# ---- peak memory: run in a fresh interpreter --------------------------------------------------


def peak_rss_kib() -> int:
    """This process's peak resident memory in KiB (VmHWM, or getrusage's ru_maxrss)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource
    import sys

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak  # bytes on macOS


def peak_rss_child(framework: str, workload: str, steps: int, threads: int) -> None:
    """The body of a peak-memory child process: ``steps`` steps, then print the peak in KiB."""
    if framework == "torch":
        import torch

        torch.set_num_threads(threads)
    w = WORKLOADS[workload]
    impl = w.builders[framework](w.make_problem())
    for _ in range(steps):
        impl.step()
    print(peak_rss_kib())
