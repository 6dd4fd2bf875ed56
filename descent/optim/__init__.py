"""Optimizers (one short update rule each, on a shared base), gradient clipping, schedules.

PyTorch's verbs and TensorFlow's on every optimizer::

    opt = ds.optim.Adam(model.parameters(), lr=1e-3)
    opt.zero_grad(); loss.backward(); opt.step()        # PyTorch
    opt.minimize(lambda: loss_fn(model(x), y))          # TensorFlow: compute + apply

and TensorFlow 1's classes, built without params (``GradientDescentOptimizer``,
``MomentumOptimizer``, ``AdamOptimizer``).
"""

from ..clip import clip_grad_norm_, clip_grad_value_
from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .saga import SAGA
from .sgd import SGD, GradientDescent, Momentum
from .tf1 import AdamOptimizer, GradientDescentOptimizer, MomentumOptimizer

__all__ = [
    "Optimizer",
    "GradientDescent",
    "SGD",
    "Momentum",
    "Adagrad",
    "RMSprop",
    "Adam",
    "AdamW",
    "Adamax",
    "NAdam",
    "RAdam",
    "Adadelta",
    "SAGA",
    "GradientDescentOptimizer",
    "MomentumOptimizer",
    "AdamOptimizer",
    "clip_grad_norm_",
    "clip_grad_value_",
    "lr_scheduler",
]
