"""ds.nn: Module, Parameter, layers and init, checked against torch.nn."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

import descent as ds
from descent import nn


def _copy_weights(ours: nn.Module, theirs: torch.nn.Module) -> None:
    """Give the torch module our values, key by key (the keys must agree)."""
    sd = ours.state_dict()
    tsd = theirs.state_dict()
    assert list(sd) == list(tsd)
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in sd.items()})


def _mlp_pair():
    ours = nn.Sequential(
        nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 6), nn.Tanh(), nn.Linear(6, 3), nn.LeakyReLU(0.1)
    ).double()
    theirs = torch.nn.Sequential(
        torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 6), torch.nn.Tanh(),
        torch.nn.Linear(6, 3), torch.nn.LeakyReLU(0.1),
    ).double()  # fmt: skip
    _copy_weights(ours, theirs)
    return ours, theirs


def _cnn_pair():
    ours = nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 5, (3, 2), stride=(1, 2)), nn.Sigmoid(), nn.AvgPool2d(2, stride=1),
        nn.Flatten(), nn.Linear(5 * 1 * 1, 3), nn.Softmax(dim=1),
    ).double()  # fmt: skip
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(2, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(4, 5, (3, 2), stride=(1, 2)), torch.nn.Sigmoid(),
        torch.nn.AvgPool2d(2, stride=1), torch.nn.Flatten(), torch.nn.Linear(5, 3),
        torch.nn.Softmax(dim=1),
    ).double()  # fmt: skip
    _copy_weights(ours, theirs)
    return ours, theirs


@pytest.mark.parametrize(
    "pair, shape", [(_mlp_pair, (5, 4)), (_cnn_pair, (3, 2, 8, 8))], ids=["mlp", "cnn"]
)
def test_layers_with_copied_weights_match_torch_forward_and_backward(pair, shape):
    ours, theirs = pair()
    x = np.random.default_rng(0).standard_normal(shape)
    v = np.random.default_rng(1).standard_normal
    y = ours(ds.tensor(x, dtype=ds.float64))
    ty = theirs(torch.tensor(x))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = v(y.shape)
    (y * ds.tensor(g, dtype=ds.float64)).sum().backward()
    (ty * torch.tensor(g)).sum().backward()
    tgrads = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(
            p.grad.numpy(), tgrads[name].grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name
        )


def test_parameters_are_found_by_walking_attributes_with_torch_names():
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 3)
            self.scale = nn.Parameter(ds.ones(3))

        def forward(self, x):
            return self.fc(x) * self.scale

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = [Block(), Block()]
            self.head = nn.Sequential(nn.ReLU(), nn.Linear(3, 1))

        def forward(self, x):
            for b in self.blocks:
                x = b(x)
            return self.head(x)

    class TorchBlock(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(3, 3)
            self.scale = torch.nn.Parameter(torch.ones(3))

    class TorchNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = torch.nn.ModuleList([TorchBlock(), TorchBlock()])
            self.head = torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Linear(3, 1))

    net = Net()
    assert list(net.state_dict()) == list(TorchNet().state_dict())
    assert net.num_parameters() == sum(p.numel() for p in TorchNet().parameters())
    assert all(p.requires_grad for p in net.parameters())
    assert net(ds.randn(2, 3)).shape == (2, 1)


def test_shared_parameter_is_listed_once():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(model.parameters())) == 2


def test_load_state_dict_round_trip_and_strict_errors():
    a, b = nn.Linear(3, 2), nn.Linear(3, 2)
    b.load_state_dict(a.state_dict())
    np.testing.assert_array_equal(a.weight.numpy(), b.weight.numpy())
    assert b.weight.numpy() is not a.weight.numpy()  # copied, not shared

    bad = {"weight": ds.zeros(2, 4), "extra": ds.zeros(1)}
    before = b.weight.numpy().copy()
    with pytest.raises(RuntimeError) as err:
        b.load_state_dict(bad)
    msg = str(err.value)
    assert "missing keys: ['bias']" in msg
    assert "unexpected keys: ['extra']" in msg
    assert "weight: checkpoint (2, 4), model (2, 3)" in msg
    np.testing.assert_array_equal(b.weight.numpy(), before)  # nothing half-loaded

    result = b.load_state_dict({"weight": ds.ones(2, 3)}, strict=False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == []
    np.testing.assert_array_equal(b.weight.numpy(), np.ones((2, 3)))


def test_train_and_eval_reach_every_module_and_dropout_obeys():
    model = nn.Sequential(nn.Linear(50, 50), nn.Dropout(0.5))
    x = ds.ones(4, 50)
    model.eval()
    assert all(not m.training for m in model.modules())
    np.testing.assert_array_equal(model(x).numpy(), model(x).numpy())
    model.train()
    assert all(m.training for m in model.modules())
    out = model[0](x).numpy()
    dropped = model(x).numpy()
    zeros = (dropped == 0) & (out != 0)
    assert 0.3 < zeros.mean() < 0.7
    kept = dropped != 0
    np.testing.assert_allclose(dropped[kept], 2 * out[kept], rtol=1e-6)


def test_default_init_matches_torch_bounds_and_is_repeatable():
    ds.manual_seed(3)
    a = nn.Linear(100, 50)
    ds.manual_seed(3)
    b = nn.Linear(100, 50)
    np.testing.assert_array_equal(a.weight.numpy(), b.weight.numpy())
    bound = 1 / math.sqrt(100)
    assert np.abs(a.weight.numpy()).max() <= bound
    assert np.abs(a.weight.numpy()).max() > 0.9 * bound
    assert a.weight.dtype == np.float32
    conv = nn.Conv2d(3, 8, 5)
    assert np.abs(conv.weight.numpy()).max() <= 1 / math.sqrt(3 * 25)


@pytest.mark.parametrize(
    "name, kwargs, std",
    [
        ("xavier_uniform_", {}, math.sqrt(2 / (200 + 300))),
        ("xavier_normal_", {"gain": 2.0}, 2.0 * math.sqrt(2 / (200 + 300))),
        ("kaiming_uniform_", {"nonlinearity": "relu"}, math.sqrt(2 / 300)),
        ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "relu"}, math.sqrt(2 / 200)),
        ("normal_", {"std": 0.05}, 0.05),
        ("trunc_normal_", {"std": 0.02, "a": -0.04, "b": 0.04}, None),
    ],
)
def test_init_functions_have_the_variances_of_their_formulas(name, kwargs, std):
    w = ds.zeros(200, 300)  # (fan_out, fan_in)
    getattr(nn.init, name)(w, **kwargs)
    t = torch.zeros(200, 300, dtype=torch.float64)
    getattr(torch.nn.init, name)(t, **kwargs)
    ours, theirs = w.numpy().std(), t.numpy().std()
    assert abs(ours - theirs) < 0.03 * theirs
    if std is not None:
        assert abs(ours - std) < 0.03 * std
    if name == "trunc_normal_":
        assert np.abs(w.numpy()).max() <= 0.04


def test_init_gain_matches_torch():
    for nl, param in [("relu", None), ("tanh", None), ("leaky_relu", 0.2), ("sigmoid", None)]:
        assert nn.init.calculate_gain(nl, param) == pytest.approx(
            torch.nn.init.calculate_gain(nl, param)
        )


def test_layer_shape_errors_name_the_layer_and_shapes():
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU())
    with pytest.raises((ValueError, RuntimeError)) as err:
        model(ds.randn(2, 5))
    msg = str(err.value)
    assert "layer 0 (Linear)" in msg and "(2, 5)" in msg


def test_module_to_double_and_zero_grad():
    model = nn.Linear(2, 2).double()
    assert all(p.dtype == np.float64 for p in model.parameters())
    model(ds.ones(1, 2, dtype=ds.float64)).sum().backward()
    assert model.weight.grad is not None
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_repr_shows_the_tree():
    text = repr(nn.Sequential(nn.Linear(2, 3), nn.ReLU()))
    assert "(0): Linear(in_features=2, out_features=3, bias=True)" in text
    assert "(1): ReLU()" in text


@pytest.mark.parametrize("padding", [1, (1, 0), "same", "valid"])
def test_conv2d_layer_takes_the_paddings_of_torch(padding):
    ds.manual_seed(0)
    ours = nn.Conv2d(2, 3, (3, 1), padding=padding)
    theirs = torch.nn.Conv2d(2, 3, (3, 1), padding=padding)
    _copy_weights(ours, theirs)
    x = np.random.default_rng(0).normal(size=(2, 2, 5, 4)).astype(np.float32)
    np.testing.assert_allclose(
        ours(ds.tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(), atol=1e-5
    )


def test_conv2d_layer_refuses_a_kernel_size_that_is_not_a_pair():
    with pytest.raises(ValueError, match=r"Conv2d: kernel_size must be an int or a pair"):
        nn.Conv2d(2, 3, (3, 3, 3))


def test_global_module_hooks_run_around_every_forward_and_are_removable():
    seen = []
    lin = nn.Linear(2, 2)
    x = ds.ones(1, 2)
    pre = nn.module.register_module_forward_pre_hook(lambda m, args: seen.append(("pre", m)))
    with nn.module.register_module_forward_hook(lambda m, args, out: out * 0):
        out = lin(x)
    pre.remove()
    assert seen == [("pre", lin)]
    assert np.all(out.numpy() == 0)  # a forward hook's result replaces the output
    assert not np.all(lin(x).numpy() == 0)  # both removed

    class Boom(nn.Module):
        def forward(self, x):
            raise ValueError("boom")

    boom = Boom()
    with nn.module.register_module_forward_hook(
        lambda m, args, out: seen.append(("after", m, out)), always_call=True
    ):
        with pytest.raises(ValueError, match="boom"):
            boom(x)
    assert seen[-1] == ("after", boom, None)  # always_call: run, with no output, on a raise


def test_an_always_call_hook_that_raises_leaves_forward_s_error_as_pytorch_does():
    class Boom(nn.Module):
        def forward(self, x):
            raise ValueError("forward failed")

    def bad_hook(module, args, output):
        raise ZeroDivisionError("hook failed")

    with nn.module.register_module_forward_hook(bad_hook, always_call=True):
        with pytest.warns(RuntimeWarning, match="hook failed"):
            with pytest.raises(ValueError, match="forward failed"):
                Boom()(ds.ones(1))


def test_always_call_hooks_run_when_a_pre_hook_or_a_forward_hook_raises():
    seen = []
    lin = nn.Linear(2, 2)

    def refuse(module, args):
        raise RuntimeError("pre-hook refused")

    with nn.module.register_module_forward_hook(
        lambda m, args, out: seen.append(out), always_call=True
    ):
        with nn.module.register_module_forward_pre_hook(refuse):
            with pytest.raises(RuntimeError, match="pre-hook refused"):
                lin(ds.ones(1, 2))
        assert seen == [None]
    seen.clear()

    def fail_after(module, args, out):
        raise KeyError("after")

    with nn.module.register_module_forward_hook(fail_after):
        with nn.module.register_module_forward_hook(
            lambda m, args, out: seen.append(out), always_call=True
        ):
            with pytest.raises(KeyError):
                lin(ds.ones(1, 2))
    assert len(seen) == 1  # run once, after the failing hook: a call that ended


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda: nn.Linear(-1, 3), ValueError, r"Linear: in_features must be >= 0, got -1"),
        (lambda: nn.Linear(3, -2), ValueError, r"Linear: out_features must be >= 0, got -2"),
        (lambda: nn.Linear(2.5, 3), TypeError, r"Linear: in_features must be an int, got 2.5"),
        (lambda: nn.Linear(True, 3), TypeError, r"Linear: in_features must be an int"),
        (lambda: nn.Conv2d(-1, 3, 3), ValueError, r"Conv2d: in_channels must be >= 0, got -1"),
        (lambda: nn.Conv2d(1, -3, 3), ValueError, r"Conv2d: out_channels must be >= 0"),
        (lambda: nn.Conv2d(1, 3, 0), ValueError, r"Conv2d: kernel_size must be positive"),
        (lambda: nn.Conv2d(1, 3, (3, -1)), ValueError, r"Conv2d: kernel_size must be positive"),
        (lambda: nn.Conv2d(1, 3, 3, stride=0), ValueError, r"Conv2d: stride must be positive"),
        (lambda: nn.Conv2d(1, 3, 3, padding=-1), ValueError, r"Conv2d: padding must be >= 0"),
        (lambda: nn.Conv2d(1.0, 3, 3), TypeError, r"Conv2d: in_channels must be an int"),
    ],
)
def test_layer_sizes_are_checked_as_torch_does(make, error, match):
    with pytest.raises(error, match=match):
        make()


@pytest.mark.filterwarnings("ignore:Initializing zero-element tensors")
def test_zero_features_make_an_empty_weight_as_in_torch():
    """PyTorch allows 0 in or out features: an empty weight (and a bias of zeros)."""
    layer = nn.Linear(0, 3)
    assert layer.weight.shape == (3, 0) == tuple(torch.nn.Linear(0, 3).weight.shape)
    np.testing.assert_array_equal(layer.bias.numpy(), np.zeros(3, np.float32))
    assert nn.Linear(3, 0)(ds.ones(2, 3)).shape == (2, 0)
    conv = nn.Conv2d(0, 2, 3)
    assert conv.weight.shape == (2, 0, 3, 3) and not conv.bias.numpy().any()
    assert nn.Linear(np.int64(4), 2).weight.shape == (2, 4)


# ---- losses, activations, normalisation, embeddings and containers, against torch.nn ----

TOL = {np.float64: 1e-10, np.float32: 1e-5, np.int64: 0}


# NOTE: torch computes in float64 on the same (float32-rounded) values: its own float32
# results are off by up to 3e-5 on a LayerNorm gradient where ours are within 2e-6 of
# float64, so float64 is the reference that a float32 tolerance of 1e-5 can be held to.


def _pair_tensors(array, requires_grad=True):
    """The same values as a descent tensor of the array's dtype and a torch one (float64
    for floats)."""
    ours = ds.tensor(array, dtype=array.dtype, requires_grad=requires_grad)
    dtype = torch.float64 if array.dtype.kind == "f" else None
    theirs = torch.tensor(array, dtype=dtype, requires_grad=requires_grad)
    return ours, theirs


def _assert_same(ours, theirs, dtype) -> None:
    """Our result has ``dtype`` and torch's values, to 1e-10 (float64) or 1e-5 (float32)."""
    tol = TOL[dtype]
    expected = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else theirs
    actual = ours.numpy() if isinstance(ours, ds.Tensor) else np.asarray(ours)
    assert actual.shape == expected.shape
    assert actual.dtype == dtype
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol)


