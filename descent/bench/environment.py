"""The machine a run measures: versions, CPU, NumPy's BLAS, git commit, load, thread limits."""

from __future__ import annotations

import contextlib
import datetime
import importlib.metadata
import os
import platform
import subprocess
import sys

import numpy as np

import descent as ds

from .. import __version__

SLOW_BLAS_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def torch_module():
    """The torch module, or None when it is not installed."""
    try:
        import torch  # optional  # noqa: PLC0415
    except ImportError:
        return None
    return torch


# XLA's CPU flags for one thread: no multithreaded Eigen kernels, one intra-op thread
_XLA_ONE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


def prepare_jax(threads: int, environ=os.environ, modules=sys.modules) -> str:
    """Set, before jax is first imported, the threads XLA may use; say what it will use.

    XLA reads its flags once, when jax starts, and threadpoolctl does not reach its
    thread pool: with ``threads`` 1 its flags hold it to one thread; otherwise it uses
    its default, one thread per core. JAX runs on the CPU here (``JAX_PLATFORMS``),
    unless the environment says otherwise.
    """
    if "jax" in modules:
        return "XLA's flags as jax was started with (it was imported before the run)"
    environ.setdefault("JAX_PLATFORMS", "cpu")
    if threads == 1:
        flags = environ.get("XLA_FLAGS", "")
        if "intra_op_parallelism_threads" not in flags:
            environ["XLA_FLAGS"] = f"{flags} {_XLA_ONE_THREAD}".strip()
        return "1 (XLA_FLAGS)"
    return "XLA's default (one per core)"


def jax_module():
    """The jax module, or None when it is not installed."""
    try:
        import jax  # optional  # noqa: PLC0415
    except ImportError:
        return None
    return jax


def has_compile() -> bool:
    """Whether descent has ``ds.compile`` (the 'compiled' column)."""
    return getattr(ds, "compile", None) is not None


def missing_frameworks() -> dict:
    """framework -> why its column is n/a, for each one this run cannot time."""
    missing = {}
    if torch_module() is None:
        missing["torch"] = "n/a (torch not installed)"
    if jax_module() is None:
        missing["jax"] = "n/a (jax not installed: pip install 'descent[bench]')"
    if not has_compile():
        missing["compiled"] = "n/a (descent has no ds.compile yet)"
    return missing


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
        from threadpoolctl import threadpool_info  # optional  # noqa: PLC0415
    except ImportError:
        return {"internal_api": "unknown (install threadpoolctl)"}

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
    torch = torch_module()
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
        "jax": _version("jax"),
        "descent_compile": has_compile(),
        "sklearn": _version("scikit-learn"),
        "descent": __version__,
        "descent_commit": _git_commit(),
        "load_average": load_average(),
        "threads": threads,
        "torch_threads": torch.get_num_threads() if torch else None,
        "numpy_blas": _numpy_blas(),
    }


def load_average() -> float | None:
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


def _task_ids() -> list[int]:
    """The ids of this process's threads (Linux's /proc), or [0] (the calling thread)."""
    try:
        return [int(t) for t in os.listdir("/proc/self/task")]
    except OSError:
        return [0]


@contextlib.contextmanager
def pin_cpus(threads: int):
    """Hold every thread of the process, and those it starts, to ``threads`` CPUs.

    NOTE: XLA's CPU client keeps its own thread pool that neither threadpoolctl nor its
    flags (``_XLA_ONE_THREAD``) hold to one thread: measured, a 'one-thread' JAX step
    used 1.9 cores' time per wall second on a 2-core machine, and a 128 x 784 x 512
    product took 1.5x less wall time than NumPy's, the same time once the process was
    held to one CPU. So a run pins the whole process to as many CPUs as it has threads,
    where the system allows it (``os.sched_setaffinity``); yields the CPUs, or None.
    """
    setter = getattr(os, "sched_setaffinity", None)
    try:
        available = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        available = []
    if setter is None or not 0 < threads < len(available):
        yield None
        return
    chosen = set(available[:threads])
    previous = {}
    for tid in _task_ids():
        try:
            previous[tid] = os.sched_getaffinity(tid)
            setter(tid, chosen)
        except OSError:  # a thread that ended meanwhile
            previous.pop(tid, None)
    try:
        yield sorted(chosen)
    finally:
        for tid in _task_ids():
            try:
                setter(tid, previous.get(tid, set(available)))
            except OSError:
                pass


@contextlib.contextmanager
def limit_threads(threads: int):
    """``threads`` threads for torch's intra-op pool and every BLAS/OpenMP pool loaded."""
    torch = torch_module()
    previous = torch.get_num_threads() if torch else None
    if torch:
        torch.set_num_threads(threads)
    try:
        from threadpoolctl import threadpool_limits  # optional  # noqa: PLC0415
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


def child_env(threads: int) -> dict:
    env = dict(os.environ)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = str(threads)
    return env
