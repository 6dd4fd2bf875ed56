"""SAGA: one example per step, with the noise of the single-example gradient taken out.

Plain stochastic gradient descent with a constant step never settles: each step follows
one example's gradient, and those disagree even at the optimum, so the iterate keeps
moving at a distance proportional to the step. SAGA (Defazio, Bach and Lacoste-Julien,
2014) remembers the last gradient it saw of every example and corrects each new one by
it, which gives an unbiased step whose noise vanishes at the optimum. On a finite
training set it converges linearly with a constant learning rate.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, zeros_state

__all__ = ["SAGA", "saga_update"]


def saga_update(params, grads, states, *, lr, n_examples, example) -> None:
    """For the gradient g of example i (``example``):

    theta := theta - lr * (g - table[i] + mean(table));  then
    mean(table) += (g - table[i]) / n_examples;  table[i] := g.

    The table of remembered gradients starts at zeros.
    """
    for p, g, state in zip(params, grads, states):
        table = state.get("table")
        if table is None:
            table = state["table"] = np.zeros((n_examples, *p.shape), dtype=p.dtype)
        mean = zeros_state(state, "mean", p)
        change = g - table[example]
        p -= lr * (change + mean)
        mean += change / n_examples
        table[example] = g


class SAGA(Optimizer):
    """SAGA over a training set of ``n_examples`` examples, one example per step.

    Each step must say which example its gradient belongs to: ``opt.step(examples=[i])``,
    ``opt.apply_gradients(pairs, examples=[i])`` or ``opt.minimize(loss, examples=[i])``.
    ``ds.train.fit`` passes them itself (use ``batch_size=1``). The optimizer keeps one
    gradient per example and parameter, so its state is ``n_examples`` times the size of
    the model: meant for small models such as linear ones.

    >>> opt = ds.optim.SAGA(model.parameters(), lr=0.02, n_examples=len(X))
    >>> ds.train.fit(model, 'mse', opt, (X, y), batch_size=1, epochs=50)
    """

    rule = staticmethod(saga_update)

    def __init__(self, params, lr, n_examples: int):
        super().__init__(params, dict(lr=lr, n_examples=n_examples))

    @staticmethod
    def check(options: dict) -> dict:
        n = options["n_examples"]
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"SAGA: n_examples must be a positive integer, got {n!r}")
        options["n_examples"] = int(n)
        return options

    @staticmethod
    def check_examples(examples, options: dict) -> dict:
        """``example``: the one integer index in ``examples``, inside ``n_examples``."""
        indices = np.asarray([] if examples is None else examples).ravel()
        if examples is None or indices.size != 1:
            got = "no examples" if examples is None else f"{indices.size} examples"
            raise ValueError(
                f"SAGA keeps one gradient per example, so each step takes the gradient of "
                f"exactly one example and its index; got {got}. Train with batch_size=1"
            )
        if indices.dtype.kind not in "iu":
            raise TypeError(f"SAGA: an example index must be an integer, got {examples!r}")
        example, n = int(indices[0]), options["n_examples"]
        if not 0 <= example < n:
            raise IndexError(
                f"SAGA: example {example} is outside the {n} examples it was built for "
                f"(n_examples={n})"
            )
        return {"example": example}

    def _state_shape(self, name: str, p: Tensor) -> tuple:
        if name == "table":
            group = next(g for g in self.param_groups if any(q is p for q in g["params"]))
            return (group["n_examples"], *p._data.shape)
        return p._data.shape

    def load_state_dict(self, state_dict: dict) -> None:
        """``Optimizer.load_state_dict``, refusing a state saved for another number of
        examples (its table would not fit this training set)."""
        for i, (saved, group) in enumerate(zip(state_dict["param_groups"], self.param_groups)):
            if saved.get("n_examples", group["n_examples"]) != group["n_examples"]:
                raise ValueError(
                    f"SAGA: param group {i} was saved for n_examples={saved['n_examples']}, "
                    f"this optimizer was built for n_examples={group['n_examples']}; build "
                    f"it for the training set the state came from"
                )
        super().load_state_dict(state_dict)
