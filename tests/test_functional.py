"""ds.nn.functional against closed forms, hand-written NumPy loops and PyTorch's semantics.

The op table (descent/optable.py, run by tests/test_ops.py) checks every function by
gradcheck and against PyTorch on random shapes; here are the third oracle (closed forms
such as p - y), the stability, error-message and randomness behaviour, and float32.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import descent as ds
import descent.nn.functional as F  # noqa: N812 - the name every PyTorch user knows
from descent.ops.nn import _long_product, label_coefficients

TF = torch.nn.functional


def _t(a, dtype=np.float64, requires_grad=True) -> ds.Tensor:
    return ds.tensor(np.asarray(a), dtype=dtype, requires_grad=requires_grad)


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _onehot(y: np.ndarray, c: int) -> np.ndarray:
    return np.eye(c)[y]


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


# ---- closed forms -------------------------------------------------------------------------


@pytest.mark.parametrize("reduction, scale", [("mean", "1/N"), ("sum", "1")])
def test_cross_entropy_gradient_is_softmax_minus_onehot(rng, reduction, scale):
    n, c = 6, 5
    x = rng.standard_normal((n, c)) * 3
    y = rng.integers(0, c, n)
    logits = _t(x)
    F.cross_entropy(logits, ds.tensor(y), reduction=reduction).backward()
    expected = _softmax(x) - _onehot(y, c)
    if scale == "1/N":
        expected /= n
    np.testing.assert_allclose(logits.grad.numpy(), expected, rtol=1e-10, atol=1e-12)


def test_cross_entropy_value_is_minus_log_softmax_of_the_label(rng):
    x = rng.standard_normal((4, 3))
    y = rng.integers(0, 3, 4)
    loss = F.cross_entropy(_t(x), ds.tensor(y), reduction="none")
    expected = -np.log(_softmax(x)[np.arange(4), y])
    np.testing.assert_allclose(loss.numpy(), expected, rtol=1e-12)


def test_mse_gradient_is_two_residuals_over_n(rng):
    x, y = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    pred, target = _t(x), _t(y)
    F.mse_loss(pred, target).backward()
    np.testing.assert_allclose(pred.grad.numpy(), 2 * (x - y) / x.size, rtol=1e-12)
    np.testing.assert_allclose(target.grad.numpy(), -2 * (x - y) / x.size, rtol=1e-12)


def _hinge_by_loop(s: np.ndarray, y: np.ndarray, margin: float):
    """The lectures' multiclass SVM loss and its subgradient, one example and class at a time."""
    n, c = s.shape
    loss, grad = 0.0, np.zeros_like(s)
    for i in range(n):
        for j in range(c):
            if j == y[i]:
                continue
            violation = s[i, j] - s[i, y[i]] + margin
            if violation > 0:
                loss += violation
                grad[i, j] += 1  # each violating class j
                grad[i, y[i]] -= 1  # the true class, once per violation
    return loss / n, grad / n


@pytest.mark.parametrize("margin", [1.0, 0.5, 3.0])
def test_multiclass_hinge_loss_and_subgradient_match_a_loop(rng, margin):
    s = rng.standard_normal((7, 4)) * 2
    y = rng.integers(0, 4, 7)
    scores = _t(s)
    loss = F.multiclass_hinge_loss(scores, ds.tensor(y), margin=margin)
    loss.backward()
    expected_loss, expected_grad = _hinge_by_loop(s, y, margin)
    assert loss.item() == pytest.approx(expected_loss, rel=1e-12)
    np.testing.assert_allclose(scores.grad.numpy(), expected_grad, atol=1e-12)


def test_multiclass_hinge_is_num_classes_times_multi_margin(rng):
    c = 6
    s = ds.tensor(rng.standard_normal((10, c)), dtype=ds.float64)
    y = ds.tensor(rng.integers(0, c, 10))
    hinge = F.multiclass_hinge_loss(s, y, reduction="none").numpy()
    margin = F.multi_margin_loss(s, y, p=1, margin=1.0, reduction="none").numpy()
    np.testing.assert_allclose(hinge, c * margin, rtol=1e-12)
    assert F.multiclass_hinge_loss(s, y).item() == pytest.approx(
        c * F.multi_margin_loss(s, y).item(), rel=1e-12
    )


@pytest.mark.parametrize("c", [2, 3, 10])
def test_losses_of_a_uniform_scorer_at_init(c):
    scores = ds.zeros(5, c)
    y = ds.tensor(np.arange(5) % c)
    assert F.multiclass_hinge_loss(scores, y).item() == pytest.approx(c - 1)
    assert F.cross_entropy(scores, y).item() == pytest.approx(math.log(c), rel=1e-6)
    assert F.multi_margin_loss(scores, y).item() == pytest.approx((c - 1) / c, rel=1e-6)