def _backward_both(yo, yt, rng, dtype) -> None:
    """One random output gradient, backpropagated through ours and torch's."""
    g = rng.standard_normal(yt.shape).astype(dtype)
    yo.backward(ds.tensor(g, dtype=dtype))
    yt.backward(torch.tensor(g, dtype=torch.float64))


def _assert_same_grads(ours, theirs, xo, xt, dtype) -> None:
    """The input's and every parameter's gradients agree with torch's."""
    _assert_same(xo.grad, xt.grad, dtype)
    for p, q in zip(ours.parameters(), theirs.parameters()):
        _assert_same(p.grad, q.grad, dtype)


def _load_from_torch(ours: nn.Module, theirs: torch.nn.Module) -> None:
    """Load torch's state_dict (as arrays) into ours; the keys must agree."""
    sd = theirs.state_dict()
    assert list(ours.state_dict()) == list(sd)
    ours.load_state_dict({k: v.numpy() for k, v in sd.items()})


def _classes(rng, n, c):
    return rng.integers(0, c, size=n)


def _loss_case(name, rng, dtype):
    """(ours, theirs, input array, target array) for one loss module."""
    n, c = int(rng.integers(1, 7)), int(rng.integers(2, 6))
    x = rng.standard_normal((n, c)).astype(dtype)
    w = rng.uniform(0.5, 2.0, c).astype(dtype)
    tw = torch.tensor(w, dtype=torch.float64)
    labels = _classes(rng, n, c)
    if name == "mse":
        return nn.MSELoss(), torch.nn.MSELoss(), x, rng.standard_normal((n, c)).astype(dtype)
    if name == "l1_sum":
        return (nn.L1Loss(reduction="sum"), torch.nn.L1Loss(reduction="sum"), x,
                rng.standard_normal((n, c)).astype(dtype))  # fmt: skip
    if name == "ce_options":
        labels[0] = 1
        kw = dict(ignore_index=1, label_smoothing=0.1)
        return (nn.CrossEntropyLoss(ds.tensor(w, dtype=dtype), **kw),
                torch.nn.CrossEntropyLoss(tw, **kw), x, labels)  # fmt: skip
    if name == "ce":
        return nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss(), x, labels
    if name == "nll_none":
        logp = x - np.log(np.exp(x).sum(1, keepdims=True))
        return (nn.NLLLoss(ds.tensor(w, dtype=dtype), reduction="none"),
                torch.nn.NLLLoss(tw, reduction="none"), logp, labels)  # fmt: skip
    if name == "bce":
        p = 1 / (1 + np.exp(-x))
        t = rng.uniform(0, 1, (n, c)).astype(dtype)
        return nn.BCELoss(ds.tensor(w, dtype=dtype)), torch.nn.BCELoss(tw), p, t
    if name == "bce_logits":
        t = rng.uniform(0, 1, (n, c)).astype(dtype)
        ours = nn.BCEWithLogitsLoss(reduction="sum", pos_weight=ds.tensor(w, dtype=dtype))
        theirs = torch.nn.BCEWithLogitsLoss(reduction="sum", pos_weight=tw)
        return ours, theirs, x, t
    if name == "multi_margin":
        kw = dict(p=2, margin=0.7)
        return (nn.MultiMarginLoss(weight=ds.tensor(w, dtype=dtype), **kw),
                torch.nn.MultiMarginLoss(weight=tw, **kw), x, labels)  # fmt: skip
    raise AssertionError(name)


