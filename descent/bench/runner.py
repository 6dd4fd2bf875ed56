"""Timing the workloads: interleaved repetitions, medians, ratios, targets, the table, JSON.

Each step workload is built for every framework from one problem, warmed up, and then
timed in rounds: one block of k steps of descent, then of torch, then of numpy, round
after round, so that whatever the machine does meanwhile falls on all three alike. A
framework's time is the median over rounds of (block time / k); ratios are of medians
within this one run. Thread counts are the same for all (``threads``): torch's intra-op
threads and, through threadpoolctl, the BLAS and OpenMP pools NumPy and torch use.

Peak memory and import time are measured in fresh interpreters (``subprocess``), so each
sees only what its framework loads.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import gc
import importlib.metadata
import json
import os
import platform
import statistics
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass, replace

from . import workloads as wl

SCHEMA = "descent-bench/1"
STEP_NAMES = tuple(wl.WORKLOADS)
EXTRA_NAMES = ("fit-digits", "peak-memory", "import-time")
ALL_NAMES = STEP_NAMES + EXTRA_NAMES
SLOW_BLAS_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
NOISY_SPREAD = 0.25  # 2-thread rounds on a quiet 2-core VM spread 10-25%; more: disturbed


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
    Target("cnn-b64", "descent/torch", 1.0),
    Target("ops-tiny", "descent/torch", 0.5),
    Target("tiny-mlp", "descent/torch", 1.0),
    Target("fit-digits", "descent/sklearn", 1.0),
    Target("fit-digits", "accuracy descent - sklearn", 0.0, at_least=True),
    Target("peak-memory", "descent/torch", 0.3),
    Target("import-time", "seconds", 0.15),
)


@dataclass(frozen=True)
class Settings:
    """How long and how often to measure; ``quick`` is for smoke runs and tests."""

    names: tuple = ALL_NAMES
    repeat: int = 11  # timed rounds per framework; medians over these
    threads: int = 2
    block_seconds: float = 0.15  # a timed block of k steps lasts about this long
    warmup_seconds: float = 0.2  # per framework, before the blocks
    # NOTE: after a block, OpenBLAS's worker threads spin for about 0.1 s (2^28 cycles)
    # before they sleep, and on 2 cores they steal the next framework's cores: torch's
    # mlp-b128 step timed right after a NumPy block read 2.5x slower than alone. So each
    # block waits ``pause_seconds`` and takes ``rewarm_steps`` untimed steps first.
    pause_seconds: float = 0.2
    rewarm_steps: int = 2
    fit: wl.FitSettings = wl.FitSettings()
    fit_repeat: int = 5
    memory_steps: int = 20
    import_runs: int = 7

    @classmethod
    def quick(cls, names=ALL_NAMES, repeat: int | None = None, threads: int = 2) -> Settings:
        return cls(
            names=tuple(names),
            repeat=repeat or 3,
            threads=threads,
            block_seconds=0.02,
            warmup_seconds=0.01,
            pause_seconds=0.0,
            fit=wl.FitSettings(epochs=3),
            fit_repeat=1,
            memory_steps=3,
            import_runs=3,
        )


# ---- the environment ------------------------------------------------------------------------


def _torch():
    """The torch module, or None when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git_commit() -> str | None:
    """The commit of the descent checkout being measured (+ '-dirty'), if it is one."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        head = subprocess.run(
            ["git", "-C", root, "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        dirty = subprocess.run(
            ["git", "-C", root, "status", "--porcelain", "-uno", "--", "descent"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if head.returncode != 0:
        return None
    return head.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def _numpy_blas() -> dict:
    """NumPy's BLAS as threadpoolctl sees it (the library loaded from NumPy's folder)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return {"internal_api": "unknown (install threadpoolctl)"}
    import numpy as np

    numpy_dir = os.path.dirname(os.path.dirname(np.__file__))
    blas = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    own = [
        i for i in blas if i.get("filepath", "").startswith(numpy_dir) and "numpy" in i["filepath"]
    ]
    info = (own or blas or [{}])[0]
    keys = ("internal_api", "version", "architecture", "threading_layer", "num_threads", "filepath")
    return {k: info.get(k) for k in keys}


def environment(threads: int) -> dict:
    """What the header states: date, machine, versions, NumPy's BLAS and the threads."""
    import numpy as np

    from .. import __version__

    torch = _torch()
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__ if torch else None,
        "sklearn": _version("scikit-learn"),
        "descent": __version__,
        "descent_commit": _git_commit(),
        "load_average": _load_average(),
        "threads": threads,
        "torch_threads": torch.get_num_threads() if torch else None,
        "numpy_blas": _numpy_blas(),
    }


