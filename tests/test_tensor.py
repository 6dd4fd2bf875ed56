"""The Tensor and the creation functions: dtypes, properties, Python protocols, indexing,
reductions against PyTorch, shape-error messages and numerical stability.

Oracles: PyTorch (float64 unless a dtype is the point), NumPy and closed forms.
"""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

import descent as ds
from tests.helpers import as_torch, assert_close, f64

# ---- dtype rules ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, dtype, expected",
    [
        ([1.0, 2.0], None, np.float32),
        (2.5, None, np.float32),
        ([1, 2.5], None, np.float32),
        ([1.0, 2.0], "float64", np.float64),
        ([1.0, 2.0], ds.float64, np.float64),
        ([1.0, 2.0], np.float64, np.float64),
        ([1.0, 2.0], "double", np.float64),
        (np.array([1.0, 2.0]), ds.float32, np.float32),
        ([1, 2], None, np.int64),
        (3, None, np.int64),
        (np.array([1, 2], np.int64), None, np.int64),
        ([1, 2], "float32", np.float32),
        ([1, 2], ds.float64, np.float64),
        ([True, False], None, np.bool_),
    ],
)
def test_tensor_dtype_rules(data, dtype, expected):
    assert ds.tensor(data, dtype=dtype).dtype == expected


# PyTorch's rule for the dtype a tensor takes from its data: an array, a NumPy scalar or a
# tensor keeps its dtype; a Python float takes the default dtype, a Python int int64 and a
# bool bool; a list takes the promotion of what it holds (floats over integers over bools).
# Each case builds its data with ``lib`` (torch or descent) for the tensors it holds.
_F64, _F32, _F16 = np.float64, np.float32, np.float16
_FROM_DATA = {
    "float64 array": lambda lib: np.zeros(3),
    "float32 array": lambda lib: np.zeros(3, _F32),
    "float16 array": lambda lib: np.zeros(3, _F16),
    "int32 array": lambda lib: np.zeros(3, np.int32),
    "uint8 array": lambda lib: np.zeros(3, np.uint8),
    "bool array": lambda lib: np.zeros(3, np.bool_),
    "0-d float64 array": lambda lib: np.array(1.5),
    "0-d int32 array": lambda lib: np.array(3, np.int32),
    "np.float64 scalar": lambda lib: _F64(1.5),
    "np.float32 scalar": lambda lib: _F32(1.5),
    "np.int32 scalar": lambda lib: np.int32(2),
    "np.bool_ scalar": lambda lib: np.bool_(True),
    "list of np.float64": lambda lib: [_F64(1.5), _F64(2.0)],
    "list of np.float32": lambda lib: [_F32(1.5), _F32(2.0)],
    "list of np.float16": lambda lib: [_F16(1.5), _F16(2.0)],
    "np.float64 and int": lambda lib: [_F64(1.5), 2],
    "np.float32 and np.float64": lambda lib: [_F32(1.5), _F64(2.0)],
    "np.int32 and float": lambda lib: [np.int32(1), 2.0],
    "np.int32 and int": lambda lib: [np.int32(1), 2],
    "np.int32 and bool": lambda lib: [np.int32(1), True],
    "np.uint8 and np.int8": lambda lib: [np.uint8(1), np.int8(1)],
    "np.float16 and float": lambda lib: [_F16(1.5), 2.0],
    "np.float16 and int": lambda lib: [_F16(1.5), 2],
    "Python float": lambda lib: 1.5,
    "Python int": lambda lib: 3,
    "Python bool": lambda lib: True,
    "ints and floats": lambda lib: [1, 2.5],
    "ints": lambda lib: [1, 2],
    "bools": lambda lib: [True, False],
    "bools and ints": lambda lib: [True, 2],
    "tuple of floats": lambda lib: (1.0, 2.0),
    "nested floats": lambda lib: [[1.0, 2.0], [3, 4]],
    "empty list": lambda lib: [],
    "nested empty list": lambda lib: [[]],
    "list of float64 arrays": lambda lib: [np.zeros(2), np.zeros(2)],
    "list of float32 arrays": lambda lib: [np.zeros(2, _F32), np.zeros(2, _F32)],
    "floats and a float64 array": lambda lib: [[1.0], np.zeros(1)],
    "floats and a float16 array": lambda lib: [np.zeros(1, _F16), [1.0]],
    "int32 array and ints": lambda lib: [np.zeros(2, np.int32), [1, 2]],
    "float64 tensor": lambda lib: lib.zeros(2, dtype=lib.float64),
    "float32 tensor": lambda lib: lib.zeros(2),
    "int64 tensor": lambda lib: lib.zeros(2, dtype=lib.int64),
    "floats and a float64 tensor": lambda lib: [[1.0, 2.0], lib.zeros(2, dtype=lib.float64)],
    "0-d float64 tensor and float": lambda lib: [lib.tensor(1.0, dtype=lib.float64), 2.0],
    "0-d int tensors": lambda lib: [lib.tensor(1), lib.tensor(2)],
    "0-d int tensor and float": lambda lib: [lib.tensor(1), 2.5],
    "0-d int32 tensor and int": lambda lib: [lib.tensor(1, dtype=lib.int32), 2],
    "0-d float32 tensor and np.float64": lambda lib: [lib.tensor(1.0), _F64(2.0)],
    "nested 0-d float64 tensors": lambda lib: [[lib.tensor(1.0, dtype=lib.float64)], [3.0]],
}


