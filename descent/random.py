"""descent's random number generator: one seeded NumPy Generator behind randn, rand, dropout."""

from __future__ import annotations

import numpy as np

_state: dict = {"rng": None}  # made on first use: fresh OS entropy costs an import


def manual_seed(seed: int) -> np.random.Generator:
    """Seed descent's generator so randn, rand, dropout and init repeat exactly."""
    _state["rng"] = np.random.default_rng(seed)
    return _state["rng"]


class Generator(np.random.Generator):
    """PyTorch's ``torch.Generator``: a generator of its own, for ``random_split``,
    ``DataLoader`` and samplers (``generator=``). It is a NumPy Generator, so it serves
    wherever descent takes one.

    >>> g = ds.Generator().manual_seed(42)
    >>> train, val = ds.utils.data.random_split(data, [0.8, 0.2], generator=g)
    """

    def __init__(self, device=None):
        if device not in (None, "cpu") and getattr(device, "type", None) != "cpu":
            raise RuntimeError(
                f"Generator: descent computes on the CPU; device {device!r} has no backend"
            )
        self._initial_seed = int(np.random.SeedSequence().entropy % 2**63)
        super().__init__(np.random.PCG64(self._initial_seed))
        self.device = "cpu"

    def manual_seed(self, seed: int) -> Generator:
        """Restart from ``seed``; returns the generator (``Generator().manual_seed(0)``)."""
        seed = int(seed)
        self.bit_generator.state = np.random.PCG64(seed).state
        self._initial_seed = seed
        return self

    def initial_seed(self) -> int:
        """The seed this generator started from."""
        return self._initial_seed

    def seed(self) -> int:
        """Restart from a fresh seed drawn from the operating system, and return it."""
        return self.manual_seed(int(np.random.SeedSequence().entropy % 2**63)).initial_seed()

    def get_state(self) -> dict:
        return self.bit_generator.state

    def set_state(self, state: dict) -> Generator:
        restore_state(self.bit_generator, state, "Generator.set_state", "get_state()")
        return self


def generator() -> np.random.Generator:
    """The generator in use (seeded from the operating system until ``manual_seed``)."""
    return _generator()


def _generator() -> np.random.Generator:
    if _state["rng"] is None:
        _state["rng"] = np.random.default_rng()
    return _state["rng"]


def draw(sample) -> np.ndarray:
    """``sample(generator)``: an array drawn from descent's generator by ``sample``.

    The one way to draw inside a step that ``ds.compile`` replays: a traced step records
    the draw, so every replay calls ``sample`` again on the generator, in the order eager
    draws, and gets fresh numbers (``F.dropout`` draws its mask here). ``sample`` must
    return a new array and depend on nothing but its arguments.
    """
    return sample(_generator())


def get_rng_state() -> dict:
    """The generator's state, a plain dict (checkpoints store it)."""
    return generator().bit_generator.state


def restore_state(bit_generator, state, who: str, source: str) -> None:
    """Set ``bit_generator`` to ``state`` (a dict its ``.state`` returned, as ``source``
    gives it), or refuse, naming ``who``, and leave the generator as it was."""
    mine = type(bit_generator).__name__
    if not isinstance(state, dict):
        raise TypeError(
            f"{who} expects the dict that {source} returns, got {type(state).__name__} "
            f"{state!r:.40}"
        )
    if state.get("bit_generator") != mine:
        raise ValueError(
            f"{who}: the state is for a {state.get('bit_generator')!r} generator, this one "
            f"is {mine}; pass a state that {source} returned"
        )
    before = bit_generator.state
    try:
        bit_generator.state = state
    except (TypeError, ValueError, KeyError, OverflowError) as e:
        bit_generator.state = before
        raise ValueError(f"{who}: the {mine} state is malformed ({e!r})") from None


def set_rng_state(state: dict) -> None:
    """Restore a state returned by ``get_rng_state``; a state of another bit generator,
    or one that is not a state at all, is refused and the generator is left unchanged."""
    restore_state(generator().bit_generator, state, "set_rng_state", "get_rng_state()")
