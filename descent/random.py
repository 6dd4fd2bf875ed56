"""descent's random number generator: one seeded NumPy Generator behind randn, rand, dropout."""

from __future__ import annotations

import numpy as np

_state: dict = {"rng": None}  # made on first use: fresh OS entropy costs an import


def manual_seed(seed: int) -> np.random.Generator:
    """Seed descent's generator so randn, rand, dropout and init repeat exactly."""
    _state["rng"] = np.random.default_rng(seed)
    return _state["rng"]


def generator() -> np.random.Generator:
    """The generator in use (seeded from the operating system until ``manual_seed``)."""
    if _state["rng"] is None:
        _state["rng"] = np.random.default_rng()
    return _state["rng"]


def get_rng_state() -> dict:
    """The generator's state, a plain dict (checkpoints store it)."""
    return generator().bit_generator.state


def set_rng_state(state: dict) -> None:
    """Restore a state returned by ``get_rng_state``."""
    generator().bit_generator.state = state