LOSSES = ["mse", "l1_sum", "ce", "ce_options", "nll_none", "bce", "bce_logits", "multi_margin"]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("name", LOSSES)
def test_loss_modules_match_torch_values_and_input_gradients(name, seed, dtype):
    rng = np.random.default_rng(seed)
    ours, theirs, x, t = _loss_case(name, rng, dtype)
    theirs = theirs.double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    xo, xt = _pair_tensors(x)
    to, tt = _pair_tensors(t, requires_grad=False)
    lo, lt = ours(xo, to), theirs(xt, tt)
    _assert_same(lo, lt, dtype)
    g = rng.standard_normal(lt.shape).astype(dtype)
    lo.backward(ds.tensor(g, dtype=dtype))
    lt.backward(torch.tensor(g, dtype=torch.float64))
    _assert_same(xo.grad, xt.grad, dtype)


def _signs(rng, shape):
    return rng.choice([-1.0, 1.0], shape)


# (class name, constructor keywords, makers of the forward's inputs; the first is
# differentiated): the same construction and call for ours and torch's
MORE_LOSSES = [
    ("SmoothL1Loss", {}, ("normal", "normal")),
    ("SmoothL1Loss", {"beta": 0.3, "reduction": "sum"}, ("normal", "normal")),
    ("HuberLoss", {"delta": 0.5}, ("normal", "normal")),
    ("HuberLoss", {"reduction": "none"}, ("normal", "normal")),
    ("KLDivLoss", {"reduction": "batchmean"}, ("normal", "probs")),
    ("KLDivLoss", {"reduction": "sum", "log_target": True}, ("normal", "normal")),
    ("MarginRankingLoss", {"margin": 0.3}, ("normal", "normal", "signs")),
    ("HingeEmbeddingLoss", {"margin": 2.0, "reduction": "sum"}, ("normal", "signs")),
    ("SoftMarginLoss", {}, ("normal", "signs")),
    ("GaussianNLLLoss", {"full": True}, ("normal", "normal", "positive")),
    ("PoissonNLLLoss", {}, ("normal", "positive")),
    ("PoissonNLLLoss", {"log_input": False, "full": True}, ("positive", "positive")),
    ("CosineSimilarity", {"dim": 0}, ("normal", "normal")),
    ("PairwiseDistance", {"p": 1.0, "keepdim": True}, ("normal", "normal")),
]
MAKERS = {
    "normal": lambda rng, shape: rng.standard_normal(shape),
    "probs": lambda rng, shape: rng.dirichlet(np.ones(shape[1]), shape[0]),
    "signs": _signs,
    "positive": lambda rng, shape: rng.uniform(0.5, 3.0, shape),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("name, kwargs, makers", MORE_LOSSES, ids=lambda v: str(v))
def test_more_loss_modules_match_torch_values_gradients_and_print(name, kwargs, makers, dtype):
    ours, theirs = getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == []
    rng = np.random.default_rng(0)
    arrays = [MAKERS[m](rng, (5, 3)).astype(dtype) for m in makers]
    pairs = [_pair_tensors(a, requires_grad=i == 0) for i, a in enumerate(arrays)]
    lo, lt = ours(*[o for o, _ in pairs]), theirs(*[t for _, t in pairs])
    _assert_same(lo, lt, dtype)
    _backward_both(lo, lt, rng, dtype)
    _assert_same(pairs[0][0].grad, pairs[0][1].grad, dtype)


def test_loss_modules_take_torch_legacy_reduction_flags_and_follow_to():
    assert nn.MSELoss(size_average=False).reduction == "sum"
    assert nn.MSELoss(reduce=False).reduction == "none"
    assert nn.CrossEntropyLoss(size_average=True, reduce=True).reduction == "mean"
    loss = nn.CrossEntropyLoss(weight=ds.ones(3)).double()
    assert loss.weight.dtype == np.float64
    assert not list(loss.parameters())  # a weight is a buffer, not trained


def test_multiclass_hinge_loss_module_is_the_lectures_loss_and_multi_margin_times_c():
    scores = ds.tensor([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0]], dtype=ds.float64)
    y = ds.tensor([0, 1])
    hinge = nn.MulticlassHingeLoss()(scores, y)
    assert hinge.item() == pytest.approx((2.9 + 0.0) / 2)
    margin = nn.MultiMarginLoss()(scores, y)
    assert hinge.item() == pytest.approx(margin.item() * 3)
    assert nn.MulticlassHingeLoss(margin=2.0, reduction="sum")(scores, y).item() == (
        pytest.approx(3.9)
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize(
    "ours, theirs",
    [
        (lambda: nn.GELU(), lambda: torch.nn.GELU()),
        (lambda: nn.GELU(approximate="tanh"), lambda: torch.nn.GELU(approximate="tanh")),
        (lambda: nn.Softplus(), lambda: torch.nn.Softplus()),
        (lambda: nn.Softplus(beta=2.0, threshold=3.0), lambda: torch.nn.Softplus(2.0, 3.0)),
        (lambda: nn.Softplus(beta=0.5, threshold=1.0), lambda: torch.nn.Softplus(0.5, 1.0)),
    ],
    ids=["gelu", "gelu_tanh", "softplus", "softplus_beta2", "softplus_beta_half"],
)
def test_activation_modules_match_torch(ours, theirs, dtype):
    ours, theirs = ours(), theirs().double()
    assert repr(ours) == repr(theirs)
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.standard_normal(40) * 6, [0.0, 1.5, 2.0, 3.0, 40.0, -40.0, 800.0]])
    xo, xt = _pair_tensors(x.astype(dtype).reshape(-1, 1))
    yo, yt = ours(xo), theirs(xt)
    _assert_same(yo, yt, dtype)
    _backward_both(yo, yt, rng, dtype)
    _assert_same(xo.grad, xt.grad, dtype)


