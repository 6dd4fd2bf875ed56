"""Adagrad: per-coordinate steps shrunk by the root of the summed squared gradients."""

from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, check_number

__all__ = ["Adagrad", "adagrad_update"]


def adagrad_update(
    params, grads, states, *, lr, lr_decay, weight_decay, initial_accumulator_value, eps, maximize
) -> None:
    """s := s + g^2;  theta := theta - lr_t * g / (sqrt(s) + eps),
    lr_t = lr / (1 + (t - 1) * lr_decay), s starts at initial_accumulator_value
    (torch.optim.Adagrad).
    """
    for p, g, state in zip(params, grads, states):
        if not state:
            state["step"] = 0
            state["sum"] = np.full_like(p, initial_accumulator_value)
        state["step"] += 1
        if maximize:
            g = -g
        if weight_decay != 0:
            g = g + weight_decay * p
        clr = lr / (1 + (state["step"] - 1) * lr_decay)
        state["sum"] += g * g
        p -= clr * (g / (np.sqrt(state["sum"]) + eps))


class Adagrad(Optimizer):
    """Adagrad with torch.optim.Adagrad's defaults and formula.

    >>> opt = ds.optim.Adagrad(model.parameters(), lr=0.01)
    """

    rule = staticmethod(adagrad_update)

    def __init__(
        self,
        params,
        lr=0.01,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        maximize: bool = False,
    ):
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            eps=eps,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    @staticmethod
    def check(options: dict) -> dict:
        for name in ("lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            options[name] = check_number(name, options[name])
        options["maximize"] = bool(options["maximize"])
        return options
