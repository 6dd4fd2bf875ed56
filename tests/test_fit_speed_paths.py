"""The short cuts of fit's loop and the DataLoader's batches give what the long ways give."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import descent as ds
from descent import nn

fit_module = importlib.import_module("descent.train.fit")


def _params_with_grads(grads):
    params = []
    for g in grads:
        p = ds.tensor(np.zeros(np.shape(g), np.float32), requires_grad=True)
        p._grad = None if g is None else ds.tensor(np.asarray(g, np.float32))
        params.append(p)
    return params


def test_first_nonfinite_names_the_first_bad_gradient_and_skips_missing_ones():
    ok = np.ones((3, 2))
    assert fit_module._first_nonfinite(_params_with_grads([ok, None, ok[0]])) is None
    bad_nan, bad_inf = ok.copy(), ok[0].copy()
    bad_nan[1, 1], bad_inf[0] = np.nan, -np.inf
    assert fit_module._first_nonfinite(_params_with_grads([ok, None, bad_nan, bad_inf])) == 2
    assert fit_module._first_nonfinite(_params_with_grads([None, bad_inf, ok])) == 1
    assert fit_module._first_nonfinite(_params_with_grads([None, None])) is None


def test_first_nonfinite_takes_huge_finite_gradients_for_finite():
    # vdot(g, g) overflows float32 to inf for these finite values: each gradient is then
    # looked at on its own
    huge = np.full((4, 4), 3e38)
    params = _params_with_grads([huge, huge, -huge])
    assert all(np.isfinite(p.grad.numpy()).all() for p in params)
    assert fit_module._first_nonfinite(params) is None
    params[1]._grad._data[2, 3] = np.inf
    assert fit_module._first_nonfinite(params) == 1


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_a_gradient_that_turns_inf_with_a_finite_loss_names_its_parameter():
    """sqrt at 0 has a finite value and an infinite slope: fit stops before the update."""
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    with ds.no_grad():
        model[1].weight.data[...] = 0.0
        model[1].bias.data[...] = 0.0
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    X, y = np.ones((4, 2), np.float32), np.zeros((4, 1), np.float32)
    opt = ds.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ds.train.TrainingDivergedError) as err:
        ds.train.fit(model, lambda pred, t: (pred * pred).sum().sqrt(), opt, (X, y), epochs=1,
                     batch_size=4, verbose=0, compile=True)  # fmt: skip
    # parameters 0 and 1 (the first layer) get 0 * inf = nan, so parameter 0 is named
    assert "the gradient of parameter 0 became NaN or inf" in str(err.value)
    assert opt.global_step == 0
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])


def test_batches_of_a_tensor_dataset_equal_indexing_its_tensors():
    rng = np.random.default_rng(3)
    X = ds.tensor(rng.random((23, 4, 3)).astype(np.float32))
    y = ds.tensor(rng.integers(0, 5, 23))
    w = ds.tensor(rng.random(23))  # a 1-D float field
    data = ds.data.TensorDataset(X, y, w)
    seen = []
    for batch in ds.data.DataLoader(data, batch_size=5, shuffle=True, seed=7):
        idx = batch.indices
        seen.extend(idx.tolist())
        for field, full in zip(batch, (X, y, w)):
            expected = full.numpy()[idx]
            assert isinstance(field, ds.Tensor) and not field.requires_grad
            assert field.dtype == expected.dtype and field.shape == expected.shape
            assert field.numpy().flags.c_contiguous
            np.testing.assert_array_equal(field.numpy(), expected)
            assert not np.shares_memory(field.numpy(), full.numpy())
    assert sorted(seen) == list(range(23))


def test_batches_of_a_subset_and_of_a_tensor_that_requires_grad():
    rng = np.random.default_rng(4)
    X = ds.tensor(rng.random((12, 3)), requires_grad=True)
    y = ds.tensor(np.arange(12) * 10)
    subset = ds.data.Subset(ds.data.TensorDataset(X, y), np.array([11, 3, 5, 0, 7]))
    batches = list(ds.data.DataLoader(subset, batch_size=2, shuffle=False))
    assert [b[1].tolist() for b in batches] == [[110, 30], [50, 0], [70]]
    x0 = batches[0][0]
    assert x0.requires_grad and x0.grad_fn is not None  # indexed by the op: in the graph
    x0.sum().backward()
    expected = np.zeros((12, 3))
    expected[[11, 3]] = 1.0
    np.testing.assert_array_equal(X.grad.numpy(), expected)


def test_a_sampler_index_out_of_range_says_which_tensor_it_missed():
    data = ds.data.TensorDataset(ds.tensor(np.zeros((4, 2), np.float32)), ds.tensor(np.arange(4)))
    loader = ds.data.DataLoader(data, batch_sampler=[[0, 1], [2, 9]])
    with pytest.raises(IndexError, match=r"into a tensor of shape \(4, 2\)"):
        list(loader)


def test_mlp_classifier_fit_is_repeatable_and_trains():
    X, y = ds.datasets.make_moons(120, noise=0.1, seed=0)
    fits = []
    for _ in range(2):
        with pytest.warns(ds.models.ConvergenceWarning, match="max_iter=5"):
            clf = ds.models.MLPClassifier((16,), max_iter=5, batch_size=32, random_state=1)
            fits.append(clf.fit(X, y))
    a, b = fits
    assert a.n_iter_ == 5 and len(a.loss_curve_) == 5
    assert a.loss_curve_ == b.loss_curve_
    for u, v in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        np.testing.assert_array_equal(u, v)
    assert a.loss_curve_[-1] < a.loss_curve_[0]
