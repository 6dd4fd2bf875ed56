"""Test-session settings shared by every test file."""

import pytest


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