def _dtype_name(dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _check_like_torch(make, data_of):
    """descent's dtype is torch's, except that float16 (which descent does not have) is
    refused with an error that says what to do."""
    with warnings.catch_warnings():  # torch's advice on copying tensors and lists of arrays
        warnings.simplefilter("ignore", UserWarning)
        expected = _dtype_name(make(torch, data_of(torch)).dtype)
    if expected == "float16":
        with pytest.raises(TypeError, match=r"float16 is not supported.*astype\(np.float32\)"):
            make(ds, data_of(ds))
    else:
        assert _dtype_name(make(ds, data_of(ds)).dtype) == expected


@pytest.mark.parametrize("default", ["float32", "float64"])
@pytest.mark.parametrize("case", sorted(_FROM_DATA))
@pytest.mark.parametrize("creation", ["tensor", "as_tensor"])
def test_tensor_takes_its_dtype_from_the_data_as_torch_does(creation, case, default):
    with default_dtype(default):
        _check_like_torch(lambda lib, data: getattr(lib, creation)(data), _FROM_DATA[case])


@pytest.mark.parametrize(
    "dtype", [_F64, _F32, np.int64, np.int32, np.uint8, np.bool_, _F16], ids=lambda d: d.__name__
)
def test_from_numpy_keeps_the_arrays_dtype_as_torch_does(dtype):
    _check_like_torch(lambda lib, data: lib.from_numpy(data), lambda lib: np.zeros(2, dtype))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_an_explicit_dtype_converts_any_data(dtype):
    for data in (np.zeros(2, _F16), np.zeros(2), [_F16(1.0)], ds.zeros(2, dtype=ds.float64)):
        assert ds.tensor(data, dtype=dtype).dtype == dtype
        assert ds.as_tensor(data, dtype=dtype).dtype == dtype


@contextlib.contextmanager
def default_dtype(name):
    """torch's and descent's default dtype set to ``name`` for the block."""
    before_torch, before_ds = torch.get_default_dtype(), ds.get_default_dtype()
    torch.set_default_dtype(getattr(torch, name))
    ds.set_default_dtype(getattr(ds, name))
    try:
        yield
    finally:
        torch.set_default_dtype(before_torch)
        ds.set_default_dtype(before_ds)


@pytest.mark.parametrize(
    "make",
    [
        lambda lib: lib.zeros(2),
        lambda lib: lib.ones(2),
        lambda lib: lib.empty(2),
        lambda lib: lib.randn(2),
        lambda lib: lib.rand(2),
        lambda lib: lib.eye(2),
        lambda lib: lib.full((2,), 1.5),
        lambda lib: lib.arange(1.0),
        lambda lib: lib.linspace(0, 1, 3),
        lambda lib: lib.tensor([1.0]) * 1.5,
        lambda lib: lib.zeros(2, dtype=lib.float32) * 1.5,
        lambda lib: lib.tensor([1]) * 1.5,
        lambda lib: lib.nn.Linear(2, 2).weight,
    ],
    ids=[
        "zeros",
        "ones",
        "empty",
        "randn",
        "rand",
        "eye",
        "full",
        "arange",
        "linspace",
        "floats times a float",
        "float32 times a float",
        "ints times a float",
        "Linear",
    ],  # fmt: skip
)
@pytest.mark.parametrize("default", ["float32", "float64"])
def test_the_default_dtype_is_the_one_set_as_in_torch(make, default):
    with default_dtype(default):
        assert ds.get_default_dtype() == getattr(ds, default)
        assert _dtype_name(make(ds).dtype) == _dtype_name(make(torch).dtype)
    assert ds.get_default_dtype() == ds.float32


def test_only_float32_and_float64_can_be_the_default_dtype():
    for dtype in (ds.int64, "int64", np.float16):
        with pytest.raises(TypeError, match="default dtype.*float32.*float64"):
            ds.set_default_dtype(dtype)
    assert ds.get_default_dtype() == ds.float32


def test_dtypes_are_numpy_dtypes():
    assert ds.float32 == np.float32 and ds.float64 == np.float64 and ds.int64 == np.int64


def test_an_unknown_dtype_name_is_refused_with_the_choices():
    with pytest.raises(TypeError, match="float16x.*float64"):
        ds.tensor([1.0], dtype="float16x")


@pytest.mark.parametrize(
    "make",
    [
        lambda: ds.tensor([1, 2], requires_grad=True),
        lambda: ds.tensor([1, 2]).requires_grad_(),
        lambda: ds.zeros(2, dtype=ds.int64, requires_grad=True),
        lambda: ds.arange(3, requires_grad=True),
    ],
)
def test_only_floating_tensors_can_require_grad(make):
    with pytest.raises(RuntimeError, match="only floating-point tensors can require gradients"):
        make()


@pytest.mark.parametrize(
    "compute, expected",
    [
        (lambda x, i: x * 2.0, np.float32),
        (lambda x, i: 2.0 * x, np.float32),
        (lambda x, i: x * 2, np.float32),
        (lambda x, i: x**2, np.float32),
        (lambda x, i: 2.0**x, np.float32),
        (lambda x, i: x + np.float64(1.5), np.float32),
        (lambda x, i: x * np.array([1.0, 2.0]), np.float32),
        (lambda x, i: x + i, np.float32),
        (lambda x, i: i - x, np.float32),
        (lambda x, i: x @ i, np.float32),
        (lambda x, i: i * 2, np.int64),
        (lambda x, i: i * 2.5, np.float32),
        (lambda x, i: i / 2, np.float32),
        (lambda x, i: x + x.double(), np.float64),
    ],
)
def test_operators_keep_float32(compute, expected):
    """Torch's promotion with default dtype float32: no silent upcast to float64."""
    x, i = ds.tensor([1.0, 2.0]), ds.tensor([3, 4])
    assert compute(x, i).dtype == expected


# ---- creation functions -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["zeros", "ones"])
def test_zeros_and_ones(name):
    make, fill = getattr(ds, name), {"zeros": 0.0, "ones": 1.0}[name]
    for t in (make(2, 3), make((2, 3)), make([2, 3])):
        assert t.shape == (2, 3) and t.dtype == np.float32 and not t.requires_grad
        np.testing.assert_array_equal(t.numpy(), np.full((2, 3), fill))
    assert make(4, dtype="float64").dtype == np.float64
    assert make(2, dtype=ds.int64).dtype == np.int64
    assert make(()).shape == ()
    assert make(3, requires_grad=True).requires_grad


def test_full():
    t = ds.full((2, 3), 1.5)
    assert t.shape == (2, 3) and t.dtype == np.float32
    np.testing.assert_array_equal(t.numpy(), np.full((2, 3), 1.5))
    assert ds.full(3, 7).dtype == np.int64 and ds.full(3, 7).shape == (3,)
    assert ds.full((2,), 7, dtype="float64").dtype == np.float64
    assert ds.full((2,), 0.5, requires_grad=True).requires_grad


def test_zeros_like_and_ones_like():
    ref = ds.tensor([[1.0, 2.0, 3.0]], dtype=ds.float64)
    z, o = ds.zeros_like(ref), ds.ones_like(ref)
    assert z.shape == o.shape == (1, 3) and z.dtype == o.dtype == np.float64
    np.testing.assert_array_equal(z.numpy(), 0)
    np.testing.assert_array_equal(o.numpy(), 1)
    assert ds.ones_like(ds.tensor([1, 2])).dtype == np.int64
    assert ds.zeros_like(ref, dtype=ds.float32).dtype == np.float32
    assert ds.ones_like(ref, requires_grad=True).requires_grad


@pytest.mark.parametrize("name", ["randn", "rand"])
def test_random_tensors(name):
    make = getattr(ds, name)
    t = make(2, 3)
    assert t.shape == (2, 3) and t.dtype == np.float32
    assert make((4,), dtype=ds.float64).dtype == np.float64
    assert make(2, requires_grad=True).requires_grad
    sample = make(20_000, dtype=ds.float64).numpy()
    if name == "randn":
        assert abs(sample.mean()) < 0.05 and abs(sample.std() - 1) < 0.05
    else:
        assert sample.min() >= 0 and sample.max() < 1
        assert abs(sample.mean() - 0.5) < 0.02 and abs(sample.var() - 1 / 12) < 0.01


@pytest.mark.parametrize(
    "args, kwargs",
    [
        ((5,), {}),
        ((2, 7), {}),
        ((1, 10, 3), {}),
        ((0.0, 1.0, 0.25), {}),
        ((5,), {"dtype": "float64"}),
    ],
)
def test_arange_matches_torch(args, kwargs):
    t = ds.arange(*args, **kwargs)
    expected = torch.arange(*args, dtype={"float64": torch.float64}.get(kwargs.get("dtype")))
    if expected.dtype.is_floating_point and "dtype" not in kwargs:
        expected = expected.to(torch.float32)  # torch's default dtype, whatever a test module set
    np.testing.assert_array_equal(t.numpy(), expected.numpy())
    assert t.dtype == expected.numpy().dtype


def test_eye_matches_torch():
    np.testing.assert_array_equal(ds.eye(3).numpy(), torch.eye(3, dtype=torch.float32).numpy())
    np.testing.assert_array_equal(ds.eye(2, 4).numpy(), torch.eye(2, 4).numpy())
    assert ds.eye(3).dtype == np.float32 and ds.eye(2, dtype=ds.float64).dtype == np.float64


def test_manual_seed_repeats_and_different_seeds_differ():
    ds.manual_seed(123)
    a, b = ds.randn(5), ds.rand(3)
    ds.manual_seed(123)
    np.testing.assert_array_equal(ds.randn(5).numpy(), a.numpy())
    np.testing.assert_array_equal(ds.rand(3).numpy(), b.numpy())
    ds.manual_seed(124)
    assert not np.array_equal(ds.randn(5).numpy(), a.numpy())


def test_rng_state_round_trip():
    ds.manual_seed(7)
    ds.randn(3)
    state = ds.get_rng_state()
    first = ds.randn(4).numpy().copy(), ds.rand(2).numpy().copy()
    ds.randn(10)
    ds.set_rng_state(state)
    second = ds.randn(4).numpy(), ds.rand(2).numpy()
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])


# ---- properties and conversions ---------------------------------------------------------------


def test_properties():
    t = ds.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert t.shape == (2, 3) and t.ndim == 2 and t.dtype == np.float32
    assert t.size() == (2, 3) and t.size(0) == 2 and t.size(-1) == 3
    assert isinstance(t.numpy(), np.ndarray)
    np.testing.assert_array_equal(t.numpy(), [[1, 2, 3], [4, 5, 6]])
    assert t.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert ds.tensor([[2.5]]).item() == 2.5 and isinstance(ds.tensor([[2.5]]).item(), float)
    assert ds.tensor(3).item() == 3 and isinstance(ds.tensor(3).item(), int)
    with pytest.raises(ValueError, match=r"one element.*\(2, 3\)"):
        t.item()


def test_requires_grad_detach_and_zero_grad():
    x = ds.tensor([1.0, 2.0])
    assert not x.requires_grad and x.grad is None
    assert x.requires_grad_() is x and x.requires_grad
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])
    d = x.detach()
    assert not d.requires_grad and d.grad is None
    x.zero_grad(set_to_none=False)
    assert x.grad.shape == (2,) and x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), 0)
    x.zero_grad()
    assert x.grad is None
    x.requires_grad_(False)
    assert not x.requires_grad


def test_len_and_iteration():
    t = ds.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    assert len(t) == 3
    rows = list(t)
    assert len(rows) == 3 and all(r.shape == (2,) for r in rows)
    np.testing.assert_array_equal(rows[2].numpy(), [5.0, 6.0])
    with pytest.raises(TypeError, match="0-d"):
        len(ds.tensor(1.0))
    with pytest.raises(TypeError, match="0-d"):
        iter(ds.tensor(1.0))


def test_gradient_flows_through_iteration():
    values = [[1.0, -2.0], [0.5, 3.0], [2.0, 1.0]]
    x = f64(values)
    total = 0
    for k, row in enumerate(x):
        total = total + (row * row).sum() * (k + 1)
    total.backward()
    t = as_torch(values)
    expected = 0
    for k, row in enumerate(t):
        expected = expected + (row * row).sum() * (k + 1)
    expected.backward()
    assert_close(x.grad, t.grad)


def test_python_number_protocols():
    assert float(ds.tensor([[2.5]])) == 2.5 and int(ds.tensor([7])) == 7
    assert bool(ds.tensor([1.0])) is True and bool(ds.tensor(0)) is False
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(ds.tensor([1.0, 2.0]))
    items = [10, 20, 30]
    assert items[ds.tensor(1)] == 20
    assert items[ds.tensor([2])] == 30  # one element, as torch allows
    for bad in (ds.tensor(1.0), ds.tensor([0, 1])):
        with pytest.raises(TypeError, match="integer tensors of one element"):
            items[bad]


