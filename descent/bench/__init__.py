"""``descent bench``: descent (eager, and given to ``ds.compile``) against PyTorch, JAX's
``jax.jit`` and a hand-written NumPy reference, in one run; ``--sweep`` over MLP sizes.

>>> from descent.bench import Settings, run, render
>>> print(render(run(Settings.quick(["ops-tiny"], repeat=1))))  # doctest: +SKIP

``add_arguments(parser)`` and ``main(args)`` are the command's flags and body (``command``).
The workloads are in ``workloads`` (problems, the shared user code ``steps``, the JAX
step ``jax_steps``, the NumPy ``reference``), their timing in ``timing``, ``fit_digits`` and
``fresh``, the whole run in ``runner``, the table and JSON in ``table``, the sweep of
sizes in ``sweep``.
"""

from .command import add_arguments, main
from .runner import TARGETS, run
from .settings import ALL_NAMES, Settings
from .table import render, write_json
from .workloads import WORKLOADS

__all__ = [
    "ALL_NAMES", "TARGETS", "WORKLOADS", "Settings", "add_arguments", "main", "render", "run",
    "write_json",
]  # fmt: skip