def test_penalties_and_their_gradients(rng):
    a, b = rng.standard_normal((3, 2)), rng.standard_normal(4)
    ta, tb = _t(a), _t(b)
    l1 = F.l1_penalty([ta, tb])
    l2 = F.l2_penalty(p for p in (ta, tb))
    assert l1.item() == pytest.approx(np.abs(a).sum() + np.abs(b).sum(), rel=1e-12)
    assert l2.item() == pytest.approx((a**2).sum() + (b**2).sum(), rel=1e-12)
    (l1 + l2).backward()
    np.testing.assert_allclose(ta.grad.numpy(), np.sign(a) + 2 * a, rtol=1e-12)
    assert F.l2_penalty(ta).item() == pytest.approx((a**2).sum(), rel=1e-12)


def test_penalties_refuse_non_tensors():
    with pytest.raises(TypeError, match="l2_penalty"):
        F.l2_penalty([ds.ones(2), np.ones(2)])


# ---- stability -------------------------------------------------------------------------------


BIG = np.array([1000.0, -1000.0, 0.0])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_family_is_finite_and_exact_at_magnitude_1000(dtype):
    v = np.array([0.3, -1.2, 0.7])  # a random-looking output gradient
    logz = 1000.0  # log(e^1000 + e^-1000 + e^0) in any float precision
    s = np.exp(BIG - logz)  # the exact softmax: [1, 0, e^-1000 = 0]
    cases = {  # name: (function, its value, the gradient of <v, f(x)> (of f(x) if a scalar))
        "softmax": (lambda x: F.softmax(x, dim=0), s, s * (v - (v * s).sum())),
        "log_softmax": (lambda x: F.log_softmax(x, dim=0), BIG - logz, v - s * v.sum()),
        "logsumexp": (lambda x: ds.logsumexp(x, dim=0), logz, s),
        "sigmoid": (F.sigmoid, [1.0, 0.0, 0.5], v * [0.0, 0.0, 0.25]),
    }
    for name, (fn, value, grad) in cases.items():
        x = _t(BIG, dtype)
        out = fn(x)
        out.backward(ds.tensor(v if out.ndim else 1.0, dtype=dtype))
        assert out.dtype == dtype and x.grad.dtype == dtype
        assert np.isfinite(out.numpy()).all() and np.isfinite(x.grad.numpy()).all(), name
        np.testing.assert_allclose(out.numpy(), value, rtol=1e-6, err_msg=name)
        np.testing.assert_allclose(x.grad.numpy(), grad, rtol=1e-6, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_losses_from_logits_are_finite_and_exact_at_magnitude_1000(dtype):
    x = _t([1000.0, -1000.0, 0.0, 1000.0], dtype)
    y = np.array([0.0, 1.0, 1.0, 1.0])
    loss = F.binary_cross_entropy_with_logits(x, ds.tensor(y, dtype=dtype), reduction="sum")
    loss.backward()
    # max(x, 0) - x y + log(1 + e^-|x|), and its gradient sigmoid(x) - y
    assert loss.item() == pytest.approx(1000 + 1000 + math.log(2) + 0, rel=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), [1.0, -1.0, -0.5, 0.0], atol=1e-6)

    logits = _t([BIG, -BIG], dtype)
    ce = F.cross_entropy(logits, ds.tensor([1, 0]), reduction="sum")
    ce.backward()
    assert ce.item() == pytest.approx(2000 + 2000, rel=1e-6)  # -log softmax: 2000 each
    expected = np.exp(np.stack([BIG, -BIG]) - [[1000.0], [1000.0]]) - _onehot(np.array([1, 0]), 3)
    assert np.isfinite(logits.grad.numpy()).all()
    np.testing.assert_allclose(logits.grad.numpy(), expected, atol=1e-6)


def test_binary_cross_entropy_clamps_its_logs_at_minus_100():
    p = _t([0.0, 1.0, 0.0, 1.0])
    y = ds.tensor([1.0, 0.0, 0.0, 1.0], dtype=ds.float64)
    loss = F.binary_cross_entropy(p, y, reduction="none")
    loss.sum().backward()
    np.testing.assert_allclose(loss.numpy(), [100.0, 100.0, 0.0, 0.0])
    tp = torch.tensor([0.0, 1.0, 0.0, 1.0], dtype=torch.float64, requires_grad=True)
    TF.binary_cross_entropy(tp, torch.tensor(y.numpy()), reduction="none").sum().backward()
    np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy())


# ---- PyTorch's semantics beyond the table ----------------------------------------------------