def test_conversions_keep_the_gradient_flowing():
    x = ds.tensor([1.0, 2.0], requires_grad=True)
    c = x.clone()
    assert not np.shares_memory(c.numpy(), x.numpy())
    d = x.double()
    assert d.dtype == np.float64 and x.to("float64").dtype == np.float64
    (c * 3 + d * d).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.numpy(), 3 + 2 * np.array([1.0, 2.0]))
    labels = x.long()
    assert labels.dtype == np.int64 and not labels.requires_grad
    assert ds.tensor([1, 2]).float().dtype == np.float32


@pytest.mark.parametrize("op", ["__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__"])
def test_comparisons_give_bool_tensors_without_grad(op):
    a = np.array([1.0, 2.0, 3.0])
    x = ds.tensor(a, requires_grad=True)
    for other in (2.0, ds.tensor([3.0, 2.0, 1.0])):
        result = getattr(x, op)(other)
        expected = getattr(a, op)(other.numpy() if isinstance(other, ds.Tensor) else other)
        assert result.dtype == np.bool_ and not result.requires_grad and result.grad_fn is None
        np.testing.assert_array_equal(result.numpy(), expected)


def test_repr():
    assert repr(ds.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(ds.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(ds.tensor([1.0, 2.0], requires_grad=True)) == "tensor([1., 2.], requires_grad=True)"
    assert "dtype=float64" in repr(ds.tensor([1.5], dtype=ds.float64))
    x = ds.tensor([1.0], requires_grad=True)
    assert repr(x * 2) == "tensor([2.], grad_fn=<MulBackward0>)"


# ---- indexing ---------------------------------------------------------------------------------


def _index_cases():
    # each: (shape, index as torch takes it, how descent takes it)
    i = np.array([2, 0, 2, 2])
    yield "int-array", (4, 3), torch.tensor(i), i
    yield "int-list", (4, 3), [1, 1, 3], [1, 1, 3]
    yield "tensor-index", (4, 3), torch.tensor(i), ds.tensor(i)
    yield (
        "two-arrays",
        (4, 3),
        (torch.tensor([0, 3, 0]), torch.tensor([1, 2, 1])),
        (
            ds.tensor([0, 3, 0]),
            ds.tensor([1, 2, 1]),
        ),
    )
    yield (
        "slice-and-array",
        (4, 3),
        (slice(1, None), torch.tensor([2, 2])),
        (
            slice(1, None),
            np.array([2, 2]),
        ),
    )
    mask = np.array([[True, False, True], [False, False, True], [True, True, False], [0, 0, 0]])
    yield "mask-tensor", (4, 3), torch.tensor(mask.astype(bool)), ds.tensor(mask.astype(bool))
    yield (
        "row-mask",
        (4, 3),
        torch.tensor([True, False, True, True]),
        np.array([True, False, True, True]),
    )
    yield "basic", (4, 3), (slice(None, None, 2), -1), (slice(None, None, 2), -1)
    yield "none-ellipsis", (4, 3), (None, Ellipsis, 1), (None, Ellipsis, 1)
    yield "scalar-tensor", (4, 3), torch.tensor(2), ds.tensor(2)


@pytest.mark.parametrize("name, shape, t_index, d_index", list(_index_cases()))
def test_indexing_and_its_gradient_match_torch(name, shape, t_index, d_index):
    rng = np.random.default_rng(0)
    a = rng.standard_normal(shape)
    x, t = f64(a), as_torch(a)
    y, ty = x[d_index], t[t_index]
    assert_close(y, ty)
    v = rng.standard_normal(ty.shape)
    y.backward(ds.tensor(v, dtype=ds.float64))
    ty.backward(torch.tensor(v))
    assert_close(x.grad, t.grad)


def test_repeated_indices_accumulate_their_gradients():
    x = f64([10.0, 20.0, 30.0])
    y = x[ds.tensor([0, 2, 0, 0])]
    (y * ds.tensor([1.0, 2.0, 3.0, 4.0], dtype=ds.float64)).sum().backward()
    assert_close(x.grad, [1.0 + 3.0 + 4.0, 0.0, 2.0])


def test_an_out_of_range_index_names_the_shape():
    with pytest.raises(IndexError, match=r"shape \(3,\)"):
        ds.tensor([1.0, 2.0, 3.0])[ds.tensor([0, 7])]


# ---- reductions against torch -----------------------------------------------------------------


@st.composite
def _reduction_case(draw):
    shape = draw(array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4))
    ndim = len(shape)
    axes = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    negative = draw(st.lists(st.booleans(), min_size=len(axes), max_size=len(axes)))
    dims = tuple(a - ndim if neg else a for a, neg in zip(axes, negative))
    dim = dims[0] if len(dims) == 1 and draw(st.booleans()) else dims
    return shape, dim, draw(st.booleans()), draw(st.integers(0, 2**16))


def _check_reduction(ds_fn, torch_fn, shape, seed):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    x, t = f64(a), as_torch(a)
    y, ty = ds_fn(x), torch_fn(t)
    assert_close(y, ty, rtol=1e-10, atol=1e-12)
    v = rng.standard_normal(ty.shape)
    y.backward(ds.tensor(v, dtype=ds.float64))
    ty.backward(torch.tensor(v))
    assert_close(x.grad, t.grad, rtol=1e-10, atol=1e-12)


def _dims_tuple(dim) -> tuple:
    return (dim,) if isinstance(dim, int) else dim


@settings(max_examples=25, deadline=None)
@given(case=_reduction_case())
def test_sum_and_mean_match_torch(case):
    shape, dim, keepdim, seed = case
    _check_reduction(lambda x: x.sum(dim, keepdim), lambda t: t.sum(dim, keepdim), shape, seed)
    _check_reduction(
        lambda x: x.mean(dim=dim, keepdim=keepdim),
        lambda t: t.mean(dim=dim, keepdim=keepdim),
        shape,
        seed,
    )


@settings(max_examples=25, deadline=None)
@given(case=_reduction_case(), correction=st.sampled_from([0, 1]))
def test_var_matches_torch(case, correction):
    shape, dim, keepdim, seed = case
    dims = _dims_tuple(dim)
    if np.prod([shape[d] for d in dims]) <= correction:
        return  # torch gives nan or inf there
    _check_reduction(
        lambda x: x.var(dim=dim, keepdim=keepdim, correction=correction),
        lambda t: t.var(dim=dim, keepdim=keepdim, correction=correction),
        shape,
        seed,
    )


@settings(max_examples=25, deadline=None)
@given(case=_reduction_case(), largest=st.booleans())
def test_max_and_min_with_a_dim_match_torch(case, largest):
    shape, dim, keepdim, seed = case
    d = dim if isinstance(dim, int) else dim[0]
    name = "max" if largest else "min"
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    x, t = f64(a), as_torch(a)
    result, expected = getattr(x, name)(dim=d, keepdim=keepdim), getattr(t, name)(d, keepdim)
    values, indices = result  # unpacks like torch's (values, indices)
    assert values is result.values and indices is result.indices
    assert_close(values, expected.values)
    assert indices.dtype == np.int64 and not indices.requires_grad
    np.testing.assert_array_equal(indices.numpy(), expected.indices.numpy())
    v = rng.standard_normal(expected.values.shape)
    values.backward(ds.tensor(v, dtype=ds.float64))
    expected.values.backward(torch.tensor(v))
    assert_close(x.grad, t.grad)
    np.testing.assert_array_equal(
        x.argmax(d, keepdim).numpy() if largest else x.argmin(d, keepdim).numpy(),
        (t.argmax(d, keepdim) if largest else t.argmin(d, keepdim)).numpy(),
    )


@settings(max_examples=25, deadline=None)
@given(case=_reduction_case(), largest=st.booleans())
def test_max_and_min_over_dims_match_torch_amax(case, largest):
    shape, dim, keepdim, seed = case
    ds_name, torch_name = ("max", "amax") if largest else ("min", "amin")
    _check_reduction(
        lambda x: getattr(x, ds_name)(dim=_dims_tuple(dim), keepdim=keepdim),
        lambda t: getattr(t, torch_name)(dim=_dims_tuple(dim), keepdim=keepdim),
        shape,
        seed,
    )


def test_full_reductions_match_torch():
    a = np.random.default_rng(3).standard_normal((3, 4))
    for name in ("sum", "mean", "var", "max", "min", "logsumexp"):
        x, t = f64(a), as_torch(a)
        y = getattr(x, name)() if name != "logsumexp" else x.logsumexp(dim=(0, 1))
        ty = getattr(t, name)() if name != "logsumexp" else t.logsumexp(dim=(0, 1))
        assert y.shape == ()
        assert_close(y, ty)
        y.backward()
        ty.backward()
        assert_close(x.grad, t.grad)
    np.testing.assert_array_equal(f64(a).argmax().numpy(), torch.tensor(a).argmax().numpy())


def test_var_with_correction_zero_by_hand():
    x = f64([1.0, 2.0, 3.0, 6.0])
    y = x.var(correction=0)
    assert_close(y, 3.5)  # mean 3, squares 4 1 0 9
    assert x.var(unbiased=False).item() == pytest.approx(3.5)
    assert x.var().item() == pytest.approx(14 / 3)
    y.backward()
    assert_close(x.grad, 2 * (np.array([1.0, 2.0, 3.0, 6.0]) - 3) / 4)


def test_max_over_ties_splits_the_gradient_like_torch_amax():
    a = np.array([[1.0, 3.0, 3.0, 2.0], [5.0, 5.0, 0.0, 5.0]])
    x, t = f64(a), as_torch(a)
    x.max(dim=(1,)).sum().backward()
    t.amax(dim=1).sum().backward()
    assert_close(x.grad, t.grad)
    assert_close(x.grad, [[0, 0.5, 0.5, 0], [1 / 3, 1 / 3, 0, 1 / 3]])

    x, t = f64(a), as_torch(a)
    x.max().backward()
    t.amax().backward()
    assert_close(x.grad, t.grad)
    assert_close(x.grad, [[0, 0, 0, 0], [1 / 3, 1 / 3, 0, 1 / 3]])


def test_max_with_a_dim_over_ties_picks_the_first_like_torch():
    a = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    x, t = f64(a), as_torch(a)
    values, indices = x.max(dim=1)
    expected = t.max(dim=1)
    np.testing.assert_array_equal(indices.numpy(), expected.indices.numpy())
    np.testing.assert_array_equal(x.argmax(dim=1).numpy(), t.argmax(dim=1).numpy())
    values.sum().backward()
    expected.values.sum().backward()
    assert_close(x.grad, t.grad)


# ---- shape errors -----------------------------------------------------------------------------


def test_matmul_error_names_both_shapes_and_the_mismatch():
    with pytest.raises(RuntimeError) as info:
        ds.ones(2, 3) @ ds.ones(5, 4)
    assert "(2, 3) and (5, 4) cannot be multiplied (3 != 5)" in str(info.value)


@pytest.mark.parametrize(
    "compute, name",
    [
        (lambda a, b: a + b, "add"),
        (lambda a, b: a - b, "sub"),
        (lambda a, b: a * b, "mul"),
        (lambda a, b: a / b, "div"),
        (lambda a, b: a**b, "pow"),
        (lambda a, b: ds.maximum(a, b), "maximum"),
        (lambda a, b: ds.where(a > 0, a, b), "where"),
    ],
)
def test_broadcasting_errors_name_the_op_and_both_shapes(compute, name):
    with pytest.raises(ValueError) as info:
        compute(ds.ones(2, 3), ds.ones(4))
    message = str(info.value)
    assert message.startswith(name) and "(2, 3)" in message and "(4,)" in message
    if name != "where":
        assert "dim -1: 3 vs 4" in message


def test_reshape_error_names_both_shapes():
    with pytest.raises(RuntimeError) as info:
        ds.ones(2, 3).reshape(4, 2)
    assert "(4, 2)" in str(info.value) and "(2, 3)" in str(info.value)


@pytest.mark.parametrize(
    "compute, name",
    [
        (lambda x: x.sum(dim=2), "sum"),
        (lambda x: x.mean(dim=(0, -3)), "mean"),
        (lambda x: x.max(dim=5), "max"),
        (lambda x: x.argmax(dim=-4), "argmax"),
        (lambda x: x.softmax(dim=2), "softmax"),
        (lambda x: x.log_softmax(dim=2), "log_softmax"),
        (lambda x: x.logsumexp(dim=3), "logsumexp"),
        (lambda x: x.transpose(0, 2), "transpose"),
        (lambda x: x.unsqueeze(4), "unsqueeze"),
    ],
)
def test_an_out_of_range_dim_names_the_op(compute, name):
    with pytest.raises(IndexError, match=rf"^{name}: dimension -?\d+ is out of range"):
        compute(ds.ones(2, 3))


# ---- numerical stability ----------------------------------------------------------------------


def _stable_cases():
    w = np.array([0.5, -1.0, 2.0])  # an upstream gradient, so softmax's gradient is not 0

    def softmax_grad(x):
        s = np.exp(x - x.max())
        s /= s.sum()
        return s * (w - (w * s).sum())

    def log_softmax_grad(x):
        s = np.exp(x - x.max())
        s /= s.sum()
        return w - s * w.sum()

    def sigmoid_grad(x):
        z = np.exp(-np.abs(x))  # never overflows
        s = np.where(x >= 0, 1 / (1 + z), z / (1 + z))
        return w * s * (1 - s)

    yield "sigmoid", lambda x: x.sigmoid(), torch.sigmoid, sigmoid_grad
    yield "softmax", lambda x: x.softmax(0), lambda t: t.softmax(0), softmax_grad
    yield "log_softmax", lambda x: x.log_softmax(0), lambda t: t.log_softmax(0), log_softmax_grad
    yield "logsumexp", lambda x: x.logsumexp(0), lambda t: t.logsumexp(0), None


@pytest.mark.filterwarnings("error::RuntimeWarning")  # no overflow on the way
@pytest.mark.parametrize("name, fn, torch_fn, closed_grad", list(_stable_cases()))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_large_inputs_give_finite_values_and_gradients(name, fn, torch_fn, closed_grad, dtype):
    a = np.array([1000.0, -1000.0, 0.0])
    w = np.array([0.5, -1.0, 2.0])
    x = ds.tensor(a, dtype=dtype, requires_grad=True)
    t = torch.tensor(a, requires_grad=True)  # the reference in float64
    y, ty = fn(x), torch_fn(t)
    assert y.dtype == dtype and np.isfinite(y.numpy()).all()
    tol = 1e-6 if dtype == "float32" else 1e-12
    assert_close(y, ty.detach().numpy().astype(dtype), rtol=tol, atol=tol)
    if y.ndim:
        y.backward(ds.tensor(w, dtype=dtype))
        ty.backward(torch.tensor(w))
    else:
        y.backward()
        ty.backward()
    assert x.grad.dtype == dtype and np.isfinite(x.grad.numpy()).all()
    assert_close(x.grad, t.grad.numpy().astype(dtype), rtol=tol, atol=tol)
    if closed_grad is not None:
        assert_close(x.grad, closed_grad(a).astype(dtype), rtol=tol, atol=tol)
    else:  # d logsumexp / dx = softmax(x) = (1, 0, 0) here
        assert_close(x.grad, np.array([1.0, 0.0, 0.0], dtype))


# ---- PyTorch's names: dtype aliases, devices, the rest of the creation functions -------------


@pytest.mark.parametrize(
    "alias, canonical, torch_alias, torch_canonical",
    [
        ("float", "float32", torch.float, torch.float32),
        ("double", "float64", torch.double, torch.float64),
        ("long", "int64", torch.long, torch.int64),
        ("int", "int32", torch.int, torch.int32),
        ("bool", "bool_", torch.bool, torch.bool),
    ],
)
def test_dtype_aliases_are_pytorchs(alias, canonical, torch_alias, torch_canonical):
    assert (getattr(ds, alias) == getattr(ds, canonical)) == (torch_alias == torch_canonical)
    x = ds.zeros(2, dtype=getattr(ds, canonical))
    assert x.dtype == getattr(ds, alias) and x.dtype == getattr(ds, canonical)
    assert ds.zeros(2, dtype=getattr(ds, alias)).dtype == getattr(ds, canonical)
    assert str(torch.zeros(2, dtype=torch_alias).numpy().dtype) == str(x.numpy().dtype)


def test_default_float_tensor_compares_equal_to_ds_float():
    assert ds.tensor([1.0]).dtype == ds.float
    assert ds.tensor([1]).dtype == ds.long
    assert ds.tensor([True]).dtype == ds.bool
    assert ds.bool_ is ds.bool


@pytest.mark.parametrize("name", ["half", "float16", "bfloat16"])
def test_half_precision_is_refused_clearly(name):
    assert not hasattr(ds, name)
    with pytest.raises(AttributeError, match=f"no half-precision dtype \\(ds.{name}\\)"):
        getattr(ds, name)


def test_device_cpu_is_pytorchs():
    d = ds.device("cpu")
    assert repr(d) == repr(torch.device("cpu")) == "device(type='cpu')"
    assert str(d) == str(torch.device("cpu")) and d.type == torch.device("cpu").type == "cpu"
    assert repr(ds.device("cpu:0")) == repr(torch.device("cpu:0"))
    assert d == ds.device("cpu") and d == "cpu" and "cpu" == d  # noqa: SIM300
    assert d != ds.device("cpu:0") and d != "cuda" and hash(d) == hash(ds.device(d))
    assert ds.device(d) == d


@pytest.mark.parametrize("where", ["cuda", "cuda:0", "mps", 0])
def test_any_device_but_the_cpu_is_refused_naming_it(where):
    name = "cuda" if where == 0 else where.partition(":")[0]
    message = f"descent runs on the CPU only; there is no '{name}' backend"
    with pytest.raises(RuntimeError, match=message):
        ds.zeros(2, device=where)
    with pytest.raises(RuntimeError, match=message):
        ds.ones(2).to(where)
    if isinstance(where, str):
        with pytest.raises(RuntimeError, match=message):
            ds.device(where)


def test_bad_device_strings_are_refused():
    with pytest.raises(RuntimeError, match="invalid device string: 'cpu:x'"):
        ds.device("cpu:x")
    with pytest.raises(RuntimeError, match="device index must be a non-negative integer"):
        ds.device("cpu", -1)


@pytest.mark.parametrize("where", [None, "cpu", ds.device("cpu")])
def test_every_creation_function_takes_device(where):
    made = [
        ds.tensor([1.0], device=where), ds.zeros(2, device=where), ds.ones(2, device=where),
        ds.empty(2, device=where), ds.full((2,), 1.0, device=where),
        ds.zeros_like(ds.ones(2), device=where), ds.ones_like(ds.ones(2), device=where),
        ds.randn(2, device=where), ds.rand(2, device=where), ds.randint(3, (2,), device=where),
        ds.randperm(3, device=where), ds.arange(3, device=where),
        ds.linspace(0, 1, 3, device=where), ds.eye(2, device=where),
        ds.as_tensor([1.0], device=where), ds.asarray([1.0], device=where),
    ]  # fmt: skip
    expected = torch.zeros(1, device=None if where is None else str(where)).device
    for t in made:
        assert t.device == expected.type and repr(t.device) == repr(expected)


def test_tensor_device_cpu_and_to():
    x = ds.ones(2, requires_grad=True)
    t = torch.ones(2, requires_grad=True)
    assert repr(x.device) == repr(t.device) and not x.is_cuda
    assert (x.cpu() is x) == (t.cpu() is t)
    assert (x.to("cpu") is x) == (t.to("cpu") is t)
    assert (x.to(ds.device("cpu")) is x) == (t.to(torch.device("cpu")) is t)
    assert x.to(ds.float64).dtype == ds.float64 and x.to("double").dtype == ds.float64
    assert x.to("cpu", ds.float64).dtype == ds.float64
    assert x.to(device="cpu", dtype=ds.int64).dtype == ds.int64
    assert x.to(ds.zeros(1, dtype=ds.float64)).dtype == ds.float64
    assert x.to(ds.device("cpu"), "int32").dtype == ds.int32
    x.to("cpu", ds.float64).sum().backward()  # the cast is differentiable
    assert np.array_equal(x.grad.numpy(), np.ones(2))
    copied = x.to("cpu", copy=True)
    assert copied is not x and not np.shares_memory(copied.numpy(), x.numpy())
    with pytest.raises(RuntimeError, match="there is no 'cuda' backend"):
        x.cuda()


def test_cuda_answers_like_a_machine_without_cuda():
    import descent.cuda  # noqa: PLC0415 - the module's own import path is the point

    assert descent.cuda is ds.cuda
    assert ds.cuda.is_available() is False and ds.cuda.device_count() == 0
    device = "cuda" if ds.cuda.is_available() else "cpu"
    assert ds.zeros(2, device=device).device == "cpu"


@pytest.mark.parametrize(
    "start, end, steps, dtype",
    [(0, 1, 5, None), (-1, 1, 7, None), (0.0, 10.0, 11, "float64"), (3, 3, 4, None),
     (2, -5, 9, "float64"), (0, 1, 1, None), (0, 1, 0, None), (0, 10, 5, "int64"),
     (-10, 0, 5, "int64"), (0.1, 0.9, 100, None)],
)  # fmt: skip
def test_linspace_matches_torch(start, end, steps, dtype):
    got = ds.linspace(start, end, steps, dtype=dtype)
    expected = torch.linspace(start, end, steps, dtype=getattr(torch, dtype or "float32"))
    assert got.dtype == np.dtype(str(expected.numpy().dtype)) and got.shape == expected.shape
    # PyTorch's kernel may fuse a multiply-add, so float32 values can differ in the last bit
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=2e-7, atol=6e-8)
    if steps:
        assert got.tolist()[0] == expected.tolist()[0] and got.tolist()[-1] == expected.tolist()[-1]


