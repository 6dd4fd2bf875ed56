"""Second derivatives of every op of the table in descent/optable.py, in float64.

For each row and shape case, with a random output gradient v:

- the first derivative that ``create_graph=True`` records (each op's ``backward_graph``)
  equals the ordinary one (each op's ``backward``);
- gradgradcheck: its derivatives agree with central differences;
- PyTorch: the gradient of <J^T v, w> with respect to the inputs, for a random w,
  equals torch's double backward of the row's torch twin.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import descent as ds
import descent.nn.functional as F
from descent.optable import TABLE
from tests.test_ops import _arrays, _ds_inputs, _torch_fn, _torch_inputs

# Rows whose torch twin has no second derivative (torch raises "derivative for ... is not
# implemented"): the comparison checks that torch still refuses, and gradgradcheck alone
# checks ours (hardsigmoid's is zero almost everywhere). multi_margin_loss with p=2 is a
# squared hinge, so its second derivative is not zero and is not compared with zeros.
NO_TORCH_SECOND = {
    "F.multi_margin_loss": "multi_margin_loss_backward",
    "F.hardsigmoid": "hardsigmoid_backward",
}


def _case(op, k, shapes):
    return pytest.param(op, shapes, id=f"{op.name}-{k}")


CASES = [_case(op, k, shapes) for op in TABLE for k, shapes in enumerate(op.shapes)]


def _setup(op, shapes, seed=0):
    """The row's inputs, its output, the differentiable inputs and a random v for it."""
    xs = _ds_inputs(op, _arrays(op, shapes, seed))
    out = op.fn(ds, F, *xs)
    v = np.random.default_rng(seed + 1).standard_normal(out.shape)
    return xs, out, [x for x in xs if x.requires_grad], v


def _zeros_for_none(grads, like) -> list[np.ndarray]:
    return [np.zeros(x.shape) if g is None else _array(g) for g, x in zip(grads, like)]


def _array(g) -> np.ndarray:
    if isinstance(g, torch.Tensor):  # force: torch answers some zero gradients as ZeroTensor
        return g.detach().numpy(force=True)
    return g.numpy()


def _second(grad, first, wrt, ws):
    """The gradient of sum_k <first_k, w_k> with respect to ``wrt`` (zeros where none)."""
    terms = [(g * w).sum() for g, w in zip(first, ws) if g is not None and g.requires_grad]
    if not terms:  # the first derivative does not depend on the inputs at all
        return [np.zeros(x.shape) for x in wrt]
    return _zeros_for_none(grad(sum(terms[1:], terms[0]), wrt, allow_unused=True), wrt)


@pytest.mark.parametrize("op, shapes", CASES)
def test_first_derivative_with_graph_is_the_first_derivative(op, shapes):
    _, out, diff, v = _setup(op, shapes)
    if not diff or not out.requires_grad:
        pytest.skip(f"{op.name}: nothing to differentiate")
    seed = ds.tensor(v, dtype=ds.float64)
    plain = ds.grad(out, diff, grad_outputs=seed, retain_graph=True, allow_unused=True)
    graph = ds.grad(out, diff, grad_outputs=seed, create_graph=True, allow_unused=True)
    for i, (p, g) in enumerate(zip(_zeros_for_none(plain, diff), _zeros_for_none(graph, diff))):
        np.testing.assert_allclose(g, p, rtol=1e-12, atol=1e-12, err_msg=f"{op.name} input {i}")


@pytest.mark.parametrize("op, shapes", CASES)
def test_gradgradcheck(op, shapes):
    xs, out, diff, _ = _setup(op, shapes)
    if not diff or not out.requires_grad:
        pytest.skip(f"{op.name}: nothing to differentiate")
    assert ds.gradgradcheck(lambda *xs: op.fn(ds, F, *xs), xs)


@pytest.mark.parametrize("op, shapes", CASES)
def test_second_derivative_against_torch(op, shapes):
    if op.torch_fn is None:
        pytest.skip(f"{op.name} has no PyTorch twin")
    _, out, diff, v = _setup(op, shapes)
    if not diff or not out.requires_grad:
        pytest.skip(f"{op.name}: nothing to differentiate")
    ts = _torch_inputs(op, _arrays(op, shapes))
    tdiff = [t for t in ts if t.requires_grad]
    tout = _torch_fn(op)(torch, torch.nn.functional, *ts)
    rng = np.random.default_rng(2)
    ws = [rng.standard_normal(x.shape) for x in diff]

    first = ds.grad(out, diff, ds.tensor(v, dtype=ds.float64), create_graph=True, allow_unused=True)
    ours = _second(ds.grad, first, diff, [ds.tensor(w, dtype=ds.float64) for w in ws])
    tfirst = torch.autograd.grad(tout, tdiff, torch.tensor(v), create_graph=True, allow_unused=True)
    if op.name in NO_TORCH_SECOND:
        with pytest.raises(RuntimeError, match=f"{NO_TORCH_SECOND[op.name]} is not implemented"):
            _second(torch.autograd.grad, tfirst, tdiff, [torch.tensor(w) for w in ws])
        return
    theirs = _second(torch.autograd.grad, tfirst, tdiff, [torch.tensor(w) for w in ws])
    for i, (a, b) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(
            a, b, rtol=op.rtol, atol=op.atol, err_msg=f"{op.name} second derivative, input {i}"
        )


# At kinks and ties the first derivative is piecewise constant, so the second is zero, and
# the first (a subgradient) is PyTorch's: x at 0 for abs/relu/leaky_relu, at the bounds
# for clamp, equal operands of maximum/minimum, tied extremes of max (Amax) and max(dim).
KINKS = [
    ("abs", lambda m, F, x, y: (m.abs(x) * y).sum()),
    ("relu", lambda m, F, x, y: (m.relu(x) * y).sum()),
    ("leaky_relu", lambda m, F, x, y: (F.leaky_relu(x, 0.2) * y).sum()),
    ("clamp", lambda m, F, x, y: (m.clamp(x, -1.0, 1.0) * y).sum()),
    ("maximum", lambda m, F, x, y: (m.maximum(x, y) * y).sum()),
    ("minimum", lambda m, F, x, y: (m.minimum(x, y) * x).sum()),
    ("max", lambda m, F, x, y: (x * y).max() * x.sum()),
    ("max_dim", lambda m, F, x, y: (m.max(x, dim=0).values * y.sum(0)).sum()),
]


@pytest.mark.parametrize("fn", [f for _, f in KINKS], ids=[name for name, _ in KINKS])
def test_second_derivative_at_kinks_and_ties_is_torch(fn):
    x = np.array([[0.0, 1.0, -1.0], [0.0, 1.0, 0.5]])
    y = np.array([[0.0, 1.0, -1.0], [2.0, 1.0, 0.5]])  # ties with x in columns 0-2 of row 0
    xs = [ds.tensor(a, dtype=ds.float64, requires_grad=True) for a in (x, y)]
    ts = [torch.tensor(a, requires_grad=True) for a in (x, y)]
    ws = [np.random.default_rng(3).standard_normal(x.shape) for _ in range(2)]
    first = ds.grad(fn(ds, F, *xs), xs, create_graph=True)
    ours = _second(ds.grad, first, xs, [ds.tensor(w, dtype=ds.float64) for w in ws])
    tfirst = torch.autograd.grad(fn(torch, torch.nn.functional, *ts), ts, create_graph=True)
    theirs = _second(torch.autograd.grad, tfirst, ts, [torch.tensor(w) for w in ws])
    for a, b in zip(_zeros_for_none(first, xs) + ours, _zeros_for_none(tfirst, ts) + theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