@pytest.mark.parametrize("smoothing", [0.0, 0.25])
def test_cross_entropy_mean_with_weight_and_ignore_index_is_pytorchs(rng, smoothing):
    x = rng.standard_normal((8, 4))
    y = np.array([0, 1, 2, 3, -100, 1, -100, 2])
    w = rng.uniform(0.5, 2.0, 4)
    ours = _t(x)
    loss = F.cross_entropy(
        ours, ds.tensor(y), _t(w, requires_grad=False), label_smoothing=smoothing
    )
    loss.backward()
    tx = torch.tensor(x, requires_grad=True)
    ref = TF.cross_entropy(tx, torch.tensor(y), torch.tensor(w), label_smoothing=smoothing)
    ref.backward()
    assert loss.item() == pytest.approx(ref.item(), rel=1e-12)
    np.testing.assert_allclose(ours.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-14)
    nll = F.nll_loss(_t(x), ds.tensor(y), _t(w, requires_grad=False), ignore_index=-100)
    ref_nll = TF.nll_loss(torch.tensor(x), torch.tensor(y), torch.tensor(w))
    assert nll.item() == pytest.approx(ref_nll.item(), rel=1e-12)


def test_label_coefficients_are_the_weighted_smoothed_one_hot():
    """The closed form of cross_entropy's coefficients: the one-hot of y without weight or
    smoothing; with them (1 - eps) w_y at the label plus eps w_c / C, 0 where ignored."""
    y = np.array([2, 0, 1, 2])
    onehot, weight_y = label_coefficients(y, None, -100, 0.0, (4, 3), np.float32)
    np.testing.assert_array_equal(onehot, F.one_hot(ds.tensor(y), 3).numpy())
    np.testing.assert_array_equal(weight_y, np.ones(4, np.float32))
    w, eps = np.array([1.0, 2.0, 3.0], np.float32), 0.3
    coeffs, weight_y = label_coefficients(y, w, 1, eps, (4, 3), np.float32)
    valid = (y != 1)[:, None]
    expected = ((1 - eps) * onehot * w + eps * w / 3) * valid
    np.testing.assert_allclose(coeffs, expected, rtol=1e-6)
    np.testing.assert_array_equal(weight_y, w[np.where(y != 1, y, 0)] * (y != 1))
    assert coeffs.dtype == weight_y.dtype == np.float32


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("ignore_index", [-100, 1])
def test_cross_entropy_one_op_path_equals_the_general_one(rng, dtype, ignore_index):
    """Without class weights, smoothing or ignored labels the mean cross-entropy is one op;
    with unit class weights it takes the general path. Both must give the same numbers,
    and an ignore_index that no label carries must not change them."""
    x = rng.standard_normal((16, 5)).astype(dtype)
    y = ds.tensor(rng.choice([0, 2, 3, 4], 16))
    fast = ds.tensor(x, dtype=dtype, requires_grad=True)
    general = ds.tensor(x, dtype=dtype, requires_grad=True)
    loss = F.cross_entropy(fast, y, ignore_index=ignore_index)
    ref = F.cross_entropy(general, y, ds.tensor(np.ones(5, dtype)), ignore_index=ignore_index)
    assert loss.grad_fn.name() == "LabelCrossEntropyBackward0"
    assert ref.grad_fn.name() == "DivBackward0"
    (3 * loss).backward()
    (3 * ref).backward()
    tol = 1e-6 if dtype == np.float32 else 1e-13
    assert loss.dtype == ref.dtype == dtype and fast.grad.dtype == dtype
    assert loss.item() == pytest.approx(ref.item(), rel=tol)
    np.testing.assert_allclose(fast.grad.numpy(), general.grad.numpy(), rtol=tol, atol=tol)


