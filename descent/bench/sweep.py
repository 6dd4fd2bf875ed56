"""``descent bench --sweep``: how a step's cost grows with its work, for every framework.

One MLP step (``W-W-W-10``: input and two hidden layers of width W, ReLU, softmax
cross-entropy, SGD, the ``mlp-b128`` step at other sizes) is timed at every batch size and
width of a grid, each point as a step workload of its own (interleaved rounds, ``timing``).
The table (``sweep.md``) gives each point's matmul FLOPs and every framework's time; the
plot (``sweep.png``) puts time per step against FLOPs on log-log axes, where a framework's
fixed cost per step is the floor at the left and its arithmetic speed the slope at the
right.
"""

from __future__ import annotations

import functools
import os
import textwrap

from ..io import atomic_write
from .environment import (
    environment,
    limit_threads,
    load_average,
    missing_frameworks,
    pin_cpus,
    prepare_jax,
)
from .problems import mlp_problem
from .settings import Settings
from .table import NOISY_SPREAD, status_notes
from .timing import time_workload
from .workloads import FRAMEWORKS, MLP_BUILDERS, Workload

SCHEMA = "descent-bench-sweep/1"
BATCHES = (1, 8, 32, 128, 512, 2048)
WIDTHS = (16, 64, 256, 1024)
QUICK_BATCHES, QUICK_WIDTHS = (1, 8), (16, 32)  # ``--quick``: a smoke run of the machinery
CLASSES = 10


def sizes_of(width: int) -> tuple:
    """The layer sizes of the sweep's MLP of width ``width``."""
    return (width, width, width, CLASSES)


def step_flops(batch: int, sizes: tuple) -> int:
    """Floating-point operations in the matmuls of one training step (2 per multiply-add):
    the forward product of every layer, its weight gradient, and the input gradient of
    every layer but the first (nothing needs the data's gradient)."""
    total = 0
    for k, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        products = 3 if k else 2
        total += products * 2 * batch * n_in * n_out
    return total


def sweep_workload(batch: int, width: int) -> Workload:
    sizes = sizes_of(width)
    return Workload(
        f"mlp-w{width}-b{batch}",
        f"MLP {'-'.join(map(str, sizes))}, ReLU, softmax cross-entropy, batch {batch}, SGD step",
        "ms/step",
        1,
        functools.partial(mlp_problem, batch=batch, sizes=sizes),
        MLP_BUILDERS,
    )


def sweep_settings(repeat: int | None = None, threads: int = 2, quick: bool = False) -> Settings:
    """Shorter blocks than the main run's (the grid has many points); ``quick`` for tests."""
    if quick:
        return Settings.quick((), repeat or 1, threads)
    return Settings(
        names=(), repeat=repeat or 5, threads=threads, block_seconds=0.1, warmup_seconds=0.1
    )


def run_sweep(
    settings: Settings, batches: tuple = BATCHES, widths: tuple = WIDTHS, progress=None
) -> dict:
    """Every point of the grid, widths outer, batch sizes inner; the data the table shows."""
    say = progress or (lambda message: None)
    jax_threads = prepare_jax(settings.threads)
    missing = missing_frameworks()
    points = []
    with limit_threads(settings.threads):
        env = environment(settings.threads)  # before pinning: the usable CPUs are all
        env["jax_threads"] = jax_threads
    with pin_cpus(settings.threads) as cpus, limit_threads(settings.threads):
        env["cpus"] = cpus
        for width in widths:
            for batch in batches:
                say(f"timing MLP width {width}, batch {batch} ...")
                row = time_workload(sweep_workload(batch, width), settings, missing=missing)
                row.update(batch=batch, width=width, flops=step_flops(batch, sizes_of(width)))
                points.append(row)
    env["load_average_after"] = load_average()
    return {
        "schema": SCHEMA,
        "environment": env,
        "settings": {
            "repeat": settings.repeat,
            "threads": settings.threads,
            "block_seconds": settings.block_seconds,
            "pause_seconds": settings.pause_seconds,
            "batches": list(batches),
            "widths": list(widths),
        },
        "points": points,
    }


def _ms(value) -> str:
    return "n/a" if value is None else f"{value:.4g}"


def _x(value) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def _shown(sweep: dict) -> list:
    """The frameworks with at least one timed point (compiled appears once it exists)."""
    return [fw for fw in FRAMEWORKS if any(p["median"][fw] is not None for p in sweep["points"])]