def _load_average() -> float | None:
    """The 1-minute load average: other processes running on the cores skew every timing."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def blas_warnings(environ=os.environ) -> list[str]:
    """A warning for each variable that slows NumPy's OpenBLAS here (read when it loads)."""
    return [
        f"{name}={environ[name]} is set: it slows NumPy's OpenBLAS on these machines. "
        f"Run the benchmark with `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE descent bench`."
        for name in SLOW_BLAS_VARIABLES
        if name in environ
    ]


@contextlib.contextmanager
def limit_threads(threads: int):
    """``threads`` threads for torch's intra-op pool and every BLAS/OpenMP pool loaded."""
    torch = _torch()
    previous = torch.get_num_threads() if torch else None
    if torch:
        torch.set_num_threads(threads)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        limits = contextlib.nullcontext()
    else:
        limits = threadpool_limits(limits=threads)
    try:
        with limits:
            yield
    finally:
        if torch:
            torch.set_num_threads(previous)


def _child_env(threads: int) -> dict:
    env = dict(os.environ)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = str(threads)
    return env


# ---- step workloads -------------------------------------------------------------------------


def _seconds_per_step(step, min_seconds: float) -> float:
    """Run ``step`` until ``min_seconds`` have passed (at least twice); mean seconds per step."""
    n, start = 0, time.perf_counter()
    while True:
        step()
        n += 1
        elapsed = time.perf_counter() - start
        if n >= 2 and elapsed >= min_seconds:
            return elapsed / n


def _error(e: Exception) -> str:
    return f"error: {type(e).__name__}: {e}"


def time_workload(workload: wl.Workload, settings: Settings, torch_ok: bool) -> dict:
    """Medians (in the workload's unit) of interleaved blocks, and the ratios of descent's."""
    problem = workload.make_problem()
    status = {fw: "ok" for fw in wl.FRAMEWORKS}
    if not torch_ok:
        status["torch"] = "n/a (torch not installed)"
    impls = {}
    for fw in wl.FRAMEWORKS:
        if status[fw] != "ok":
            continue
        try:
            impls[fw] = workload.builders[fw](problem)
        except Exception as e:  # a broken framework is a row, not a crash
            status[fw] = _error(e)
    gc.collect()
    estimate = {}
    for fw, impl in list(impls.items()):  # warm-up, and the step time that sizes the blocks
        try:
            _seconds_per_step(impl.step, settings.warmup_seconds)  # first steps are slow
            estimate[fw] = _seconds_per_step(impl.step, settings.block_seconds / 4)
        except Exception as e:
            status[fw] = _error(e)
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
    medians = {
        fw: statistics.median(samples[fw]) if samples.get(fw) else None for fw in wl.FRAMEWORKS
    }
    return {
        "name": workload.name,
        "summary": workload.summary,
        "unit": workload.unit,
        "steps_per_block": k,
        "rounds": settings.repeat,
        "median": medians,
        "best": {fw: min(samples[fw]) if samples.get(fw) else None for fw in wl.FRAMEWORKS},
        "samples": samples,
        "status": status,
        "spread": max((_spread(s) for s in samples.values() if s), default=None),
        "ratios": {
            "descent/torch": _ratio(medians["descent"], medians["torch"]),
            "descent/numpy": _ratio(medians["descent"], medians["numpy"]),
        },
    }


def _spread(samples: list) -> float:
    """Interquartile range / median of one framework's rounds: how much the machine moved."""
    if len(samples) < 2:
        return 0.0
    q1, _, q3 = statistics.quantiles(samples, n=4, method="inclusive")
    return (q3 - q1) / statistics.median(samples)


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


# ---- fit-digits, peak memory, import time ---------------------------------------------------


