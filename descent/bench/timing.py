"""Timing a step workload: warm-up, interleaved blocks of k steps, medians, spread, ratios.

Each step workload is built for every framework from one problem, warmed up, and then
timed in rounds: one block of k steps of descent, then of compiled descent, torch, JAX
and numpy, round after round, so that whatever the machine does meanwhile falls on all
alike. A
framework's time is the median over rounds of (block time / k); ratios are of medians
within this one run.
"""

from __future__ import annotations

import gc
import statistics
import time

from .settings import Settings
from .workloads import FRAMEWORKS, Workload


def _seconds_per_step(step, min_seconds: float) -> float:
    """Run ``step`` until ``min_seconds`` have passed (at least twice); mean seconds per step."""
    n, start = 0, time.perf_counter()
    while True:
        step()
        n += 1
        elapsed = time.perf_counter() - start
        if n >= 2 and elapsed >= min_seconds:
            return elapsed / n


def error_text(e: Exception) -> str:
    """How a broken framework's row says what went wrong."""
    return f"error: {type(e).__name__}: {e}"


RATIOS = (
    ("descent", "torch"), ("descent", "jax"), ("descent", "numpy"),
    ("compiled", "descent"), ("compiled", "torch"), ("compiled", "jax"), ("compiled", "numpy"),
)  # fmt: skip


def time_workload(
    workload: Workload, settings: Settings, torch_ok: bool = True, missing: dict | None = None
) -> dict:
    """Medians (in the workload's unit) of interleaved blocks, and the ratios of descent's.

    ``missing``: framework -> why it is not timed (n/a in its column), as
    ``environment.missing_frameworks`` says; ``torch_ok=False`` adds torch to it.
    """
    problem = workload.make_problem()
    missing = dict(missing or {})
    if not torch_ok:
        missing["torch"] = "n/a (torch not installed)"
    status = {}
    for fw in FRAMEWORKS:
        if fw in missing:
            status[fw] = missing[fw]
        elif fw not in workload.builders:
            status[fw] = f"n/a (no {fw} step for this workload)"
        else:
            status[fw] = "ok"
    impls = {}
    for fw in FRAMEWORKS:
        if status[fw] != "ok":
            continue
        try:
            impls[fw] = workload.builders[fw](problem)
        except Exception as e:  # a broken framework is a row, not a crash
            status[fw] = error_text(e)
    gc.collect()
    estimate = {}
    for fw, impl in list(impls.items()):  # warm-up, and the step time that sizes the blocks
        try:
            _seconds_per_step(impl.step, settings.warmup_seconds)  # first steps are slow
            estimate[fw] = _seconds_per_step(impl.step, settings.block_seconds / 4)
        except Exception as e:
            status[fw] = error_text(e)
            del impls[fw]
    k = max(1, round(settings.block_seconds / max(estimate.values()))) if estimate else 1
    samples = {fw: [] for fw in impls}
    for _ in range(settings.repeat):
        for fw, impl in impls.items():
            step = impl.step
            time.sleep(settings.pause_seconds)
            for _ in range(settings.rewarm_steps):
                step()
            start = time.perf_counter()
            for _ in range(k):
                step()
            seconds = (time.perf_counter() - start) / k
            samples[fw].append(workload.seconds_to_unit(seconds))
    medians = {fw: statistics.median(samples[fw]) if samples.get(fw) else None for fw in FRAMEWORKS}
    return {
        "name": workload.name,
        "summary": workload.summary,
        "unit": workload.unit,
        "steps_per_block": k,
        "rounds": settings.repeat,
        "median": medians,
        "best": {fw: min(samples[fw]) if samples.get(fw) else None for fw in FRAMEWORKS},
        "samples": samples,
        "status": status,
        "spread": max((_spread(s) for s in samples.values() if s), default=None),
        "ratios": {f"{a}/{b}": ratio(medians[a], medians[b]) for a, b in RATIOS},
    }


def _spread(samples: list) -> float:
    """Interquartile range / median of one framework's rounds: how much the machine moved."""
    if len(samples) < 2:
        return 0.0
    q1, _, q3 = statistics.quantiles(samples, n=4, method="inclusive")
    return (q3 - q1) / statistics.median(samples)


def ratio(a: float | None, b: float | None) -> float | None:
    """a / b, or None when either is missing (or b is 0)."""
    return a / b if a is not None and b else None
