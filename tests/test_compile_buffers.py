"""A compiled step's replays reuse the arrays their rules make (``Context.buffer``): after
the first replay an MLP step allocates no array of the batch's or the parameters' size,
and reuse never changes a value that someone still holds."""

from __future__ import annotations

import tracemalloc
import weakref

import numpy as np
import pytest

import descent as ds
from descent import nn
from descent.nn import functional as F

BATCH, WIDTH = 256, 256  # every activation and weight gradient: 256 KiB of float32
# NumPy's own iterator buffer (a broadcasting or casting ufunc: at most 8192 values, freed
# within the call) and the replay's few Python objects fit under this; one array does not.
SMALL = 48 * 1024


def _model(kind: str):
    ds.manual_seed(0)
    act = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}[kind]
    out = 1 if kind == "sigmoid" else 4
    return nn.Sequential(nn.Linear(WIDTH, WIDTH), act(), nn.Linear(WIDTH, WIDTH), act(),
                         nn.Linear(WIDTH, out))  # fmt: skip


def _data(kind: str, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = ds.tensor(rng.standard_normal((BATCH, WIDTH)).astype(np.float32))
    if kind == "sigmoid":
        return x, ds.tensor(rng.integers(0, 2, (BATCH, 1)).astype(np.float32))
    return x, ds.tensor(rng.integers(0, 4, BATCH))


def _step_fn(kind: str, opt_name: str):
    model = _model(kind)
    opt = {
        "sgd": lambda p: ds.optim.SGD(p, lr=0.01, momentum=0.9, nesterov=True),
        "adam": lambda p: ds.optim.Adam(p, lr=1e-3),
    }[opt_name](model.parameters())
    loss_fn = F.binary_cross_entropy_with_logits if kind == "sigmoid" else F.cross_entropy

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return model, step


def _new_memory_at_peak(step, x, y) -> int:
    """The most memory one call of ``step`` holds beyond what was held before it."""
    tracemalloc.start()
    try:
        for _ in range(3):
            step(x, y)
        start = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        step(x, y)
        return tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("kind", ["relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("opt_name", ["sgd", "adam"])
def test_a_replay_allocates_no_array_after_the_first(kind, opt_name):
    x, y = _data(kind)
    _, eager = _step_fn(kind, opt_name)
    _, compiled = _step_fn(kind, opt_name)
    compiled = ds.compile(compiled)
    for _ in range(3):  # two traces, then the first replay makes the buffers
        compiled(x, y)
    eager_peak = _new_memory_at_peak(eager, x, y)
    replay_peak = _new_memory_at_peak(compiled, x, y)
    assert eager_peak > 4 * BATCH * WIDTH  # eager makes the activations anew: the test can fail
    assert replay_peak < SMALL, f"a replay made {replay_peak} bytes of new arrays"


@pytest.mark.parametrize("kind", ["relu", "tanh", "sigmoid"])
def test_reused_buffers_never_change_what_is_held(kind):
    """Losses kept in a list, gradients accumulated over steps without zero_grad, and a
    .grad kept from an earlier step: all as eager leaves them, bit for bit."""
    batches = [_data(kind, seed) for seed in range(4)]
    runs = []
    for compiled in (False, True):
        model = _model(kind)
        loss_fn = F.binary_cross_entropy_with_logits if kind == "sigmoid" else F.cross_entropy
        opt = ds.optim.SGD(model.parameters(), lr=0.01)

        def step(x, y, model=model, loss_fn=loss_fn):  # no zero_grad: .grad accumulates
            loss = loss_fn(model(x), y)
            loss.backward()
            return loss

        if compiled:
            step = ds.compile(step)
        losses, first_grads = [], None
        for i in range(8):
            losses.append(step(*batches[i % 4]))
            if i == 2:
                first_grads = [p.grad for p in model.parameters()]
            if i % 4 == 3:
                opt.step()
                opt.zero_grad()
        runs.append(
            (
                [loss.numpy().copy() for loss in losses],
                [g.numpy().copy() for g in first_grads],
                [p.numpy().copy() for p in model.parameters()],
            )
        )
    (el, eg, ep), (cl, cg, cp) = runs
    assert len({float(v) for v in cl}) == len(cl)  # eight different losses, none overwritten
    for a, b in zip(el + eg + ep, cl + cg + cp):
        np.testing.assert_array_equal(a, b)


def test_a_buffer_is_reused_only_when_nothing_else_holds_it():
    model, step = _step_fn("relu", "sgd")
    step = ds.compile(step)
    x, y = _data("relu")
    for _ in range(3):
        step(x, y)
    first = step(x, y)
    kept = first.numpy().copy()
    second = step(x, y)
    assert second._data is not first._data  # the held loss was left to its holder
    np.testing.assert_array_equal(first.numpy(), kept)
    del first
    third = step(x, y)
    held = weakref.ref(third._data)
    del third  # now only the replay holds it
    fourth = step(x, y)
    assert fourth._data is held()  # reused: the replay made no new loss array
    fifth = step(x, y)
    assert fifth._data is not fourth._data  # fourth is held here, so fifth is new


def test_eager_rules_still_allocate_fresh_results():
    """Eagerly ``ctx.buffer`` answers None: each call's result is a new array."""
    x = ds.tensor(np.ones((3, 4), np.float32), requires_grad=True)
    a, b = x.relu(), x.relu()
    assert not np.shares_memory(a._data, b._data)
    (a.sum() + b.sum()).backward()
    g = x.grad.numpy().copy()
    a2 = x.relu()
    a2.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), g + 1)


def test_a_cnn_replay_allocates_no_activation_after_the_first():
    """conv, ReLU, max-pool twice (images kept channels-last between them), then linear:
    after the first replay only NumPy's iterator buffers of the strided pooling windows
    and the small weight-gradient products remain."""

    def build():
        ds.manual_seed(0)
        model = nn.Sequential(
            nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, padding=1),
            nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16 * 6 * 6, 10),
        )  # fmt: skip
        opt = ds.optim.SGD(model.parameters(), lr=0.01)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss

        return model, step

    rng = np.random.default_rng(0)
    x = ds.tensor(rng.standard_normal((64, 1, 26, 26)).astype(np.float32))
    y = ds.tensor(rng.integers(0, 10, 64))
    eager_model, eager = build()
    compiled_model, compiled = build()
    compiled = ds.compile(compiled)
    for _ in range(3):
        compiled(x, y)
    activation = 64 * 8 * 24 * 24 * 4  # the first conv's output, bytes
    assert _new_memory_at_peak(eager, x, y) > 4 * activation
    assert _new_memory_at_peak(compiled, x, y) < activation // 8
    for _ in range(3):
        eager(x, y)  # both have now taken seven steps
    for a, b in zip(eager_model.parameters(), compiled_model.parameters()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("bad", [4, -1])
def test_a_replay_checks_the_labels_it_indexes_with(bad):
    """cross_entropy checks labels in Python, which a replay does not run; the op checks
    them too, so a bad label in a later batch is an error, not a wrong loss."""
    _, step = _step_fn("relu", "sgd")
    step = ds.compile(step)
    x, y = _data("relu")
    for _ in range(3):
        step(x, y)
    labels = y.numpy().copy()
    labels[5] = bad
    with pytest.raises(ValueError) as eager:  # the oracle: what cross_entropy says eagerly
        F.cross_entropy(ds.zeros(BATCH, 4), ds.tensor(labels))
    with pytest.raises(ValueError) as replayed:
        step(x, ds.tensor(labels))
    assert str(replayed.value) == str(eager.value)
    assert f"target label {bad} is out of range for 4 classes" in str(eager.value)


def test_ignored_labels_in_a_replay_equal_eager():
    batches = []
    rng = np.random.default_rng(3)
    for k in range(4):
        x, y = _data("relu", k)
        labels = y.numpy().copy()
        if k % 2:
            labels[rng.integers(0, BATCH, 20)] = -100  # some batches ignore some examples
        batches.append((x, ds.tensor(labels)))
    runs = []
    for compiled in (False, True):
        _, step = _step_fn("relu", "adam")
        if compiled:
            step = ds.compile(step)
        runs.append([step(x, y).numpy().copy() for _ in range(2) for x, y in batches])
    np.testing.assert_array_equal(runs[0], runs[1])
