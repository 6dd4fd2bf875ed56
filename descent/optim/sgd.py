"""Gradient descent: the plain rule, torch.optim.SGD's momentum, dampening and Nesterov, and
TensorFlow's MomentumOptimizer, which is SGD with momentum."""

from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, add_scaled, check_number, scratch

__all__ = ["GradientDescent", "SGD", "Momentum", "sgd_update"]


def sgd_update(
    params, grads, states, *, lr, momentum, dampening, nesterov, weight_decay, maximize
) -> None:
    """theta := theta - lr * d, where d is the gradient g, or with momentum:

    b := g on the first step, then b := momentum * b + (1 - dampening) * g;
    d := g + momentum * b (Nesterov) or d := b.  Weight decay first adds weight_decay * theta
    to g; maximize ascends (uses -g).
    """
    for p, g, state in zip(params, grads, states):
        if maximize:
            g = -g
        if weight_decay != 0:
            g = g + weight_decay * p
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.copy()
            else:
                buf *= momentum
                add_scaled(buf, g, 1 - dampening)
            if nesterov:  # g + momentum * b, in a reused temporary
                g = np.add(g, np.multiply(buf, momentum, out=scratch(buf, 1)), out=scratch(buf, 1))
            else:
                g = buf
        add_scaled(p, g, -lr)


class GradientDescent(Optimizer):
    """Gradient descent, ``theta := theta - lr * grad``; with options exactly torch.optim.SGD
    (whose default lr, 0.001, it shares).

    ``SGD`` is the same class.

    >>> opt = ds.optim.GradientDescent([w], lr=0.1)
    >>> opt = ds.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True)
    """

    rule = staticmethod(sgd_update)

    def __init__(
        self,
        params,
        lr: float = 0.001,
        momentum: float = 0.0,
        dampening: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        maximize: bool = False,
    ):
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            nesterov=nesterov,
            weight_decay=weight_decay,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    @staticmethod
    def check(options: dict) -> dict:
        options["momentum"] = check_number("momentum", options["momentum"])
        options["dampening"] = check_number("dampening", options["dampening"], low=-float("inf"))
        options["weight_decay"] = check_number("weight_decay", options["weight_decay"])
        options["nesterov"] = bool(options["nesterov"])
        options["maximize"] = bool(options["maximize"])
        if options["nesterov"] and (options["momentum"] <= 0 or options["dampening"] != 0):
            raise ValueError(
                "Nesterov momentum requires a momentum > 0 and zero dampening, got "
                f"momentum={options['momentum']}, dampening={options['dampening']}"
            )
        return options

    def load_state_dict(self, state_dict: dict) -> None:
        """``Optimizer.load_state_dict``; a state saved when Momentum had a rule of its own
        names the buffer 'accumulator', the very buffer SGD calls 'momentum_buffer'."""
        saved = state_dict.get("state") if isinstance(state_dict, dict) else None
        if isinstance(saved, dict) and all(isinstance(v, dict) for v in saved.values()):
            renamed = {
                key: {"momentum_buffer" if k == "accumulator" else k: v for k, v in state.items()}
                for key, state in saved.items()
            }
            state_dict = {**state_dict, "state": renamed}
        super().load_state_dict(state_dict)  # which names what is wrong with a bad one


SGD = GradientDescent


class Momentum(GradientDescent):
    """TensorFlow's MomentumOptimizer (heavy ball, optionally Nesterov):
    a := momentum * a + g;  theta := theta - lr * a  (Nesterov: lr * (g + momentum * a)).

    NOTE: it is ``SGD(params, lr, momentum, nesterov=nesterov)`` (torch.optim.SGD), whose
    buffer starts at the first gradient, which is what ``momentum * 0 + g`` gives.

    >>> opt = ds.optim.Momentum(model.parameters(), lr=0.01, momentum=0.9)
    """

    def __init__(self, params, lr, momentum: float = 0.9, nesterov: bool = False):
        super().__init__(params, lr, momentum=momentum, nesterov=nesterov)
