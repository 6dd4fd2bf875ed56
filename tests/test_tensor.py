"""The Tensor and the creation functions: dtypes, properties, Python protocols, indexing,
reductions against PyTorch, shape-error messages and numerical stability.

Oracles: PyTorch (float64 unless a dtype is the point), NumPy and closed forms.
"""

from __future__ import annotations

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
        (np.array([1.0, 2.0], np.float64), None, np.float32),
        ([1, 2.5], None, np.float32),
        ([1.0, 2.0], "float64", np.float64),
        ([1.0, 2.0], ds.float64, np.float64),
        ([1.0, 2.0], np.float64, np.float64),
        ([1.0, 2.0], "double", np.float64),
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
    assert repr(x * 2) == "tensor([2.], grad_fn=<Mul>)"


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
