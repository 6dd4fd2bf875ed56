"""ds.compile: a replayed step equals the eager step bit for bit, and what cannot be traced
is refused at trace time with a message naming the user's line."""

from __future__ import annotations

import gc
import inspect
import tracemalloc
from types import SimpleNamespace

import numpy as np
import pytest

import descent as ds
from descent import autograd
from descent.bench.workloads import WORKLOADS
from descent.optable import TABLE

nn, F = ds.nn, ds.nn.functional

OPTIMIZERS = {
    "sgd": lambda ps: ds.optim.SGD(ps, lr=0.1),
    "momentum": lambda ps: ds.optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
    "adam": lambda ps: ds.optim.Adam(ps, lr=0.01, weight_decay=1e-3),
    "rmsprop": lambda ps: ds.optim.RMSprop(ps, lr=0.01),
    "adagrad": lambda ps: ds.optim.Adagrad(ps, lr=0.1),
}


def _mlp():
    return nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Dropout(0.25), nn.Linear(16, 3))


def _cnn():
    return nn.Sequential(
        nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 6, 3), nn.ReLU(),
        nn.AvgPool2d(2), nn.Flatten(), nn.Linear(6, 3),
    )  # fmt: skip


def _autoencoder():
    return nn.Sequential(nn.Linear(6, 3), nn.ReLU(), nn.Linear(3, 6))


MODELS = {  # name -> (model builder, input shape, loss of (output, x, y))
    "mlp": (_mlp, (8, 6), lambda out, x, y: F.cross_entropy(out, y)),
    "cnn": (_cnn, (8, 1, 10, 10), lambda out, x, y: F.cross_entropy(out, y)),
    "autoencoder": (_autoencoder, (8, 6), lambda out, x, y: F.mse_loss(out, x)),
    "softmax": (lambda: nn.Linear(6, 3), (8, 6), lambda out, x, y: F.cross_entropy(out, y)),
    "logistic": (
        lambda: nn.Linear(6, 1),
        (8, 6),
        lambda out, x, y: F.binary_cross_entropy_with_logits(out[:, 0], (y > 0).float()),
    ),
}


def _batches(shape, n, seed=1):
    rng = np.random.default_rng(seed)
    return [
        (
            ds.tensor(rng.standard_normal(shape).astype(np.float32)),
            ds.tensor(rng.integers(0, 3, shape[0])),
        )
        for _ in range(n)
    ]


def _train(model_name, opt_name, compiled, steps=6):
    build, shape, loss_fn = MODELS[model_name]
    ds.manual_seed(0)
    model = build()
    opt = OPTIMIZERS[opt_name](model.parameters())

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), x, y)
        loss.backward()
        opt.step()
        return loss

    run = ds.compile(step) if compiled else step
    ds.manual_seed(7)  # the dropout masks come from here, in the order eager draws them
    losses = [run(x, y).numpy().copy() for x, y in _batches(shape, steps)]
    state = opt.state_dict()["state"]
    return losses, model, state, run


