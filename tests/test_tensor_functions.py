"""PyTorch's tensor functions without a gradient (integer answers, random draws, in-place
forms) against torch's outputs; the differentiable ones are rows of descent/optable.py."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import descent as ds


def _same(out, ref):
    """A descent result equals torch's exactly: values, shape and dtype, item by item."""
    if isinstance(ref, (tuple, list)):
        assert len(out) == len(ref)
        for o, r in zip(out, ref):
            _same(o, r)
        return
    assert out.shape == tuple(ref.shape)
    assert out.dtype == np.dtype(str(ref.dtype).removeprefix("torch."))
    np.testing.assert_array_equal(out.numpy(), ref.numpy())


SEEDS = range(4)


@pytest.mark.parametrize("seed", SEEDS)
def test_unique_agrees_with_torch(seed):
    rng = np.random.default_rng(seed)
    a = rng.integers(-3, 4, (5, 3))
    for kw in ({}, {"return_inverse": True}, {"return_counts": True},
               {"return_inverse": True, "return_counts": True, "sorted": False},
               {"dim": 0, "return_inverse": True, "return_counts": True}):  # fmt: skip
        _same(ds.unique(ds.tensor(a), **kw), torch.unique(torch.tensor(a), **kw))
    f = rng.integers(0, 3, (7,)).astype(np.float32)
    _same(ds.tensor(f).unique(return_counts=True), torch.tensor(f).unique(return_counts=True))


@pytest.mark.parametrize("seed", SEEDS)
def test_bincount_agrees_with_torch(seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 6, (20,))
    w = rng.standard_normal(20)
    _same(ds.bincount(ds.tensor(y)), torch.bincount(torch.tensor(y)))
    _same(ds.tensor(y).bincount(minlength=9), torch.tensor(y).bincount(minlength=9))
    for dtype in (np.float32, np.float64):
        out = ds.bincount(ds.tensor(y), ds.tensor(w.astype(dtype)))
        ref = torch.bincount(torch.tensor(y), torch.tensor(w.astype(dtype)))
        assert out.dtype == np.dtype(str(ref.dtype).removeprefix("torch."))
        np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-6)
    _same(
        ds.bincount(ds.tensor(np.zeros(0, np.int64))),
        torch.bincount(torch.zeros(0, dtype=torch.long)),
    )


def test_bincount_refuses_negative_and_non_integer_input():
    with pytest.raises(RuntimeError, match="non-negative"):
        ds.bincount(ds.tensor([1, -1]))
    with pytest.raises(RuntimeError, match="integral"):
        ds.bincount(ds.tensor([1.0]))


@pytest.mark.parametrize("shape", [(3, 4), (5,), (), (2, 3, 2)])
def test_nonzero_and_argwhere_agree_with_torch(shape):
    a = np.random.default_rng(1).integers(-1, 2, shape)
    x, t = ds.tensor(a), torch.tensor(a)
    _same(ds.nonzero(x), torch.nonzero(t))
    _same(x.nonzero(as_tuple=True), t.nonzero(as_tuple=True))
    _same(ds.argwhere(x), torch.argwhere(t))


def test_nan_to_num_replaces_as_torch_and_gives_replaced_elements_no_gradient():
    a = np.array([1.0, np.nan, np.inf, -np.inf, -2.0])
    for kw in ({}, {"nan": 0.5}, {"posinf": 3.0, "neginf": -3.0}):
        for dtype in (np.float32, np.float64):
            _same(ds.nan_to_num(ds.tensor(a.astype(dtype)), **kw),
                  torch.nan_to_num(torch.tensor(a.astype(dtype)), **kw))  # fmt: skip
    x = ds.tensor(a, requires_grad=True)
    x.nan_to_num().sum().backward()
    assert x.grad.tolist() == [1.0, 0.0, 0.0, 0.0, 1.0]


def test_median_is_the_lower_median_and_nan_wins_as_in_torch():
    a = np.array([[4.0, 1.0, 3.0, 2.0], [1.0, np.nan, 0.0, 5.0]])
    _same(ds.median(ds.tensor(a[0])), torch.median(torch.tensor(a[0])))
    _same(ds.median(ds.tensor(a)), torch.median(torch.tensor(a)))
    out, ref = ds.tensor(a).median(1), torch.tensor(a).median(1)
    _same(tuple(out), tuple(ref))
    assert out.values is out[0]


