"""Learning-rate schedules: PyTorch's schedulers and TensorFlow's ExponentialDecay.

PyTorch's schedulers change ``group['lr']`` of an optimizer; call ``scheduler.step()``
after ``optimizer.step()``::

    scheduler = StepLR(optimizer, step_size=30, gamma=0.1)
    for epoch in range(100):
        train(...)                  # optimizer.step() inside
        scheduler.step()

Every scheduler's ``step`` takes the epoch's metric (``ds.train.fit`` always passes it);
only ``ReduceLROnPlateau`` uses it. TensorFlow's ``ExponentialDecay`` (in ``schedules``) is
a function of the step number passed as the lr itself; the optimizer evaluates it at its
``global_step``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from ..io.plain import plain_data
from .optimizer import Optimizer
from .schedules import SCHEDULES, ExponentialDecay, check_number

__all__ = [
    "LRScheduler",
    "StepLR",
    "ExponentialLR",
    "CosineAnnealingLR",
    "LambdaLR",
    "ReduceLROnPlateau",
    "ExponentialDecay",
    "SCHEDULES",
]


def _check_optimizer(optimizer, who: str) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{who}: {type(optimizer).__name__} is not an Optimizer")
    for i, group in enumerate(optimizer.param_groups):
        if callable(group["lr"]):
            raise TypeError(
                f"{who}: param group {i}'s lr is a schedule ({type(group['lr']).__name__}); "
                f"a {who} sets the lr itself, so give the optimizer a number as lr"
            )


class LRScheduler:
    """Base of the epoch-driven schedulers (PyTorch's ``LRScheduler``).

    A subclass computes the new lrs in ``get_lr()`` from ``last_epoch``, ``base_lrs``
    (the groups' ``initial_lr``) and the groups' current lrs; one whose lr at an epoch
    follows from ``base_lrs`` alone also says so in ``_closed_form_lr()``, which
    ``SequentialLR`` uses to start it at epoch 0.
    """

    # Attributes that are not plain data and are left out of state_dict().
    _not_saved: tuple[str, ...] = ("optimizer", "_initial")

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        _check_optimizer(optimizer, type(self).__name__)
        self.optimizer = optimizer
        for i, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError(
                    f"param 'initial_lr' is not specified in param_groups[{i}] when resuming "
                    f"a scheduler with last_epoch={last_epoch}; load the optimizer's state "
                    f"dict first"
                )
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = int(last_epoch)
        self._initial_step()

    def _initial_step(self) -> None:
        """The constructor's step (SequentialLR's too, when a scheduler's turn comes)."""
        self._step_count = 0
        self._initial = True  # most schedulers keep the lrs on this step
        try:
            self.step()
        finally:
            self._initial = False

    def _undo_initial_step(self) -> None:
        """Take back the constructor's step (SequentialLR does, for the schedulers it runs)."""
        self.last_epoch -= 1

    def get_lr(self) -> list[float]:
        raise NotImplementedError

    def _closed_form_lr(self) -> list[float]:
        """The lrs at ``last_epoch`` from ``base_lrs`` alone; ``get_lr()`` where there is no
        such formula."""
        return self.get_lr()

    def step(self, metrics=None) -> None:
        """Move to the next epoch and set each group's lr; ``metrics`` is not used."""
        self._step_count += 1
        self._update_lr()

    def _update_lr(self, epoch: int | None = None) -> None:
        """Set the lrs of the next epoch, or of ``epoch`` from the closed form."""
        if epoch is None:
            self.last_epoch += 1
            lrs = self.get_lr()
        else:
            self.last_epoch = epoch
            lrs = self._closed_form_lr()
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self._last_lr = self._group_lrs()

    def get_last_lr(self) -> list[float]:
        """The lrs set by the latest step, one per param group."""
        return list(self._last_lr)

    def _group_lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict:
        """Every attribute but the optimizer, as plain data (numbers, strings, lists, dicts)."""
        return {k: plain_data(v) for k, v in self.__dict__.items() if k not in self._not_saved}

    def load_state_dict(self, state_dict: dict) -> None:
        self.__dict__.update({k: plain_data(v) for k, v in state_dict.items()})


class StepLR(LRScheduler):
    """Multiply the lr by ``gamma`` every ``step_size`` epochs.

    >>> scheduler = StepLR(optimizer, step_size=30, gamma=0.1)
    """

    def __init__(
        self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1
    ):
        if int(step_size) != step_size or step_size < 1:
            raise ValueError(f"StepLR: step_size must be a positive integer, got {step_size!r}")
        self.step_size = int(step_size)
        self.gamma = check_number("gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._group_lrs()
        return [lr * self.gamma for lr in self._group_lrs()]

    def _closed_form_lr(self) -> list[float]:
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiply the lr by ``gamma`` every epoch.

    >>> scheduler = ExponentialLR(optimizer, gamma=0.95)
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1):
        self.gamma = check_number("gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._initial:
            return self._group_lrs()
        return [lr * self.gamma for lr in self._group_lrs()]

    def _closed_form_lr(self) -> list[float]:
        return [base * self.gamma**self.last_epoch for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """lr_t = eta_min + (base_lr - eta_min) * (1 + cos(pi * t / T_max)) / 2.

    Computed recursively from the current lr, as PyTorch does (so other changes to the
    lr compose with it); past T_max the lr climbs back, a cosine of period 2 * T_max.

    >>> scheduler = CosineAnnealingLR(optimizer, T_max=50)
    """

    def __init__(
        self,
        optimizer: Optimizer,
        T_max: int,  # noqa: N803 - PyTorch's name
        eta_min: float = 0.0,
        last_epoch: int = -1,
    ):
        if int(T_max) != T_max or T_max < 1:
            raise ValueError(f"CosineAnnealingLR: T_max must be a positive integer, got {T_max!r}")
        self.T_max = int(T_max)
        self.eta_min = float(eta_min)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        t, period, eta_min = self.last_epoch, self.T_max, self.eta_min
        if self._initial:
            return self._group_lrs()
        if self._step_count == 1 and t > 0:
            return [
                eta_min + (base - eta_min) * (1 + math.cos(t * math.pi / period)) / 2
                for base in self.base_lrs
            ]
        if (t - 1 - period) % (2 * period) == 0:
            # at the bottom the ratio below would divide by zero: step up from eta_min
            rise = (1 - math.cos(math.pi / period)) / 2
            return [
                lr + (base - eta_min) * rise for lr, base in zip(self._group_lrs(), self.base_lrs)
            ]
        ratio = (1 + math.cos(math.pi * t / period)) / (1 + math.cos(math.pi * (t - 1) / period))
        return [ratio * (lr - eta_min) + eta_min for lr in self._group_lrs()]

    def _closed_form_lr(self) -> list[float]:
        t, period, eta_min = self.last_epoch, self.T_max, self.eta_min
        return [
            eta_min + (base - eta_min) * (1 + math.cos(math.pi * t / period)) / 2
            for base in self.base_lrs
        ]


class LambdaLR(LRScheduler):
    """lr = base_lr * lr_lambda(epoch), one function for all groups or one per group.

    NOTE: like PyTorch, state_dict() cannot hold the functions; build the scheduler
    with the same lr_lambda before loading.

    >>> scheduler = LambdaLR(optimizer, lr_lambda=lambda epoch: 0.95**epoch)
    """

    _not_saved = ("optimizer", "_initial", "lr_lambdas")

    def __init__(
        self,
        optimizer: Optimizer,
        lr_lambda: Callable[[int], float] | list[Callable[[int], float]],
        last_epoch: int = -1,
    ):
        n = len(optimizer.param_groups)
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != n:
                raise ValueError(f"LambdaLR: expected {n} lr_lambdas, got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * n
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [
            base * float(fn(self.last_epoch)) for base, fn in zip(self.base_lrs, self.lr_lambdas)
        ]


class ReduceLROnPlateau(LRScheduler):
    """Multiply the lr by ``factor`` once a metric has stopped improving for ``patience`` epochs.

    Call ``scheduler.step(metric)`` once per epoch with, e.g., the validation loss.
    Improvement means below ``best * (1 - threshold)`` ('min', 'rel'), below
    ``best - threshold`` ('min', 'abs'), or the mirror images for mode='max'. After a
    reduction, ``cooldown`` epochs pass before bad epochs count again; the lr never goes
    below ``min_lr`` and changes smaller than ``eps`` are skipped.

    >>> scheduler = ReduceLROnPlateau(optimizer, mode='min', factor=0.5, patience=3)
    >>> scheduler.step(val_loss)
    """

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | list[float] = 0.0,
        eps: float = 1e-8,
    ):
        _check_optimizer(optimizer, "ReduceLROnPlateau")
        if not factor < 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor should be < 1.0, got {factor}")
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(
                f"ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}"
            )
        n = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != n:
                raise ValueError(f"ReduceLROnPlateau: expected {n} min_lrs, got {len(min_lr)}")
            self.min_lrs = [float(v) for v in min_lr]
        else:
            self.min_lrs = [float(min_lr)] * n
        self.optimizer = optimizer
        self.mode = mode
        self.factor = float(factor)
        self.patience = int(patience)
        self.threshold = float(threshold)
        self.threshold_mode = threshold_mode
        self.cooldown = int(cooldown)
        self.eps = float(eps)
        self.last_epoch = 0
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self._last_lr = self._group_lrs()

    def is_better(self, current: float, best: float) -> bool:
        if self.mode == "min" and self.threshold_mode == "rel":
            return current < best * (1.0 - self.threshold)
        if self.mode == "min":
            return current < best - self.threshold
        if self.threshold_mode == "rel":
            return current > best * (self.threshold + 1.0)
        return current > best + self.threshold

    def step(self, metrics) -> None:  # type: ignore[override]
        """Record one epoch's metric (required); reduce the lrs after ``patience`` bad epochs."""
        current = float(metrics)
        self.last_epoch += 1
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs in cooldown do not count
        if self.num_bad_epochs > self.patience:
            for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs):
                old_lr = float(group["lr"])
                new_lr = max(old_lr * self.factor, min_lr)
                if old_lr - new_lr > self.eps:
                    group["lr"] = new_lr
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = self._group_lrs()
