"""Learning rates that are functions of the step number (TensorFlow's schedules).

An optimizer's lr may be one: each update uses ``lr(global_step)``, and the optimizer's
``state_dict`` saves the schedule's config, from which ``SCHEDULES`` rebuilds it::

    opt = ds.optim.SGD(params, lr=ExponentialDecay(0.1, decay_steps=1000, decay_rate=0.96))
"""

from __future__ import annotations

import numpy as np

__all__ = ["ExponentialDecay", "SCHEDULES", "check_number"]


def check_number(name: str, value, low: float = 0.0, high: float | None = None) -> float:
    """``value`` as a Python float, checked to lie in ``[low, high)`` (``>= low`` if no high).

    A Python float keeps float32 arithmetic float32 (a NumPy float64 scalar would not).
    A string or a bool is refused, though ``float`` takes them: ``lr="0.1"`` or
    ``momentum=True`` is a mistake, not a number.
    """
    if isinstance(value, (str, bytes, bool, np.bool_)):
        raise TypeError(
            f"{name} must be a number, got the {type(value).__name__} {value!r}"
            + (
                f"; write {name}={float(value)!r}"
                if isinstance(value, str) and _parses(value)
                else ""
            )
        )
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number, got {value!r}") from None
    if not number >= low or (high is not None and not number < high):
        allowed = f"in [{low}, {high})" if high is not None else f">= {low}"
        raise ValueError(f"Invalid {name}: {value!r}; it must be {allowed}")
    return number


def _parses(value) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


class ExponentialDecay:
    """TensorFlow's exponential decay schedule, a function of the step number:

    lr(step) = initial_learning_rate * decay_rate ** (step / decay_steps),
    with ``step // decay_steps`` (whole periods) when ``staircase``.

    Pass it as an optimizer's lr: each update uses ``lr(global_step)``.

    >>> schedule = ExponentialDecay(0.1, decay_steps=100, decay_rate=0.5)
    >>> schedule(200)
    0.025
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        decay_rate: float,
        staircase: bool = False,
    ):
        self.load_state_dict(
            dict(
                initial_learning_rate=initial_learning_rate,
                decay_steps=decay_steps,
                decay_rate=decay_rate,
                staircase=staircase,
            )
        )

    def __call__(self, step) -> float:
        exponent = step // self.decay_steps if self.staircase else step / self.decay_steps
        return self.initial_learning_rate * self.decay_rate ** float(exponent)

    def get_config(self) -> dict:
        """The constructor's arguments (TensorFlow's name); plain data."""
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
        }

    @classmethod
    def from_config(cls, config: dict) -> ExponentialDecay:
        return cls(**config)

    def state_dict(self) -> dict:
        return self.get_config()

    def load_state_dict(self, state_dict: dict) -> None:
        decay_steps = check_number("decay_steps", state_dict["decay_steps"])
        if not decay_steps > 0:
            raise ValueError(f"ExponentialDecay: decay_steps must be > 0, got {decay_steps!r}")
        self.initial_learning_rate = check_number(
            "initial_learning_rate", state_dict["initial_learning_rate"]
        )
        self.decay_steps = int(decay_steps) if decay_steps.is_integer() else decay_steps
        self.decay_rate = check_number("decay_rate", state_dict["decay_rate"])
        self.staircase = bool(state_dict["staircase"])

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"ExponentialDecay({args})"


# The schedules an optimizer's load_state_dict can rebuild from their saved config.
SCHEDULES = {"ExponentialDecay": ExponentialDecay}