@pytest.mark.parametrize("opt_name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("model_name", sorted(MODELS))
def test_compiled_training_equals_eager_bit_for_bit(model_name, opt_name):
    eager = _train(model_name, opt_name, False)
    compiled = _train(model_name, opt_name, True)
    assert compiled[3].traces == 2  # traced twice, then replayed four times
    for a, b in zip(eager[0], compiled[0]):
        assert np.array_equal(a, b)
    for p, q in zip(eager[1].parameters(), compiled[1].parameters()):
        assert np.array_equal(p.numpy(), q.numpy())
        assert np.array_equal(p.grad.numpy(), q.grad.numpy())
    assert eager[2].keys() == compiled[2].keys()
    for k in eager[2]:
        for name, v in eager[2][k].items():
            assert np.array_equal(np.asarray(v), np.asarray(compiled[2][k][name])), name


def test_dropout_replays_fresh_masks():
    ds.manual_seed(0)
    drop = nn.Dropout(0.5)
    step = ds.compile(lambda x: drop(x))
    x = ds.ones(4, 50)
    outs = [step(x).numpy().copy() for _ in range(4)]
    assert step.traces == 2
    assert not np.array_equal(outs[2], outs[3])  # a replay draws anew
    ds.manual_seed(0)
    eager = [drop(x).numpy().copy() for _ in range(4)]
    assert all(np.array_equal(a, b) for a, b in zip(outs, eager))


def _optable_step(op):
    def step(*xs):
        out = op.fn(ds, F, *xs)
        outs = out if isinstance(out, (tuple, list)) else (out,)
        floats = [o for o in outs if isinstance(o, ds.Tensor) and o.dtype.kind == "f"]
        if not floats or not floats[0].requires_grad:
            return tuple(outs)
        total = floats[0].sum()
        for o in floats[1:]:
            total = total + o.sum()
        total.backward()
        return (*outs, *[x.grad for x in xs if x.requires_grad])

    return step


def _optable_inputs(op, rng):
    shapes = op.shapes[0]
    arrays = [make(rng, s) for make, s in zip(op.makers(len(shapes)), shapes)]
    return [
        ds.tensor(np.asarray(a), requires_grad=op.differentiable(i, np.asarray(a)))
        for i, a in enumerate(arrays)
    ]


def _values(result):
    return [r.numpy() for r in result if isinstance(r, ds.Tensor)]


@pytest.mark.parametrize("op", TABLE, ids=lambda op: op.name)
def test_every_op_of_the_table_replays_as_eager(op):
    rng = np.random.default_rng(3)
    step = _optable_step(op)
    compiled = ds.compile(step)
    for _ in range(4):
        xs = _optable_inputs(op, rng)
        twins = [ds.tensor(x.numpy().copy(), requires_grad=x.requires_grad) for x in xs]
        got = _values(compiled(*xs))
        want = _values(step(*twins))
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert g.dtype == w.dtype and np.array_equal(g, w, equal_nan=True)
    assert compiled.traces == 2


@pytest.mark.parametrize(
    "activation",
    [lambda x: F.hardtanh(x), lambda x: F.relu6(x * 4.0), lambda x: F.elu(x - 2.0)],
    ids=["hardtanh", "relu6", "elu"],
)
def test_a_mask_equal_on_the_first_two_calls_is_computed_anew_on_the_third(activation):
    # the mask of every element is the same on calls 1 and 2 (inside the range, where the
    # gradient is 1) and differs on call 3 (outside it): the two traces agree, so only a
    # replay that computes the mask again gets the third call right
    step = _optable_step(SimpleNamespace(fn=lambda m, F, x: activation(x)))  # a table row
    compiled = ds.compile(step)
    inside = np.array([0.1, -0.2, 0.3, 0.4])
    for x in (inside, inside * 0.5, inside * 10.0, inside * -10.0):
        got = compiled(ds.tensor(x, requires_grad=True))
        want = step(ds.tensor(x, requires_grad=True))
        for g, w in zip(_values(got), _values(want)):
            assert np.array_equal(g, w)
    assert compiled.traces == 2
    assert not np.array_equal(_values(got)[1], np.ones(4))  # the last call's mask is not 1s


@pytest.mark.parametrize(
    "loss",
    [
        lambda x, y: F.cross_entropy(x, y),
        lambda x, y: F.cross_entropy(x, y, reduction="sum", label_smoothing=0.1),
        lambda x, y: F.nll_loss(x, y),
        lambda x, y: ds.norm(x * (y != -100).float()[:, None], dim=1).sum(),
    ],
    ids=["cross_entropy", "smoothed", "nll_loss", "norm"],
)
def test_ignored_labels_first_seen_on_the_third_call_are_ignored(loss):
    # calls 1 and 2 hold no ignored label (cross_entropy's fused op, norm without zero
    # rows), call 3 holds some and call 4 only ignored ones: what the labels hold is
    # decided by the ops of every replay
    step = _optable_step(SimpleNamespace(fn=lambda m, F, x, y: loss(x, y)))
    compiled = ds.compile(step)
    rng = np.random.default_rng(5)
    labels = [[0, 1, 2, 1], [2, 2, 0, 1], [0, -100, 2, -100], [-100] * 4]
    for y in labels:
        x = rng.standard_normal((4, 3))
        got = compiled(ds.tensor(x, requires_grad=True), ds.tensor(y))
        want = step(ds.tensor(x, requires_grad=True), ds.tensor(y))
        for g, w in zip(_values(got), _values(want)):
            assert np.array_equal(g, w, equal_nan=True)
    assert compiled.traces == 2


def test_random_programs_from_the_op_table():
    # programs of several rows: each row's output is summed into one loss
    rng = np.random.default_rng(11)
    for _ in range(12):
        chosen = [TABLE[i] for i in rng.choice(len(TABLE), 3, replace=False)]

        def step(*xs, chosen=chosen):
            total, k = None, 0
            for op in chosen:
                n = len(op.shapes[0])
                out = op.fn(ds, F, *xs[k : k + n])
                k += n
                outs = out if isinstance(out, (tuple, list)) else (out,)
                for o in outs:
                    if isinstance(o, ds.Tensor) and o.dtype.kind == "f" and o.requires_grad:
                        total = o.sum() if total is None else total + o.sum()
            if total is not None:
                total.backward()
            return total, *[x.grad for x in xs if x.requires_grad]

        compiled = ds.compile(step)
        for _ in range(3):
            xs = [x for op in chosen for x in _optable_inputs(op, rng)]
            twins = [ds.tensor(x.numpy().copy(), requires_grad=x.requires_grad) for x in xs]
            got, want = compiled(*xs), step(*twins)
            for g, w in zip(got, want):
                assert (g is None) == (w is None)
                if g is not None:
                    assert np.array_equal(g.numpy(), w.numpy(), equal_nan=True)


@pytest.mark.parametrize("name", sorted(WORKLOADS))
def test_the_bench_steps_compile(name):
    w = WORKLOADS[name]
    eager = w.builders["descent"](w.make_problem(0))
    fast = w.builders["descent"](w.make_problem(0))
    step = ds.compile(fast.step)
    for _ in range(4):
        a, b = eager.step(), step()
        assert np.array_equal(a.numpy(), b.numpy())
    assert step.traces == 2
    for a, b in zip(eager.state(), fast.state()):
        assert np.array_equal(a, b)


def test_a_new_signature_traces_again():
    lin = nn.Linear(3, 2)
    step = ds.compile(lambda x: lin(x).sum())
    for shape in [(4, 3), (4, 3), (4, 3), (5, 3), (5, 3), (5, 3)]:
        step(ds.ones(*shape))
    assert step.traces == 4
    lin.eval()  # the training flag is part of the signature
    step(ds.ones(4, 3))
    assert step.traces == 5
    with ds.no_grad():  # and so is the grad mode
        step(ds.ones(4, 3))
    assert step.traces == 6


def test_replaced_parameter_traces_again():
    lin = nn.Linear(3, 2)
    step = ds.compile(lambda x: lin(x).sum())
    x = ds.ones(4, 3)
    for _ in range(3):
        step(x)
    lin.weight.data = ds.zeros(2, 3)
    assert step(x).item() == pytest.approx(float(lin.bias.numpy().sum()) * 4)
    assert step.traces == 2  # same shape: the replay reads the new array


def test_results_and_grads_look_as_after_eager():
    w = ds.tensor([1.0, 2.0], requires_grad=True)

    @ds.compile
    def step(x):
        loss = (w * x).sum()
        loss.backward()
        return loss, {"twice": loss * 2}

    for k in range(4):
        w.grad = None
        loss, extra = step(ds.tensor([3.0, float(k)]))
        assert isinstance(loss, ds.Tensor) and loss.item() == 3.0 + 2.0 * k
        assert extra["twice"].item() == 2 * (3.0 + 2.0 * k)
        assert w.grad.tolist() == [3.0, float(k)]
    step(ds.tensor([1.0, 1.0]))  # without zeroing, .grad accumulates as eager's does
    assert w.grad.tolist() == [4.0, 4.0]


def test_ds_grad_inside_a_step():
    @ds.compile
    def step(x):
        (g,) = ds.grad((x**3).sum(), [x])
        return g * 2

    for k in range(4):
        x = ds.tensor([1.0, float(k)], requires_grad=True)
        assert step(x).tolist() == [6.0, 6.0 * k * k]


# ---- what is refused, and how -------------------------------------------------------


def _line_of(marker: str) -> str:
    source, start = inspect.getsourcelines(inspect.getmodule(_line_of))
    line = next(i for i, s in enumerate(source, start + 1) if marker in s and "_line_of" not in s)
    return f"{__file__}:{line}"


def _refused(step, *args):
    compiled = ds.compile(step)
    with pytest.raises(ds.CompileError) as info:
        compiled(*args)
    return str(info.value)


W = ds.tensor([1.0, 2.0], requires_grad=True)
X = ds.tensor([3.0, 4.0])


def test_reading_a_value_is_refused_naming_the_line():
    def step(x):
        loss = (W * x).sum()
        if loss.item() > 0:  # MARK-item
            loss = loss * 2
        return loss

    message = _refused(step, X)
    assert message == (
        f"ds.compile: t.item() reads a tensor's values inside a compiled step "
        f"({_line_of('MARK-item')}); a compiled step replays the same operations on every "
        f"call, so it cannot decide anything by the values it computes. Return the tensor "
        f"from the step and read it after the call, or leave this step uncompiled."
    )


@pytest.mark.parametrize(
    "read, what",
    [
        (lambda t: bool(t.sum() > 0), "bool(t) (an if or while on a tensor)"),
        (lambda t: float(t.sum()), "float(t)"),
        (lambda t: t.numpy(), "t.numpy()"),
        (lambda t: t.tolist(), "t.tolist()"),
        (lambda t: repr(t), "printing a tensor"),
        (lambda t: np.asarray(t), "np.asarray(t)"),
    ],
)
def test_every_value_read_is_refused(read, what):
    message = _refused(lambda x: read(W * x), X)
    assert message.startswith(f"ds.compile: {what} reads a tensor's values inside a compiled")


def test_in_place_changes_are_refused():
    def step(x):
        y = W * x
        with ds.no_grad():
            W.sub_(0.1 * W.grad if W.grad is not None else 0.1)  # MARK-inplace
        return y

    assert _refused(step, X) == (
        f"ds.compile: an in-place change of a tensor (add_, item assignment, x -= ..., "
        f"clipping) inside a compiled step ({_line_of('MARK-inplace')}); a replay would not "
        f"repeat it. Change parameters through an optimizer (its step is recorded), compute "
        f"the new value out of place (x = x - y), or make the change outside the step."
    )


def test_draws_outside_random_draw_are_refused():
    def step(x):
        return x + ds.randn(2)  # MARK-randn

    assert _refused(step, X) == (
        f"ds.compile: a draw from descent's generator outside ds.random.draw (ds.randn, "
        f"ds.rand, an init function) inside a compiled step ({_line_of('MARK-randn')}); a "
        f"replay would repeat the numbers of the trace. Make the random tensor outside the "
        f"step and pass it in, or draw it with ds.random.draw(sample) as F.dropout does."
    )


def test_higher_derivatives_are_refused():
    def step(x):
        (g,) = ds.grad((W * W * x).sum(), [W], create_graph=True)  # MARK-cg
        return g

    assert _refused(step, X) == (
        f"ds.compile: grad(create_graph=True) inside a compiled step ({_line_of('MARK-cg')});"
        f" a compiled step records first derivatives only; compute higher derivatives in an "
        f"uncompiled step."
    )


def test_retain_grad_is_refused():
    def step(x):
        y = W * x
        y.retain_grad()
        y.sum().backward()  # MARK-retain
        return y

    message = _refused(step, X)
    assert message.startswith(
        f"ds.compile: retain_grad() inside a compiled step ({_line_of('MARK-retain')}); "
    )


def test_assigning_a_gradient_is_refused():
    def step(x):
        W.grad = x * 1  # MARK-assign
        return x

    assert _refused(step, X) == (
        f"ds.compile: assigning a tensor to .grad inside a compiled step "
        f"({_line_of('MARK-assign')}); only `.grad = None` (or zero_grad()) is recorded; set "
        f"other gradients outside the step."
    )


def test_unhashable_arguments_are_refused():
    message = _refused(lambda x, s: x, X, {1, 2})
    assert message == (
        "ds.compile: argument args[1] of the step is a set, which is neither a Tensor, an "
        "array, a tuple, list or dict of them, nor hashable; pass it through the step's "
        "closure instead, or make it one of those."
    )


def test_a_shape_read_from_values_is_refused():
    def step(y):
        return F.one_hot(y)  # MARK-onehot

    assert _refused(step, ds.tensor([0, 2])) == (
        f"ds.compile: one_hot(num_classes=-1), which reads the number of classes from the "
        f"labels' values, inside a compiled step ({_line_of('MARK-onehot')}); a replay would "
        f"keep the first call's number. Pass num_classes."
    )


@pytest.mark.parametrize(
    "name, find",
    [("unique", ds.unique), ("bincount", ds.bincount), ("nonzero", ds.nonzero)],
)
def test_a_result_whose_shape_follows_the_values_is_refused(name, find):
    message = _refused(lambda y: find(y), ds.tensor([0, 2, 2]))
    assert message.startswith(
        f"ds.compile: {name}, whose result's shape follows the values, inside a compiled step "
    )
    assert message.endswith(
        "a replay would keep the first call's shape. Call it outside the compiled step."
    )


def test_a_step_that_changes_from_call_to_call_is_detected():
    calls = []

    def step(x):
        calls.append(1)
        return x * 2 if len(calls) % 2 else x + 2

    compiled = ds.compile(step)
    compiled(X)
    with pytest.raises(ds.CompileError) as info:
        compiled(X)
    assert str(info.value) == (
        "ds.compile: 'test_a_step_that_changes_from_call_to_call_is_detected.<locals>.step' "
        "ran different operations on two calls with the same signature (they differ at step "
        "0 of the program: op Mul on the first call, op Add on the second); the step depends "
        "on Python state that its arguments do not show (a counter, a flag, a global). Pass "
        "that state as an argument, so that each value is its own signature, or leave the "
        "step uncompiled."
    )


def test_library_reads_are_not_refused_and_tracing_leaves_the_engine_as_it_was():
    before = (autograd.Function.__dict__["apply"], ds.Tensor.item, ds.Tensor.grad)
    _refused(lambda x: (W * x).sum().item(), X)
    assert (autograd.Function.__dict__["apply"], ds.Tensor.item, ds.Tensor.grad) == before
    assert not ds.compile.__module__.startswith("tests")
    assert (W * X).sum().item() == 11.0  # eager works after a refused trace


# ---- memory ---------------------------------------------------------------------------


def test_a_replay_builds_no_context_and_keeps_no_memory():
    ds.manual_seed(0)
    model = _mlp()
    opt = ds.optim.Adam(model.parameters(), lr=0.01)

    @ds.compile
    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    ((x, y),) = _batches((32, 6), 1)
    for _ in range(3):
        step(x, y)
    made = []
    init = autograd.Context.__init__
    autograd.Context.__init__ = lambda self, *a: (made.append(1), init(self, *a))[1]
    try:
        step(x, y)
    finally:
        autograd.Context.__init__ = init
    assert made == []  # eager makes one Context per op
    gc.collect()
    tracemalloc.start()
    try:
        for _ in range(30):  # NumPy's and the version stamps' caches fill up first
            step(x, y)
        start, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        for _ in range(20):
            step(x, y)
        end, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert end - start < 4096  # nothing is kept from one replay to the next
    assert peak - start < 64 * 1024  # the step's arrays: 32 x 16 float32 values at most each


@pytest.mark.parametrize("opt_name", ["sgd", "adam"])
def test_fit_with_compile_equals_fit(opt_name):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((70, 6)).astype(np.float32)
    y = rng.integers(0, 3, 70)
    runs = []
    for compiled in (False, True):
        ds.manual_seed(0)
        model = _mlp()
        opt = OPTIMIZERS[opt_name](model.parameters())
        history = ds.train.fit(
            model, "cross_entropy", opt, (X, y), epochs=3, batch_size=16, seed=1,
            metrics=["accuracy"], verbose=0, compile=compiled,
        )  # fmt: skip
        runs.append((history, [p.numpy().copy() for p in model.parameters()]))
    (h1, w1), (h2, w2) = runs
    assert len(h1["loss"]) == 3
    assert h1["loss"] == h2["loss"] and h1["accuracy"] == h2["accuracy"]
    assert all(np.array_equal(a, b) for a, b in zip(w1, w2))


def test_descent_train_compile_gives_the_same_run(tmp_path):
    from descent.cli import main

    runs = []
    for flag in ([], ["--compile"]):
        name = "compiled" if flag else "eager"
        args = ["train", "--dataset", "iris", "--model", "mlp", "--epochs", "3", "--quiet"]
        args += ["--runs-dir", str(tmp_path), "--name", name, *flag]
        assert main(args) == 0
        runs.append((tmp_path / name / "metrics.csv").read_text())
    assert runs[0] == runs[1] and len(runs[0].splitlines()) == 4


class _HalfStep(ds.optim.Optimizer):
    """A user's own optimizer that writes its own step (no rule): p -= lr/2 * grad."""

    def __init__(self, params, lr=0.1):
        super().__init__(params, {"lr": lr})

    def step(self, closure=None, examples=None):
        for p in self._params():
            if p.grad is not None:
                p._data -= self.param_groups[0]["lr"] / 2 * p.grad._data
        self.global_step += 1


def test_a_users_own_step_is_replayed():
    results = []
    for compiled in (False, True):
        w = ds.tensor([1.0, -2.0], requires_grad=True)
        opt = _HalfStep([w])

        def step(x, w=w, opt=opt):
            opt.zero_grad()
            loss = (w * w * x).sum()
            loss.backward()
            opt.step()
            return loss

        run = ds.compile(step) if compiled else step
        losses = [run(ds.tensor([1.0, float(k)])).item() for k in range(5)]
        results.append((losses, w.tolist(), opt.global_step))
    assert results[0] == results[1] and results[0][2] == 5


def test_a_compiled_step_inside_another_is_part_of_its_trace():
    lin = nn.Linear(3, 1)
    inner = ds.compile(lambda x: lin(x).sum())
    outer = ds.compile(lambda x: inner(x) * 2)
    x = ds.ones(2, 3)
    values = [outer(x).item() for _ in range(4)]
    assert outer.traces == 2 and inner.traces == 0
    assert values == [pytest.approx(2 * lin(x).sum().item())] * 4
