"""The MNIST-1D paper's table, reproduced with descent beside PyTorch (and JAX).

``python -m tools.mnist1d_table`` trains the paper's three models (logistic regression,
the residual MLP, the CNN) with the paper repository's recipe (Adam lr 1e-2, batches of
100 in order, 8,000 steps; ``descent/bench/mnist1d.py``) on the paper's MNIST-1D and on
the same data with its 40 positions shuffled, over ``--seeds`` seeds (0, 1, ...), in each
framework in turn (descent, torch, jax, then the next seed), and prints Markdown: the test
accuracy as mean +- half the range over the seeds beside the paper's figure, then the
training seconds per run (the median over the seeds; each framework with ``--threads``
threads). ``--steps`` and ``--seeds`` shorten it for a smoke run. ``docs/mnist1d.md`` holds
a run.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time


# XLA's CPU pool is set when jax is first imported: as many threads as the others get
def _threads_asked(argv: list) -> int:
    for i, a in enumerate(argv):
        if a.startswith("--threads="):
            return int(a.split("=", 1)[1])
        if a == "--threads" and i + 1 < len(argv):
            return int(argv[i + 1])
    return 1


THREADS = _threads_asked(sys.argv)
os.environ.setdefault(
    "XLA_FLAGS",
    f"--xla_cpu_multi_thread_eigen={'true' if THREADS > 1 else 'false'} "
    f"intra_op_parallelism_threads={THREADS}",
)

from descent.bench.environment import limit_threads, torch_module  # noqa: E402
from descent.bench.mnist1d import (  # noqa: E402
    BATCH,
    KINDS,
    LR,
    STEPS,
    SUMMARIES,
    mnist1d_arrays,
    runners,
    spread,
)

# Greydanus (2020), Table 1 / Figure 3: test accuracy in percent
PAPER = {
    ("linear", False): 32, ("mlp", False): 68, ("cnn", False): 94,
    ("linear", True): None, ("mlp", True): 68, ("cnn", True): 56,
}  # fmt: skip


def measure(seeds: int, steps: int, say) -> dict:
    """(kind, shuffled, framework) -> list of (accuracy, seconds), one per seed."""
    found = runners(torch_module() is not None)
    results = {}
    for shuffled in (False, True):
        data = mnist1d_arrays(shuffled)
        for kind in KINDS:
            for seed in range(seeds):
                for framework, run in found.items():
                    r = run(kind, data, seed=seed, steps=steps)
                    results.setdefault((kind, shuffled, framework), []).append(
                        (r["accuracy"], r["seconds"])
                    )
                    say(f"{kind} {'shuffled' if shuffled else 'plain'} seed {seed} {framework}: "
                        f"{r['accuracy']:.3f} in {r['seconds']:.1f} s")  # fmt: skip
    return results


def markdown(results: dict, seeds: int, steps: int, threads: int, minutes: float) -> str:
    frameworks = sorted({f for _, _, f in results}, key=["torch", "descent", "jax"].index)
    lines = [
        "# MNIST-1D: the paper's table, reproduced",
        "",
        "Written by `python -m tools.mnist1d_table`"
        + (f" --steps {steps}" if steps != STEPS else "")
        + f" on {time.strftime('%Y-%m-%d')} ({platform.processor() or platform.machine()}, "
        f"{threads} thread{'s' if threads > 1 else ''} per framework, {minutes:.0f} minutes "
        f"in all).",
        "",
        f"Recipe (the paper repository's): Adam lr {LR:g}, batches of {BATCH} taken in order, "
        f"{steps} steps, cross-entropy; 4,000 training and 1,000 test series of MNIST-1D "
        "(mnist1d's defaults, seed 42). Shuffled: one permutation of the 40 positions, the "
        "same for every series, train and test. Models: "
        + "; ".join(f"{k}: {v}" for k, v in SUMMARIES.items())
        + ". JAX starts from the weights descent draws; descent and PyTorch draw their own.",
        "",
        f"Test accuracy in percent: mean +- half the range over {seeds} seeds (0..{seeds - 1}).",
        "",
        "| model | data | paper | " + " | ".join(frameworks) + " |",
        "|---|---|---|" + "---|" * len(frameworks),
    ]
    for shuffled in (False, True):
        for kind in KINDS:
            paper = PAPER[(kind, shuffled)]
            cells = []
            for f in frameworks:
                mean, half = spread([100 * a for a, _ in results[(kind, shuffled, f)]])
                cells.append(f"{mean:.1f} +- {half:.1f}")
            lines.append(
                f"| {kind} | {'shuffled' if shuffled else 'plain'} | "
                f"{'n/a' if paper is None else paper} | " + " | ".join(cells) + " |"
            )
    lines += [
        "",
        "Training time per run in seconds (median over the seeds; evaluation excluded; JAX's "
        "includes its one compilation). The frameworks ran in turn, seed by seed, on a shared "
        "machine: compare the ratios within a row, not the absolute times.",
        "",
        "| model | data | " + " | ".join(frameworks) + " | descent/torch |",
        "|---|---|" + "---|" * (len(frameworks) + 1),
    ]
    for shuffled in (False, True):
        for kind in KINDS:
            times = {
                f: statistics.median(s for _, s in results[(kind, shuffled, f)]) for f in frameworks
            }
            ratio = times["descent"] / times["torch"] if "torch" in times else float("nan")
            lines.append(
                f"| {kind} | {'shuffled' if shuffled else 'plain'} | "
                + " | ".join(f"{times[f]:.1f}" for f in frameworks)
                + f" | {ratio:.2f}x |"
            )
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--threads", type=int, default=THREADS)
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = parser.parse_args(argv)

    def say(text: str) -> None:
        if not args.quiet:
            print(text, file=sys.stderr, flush=True)

    start = time.perf_counter()
    with limit_threads(args.threads):
        results = measure(args.seeds, args.steps, say)
    minutes = (time.perf_counter() - start) / 60
    print(markdown(results, args.seeds, args.steps, args.threads, minutes), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