# (class name, constructor arguments): the same call builds ours and torch's
ACTIVATIONS = [
    ("ELU", ()), ("ELU", (0.5,)), ("CELU", (2.0,)), ("SELU", ()), ("SiLU", ()), ("Mish", ()),
    ("ReLU6", ()), ("Hardtanh", ()), ("Hardtanh", (-0.5, 2.0)), ("Hardsigmoid", ()),
    ("Hardswish", ()), ("Softsign", ()), ("LogSigmoid", ()), ("Threshold", (0.5, 20.0)),
    ("Threshold", (1.5, -1.0)), ("Softmin", (1,)), ("Softmin", (0,)), ("PReLU", ()),
    ("PReLU", (3, 0.1)),
]  # fmt: skip


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize(
    "name, args", ACTIVATIONS, ids=[f"{n}{a}".replace(" ", "") for n, a in ACTIVATIONS]
)
def test_more_activation_modules_match_torch_values_gradients_keys_and_print(name, args, dtype):
    ours, theirs = getattr(nn, name)(*args).to(dtype), getattr(torch.nn, name)(*args).double()
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    rng = np.random.default_rng(0)
    # kinks and the edges of the linear pieces included: 0, +-1, +-3, 6, the thresholds
    special = [0.0, 1.0, -1.0, 1.5, 2.0, 3.0, -3.0, 6.0, 0.5, 40.0, -40.0, 800.0, -800.0]
    x = np.concatenate([rng.standard_normal(41) * 4, special]).reshape(-1, 3)
    xo, xt = _pair_tensors(x.astype(dtype))
    yo, yt = ours(xo), theirs(xt)
    _assert_same(yo, yt, dtype)
    _backward_both(yo, yt, rng, dtype)
    if name == "Hardsigmoid":  # torch's float64 gradient multiplies by a float32 1/6
        np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-7, atol=1e-7)
        return
    _assert_same_grads(ours, theirs, xo, xt, dtype)


def test_gelu_names_its_two_forms():
    with pytest.raises(ValueError, match="'none' or 'tanh'"):
        nn.GELU(approximate="fast")


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (lambda: nn.ReLU(inplace=True), lambda: torch.nn.ReLU(inplace=True)),
        (lambda: nn.LeakyReLU(0.2, inplace=True), lambda: torch.nn.LeakyReLU(0.2, inplace=True)),
        (lambda: nn.Dropout(1.0, inplace=True), lambda: torch.nn.Dropout(1.0, inplace=True)),
        (lambda: nn.ELU(0.5, inplace=True), lambda: torch.nn.ELU(0.5, inplace=True)),
        (lambda: nn.SiLU(inplace=True), lambda: torch.nn.SiLU(inplace=True)),
        (lambda: nn.Hardswish(inplace=True), lambda: torch.nn.Hardswish(inplace=True)),
        (lambda: nn.ReLU6(inplace=True), lambda: torch.nn.ReLU6(inplace=True)),
        (lambda: nn.Threshold(0.5, 3.0, True), lambda: torch.nn.Threshold(0.5, 3.0, True)),
    ],
    ids=["relu", "leaky_relu", "dropout", "elu", "silu", "hardswish", "relu6", "threshold"],
)
def test_inplace_layers_overwrite_their_input_outside_a_graph(ours, theirs):
    ours, theirs = ours(), theirs()
    assert repr(ours) == repr(theirs)
    x, xt = ds.tensor([-1.0, 2.0]), torch.tensor([-1.0, 2.0])
    assert ours(x) is x and theirs(xt) is xt
    np.testing.assert_allclose(x.tolist(), xt.tolist(), rtol=1e-6)  # float32 rounding


