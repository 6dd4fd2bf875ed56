"""Test-session settings shared by every test file."""

import os

import pytest

# lessons that train (mnist1d) take their --quick mode in the tests, child processes included
os.environ.setdefault("DESCENT_LESSON_QUICK", "1")


@pytest.fixture(autouse=True, scope="session")
def _one_blas_thread_per_worker():
    """pytest -n 2 runs two workers on two cores: each gets one BLAS thread, not two
    (oversubscribed OpenBLAS threads made small matmuls up to 20x slower)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield
