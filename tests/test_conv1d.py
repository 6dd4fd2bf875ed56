"""The 1-D layers: conv1d, max_pool1d, avg_pool1d against their closed forms (the sums
and windows written out with loops), their errors, and the layers against PyTorch's.

The table's two other oracles (central differences, PyTorch's values and gradients) run
over their rows in descent/optable.py (tests/test_ops.py); second and third derivatives
in tests/test_double_backward_nn.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import descent as ds
import descent.nn.functional as F


def _conv1d_by_loops(x, w, b, stride, pad, dilation, groups):
    """$y_{n,o,l} = b_o + \\sum_{c \\in g(o), i} w_{o,c,i} x_{n,c,s l + d i - p}$."""
    n, c, length = x.shape
    o, cg, k = w.shape
    og = o // groups
    lo = (length + 2 * pad - dilation * (k - 1) - 1) // stride + 1
    y = np.zeros((n, o, lo))
    for out in range(o):
        g = out // og
        for pos in range(lo):
            for ci in range(cg):
                for i in range(k):
                    at = pos * stride + i * dilation - pad
                    if 0 <= at < length:
                        y[:, out, pos] += w[out, ci, i] * x[:, g * cg + ci, at]
        y[:, out] += b[out]
    return y


@pytest.mark.parametrize(
    "stride,pad,dilation,groups",
    [(1, 0, 1, 1), (2, 1, 1, 1), (1, 2, 2, 1), (3, 1, 2, 2), (1, 1, 1, 4)],
)
def test_conv1d_is_the_sum_written_out(stride, pad, dilation, groups):
    rng = np.random.default_rng(stride + 10 * pad + 100 * dilation + groups)
    x = rng.standard_normal((2, 4, 11))
    w = rng.standard_normal((8, 4 // groups, 3))
    b = rng.standard_normal(8)
    ours = F.conv1d(ds.tensor(x), ds.tensor(w), ds.tensor(b), stride, pad, dilation, groups)
    expected = _conv1d_by_loops(x, w, b, stride, pad, dilation, groups)
    np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-12, atol=1e-12)


def test_conv1d_weight_gradient_is_the_correlation_of_input_and_output_gradient():
    # d<g, conv(x, w)>/dw_{o,c,i} = sum_{n,l} g_{n,o,l} x_{n,c,s l + i - p}
    rng = np.random.default_rng(0)
    x, w, g = rng.standard_normal((3, 2, 9)), rng.standard_normal((4, 2, 3)), None
    weight = ds.tensor(w, requires_grad=True)
    out = F.conv1d(ds.tensor(x), weight, stride=2, padding=1)
    g = rng.standard_normal(out.shape)
    (out * ds.tensor(g)).sum().backward()
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1)))
    expected = np.zeros_like(w)
    for i in range(3):
        taps = xp[:, :, i : i + 2 * (out.shape[2] - 1) + 1 : 2]  # (N, C, Lo)
        expected[:, :, i] = np.einsum("nol,ncl->oc", g, taps)
    np.testing.assert_allclose(weight.grad.numpy(), expected, rtol=1e-12, atol=1e-12)


def test_conv1d_equals_conv2d_on_images_of_height_one():
    rng = np.random.default_rng(1)
    x, w, b = (
        rng.standard_normal((2, 3, 12)),
        rng.standard_normal((5, 3, 4)),
        rng.standard_normal(5),
    )
    one = F.conv1d(ds.tensor(x), ds.tensor(w), ds.tensor(b), stride=2, padding=1)
    two = F.conv2d(ds.tensor(x[:, :, None]), ds.tensor(w[:, :, None]), ds.tensor(b), 2, (0, 1))
    np.testing.assert_allclose(one.numpy(), two.numpy()[:, :, 0], rtol=1e-12, atol=1e-12)


def test_conv1d_same_padding_keeps_the_length_for_even_kernels_and_dilation():
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((1, 2, 7)), rng.standard_normal((3, 2, 4))
    ours = F.conv1d(ds.tensor(x), ds.tensor(w), padding="same", dilation=2)
    ref = torch.nn.functional.conv1d(torch.tensor(x), torch.tensor(w), padding="same", dilation=2)
    assert ours.shape == (1, 3, 7)
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-12, atol=1e-12)


def test_pools_are_the_windows_written_out():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 10))
    windows = np.lib.stride_tricks.sliding_window_view(x, 3, axis=-1)[..., ::2, :]  # k 3, s 2
    np.testing.assert_array_equal(F.max_pool1d(ds.tensor(x), 3, 2).numpy(), windows.max(-1))
    np.testing.assert_allclose(F.avg_pool1d(ds.tensor(x), 3, 2).numpy(), windows.mean(-1))
    # padding 1 without counting it: the end windows hold 2 elements of the input
    padded = F.avg_pool1d(ds.tensor(x), 3, 1, 1, count_include_pad=False).numpy()
    np.testing.assert_allclose(padded[..., 0], x[..., :2].mean(-1))
    np.testing.assert_allclose(padded[..., -1], x[..., -2:].mean(-1))
    np.testing.assert_allclose(padded[..., 1:-1], np.lib.stride_tricks.sliding_window_view(
        x, 3, axis=-1).mean(-1))  # fmt: skip


def test_max_pool1d_sends_the_gradient_to_the_first_of_tied_maxima():
    x = ds.tensor([[[1.0, 3.0, 3.0, 0.0, 2.0, 2.0]]], requires_grad=True)
    F.max_pool1d(x, 2, stride=1).sum().backward()
    # windows (1,3) (3,3) (3,0) (0,2) (2,2): the first 3 wins twice, the second once
    np.testing.assert_array_equal(x.grad.numpy(), [[[0.0, 2.0, 1.0, 0.0, 2.0, 0.0]]])


def test_unbatched_sequences_give_unbatched_outputs():
    x = ds.randn(3, 10)
    assert F.conv1d(x, ds.randn(4, 3, 3)).shape == (4, 8)
    assert F.max_pool1d(x, 2).shape == (3, 5)
    assert F.avg_pool1d(x, 5).shape == (3, 2)


@pytest.mark.parametrize(
    "call,message",
    [
        (lambda: F.conv1d(ds.randn(2, 3, 8), ds.randn(4, 2, 3)),
         r"conv1d: input has 3 channels \(shape \(2, 3, 8\)\) but weight \(4, 2, 3\) with "
         "groups=1 expects 2"),
        (lambda: F.conv1d(ds.randn(2, 8), ds.randn(4, 2, 3), groups=3),
         "conv1d: groups=3 must divide both the input's 2 channels"),
        (lambda: F.conv1d(ds.randn(8), ds.randn(4, 1, 3)),
         r"conv1d: expected a 3-d input \(N, C, L\) or a 2-d one \(C, L\), got shape \(8,\)"),
        (lambda: F.conv1d(ds.randn(1, 1, 4), ds.randn(2, 1, 3), dilation=2),
         r"conv1d: the kernel spans 5 positions \(k=3, dilation=2\) but the padded input has 4"),
        (lambda: F.conv1d(ds.randn(1, 1, 8), ds.randn(2, 1, 3), stride=2, padding="same"),
         "conv1d: padding='same' needs stride 1"),
        (lambda: F.conv1d(ds.randn(1, 1, 8), ds.randn(2, 1, 3, 3)),
         r"conv1d: weight must be 3-d \(out_channels, in_channels / groups, k\)"),
        (lambda: F.conv1d(ds.randn(1, 1, 8), ds.randn(2, 1, 3), stride=(1, 2)),
         "conv1d: stride must be an int or a 1-tuple of an int"),
        (lambda: F.max_pool1d(ds.randn(1, 1, 4), 5),
         "max_pool1d: kernel_size 5 is larger than the padded input 4"),
        (lambda: F.avg_pool1d(ds.randn(1, 1, 4), 2, padding=2),
         "avg_pool1d: padding 2 must be at most half of kernel_size 2"),
    ],
    ids=["channels", "groups", "rank", "span", "same-stride", "weight-rank", "stride-pair",
         "pool-kernel", "pool-padding"],
)  # fmt: skip
def test_errors_say_what_and_where(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_settings_descent_lacks_are_refused_by_name():
    with pytest.raises(NotImplementedError, match="max_pool1d: dilation=2 is not supported"):
        F.max_pool1d(ds.randn(1, 1, 8), 2, dilation=2)
    with pytest.raises(NotImplementedError, match="avg_pool1d: ceil_mode=True is not supported"):
        F.avg_pool1d(ds.randn(1, 1, 8), 3, ceil_mode=True)


def test_layers_match_pytorchs_with_the_same_weights():
    ds.manual_seed(0)
    ours = ds.nn.Sequential(
        ds.nn.Conv1d(2, 6, 5, stride=2, padding=2, dilation=1, groups=2),
        ds.nn.ReLU(),
        ds.nn.MaxPool1d(2),
        ds.nn.Conv1d(6, 4, 3, dilation=2, padding="same"),
        ds.nn.AvgPool1d(3, stride=1, padding=1, count_include_pad=False),
    )
    theirs = torch.nn.Sequential(
        torch.nn.Conv1d(2, 6, 5, stride=2, padding=2, groups=2),
        torch.nn.ReLU(),
        torch.nn.MaxPool1d(2),
        torch.nn.Conv1d(6, 4, 3, dilation=2, padding="same"),
        torch.nn.AvgPool1d(3, stride=1, padding=1, count_include_pad=False),
    ).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for k, v in ours.state_dict().items():
        assert tuple(v.shape) == tuple(theirs.state_dict()[k].shape), k
    theirs.load_state_dict({k: torch.tensor(v.numpy(), dtype=torch.float64)
                            for k, v in ours.state_dict().items()})  # fmt: skip
    x = np.random.default_rng(4).standard_normal((3, 2, 20))
    np.testing.assert_allclose(
        ours(ds.tensor(x, dtype=ds.float32)).numpy(),
        theirs(torch.tensor(x)).detach().numpy(),
        rtol=1e-5,
        atol=1e-5,
    )


def test_conv1d_layer_is_initialised_within_pytorchs_bound_and_keeps_pytorchs_sizes():
    ds.manual_seed(1)
    layer = ds.nn.Conv1d(4, 8, 3, groups=2, stride=2)
    bound = 1 / np.sqrt(2 * 3)  # fan-in: in_channels / groups * k
    w = layer.weight.numpy()
    assert w.shape == (8, 2, 3) and np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    assert (layer.kernel_size, layer.stride, layer.padding, layer.dilation) == (
        (3,),
        (2,),
        (0,),
        (1,),
    )
    assert repr(layer) == "Conv1d(4, 8, kernel_size=(3,), stride=(2,), padding=(0,), groups=2)"
    with pytest.raises(ValueError, match="Conv1d: groups=3 must divide in_channels=4"):
        ds.nn.Conv1d(4, 6, 3, groups=3)
    with pytest.raises(NotImplementedError, match="Conv1d: padding_mode='circular'"):
        ds.nn.Conv1d(4, 4, 3, padding_mode="circular")
