"""NAdam: Adam with Nesterov momentum, its momentum warmed up by a decaying schedule."""

from __future__ import annotations

import numpy as np

from ..tensor import get_default_dtype
from .adam import adam_gradient, adam_moments, check_adam_options
from .optimizer import Optimizer, check_number

__all__ = ["NAdam", "nadam_update"]


def nadam_update(
    params, grads, states, *, lr, betas, eps, weight_decay, momentum_decay,
    decoupled_weight_decay, maximize,
) -> None:  # fmt: skip
    """mu_t = b1 (1 - 0.96^(t psi) / 2);  m and v as Adam's;
    theta := theta - lr (1 - mu_t) / (1 - prod mu) * g / d
                   - lr mu_{t+1} / (1 - prod mu * mu_{t+1}) * m / d,
    d = sqrt(v / (1 - b2^t)) + eps (torch.optim.NAdam)."""
    beta1, beta2 = betas
    for p, g, state in zip(params, grads, states):
        step, g = adam_gradient(
            p, g, state, lr=lr, weight_decay=weight_decay, maximize=maximize,
            decoupled_weight_decay=decoupled_weight_decay,
        )  # fmt: skip
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
        # NOTE: as torch's, the running product is rounded to the default dtype (float32
        # unless ds.set_default_dtype(ds.float64)) at every step; it is kept as a float
        scalar = get_default_dtype().type
        state["mu_product"] = float(scalar(scalar(state.get("mu_product", 1.0)) * scalar(mu)))
        mu_product = state["mu_product"]
        exp_avg, exp_avg_sq = adam_moments(state, p, g, betas)
        denom = np.sqrt(exp_avg_sq / (1 - beta2**step)) + eps
        p -= (lr * (1.0 - mu) / (1.0 - mu_product)) * (g / denom)
        p -= (lr * mu_next / (1.0 - mu_product * mu_next)) * (exp_avg / denom)


class NAdam(Optimizer):
    """NAdam with torch.optim.NAdam's defaults and formula.

    >>> opt = ds.optim.NAdam(model.parameters(), lr=2e-3)
    """

    rule = staticmethod(nadam_update)

    def __init__(
        self,
        params,
        lr=2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        maximize: bool = False,
    ):
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            momentum_decay=momentum_decay,
            decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    @staticmethod
    def check(options: dict) -> dict:
        options = check_adam_options(options)
        options["momentum_decay"] = check_number("momentum_decay", options["momentum_decay"])
        options["decoupled_weight_decay"] = bool(options["decoupled_weight_decay"])
        return options
