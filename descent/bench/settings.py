"""What a run measures and for how long: the workload names, ``Settings``, ``FitSettings``."""

from __future__ import annotations

from dataclasses import dataclass

from .workloads import WORKLOADS

STEP_NAMES = tuple(WORKLOADS)
EXTRA_NAMES = ("fit-digits", "mnist1d-mlp", "mnist1d-cnn", "peak-memory", "import-time")
ALL_NAMES = STEP_NAMES + EXTRA_NAMES


@dataclass(frozen=True)
class FitSettings:
    """The same network and schedule for both estimators (scikit-learn's defaults otherwise)."""

    hidden: tuple = (100,)
    batch_size: int = 200
    epochs: int = 30
    lr: float = 1e-3
    alpha: float = 1e-4  # L2 penalty, scikit-learn's default
    seed: int = 0
    # Test accuracy on 450 digits moves by a point from one seed to the next, so it is
    # averaged over this many seeds (seed, seed + 1, ...), each its own split and start.
    n_seeds: int = 5


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
    fit: FitSettings = FitSettings()
    fit_repeat: int = 5
    memory_steps: int = 20
    import_runs: int = 7
    mnist1d_steps: int = 8000  # the paper's whole run (descent/bench/mnist1d.py)

    @classmethod
    def quick(cls, names=ALL_NAMES, repeat: int | None = None, threads: int = 2) -> Settings:
        return cls(
            names=tuple(names),
            repeat=repeat or 3,
            threads=threads,
            block_seconds=0.02,
            warmup_seconds=0.01,
            pause_seconds=0.0,
            fit=FitSettings(epochs=3),
            fit_repeat=1,
            memory_steps=3,
            import_runs=3,
            mnist1d_steps=50,
        )