def test_linspace_requires_grad_and_refuses_bad_steps():
    assert ds.linspace(0, 1, 3, requires_grad=True).requires_grad
    with pytest.raises(RuntimeError, match="number of steps must be non-negative"):
        torch.linspace(0, 1, -1)
    with pytest.raises(RuntimeError, match="number of steps must be non-negative, got -1"):
        ds.linspace(0, 1, -1)
    with pytest.raises(TypeError, match="steps must be an int, got float"):
        ds.linspace(0, 1, 2.0)


def test_from_numpy_shares_memory_and_keeps_the_dtype():
    for dtype in (np.float64, np.float32, np.int64, np.int32, np.bool_):
        a = np.zeros(3, dtype)
        x, t = ds.from_numpy(a), torch.from_numpy(a.copy())
        assert str(x.dtype) == str(t.numpy().dtype)
        a[1] = 1
        assert x.tolist()[1] == 1  # writing the array shows in the tensor
        x.numpy()[2] = 1
        assert a[2] == 1
    with pytest.raises(TypeError, match=r"expected np.ndarray \(got list\)"):
        torch.from_numpy([1.0])
    with pytest.raises(TypeError, match=r"expected np.ndarray \(got list\)"):
        ds.from_numpy([1.0])
    with pytest.raises(TypeError, match="cannot share an array of dtype object"):
        ds.from_numpy(np.array([None]))