def test_cross_entropy_mean_skips_ignored_labels_as_pytorch(rng):
    x, y = rng.standard_normal((6, 3)), np.array([0, 2, 1, 2, 0, 1])
    ours = _t(x)
    loss = F.cross_entropy(ours, ds.tensor(y), ignore_index=2)
    loss.backward()
    tx = torch.tensor(x, requires_grad=True)
    ref = TF.cross_entropy(tx, torch.tensor(y), ignore_index=2)
    ref.backward()
    assert loss.item() == pytest.approx(ref.item(), rel=1e-12)
    np.testing.assert_allclose(ours.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_l2_penalty_of_mixed_dtypes_gives_each_its_own_gradient_dtype(rng):
    a = ds.tensor(rng.standard_normal((3, 2)).astype(np.float32), requires_grad=True)
    b = ds.tensor(rng.standard_normal(4), dtype=ds.float64, requires_grad=True)
    total = F.l2_penalty([a, b])
    total.backward()
    assert total.dtype == np.float64
    assert total.item() == pytest.approx(float((a.numpy() ** 2).sum() + (b.numpy() ** 2).sum()))
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    np.testing.assert_allclose(a.grad.numpy(), 2 * a.numpy(), rtol=1e-6)
    np.testing.assert_allclose(b.grad.numpy(), 2 * b.numpy(), rtol=1e-12)


def test_cross_entropy_with_every_example_ignored_is_nan_as_in_pytorch():
    loss = F.cross_entropy(ds.randn(3, 4), ds.tensor([-100, -100, -100]))
    assert math.isnan(loss.item())
    assert math.isnan(TF.cross_entropy(torch.randn(3, 4), torch.tensor([-100] * 3)).item())


def test_max_pool2d_sends_the_gradient_to_the_first_of_tied_maxima(rng):
    x = np.maximum(rng.standard_normal((2, 3, 6, 6)), 0)  # after a ReLU: many tied zeros
    x[0, 0, :2, :2] = 1.5  # a window of four equal maxima
    for kernel, stride, padding in [(2, None, 0), (3, 1, 1), ((2, 3), (2, 1), (1, 1))]:
        ours = _t(x)
        out = F.max_pool2d(ours, kernel, stride, padding)
        g = rng.standard_normal(out.shape)
        out.backward(ds.tensor(g, dtype=ds.float64))
        tx = torch.tensor(x, requires_grad=True)
        TF.max_pool2d(tx, kernel, stride, padding).backward(torch.tensor(g))
        np.testing.assert_allclose(ours.grad.numpy(), tx.grad.numpy(), err_msg=str(kernel))


@pytest.mark.filterwarnings("ignore:Using padding='same'")  # PyTorch's note on even kernels
def test_conv2d_same_padding_and_unbatched_input_match_pytorch(rng):
    x, w, b = (
        rng.standard_normal((2, 3, 7, 6)),
        rng.standard_normal((4, 3, 4, 3)),
        rng.standard_normal(4),
    )
    ours = F.conv2d(_t(x), _t(w), _t(b), padding="same")
    ref = TF.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), padding="same")
    assert ours.shape == (2, 4, 7, 6)
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-10, atol=1e-12)
    single = F.conv2d(_t(x[0]), _t(w), stride=2, padding=1)
    ref = TF.conv2d(torch.tensor(x[0]), torch.tensor(w), stride=2, padding=1)
    assert single.shape == tuple(ref.shape)
    np.testing.assert_allclose(single.numpy(), ref.numpy(), rtol=1e-10, atol=1e-12)


def test_bce_with_logits_weight_and_pos_weight_gradients(rng):
    # PyTorch does not differentiate weight and pos_weight, so they are checked numerically.
    x, y = _t(rng.standard_normal((3, 4))), _t(rng.integers(0, 2, (3, 4)).astype(float))
    w, q = _t(rng.uniform(0.5, 2, 4)), _t(rng.uniform(0.5, 2, 4))

    def loss(x, y, w, q):
        return F.binary_cross_entropy_with_logits(x, y, w, pos_weight=q, reduction="none")

    assert ds.gradcheck(loss, [x, y, w, q])


def test_one_hot_matches_pytorch(rng):
    y = rng.integers(0, 5, (3, 4))
    for c in (-1, 7):
        ours = F.one_hot(ds.tensor(y), c)
        assert ours.dtype == np.int64
        np.testing.assert_array_equal(ours.numpy(), TF.one_hot(torch.tensor(y), c).numpy())


# ---- dropout ---------------------------------------------------------------------------------


@pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
def test_dropout_zeroes_about_p_and_scales_the_rest(p):
    ds.manual_seed(0)
    x = ds.ones(200, 500)
    out = F.dropout(x, p).numpy()
    dropped = (out == 0).mean()
    assert abs(dropped - p) < 0.01  # 100000 draws: the std of the fraction is < 0.0016
    np.testing.assert_allclose(out[out != 0], np.float32(1 / (1 - p)), rtol=1e-6)
    assert out.dtype == np.float32


def test_dropout_gradient_is_the_mask():
    ds.manual_seed(3)
    x = ds.randn(50, 40, requires_grad=True)
    out = F.dropout(x, 0.4)
    out.sum().backward()
    mask = out.numpy() / x.numpy()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.numpy(), mask, rtol=1e-5)


def test_dropout_in_eval_mode_or_with_p_zero_is_the_identity():
    x = ds.randn(4, 5)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x


def test_dropout_repeats_with_manual_seed_and_differs_without():
    x = ds.ones(30, 30)
    ds.manual_seed(7)
    a = F.dropout(x, 0.5).numpy()
    b = F.dropout(x, 0.5).numpy()
    ds.manual_seed(7)
    c = F.dropout(x, 0.5).numpy()
    np.testing.assert_array_equal(a, c)
    assert not np.array_equal(a, b)


def test_dropout_with_p_one_gives_zeros_and_bad_p_is_refused():
    x = ds.randn(3, 3, requires_grad=True)
    out = F.dropout(x, 1.0)
    assert (out.numpy() == 0).all()
    out.sum().backward()
    assert (x.grad.numpy() == 0).all()
    for p in (-0.1, 1.5):
        with pytest.raises(ValueError, match=r"\[0, 1\]"):
            F.dropout(x, p)