BATCHNORMS = [
    (nn.BatchNorm1d, torch.nn.BatchNorm1d, 2),
    (nn.BatchNorm1d, torch.nn.BatchNorm1d, 3),
    (nn.BatchNorm2d, torch.nn.BatchNorm2d, 4),
]


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize(
    "kwargs",
    [{}, {"momentum": None}, {"momentum": 0.3, "eps": 1e-3}, {"affine": False},
     {"bias": False}, {"track_running_stats": False}],
    ids=["default", "cumulative", "momentum", "no_affine", "no_bias", "no_running"],
)  # fmt: skip
@pytest.mark.parametrize("ours_cls, torch_cls, ndim", BATCHNORMS, ids=["1d", "1d_len", "2d"])
def test_batchnorm_matches_torch_in_train_and_eval_over_several_steps(
    ours_cls, torch_cls, ndim, kwargs, dtype, seed
):
    rng = np.random.default_rng([seed, ndim])
    shape = tuple(int(d) for d in rng.integers(2, 6, size=ndim))  # (N, C, ...) at random
    c = shape[1]
    theirs = torch_cls(c, **kwargs)
    theirs = theirs.double()
    with torch.no_grad():
        if theirs.weight is not None:
            theirs.weight.uniform_(0.5, 1.5)
        if theirs.bias is not None:
            theirs.bias.uniform_(-1, 1)
    ours = ours_cls(c, **kwargs)
    ours = ours.double() if dtype == np.float64 else ours
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    _load_from_torch(ours, theirs)
    for step in range(4):
        x = (rng.standard_normal(shape) * (step + 1) + step).astype(dtype)
        xo, xt = _pair_tensors(x)
        yo, yt = ours(xo), theirs(xt)
        _assert_same(yo, yt, dtype)
        _backward_both(yo, yt, rng, dtype)
        _assert_same_grads(ours, theirs, xo, xt, dtype)
        for (name, b), (tname, tb) in zip(ours.named_buffers(), theirs.named_buffers()):
            assert name == tname
            _assert_same(b, tb, b.dtype.type)
    if theirs.track_running_stats:
        assert ours.num_batches_tracked.item() == 4
        assert ours.num_batches_tracked.dtype == np.int64
        assert ours.running_mean.dtype == dtype
    ours.eval()
    theirs.eval()
    x = rng.standard_normal(shape).astype(dtype)
    xo, xt = _pair_tensors(x)
    yo, yt = ours(xo), theirs(xt)
    _assert_same(yo, yt, dtype)
    yo.sum().backward()
    yt.sum().backward()
    _assert_same(xo.grad, xt.grad, dtype)


def test_batchnorm_state_saved_by_torch_loads_and_gives_torch_s_eval_outputs():
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3)).double()
    for _ in range(3):
        theirs(torch.randn(8, 4, dtype=torch.float64))
    theirs.eval()
    ours = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3)).double().eval()
    _load_from_torch(ours, theirs)
    assert ours[1].num_batches_tracked.item() == 3
    x = np.random.default_rng(1).standard_normal((5, 4))
    _assert_same(ours(ds.tensor(x, dtype=ds.float64)), theirs(torch.tensor(x)), np.float64)


def test_batchnorm_refuses_inputs_torch_refuses():
    with pytest.raises(ValueError, match="2D or 3D"):
        nn.BatchNorm1d(3)(ds.randn(2, 3, 4, 4))
    with pytest.raises(ValueError, match="num_features=3"):
        nn.BatchNorm2d(3)(ds.randn(2, 4, 4, 4))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(ds.randn(1, 3))
    assert nn.BatchNorm1d(3).eval()(ds.randn(1, 3)).shape == (1, 3)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3, track_running_stats=False).eval()(ds.randn(1, 3))  # batch stats


def test_batchnorm_state_survives_a_checkpoint_file(tmp_path):
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    model(ds.randn(4, 2))
    ds.save(model.state_dict(), tmp_path / "m.safetensors")
    again = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    again.load_state_dict(ds.load(tmp_path / "m.safetensors"))
    assert again[1].num_batches_tracked.item() == 1
    assert again[1].num_batches_tracked.dtype == np.int64
    np.testing.assert_array_equal(again[1].running_var.numpy(), model[1].running_var.numpy())


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize(
    "dims, kwargs",
    [(1, {}), (2, {"eps": 1e-3}), (1, {"elementwise_affine": False}), (1, {"bias": False})],
    ids=["1", "2dims", "no_affine", "no_bias"],
)
def test_layernorm_matches_torch_in_train_and_eval(dims, kwargs, dtype, seed):
    rng = np.random.default_rng([seed, dims])
    shape = tuple(int(d) for d in rng.integers(1, 6, size=int(rng.integers(dims, dims + 3))))
    normalized_shape = shape[len(shape) - dims :] if dims > 1 else shape[-1]
    theirs = torch.nn.LayerNorm(normalized_shape, **kwargs)
    theirs = theirs.double()
    with torch.no_grad():
        for p in theirs.parameters():
            p.uniform_(-1, 1)
    ours = nn.LayerNorm(normalized_shape, **kwargs)
    ours = ours.double() if dtype == np.float64 else ours
    assert repr(ours) == repr(theirs)
    _load_from_torch(ours, theirs)
    for mode in (True, False):
        ours.train(mode)
        theirs.train(mode)
        x = (rng.standard_normal(shape) * 3 + 1).astype(dtype)
        xo, xt = _pair_tensors(x)
        yo, yt = ours(xo), theirs(xt)
        _assert_same(yo, yt, dtype)
        _backward_both(yo, yt, rng, dtype)
        _assert_same_grads(ours, theirs, xo, xt, dtype)
        for p, q in zip(ours.parameters(), theirs.parameters()):
            p.grad, q.grad = None, None
    with pytest.raises(ValueError, match="normalized_shape"):
        ours(ds.randn(2, 9))


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("padding_idx", [None, 0, -1], ids=["plain", "pad0", "pad_last"])
def test_embedding_matches_torch_and_padding_row_gets_no_gradient(padding_idx, dtype):
    theirs = torch.nn.Embedding(7, 3, padding_idx=padding_idx)
    theirs = theirs.double()
    with torch.no_grad():
        theirs.weight.uniform_(-1, 1)  # the padding row too: it is still returned
    ours = nn.Embedding(7, 3, padding_idx=padding_idx)
    ours = ours.double() if dtype == np.float64 else ours
    assert repr(ours) == repr(theirs)
    if padding_idx is not None:
        fresh = nn.Embedding(7, 3, padding_idx=padding_idx).weight.numpy()
        assert not fresh[padding_idx].any()
    _load_from_torch(ours, theirs)
    idx = np.array([[0, 6, 2, 2], [1, 0, 6, 3]])
    yo, yt = ours(ds.tensor(idx)), theirs(torch.tensor(idx))
    _assert_same(yo, yt, dtype)
    _backward_both(yo, yt, np.random.default_rng(0), dtype)
    _assert_same(ours.weight.grad, theirs.weight.grad, dtype)


def test_embedding_refuses_what_torch_refuses_and_loads_pretrained():
    emb = nn.Embedding(4, 2)
    with pytest.raises(IndexError, match="index 4 is out of range for 4"):
        emb(ds.tensor([1, 4]))
    with pytest.raises(TypeError, match="integers"):
        emb(ds.tensor([1.0]))
    with pytest.raises(ValueError, match="padding_idx"):
        nn.Embedding(4, 2, padding_idx=4)
    table = ds.tensor([[1.0, 2.0], [3.0, 4.0]])
    frozen = nn.Embedding.from_pretrained(table)
    assert not frozen.weight.requires_grad
    np.testing.assert_array_equal(frozen(ds.tensor([1])).numpy(), [[3.0, 4.0]])


def test_gradcheck_batchnorm_train_layernorm_and_embedding():
    rng = np.random.default_rng(0)
    bn = nn.BatchNorm2d(2).double()
    bn.weight.data[:] = [0.5, 1.5]
    ln = nn.LayerNorm((3, 4)).double()
    emb = nn.Embedding(5, 3).double()  # a padding row affects the output, has no gradient
    x4 = ds.tensor(rng.standard_normal((3, 2, 2, 3)), dtype=ds.float64, requires_grad=True)
    x3 = ds.tensor(rng.standard_normal((2, 3, 4)), dtype=ds.float64, requires_grad=True)
    idx = ds.tensor(np.array([[0, 2, 4], [4, 1, 2]]))
    assert ds.gradcheck(lambda x, w, b: bn(x), [x4, bn.weight, bn.bias])
    assert ds.gradcheck(lambda x, w, b: ln(x), [x3, ln.weight, ln.bias])
    assert ds.gradcheck(lambda w: emb(idx), [emb.weight])


