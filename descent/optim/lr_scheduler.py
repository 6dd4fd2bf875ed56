"""Learning-rate schedules: PyTorch's schedulers and TensorFlow's ExponentialDecay.

PyTorch's schedulers change ``group['lr']`` of an optimizer; call ``scheduler.step()``
after ``optimizer.step()``::

    scheduler = StepLR(optimizer, step_size=30, gamma=0.1)
    for epoch in range(100):
        train(...)                  # optimizer.step() inside
        scheduler.step()

Every scheduler's ``step`` takes the epoch's metric (``ds.train.fit`` always passes it);
only ``ReduceLROnPlateau`` uses it. ``OneCycleLR`` is stepped after every batch instead, and
``SequentialLR`` runs several schedulers in turn (a warm-up, then a decay).

TensorFlow's ``ExponentialDecay`` (in ``schedules``) is a function of the step number
passed as the lr itself; the optimizer evaluates it at its ``global_step``.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterable

import numpy as np

from ..io.plain import plain_data
from .optimizer import Optimizer
from .schedules import SCHEDULES, ExponentialDecay, check_number

__all__ = [
    "LRScheduler",
    "StepLR",
    "ExponentialLR",
    "CosineAnnealingLR",
    "LambdaLR",
    "MultiStepLR",
    "ConstantLR",
    "LinearLR",
    "PolynomialLR",
    "CosineAnnealingWarmRestarts",
    "OneCycleLR",
    "ReduceLROnPlateau",
    "SequentialLR",
    "MultiplicativeLR",
    "CyclicLR",
    "ChainedScheduler",
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

    def step(self, epoch: int | None = None, *, metrics=None) -> None:
        """Move to the next epoch and set each group's lr.

        PyTorch's signature: ``epoch`` (deprecated there) jumps to that epoch by the closed
        form; ``metrics``, the epoch's monitored value that ``fit`` hands every scheduler,
        is not used (``ReduceLROnPlateau`` uses it).
        """
        self._step_count += 1
        self._update_lr(None if epoch is None else int(check_number("epoch", epoch)))

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
        self.T_max = _check_int("CosineAnnealingLR", "T_max", T_max, 1, strict=False)
        self.eta_min = check_number("CosineAnnealingLR: eta_min", eta_min)
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


def _check_int(who: str, name: str, value, low: int, strict: bool = True) -> int:
    """``value`` as an int >= low. Strict (where PyTorch checks the type) refuses floats;
    otherwise a float with an integer value passes. Bools never do."""
    integral = isinstance(value, (int, np.integer)) or (
        not strict and isinstance(value, (float, np.floating)) and float(value).is_integer()
    )
    if isinstance(value, (bool, np.bool_)) or not integral or value < low:
        raise ValueError(f"{who}: {name} must be an integer >= {low}, got {value!r}")
    return int(value)


def _per_group(who: str, name: str, optimizer: Optimizer, value) -> list[float]:
    """One value for every param group, or a list or tuple of one per group."""
    n = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(
                f"{who}: {name} must have the same length as optimizer.param_groups. "
                f"{name} has {len(value)} values, param_groups has {n}; give one per "
                f"group, or one number for all"
            )
        return [check_number(name, v) for v in value]
    return [check_number(name, value)] * n


class MultiStepLR(LRScheduler):
    """Multiply the lr by ``gamma`` at each milestone epoch (twice at one listed twice).

    >>> scheduler = MultiStepLR(optimizer, milestones=[30, 80], gamma=0.1)
    """

    def __init__(
        self,
        optimizer: Optimizer,
        milestones: Iterable[int],
        gamma: float = 0.1,
        last_epoch: int = -1,
    ):
        self.milestones = sorted(
            _check_int("MultiStepLR", "a milestone", m, 0, strict=False) for m in milestones
        )
        self.gamma = check_number("gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        times = self.milestones.count(self.last_epoch)
        if times == 0:
            return self._group_lrs()
        return [lr * self.gamma**times for lr in self._group_lrs()]

    def _closed_form_lr(self) -> list[float]:
        passed = bisect.bisect_right(self.milestones, self.last_epoch)
        return [base * self.gamma**passed for base in self.base_lrs]


class ConstantLR(LRScheduler):
    """lr = base_lr * factor for the first ``total_iters`` epochs, then base_lr.

    >>> scheduler = ConstantLR(optimizer, factor=0.5, total_iters=4)
    """

    def __init__(
        self,
        optimizer: Optimizer,
        factor: float = 1.0 / 3,
        total_iters: int = 5,
        last_epoch: int = -1,
    ):
        self.factor = check_number("factor", factor)
        if not 0 < self.factor <= 1:
            raise ValueError(
                f"ConstantLR: factor must be in (0, 1] (the lr is divided by it after "
                f"total_iters epochs), got {factor!r}"
            )
        self.total_iters = _check_int("ConstantLR", "total_iters", total_iters, 0, strict=False)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0:
            return [lr * self.factor for lr in self._group_lrs()]
        if self.last_epoch != self.total_iters:
            return self._group_lrs()
        return [lr * (1.0 / self.factor) for lr in self._group_lrs()]

    def _closed_form_lr(self) -> list[float]:
        factor = 1.0 if self.last_epoch >= self.total_iters else self.factor
        return [base * factor for base in self.base_lrs]


class LinearLR(LRScheduler):
    """lr = base_lr * f_t, f going linearly from ``start_factor`` (epoch 0) to ``end_factor``
    (epoch ``total_iters`` and after).

    Computed recursively from the current lr, as PyTorch does.

    >>> scheduler = LinearLR(optimizer, start_factor=0.1, total_iters=10)   # a warm-up
    """

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
        last_epoch: int = -1,
    ):
        self.start_factor = check_number("start_factor", start_factor)
        if not 0 < self.start_factor <= 1:
            raise ValueError(
                f"LinearLR: start_factor must be greater than 0 and at most 1, got {start_factor!r}"
            )
        self.end_factor = check_number("end_factor", end_factor)
        if not self.end_factor <= 1:
            raise ValueError(f"LinearLR: end_factor must be in [0, 1], got {end_factor!r}")
        self.total_iters = _check_int("LinearLR", "total_iters", total_iters, 0, strict=False)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        t, start, end = self.last_epoch, self.start_factor, self.end_factor
        if t == 0:
            return [lr * start for lr in self._group_lrs()]
        if self._initial or t > self.total_iters:
            return self._group_lrs()
        # f_t / f_(t-1), with f_t = start + (end - start) * t / total_iters
        ratio = 1.0 + (end - start) / (self.total_iters * start + (t - 1) * (end - start))
        return [lr * ratio for lr in self._group_lrs()]

    def _closed_form_lr(self) -> list[float]:
        t, start, end = self.last_epoch, self.start_factor, self.end_factor
        done = min(self.total_iters, t) / self.total_iters if self.total_iters else 1.0
        factor = start + (end - start) * done
        return [base * factor for base in self.base_lrs]


class PolynomialLR(LRScheduler):
    """lr = base_lr * (1 - t / total_iters) ** power up to epoch ``total_iters``, then 0 stays.

    >>> scheduler = PolynomialLR(optimizer, total_iters=20, power=2.0)
    """

    def __init__(
        self,
        optimizer: Optimizer,
        total_iters: int = 5,
        power: float = 1.0,
        last_epoch: int = -1,
    ):
        self.total_iters = _check_int("PolynomialLR", "total_iters", total_iters, 0, strict=False)
        self.power = check_number("power", power)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        t, n = self.last_epoch, self.total_iters
        if self._initial or t > n:
            return self._group_lrs()
        decay = ((1.0 - t / n) / (1.0 - (t - 1) / n)) ** self.power
        return [lr * decay for lr in self._group_lrs()]

    def _closed_form_lr(self) -> list[float]:
        t, n = self.last_epoch, self.total_iters
        done = min(n, t) / n if n else 1.0
        return [base * (1.0 - done) ** self.power for base in self.base_lrs]


class CosineAnnealingWarmRestarts(LRScheduler):
    """SGDR: lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2, where
    T_cur counts the epochs since the last restart and each period T_i is ``T_mult``
    times the one before (the first is ``T_0``).

    ``step()`` moves one epoch; ``step(epoch=e)`` jumps to epoch ``e``, which may be a
    fraction (PyTorch's ``scheduler.step(epoch + i / iters)`` within an epoch).

    >>> scheduler = CosineAnnealingWarmRestarts(optimizer, T_0=10, T_mult=2)
    """

    def __init__(
        self,
        optimizer: Optimizer,
        T_0: int,  # noqa: N803 - PyTorch's name
        T_mult: int = 1,  # noqa: N803 - PyTorch's name
        eta_min: float = 0.0,
        last_epoch: int = -1,
    ):
        self.T_0 = _check_int("CosineAnnealingWarmRestarts", "T_0", T_0, 1)
        self.T_i = self.T_0
        self.T_mult = _check_int("CosineAnnealingWarmRestarts", "T_mult", T_mult, 1)
        if isinstance(eta_min, (bool, np.bool_)) or not isinstance(
            eta_min, (int, float, np.number)
        ):
            raise ValueError(
                f"CosineAnnealingWarmRestarts: eta_min must be a number (float or int), got "
                f"{eta_min!r} of type {type(eta_min).__name__}"
            )
        self.eta_min = check_number("CosineAnnealingWarmRestarts: eta_min", eta_min)
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        eta_min, phase = self.eta_min, math.pi * self.T_cur / self.T_i
        return [eta_min + (base - eta_min) * (1 + math.cos(phase)) / 2 for base in self.base_lrs]

    def step(self, epoch: float | None = None, *, metrics=None) -> None:
        """One epoch on, or to ``epoch`` (a fraction within an epoch too, as PyTorch's
        ``scheduler.step(epoch + i / iters)``), restarting as it passes the end of a
        period; ``metrics`` is not used."""
        self._step_count += 1
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur += 1
            if self.T_cur >= self.T_i:
                self.T_cur -= self.T_i
                self.T_i *= self.T_mult
        else:
            self._move_to(epoch)
        self.last_epoch = math.floor(epoch)
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = self._group_lrs()

    def _move_to(self, epoch: float) -> None:
        """T_cur and T_i at ``epoch``: the periods T_0 * T_mult**k end at
        T_0 * (T_mult**n - 1) / (T_mult - 1), so epoch lies in period n = log_T_mult of
        epoch / T_0 * (T_mult - 1) + 1, rounded down."""
        epoch = check_number("epoch", epoch)
        if epoch < self.T_0:
            self.T_i, self.T_cur = self.T_0, epoch
        elif self.T_mult == 1:
            self.T_cur = epoch % self.T_0
        else:
            n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
            self.T_cur = epoch - self.T_0 * (self.T_mult**n - 1) / (self.T_mult - 1)
            self.T_i = self.T_0 * self.T_mult**n


def _anneal_cos(start: float, end: float, pct: float) -> float:
    """From start (pct = 0) to end (pct = 1) along half a cosine."""
    return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)


def _anneal_linear(start: float, end: float, pct: float) -> float:
    return (end - start) * pct + start


_ANNEAL = {"cos": _anneal_cos, "linear": _anneal_linear}


class OneCycleLR(LRScheduler):
    """The 1cycle policy, stepped after every batch: the lr rises from max_lr / div_factor
    to ``max_lr`` over the first ``pct_start`` of ``total_steps`` and falls to
    initial_lr / final_div_factor; the momentum (SGD's ``momentum``, Adam's ``betas[0]``)
    moves the other way between ``max_momentum`` and ``base_momentum``.

    ``three_phase=True`` goes back down to initial_lr symmetrically, then to the minimum.
    The schedule has ``total_steps`` steps (or ``epochs * steps_per_epoch``); a step past
    them is an error.

    >>> scheduler = OneCycleLR(optimizer, max_lr=0.1, epochs=10, steps_per_epoch=len(loader))
    """

    def __init__(
        self,
        optimizer: Optimizer,
        max_lr: float | list[float],
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum: float | list[float] = 0.85,
        max_momentum: float | list[float] = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
        last_epoch: int = -1,
    ):
        who = "OneCycleLR"
        _check_optimizer(optimizer, who)
        if total_steps is not None:
            self.total_steps = _check_int(who, "total_steps", total_steps, 1)
        elif epochs is not None and steps_per_epoch is not None:
            epochs = _check_int(who, "epochs", epochs, 1)
            self.total_steps = epochs * _check_int(who, "steps_per_epoch", steps_per_epoch, 1)
        else:
            raise ValueError(
                f"{who}: you must define either total_steps OR (epochs AND steps_per_epoch)"
            )
        if isinstance(pct_start, bool) or not isinstance(pct_start, (float, np.floating)):
            raise ValueError(f"{who}: pct_start must be a float between 0 and 1, got {pct_start!r}")
        if not 0 <= pct_start <= 1:
            raise ValueError(f"{who}: pct_start must be between 0 and 1, got {pct_start!r}")
        if anneal_strategy not in _ANNEAL:
            raise ValueError(
                f"{who}: anneal_strategy must be one of 'cos' or 'linear', got {anneal_strategy!r}"
            )
        for name, value in (("div_factor", div_factor), ("final_div_factor", final_div_factor)):
            if not check_number(name, value) > 0:
                raise ValueError(
                    f"{who}: {name} must be > 0 (the lr is divided by it), got {value!r}"
                )
        max_lrs = _per_group(who, "max_lr", optimizer, max_lr)
        self.cycle_momentum = bool(cycle_momentum)
        if self.cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError(
                    f"{who}: optimizer must support momentum or beta1 with `cycle_momentum` "
                    f"option enabled; {type(optimizer).__name__} has neither, so pass "
                    f"cycle_momentum=False"
                )
            self.use_beta1 = "betas" in optimizer.defaults
            max_momentums = _per_group(who, "max_momentum", optimizer, max_momentum)
            base_momentums = _per_group(who, "base_momentum", optimizer, base_momentum)

        up = float(pct_start * self.total_steps) - 1  # the step at which the lr peaks
        last = self.total_steps - 1
        if three_phase:
            self._schedule_phases = [
                _phase(up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                _phase(
                    float(2 * pct_start * self.total_steps) - 2,
                    "max_lr",
                    "initial_lr",
                    "base_momentum",
                    "max_momentum",
                ),
                _phase(last, "initial_lr", "min_lr", "max_momentum", "max_momentum"),
            ]
        else:
            self._schedule_phases = [
                _phase(up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                _phase(last, "max_lr", "min_lr", "base_momentum", "max_momentum"),
            ]
        self._anneal_func_type = anneal_strategy

        if last_epoch == -1:
            for group, top in zip(optimizer.param_groups, max_lrs):
                group["initial_lr"] = top / div_factor
                group["max_lr"] = top
                group["min_lr"] = group["initial_lr"] / final_div_factor
            if self.cycle_momentum:
                for group, top, bottom in zip(
                    optimizer.param_groups, max_momentums, base_momentums
                ):
                    self._set_momentum(group, top)
                    group["max_momentum"] = top
                    group["base_momentum"] = bottom
        super().__init__(optimizer, last_epoch)

    def _set_momentum(self, group: dict, momentum: float) -> None:
        _set_momentum(group, momentum, self.use_beta1)

    def get_lr(self) -> list[float]:
        """The lrs of step ``last_epoch``; sets the groups' momentum too."""
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(
                f"OneCycleLR: tried to step {step} times. The specified number of total "
                f"steps is {self.total_steps}; give a total_steps (or epochs and "
                f"steps_per_epoch) that covers every scheduler.step()"
            )
        start = 0.0
        for i, phase in enumerate(self._schedule_phases):
            end = phase["end_step"]
            if step <= end or i == len(self._schedule_phases) - 1:
                break
            start = end
        if end == start:
            peak = self._schedule_phases[0]["end_step"] + 1
            raise ValueError(
                f"OneCycleLR: phase {i + 1} of the cycle has no length (it starts and ends at "
                f"step {end:g}): pct_start * total_steps = {peak:g} of {self.total_steps} "
                f"steps; change pct_start or total_steps so that every phase has a step"
            )
        pct = (step - start) / (end - start)
        anneal = _ANNEAL[self._anneal_func_type]
        lrs = []
        for group in self.optimizer.param_groups:
            lrs.append(anneal(group[phase["start_lr"]], group[phase["end_lr"]], pct))
            if self.cycle_momentum:
                momentum = anneal(group[phase["start_momentum"]], group[phase["end_momentum"]], pct)
                self._set_momentum(group, momentum)
        return lrs


def _set_momentum(group: dict, momentum: float, use_beta1: bool) -> None:
    """A group's momentum: Adam's beta1, or SGD's momentum (the cycling schedulers set it)."""
    if use_beta1:
        group["betas"] = (momentum, *group["betas"][1:])
    else:
        group["momentum"] = momentum


def _phase(end_step: float, start_lr: str, end_lr: str, start_momentum: str, end_momentum: str):
    """One phase of OneCycleLR: the step it ends at and the group keys it anneals between."""
    return {
        "end_step": float(end_step),
        "start_lr": start_lr,
        "end_lr": end_lr,
        "start_momentum": start_momentum,
        "end_momentum": end_momentum,
    }


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
        who = "ReduceLROnPlateau"
        _check_optimizer(optimizer, who)
        factor = check_number(f"{who}: factor", factor)
        threshold = check_number(f"{who}: threshold", threshold)
        eps = check_number(f"{who}: eps", eps)
        patience = _check_int(who, "patience", patience, 0, strict=False)
        cooldown = _check_int(who, "cooldown", cooldown, 0, strict=False)
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
            self.min_lrs = [check_number(f"{who}: min_lr", v) for v in min_lr]
        else:
            self.min_lrs = [check_number(f"{who}: min_lr", min_lr)] * n
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

    def step(self, metrics, epoch=None) -> None:  # type: ignore[override]
        """Record one epoch's metric (required); reduce the lrs after ``patience`` bad epochs.

        PyTorch's signature; ``epoch`` is not used."""
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


class _SchedulerList(LRScheduler):
    """A scheduler made of other schedulers on one optimizer (SequentialLR,
    ChainedScheduler): their checks and their state_dict()."""

    _not_saved = ("optimizer", "_initial", "_schedulers")

    @staticmethod
    def _check_schedulers(who: str, schedulers, optimizer, where: str) -> list[LRScheduler]:
        """At least one LRScheduler, none a ReduceLROnPlateau, all on ``optimizer``
        (the first one's when it is None); returns them as a list."""
        schedulers = list(schedulers)
        if not schedulers:
            raise ValueError(f"{who} expects at least one scheduler, but got no scheduler.")
        optimizer = optimizer or schedulers[0].optimizer
        for i, scheduler in enumerate(schedulers):
            if not isinstance(scheduler, LRScheduler):
                raise TypeError(
                    f"{who}: the scheduler at index {i} is a {type(scheduler).__name__}, "
                    f"not an LRScheduler"
                )
            # NOTE: PyTorch's rule: a plateau has no epoch 0 to be started at
            if isinstance(scheduler, ReduceLROnPlateau):
                raise ValueError(
                    f"{who} does not support `ReduceLROnPlateau` scheduler (at index {i}); "
                    f"step it yourself after the {where}"
                )
            if scheduler.optimizer is not optimizer:
                raise ValueError(
                    f"{who} expects all schedulers to belong to the same optimizer, but got "
                    f"scheduler {type(scheduler).__name__} at index {i} with another "
                    f"optimizer; build each scheduler on the optimizer given to {who}"
                )
        return schedulers

    def state_dict(self) -> dict:
        """Its own attributes and, under '_schedulers', each scheduler's state_dict()."""
        state = super().state_dict()
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        own = {k: v for k, v in state_dict.items() if k != "_schedulers"}
        super().load_state_dict(own)
        saved = state_dict["_schedulers"]
        if len(saved) != len(self._schedulers):
            raise ValueError(
                f"{type(self).__name__}: the state dict holds {len(saved)} schedulers, this "
                f"one runs {len(self._schedulers)}; build it with the same schedulers before "
                f"loading"
            )
        for scheduler, state in zip(self._schedulers, saved):
            scheduler.load_state_dict(state)


class SequentialLR(_SchedulerList):
    """Run ``schedulers`` one after another, switching at the ``milestones`` epochs; each
    starts from epoch 0 when its turn comes.

    >>> warmup = LinearLR(optimizer, start_factor=0.1, total_iters=5)
    >>> decay = CosineAnnealingLR(optimizer, T_max=95)
    >>> scheduler = SequentialLR(optimizer, schedulers=[warmup, decay], milestones=[5])
    """

    def __init__(
        self,
        optimizer: Optimizer,
        schedulers: list[LRScheduler],
        milestones: list[int],
        last_epoch: int = -1,
    ):
        who = "SequentialLR"
        _check_optimizer(optimizer, who)
        schedulers = self._check_schedulers(who, schedulers, optimizer, "sequence")
        milestones = [_check_int(who, "a milestone", m, 0, strict=False) for m in milestones]
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                f"Sequential Schedulers expects number of schedulers provided to be one more "
                f"than the number of milestone points, but got number of schedulers "
                f"{len(schedulers)} and the number of milestones to be equal to "
                f"{len(milestones)}"
            )
        self.optimizer = optimizer
        self._schedulers = schedulers
        self._milestones = milestones
        self.last_epoch = int(last_epoch) + 1
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        self._undo_initial_step()  # each scheduler stepped once when it was built
        first = self._schedulers[bisect.bisect_right(milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def _undo_initial_step(self) -> None:
        for scheduler in self._schedulers:
            scheduler._undo_initial_step()

    def step(self, epoch=None, *, metrics=None) -> None:
        """One epoch of the scheduler whose turn it is (started at epoch 0 on its milestone);
        ``metrics`` is handed to it. ``epoch`` is refused, as PyTorch refuses it."""
        if epoch is not None:
            raise ValueError(
                "SequentialLR.step() takes no epoch: it moves one epoch at a time (as PyTorch's)"
            )
        self.last_epoch += 1
        i = bisect.bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[i]
        if i > 0 and self._milestones[i - 1] == self.last_epoch:
            scheduler._update_lr(0)
        else:
            scheduler.step(metrics=metrics)
        self._last_lr = scheduler.get_last_lr()


class MultiplicativeLR(LRScheduler):
    """Multiply each group's lr by ``lr_lambda(epoch)`` every epoch (one function for all
    groups or one per group); state_dict() leaves the functions out, as LambdaLR's.

    >>> scheduler = MultiplicativeLR(optimizer, lr_lambda=lambda epoch: 0.95)
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
                raise ValueError(f"MultiplicativeLR: expected {n} lr_lambdas, got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * n
        for fn in self.lr_lambdas:
            if not callable(fn):
                raise TypeError(f"lr_lambda should be a function, but got {type(fn).__name__}")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._initial:
            return self._group_lrs()
        return [
            lr * float(fn(self.last_epoch)) for lr, fn in zip(self._group_lrs(), self.lr_lambdas)
        ]


class CyclicLR(LRScheduler):
    """The lr cycles between ``base_lr`` and ``max_lr`` (Smith, 2017), stepped after every
    batch: up for ``step_size_up`` steps, down for ``step_size_down`` (default the same).

    The height of cycle c is scaled by 1 ('triangular'), 1/2^(c-1) ('triangular2'),
    gamma^step ('exp_range') or ``scale_fn`` (of the cycle, or of the step with
    ``scale_mode='iterations'``). With ``cycle_momentum`` the momentum (SGD's
    ``momentum``, Adam's ``betas[0]``) goes the other way, from ``max_momentum`` down to
    ``base_momentum``. state_dict() leaves a ``scale_fn`` out.

    >>> scheduler = CyclicLR(optimizer, base_lr=0.01, max_lr=0.1, step_size_up=10)
    """

    _not_saved = ("optimizer", "_initial", "_scale_fn_custom")

    def __init__(
        self,
        optimizer: Optimizer,
        base_lr: float | list[float],
        max_lr: float | list[float],
        step_size_up: int = 2000,
        step_size_down: int | None = None,
        mode: str = "triangular",
        gamma: float = 1.0,
        scale_fn: Callable[[float], float] | None = None,
        scale_mode: str = "cycle",
        cycle_momentum: bool = True,
        base_momentum: float | list[float] = 0.8,
        max_momentum: float | list[float] = 0.9,
        last_epoch: int = -1,
    ):
        who = "CyclicLR"
        _check_optimizer(optimizer, who)
        base_lrs = _per_group(who, "base_lr", optimizer, base_lr)
        if last_epoch == -1:
            for lr, group in zip(base_lrs, optimizer.param_groups):
                group["lr"] = lr
        self.max_lrs = _per_group(who, "max_lr", optimizer, max_lr)
        up = float(check_number("step_size_up", step_size_up))
        down = (
            up if step_size_down is None else float(check_number("step_size_down", step_size_down))
        )
        self.total_size = up + down
        self.step_ratio = up / self.total_size
        if mode not in ("triangular", "triangular2", "exp_range") and scale_fn is None:
            raise ValueError(
                f"{who}: mode is invalid and scale_fn is None (mode must be 'triangular', "
                f"'triangular2' or 'exp_range', got {mode!r})"
            )
        self.mode = mode
        self.gamma = check_number("gamma", gamma)
        self._scale_fn_custom = scale_fn
        # as PyTorch's: the built-in modes fix the scale mode
        self.scale_mode = scale_mode if scale_fn is not None else _CYCLIC_SCALE_MODES[mode]
        self.cycle_momentum = bool(cycle_momentum)
        if self.cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError(
                    f"{who}: optimizer must support momentum or beta1 with `cycle_momentum` "
                    f"option enabled; {type(optimizer).__name__} has neither, so pass "
                    f"cycle_momentum=False"
                )
            self.use_beta1 = "betas" in optimizer.defaults
            self.base_momentums = _per_group(who, "base_momentum", optimizer, base_momentum)
            self.max_momentums = _per_group(who, "max_momentum", optimizer, max_momentum)
            if last_epoch == -1:
                for top, bottom, group in zip(
                    self.max_momentums, self.base_momentums, optimizer.param_groups
                ):
                    self._set_momentum(group, top)
                    group["max_momentum"] = top
                    group["base_momentum"] = bottom
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def _set_momentum(self, group: dict, momentum: float) -> None:
        _set_momentum(group, momentum, self.use_beta1)

    def scale_fn(self, x: float) -> float:
        """The height's scale at cycle (or step) x."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma**x

    def get_lr(self) -> list[float]:
        """The lrs of step ``last_epoch``; sets the groups' momentum too."""
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle  # position in the cycle, 0 .. 1
        if x <= self.step_ratio:
            height = x / self.step_ratio
        else:
            height = (x - 1) / (self.step_ratio - 1)
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else self.last_epoch)
        lrs = [
            base + (top - base) * height * scale for base, top in zip(self.base_lrs, self.max_lrs)
        ]
        if self.cycle_momentum:
            for group, bottom, top in zip(
                self.optimizer.param_groups, self.base_momentums, self.max_momentums
            ):
                self._set_momentum(group, top - (top - bottom) * height * scale)
        return lrs


_CYCLIC_SCALE_MODES = {"triangular": "cycle", "triangular2": "cycle", "exp_range": "iterations"}


class ChainedScheduler(_SchedulerList):
    """Step every one of ``schedulers`` on each ``step()``, in order, so that their
    changes of the lr compose (a warm-up factor times a decay, say).

    >>> scheduler = ChainedScheduler([ConstantLR(optimizer, 0.1, 2), ExponentialLR(optimizer, 0.9)])
    """

    def __init__(self, schedulers: list[LRScheduler], optimizer: Optimizer | None = None):
        who = "ChainedScheduler"
        schedulers = self._check_schedulers(who, schedulers, optimizer, "chain")
        optimizer = optimizer or schedulers[0].optimizer
        self.optimizer = optimizer
        self._schedulers = schedulers
        self._last_lr = self._group_lrs()

    def step(self, epoch=None, *, metrics=None) -> None:
        """One step of every scheduler, in order; ``metrics`` is handed to each."""
        if epoch is not None:
            raise ValueError("ChainedScheduler.step() takes no epoch (as PyTorch's)")
        for scheduler in self._schedulers:
            scheduler.step(metrics=metrics)
        self._last_lr = self._group_lrs()
