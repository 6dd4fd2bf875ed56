"""``descent bench``: descent against PyTorch and a hand-written NumPy reference, in one run.

>>> from descent.bench import Settings, run, render
>>> print(render(run(Settings.quick(["ops-tiny"], repeat=1))))  # doctest: +SKIP

``add_arguments(parser)`` and ``main(args)`` are the command's flags and body; the
workloads are in ``descent.bench.workloads``, the timing in ``descent.bench.runner``.
"""

from .runner import ALL_NAMES, TARGETS, Settings, add_arguments, main, render, run, write_json
from .workloads import WORKLOADS

__all__ = [
    "ALL_NAMES", "TARGETS", "WORKLOADS", "Settings", "add_arguments", "main", "render", "run",
    "write_json",
]  # fmt: skip
