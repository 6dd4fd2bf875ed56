"""The ``descent bench`` command: its flags and its body."""

from __future__ import annotations

import argparse
import sys

from . import sweep
from .environment import blas_warnings
from .runner import run
from .settings import ALL_NAMES, Settings
from .table import render, write_json


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
    parser.add_argument(
        "--sweep",
        action="store_true",
        help="instead of the workloads: MLP steps over a grid of batch sizes and widths, "
        "written as sweep.md and sweep.png (--repeat: rounds per point, default 5)",
    )
    parser.add_argument(
        "--sweep-dir",
        default="benchmarks",
        metavar="DIR",
        help="where --sweep writes sweep.md and sweep.png (default %(default)s)",
    )


def _sweep(args: argparse.Namespace) -> int:
    settings = sweep.sweep_settings(args.repeat, args.threads, quick=args.quick)
    if args.quick:
        grid = (sweep.QUICK_BATCHES, sweep.QUICK_WIDTHS)
    else:
        grid = (sweep.BATCHES, sweep.WIDTHS)
    results = sweep.run_sweep(
        settings, *grid, progress=lambda m: print(m, file=sys.stderr, flush=True)
    )
    written, no_plot = sweep.write_sweep(results, args.sweep_dir)
    print(sweep.render_markdown(results), end="")
    if no_plot:
        print(f"descent bench: no plot: {no_plot}", file=sys.stderr)
    if args.json:
        write_json(results, args.json)
        written.append(args.json)
    print(f"wrote {', '.join(written)}")
    return 0


def main(args: argparse.Namespace) -> int:
    """Run the benchmark, print the table (and write JSON); 0 whatever the targets say."""
    for warning in blas_warnings():
        print(f"descent bench: WARNING: {warning}", file=sys.stderr)
    if getattr(args, "sweep", False):
        return _sweep(args)
    if args.quick:
        settings = Settings.quick(args.workloads, args.repeat, args.threads)
    else:
        settings = Settings(
            names=tuple(args.workloads), repeat=args.repeat or 11, threads=args.threads
        )
    results = run(settings, progress=lambda m: print(m, file=sys.stderr, flush=True))
    print(render(results), end="")
    if args.json:
        write_json(results, args.json)
        print(f"wrote {args.json}")
    return 0