def test_as_tensor_shares_what_it_can_like_torch():
    a = np.arange(3.0)
    x, t = ds.as_tensor(a), torch.as_tensor(a)
    assert str(x.dtype) == str(t.numpy().dtype) == "float64"
    assert np.shares_memory(x.numpy(), a) == np.shares_memory(t.numpy(), a)
    y = ds.as_tensor(a, dtype=ds.float32)
    assert not np.shares_memory(y.numpy(), a) and y.dtype == ds.float
    assert ds.as_tensor(x) is x and ds.as_tensor(x, dtype=ds.float64) is x
    assert ds.as_tensor([1.0, 2.0]).dtype == torch.as_tensor([1.0, 2.0]).numpy().dtype
    assert ds.as_tensor([1, 2]).dtype == ds.long
    assert not np.shares_memory(ds.asarray(a, copy=True).numpy(), a)
    with pytest.raises(ValueError, match="copy=False"):
        ds.asarray(a, dtype=ds.float32, copy=False)


def test_empty_has_the_shape_and_dtype_asked():
    for size in [(2, 3), ((2, 3),), ([4],)]:
        x, t = ds.empty(*size), torch.empty(*size)
        assert x.shape == tuple(t.shape) and x.dtype == ds.float
    assert ds.empty(2, dtype=ds.int64).dtype == ds.int64
    assert ds.empty(2, requires_grad=True).requires_grad


def test_randint_overloads_match_torch():
    forms = [  # (args, kwargs, low, high)
        ((10, (3,)), {}, 0, 10), ((3, 10, (2, 2)), {}, 3, 10),
        ((), {"low": 2, "high": 5, "size": (3,)}, 2, 5), ((), {"high": 5, "size": (3,)}, 0, 5),
        ((5,), {"size": (4,)}, 0, 5), ((-3, 3, (50,)), {}, -3, 3),
        ((2, 5), {"size": (3,)}, 2, 5), ((2,), {"high": 5, "size": (3,)}, 2, 5),
    ]  # fmt: skip
    for args, kwargs, low, high in forms:
        x, t = ds.randint(*args, **kwargs), torch.randint(*args, **kwargs)
        assert x.shape == tuple(t.shape) and str(x.dtype) == str(t.numpy().dtype) == "int64"
        assert low <= x.numpy().min() and x.numpy().max() < high
        assert low <= t.numpy().min() and t.numpy().max() < high
    assert ds.randint(0, 2, (1000,)).numpy().min() == 0  # low is included ...
    assert ds.randint(0, 2, (1000,)).numpy().max() == 1  # ... high is not
    assert ds.randint(5, (3,), dtype=ds.float32).dtype == ds.float


def test_randint_follows_manual_seed():
    ds.manual_seed(7)
    first = ds.randint(0, 100, (20,)).tolist()
    ds.manual_seed(7)
    assert ds.randint(0, 100, (20,)).tolist() == first


def test_randint_errors():
    with pytest.raises(RuntimeError, match="expects 'from' to be less than 'to'"):
        torch.randint(5, 5, (2,))
    with pytest.raises(RuntimeError, match="low must be less than high.*low=5 >= high=5"):
        ds.randint(5, 5, (2,))
    with pytest.raises(TypeError, match=r"needs high and size: ds.randint\(high, size\)"):
        ds.randint(5)
    with pytest.raises(TypeError, match="multiple values for argument 'high'"):
        ds.randint(2, 5, (2,), high=3)
    with pytest.raises(RuntimeError, match="only floating-point tensors can require grad"):
        ds.randint(5, (2,), requires_grad=True)