def time_fit_digits(settings: Settings) -> dict:
    """Seconds per fit (median) and test accuracy (the mean over ``fit.n_seeds`` seeds, each
    its own split and initialisation), descent's MLPClassifier and scikit-learn's."""
    fit = settings.fit
    seeds = [fit.seed + i for i in range(fit.n_seeds)]
    splits = {seed: wl.digits_split(seed) for seed in seeds}
    runners = {"descent": wl.fit_descent, "sklearn": wl.fit_sklearn}
    status = {name: "ok" for name in runners}
    seconds = {name: [] for name in runners}
    by_seed = {name: {} for name in runners}
    epochs_run = {name: None for name in runners}
    for _ in range(settings.fit_repeat):
        for seed in seeds:
            for name, fit_fn in runners.items():
                if status[name] != "ok":
                    continue
                try:
                    s, by_seed[name][seed], epochs_run[name] = fit_fn(
                        splits[seed], replace(fit, seed=seed)
                    )
                    seconds[name].append(s)
                except wl.MissingModelError as e:
                    status[name] = f"n/a ({e})"
                except Exception as e:
                    status[name] = _error(e)
    medians = {n: statistics.median(s) if s else None for n, s in seconds.items()}
    accuracy = {
        n: statistics.fmean(a.values()) if status[n] == "ok" and a else None
        for n, a in by_seed.items()
    }
    acc_d, acc_s = accuracy["descent"], accuracy["sklearn"]
    return {
        "name": "fit-digits",
        "settings": {
            "hidden": list(fit.hidden),
            "batch_size": fit.batch_size,
            "epochs": fit.epochs,
            "optimizer": "adam",
            "lr": fit.lr,
            "alpha": fit.alpha,
            "seeds": seeds,
            "early_stopping": False,
            "test_fraction": 0.25,
        },
        "seconds": medians,
        "samples": seconds,
        "accuracy": accuracy,
        "accuracy_by_seed": {n: [a.get(seed) for seed in seeds] for n, a in by_seed.items()},
        "epochs_run": epochs_run,
        "descent_options": _descent_options(fit),
        "status": status,
        "ratios": {
            "descent/sklearn": _ratio(medians["descent"], medians["sklearn"]),
            "accuracy descent - sklearn": None if None in (acc_d, acc_s) else acc_d - acc_s,
        },
    }


def _descent_options(fit: wl.FitSettings) -> dict | None:
    """The keyword arguments given to descent's MLPClassifier (None if there is none)."""
    try:
        options = wl.descent_classifier_options(wl.descent_classifier(), fit)
    except wl.MissingModelError:
        return None
    return {k: list(v) if isinstance(v, tuple) else v for k, v in options.items()}


_CHILD = """\
import importlib.util, sys
spec = importlib.util.spec_from_file_location("descent_bench_workloads", {path!r})
module = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = module
spec.loader.exec_module(module)
module.peak_rss_child({framework!r}, {workload!r}, {steps}, {threads})
"""


def measure_peak_memory(
    settings: Settings, workload: str = "mlp-b128", frameworks=wl.FRAMEWORKS, torch_ok=True
) -> dict:
    """Peak resident memory of ``steps`` steps of ``workload``, each framework in a fresh
    interpreter that imports only what that framework needs (workloads.py loaded by path)."""
    mib, status = {}, {}
    for fw in wl.FRAMEWORKS:
        mib[fw] = None
        if fw not in frameworks:
            status[fw] = "not measured"
            continue
        if fw == "torch" and not torch_ok:
            status[fw] = "n/a (torch not installed)"
            continue
        code = _CHILD.format(
            path=wl.__file__,
            framework=fw,
            workload=workload,
            steps=settings.memory_steps,
            threads=settings.threads,
        )
        done = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            env=_child_env(settings.threads),
        )
        if done.returncode != 0:
            lines = done.stderr.strip().splitlines() or ["no output"]
            status[fw] = f"error: {lines[-1]}"
            continue
        mib[fw] = int(done.stdout.split()[-1]) / 1024
        status[fw] = "ok"
    return {
        "name": "peak-memory",
        "workload": workload,
        "steps": settings.memory_steps,
        "mib": mib,
        "status": status,
        "ratios": {"descent/torch": _ratio(mib["descent"], mib["torch"])},
    }


def _median_wall_seconds(argv: list, runs: int, env: dict) -> tuple[float, list]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), samples


def measure_import_time(settings: Settings) -> dict:
    """Wall time of ``python -c 'import descent'`` (median of fresh runs), and of bare Python."""
    env = _child_env(settings.threads)
    runs = settings.import_runs
    seconds, samples = _median_wall_seconds([sys.executable, "-c", "import descent"], runs, env)
    bare, _ = _median_wall_seconds([sys.executable, "-c", "pass"], runs, env)
    return {
        "name": "import-time",
        "command": "python -c 'import descent'",
        "seconds": seconds,
        "samples": samples,
        "python_startup_seconds": bare,
    }


