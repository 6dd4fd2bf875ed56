"""import descent keeps freed memory for reuse (glibc only): a loop that allocates and frees
the same large arrays, as a training step does, stops taking page faults."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from descent import _malloc

GLIBC = _malloc._is_glibc()

LOOP = """
import resource, sys
import numpy as np
if sys.argv[1] == "descent":
    import descent
def step():
    # a step's worth of large temporaries, freed at its end
    arrays = [np.ones(n) for n in (700_000, 300_000, 200_000, 500_000)]
    return sum(float(a[0]) for a in arrays)
for _ in range(5):
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(50):
    step()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 50)
"""


def _faults_per_step(mode: str, **env) -> float:
    # glibc reads MALLOC_* variables at start-up: drop any, so only descent's setting counts
    run_env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    run_env.update(env)
    out = subprocess.run(
        [sys.executable, "-c", LOOP, mode], capture_output=True, text=True, env=run_env,
        check=True, timeout=120,
    )  # fmt: skip
    return float(out.stdout.strip())


@pytest.mark.skipif(not GLIBC, reason="mallopt's thresholds exist only in glibc")
def test_import_descent_stops_the_page_faults_of_repeated_large_arrays():
    plain = _faults_per_step("numpy")
    opted_out = _faults_per_step("descent", DESCENT_KEEP_FREED_MEMORY="0")
    kept = _faults_per_step("descent", DESCENT_KEEP_FREED_MEMORY="1")
    assert plain > 100 and opted_out > 100  # 13 MiB a step come back from the system
    assert kept < 5


def test_keep_freed_memory_reports_what_it_did():
    expected = GLIBC and os.environ.get("DESCENT_KEEP_FREED_MEMORY", "1") != "0"
    assert _malloc.keep_freed_memory() is expected  # import descent already ran it
    assert _malloc.keep_freed_memory() is expected  # and a second call changes nothing
