"""mnist1d-mlp and mnist1d-cnn: the MNIST-1D paper's whole training run, end to end.

Greydanus ("Scaling Down Deep Learning", 2020) trains each model with Adam (lr 1e-2) on
batches of 100 taken in order from the 4,000 training series, for 8,000 steps, and reports
the test accuracy on the 1,000 others. ``train_run`` is that run written once for two
frameworks: it is called with ``m = descent`` and with ``m = torch``, builds the model with
``m.nn``, and returns the training time and the final test accuracy (and, when asked, a
learning curve). ``jax_run`` is the same run in JAX (a jit-compiled step, Adam written
out), starting from the weights descent drew. ``tools/mnist1d_table.py`` runs them all,
three models on plain and position-shuffled data, over several seeds.
"""

from __future__ import annotations

import functools
import statistics
import time

import numpy as np

from descent.datasets import load_mnist1d

from .timing import error_text, ratio

STEPS, BATCH, LR = 8000, 100, 1e-2  # the paper repository's recipe
KINDS = ("linear", "mlp", "cnn")
WORKLOAD_KINDS = {"mnist1d-mlp": "mlp", "mnist1d-cnn": "cnn"}
SUMMARIES = {
    "linear": "logistic regression 40-10",
    "mlp": "MLP 40-256-256-10, ReLU, residual second layer",
    "cnn": "CNN conv1d(1->25, k5 s2 p1), 2x conv1d(25->25, k3 s2 p1), ReLU, linear 125-10",
}


@functools.cache
def mnist1d_arrays(shuffle_positions: bool = False) -> tuple:
    """(x, y, x_test, y_test) of the paper's dataset (seed 42), plain or position-shuffled."""
    (x, y), (x_test, y_test) = load_mnist1d(shuffle_positions=shuffle_positions)
    return x, y, x_test, y_test


@functools.cache
def _classes(nn) -> tuple:
    """The paper's residual MLP and CNN as Modules of ``nn`` (descent.nn or torch.nn)."""

    class ResidualMLP(nn.Module):
        def __init__(self, hidden: int = 256):
            super().__init__()
            self.linear1 = nn.Linear(40, hidden)
            self.linear2 = nn.Linear(hidden, hidden)
            self.linear3 = nn.Linear(hidden, 10)

        def forward(self, x):
            h = self.linear1(x).relu()
            h = h + self.linear2(h).relu()
            return self.linear3(h)

    class ConvNet(nn.Module):
        def __init__(self, channels: int = 25):
            super().__init__()
            self.conv1 = nn.Conv1d(1, channels, 5, stride=2, padding=1)  # 40 -> 19
            self.conv2 = nn.Conv1d(channels, channels, 3, stride=2, padding=1)  # -> 10
            self.conv3 = nn.Conv1d(channels, channels, 3, stride=2, padding=1)  # -> 5
            self.linear = nn.Linear(channels * 5, 10)

        def forward(self, x):
            h = x.reshape(x.shape[0], 1, x.shape[-1])  # (N, 1, 40)
            h = self.conv1(h).relu()
            h = self.conv2(h).relu()
            h = self.conv3(h).relu()
            return self.linear(h.reshape(h.shape[0], -1))

    return ResidualMLP, ConvNet


def build_model(m, kind: str):
    """``kind`` ('linear', 'mlp', 'cnn') built with ``m.nn``, its weights drawn as ``m`` does."""
    if kind == "linear":
        return m.nn.Linear(40, 10)
    mlp, cnn = _classes(m.nn)
    if kind == "mlp":
        return mlp()
    if kind == "cnn":
        return cnn()
    raise ValueError(f"unknown MNIST-1D model {kind!r}; choose from {', '.join(KINDS)}")


def _accuracy(m, model, x, y) -> float:
    with m.no_grad():
        return float((model(x).argmax(-1) == y).float().mean().item())


def train_run(m, kind: str, data: tuple, seed: int = 0, steps: int = STEPS,
              eval_every: int = 0) -> dict:  # fmt: skip
    """The paper's run of ``kind`` on ``data`` (x, y, x_test, y_test) with framework ``m``.

    Returns ``seconds`` (the training steps alone, evaluations excluded), ``accuracy`` (the
    final test accuracy) and, with ``eval_every``, ``curve``: (step, training loss of that
    step's batch, test accuracy) every ``eval_every`` steps and at the last.
    """
    m.manual_seed(seed)
    model = build_model(m, kind)
    x, y, x_test, y_test = (m.from_numpy(np.ascontiguousarray(a)) for a in data)
    optimizer = m.optim.Adam(model.parameters(), lr=LR)
    cross_entropy = m.nn.functional.cross_entropy
    curve, evaluating = [], 0.0
    start = time.perf_counter()
    for step in range(steps):
        i = step * BATCH % len(x)
        loss = cross_entropy(model(x[i : i + BATCH]), y[i : i + BATCH])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if eval_every and (step % eval_every == 0 or step == steps - 1):
            began = time.perf_counter()
            curve.append((step, float(loss.item()), _accuracy(m, model, x_test, y_test)))
            evaluating += time.perf_counter() - began
    seconds = time.perf_counter() - start - evaluating
    accuracy = curve[-1][2] if curve else _accuracy(m, model, x_test, y_test)
    return {"seconds": seconds, "accuracy": accuracy, "curve": curve}


# ---- JAX -----------------------------------------------------------------------------------


def _jax_forward(jnp, lax, kind: str, p: dict, x):
    """The model's forward in jax.numpy, from descent's parameter names and layouts."""
    if kind == "linear":
        return x @ p["weight"].T + p["bias"]
    if kind == "mlp":
        h = jnp.maximum(x @ p["linear1.weight"].T + p["linear1.bias"], 0)
        h = h + jnp.maximum(h @ p["linear2.weight"].T + p["linear2.bias"], 0)
        return h @ p["linear3.weight"].T + p["linear3.bias"]
    h = x[:, None, :]  # (N, 1, 40)
    for name in ("conv1", "conv2", "conv3"):
        w = p[f"{name}.weight"]
        h = lax.conv_general_dilated(h, w, (2,), [(1, 1)], dimension_numbers=("NCH", "OIH", "NCH"))
        h = jnp.maximum(h + p[f"{name}.bias"][None, :, None], 0)
    return h.reshape(h.shape[0], -1) @ p["linear.weight"].T + p["linear.bias"]


def jax_run(kind: str, data: tuple, seed: int = 0, steps: int = STEPS) -> dict:
    """The same run in JAX: one jit-compiled step (forward, gradient, Adam as PyTorch
    writes it), from the weights ``descent.manual_seed(seed)`` draws. ``seconds`` includes
    the first step's compilation."""
    import jax  # optional: the bench extra  # noqa: PLC0415
    import jax.numpy as jnp  # noqa: PLC0415

    import descent  # noqa: PLC0415 - floor 3 from floor 5, loaded only for JAX's start

    descent.manual_seed(seed)
    start_weights = build_model(descent, kind).state_dict()
    params = {k: jnp.asarray(v.numpy()) for k, v in start_weights.items()}
    x, y, x_test, y_test = (jnp.asarray(a) for a in data)
    beta1, beta2, eps = 0.9, 0.999, 1e-8

    def loss_fn(p, xb, yb):
        logits = _jax_forward(jnp, jax.lax, kind, p, xb)
        logp = jax.nn.log_softmax(logits)
        return -jnp.take_along_axis(logp, yb[:, None], axis=1).mean()

    @jax.jit
    def step(p, m1, m2, t, i):
        xb = jax.lax.dynamic_slice_in_dim(x, i, BATCH)
        yb = jax.lax.dynamic_slice_in_dim(y, i, BATCH)
        loss, g = jax.value_and_grad(loss_fn)(p, xb, yb)
        m1 = jax.tree.map(lambda a, b: beta1 * a + (1 - beta1) * b, m1, g)
        m2 = jax.tree.map(lambda a, b: beta2 * a + (1 - beta2) * b * b, m2, g)
        c1, c2 = 1 - beta1**t, 1 - beta2**t

        def update(w, a, b):
            return w - LR * (a / c1) / (jnp.sqrt(b / c2) + eps)

        return jax.tree.map(update, p, m1, m2), m1, m2, loss

    zeros = jax.tree.map(jnp.zeros_like, params)
    m1, m2 = zeros, zeros
    start = time.perf_counter()
    for t in range(steps):
        i = t * BATCH % x.shape[0]
        params, m1, m2, loss = step(params, m1, m2, jnp.float32(t + 1), i)
    jax.block_until_ready(params)
    seconds = time.perf_counter() - start
    logits = _jax_forward(jnp, jax.lax, kind, params, x_test)
    accuracy = float((logits.argmax(-1) == y_test).mean())
    return {"seconds": seconds, "accuracy": accuracy, "curve": []}


def jax_available() -> bool:
    try:
        import jax  # noqa: F401, PLC0415
    except ImportError:
        return False
    return True


# ---- the bench workloads -----------------------------------------------------------------


def runners(torch_ok: bool) -> dict:
    """framework -> run(kind, data, seed, steps), for the frameworks installed."""
    import descent  # noqa: PLC0415 - floor 3, as a user imports it

    found = {"descent": functools.partial(train_run, descent)}
    if torch_ok:
        import torch  # optional  # noqa: PLC0415

        found["torch"] = functools.partial(train_run, torch)
    if jax_available():
        found["jax"] = jax_run
    return found


def time_mnist1d(name: str, steps: int, torch_ok: bool) -> dict:
    """One whole run of workload ``name`` per framework (seed 0, plain data, in turn):
    training seconds and final test accuracy."""
    kind = WORKLOAD_KINDS[name]
    data = mnist1d_arrays(False)
    seconds, accuracy, status = {}, {}, {}
    for framework, run in runners(torch_ok).items():
        try:
            result = run(kind, data, seed=0, steps=steps)
            seconds[framework], accuracy[framework] = result["seconds"], result["accuracy"]
            status[framework] = "ok"
        except Exception as e:
            seconds[framework] = accuracy[framework] = None
            status[framework] = error_text(e)
    ratios = {
        f"descent/{f}": ratio(seconds["descent"], seconds[f]) for f in seconds if f != "descent"
    }
    return {
        "name": name,
        "summary": f"{SUMMARIES[kind]}; Adam lr {LR:g}, batch {BATCH} in order, {steps} steps",
        "steps": steps,
        "seconds": seconds,
        "accuracy": accuracy,
        "status": status,
        "ratios": ratios,
    }


def render_mnist1d(entries: list) -> str:
    """The section of the bench table: per workload, seconds and test accuracy per framework."""
    lines = []
    for e in entries:
        lines.append(f"{e['name']}: {e['summary']} (one whole run each, seed 0)")
        lines.append(f"  {'framework':<10} {'train s':>9} {'test accuracy':>14}")
        for framework, seconds in e["seconds"].items():
            acc = e["accuracy"][framework]
            if e["status"][framework] != "ok":
                lines.append(f"  {framework:<10} {e['status'][framework]}")
                continue
            lines.append(f"  {framework:<10} {seconds:>9.2f} {acc:>14.3f}")
        lines += [f"  {k} time {v:.2f}x" for k, v in e["ratios"].items() if v is not None]
    return "\n".join(lines)


def spread(values: list) -> tuple[float, float]:
    """(mean, half the range) of a few runs' values."""
    return statistics.fmean(values), (max(values) - min(values)) / 2
