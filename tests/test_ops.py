"""Every op of the table in descent/optable.py, checked by two oracles on each shape case:

- gradcheck: autodiff against central differences in float64, with a random output
  gradient;
- PyTorch: forward values and the vector-Jacobian product for a random output gradient;
  shapes drawn by hypothesis too, for rows marked ``draw``.

A third oracle, closed forms, lives beside the ops it fits (tests/test_functional.py).
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes

import descent as ds
import descent.nn.functional as F
from descent.optable import TABLE


def _cases():
    for op in TABLE:
        for k, shapes in enumerate(op.shapes):
            yield pytest.param(op, shapes, id=f"{op.name}-{k}")


def _arrays(op, shapes, seed=0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [make(rng, shape) for make, shape in zip(op.makers(len(shapes)), shapes)]


def _differentiable(op, arrays) -> list[bool]:
    return [op.differentiable(i, a) for i, a in enumerate(arrays)]


def _ds_inputs(op, arrays, dtype=np.float64) -> list[ds.Tensor]:
    flags = _differentiable(op, arrays)
    return [
        ds.tensor(a, dtype=dtype if a.dtype.kind == "f" else a.dtype, requires_grad=f)
        for a, f in zip(arrays, flags)
    ]


def _torch_inputs(op, arrays) -> list[torch.Tensor]:
    flags = _differentiable(op, arrays)
    return [torch.tensor(a, requires_grad=f) for a, f in zip(arrays, flags)]


def _torch_fn(op):
    return op.fn if op.torch_fn == "same" else op.torch_fn


def compare_with_torch(op, arrays, seed=0):
    """Forward values and the gradients of <v, f(x)> for a random v, descent vs PyTorch."""
    xs = _ds_inputs(op, arrays)
    ts = _torch_inputs(op, arrays)
    out = op.fn(ds, F, *xs)
    tout = _torch_fn(op)(torch, torch.nn.functional, *ts)
    np.testing.assert_allclose(
        out.numpy(), tout.detach().numpy(), rtol=op.rtol, atol=op.atol, err_msg=f"{op.name} forward"
    )
    assert out.shape == tuple(tout.shape), f"{op.name}: shape {out.shape} != {tuple(tout.shape)}"
    diff = [x for x in xs if x.requires_grad]
    tdiff = [t for t in ts if t.requires_grad]
    if not diff or not out.requires_grad:
        return
    v = np.random.default_rng(seed + 1).standard_normal(out.shape)
    grads = ds.grad(out, diff, grad_outputs=ds.tensor(v, dtype=ds.float64), allow_unused=True)
    tgrads = torch.autograd.grad(tout, tdiff, grad_outputs=torch.tensor(v), allow_unused=True)
    for i, (g, tg) in enumerate(zip(grads, tgrads)):
        g = np.zeros(diff[i].shape) if g is None else g.numpy()
        tg = np.zeros(diff[i].shape) if tg is None else tg.numpy()
        np.testing.assert_allclose(
            g, tg, rtol=op.rtol, atol=op.atol, err_msg=f"{op.name} gradient of input {i}"
        )


@pytest.mark.parametrize("op, shapes", list(_cases()))
def test_gradcheck(op, shapes):
    arrays = _arrays(op, shapes)
    xs = _ds_inputs(op, arrays)
    assert ds.gradcheck(lambda *xs: op.fn(ds, F, *xs), xs)


@pytest.mark.parametrize("op, shapes", list(_cases()))
def test_against_torch(op, shapes):
    if op.torch_fn is None:
        pytest.skip(f"{op.name} has no PyTorch twin; its closed form is tested elsewhere")
    compare_with_torch(op, _arrays(op, shapes))


@pytest.mark.parametrize("op, shapes", list(_cases()))
def test_float32_stays_float32(op, shapes):
    arrays = _arrays(op, shapes)
    xs = _ds_inputs(op, arrays, dtype=np.float32)
    out = op.fn(ds, F, *xs)
    if out.dtype.kind == "f":
        assert out.dtype == np.float32, f"{op.name} turned float32 inputs into {out.dtype}"
    if out.requires_grad:
        # the engine checks that each gradient keeps its input's dtype
        grads = ds.grad(out.sum(), [x for x in xs if x.requires_grad], allow_unused=True)
        assert all(g is None or g.dtype == np.float32 for g in grads)


@pytest.mark.parametrize(
    "op", [op for op in TABLE if op.draw and op.torch_fn is not None], ids=lambda op: op.name
)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_against_torch_on_drawn_shapes(op, data):
    if op.draw == "pair":
        shapes = data.draw(
            mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=4)
        ).input_shapes
    else:
        shapes = (data.draw(array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)),)
    seed = data.draw(st.integers(0, 2**16))
    compare_with_torch(op, _arrays(op, shapes, seed), seed)


# ---- the table covers the API ------------------------------------------------------------

OPERATORS = [
    "__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
    "__rtruediv__", "__pow__", "__rpow__", "__matmul__", "__rmatmul__", "__neg__", "__abs__",
    "__getitem__",
]  # fmt: skip


def _resolve(name: str):
    if name.startswith("Tensor."):
        return inspect.getattr_static(ds.Tensor, name.split(".", 1)[1])
    if name.startswith("F."):
        return getattr(F, name[2:])
    return getattr(ds, name)


_INTEGER_RESULTS = ("argmax", "argmin", "argsort", "unique", "bincount", "nonzero", "argwhere")


def _exported_ops() -> dict[int, str]:
    """Every differentiable op the API exports, by identity (aliases count once)."""
    found = {}
    for name in ds.__all__:
        obj = getattr(ds, name)
        if inspect.isfunction(obj) and obj.__module__.startswith("descent.ops."):
            if name not in _INTEGER_RESULTS:  # no gradient
                found.setdefault(id(obj), name)
    for name in F.__all__:
        obj = getattr(F, name)
        if inspect.isfunction(obj) and name != "one_hot":
            found.setdefault(id(obj), f"F.{name}")
    for name in OPERATORS:
        found.setdefault(id(inspect.getattr_static(ds.Tensor, name)), f"Tensor.{name}")
    found.setdefault(id(inspect.getattr_static(ds.Tensor, "T")), "Tensor.T")
    return found


def test_every_exported_op_is_in_the_table():
    covered = {id(_resolve(op.name)) for op in TABLE}
    missing = sorted(name for key, name in _exported_ops().items() if key not in covered)
    assert not missing, f"exported ops without a row in descent/optable.py: {missing}"


def test_each_op_appears_once_in_the_table():
    seen: dict[int, str] = {}
    for op in TABLE:
        key = id(_resolve(op.name))
        assert key not in seen, f"{op.name} is the same op as {seen[key]}: keep one row"
        seen[key] = op.name