def test_module_list_and_dict_name_parameters_as_torch():
    class Ours(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(2, 3), nn.Linear(3, 3)])
            self.layers.append(nn.LayerNorm(3))
            self.heads = nn.ModuleDict({"a": nn.Linear(3, 1), "b": nn.BatchNorm1d(3)})

    class Theirs(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = torch.nn.ModuleList([torch.nn.Linear(2, 3), torch.nn.Linear(3, 3)])
            self.layers.append(torch.nn.LayerNorm(3))
            self.heads = torch.nn.ModuleDict(
                {"a": torch.nn.Linear(3, 1), "b": torch.nn.BatchNorm1d(3)}
            )

    ours, theirs = Ours(), Theirs()
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert [type(m).__name__ for m in ours.modules()][1:] == [
        type(m).__name__ for m in theirs.modules()
    ][1:]
    assert repr(ours.layers) == repr(theirs.layers)
    assert repr(nn.ModuleList([nn.ReLU(), nn.ReLU(), nn.Tanh()])) == repr(
        torch.nn.ModuleList([torch.nn.ReLU(), torch.nn.ReLU(), torch.nn.Tanh()])
    )
    _load_from_torch(ours, theirs)
    np.testing.assert_array_equal(
        ours.layers[1].weight.numpy(), theirs.layers[1].weight.detach().numpy()
    )


def test_module_list_and_dict_behave_as_a_list_and_a_dict():
    a, b, c = nn.Linear(1, 1), nn.ReLU(), nn.Tanh()
    ml = nn.ModuleList([a])
    ml.extend([b])
    ml.insert(0, c)
    assert list(ml) == [c, a, b] and len(ml) == 3 and ml[-1] is b
    assert isinstance(ml[1:], nn.ModuleList) and list(ml[1:]) == [a, b]
    with pytest.raises(TypeError, match="not a Module"):
        ml.append(3)
    md = nn.ModuleDict([("x", a), ("y", b)])
    md["z"] = c
    assert list(md) == ["x", "y", "z"] == list(md.keys())
    assert list(md.values()) == [a, b, c] and dict(md.items())["y"] is b
    assert "y" in md and len(md) == 3
    del md["y"]
    assert list(md) == ["x", "z"]
    with pytest.raises(KeyError, match="without '.'"):
        md["a.b"] = a


def test_buffers_are_saved_loaded_and_converted_as_torch():
    class Ours(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 2)
            self.register_buffer("scale", ds.ones(2))
            self.register_buffer("steps", ds.tensor(np.zeros((), np.int64)))
            self.register_buffer("cache", ds.zeros(3), persistent=False)
            self.register_buffer("absent", None)

    class Theirs(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(2, 2)
            self.register_buffer("scale", torch.ones(2))
            self.register_buffer("steps", torch.tensor(0))
            self.register_buffer("cache", torch.zeros(3), persistent=False)
            self.register_buffer("absent", None)

    ours, theirs = Ours(), Theirs()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert len(list(ours.buffers())) == 3
    assert [n for n, _ in ours.named_parameters()] == ["lin.weight", "lin.bias"]
    with torch.no_grad():
        theirs.scale.fill_(3.0)
        theirs.steps.fill_(7)
    _load_from_torch(ours, theirs)
    assert ours.steps.item() == 7 and ours.scale.numpy().tolist() == [3.0, 3.0]

    sd = {k: v.numpy() for k, v in theirs.state_dict().items()}
    before = ours.scale.numpy().copy()
    with pytest.raises(RuntimeError) as err:
        ours.load_state_dict({**sd, "scale": np.ones(3), "steps": np.array(1.5)})
    msg = str(err.value)
    assert "scale: checkpoint (3,), model (2,)" in msg
    assert "steps: checkpoint dtype float64, model int64" in msg
    np.testing.assert_array_equal(ours.scale.numpy(), before)  # nothing half-loaded
    with pytest.raises(RuntimeError, match="missing keys: \\['steps'\\]"):
        ours.load_state_dict({k: v for k, v in sd.items() if k != "steps"})

    ours.double()
    assert ours.scale.dtype == np.float64 and ours.cache.dtype == np.float64
    assert ours.steps.dtype == np.int64  # integer buffers keep their dtype, as in torch
    ours.to("cpu", ds.float32)
    assert ours.scale.dtype == np.float32 and ours.lin.weight.dtype == np.float32
    ours.to(device="cpu", dtype="float64")
    assert ours.lin.weight.dtype == np.float64
    with pytest.raises(TypeError, match="float16 is not supported"):
        ours.half()
    with pytest.raises(ValueError, match="CPU only"):
        ours.to("cuda")
    with pytest.raises(TypeError, match="Parameter"):
        ours.register_buffer("p", nn.Parameter(ds.zeros(1)))


def test_requires_grad_apply_and_module_walks_are_torch_s():
    ours = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.ReLU(), nn.Linear(2, 1)))
    theirs = torch.nn.Sequential(
        torch.nn.Linear(2, 2), torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Linear(2, 1))
    )
    seen_ours, seen_theirs = [], []
    ours.apply(lambda m: seen_ours.append(type(m).__name__))
    theirs.apply(lambda m: seen_theirs.append(type(m).__name__))
    assert seen_ours == seen_theirs  # children first, then the module
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert len(list(ours.children())) == len(list(theirs.children())) == 2
    assert ours.requires_grad_(False) is ours
    assert not any(p.requires_grad for p in ours.parameters())
    ours[1].requires_grad_()
    assert [p.requires_grad for p in ours.parameters()] == [False, False, True, True]


# ---- nn.utils: PyTorch's path to clipping and to flat parameter vectors --------------------


def test_nn_utils_clips_like_torch_and_is_optims_clip():
    assert nn.utils.clip_grad_norm_ is ds.optim.clip_grad_norm_
    assert nn.utils.clip_grad_value_ is ds.optim.clip_grad_value_
    ours, theirs = _mlp_pair()
    x = np.random.default_rng(3).normal(size=(5, 4))
    (ours(ds.tensor(x, dtype=ds.float64)) ** 2).sum().backward()
    (theirs(torch.tensor(x)) ** 2).sum().backward()
    total = nn.utils.clip_grad_norm_(ours.parameters(), max_norm=0.5, foreach=None)
    ttotal = torch.nn.utils.clip_grad_norm_(theirs.parameters(), max_norm=0.5, foreach=None)
    np.testing.assert_allclose(total.item(), ttotal.item(), rtol=1e-12)
    nn.utils.clip_grad_value_(ours.parameters(), 0.01, foreach=None)
    torch.nn.utils.clip_grad_value_(theirs.parameters(), 0.01, foreach=None)
    for p, tp in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_parameters_to_vector_and_back_match_torch():
    ours, theirs = _mlp_pair()
    flat = nn.utils.parameters_to_vector(ours.parameters())
    tflat = torch.nn.utils.parameters_to_vector(theirs.parameters())
    assert flat.shape == tuple(tflat.shape) and flat.requires_grad and tflat.requires_grad
    np.testing.assert_array_equal(flat.numpy(), tflat.detach().numpy())
    (flat * ds.arange(flat.shape[0], dtype=ds.float64)).sum().backward()
    (tflat * torch.arange(tflat.shape[0], dtype=torch.float64)).sum().backward()
    for p, tp in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_array_equal(p.grad.numpy(), tp.grad.numpy())
    new = np.linspace(-1.0, 1.0, flat.shape[0])
    nn.utils.vector_to_parameters(ds.tensor(new, dtype=ds.float64), ours.parameters())
    torch.nn.utils.vector_to_parameters(torch.tensor(new), theirs.parameters())
    for p, tp in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), tp.detach().numpy())