# ---- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "loss", [F.mse_loss, F.l1_loss, F.binary_cross_entropy, F.binary_cross_entropy_with_logits]
)
@pytest.mark.parametrize("shapes", [((4, 1), (4,)), ((4,), (4, 1)), ((3,), (4,))])
def test_losses_refuse_input_and_target_of_different_shapes(loss, shapes):
    a, b = shapes
    pred = ds.full(a, 0.5)
    target = ds.full(b, 1.0)
    with pytest.raises(ValueError) as info:
        loss(pred, target)
    msg = str(info.value)
    assert loss.__name__ in msg and str(a) in msg and str(b) in msg
    assert "reshape" in msg or "squeeze" in msg


@pytest.mark.parametrize(
    "call",
    [
        lambda r: F.mse_loss(ds.ones(2), ds.ones(2), reduction=r),
        lambda r: F.l1_loss(ds.ones(2), ds.ones(2), reduction=r),
        lambda r: F.binary_cross_entropy(ds.ones(2) * 0.5, ds.ones(2), reduction=r),
        lambda r: F.binary_cross_entropy_with_logits(ds.ones(2), ds.ones(2), reduction=r),
        lambda r: F.cross_entropy(ds.ones(2, 3), ds.tensor([0, 1]), reduction=r),
        lambda r: F.nll_loss(ds.ones(2, 3), ds.tensor([0, 1]), reduction=r),
        lambda r: F.multi_margin_loss(ds.ones(2, 3), ds.tensor([0, 1]), reduction=r),
        lambda r: F.multiclass_hinge_loss(ds.ones(2, 3), ds.tensor([0, 1]), reduction=r),
    ],
)
def test_an_unknown_reduction_is_refused_listing_the_three(call):
    with pytest.raises(ValueError, match="'mean', 'sum' or 'none'"):
        call("average")


@pytest.mark.parametrize("loss", [F.cross_entropy, F.nll_loss])
def test_class_losses_check_their_targets(loss):
    x = ds.randn(4, 3)
    with pytest.raises(ValueError, match=r"label 5 is out of range for 3 classes"):
        loss(x, ds.tensor([0, 5, 1, 2]))
    with pytest.raises(ValueError, match=r"label -2 is out of range"):
        loss(x, ds.tensor([0, -2, 1, 2]))
    with pytest.raises(ValueError, match=r"batch size 4 .* batch size 3"):
        loss(x, ds.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match=r"targets must have shape \(4,\), got \(4, 1\)"):
        loss(x, ds.tensor([[0], [1], [2], [1]]))
    with pytest.raises((TypeError, ValueError), match=r"\(4,\)"):
        loss(
            x, ds.tensor([0.0, 1.0, 2.0, 1.0])
        )  # float labels of the wrong shape for probabilities


def test_cross_entropy_float_targets_must_be_probabilities_of_the_input_shape():
    with pytest.raises(ValueError, match=r"input's shape \(4, 3\), got \(4, 2\)"):
        F.cross_entropy(ds.randn(4, 3), ds.rand(4, 2))


@pytest.mark.parametrize("loss", [F.multi_margin_loss, F.multiclass_hinge_loss])
def test_margin_losses_check_their_targets(loss):
    with pytest.raises(ValueError, match=r"label 3 is out of range for 3 classes"):
        loss(ds.randn(2, 3), ds.tensor([3, 0]))
    with pytest.raises(ValueError, match=r"batch size 2 .* batch size 1"):
        loss(ds.randn(2, 3), ds.tensor([1]))
    with pytest.raises(TypeError, match="int64"):
        loss(ds.randn(2, 3), ds.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match=r"\(N, C\)"):
        loss(ds.randn(2, 3, 4), ds.tensor([1, 0]))


def test_conv2d_errors_name_the_shapes():
    with pytest.raises(ValueError) as info:
        F.conv2d(ds.randn(1, 3, 8, 8), ds.randn(4, 2, 3, 3))
    expected = "conv2d: input has 3 channels (shape (1, 3, 8, 8)) but weight (4, 2, 3, 3) expects 2"
    assert str(info.value) == expected
    with pytest.raises(ValueError, match=r"conv2d: expected a 4-d input .* got shape \(8, 8\)"):
        F.conv2d(ds.randn(8, 8), ds.randn(4, 2, 3, 3))
    with pytest.raises(
        ValueError, match=r"kernel \(5, 5\) is larger than the padded input \(4, 4\)"
    ):
        F.conv2d(ds.randn(1, 2, 2, 2), ds.randn(4, 2, 5, 5), padding=1)
    with pytest.raises(ValueError, match=r"bias has shape \(3,\)"):
        F.conv2d(ds.randn(1, 2, 5, 5), ds.randn(4, 2, 3, 3), ds.randn(3))


