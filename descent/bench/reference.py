"""The hand-written NumPy step of each workload, the limit: what plain NumPy can do at best.

Forward, loss gradient, backward and update are written out by hand with every buffer
allocated once: every array is made in ``__init__``, and ``step()`` writes into them with
``out=`` and in-place ufuncs, float32 throughout. The fastest plain NumPy we know how to
write for the computation of ``steps``.
"""

from __future__ import annotations

import numpy as np

from .problems import F32, ChainProblem, CNNProblem, MLPProblem


def sgd_update(params: list, grads: list, lr: float) -> None:
    """param -= lr * grad for each pair, in place: the gradient buffer is scaled, no temporary."""
    for param, grad in zip(params, grads):
        grad *= lr
        param -= grad


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
        sgd_update(W + b, self.gW + self.gb, self.lr)
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
        sgd_update(self.params, self.grads, self.lr)
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
