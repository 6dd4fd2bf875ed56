"""Momentum: TensorFlow's MomentumOptimizer (heavy ball, optionally Nesterov)."""

from __future__ import annotations

from .optimizer import Optimizer, add_scaled, check_lr, check_number, zeros_state

__all__ = ["Momentum", "momentum_update"]


def momentum_update(params, grads, states, *, lr, momentum, nesterov) -> None:
    """a := momentum * a + g;  theta := theta - lr * a
    (Nesterov: theta := theta - lr * (g + momentum * a)); a starts at zero.
    """
    for p, g, state in zip(params, grads, states):
        accum = zeros_state(state, "accumulator", p)
        accum *= momentum
        accum += g
        add_scaled(p, g + momentum * accum if nesterov else accum, -lr)


class Momentum(Optimizer):
    """TensorFlow's MomentumOptimizer.

    NOTE: it takes exactly the steps of ``SGD(params, lr, momentum, dampening=0,
    nesterov=...)`` (torch.optim.SGD), whose buffer starts at the first gradient, which is
    what ``momentum * 0 + g`` gives here.

    >>> opt = ds.optim.Momentum(model.parameters(), lr=0.01, momentum=0.9)
    """

    rule = staticmethod(momentum_update)

    def __init__(self, params, lr, momentum: float = 0.9, nesterov: bool = False):
        super().__init__(params, dict(lr=lr, momentum=momentum, nesterov=nesterov))

    @staticmethod
    def check(options: dict) -> dict:
        options["lr"] = check_lr(options["lr"])
        options["momentum"] = check_number("momentum", options["momentum"])
        options["nesterov"] = bool(options["nesterov"])
        return options
