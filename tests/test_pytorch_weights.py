"""Weights shared with PyTorch: one safetensors file, read by either framework.

A descent ``state_dict`` saved with ``ds.save`` is read by ``safetensors.torch.load_file``
into the same architecture in torch, and a torch ``state_dict`` written by
``safetensors.torch.save_file`` is read by ``ds.load`` into descent; both ways the two
models then give the same outputs. The weights are trained first (so that BatchNorm's
running statistics and its step counter are not their initial values).
"""

from __future__ import annotations

import numpy as np
import pytest

import descent as ds

torch = pytest.importorskip("torch")
safetensors_torch = pytest.importorskip("safetensors.torch")


def mlp(nn):
    return nn.Sequential(
        nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 3)
    )


def cnn(nn):
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3, stride=2), nn.ReLU(), nn.Flatten(), nn.Linear(6, 5),
    )  # fmt: skip


ARCHITECTURES = {"mlp": (mlp, (8,)), "cnn": (cnn, (1, 8, 8))}


def batch(shape, n, seed):
    return np.random.default_rng(seed).standard_normal((n, *shape)).astype(np.float32)


def train_descent(model, shape):
    opt = ds.optim.SGD(model.parameters(), lr=0.05)
    for step in range(3):
        opt.zero_grad()
        (model(ds.tensor(batch(shape, 16, step))) ** 2).mean().backward()
        opt.step()


def train_torch(model, shape):
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    for step in range(3):
        opt.zero_grad()
        (model(torch.tensor(batch(shape, 16, step))) ** 2).mean().backward()
        opt.step()


def same_outputs(ours, theirs, shape):
    for mode in ("eval", "train"):  # BatchNorm: running statistics, then the batch's own
        getattr(ours, mode)()
        getattr(theirs, mode)()
        for n in (1, 5) if mode == "eval" else (5,):
            x = batch(shape, n, 100 + n)
            with ds.no_grad(), torch.no_grad():
                a, b = ours(ds.tensor(x)).numpy(), theirs(torch.tensor(x)).numpy()
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_a_descent_state_dict_loads_into_torch(name, tmp_path):
    build, shape = ARCHITECTURES[name]
    ds.manual_seed(0)
    ours, theirs = build(ds.nn), build(torch.nn)
    train_descent(ours, shape)
    path = ds.save(ours.state_dict(), tmp_path / "weights.safetensors")
    loaded = safetensors_torch.load_file(str(path))
    assert sorted(loaded) == sorted(theirs.state_dict())
    theirs.load_state_dict(loaded)  # strict: every key, shape and dtype as torch's own
    if name == "cnn":
        assert int(theirs[1].num_batches_tracked) == 3
    same_outputs(ours, theirs, shape)


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_a_torch_state_dict_loads_into_descent(name, tmp_path):
    build, shape = ARCHITECTURES[name]
    torch.manual_seed(0)
    ours, theirs = build(ds.nn), build(torch.nn)
    train_torch(theirs, shape)
    path = tmp_path / "weights.safetensors"
    safetensors_torch.save_file(theirs.state_dict(), str(path))
    ours.load_state_dict(ds.load(path))
    for key, value in theirs.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[key].numpy(), value.numpy())
    if name == "cnn":
        assert int(ours[1].num_batches_tracked.item()) == 3
    same_outputs(ours, theirs, shape)


def test_a_torch_file_missing_a_layer_is_refused_naming_the_key(tmp_path):
    theirs = mlp(torch.nn)
    state = {k: v for k, v in theirs.state_dict().items() if not k.startswith("4.")}
    path = tmp_path / "partial.safetensors"
    safetensors_torch.save_file(state, str(path))
    model = mlp(ds.nn)
    before = model[4].weight.numpy().copy()
    with pytest.raises(RuntimeError, match=r"4\.weight"):
        model.load_state_dict(ds.load(path))
    np.testing.assert_array_equal(model[4].weight.numpy(), before)  # nothing changed
