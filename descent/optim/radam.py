"""RAdam: Adam whose adaptive step is rectified while the variance estimate is unreliable."""

from __future__ import annotations

import math

import numpy as np

from .adam import adam_gradient, adam_moments, check_adam_options
from .optimizer import Optimizer

__all__ = ["RAdam", "radam_update"]


def radam_update(
    params, grads, states, *, lr, betas, eps, weight_decay, decoupled_weight_decay, maximize
) -> None:
    """m and v as Adam's; rho_t = rho_inf - 2 t b2^t / (1 - b2^t), rho_inf = 2 / (1 - b2) - 1;
    theta := theta - lr m / (1 - b1^t) * r_t sqrt(1 - b2^t) / (sqrt(v) + eps) when rho_t > 5,
    r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t)),
    else theta := theta - lr m / (1 - b1^t) (torch.optim.RAdam)."""
    beta1, beta2 = betas
    rho_inf = 2 / (1 - beta2) - 1
    for p, g, state in zip(params, grads, states):
        step, g = adam_gradient(
            p, g, state, lr=lr, weight_decay=weight_decay, maximize=maximize,
            decoupled_weight_decay=decoupled_weight_decay,
        )  # fmt: skip
        exp_avg, exp_avg_sq = adam_moments(state, p, g, betas)
        bias_correction2 = 1 - beta2**step
        corrected = exp_avg / (1 - beta1**step)
        rho_t = rho_inf - 2 * step * beta2**step / bias_correction2
        if rho_t > 5.0:
            rect = math.sqrt(
                (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
            )
            adaptive = math.sqrt(bias_correction2) / (np.sqrt(exp_avg_sq) + eps)
            p -= corrected * lr * adaptive * rect
        else:
            p -= corrected * lr


class RAdam(Optimizer):
    """RAdam with torch.optim.RAdam's defaults and formula.

    >>> opt = ds.optim.RAdam(model.parameters(), lr=1e-3)
    """

    rule = staticmethod(radam_update)

    def __init__(
        self,
        params,
        lr=1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        decoupled_weight_decay: bool = False,
        maximize: bool = False,
    ):
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    @staticmethod
    def check(options: dict) -> dict:
        options = check_adam_options(options)
        options["decoupled_weight_decay"] = bool(options["decoupled_weight_decay"])
        return options