def test_vector_to_parameters_refuses_a_vector_of_the_wrong_length():
    layer = nn.Linear(3, 2)
    with pytest.raises(ValueError, match="hold 8 numbers"):
        nn.utils.vector_to_parameters(ds.zeros(7), layer.parameters())
    with pytest.raises(TypeError, match="expected a Tensor"):
        nn.utils.parameters_to_vector([np.zeros(3)])


def test_batchnorm_loads_a_state_dict_without_num_batches_tracked_as_torch_does():
    ours = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    theirs = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.BatchNorm1d(3))
    ours[1].num_batches_tracked._data[...] = 4
    theirs[1].num_batches_tracked.fill_(4)
    sd = {k: v for k, v in ours.state_dict().items() if not k.endswith("num_batches_tracked")}
    tsd = {k: torch.tensor(v.numpy()) for k, v in sd.items()}
    result, tresult = ours.load_state_dict(sd), theirs.load_state_dict(tsd)
    assert result.missing_keys == list(tresult.missing_keys) == []
    assert ours[1].num_batches_tracked.item() == theirs[1].num_batches_tracked.item() == 4
    partial = ours.load_state_dict({"0.weight": ds.zeros(3, 2)}, strict=False)
    tpartial = theirs.load_state_dict({"0.weight": torch.zeros(3, 2)}, strict=False)
    assert partial.missing_keys == list(tpartial.missing_keys)
    with pytest.raises(RuntimeError, match="missing keys"):
        ours.load_state_dict({"0.weight": ds.zeros(3, 2)})


# ---- structure, padding, pooling and channel-dropout layers ------------------------------

# (class name, constructor arguments, input shape): the same call builds ours and torch's
SHAPE_LAYERS = [
    ("Unflatten", (1, (2, 5)), (3, 10)),
    ("Unflatten", (-1, [2, -1]), (2, 3, 6)),
    ("Unflatten", (0, (1, 3)), (3, 2)),
    ("ZeroPad2d", (1,), (2, 3, 4, 5)),
    ("ZeroPad2d", ((1, 2, 0, 3),), (3, 4, 5)),
    ("ConstantPad2d", (2, 3.5), (1, 2, 3, 3)),
    ("ConstantPad2d", ((1, 0, 2, 1), -1.0), (2, 3, 4)),
    ("AdaptiveAvgPool2d", (1,), (2, 3, 4, 6)),
    ("AdaptiveAvgPool2d", ((1, 1),), (2, 3, 5, 7)),
    ("AdaptiveAvgPool2d", ((2, 3),), (2, 3, 4, 6)),
    ("AdaptiveAvgPool2d", ((2, None),), (3, 6, 5)),
    ("AdaptiveAvgPool2d", (3,), (1, 2, 9, 6)),
    ("Dropout1d", (0.3,), (2, 3, 4)),
    ("Dropout2d", (0.4, True), (2, 3, 4, 4)),
]  # fmt: skip


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize(
    "name, args, shape", SHAPE_LAYERS, ids=[f"{n}{a}".replace(" ", "") for n, a, _ in SHAPE_LAYERS]
)
def test_shape_layers_match_torch_values_gradients_keys_and_print(name, args, shape, dtype):
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == []
    ours.eval(), theirs.eval()  # channel dropout: the identity, as torch's
    rng = np.random.default_rng(0)
    xo, xt = _pair_tensors(rng.standard_normal(shape).astype(dtype))
    yo, yt = ours(xo), theirs(xt)
    _assert_same(yo, yt, dtype)
    _backward_both(yo, yt, rng, dtype)
    _assert_same(xo.grad, xt.grad, dtype)


def test_adaptive_avg_pool2d_names_the_sizes_it_cannot_pool():
    with pytest.raises(NotImplementedError, match=r"input size \(5, 6\).*output size \(2, 3\)"):
        nn.AdaptiveAvgPool2d((2, 3))(ds.ones(1, 1, 5, 6))
    with pytest.raises(ValueError, match="3-D.*4-D"):
        nn.functional.adaptive_avg_pool2d(ds.ones(4, 4), 2)
    with pytest.raises(ValueError, match="positive"):
        nn.functional.adaptive_avg_pool2d(ds.ones(1, 4, 4), (0, 2))


def test_adaptive_avg_pool2d_has_every_order_of_derivative():
    x = ds.tensor(np.random.default_rng(0).standard_normal((1, 2, 4, 4)), requires_grad=True)
    (g,) = ds.grad((nn.functional.adaptive_avg_pool2d(x, 2) ** 3).sum(), [x], create_graph=True)
    (h,) = ds.grad(g.sum(), [x])
    tx = torch.tensor(x.numpy(), requires_grad=True)
    (tg,) = torch.autograd.grad(
        (torch.nn.functional.adaptive_avg_pool2d(tx, 2) ** 3).sum(), [tx], create_graph=True
    )
    (th,) = torch.autograd.grad(tg.sum(), [tx])
    np.testing.assert_allclose(h.numpy(), th.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "name, shape, channel_dims",
    [("Dropout1d", (40, 50, 6), 2), ("Dropout1d", (400, 7), 1), ("Dropout2d", (40, 50, 3, 2), 2),
     ("Dropout2d", (30, 40, 5), 2)],
)  # fmt: skip
def test_channel_dropout_zeroes_whole_channels_and_scales_the_rest_as_torch(
    name, shape, channel_dims
):
    p = 0.3
    ds.manual_seed(0), torch.manual_seed(0)
    x = np.random.default_rng(0).uniform(1.0, 2.0, shape)  # no zeros of its own
    ours, theirs = getattr(nn, name)(p), getattr(torch.nn, name)(p)
    xo = ds.tensor(x, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's note on a 3-D input to dropout2d
        outputs = [ours(xo).numpy(), theirs(torch.tensor(x)).numpy()]
    for out in outputs:
        ratio = (out / x).reshape(*shape[:channel_dims], -1)  # (N, C, positions)
        kept = ratio[..., 0] != 0
        np.testing.assert_allclose(ratio, np.where(kept, 1 / (1 - p), 0.0)[..., None] + 0 * ratio)
        assert abs((~kept).mean() - p) < 0.05
    out = ours(xo)
    out.backward(ds.ones(shape, dtype=ds.float64))
    np.testing.assert_allclose(xo.grad.numpy(), out.numpy() / x)  # the mask itself
    ours.eval()
    assert ours(xo) is xo


def test_channel_dropout_mask_comes_from_descents_generator():
    x = ds.ones(8, 16, 3, 3)
    ds.manual_seed(5)
    a = nn.Dropout2d()(x).numpy()
    ds.manual_seed(5)
    b = nn.Dropout2d()(x).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, nn.Dropout2d()(x).numpy())
    assert (nn.Dropout1d(1.0)(ds.ones(2, 3, 4)).numpy() == 0).all()
    with pytest.raises(ValueError, match="2D or 3D"):
        nn.Dropout1d()(ds.ones(2, 3, 4, 5))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        nn.functional.dropout2d(x, 1.5)