def test_linear_and_pooling_errors_name_the_shapes():
    with pytest.raises(ValueError) as info:
        F.linear(ds.randn(2, 5), ds.randn(3, 4))
    expected = "linear: input has 5 features (last dim of shape (2, 5)) but weight (3, 4) expects 4"
    assert str(info.value) == expected
    with pytest.raises(TypeError, match="float32 but weight is float64"):
        F.linear(ds.randn(2, 4), ds.randn(3, 4, dtype=ds.float64))
    with pytest.raises(ValueError, match=r"max_pool2d: kernel_size \(5, 5\) is larger"):
        F.max_pool2d(ds.randn(1, 1, 4, 4), 5)
    with pytest.raises(ValueError, match="at most half of kernel_size"):
        F.avg_pool2d(ds.randn(1, 1, 4, 4), 2, padding=2)


def test_one_hot_errors_name_the_label_and_num_classes():
    with pytest.raises(ValueError, match=r"label 4 is out of range for num_classes=3"):
        F.one_hot(ds.tensor([0, 4, 1]), 3)
    with pytest.raises(ValueError, match=r"label -1 is negative"):
        F.one_hot(ds.tensor([0, -1]), 3)
    with pytest.raises(TypeError, match="integer class labels"):
        F.one_hot(ds.tensor([0.0, 1.0]), 3)
    with pytest.raises(ValueError, match="empty"):
        F.one_hot(ds.tensor(np.zeros(0, np.int64)))


def test_binary_cross_entropy_refuses_values_outside_0_1():
    with pytest.raises(ValueError, match="binary_cross_entropy_with_logits"):
        F.binary_cross_entropy(ds.tensor([0.5, 1.5]), ds.tensor([0.0, 1.0]))


# ---- float32 in, float32 out, for every function ---------------------------------------------


def _labels(n, c=3):
    return ds.tensor(np.arange(n) % c)


