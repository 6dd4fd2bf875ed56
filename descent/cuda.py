"""``ds.cuda``: PyTorch's questions about CUDA, answered for a CPU-only framework.

``device = 'cuda' if ds.cuda.is_available() else 'cpu'`` picks the CPU, so programs
written for either run unchanged.
"""

from __future__ import annotations


def is_available() -> bool:
    """False: descent computes on the CPU only."""
    return False


def device_count() -> int:
    """0: there are no CUDA devices for descent to use."""
    return 0
