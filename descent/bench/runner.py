"""The whole run: every workload in the settings, then the targets of the speed issue.

Thread counts are the same for all (``threads``): torch's intra-op threads and, through
threadpoolctl, the BLAS and OpenMP pools NumPy and torch use (``environment``); JAX's
XLA takes one thread from its flags for ``threads`` 1 and one per core otherwise, and
the whole process is held to ``threads`` CPUs (``pin_cpus``), since XLA's own pool heeds
neither. Step workloads are timed in interleaved rounds (``timing``); peak memory and
import time are measured in fresh interpreters (``fresh``), so each sees only what its
framework loads.
"""

from __future__ import annotations

from dataclasses import dataclass

from .environment import (
    blas_warnings,
    environment,
    limit_threads,
    load_average,
    missing_frameworks,
    pin_cpus,
    prepare_jax,
)
from .fit_digits import time_fit_digits
from .fresh import measure_import_time, measure_peak_memory
from .mnist1d import WORKLOAD_KINDS, time_mnist1d
from .settings import Settings
from .timing import time_workload
from .workloads import WORKLOADS

SCHEMA = "descent-bench/2"


@dataclass(frozen=True)
class Target:
    """A goal from the issue: ``measure`` of ``workload`` at most (or at least) ``limit``."""

    workload: str
    measure: str
    limit: float
    at_least: bool = False  # True: the value must be >= limit

    def check(self, value: float | None) -> bool | None:
        if value is None:
            return None
        return value >= self.limit if self.at_least else value <= self.limit

    def describe(self) -> str:
        return f"{'>=' if self.at_least else '<='} {self.limit:g}"


TARGETS = (
    Target("mlp-b128", "descent/torch", 0.60),
    Target("mlp-b128", "descent/numpy", 1.10),
    # the compiled step (ds.compile) against the limit and the fastest peer
    Target("mlp-b128", "compiled/numpy", 1.02),
    Target("mlp-b128", "compiled/jax", 0.95),
    Target("mlp-b32", "compiled/numpy", 1.05),
    Target("tiny-mlp", "compiled/jax", 1.0),
    Target("cnn-b64", "compiled/numpy", 0.80),
    Target("cnn-b64", "descent/torch", 1.0),
    Target("ops-tiny", "descent/torch", 0.5),
    Target("tiny-mlp", "descent/torch", 1.0),
    Target("fit-digits", "descent/sklearn", 0.6),  # MLPClassifier fits through ds.compile
    Target("fit-digits", "accuracy descent - sklearn", 0.0, at_least=True),
    Target("peak-memory", "descent/torch", 0.3),
    Target("import-time", "seconds", 0.15),
)


def _target_value(results: dict, target: Target) -> float | None:
    if target.workload == "import-time":
        entry = results["import_time"]
        return entry["seconds"] if entry else None
    if target.workload == "fit-digits":
        entry = results["fit_digits"]
    elif target.workload == "peak-memory":
        entry = results["peak_memory"]
    else:
        entry = next((w for w in results["workloads"] if w["name"] == target.workload), None)
    return entry["ratios"].get(target.measure) if entry else None


def run(settings: Settings, progress=None) -> dict:
    """Every workload in ``settings.names``; returns the data the table and JSON show."""
    say = progress or (lambda message: None)
    jax_threads = prepare_jax(settings.threads)  # before anything imports jax
    missing = missing_frameworks()
    torch_ok = "torch" not in missing
    results = {
        "schema": SCHEMA,
        "settings": {
            "workloads": list(settings.names),
            "repeat": settings.repeat,
            "threads": settings.threads,
            "block_seconds": settings.block_seconds,
            "warmup_seconds": settings.warmup_seconds,
            "pause_seconds": settings.pause_seconds,
            "rewarm_steps": settings.rewarm_steps,
            "fit_repeat": settings.fit_repeat,
            "memory_steps": settings.memory_steps,
            "import_runs": settings.import_runs,
        },
        "warnings": blas_warnings(),
        "workloads": [],
        "fit_digits": None,
        "mnist1d": [],
        "peak_memory": None,
        "import_time": None,
    }
    with limit_threads(settings.threads):
        results["environment"] = environment(settings.threads)  # before pinning: all CPUs
        results["environment"]["jax_threads"] = jax_threads
    with pin_cpus(settings.threads) as cpus, limit_threads(settings.threads):
        results["environment"]["cpus"] = cpus
        for name in settings.names:
            if name in WORKLOADS:
                say(f"timing {name} ...")
                row = time_workload(WORKLOADS[name], settings, missing=missing)
                results["workloads"].append(row)
            elif name == "fit-digits":
                say("timing fit-digits ...")
                results["fit_digits"] = time_fit_digits(settings)
            elif name in WORKLOAD_KINDS:
                say(f"training {name} ({settings.mnist1d_steps} steps per framework) ...")
                results["mnist1d"].append(time_mnist1d(name, settings.mnist1d_steps, torch_ok))
    if "peak-memory" in settings.names:
        say("measuring peak memory ...")
        results["peak_memory"] = measure_peak_memory(settings, torch_ok=torch_ok)
    if "import-time" in settings.names:
        say("timing import descent ...")
        results["import_time"] = measure_import_time(settings)
    targets = []
    for t in TARGETS:
        if t.workload not in settings.names:
            continue
        value = _target_value(results, t)
        targets.append(
            {
                "workload": t.workload,
                "measure": t.measure,
                "value": value,
                "target": t.describe(),
                "passed": t.check(value),
            }
        )
    results["targets"] = targets
    results["environment"]["load_average_after"] = load_average()
    return results