CALLS = {
    "relu": lambda x: F.relu(x),
    "sigmoid": lambda x: F.sigmoid(x),
    "tanh": lambda x: F.tanh(x),
    "leaky_relu": lambda x: F.leaky_relu(x, 0.1),
    "gelu": lambda x: F.gelu(x) + F.gelu(x, approximate="tanh"),
    "softmax": lambda x: F.softmax(x, dim=1),
    "log_softmax": lambda x: F.log_softmax(x, dim=1),
    "pad": lambda x: F.pad(x, (1, 1)),
    "linear": lambda x: F.linear(x, x[:2] * 1.0, x[0, :2] * 1.0),
    "conv2d": lambda x: F.conv2d(x.reshape(1, 2, 2, 3), x.reshape(2, 2, 1, 3), x[0, :2], 1, 1),
    "max_pool2d": lambda x: F.max_pool2d(x.reshape(1, 1, 4, 3), 2, 1, 1),
    "avg_pool2d": lambda x: F.avg_pool2d(x.reshape(1, 1, 4, 3), 2, 1, 1),
    "dropout": lambda x: F.dropout(x, 0.5),
    "one_hot": lambda x: x * F.one_hot(_labels(4), 3),
    "mse_loss": lambda x: F.mse_loss(x, x.detach() * 2),
    "l1_loss": lambda x: F.l1_loss(x, np.ones((4, 3))),
    "binary_cross_entropy": lambda x: F.binary_cross_entropy(F.sigmoid(x), np.ones((4, 3))),
    "binary_cross_entropy_with_logits": lambda x: F.binary_cross_entropy_with_logits(
        x, np.ones((4, 3)), np.ones(3), pos_weight=np.ones(3) * 2
    ),
    "cross_entropy": lambda x: (
        F.cross_entropy(x, _labels(4), np.ones(3), label_smoothing=0.1)
        + F.cross_entropy(x, F.softmax(x, dim=1))
    ),
    "nll_loss": lambda x: F.nll_loss(x, _labels(4), np.ones(3)),
    "multi_margin_loss": lambda x: F.multi_margin_loss(x, _labels(4), p=2, weight=np.ones(3)),
    "multiclass_hinge_loss": lambda x: F.multiclass_hinge_loss(x, _labels(4)),
    "l1_penalty": lambda x: F.l1_penalty([x, x]),
    "l2_penalty": lambda x: F.l2_penalty(x),
    # ---- more activations, losses and distances (NumPy float64 arguments must not upcast)
    "softplus": lambda x: F.softplus(x, beta=2.0),
    "elu": lambda x: F.elu(x, 0.5),
    "selu": lambda x: F.selu(x),
    "celu": lambda x: F.celu(x, 2.0),
    "silu": lambda x: F.silu(x),
    "mish": lambda x: F.mish(x),
    "hardtanh": lambda x: F.hardtanh(x, -0.5, 0.5),
    "relu6": lambda x: F.relu6(x * 4),
    "hardsigmoid": lambda x: F.hardsigmoid(x * 4),
    "hardswish": lambda x: F.hardswish(x * 4),
    "softsign": lambda x: F.softsign(x),
    "logsigmoid": lambda x: F.logsigmoid(x),
    "threshold": lambda x: F.threshold(x, 0.1, 2.0),
    "softmin": lambda x: F.softmin(x, dim=1),
    "prelu": lambda x: F.prelu(x, np.full(3, 0.2)),
    "smooth_l1_loss": lambda x: F.smooth_l1_loss(x, np.ones((4, 3)), beta=0.5),
    "huber_loss": lambda x: F.huber_loss(x, np.ones((4, 3)), delta=0.5),
    "kl_div": lambda x: F.kl_div(x, np.full((4, 3), 1 / 3), reduction="batchmean"),
    "normalize": lambda x: F.normalize(x, p=3.0),
    "cosine_similarity": lambda x: F.cosine_similarity(x, np.ones(3)),
    "pairwise_distance": lambda x: F.pairwise_distance(x, np.ones(3)),
    "margin_ranking_loss": lambda x: F.margin_ranking_loss(x, x * 0.5, np.ones((4, 3))),
    "hinge_embedding_loss": lambda x: F.hinge_embedding_loss(x, np.ones((4, 3))),
    "soft_margin_loss": lambda x: F.soft_margin_loss(x, np.ones((4, 3))),
    "gaussian_nll_loss": lambda x: F.gaussian_nll_loss(x, np.ones((4, 3)), np.ones(4), True),
    "poisson_nll_loss": lambda x: F.poisson_nll_loss(x, np.full((4, 3), 2.0), full=True),
    # ---- channel dropout and adaptive pooling
    "dropout1d": lambda x: F.dropout1d(x.reshape(2, 2, 3), 0.5),
    "dropout2d": lambda x: F.dropout2d(x.reshape(1, 2, 2, 3), 0.5),
    "adaptive_avg_pool2d": lambda x: F.adaptive_avg_pool2d(x.reshape(1, 1, 4, 3), (2, 1)),
    # ---- 1-d convolution and pooling
    "conv1d": lambda x: F.conv1d(x.reshape(2, 2, 3), x.reshape(2, 2, 3), x[0, :2], 1, 1, 2),
    "max_pool1d": lambda x: F.max_pool1d(x.reshape(1, 4, 3), 2, 1, 1),
    "avg_pool1d": lambda x: F.avg_pool1d(x.reshape(1, 4, 3), 2, 1, 1),
}


def test_every_function_has_a_float32_case():
    assert sorted(CALLS) == sorted(F.__all__)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_float32_in_gives_float32_out_and_float32_gradients(name):
    x = ds.randn(4, 3, requires_grad=True)
    out = CALLS[name](x)
    assert out.dtype == np.float32, f"{name} returned {out.dtype}"
    out.sum().backward()
    assert x.grad.dtype == np.float32
    assert np.isfinite(x.grad.numpy()).all()