def _parameter_models(lib):
    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.scales = lib.nn.ParameterList(
                [lib.nn.Parameter(lib.ones(3)), lib.nn.Parameter(lib.ones(2, 2))]
            )
            self.scales.append(lib.nn.Parameter(lib.zeros(4, dtype=lib.float64)))
            self.shifts = lib.nn.ParameterDict({"b": lib.nn.Parameter(lib.zeros(3))})
            self.shifts["a"] = lib.nn.Parameter(lib.ones(2, 3, dtype=lib.float64))

        def forward(self, x):
            return (x * self.scales[0] + self.shifts["b"]).sum() * self.scales[1].sum()

    return Net()


def test_parameter_list_and_dict_register_parameters_as_torch():
    ours, theirs = _parameter_models(ds), _parameter_models(torch)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert list(ours.scales.state_dict()) == ["0", "1", "2"]
    assert list(ours.shifts.state_dict()) == ["b", "a"]
    assert repr(ours).replace("\n", "|") == repr(theirs).replace("torch.", "").replace("\n", "|")
    assert repr(nn.ParameterList()) == "ParameterList()" and repr(nn.ParameterDict()) == (
        "ParameterDict()"
    )
    _load_from_torch(ours, theirs)
    x = np.arange(3.0)
    ours(ds.tensor(x, dtype=ds.float32)).backward()
    theirs(torch.tensor(x, dtype=torch.float32)).backward()
    tgrads = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        expected = tgrads[name].grad
        if expected is None:
            assert p.grad is None, name
        else:
            np.testing.assert_allclose(p.grad.numpy(), expected.numpy(), err_msg=name)


def test_parameter_list_and_dict_behave_as_a_list_and_a_dict():
    a, b = nn.Parameter(ds.ones(2)), ds.zeros(3)
    pl = nn.ParameterList([a])
    pl += [b]
    assert len(pl) == 2 and pl[0] is a and isinstance(pl[1], nn.Parameter)
    assert pl[1].requires_grad and list(pl[1:]) == [pl[1]]
    pl[0] = ds.ones(5)
    assert pl[0].shape == (5,) and isinstance(pl[0], nn.Parameter)
    with pytest.raises(TypeError, match="not a Parameter"):
        pl.append(3.0)
    pd = nn.ParameterDict([("x", a)])
    pd.update({"y": b})
    assert list(pd) == ["x", "y"] == list(pd.keys()) and "y" in pd and len(pd) == 2
    assert pd.get("z") is None and pd["x"] is a and dict(pd.items())["x"] is a
    assert pd.pop("x") is a and list(pd.values())[0].shape == (3,)
    with pytest.raises(KeyError, match="without '.'"):
        pd["a.b"] = a
    opt = ds.optim.SGD(nn.ParameterList([a]).parameters(), lr=0.5)
    (a * a).sum().backward()
    opt.step()
    np.testing.assert_allclose(a.numpy(), [0.0, 0.0])


# ---- eye_, dirac_ and orthogonal_ ---------------------------------------------------------


@pytest.mark.parametrize(
    "name, shape, kwargs",
    [("eye_", (3, 5), {}), ("eye_", (4, 2), {}), ("dirac_", (4, 3, 3, 3), {}),
     ("dirac_", (2, 4, 5), {}), ("dirac_", (6, 2, 3, 2, 4), {"groups": 3}),
     ("dirac_", (4, 4, 1, 1), {"groups": 2})],
)  # fmt: skip
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
def test_deterministic_inits_are_torch_s(name, shape, kwargs, dtype):
    w = ds.tensor(np.full(shape, 7.0), dtype=dtype)
    assert getattr(nn.init, name)(w, **kwargs) is w and w.dtype == dtype
    t = getattr(torch.nn.init, name)(torch.full(shape, 7.0, dtype=torch.float64), **kwargs)
    np.testing.assert_array_equal(w.numpy(), t.numpy())


def test_dirac_passes_a_convolution_s_input_through():
    w = nn.init.dirac_(ds.zeros(3, 3, 3, 3))
    x = ds.randn(2, 3, 5, 5)
    np.testing.assert_allclose(nn.functional.conv2d(x, w, padding=1).numpy(), x.numpy(), atol=1e-6)


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 4), (4, 2, 3, 3), (6, 2, 1), (1, 7)])
@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_orthogonal_gives_orthonormal_rows_or_columns_as_torch(shape, gain):
    ours = nn.init.orthogonal_(ds.zeros(*shape, dtype=ds.float64), gain=gain).numpy()
    theirs = torch.nn.init.orthogonal_(torch.zeros(*shape, dtype=torch.float64), gain).numpy()
    for w in (ours, theirs):
        m = w.reshape(shape[0], -1) / gain
        small = min(m.shape)
        gram = m @ m.T if m.shape[0] <= m.shape[1] else m.T @ m  # (small, small)
        np.testing.assert_allclose(gram, np.eye(small), atol=1e-12)
    assert ours.shape == theirs.shape


def test_orthogonal_is_uniform_in_sign_repeatable_and_checks_its_input():
    # Q's signs are corrected by R's diagonal: its first entry is positive half the time
    # (LAPACK's QR alone makes it always negative) and every entry has mean 0.
    ds.manual_seed(0)
    draws = np.stack([nn.init.orthogonal_(ds.zeros(3, 3)).numpy() for _ in range(1000)])
    assert 0.43 < (draws[:, 0, 0] > 0).mean() < 0.57  # 4.4 standard deviations
    assert np.abs(draws.mean(axis=0)).max() < 0.08  # each mean's deviation is 0.018
    ds.manual_seed(3)
    a = nn.init.orthogonal_(ds.zeros(4, 6)).numpy()
    ds.manual_seed(3)
    np.testing.assert_array_equal(a, nn.init.orthogonal_(ds.zeros(4, 6)).numpy())
    assert nn.init.orthogonal_(ds.zeros(4, 6), gain=0.5).dtype == np.float32
    assert nn.init.orthogonal_(ds.zeros(0, 3)).shape == (0, 3)
    for name, bad in [("orthogonal_", (3,)), ("eye_", (2, 2, 2)), ("dirac_", (3, 3))]:
        with pytest.raises(ValueError, match="dimensions are supported"):
            getattr(nn.init, name)(ds.zeros(*bad))
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.init.dirac_(ds.zeros(4, 2, 3, 3), groups=3)
