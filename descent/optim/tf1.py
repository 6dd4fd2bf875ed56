"""TensorFlow 1's optimizer classes (``tf.train.*Optimizer``), as the lectures write them.

Each is descent's optimizer of the same rule, built TensorFlow 1's way: with the
hyperparameters alone (TensorFlow's argument names), its variables joining it when the
verbs first see them::

    opt = ds.optim.GradientDescentOptimizer(learning_rate=0.1)
    gs = ds.tensor(0)                      # the caller's global step counter
    opt.minimize(lambda: loss_fn(W, b), var_list=[W, b], global_step=gs)

``use_locking`` (a lock around the update, for TensorFlow's threads) has no effect: descent
updates in one thread. ``name`` is kept as ``.name``.
"""

from __future__ import annotations

from .adam import Adam
from .sgd import GradientDescent, Momentum

__all__ = ["GradientDescentOptimizer", "MomentumOptimizer", "AdamOptimizer"]


class GradientDescentOptimizer(GradientDescent):
    """``tf.train.GradientDescentOptimizer``: theta := theta - learning_rate * grad."""

    def __init__(self, learning_rate, use_locking: bool = False, name: str = "GradientDescent"):
        super().__init__(None, lr=learning_rate)
        self.name = name


class MomentumOptimizer(Momentum):
    """``tf.train.MomentumOptimizer``: a := momentum * a + g; theta := theta - lr * a
    (Nesterov: theta := theta - lr * (g + momentum * a))."""

    def __init__(
        self,
        learning_rate,
        momentum: float,
        use_locking: bool = False,
        name: str = "Momentum",
        use_nesterov: bool = False,
    ):
        super().__init__(None, learning_rate, momentum=momentum, nesterov=use_nesterov)
        self.name = name


class AdamOptimizer(Adam):
    """``tf.train.AdamOptimizer``, with TensorFlow 1's defaults.

    NOTE: the rule is descent's (PyTorch's) Adam, which adds ``epsilon`` to the
    bias-corrected ``sqrt(v_hat)``; TensorFlow 1 adds it to ``sqrt(v)`` before the
    correction (its "epsilon hat"). With epsilon = 1e-8 the two steps differ by less than
    about 1e-8 of the gradient's scale.
    """

    def __init__(
        self,
        learning_rate: float = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        epsilon: float = 1e-08,
        use_locking: bool = False,
        name: str = "Adam",
    ):
        super().__init__(None, lr=learning_rate, betas=(beta1, beta2), eps=epsilon)
        self.name = name
