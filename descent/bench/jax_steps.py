"""The JAX step of each workload: the same math as ``steps``, as one ``jax.jit``-compiled function.

JAX is the fastest peer we time on a CPU: a step is traced once and compiled by XLA into
one program (forward, ``jax.value_and_grad``'s backward and the SGD update), so its time is
what the computation costs with no Python between the ops. The parameters are a list of
arrays in PyTorch's layouts (Linear's weight (out, in), Conv2d's (out, in, kh, kw)),
float32, started from the problem's weights; the update ``p - lr * g`` is inside the
compiled function and the old parameters are donated to it, so it may write in place.

NOTE: jax is imported inside the builders (it is optional, part of the ``bench`` extra), so
that a peak-memory child (``peak_child``) and ``descent --help`` never load it. Which
threads XLA uses is set before jax is imported (``environment.prepare_jax``).
"""

from __future__ import annotations

import numpy as np

from .problems import ChainProblem, CNNProblem, MLPProblem


def _jax():
    import jax  # optional  # noqa: PLC0415

    return jax


def _labels(jnp, y: np.ndarray):
    """Labels as JAX holds integers by default (int32); float targets as they are."""
    return jnp.asarray(y.astype(np.int32) if y.dtype.kind == "i" else y)


def _loss(jax, kind: str, z, y):
    """Mean softmax cross-entropy of (N, C) logits and int labels, or mean binary
    cross-entropy of (N, 1) logits against 0/1 targets (``max(z, 0) - z t + log(1 + e^-|z|)``)."""
    jnp = jax.numpy
    if kind == "cross_entropy":
        picked = jnp.take_along_axis(z, y[:, None], axis=1)[:, 0]
        return jnp.mean(jax.nn.logsumexp(z, axis=1) - picked)
    return jnp.mean(jnp.maximum(z, 0) - z * y + jnp.log1p(jnp.exp(-jnp.abs(z))))


def _mlp_forward(jax, activation: str, params: list, x):
    act = jax.nn.relu if activation == "relu" else jax.numpy.tanh
    h, last = x, len(params) // 2 - 1
    for i in range(last + 1):
        w, b = params[2 * i], params[2 * i + 1]
        h = h @ w.T + b  # (N, out)
        if i < last:
            h = act(h)
    return h


def _cnn_forward(jax, params: list, x):
    lax = jax.lax
    w1, b1, w2, b2, w3, b3 = params

    def conv_relu_pool(h, w, b):
        h = lax.conv_general_dilated(
            h, w, (1, 1), "VALID", dimension_numbers=("NCHW", "OIHW", "NCHW")
        )
        h = jax.nn.relu(h + b[None, :, None, None])
        # max-pooling 2x2, stride 2, no padding: a window that does not fit is dropped
        return lax.reduce_window(h, -np.inf, lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")

    h = conv_relu_pool(conv_relu_pool(x, w1, b1), w2, b2)  # (N, 16, 5, 5)
    h = h.reshape(h.shape[0], -1)  # (N, 400), in (C, H, W) order as nn.Flatten
    return h @ w3.T + b3


class JaxTraining:
    """One SGD step of a network, compiled: loss, gradients and update in one XLA program."""

    def __init__(self, forward, loss: str, problem):
        jax = _jax()
        jnp = jax.numpy
        lr = problem.lr

        def loss_of(params, x, y):
            return _loss(jax, loss, forward(jax, params, x), y)

        def train_step(params, x, y):
            value, grads = jax.value_and_grad(loss_of)(params, x, y)
            return [p - lr * g for p, g in zip(params, grads)], value

        self._step = jax.jit(train_step, donate_argnums=0)
        self._block = jax.block_until_ready
        self.params = [jnp.asarray(w) for w in problem.weights]
        self.x, self.y = jnp.asarray(problem.x), _labels(jnp, problem.y)

    def step(self):
        self.params, loss = self._step(self.params, self.x, self.y)
        self._block((self.params, loss))  # JAX runs asynchronously: wait for the step
        return loss

    def state(self) -> list:
        return [np.array(p) for p in self.params]


class JaxChain:
    """The ops-tiny step, compiled: the chain of ops and its vector-Jacobian product with
    ones (the gradient of x), in one XLA program."""

    def __init__(self, problem: ChainProblem):
        jax = _jax()
        jnp = jax.numpy
        kinds = problem.kinds

        def chain(x, a, b):
            y = x
            for kind in kinds:
                if kind == "mul":
                    y = y * a
                elif kind == "add":
                    y = y + b
                else:
                    y = jnp.tanh(y)
            return y

        def chain_step(x, a, b, ones):
            y, vjp = jax.vjp(lambda v: chain(v, a, b), x)
            (grad,) = vjp(ones)
            return y, grad

        self._step = jax.jit(chain_step)
        self._block = jax.block_until_ready
        self.x, self.a, self.b = (jnp.asarray(v) for v in (problem.x, problem.a, problem.b))
        self.ones = jnp.ones(problem.x.shape, jnp.float32)
        self.grad = None

    def step(self):
        y, self.grad = self._step(self.x, self.a, self.b, self.ones)
        self._block((y, self.grad))
        return y

    def state(self) -> list:
        return [np.array(self.grad)]


def jax_mlp(problem: MLPProblem) -> JaxTraining:
    def forward(jax, params, x):
        return _mlp_forward(jax, problem.activation, params, x)

    return JaxTraining(forward, problem.loss, problem)


def jax_cnn(problem: CNNProblem) -> JaxTraining:
    return JaxTraining(_cnn_forward, problem.loss, problem)


def jax_chain(problem: ChainProblem) -> JaxChain:
    return JaxChain(problem)