def render_markdown(sweep: dict) -> str:
    """The sweep as a Markdown page: how it was measured, then one row per point."""
    env, st = sweep["environment"], sweep["settings"]
    shown = _shown(sweep)
    peers = [fw for fw in ("numpy", "torch", "jax") if fw in shown]
    ratios = [f"descent/{fw}" for fw in peers]
    if "compiled" in shown:
        ratios += ["compiled/descent", "compiled/jax"]
    method = (
        "Written by `descent bench --sweep` (see `benchmarks/README.md`). One SGD step of an "
        f"MLP W-W-W-{CLASSES} (input and two hidden layers of width W, ReLU, softmax "
        "cross-entropy) at each batch size and width; FLOPs are those of the step's matmuls "
        "(forward, weight gradients, and input gradients but the first layer's), 2 per "
        f"multiply-add. Each point is timed in {st['repeat']} interleaved rounds "
        f"({', '.join(FRAMEWORKS)}, ...) of blocks of about {st['block_seconds']:g} s, each "
        f"after a {st['pause_seconds']:g} s pause; medians in ms per step; ratios of medians "
        "within this run."
    )
    lines = [
        "# How the cost of a step grows with its work",
        "",
        textwrap.fill(method, 92),
        "",
        f"- date: {env['date']}; machine: {env['platform']}; {env['cpu']}; {env['cores']} cores",
        f"- versions: Python {env['python']}, NumPy {env['numpy']}, "
        f"PyTorch {env['torch'] or 'n/a'}, JAX {env.get('jax') or 'n/a'}, descent {env['descent']}"
        f"{' (' + env['descent_commit'] + ')' if env.get('descent_commit') else ''}",
        f"- threads: {env['threads']} for all (JAX: {env.get('jax_threads')}); 1-minute load "
        f"average {env['load_average']} before, {env.get('load_average_after')} after",
        "",
        "![time per step against FLOPs](sweep.png)",
        "",
    ]
    head = ["batch", "width", "MFLOP", *(f"{fw} ms" for fw in shown), *ratios, "spread"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for p in sweep["points"]:
        m, r = p["median"], p["ratios"]
        mflop = p["flops"] / 1e6
        cells = [
            str(p["batch"]),
            str(p["width"]),
            f"{mflop:.4g}" if mflop < 1e4 else f"{mflop:.0f}",
        ]
        cells += [_ms(m[fw]) for fw in shown]
        cells += [_x(r[name]) for name in ratios]
        cells.append("n/a" if p["spread"] is None else f"{p['spread']:.0%}")
        lines.append("| " + " | ".join(cells) + " |")
    notes = status_notes(sweep["points"])
    noisy = [p["name"] for p in sweep["points"] if (p["spread"] or 0) > NOISY_SPREAD]
    if noisy:
        notes.append(
            f"rounds disagree by more than {NOISY_SPREAD:.0%} at {len(noisy)} of "
            f"{len(sweep['points'])} points: the machine was busy; rerun when it is quiet"
        )
    if notes:
        lines += ["", "Notes:", ""] + [f"- {n.strip()}" for n in notes]
    return "\n".join(lines) + "\n"


_STYLE = {
    "descent": ("#d62728", "o"),
    "compiled": ("#ff7f0e", "D"),
    "torch": ("#1f77b4", "s"),
    "jax": ("#2ca02c", "^"),
    "numpy": ("#7f7f7f", "v"),
}


def plot(sweep: dict, path) -> None:
    """Time per step against FLOPs (log-log), one colour per framework and one line per
    width; beside it descent's time over each peer's. Written as a PNG to ``path``."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415
        from matplotlib.figure import Figure  # noqa: PLC0415
        from matplotlib.ticker import ScalarFormatter  # noqa: PLC0415
    except ImportError as e:
        raise ImportError("the sweep's plot needs matplotlib: pip install 'descent[viz]'") from e
    import io  # noqa: PLC0415 - only with the plot

    fig = Figure(figsize=(12, 5), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    times, ratios = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    shown = _shown(sweep)
    widths = sweep["settings"]["widths"]
    for fw in shown:
        colour, marker = _STYLE[fw]
        for k, width in enumerate(widths):
            pts = [p for p in sweep["points"] if p["width"] == width and p["median"][fw]]
            pts.sort(key=lambda p: p["flops"])
            times.plot(
                [p["flops"] for p in pts],
                [p["median"][fw] for p in pts],
                color=colour,
                marker=marker,
                markersize=4,
                linewidth=1,
                label=fw if k == 0 else None,
            )
    for fw in shown:
        if fw == "descent":
            continue
        colour, marker = _STYLE[fw]
        name = f"descent/{fw}" if fw != "compiled" else "compiled/descent"
        pts = sorted(
            (p for p in sweep["points"] if p["ratios"].get(name)), key=lambda p: p["flops"]
        )
        ratios.plot(
            [p["flops"] for p in pts],
            [p["ratios"][name] for p in pts],
            color=colour,
            marker=marker,
            markersize=4,
            linestyle="none",
            label=name,
        )
    ratios.axhline(1.0, color="black", linewidth=0.8)
    for ax in (times, ratios):
        ax.set_xscale("log")
        ax.set_yscale("log")
    ratios.yaxis.set_major_formatter(ScalarFormatter())
    ratios.yaxis.set_minor_formatter(ScalarFormatter())
    for ax in (times, ratios):
        ax.set_xlabel("matmul FLOPs per step")
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=8)
    env = sweep["environment"]
    times.set_ylabel("ms per step (median)")
    times.set_title(
        f"MLP W-W-W-{CLASSES} SGD step, W in {widths}, one line per W; "
        f"{env['threads']} thread{'s' if env['threads'] > 1 else ''}",
        fontsize=9,
    )
    ratios.set_ylabel("time ratio (below 1: the first is faster)")
    ratios.set_title("descent's time over each peer's, per point", fontsize=9)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=fig.dpi)
    atomic_write(path, buf.getvalue())


def write_sweep(sweep: dict, folder) -> tuple[list, str | None]:
    """``sweep.md`` and ``sweep.png`` in ``folder``: (the paths written, and why the plot
    was not, or None)."""
    os.makedirs(folder, exist_ok=True)
    md = os.path.join(folder, "sweep.md")
    atomic_write(md, render_markdown(sweep))
    png = os.path.join(folder, "sweep.png")
    try:
        plot(sweep, png)
    except ImportError as e:
        return [md], str(e)
    return [md, png], None