# ---- the whole run ----------------------------------------------------------------------------


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
    torch_ok = _torch() is not None
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
        "peak_memory": None,
        "import_time": None,
    }
    with limit_threads(settings.threads):
        results["environment"] = environment(settings.threads)
        for name in settings.names:
            if name in wl.WORKLOADS:
                say(f"timing {name} ...")
                results["workloads"].append(time_workload(wl.WORKLOADS[name], settings, torch_ok))
            elif name == "fit-digits":
                say("timing fit-digits ...")
                results["fit_digits"] = time_fit_digits(settings)
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
    results["environment"]["load_average_after"] = _load_average()
    return results


# ---- the table ----------------------------------------------------------------------------------


def _num(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _times(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def _verdict(passed: bool | None) -> str:
    return {True: "pass", False: "MISS", None: "n/a"}[passed]


def render(results: dict) -> str:
    """The table: header (date, machine, versions, BLAS, threads), then one section per kind."""
    env, st = results["environment"], results["settings"]
    blas = env["numpy_blas"]
    lines = [
        f"descent bench  {env['date']}",
        f"machine   {env['platform']}; {env['cpu']}; {env['cores']} cores "
        f"({env['usable_cores']} usable)",
        f"versions  Python {env['python']}, NumPy {env['numpy']}, PyTorch {env['torch'] or 'n/a'}, "
        f"scikit-learn {env['sklearn'] or 'n/a'}, descent {env['descent']}"
        f"{' (' + env['descent_commit'] + ')' if env.get('descent_commit') else ''}",
        f"NumPy BLAS {blas.get('internal_api')} {blas.get('version') or ''} "
        f"(coretype {blas.get('architecture')}, {blas.get('threading_layer')}, "
        f"{blas.get('num_threads')} threads)",
        f"threads   {env['threads']} for all (torch.set_num_threads "
        f"{env['torch_threads'] or 'n/a'}; threadpoolctl for BLAS/OpenMP)",
        f"load      1-min load average {env['load_average']} before, "
        f"{env.get('load_average_after')} after (other processes on these cores skew timings)",
        f"method    warm-up, then {st['repeat']} interleaved rounds (descent, torch, numpy, "
        f"descent, ...) of k timed steps,",
        f"          each after a {st['pause_seconds']:g} s pause and {st['rewarm_steps']} untimed "
        f"steps; medians of the rounds;",
        "          ratios of medians within this run",
    ]
    for w in results["warnings"]:
        lines.append(f"WARNING   {w}")
    if results["workloads"]:
        lines += ["", _step_table(results["workloads"])]
    notes = [
        f"  {w['name']} {fw}: {s}"
        for w in results["workloads"]
        for fw, s in w["status"].items()
        if s != "ok"
    ]
    load, cores = env["load_average"], env["usable_cores"] or 1
    if load is not None and load > cores / 2:
        notes.append(
            f"  the load average was {load} on {cores} cores before the run: other processes "
            f"were busy, and every timing (and ratio) may be off"
        )
    noisy = [w["name"] for w in results["workloads"] if (w["spread"] or 0) > NOISY_SPREAD]
    if noisy:
        notes.append(
            f"  rounds disagree by more than {NOISY_SPREAD:.0%} in {', '.join(noisy)}: the "
            f"machine was busy; rerun when it is quiet (or with --threads 1, which suffers less)"
        )
    fit = results["fit_digits"]
    if fit:
        lines += ["", _fit_table(fit)]
        notes += [f"  fit-digits {n}: {s}" for n, s in fit["status"].items() if s != "ok"]
    mem = results["peak_memory"]
    if mem:
        lines += ["", _memory_table(mem)]
        notes += [f"  peak-memory {fw}: {s}" for fw, s in mem["status"].items() if s not in ("ok",)]
    imp = results["import_time"]
    if imp:
        lines += [
            "",
            f"import    {imp['command']}: {imp['seconds']:.3f} s median of "
            f"{len(imp['samples'])} fresh runs (bare `python -c pass`: "
            f"{imp['python_startup_seconds']:.3f} s)",
        ]
    if results["targets"]:
        lines += ["", _target_table(results["targets"])]
    if notes:
        lines += ["", "notes"]
        lines += [textwrap.fill(n, 100, subsequent_indent="    ") for n in notes]
    return "\n".join(lines) + "\n"


def _step_table(rows: list) -> str:
    head = (
        "workload",
        "unit",
        "descent",
        "torch",
        "numpy",
        "desc/torch",
        "desc/numpy",
        "k",
        "spread",
    )
    table = [head]
    for w in rows:
        m, r = w["median"], w["ratios"]
        table.append(
            (
                w["name"],
                w["unit"],
                _num(m["descent"]),
                _num(m["torch"]),
                _num(m["numpy"]),
                _times(r["descent/torch"]),
                _times(r["descent/numpy"]),
                str(w["steps_per_block"]),
                "n/a" if w["spread"] is None else f"{w['spread']:.0%}",
            )
        )
    legend = (
        "k: steps per timed block; spread: the widest interquartile range / median of a "
        "framework's rounds"
    )
    return f"{_columns(table, left=2)}\n{legend}"


def _fit_table(fit: dict) -> str:
    s = fit["settings"]
    title = (
        f"fit-digits: MLPClassifier hidden {tuple(s['hidden'])}, batch {s['batch_size']}, "
        f"{s['epochs']} epochs, adam lr {s['lr']:g}, alpha {s['alpha']:g}, 75/25 split;\n"
        f"accuracy: the mean over seeds {s['seeds'][0]}..{s['seeds'][-1]} (split and start)"
    )
    table = [("estimator", "fit s", "test accuracy", "epochs run")]
    for name in ("descent", "sklearn"):
        epochs = fit["epochs_run"][name]
        table.append(
            (
                name,
                _num(fit["seconds"][name]),
                _num(fit["accuracy"][name], 4),
                "n/a" if epochs is None else str(epochs),
            )
        )
    ratio = fit["ratios"]["descent/sklearn"]
    return f"{title}\n{_columns(table, left=1)}\ndescent/sklearn fit time {_times(ratio)}"


def _memory_table(mem: dict) -> str:
    title = (
        f"peak-memory: peak resident MiB of {mem['steps']} {mem['workload']} steps, fresh process"
    )
    table = [("framework", "MiB")]
    table += [(fw, _num(mib, 1)) for fw, mib in mem["mib"].items()]
    ratio = mem["ratios"]["descent/torch"]
    return f"{title}\n{_columns(table, left=1)}\ndescent/torch {_times(ratio)}"


def _target_table(targets: list) -> str:
    table = [("targets", "measure", "value", "target", "result")]
    for t in targets:
        value = t["value"]
        if value is None:
            shown = "n/a"
        elif t["measure"] == "seconds":
            shown = f"{value:.3f} s"
        elif t["measure"].startswith("accuracy"):
            shown = f"{value:+.4f}"
        else:
            shown = _times(value)
        table.append((t["workload"], t["measure"], shown, t["target"], _verdict(t["passed"])))
    return _columns(table, left=2)


def _columns(rows: list, left: int) -> str:
    """Rows aligned in columns: the first ``left`` columns to the left, the rest right."""
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    out = []
    for row in rows:
        cells = [
            str(c).ljust(w) if i < left else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(row, widths))
        ]
        out.append("  ".join(cells).rstrip())
    return "\n".join(out)


def write_json(results: dict, path: str) -> None:
    """``results`` as JSON at ``path``, written to a temporary name and renamed."""
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        json.dump(results, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


# ---- the command ------------------------------------------------------------------------------


def _names(text: str) -> tuple:
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in ALL_NAMES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown workload(s) {unknown or text!r}; choose from {', '.join(ALL_NAMES)}"
        )
    return names


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``descent bench``."""
    parser.add_argument(
        "--workloads",
        type=_names,
        default=ALL_NAMES,
        metavar="NAME,...",
        help=f"which to run (default all): {', '.join(ALL_NAMES)}",
    )
    parser.add_argument(
        "--repeat",
        type=_positive,
        default=None,
        metavar="N",
        help="timed rounds per framework, medians over them (default 11; 3 with --quick)",
    )
    parser.add_argument(
        "--threads",
        type=_positive,
        default=2,
        metavar="N",
        help="threads for every framework (default %(default)s)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="short blocks, few rounds and epochs: a smoke run, not a measurement",
    )


def main(args: argparse.Namespace) -> int:
    """Run the benchmark, print the table (and write JSON); 0 whatever the targets say."""
    if args.quick:
        settings = Settings.quick(args.workloads, args.repeat, args.threads)
    else:
        settings = Settings(
            names=tuple(args.workloads), repeat=args.repeat or 11, threads=args.threads
        )
    for warning in blas_warnings():
        print(f"descent bench: WARNING: {warning}", file=sys.stderr)
    results = run(settings, progress=lambda m: print(m, file=sys.stderr, flush=True))
    print(render(results), end="")
    if args.json:
        write_json(results, args.json)
        print(f"wrote {args.json}")
    return 0
