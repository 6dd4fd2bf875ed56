"""descent's random number generator: one seeded NumPy Generator behind randn, rand, dropout."""

from __future__ import annotations

import numpy as np

_state = {"rng": np.random.default_rng()}


def manual_seed(seed: int) -> np.random.Generator:
    """Seed descent's generator so randn, rand, dropout and init repeat exactly."""
    _state["rng"] = np.random.default_rng(seed)
    return _state["rng"]


def generator() -> np.random.Generator:
    """The generator in use."""
    return _state["rng"]


def get_rng_state() -> dict:
    """The generator's state, a plain dict (checkpoints store it)."""
    return _state["rng"].bit_generator.state


def set_rng_state(state: dict) -> None:
    """Restore a state returned by ``get_rng_state``."""
    _state["rng"].bit_generator.state = state
