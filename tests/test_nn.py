"""ds.nn: Module, Parameter, layers and init, checked against torch.nn."""

from __future__ import annotations

import math

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
    assert np.all(out.data == 0)  # a forward hook's result replaces the output
    assert not np.all(lin(x).data == 0)  # both removed

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
