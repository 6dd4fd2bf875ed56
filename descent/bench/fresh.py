"""Measurements in fresh interpreters: the peak memory of a few steps, and import time.

Each runs in a fresh interpreter (``subprocess``), so it sees only what its framework
loads; the children get the run's thread count in ``OMP_NUM_THREADS`` and its kin.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

from .environment import child_env
from .settings import Settings
from .timing import ratio

# The frameworks whose memory is measured: descent, PyTorch, and the NumPy floor.
MEMORY_FRAMEWORKS = ("descent", "torch", "numpy")

# This folder as a bare package: its modules load without descent/__init__.py (see peak_child).
_CHILD = """\
import importlib, sys, types
package = types.ModuleType("descent_bench")
package.__path__ = [{folder!r}]
sys.modules[package.__name__] = package
child = importlib.import_module("descent_bench.peak_child")
child.peak_rss_child({framework!r}, {workload!r}, {steps}, {threads})
"""


def measure_peak_memory(
    settings: Settings, workload: str = "mlp-b128", frameworks=MEMORY_FRAMEWORKS, torch_ok=True
) -> dict:
    """Peak resident memory of ``steps`` steps of ``workload``, each framework in a fresh
    interpreter that imports only what that framework needs (``peak_child``)."""
    mib, status = {}, {}
    for fw in MEMORY_FRAMEWORKS:
        mib[fw] = None
        if fw not in frameworks:
            status[fw] = "not measured"
            continue
        if fw == "torch" and not torch_ok:
            status[fw] = "n/a (torch not installed)"
            continue
        code = _CHILD.format(
            folder=os.path.dirname(os.path.abspath(__file__)),
            framework=fw,
            workload=workload,
            steps=settings.memory_steps,
            threads=settings.threads,
        )
        done = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            env=child_env(settings.threads),
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
        "ratios": {"descent/torch": ratio(mib["descent"], mib["torch"])},
    }


def _median_wall_seconds(argv: list, runs: int, env: dict) -> tuple[float, list]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), samples


def measure_import_time(settings: Settings) -> dict:
    """Wall time of ``python -c 'import descent'`` (median of fresh runs), and of bare Python.

    NOTE: as a user's import runs: from compiled bytecode, which ``pip install`` writes and
    Python writes on a first import. Where PYTHONDONTWRITEBYTECODE is set (or the source
    tree is read-only) an editable checkout has none, and every import would compile all
    of descent's source first, about as long again; so the children write and read their
    bytecode in a cache of their own (PYTHONPYCACHEPREFIX), filled by one unmeasured run.
    """
    env = child_env(settings.threads)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    runs = settings.import_runs
    with tempfile.TemporaryDirectory(prefix="descent-bytecode-") as cache:
        env["PYTHONPYCACHEPREFIX"] = cache
        argv = [sys.executable, "-c", "import descent"]
        subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL)  # writes it
        seconds, samples = _median_wall_seconds(argv, runs, env)
        bare, _ = _median_wall_seconds([sys.executable, "-c", "pass"], runs, env)
    return {
        "name": "import-time",
        "command": "python -c 'import descent' (bytecode compiled)",
        "seconds": seconds,
        "samples": samples,
        "python_startup_seconds": bare,
    }
