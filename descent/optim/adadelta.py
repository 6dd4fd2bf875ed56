"""Adadelta: steps scaled by the ratio of running roots of squared updates and gradients."""

from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, check_number, zeros_state

__all__ = ["Adadelta", "adadelta_update"]


def adadelta_update(params, grads, states, *, lr, rho, eps, weight_decay, maximize) -> None:
    """s := rho s + (1 - rho) g^2;  delta = sqrt(a + eps) / sqrt(s + eps) * g;
    a := rho a + (1 - rho) delta^2;  theta := theta - lr delta (torch.optim.Adadelta)."""
    for p, g, state in zip(params, grads, states):
        state["step"] = state.get("step", 0) + 1
        if maximize:
            g = -g
        if weight_decay != 0:
            g = g + weight_decay * p
        square_avg = zeros_state(state, "square_avg", p)
        acc_delta = zeros_state(state, "acc_delta", p)
        square_avg *= rho
        square_avg += (1 - rho) * g * g
        delta = np.sqrt(acc_delta + eps) / np.sqrt(square_avg + eps) * g
        acc_delta *= rho
        acc_delta += (1 - rho) * delta * delta
        p -= lr * delta


class Adadelta(Optimizer):
    """Adadelta with torch.optim.Adadelta's defaults and formula.

    >>> opt = ds.optim.Adadelta(model.parameters())
    """

    rule = staticmethod(adadelta_update)

    def __init__(
        self,
        params,
        lr=1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0.0,
        maximize: bool = False,
    ):
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    @staticmethod
    def check(options: dict) -> dict:
        options["rho"] = check_number("rho", options["rho"])
        if options["rho"] > 1.0:
            raise ValueError(f"Invalid rho value: {options['rho']}; it must be in [0, 1]")
        options["eps"] = check_number("eps", options["eps"])
        options["weight_decay"] = check_number("weight_decay", options["weight_decay"])
        options["maximize"] = bool(options["maximize"])
        return options
