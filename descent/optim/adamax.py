"""Adamax: Adam with a running maximum of |g| (the infinity norm) in place of the RMS."""

from __future__ import annotations

import numpy as np

from .adam import adam_gradient, check_adam_options, first_moment
from .optimizer import Optimizer, zeros_state

__all__ = ["Adamax", "adamax_update"]


def adamax_update(params, grads, states, *, lr, betas, eps, weight_decay, maximize) -> None:
    """m := m + (1 - b1) (g - m);  u := max(b2 u, |g| + eps);
    theta := theta - lr / (1 - b1^t) * m / u (torch.optim.Adamax)."""
    beta1, beta2 = betas
    for p, g, state in zip(params, grads, states):
        step, g = adam_gradient(p, g, state, lr=lr, weight_decay=weight_decay, maximize=maximize)
        exp_avg = first_moment(state, p, g, beta1)
        exp_inf = zeros_state(state, "exp_inf", p)
        exp_inf *= beta2
        np.maximum(exp_inf, np.abs(g) + eps, out=exp_inf)
        p -= (lr / (1 - beta1**step)) * (exp_avg / exp_inf)


class Adamax(Optimizer):
    """Adamax with torch.optim.Adamax's defaults and formula.

    >>> opt = ds.optim.Adamax(model.parameters(), lr=2e-3)
    """

    rule = staticmethod(adamax_update)

    def __init__(
        self,
        params,
        lr=2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        maximize: bool = False,
    ):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    @staticmethod
    def check(options: dict) -> dict:
        return check_adam_options(options)
