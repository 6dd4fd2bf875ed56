"""Adam and AdamW: bias-corrected running means of the gradient and its square."""

from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, check_number, scratch, zeros_state

__all__ = ["Adam", "AdamW", "adam_update", "adamw_update", "check_adam_options"]


def adam_gradient(p, g, state, *, lr, weight_decay, maximize, decoupled_weight_decay=False):
    """The Adam family's common start of a step: the step count moved on, g negated when
    ``maximize``, then weight decay, either added to g (L2) or applied to p directly
    (decoupled: p := p * (1 - lr * weight_decay)). Returns (step, g)."""
    state["step"] = step = state.get("step", 0) + 1
    if maximize:
        g = -g
    if weight_decay != 0:
        if decoupled_weight_decay:
            p *= 1 - lr * weight_decay
        else:
            g = g + weight_decay * p
    return step, g


def first_moment(state, p, g, beta1) -> np.ndarray:
    """m := m + (1 - b1) * (g - m), kept in ``state['exp_avg']``."""
    exp_avg = zeros_state(state, "exp_avg", p)
    change = np.subtract(g, exp_avg, out=scratch(exp_avg))
    change *= 1 - beta1
    exp_avg += change
    return exp_avg


def adam_moments(state, p, g, betas) -> tuple[np.ndarray, np.ndarray]:
    """m := m + (1 - b1) * (g - m);  v := b2 * v + (1 - b2) * g^2, kept in
    ``state['exp_avg']`` and ``state['exp_avg_sq']`` (Adam, AdamW, NAdam, RAdam)."""
    beta1, beta2 = betas
    exp_avg = first_moment(state, p, g, beta1)
    exp_avg_sq = zeros_state(state, "exp_avg_sq", p)
    exp_avg_sq *= beta2
    square = np.multiply(g, 1 - beta2, out=scratch(exp_avg_sq))
    square *= g
    exp_avg_sq += square
    return exp_avg, exp_avg_sq


def adam_update(params, grads, states, *, lr, betas, eps, weight_decay, amsgrad, maximize) -> None:
    """m := m + (1 - b1) * (g - m);  v := b2 * v + (1 - b2) * g^2;
    theta := theta - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps),
    with v replaced by its running maximum when amsgrad (torch.optim.Adam).
    """
    beta1, beta2 = betas
    for p, g, state in zip(params, grads, states):
        step, g = adam_gradient(p, g, state, lr=lr, weight_decay=weight_decay, maximize=maximize)
        exp_avg, exp_avg_sq = adam_moments(state, p, g, betas)
        if amsgrad:
            max_exp_avg_sq = zeros_state(state, "max_exp_avg_sq", p)
            np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
            exp_avg_sq = max_exp_avg_sq
        bias_correction1 = 1 - beta1**step
        bias_correction2_sqrt = (1 - beta2**step) ** 0.5
        # p -= lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps), through one reused temporary
        update = np.sqrt(exp_avg_sq, out=scratch(exp_avg_sq))
        update /= bias_correction2_sqrt
        update += eps
        np.divide(exp_avg, update, out=update)
        update *= lr / bias_correction1
        p -= update


def adamw_update(params, grads, states, *, lr, weight_decay, **options) -> None:
    """theta := theta * (1 - lr * weight_decay) (decoupled decay), then Adam's step."""
    if weight_decay != 0:
        for p in params:
            p *= 1 - lr * weight_decay
    adam_update(params, grads, states, lr=lr, weight_decay=0.0, **options)


class Adam(Optimizer):
    """Adam with torch.optim.Adam's defaults and formula (L2 weight decay added to g).

    >>> opt = ds.optim.Adam(model.parameters(), lr=1e-3)
    """

    rule = staticmethod(adam_update)

    def __init__(
        self,
        params,
        lr=1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        maximize: bool = False,
    ):
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    @staticmethod
    def check(options: dict) -> dict:
        options = check_adam_options(options)
        options["amsgrad"] = bool(options["amsgrad"])
        return options


def check_adam_options(options: dict) -> dict:
    """betas (two numbers below 1), eps, weight_decay and maximize, checked as torch does;
    the Adam family's other options (Adamax, NAdam, RAdam) are left as they are."""
    betas = tuple(options["betas"])
    if len(betas) != 2:
        raise ValueError(f"Invalid betas: {options['betas']!r}; give two numbers")
    options["betas"] = tuple(
        check_number(f"beta parameter at index {i}", b, high=1.0) for i, b in enumerate(betas)
    )
    options["eps"] = check_number("eps", options["eps"])
    options["weight_decay"] = check_number("weight_decay", options["weight_decay"])
    options["maximize"] = bool(options["maximize"])
    return options


class AdamW(Adam):
    """AdamW: Adam with decoupled weight decay (torch.optim.AdamW's defaults and formula).

    >>> opt = ds.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-2)
    """

    rule = staticmethod(adamw_update)

    def __init__(
        self,
        params,
        lr=1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        maximize: bool = False,
    ):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize)
