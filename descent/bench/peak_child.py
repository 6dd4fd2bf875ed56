"""The body of a peak-memory child process: a few steps of one workload, then its peak RSS.

NOTE: ``fresh.measure_peak_memory`` runs this file in a fresh interpreter, as a module of
a bare package of this folder (no ``descent`` package, so ``descent/__init__.py`` does not
run), so that each framework's row holds only what that framework loads: this file and
``workloads`` import only NumPy and the standard library at their top.
"""

from __future__ import annotations

import sys

from .workloads import WORKLOADS


def peak_rss_kib() -> int:
    """This process's peak resident memory in KiB (VmHWM, or getrusage's ru_maxrss)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource  # Unix only, and needed only without /proc  # noqa: PLC0415

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak  # bytes on macOS


def peak_rss_child(framework: str, workload: str, steps: int, threads: int) -> None:
    """The body of a peak-memory child process: ``steps`` steps, then print the peak in KiB."""
    if framework == "torch":
        import torch  # optional  # noqa: PLC0415

        torch.set_num_threads(threads)
    w = WORKLOADS[workload]
    impl = w.builders[framework](w.make_problem())
    for _ in range(steps):
        impl.step()
    print(peak_rss_kib())
