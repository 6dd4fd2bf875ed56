"""Numerical gradients by central differences, and gradcheck against them.

$\\partial f / \\partial x_i \\approx (f(x + \\epsilon e_i) - f(x - \\epsilon e_i)) / 2\\epsilon$.

gradcheck compares the engine's gradient of $\\langle v, f(x) \\rangle$ for a random
direction $v$ (a random output gradient) with the numerical one, so a rule that is right
only for an all-ones upstream gradient is still caught.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import autograd
from .tensor import Tensor, make_tensor

__all__ = [
    "numerical_grad",
    "gradcheck",
    "gradgradcheck",
    "check_gradients",
    "GradcheckReport",
    "GradcheckError",
]


class GradcheckError(AssertionError):
    """The analytical and numerical gradients disagree."""


def _outputs(fn, inputs) -> list[Tensor]:
    out = fn(*inputs)
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _weighted_sum(fn, inputs, directions) -> float:
    """$\\sum_k \\langle v_k, f_k(x) \\rangle$ in float64, without building a graph."""
    with autograd.no_grad():
        outs = _outputs(fn, inputs)
    return float(sum(np.sum(o._data.astype(np.float64) * v) for o, v in zip(outs, directions)))


def numerical_grad(fn, inputs, eps: float = 1e-6, grad_outputs=None) -> list[Tensor]:
    """Central-difference gradients of ``fn(*inputs)`` with respect to each input.

    For a non-scalar output the gradient is that of ``(fn(*inputs) * grad_outputs).sum()``
    (``grad_outputs`` defaults to ones). Inputs are changed in place and restored.

    >>> x = ds.tensor([1.0, 2.0], dtype=ds.float64)
    >>> ds.numerical_grad(lambda x: (x**2).sum(), [x])[0]
    tensor([2., 4.], dtype=float64)
    """
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None:
        with autograd.no_grad():
            outs = _outputs(fn, inputs)
        directions = [np.ones(o.shape) for o in outs]
    else:
        gos = grad_outputs if isinstance(grad_outputs, (list, tuple)) else [grad_outputs]
        directions = [np.asarray(g._data if isinstance(g, Tensor) else g, np.float64) for g in gos]
    grads = []
    for t in inputs:
        if not isinstance(t, Tensor) or t.dtype.kind != "f":
            grads.append(None)  # a number, an option or an integer tensor: no gradient
            continue
        if not t._data.flags.c_contiguous:
            t._data = np.ascontiguousarray(t._data)
        flat = t._data.reshape(-1)  # a view: changing it changes the input
        g = np.zeros(flat.shape, np.float64)
        for i in range(flat.size):
            orig = flat[i]
            try:
                flat[i] = orig + eps
                plus = _weighted_sum(fn, inputs, directions)
                flat[i] = orig - eps
                minus = _weighted_sum(fn, inputs, directions)
            finally:
                flat[i] = orig  # restored even when fn raises
            g[i] = (plus - minus) / (2 * eps)
        grads.append(make_tensor(g.reshape(t.shape)))
    return grads


@dataclass
class GradcheckReport:
    """What ``check_gradients`` found: the verdict, the largest difference, the first failure."""

    ok: bool
    max_abs_diff: float
    failure: str | None = None


def check_gradients(
    fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3, seed: int = 0
) -> GradcheckReport:
    """Compare autodiff with central differences for a random output gradient; report.

    ``gradcheck`` is this, with an exception (or False) when the check fails.
    """
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    diff = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    if not diff:
        raise ValueError("gradcheck: no input requires grad, so there is nothing to check")
    for i, t in enumerate(inputs):
        if isinstance(t, Tensor) and t.requires_grad and t.dtype != np.float64:
            raise ValueError(
                f"gradcheck: input {i} is {t.dtype}; use float64 inputs "
                f"(ds.tensor(..., dtype=ds.float64)) so differences of {eps} are meaningful"
            )
    rng = np.random.default_rng(seed)
    outs = _outputs(fn, inputs)
    directions = [rng.standard_normal(o.shape) for o in outs]
    used = [o for o in outs if o.requires_grad]
    if not used:
        raise ValueError("gradcheck: the function's output does not depend on any input")
    analytical = autograd.grad(
        used,
        diff,
        grad_outputs=[
            make_tensor(d.astype(o.dtype)) for o, d in zip(outs, directions) if o.requires_grad
        ],
        allow_unused=True,
    )
    numerical = numerical_grad(fn, inputs, eps, directions)
    report = GradcheckReport(True, 0.0)
    k = 0
    for i, t in enumerate(inputs):
        if not (isinstance(t, Tensor) and t.requires_grad):
            continue
        a = analytical[k]
        k += 1
        a = np.zeros(t.shape) if a is None else a._data.astype(np.float64)
        n = numerical[i]._data
        gap = np.abs(a - n)
        report.max_abs_diff = max(report.max_abs_diff, float(np.max(gap, initial=0.0)))
        bad = ~(gap <= atol + rtol * np.abs(n))
        if bad.any() and report.ok:
            where = tuple(int(j) for j in np.argwhere(bad)[0])
            report.ok = False
            report.failure = (
                f"gradcheck: gradient of input {i} (shape {tuple(t.shape)}) is wrong at index "
                f"{where}: autodiff gives {float(a[where])!r}, central differences give "
                f"{float(n[where])!r} "
                f"({int(bad.sum())} of {bad.size} elements disagree; atol={atol}, rtol={rtol})"
            )
    return report


def gradcheck(
    fn,
    inputs,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    seed: int = 0,
) -> bool:
    """True when autodiff and central differences agree for every input that requires grad.

    Inputs should be float64 (float32 differences are too coarse for these tolerances).
    Agreement means ``|analytical - numerical| <= atol + rtol * |numerical|`` elementwise,
    PyTorch's test. On disagreement, raises ``GradcheckError`` naming the input, the
    element and both values (or returns False when ``raise_exception=False``).

    >>> x = ds.tensor([0.5, -1.0], dtype=ds.float64, requires_grad=True)
    >>> ds.gradcheck(lambda x: x.tanh() * x, [x])
    True
    """
    report = check_gradients(fn, inputs, eps, atol, rtol, seed)
    if not report.ok and raise_exception:
        raise GradcheckError(report.failure)
    return report.ok


def gradgradcheck(
    fn,
    inputs,
    grad_outputs=None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    seed: int = 0,
) -> bool:
    """True when the second derivatives of ``fn`` agree with central differences of its
    first derivatives (PyTorch's ``gradgradcheck``, with its tolerances).

    The function checked is the first-order backward itself,
    $(x, v) \\mapsto J_f(x)^T v$, built with ``create_graph=True``; ``gradcheck`` then
    compares its gradient (for a random direction, with respect to the inputs and to
    ``v``) with central differences. ``grad_outputs`` (the ``v``) default to random
    float64 tensors that require grad.

    >>> x = ds.tensor([0.5, -1.0], dtype=ds.float64, requires_grad=True)
    >>> ds.gradgradcheck(lambda x: x.sin() * x, [x])
    True
    """
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    wrt = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    with autograd.no_grad():
        outs = _outputs(fn, inputs)
    rng = np.random.default_rng(seed + 1)
    if grad_outputs is None:
        grad_outputs = [
            Tensor(rng.standard_normal(o.shape), dtype=o.dtype, requires_grad=True) for o in outs
        ]
    else:
        grad_outputs = [grad_outputs] if isinstance(grad_outputs, Tensor) else list(grad_outputs)
    n = len(inputs)

    def first_derivatives(*args):
        xs, vs = list(args[:n]), list(args[n:])
        with autograd.enable_grad():
            ys = _outputs(fn, xs)
            pairs = [(y, v) for y, v in zip(ys, vs) if y.requires_grad]
            grads = autograd.grad(
                [y for y, _ in pairs],
                [xs[i] for i in wrt],
                grad_outputs=[v for _, v in pairs],
                create_graph=True,
                allow_unused=True,
            )
        # an input the first derivative does not reach has a zero gradient there
        return tuple(
            g if g is not None else make_tensor(np.zeros(xs[i].shape, xs[i].dtype))
            for i, g in zip(wrt, grads)
        )

    report = check_gradients(first_derivatives, inputs + grad_outputs, eps, atol, rtol, seed)
    if not report.ok:
        report.failure = report.failure.replace("gradcheck:", "gradgradcheck:", 1) + (
            f" (inputs {n} and after are the output gradients v)"
        )
        if raise_exception:
            raise GradcheckError(report.failure)
    return report.ok