def test_randperm_is_a_permutation_and_follows_manual_seed():
    for n in (0, 1, 10):
        x, t = ds.randperm(n), torch.randperm(n)
        assert x.shape == tuple(t.shape) and str(x.dtype) == str(t.numpy().dtype)
        assert sorted(x.tolist()) == list(range(n))
    ds.manual_seed(3)
    first = ds.randperm(30).tolist()
    ds.manual_seed(3)
    assert ds.randperm(30).tolist() == first
    assert ds.randperm(4, dtype=ds.int32).dtype == ds.int32
    with pytest.raises(RuntimeError, match="n must be non-negative, got -1"):
        ds.randperm(-1)


@pytest.mark.parametrize(
    "a, b, kwargs",
    [
        ([1.0, 2.0], [1.0, 2.0 + 1e-6], {}), ([1.0, 2.0], [1.0, 2.1], {}),
        ([1.0, 2.0], [1.0, 2.1], {"atol": 0.2}), ([100.0], [101.0], {"rtol": 0.01}),
        ([1.0, float("nan")], [1.0, float("nan")], {}),
        ([1.0, float("nan")], [1.0, float("nan")], {"equal_nan": True}),
        ([[1.0, 2.0]], [1.0, 2.0], {}), ([float("inf")], [float("inf")], {}),
    ],
)  # fmt: skip
def test_allclose_matches_torch(a, b, kwargs):
    expected = torch.allclose(torch.tensor(a), torch.tensor(b), **kwargs)
    x, y = ds.tensor(a), ds.tensor(b)
    assert ds.allclose(x, y, **kwargs) is expected
    assert x.allclose(y, **kwargs) is expected


# ---- PyTorch's further methods: sizes, indices, errors and in-place updates -----------------


def test_size_is_a_tuple_with_pytorchs_repr():
    x, tx = ds.zeros(2, 3), torch.zeros(2, 3)
    assert x.size() == tx.size() == (2, 3)
    assert isinstance(x.size(), tuple) and isinstance(x.size(), ds.Size)
    assert repr(x.size()) == repr(tx.size()).replace("torch", "descent")
    assert x.size(-1) == tx.size(-1) == 3 and x.numel() == ds.numel(x) == tx.numel()
    assert x.dim() == tx.dim() and x.size()[1:] == ds.Size([3])
    with pytest.raises(IndexError) as te:
        tx.size(5)
    with pytest.raises(IndexError) as e:
        x.size(5)
    assert str(e.value) == str(te.value)


def _same_error(fn, *cases):
    """fn(m, ...) raises the same message for descent and torch on each case."""
    for args in cases:
        with pytest.raises(Exception) as te:
            fn(torch, *[torch.from_numpy(a.numpy()) for a in args])
        with pytest.raises(type(te.value)) as e:
            fn(ds, *args)
        assert str(e.value) == str(te.value)


def test_errors_match_pytorchs():
    a, i3 = ds.randn(3, 4), ds.tensor([[0, 5]])
    _same_error(lambda m, x, i: m.gather(x, 1, i), (a, i3), (a, ds.tensor([0, 1])))
    _same_error(lambda m, x: m.topk(x, 5), (a,))
    _same_error(lambda m, x, y: m.mm(x, y), (a, a), (ds.randn(3), a), (a, ds.randn(4)))
    _same_error(lambda m, x: x.t(), (ds.randn(2, 3, 4),))
    _same_error(lambda m, x: m.chunk(x, 0), (a,))
    with pytest.raises(RuntimeError, match="^masked_fill_ only supports boolean masks"):
        a.masked_fill(ds.tensor([1, 0, 1, 0]), 0.0)  # torch names the dtype "long int"


@pytest.mark.parametrize("descending", [False, True])
def test_sort_and_topk_indices_match_pytorchs(descending):
    x = ds.tensor(np.random.default_rng(0).permutation(24).reshape(2, 3, 4) * 1.0)
    tx = as_torch(x)
    for dim in (0, 1, -1):
        v, i = x.sort(dim=dim, descending=descending)
        tv, ti = tx.sort(dim=dim, descending=descending)
        assert_close(v, tv) and np.testing.assert_array_equal(i.numpy(), ti.numpy())
        v, i = ds.topk(x, 2, dim=dim, largest=not descending)
        tv, ti = torch.topk(tx, 2, dim=dim, largest=not descending)
        np.testing.assert_array_equal(i.numpy(), ti.numpy())
        assert i.dtype == np.int64


def test_split_and_chunk_pieces_match_pytorchs():
    x = ds.arange(14.0).reshape(2, 7)
    for args in [(3, 1), ([2, 5], 1), (1, 0)]:
        ours, theirs = x.split(*args), as_torch(x).split(*args)
        assert [p.shape for p in ours] == [tuple(p.shape) for p in theirs]
    for n in (1, 3, 4, 7, 9):
        ours, theirs = ds.chunk(x, n, dim=1), torch.chunk(as_torch(x), n, dim=1)
        assert [p.shape for p in ours] == [tuple(p.shape) for p in theirs]


INPLACE = [
    ("add_", (2.0,), {"alpha": 3}), ("sub_", (1.5,), {}), ("mul_", (-2.0,), {}),
    ("div_", (4.0,), {}), ("zero_", (), {}), ("fill_", (0.25,), {}), ("clamp_", (-0.5, 0.5), {}),
    ("exp_", (), {}), ("copy_", (np.arange(4.0),), {}),
]  # fmt: skip


@pytest.mark.parametrize("name, args, kwargs", INPLACE, ids=[c[0] for c in INPLACE])
def test_inplace_methods_match_pytorchs_and_return_self(name, args, kwargs):
    a = np.random.default_rng(1).standard_normal((3, 4))
    x, tx = ds.tensor(a, dtype=ds.float64), torch.tensor(a)
    targs = [torch.tensor(v) if isinstance(v, np.ndarray) else v for v in args]
    assert getattr(x, name)(*args, **kwargs) is x
    getattr(tx, name)(*targs, **kwargs)
    assert_close(x, tx)
    # a leaf that requires grad: PyTorch's error, but allowed under no_grad
    w, tw = ds.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    with pytest.raises(RuntimeError) as te:
        getattr(tw, name)(*targs, **kwargs)
    with pytest.raises(RuntimeError) as e:
        getattr(w, name)(*args, **kwargs)
    assert str(e.value) == str(te.value)
    with ds.no_grad():
        assert getattr(w, name)(*args, **kwargs) is w


def test_random_inplace_fills_are_seeded_and_in_range():
    x = ds.empty(1000, dtype=ds.float64)
    ds.manual_seed(0)
    a = x.normal_(2.0, 0.5).numpy().copy()
    ds.manual_seed(0)
    assert np.array_equal(x.normal_(2.0, 0.5).numpy(), a)
    assert abs(a.mean() - 2.0) < 0.1 and abs(a.std() - 0.5) < 0.1
    u = x.uniform_(-1, 3).numpy()
    assert u.min() >= -1 and u.max() < 3 and x.dtype == np.float64
    assert ds.zeros(3).uniform_(**{"from": 1, "to": 2}).numpy().min() >= 1


def test_inplace_on_a_made_tensor_that_requires_grad_is_refused():
    y = ds.randn(3, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="not recorded in the graph"):
        y.add_(1)


@pytest.mark.parametrize("add", [False, True])
def test_scatter_of_one_value_that_requires_grad_matches_numerical_gradients(add):
    # torch takes only a Python number as a scalar src; here a 0-d tensor may need a gradient,
    # checked against central differences (index 0 is named twice in row 0)
    x = ds.tensor(np.random.default_rng(0).normal(size=(2, 3)), dtype=ds.float64,
                  requires_grad=True)  # fmt: skip
    v = ds.tensor(1.5, dtype=ds.float64, requires_grad=True)
    idx = ds.tensor(np.array([[0, 0], [2, 1]]))
    op = ds.scatter_add if add else ds.scatter
    assert ds.gradcheck(lambda a, b: (op(a, 1, idx, b) * a).sum(), [x, v])


def test_data_is_a_detached_tensor_sharing_memory_as_in_torch():
    """``.data`` is a Tensor cut from the graph over the same memory: the tutorials'
    manual update ``p.data.sub_(lr * p.grad.data)`` and ``max(out.data, 1)`` work, and
    the change is invisible to autograd, exactly as with torch."""
    start = np.array([1.0, -2.0, 3.0])
    for lib in (ds, torch):
        w = lib.tensor(start.copy(), requires_grad=True)
        (w * w).sum().backward()
        view = w.data
        assert isinstance(view, lib.Tensor) and not view.requires_grad
        assert view.grad_fn is None and view.is_leaf
        w.data.sub_(0.25 * w.grad.data)
        np.testing.assert_allclose(w.detach().numpy(), start - 0.25 * 2 * start)
        assert w.requires_grad and w.grad is not None  # w itself is untouched otherwise
        values, index = lib.max((w * 2).data, 0)
        assert values.item() == pytest.approx(2 * (start[2] - 0.5 * start[2]))
        assert index.item() == 2
    w = ds.tensor([1.0, 2.0], requires_grad=True)
    assert np.shares_memory(w.data.numpy(), w.numpy())
    assert isinstance(w.numpy(), np.ndarray)