def test_conv2d_weight_gradient_over_a_long_batch_is_pytorchs(rng):
    """Few channels and many positions (K = 28 * 28 * 40 = 31360): the weight gradient is
    summed over blocks of positions; it must still be PyTorch's."""
    x, w = rng.standard_normal((40, 1, 30, 30)), rng.standard_normal((4, 1, 3, 3))
    ours_x, ours_w = _t(x), _t(w)
    out = F.conv2d(ours_x, ours_w)
    g = rng.standard_normal(out.shape)
    out.backward(ds.tensor(g, dtype=ds.float64))
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    TF.conv2d(tx, tw).backward(torch.tensor(g))
    np.testing.assert_allclose(ours_w.grad.numpy(), tw.grad.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(ours_x.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("k", [100, 16383, 16384, 40000])
def test_long_product_equals_matmul(rng, k):
    a, b = rng.standard_normal((9, k)), rng.standard_normal((k, 8))
    np.testing.assert_allclose(_long_product(a, b), a @ b, rtol=1e-12, atol=1e-9)


def test_l2_penalty_of_integer_tensors_keeps_numpys_sums(rng):
    """The one-op path is for floating tensors; integers and booleans keep NumPy's sums."""
    ints = ds.tensor(np.array([1, 2, 3], np.int32))
    assert F.l2_penalty(ints).item() == 14 and F.l2_penalty(ints).dtype == np.int64
    assert F.l2_penalty([ds.tensor([True, True])]).item() == 2
    w = ds.tensor(rng.standard_normal(3).astype(np.float32), requires_grad=True)
    mixed = F.l2_penalty([w, ds.tensor(np.array([2, 2]))])
    assert mixed.dtype == np.float32
    assert mixed.item() == pytest.approx(float((w.numpy() ** 2).sum()) + 8, rel=1e-6)


def test_cross_entropy_backward_uses_the_labels_of_its_forward(rng):
    x = _t(rng.standard_normal((5, 4)))
    labels = ds.tensor(np.array([0, 1, 2, 3, 0]))
    loss = F.cross_entropy(x, labels)
    expected = F.softmax(ds.tensor(x.numpy(), dtype=ds.float64), dim=1).numpy()
    expected[np.arange(5), [0, 1, 2, 3, 0]] -= 1
    labels.data[:] = 3  # changed after forward: backward must not see it
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), expected / 5, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("kernel, stride, padding", [(2, 2, 0), (3, 2, 1), (2, 3, 0), (3, 1, 1)])
def test_max_pool2d_of_a_channels_last_view_is_pytorchs(rng, kernel, stride, padding):
    """conv2d hands pooling an (N, C, H, W) view of (C, H, W, N) memory; with ties from a
    ReLU, tiled, overlapping and gapped windows, the values and gradients are PyTorch's."""
    memory = np.maximum(rng.standard_normal((3, 8, 7, 4)), 0)  # (C, H, W, N)
    x = memory.transpose(3, 0, 1, 2)
    ours = ds.tensor(x, dtype=ds.float64, requires_grad=True)
    ours.data = ds.from_numpy(x)  # keep the channels-last strides
    out = F.max_pool2d(ours, kernel, stride, padding)
    g = rng.standard_normal(out.shape)
    out.backward(ds.tensor(g, dtype=ds.float64))
    tx = torch.tensor(np.ascontiguousarray(x), requires_grad=True)
    ref = TF.max_pool2d(tx, kernel, stride, padding)
    ref.backward(torch.tensor(g))
    np.testing.assert_array_equal(out.numpy(), ref.detach().numpy())
    # overlapping windows add their shares in another order: equal to rounding
    np.testing.assert_allclose(ours.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("loss", [F.binary_cross_entropy, F.binary_cross_entropy_with_logits])
@pytest.mark.parametrize("bad", [2.0, -0.5, float("nan")])
def test_binary_cross_entropy_refuses_targets_outside_0_1(loss, bad):
    """PyTorch's BCE requires targets in [0, 1]; outside it the loss has no minimum (it
    falls without end as the prediction grows), so both forms refuse them."""
    with pytest.raises(ValueError, match=rf"{loss.__name__}: target values must be in \[0, 1\]"):
        loss(ds.tensor([0.5, 0.5, 0.5]), ds.tensor([0.0, bad, 1.0]))
    with pytest.raises(ValueError, match=f"{bad}"):
        loss(ds.tensor([0.5, 0.5, 0.5]), ds.tensor([0.0, bad, 1.0]))
    assert np.isfinite(loss(ds.tensor([0.5, 0.2]), ds.tensor([0.0, 1.0])).item())


# ---- erf and the exact GELU against the C library's erf ----------------------------------------


@pytest.mark.parametrize("n", [7, 4001], ids=["few", "many"])  # both of erf's array paths
def test_erf_is_the_c_library_erf_to_the_last_place(n):
    rng = np.random.default_rng(0)
    x = np.concatenate(
        [rng.uniform(-7, 7, n - 7), [0.0, 0.84375, 1.25, 1 / 0.35, -6.0, 30.0, 1e-300]]
    )
    t = ds.tensor(x, dtype=ds.float64, requires_grad=True)
    y = ds.erf(t)
    expected = np.array([math.erf(v) for v in x])
    assert np.all(np.abs(y.numpy() - expected) <= np.spacing(np.abs(expected)))
    y.sum().backward()  # d erf / dx = 2 / sqrt(pi) exp(-x^2)
    np.testing.assert_allclose(t.grad.numpy(), 2 / math.sqrt(math.pi) * np.exp(-x * x), rtol=1e-15)


def test_erf_keeps_its_special_values():
    y = ds.erf(ds.tensor([np.inf, -np.inf, np.nan, -0.0], dtype=ds.float64)).numpy()
    assert y[0] == 1 and y[1] == -1 and np.isnan(y[2]) and y[3] == 0 and np.signbit(y[3])


def test_exact_gelu_is_x_times_the_normal_cdf():
    x = np.linspace(-5, 5, 41)
    phi = np.array([0.5 * (1 + math.erf(v / math.sqrt(2))) for v in x])
    out = F.gelu(ds.tensor(x, dtype=ds.float64)).numpy()
    np.testing.assert_allclose(out, x * phi, rtol=1e-14, atol=1e-300)