def test_cross_without_dim_takes_the_first_dim_of_size_3():
    a, b = np.random.default_rng(0).standard_normal((2, 3, 3, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = torch.cross(torch.tensor(a), torch.tensor(b))
    np.testing.assert_allclose(ds.cross(ds.tensor(a), ds.tensor(b)).numpy(), ref.numpy())
    with pytest.raises(RuntimeError, match="size 3"):
        ds.cross(ds.ones(2, 4), ds.ones(2, 4))


@pytest.mark.parametrize("shape, wrap", [((3, 3), False), ((7, 3), False), ((7, 3), True),
                                         ((3, 5), True), ((2, 2, 2), False)])  # fmt: skip
def test_fill_diagonal_agrees_with_torch(shape, wrap):
    x, t = ds.zeros(*shape), torch.zeros(*shape)
    assert x.fill_diagonal_(2.5, wrap=wrap) is x
    _same(x, t.fill_diagonal_(2.5, wrap=wrap))


def test_in_place_forms_agree_with_torch():
    a = np.random.default_rng(2).standard_normal((3, 4)).astype(np.float32)
    idx = np.array([[2, 0, 1, 0]])
    calls = [
        lambda m, x: x.masked_fill_(x > 0, -1.0),
        lambda m, x: x.index_fill_(1, m.tensor([0, 3]), 7.0),
        lambda m, x: x.index_add_(0, m.tensor([2, 2]), m.ones(2, 4), alpha=0.5),
        lambda m, x: x.scatter_(0, m.tensor(idx), m.full((1, 4), 9.0)),
        lambda m, x: x.scatter_(1, m.tensor(idx[:, :2] + 1), value=4.0),
        lambda m, x: x.scatter_add_(0, m.tensor(idx), m.ones(1, 4)),
        lambda m, x: x.clamp_(-0.5, 0.5),
    ]
    for call in calls:
        x, t = ds.tensor(a.copy()), torch.tensor(a.copy())
        assert call(ds, x) is x
        _same(x, call(torch, t))


def test_in_place_on_a_graph_tensor_is_refused_and_a_changed_saved_value_is_caught():
    w = ds.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        w.masked_fill_(w > 0, 0.0)
    h = w * 2
    with pytest.raises(RuntimeError, match="in-place"):
        h.index_fill_(0, ds.tensor([0]), 1.0)
    a = ds.tensor([1.0, 2.0, 3.0])
    y = (w * a).sum()
    a.masked_fill_(a > 1, 0.0)  # a was saved for w's gradient
    with pytest.raises(RuntimeError):
        y.backward()


def test_mT_needs_a_matrix():
    with pytest.raises(RuntimeError, match="matrices"):
        _ = ds.ones(3).mT


# ---- random draws -------------------------------------------------------------------------


def _gen(seed):
    return ds.Generator().manual_seed(seed)


def test_bernoulli_draws_0_and_1_at_its_rate_and_repeats_with_a_generator():
    p = ds.full((20000,), 0.3)
    x = ds.bernoulli(p, generator=_gen(0))
    assert x.dtype == np.float32 and set(np.unique(x.numpy())) <= {0.0, 1.0}
    assert abs(x.mean().item() - 0.3) < 0.02
    assert ds.equal(x, p.bernoulli(generator=_gen(0)))
    assert abs(ds.bernoulli(p, 0.8).mean().item() - 0.8) < 0.02
    y = ds.zeros(20000, dtype=ds.float64).bernoulli_(0.6, generator=_gen(1))
    assert abs(y.mean().item() - 0.6) < 0.02
    with pytest.raises(RuntimeError, match=r"\[0, 1\]"):
        ds.bernoulli(ds.tensor([1.5]))


def test_multinomial_draws_in_proportion_and_without_repeats():
    w = ds.tensor([[0.0, 1.0, 3.0, 0.0], [2.0, 2.0, 0.0, 4.0]])
    draws = ds.multinomial(w, 40000, replacement=True, generator=_gen(0))
    assert draws.shape == (2, 40000) and draws.dtype == np.int64
    freq = np.stack([np.bincount(r, minlength=4) for r in draws.numpy()]) / 40000
    np.testing.assert_allclose(freq, (w / w.sum(1, keepdim=True)).numpy(), atol=0.01)
    rows = ds.multinomial(w, 2, generator=_gen(1)).numpy()
    for row, weights in zip(rows, w.numpy()):
        assert len(set(row)) == 2 and all(weights[row] > 0)
    first = np.bincount([w[0].multinomial(1, generator=_gen(s)).item() for s in range(2000)],
                        minlength=4) / 2000  # fmt: skip
    np.testing.assert_allclose(first, [0, 0.25, 0.75, 0], atol=0.04)
    with pytest.raises(RuntimeError, match="without replacement"):
        ds.multinomial(w, 5)
    with pytest.raises(RuntimeError, match="not enough"):
        ds.multinomial(w, 3)
    with pytest.raises(RuntimeError, match="< 0"):
        ds.multinomial(ds.tensor([1.0, -1.0]), 1)


def test_normal_takes_tensors_or_numbers_and_broadcasts():
    mean = ds.tensor([0.0, 10.0, -5.0], dtype=ds.float64)
    std = ds.tensor([[1.0], [0.1]], dtype=ds.float64)
    x = ds.normal(mean, std, generator=_gen(0))
    assert x.shape == (2, 3) and x.dtype == np.float64
    big = ds.normal(mean.expand(50000, 3), 2.0, generator=_gen(1)).numpy()
    np.testing.assert_allclose(big.mean(0), mean.numpy(), atol=0.05)
    np.testing.assert_allclose(big.std(0), 2.0, atol=0.05)
    y = ds.normal(1.0, std[0], generator=_gen(2))
    assert y.shape == (1,)
    z = ds.normal(0.0, 1.0, (4, 2), generator=_gen(3))
    assert z.shape == (4, 2) and z.dtype == np.float32
    assert ds.equal(z, ds.normal(0.0, 1.0, (4, 2), generator=_gen(3)))
    with pytest.raises(TypeError, match="size"):
        ds.normal(0.0, 1.0)
    with pytest.raises(RuntimeError, match="std >= 0"):
        ds.normal(mean, -1.0)


def test_lerp_of_shapes_that_do_not_broadcast_names_lerp():
    with pytest.raises(ValueError, match=r"^lerp: shapes \(3,\) and \(4,\) cannot be broadcast"):
        ds.lerp(ds.ones(3), ds.ones(4), 0.5)
    with pytest.raises(ValueError, match=r"^lerp: shapes \(3,\) and \(2,\)"):
        ds.lerp(ds.ones(3), ds.ones(3), ds.ones(2))
    got = ds.lerp(ds.tensor([0.0, 1.0]), ds.tensor([[2.0], [4.0]]), 0.25).numpy()
    want = torch.lerp(torch.tensor([0.0, 1.0]), torch.tensor([[2.0], [4.0]]), 0.25).numpy()
    np.testing.assert_allclose(got, want)