def test_data_assignment_swaps_the_values_and_refuses_non_tensors():
    w = ds.tensor([1.0, 2.0], requires_grad=True)
    w.data = ds.tensor([[5.0, 6.0, 7.0]])
    assert w.shape == (1, 3) and w.requires_grad
    np.testing.assert_array_equal(w.numpy(), [[5.0, 6.0, 7.0]])
    with pytest.raises(TypeError, match="data must be set to a Tensor, got float"):
        w.data = 5.0


# ---- printing, as PyTorch prints --------------------------------------------------------------

REPRS = [
    lambda m: m.tensor([0.5, 1.0]),
    lambda m: m.tensor([[1, 2], [3, 4]]),
    lambda m: m.tensor(0.5),
    lambda m: m.tensor(3),
    lambda m: m.tensor(-0.0),
    lambda m: m.tensor([1.0, 2.0, 3.0]),
    lambda m: m.tensor([-1.0, 2.0]),
    lambda m: m.tensor([1e-5, 1.0]),
    lambda m: m.tensor([1e9, 2.0]),
    lambda m: m.tensor([1e20]),
    lambda m: m.tensor([123456.0, 0.5]),
    lambda m: m.tensor([100.0, -0.001]),
    lambda m: m.tensor([True, False]),
    lambda m: m.tensor([1, 2], dtype=m.int32),
    lambda m: m.tensor([0.5, 1.5], dtype=m.float64),
    lambda m: m.ones(3, requires_grad=True),
    lambda m: m.ones(3, requires_grad=True) * 2,
    lambda m: m.tensor(2.5, requires_grad=True),
    lambda m: (m.tensor([1.0, 2.0], requires_grad=True) ** 2).sum(),
    lambda m: m.zeros(0),
    lambda m: m.zeros(2, 0),
    lambda m: m.zeros(0, dtype=m.int64),
    lambda m: m.tensor([float("nan"), float("inf"), -float("inf"), 1.0]),
    lambda m: m.tensor([float("nan"), 0.25]),
    lambda m: m.tensor([0.0, 0.0]),
    lambda m: m.arange(24.0).reshape(2, 3, 4) - 11.5,
    lambda m: m.tensor([[[1, 2]], [[3, 4]]]),
    lambda m: m.arange(12).reshape(3, 4) - 5,
    lambda m: m.arange(30.0) / 3,  # wraps at 80 columns
    lambda m: m.tensor(np.linspace(-3, 3, 37).reshape(37, 1)),
    lambda m: m.arange(2000),  # summarized
    lambda m: m.arange(2000.0).reshape(40, 50) / 7,
    lambda m: m.tensor(np.arange(3000).reshape(3, 1000)),
    lambda m: m.tensor([[1e-8, 1.0], [3.0, 4.0]]),
    lambda m: m.linspace(0, 1, 40, requires_grad=True) * 3,  # the suffix on its own line
]


@pytest.mark.parametrize("make", REPRS)
def test_repr_is_pytorchs_with_numpys_dtype_names(make):
    want = repr(make(torch)).replace("dtype=torch.", "dtype=")
    assert repr(make(ds)) == want
    assert str(make(ds)) == want


def test_format_of_a_0d_tensor_is_its_numbers_and_any_other_takes_no_spec():
    assert f"{ds.tensor(2.5):.3f}" == f"{torch.tensor(2.5):.3f}" == "2.500"
    assert f"{ds.tensor([1, 2])[0]:>4}" == f"{torch.tensor([1, 2])[0]:>4}"
    assert f"{ds.tensor([0.5])}" == "tensor([0.5000])"
    with pytest.raises(TypeError, match="unsupported format string"):
        f"{ds.tensor([2.5]):.3f}"
    with pytest.raises(TypeError, match="unsupported format string"):
        f"{torch.tensor([2.5]):.3f}"


def test_shape_is_a_size_as_pytorchs():
    x = ds.zeros(2, 3)
    assert type(x.shape) is ds.Size and x.shape == (2, 3) == x.size()
    assert repr(x.shape) == repr(torch.zeros(2, 3).shape).replace("torch.", "descent.")
    assert x.shape[1:] == ds.Size([3]) and x.shape.numel() == 6


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32", "bool"])
def test_is_floating_point_as_pytorchs(dtype):
    want = torch.zeros(2, dtype=getattr(torch, dtype)).is_floating_point()
    assert ds.zeros(2, dtype=getattr(ds, dtype)).is_floating_point() == want


@pytest.mark.parametrize(
    "expr",
    [
        lambda m: m.tensor([5, -5, 7]) % 3,
        lambda m: m.tensor([5, -5, 7]) // 3,
        lambda m: 7 % m.tensor([3, -3, 2]),
        lambda m: 7 // m.tensor([3, -3, 2]),
        lambda m: m.tensor([5.5, -5.5]) % 2,
        lambda m: m.tensor([5.5, -5.5]) // -2.0,
        lambda m: 2.5 % m.tensor([1.5, -0.75]),
        lambda m: m.tensor([5, 6]) // 2.0,
        lambda m: m.tensor([5, 6]) % m.tensor([2.5]),
    ],
)
def test_modulus_and_floor_division_as_pytorchs(expr):
    got, want = expr(ds), expr(torch)
    assert got.dtype.name == str(want.dtype).removeprefix("torch.")
    assert got.tolist() == want.tolist()


def test_floor_division_has_no_derivative_as_in_pytorch():
    x = ds.tensor([3.5, -2.0], requires_grad=True)
    y = x // 2
    assert y.requires_grad
    with pytest.raises(RuntimeError, match="floor_divide"):
        y.sum().backward()


@pytest.mark.parametrize(
    ("a", "b"),
    [([1, 2], [1, 2]), ([1, 2], [1.0, 2.0]), ([1, 2], [1, 3]), ([1, 2], [[1, 2]]), ([], [])],
)
def test_equal_as_pytorchs(a, b):
    want = torch.equal(torch.tensor(a), torch.tensor(b))
    assert ds.equal(ds.tensor(a), ds.tensor(b)) is want
    assert ds.tensor(a).equal(ds.tensor(b)) is want


def test_dot_refuses_what_pytorchs_refuses():
    assert ds.dot(ds.tensor([1, 2]), ds.tensor([3, 4])).item() == 11
    for a, b in [([1, 2], [1.0, 2.0]), ([[1.0]], [1.0]), ([1.0, 2.0], [1.0])]:
        with pytest.raises(RuntimeError):
            torch.dot(torch.tensor(a), torch.tensor(b))
        with pytest.raises(RuntimeError):
            ds.dot(ds.tensor(a), ds.tensor(b))


# ---- casts, comparisons, logic, tensor factories, as PyTorch's ---------------------------------

_X = [[1.5, -2.0, 0.0], [float("nan"), float("inf"), 3.0]]
_Y = [[1.5, 2.0, -1.0], [0.0, 1.0, 3.0]]

