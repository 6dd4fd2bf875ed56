"""RMSprop: steps divided by the root of a running mean of squared gradients."""

from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, check_number, zeros_state

__all__ = ["RMSprop", "rmsprop_update"]


def rmsprop_update(
    params, grads, states, *, lr, alpha, eps, weight_decay, momentum, centered, maximize
) -> None:
    """v := alpha * v + (1 - alpha) * g^2;  d := g / (sqrt(v - m^2 if centered else v) + eps)
    with m := m + (1 - alpha) * (g - m);  theta := theta - lr * d, or with momentum
    b := momentum * b + d, theta := theta - lr * b (torch.optim.RMSprop).
    """
    for p, g, state in zip(params, grads, states):
        state["step"] = state.get("step", 0) + 1
        if maximize:
            g = -g
        if weight_decay != 0:
            g = g + weight_decay * p
        square_avg = zeros_state(state, "square_avg", p)
        square_avg *= alpha
        square_avg += (1 - alpha) * g * g
        if centered:
            grad_avg = zeros_state(state, "grad_avg", p)
            grad_avg += (1 - alpha) * (g - grad_avg)
            avg = np.sqrt(square_avg - grad_avg * grad_avg) + eps
        else:
            avg = np.sqrt(square_avg) + eps
        if momentum > 0:
            buf = zeros_state(state, "momentum_buffer", p)
            buf *= momentum
            buf += g / avg
            p -= lr * buf
        else:
            p -= lr * (g / avg)


class RMSprop(Optimizer):
    """RMSprop with torch.optim.RMSprop's defaults and formula.

    >>> opt = ds.optim.RMSprop(model.parameters(), lr=0.01, momentum=0.9, centered=True)
    """

    rule = staticmethod(rmsprop_update)

    def __init__(
        self,
        params,
        lr=0.01,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        maximize: bool = False,
    ):
        defaults = dict(
            lr=lr,
            alpha=alpha,
            eps=eps,
            weight_decay=weight_decay,
            momentum=momentum,
            centered=centered,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    @staticmethod
    def check(options: dict) -> dict:
        for name in ("alpha", "eps", "weight_decay", "momentum"):
            options[name] = check_number(name, options[name])
        options["centered"] = bool(options["centered"])
        options["maximize"] = bool(options["maximize"])
        return options