NAMES = [
    lambda m: m.tensor(_Y).int(),
    lambda m: m.tensor(_Y).bool(),
    lambda m: m.tensor([1, 0, 2]).bool().int(),
    *[
        lambda m, f=f: getattr(m, f)(m.tensor(_Y), m.tensor(_X))
        for f in ("eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or")
    ],
    *[lambda m, f=f: getattr(m.tensor(_Y), f)(1.5) for f in ("eq", "ne", "lt", "le", "gt", "ge")],
    lambda m: m.tensor(_Y).logical_and(m.tensor([1, 0, 1])),
    lambda m: m.logical_not(m.tensor(_Y)),
    lambda m: m.tensor([0, 2]).logical_not(),
    lambda m: m.isnan(m.tensor(_X)),
    lambda m: m.isinf(m.tensor(_X)),
    lambda m: m.isfinite(m.tensor(_X)),
    lambda m: m.tensor(_X).isnan(),
    lambda m: m.any(m.tensor(_Y) > 2),
    lambda m: m.all(m.tensor(_Y) > -2),
    lambda m: m.any(m.tensor(_Y) > 2.5, dim=1),
    lambda m: m.all(m.tensor(_Y) > -0.5, 0, keepdim=True),
    lambda m: (m.tensor(_Y) > 0).any(-1),
    lambda m: (m.tensor(_Y) > 0).all(),
    lambda m: m.zeros(6).view_as(m.zeros(2, 3)),
    lambda m: m.arange(6).reshape_as(m.zeros(3, 2)),
    lambda m: m.tensor([1.0, 2.0]).expand_as(m.zeros(3, 2)),
    lambda m: m.tensor([1, 2]).type_as(m.zeros(1, dtype=m.float64)),
    lambda m: m.tensor([1.5, 2.5]).type_as(m.zeros(1, dtype=m.int64)),
    lambda m: m.tensor(_Y).t().contiguous(),
    lambda m: m.tensor([1, 2]).new_zeros(2, 3),
    lambda m: m.tensor([1.0]).new_ones((2,)),
    lambda m: m.tensor([1.0], dtype=m.float64).new_full((2, 2), 7),
    lambda m: m.tensor([1]).new_full((3,), 2.5, dtype=m.float32),
    lambda m: m.tensor([1.0], dtype=m.float64).new_tensor([1, 2]),
    lambda m: m.tensor([1, 2]).new_tensor([1.5, 2.5], dtype=m.float32),
    lambda m: m.tensor([1.0]).new_empty(2, 3).shape,
    lambda m: m.full_like(m.tensor(_Y), 4),
    lambda m: m.full_like(m.tensor([1, 2]), 4, dtype=m.float64),
    lambda m: m.empty_like(m.tensor([1, 2])).shape,
    lambda m: m.rand_like(m.zeros(2, 3, dtype=m.float64)).shape,
    lambda m: m.randn_like(m.zeros(4)).shape,
    lambda m: m.is_tensor(m.zeros(1)),
    lambda m: m.is_tensor([1.0]),
    lambda m: m.tensor(_Y).is_contiguous(),
    lambda m: m.argsort(m.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, -1.0]])),
    lambda m: m.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, -1.0]]).argsort(dim=0, descending=True),
    lambda m: m.prod(m.tensor([[1, 2, 3], [4, 5, 6]]), 1),
    lambda m: m.cumsum(m.tensor([[1, 2], [3, 4]]), dim=0),
    lambda m: m.tensor([True, True, False]).cumsum(0),
    lambda m: m.tensor([1.0, 0.0, 3.0]).prod(),
    lambda m: m.norm(m.tensor([[3.0, 4.0], [0.0, 0.0]]), dim=1),
    lambda m: m.norm(m.tensor([-3.0, 4.0]), float("inf")),
    lambda m: m.tensor([[1, 2], [3, 4]]).flip(0, 1),
    lambda m: m.tensor([1, 2]).repeat(2, 2),
    lambda m: m.tril(m.tensor([[1, 2], [3, 4]])),
    lambda m: m.tensor([4, 9]).rsqrt(),
    lambda m: m.square(m.tensor([2, -3])),
    lambda m: m.tensor([1e-10, 1.0], dtype=m.float64).log1p(),
    lambda m: m.clone(m.tensor([1, 2])),
    lambda m: m.neg(m.tensor([1, -2])),
    lambda m: m.tensor([1.5, -2.0]).negative(),
    lambda m: m.movedim(m.tensor([[[1, 2]], [[3, 4]]]), (0, 2), (1, 0)),
    lambda m: m.tensor([[1, 2, 3], [4, 5, 6]]).narrow(1, -2, 2),
    lambda m: m.index_select(m.tensor([[1, 2], [3, 4]]), 0, m.tensor([1, 1, 0])),
    lambda m: m.broadcast_to(m.tensor([1, 2]), (3, 2)),
    lambda m: m.concat([m.tensor([1]), m.tensor([2, 3])]),
    lambda m: m.concatenate((m.tensor([[1]]), m.tensor([[2]])), dim=1),
]


def _plain(v):
    if isinstance(v, (ds.Tensor, torch.Tensor)):
        return str(v.dtype).removeprefix("torch."), v.tolist()
    return tuple(v) if isinstance(v, tuple) else v


@pytest.mark.parametrize("make", NAMES)
def test_names_as_pytorchs(make):
    got, want = _plain(make(ds)), _plain(make(torch))
    if isinstance(want, tuple) and len(want) == 2 and isinstance(want[1], list):
        assert got[0] == want[0]
        np.testing.assert_allclose(np.asarray(got[1], float), np.asarray(want[1], float),
                                   rtol=1e-6)  # fmt: skip
    else:
        assert got == want


def test_half_is_refused_as_descent_has_no_float16():
    with pytest.raises(TypeError, match="float16 is not supported"):
        ds.ones(2).half()


def test_comparisons_carry_no_gradient():
    x = ds.tensor([1.0, 2.0], requires_grad=True)
    assert not ds.gt(x, 1.0).requires_grad and not x.eq(x).requires_grad
    assert ds.gt(x, 1.0).dtype == ds.bool_


@pytest.mark.parametrize(
    "values",
    [[1.5, 0.0, -2.0, 3.0], [[1.5, 0.0, -2.0], [0.5, 2.0, 0.0]], [[0.0, 0.0], [1.0, 2.0]]],
    ids=["one-zero", "zeros-in-rows", "two-zeros"],
)
def test_prod_with_zeros_has_torchs_gradient(values):
    """The gradient of a product at a zero is the product of the others (not 0)."""
    arr = np.array(values)
    for dim in [None, *range(arr.ndim)]:
        ours = ds.tensor(arr, requires_grad=True)
        theirs = torch.tensor(arr, requires_grad=True)
        out = ours.prod() if dim is None else ours.prod(dim)
        ref = theirs.prod() if dim is None else theirs.prod(dim)
        g = np.arange(1.0, 1.0 + ref.numel()).reshape(ref.shape)
        out.backward(ds.tensor(g))
        ref.backward(torch.tensor(g))
        np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-14)
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-14)


def test_norm_of_a_zero_vector_has_gradient_zero_and_log1p_expm1_are_exact_for_tiny_x():
    x = ds.tensor(np.zeros(3), requires_grad=True)
    tx = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    x.norm().backward()
    tx.norm().backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
    tiny = np.array([1e-12, -3e-15])
    np.testing.assert_allclose(ds.log1p(ds.tensor(tiny)).numpy(), np.log1p(tiny), rtol=1e-15)
    np.testing.assert_allclose(ds.expm1(ds.tensor(tiny)).numpy(), np.expm1(tiny), rtol=1e-15)


def test_movedim_narrow_and_index_select_refuse_as_torch_does():
    x = ds.zeros(2, 3)
    with pytest.raises(RuntimeError, match="same number of dims"):
        ds.movedim(x, (0, 1), 0)
    with pytest.raises(RuntimeError, match="exceeds dimension size"):
        x.narrow(1, 2, 2)
    with pytest.raises(IndexError, match="vector of integers"):
        x.index_select(0, ds.tensor([[0]]))


def test_normal_and_uniform_draw_from_the_generator_given():
    for fill in (lambda x, g: x.normal_(generator=g), lambda x, g: x.uniform_(-1, 2, generator=g)):
        ds.manual_seed(0)
        state = ds.get_rng_state()
        a = fill(ds.zeros(5), ds.Generator().manual_seed(3)).numpy()
        b = fill(ds.zeros(5), ds.Generator().manual_seed(3)).numpy()
        assert np.array_equal(a, b) and ds.get_rng_state() == state  # the global one is untouched
        assert not np.array_equal(a, fill(ds.zeros(5), ds.Generator().manual_seed(4)).numpy())


@pytest.mark.parametrize("dim", [0, -1, 1])
def test_size_of_a_dim_of_a_0d_tensor_is_refused_as_torch(dim):
    with pytest.raises(IndexError) as theirs:
        torch.tensor(5.0).size(dim)
    with pytest.raises(IndexError) as ours:
        ds.tensor(5.0).size(dim)
    assert str(ours.value) == str(theirs.value)
    assert ds.tensor([[1.0]]).size(-1) == 1
    with pytest.raises(IndexError, match=r"range of \[-2, 1\], but got 2"):
        ds.tensor([[1.0]]).size(2)


def test_random_creation_draws_from_the_generator_it_is_given():
    draws = {
        "randn": lambda g: ds.randn(2, 3, generator=g),
        "rand": lambda g: ds.rand(4, generator=g),
        "randint": lambda g: ds.randint(0, 10, (5,), generator=g),
        "randperm": lambda g: ds.randperm(6, generator=g),
    }
    for name, draw in draws.items():
        ds.manual_seed(1)
        before = ds.rand(3).tolist()
        ds.manual_seed(1)
        first = draw(ds.Generator().manual_seed(7)).tolist()
        assert draw(ds.Generator().manual_seed(7)).tolist() == first, name  # its own stream
        assert ds.rand(3).tolist() == before, name  # descent's own generator untouched
        assert draw(ds.Generator().manual_seed(8)).tolist() != first, name
        with pytest.raises(TypeError, match=rf"{name}: generator must be a ds.Generator"):
            draw(7)


@pytest.mark.parametrize(
    "name,compare",
    [("eq", lambda a, b: a == b), ("lt", lambda a, b: a < b), ("ge", ds.ge),
     ("logical_and", ds.logical_and)],
)  # fmt: skip
def test_comparisons_of_shapes_that_do_not_broadcast_name_the_op_and_dim(name, compare):
    a, b = ds.ones(2, 3), ds.ones(4)
    with pytest.raises(ValueError, match=rf"^{name}: shapes \(2, 3\) and \(4,\) cannot be "
                       r"broadcast together \(dim -1: 3 vs 4"):  # fmt: skip
        compare(a, b)
    assert compare(a, ds.ones(1, 3)).shape == (2, 3)  # broadcasting itself still works


@pytest.mark.parametrize(
    "data", [[[1, 2], [3]], [[1.0], [2.0, 3.0]], [[[1, 2], [3, 4]], [[1, 2], [3]]]]
)
def test_ragged_lists_are_refused_with_torchs_words(data):
    with pytest.raises(ValueError) as theirs:
        torch.tensor(data)
    with pytest.raises(ValueError, match=r"nested lists must form a rectangle") as ours:
        ds.tensor(data)
    assert str(theirs.value) in str(ours.value)  # "expected sequence of length 2 at dim 1 (got 1)"
