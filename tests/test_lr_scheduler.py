"""ds.optim.lr_scheduler against torch.optim.lr_scheduler, and ExponentialDecay against
TensorFlow's formula lr * rate ** (step / decay_steps)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

import descent as ds
from descent import optim
from descent.optim import lr_scheduler as sched
from tests.helpers import assert_plain

LRS = (0.1, 0.05)  # two param groups


def ds_optimizer(lrs=LRS, kind="sgd"):
    groups = [{"params": [ds.zeros(2, requires_grad=True)], "lr": lr} for lr in lrs]
    if kind == "adam":
        return optim.Adam(groups, lr=1.0, betas=(0.9, 0.999))
    return optim.SGD(groups, lr=1.0, momentum=0.9)


def torch_optimizer(lrs=LRS, kind="sgd"):
    groups = [{"params": [torch.zeros(2, requires_grad=True)], "lr": lr} for lr in lrs]
    if kind == "adam":
        return torch.optim.Adam(groups, lr=1.0, betas=(0.9, 0.999))
    return torch.optim.SGD(groups, lr=1.0, momentum=0.9)


def optimizer_of(lib, kind="sgd"):
    """An optimizer of the library whose schedulers ``lib`` holds."""
    return ds_optimizer(kind=kind) if lib is sched else torch_optimizer(kind=kind)


def inverse(epoch):
    return 1.0 / (1.0 + 0.3 * epoch)


def wave(epoch):
    return 0.5 + 0.5 * math.cos(epoch)


def shrink(epoch):
    return 0.95


def wobble(epoch):
    return 0.9 + 0.05 * math.cos(epoch)


def halving_cycles(x):
    return 0.5 ** (x / 10)


def simple(name, **options):
    """Build scheduler ``name`` of either library with ``options``."""
    return lambda lib, opt: getattr(lib, name)(opt, **options)


def sequence(milestones, *parts):
    """A SequentialLR of (name, options) parts, in either library."""
    return lambda lib, opt: lib.SequentialLR(
        opt, [getattr(lib, name)(opt, **options) for name, options in parts], milestones
    )


ONE_CYCLE_THREE = dict(
    max_lr=0.3, total_steps=90, pct_start=0.25, anneal_strategy="linear", three_phase=True
)
ONE_CYCLE_EPOCHS = dict(
    max_lr=(0.2, 0.4),
    epochs=5,
    steps_per_epoch=12,
    div_factor=10.0,
    final_div_factor=100.0,
    base_momentum=[0.8, 0.7],
    max_momentum=0.9,
)
WARMUP_COSINE = [
    ("LinearLR", dict(start_factor=0.1, total_iters=5)),
    ("CosineAnnealingLR", dict(T_max=40, eta_min=0.001)),
]
THREE = [
    ("ConstantLR", dict(factor=0.5, total_iters=3)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("StepLR", dict(step_size=4, gamma=0.7)),
]
RESTARTS = [
    ("LinearLR", dict(start_factor=0.2, total_iters=4)),
    ("CosineAnnealingWarmRestarts", dict(T_0=5, T_mult=2)),
]
DECAYS = [
    ("ExponentialLR", dict(gamma=0.8)),
    ("MultiStepLR", dict(milestones=[3, 12])),
    ("PolynomialLR", dict(total_iters=20, power=1.5)),
]
CYCLE_LAST = [
    ("ConstantLR", dict(factor=0.25, total_iters=10)),
    ("OneCycleLR", dict(max_lr=0.5, total_steps=40)),
]

# (id, optimizer, steps, make): make(lib, optimizer) builds the same scheduler in descent
# (lib = sched) and in PyTorch (lib = torch.optim.lr_scheduler)
TABLE = [
    ("step", "sgd", 50, simple("StepLR", step_size=7, gamma=0.5)),
    ("step-default-gamma", "sgd", 50, simple("StepLR", step_size=3)),
    ("exponential", "sgd", 50, simple("ExponentialLR", gamma=0.9)),
    ("cosine", "sgd", 50, simple("CosineAnnealingLR", T_max=10, eta_min=0.001)),
    ("cosine-50", "sgd", 50, simple("CosineAnnealingLR", T_max=50)),
    ("cosine-short", "sgd", 50, simple("CosineAnnealingLR", T_max=3, eta_min=0.01)),
    ("lambda", "sgd", 50, simple("LambdaLR", lr_lambda=inverse)),
    ("lambda-per-group", "sgd", 50, simple("LambdaLR", lr_lambda=[inverse, wave])),
    ("multistep", "sgd", 60, simple("MultiStepLR", milestones=[3, 10, 10, 25], gamma=0.5)),
    ("multistep-unsorted", "adam", 60, simple("MultiStepLR", milestones=(40, 5))),
    ("constant", "sgd", 60, simple("ConstantLR", factor=0.5, total_iters=4)),
    ("constant-defaults", "adam", 60, simple("ConstantLR")),
    ("linear-warmup", "sgd", 60, simple("LinearLR", start_factor=0.1, total_iters=10)),
    (
        "linear-decay",
        "sgd",
        60,
        simple("LinearLR", start_factor=1.0, end_factor=0.05, total_iters=30),
    ),
    ("linear-defaults", "adam", 60, simple("LinearLR")),
    ("polynomial", "sgd", 60, simple("PolynomialLR", total_iters=40, power=2.0)),
    ("polynomial-root", "sgd", 60, simple("PolynomialLR", total_iters=25, power=0.5)),
    ("polynomial-defaults", "adam", 60, simple("PolynomialLR")),
    ("warm-restarts", "sgd", 80, simple("CosineAnnealingWarmRestarts", T_0=7)),
    (
        "warm-restarts-mult",
        "sgd",
        80,
        simple("CosineAnnealingWarmRestarts", T_0=3, T_mult=2, eta_min=0.001),
    ),
    ("onecycle", "sgd", 100, simple("OneCycleLR", max_lr=[1.0, 0.5], total_steps=100)),
    ("onecycle-adam-three-linear", "adam", 90, simple("OneCycleLR", **ONE_CYCLE_THREE)),
    ("onecycle-epochs", "sgd", 60, simple("OneCycleLR", **ONE_CYCLE_EPOCHS)),
    (
        "onecycle-adam-three-cos",
        "adam",
        70,
        simple("OneCycleLR", max_lr=[0.01, 0.02], total_steps=70, pct_start=0.4, three_phase=True),
    ),
    (
        "onecycle-no-momentum",
        "adam",
        60,
        simple("OneCycleLR", max_lr=0.3, total_steps=60, pct_start=0.5, cycle_momentum=False),
    ),
    ("sequential-warmup-cosine", "sgd", 60, sequence([5], *WARMUP_COSINE)),
    ("sequential-three", "sgd", 60, sequence([6, 20], *THREE)),
    ("sequential-restarts", "adam", 60, sequence([8], *RESTARTS)),
    ("sequential-decays", "sgd", 60, sequence([10, 30], *DECAYS)),
    ("sequential-onecycle", "sgd", 50, sequence([10], *CYCLE_LAST)),
    ("multiplicative", "sgd", 40, simple("MultiplicativeLR", lr_lambda=shrink)),
    (
        "multiplicative-per-group",
        "adam",
        40,
        simple("MultiplicativeLR", lr_lambda=[shrink, wobble]),
    ),
    ("cyclic", "sgd", 43, simple("CyclicLR", base_lr=0.01, max_lr=0.1, step_size_up=5)),
    (
        "cyclic-triangular2",
        "sgd",
        53,
        simple(
            "CyclicLR",
            base_lr=[0.01, 0.02],
            max_lr=0.2,
            step_size_up=4,
            step_size_down=6,
            mode="triangular2",
            base_momentum=0.7,
            max_momentum=[0.95, 0.9],
        ),
    ),
    (
        "cyclic-exp-range-adam",
        "adam",
        60,
        simple(
            "CyclicLR", base_lr=0.001, max_lr=0.01, step_size_up=7, mode="exp_range", gamma=0.97
        ),
    ),
    (
        "cyclic-no-momentum",
        "sgd",
        40,
        simple("CyclicLR", base_lr=0.05, max_lr=0.5, step_size_up=3, cycle_momentum=False),
    ),
    (
        "cyclic-scale-fn",
        "sgd",
        45,
        simple(
            "CyclicLR",
            base_lr=0.01,
            max_lr=0.1,
            step_size_up=2,
            step_size_down=5,
            scale_fn=halving_cycles,
            scale_mode="iterations",
        ),
    ),
]
ROWS = [pytest.param(*row[1:], id=row[0]) for row in TABLE]

# A metric that falls, stalls, wobbles and falls again (mirrored, 2 - m, for mode='max').
METRIC = (
    [1.0 / (1 + k) for k in range(8)] + [0.12] * 6 + [0.12 + 0.01 * (-1) ** k for k in range(12)]
)
METRIC += [0.1 - 0.001 * k for k in range(10)] + [0.09] * 14
PLATEAU = [
    ("defaults", dict(), True),
    ("patience-factor", dict(patience=2, factor=0.5), True),
    ("cooldown", dict(patience=1, factor=0.5, cooldown=3), True),
    ("abs", dict(patience=2, threshold=0.005, threshold_mode="abs"), True),
    ("max", dict(mode="max", patience=2, factor=0.3), False),
    ("max-abs", dict(mode="max", patience=1, threshold_mode="abs", threshold=0.001), False),
    ("min_lr", dict(patience=0, factor=0.5, min_lr=[0.01, 0.02]), True),
    ("eps", dict(patience=0, factor=0.9, min_lr=0.0499, eps=1e-4), True),
]


def momenta(opt) -> list[float]:
    """Each group's momentum, or its beta1 (Adam), as OneCycleLR cycles it."""
    return [g["betas"][0] if "betas" in g else g["momentum"] for g in opt.param_groups]


def step_both(opt, scheduler, topt, tscheduler, steps: int, metric=None) -> None:
    for k in range(steps):
        opt.step()
        topt.step()
        if metric is None:
            scheduler.step()
            tscheduler.step()
        else:
            scheduler.step(metric[k])
            tscheduler.step(metric[k])
        np.testing.assert_allclose(
            scheduler.get_last_lr(), tscheduler.get_last_lr(), rtol=1e-12, atol=1e-12
        )
        ours = [g["lr"] for g in opt.param_groups]
        theirs = [g["lr"] for g in topt.param_groups]
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12, err_msg=f"step {k}")
        np.testing.assert_allclose(momenta(opt), momenta(topt), rtol=1e-12, err_msg=f"step {k}")
        # ChainedScheduler, as torch's, has no epoch of its own
        assert getattr(scheduler, "last_epoch", None) == getattr(tscheduler, "last_epoch", None)


@pytest.mark.parametrize("kind, steps, make", ROWS)
def test_follows_torch(kind, steps, make):
    opt, topt = ds_optimizer(kind=kind), torch_optimizer(kind=kind)
    scheduler, tscheduler = make(sched, opt), make(torch.optim.lr_scheduler, topt)
    assert scheduler.get_last_lr() == pytest.approx(tscheduler.get_last_lr(), rel=1e-12)
    for key in ("initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum"):
        assert [g.get(key) for g in opt.param_groups] == [g.get(key) for g in topt.param_groups]
    np.testing.assert_allclose(momenta(opt), momenta(topt), rtol=1e-12)
    start = scheduler.get_last_lr()
    step_both(opt, scheduler, topt, tscheduler, steps)
    assert scheduler.get_last_lr() != start, "the lr never changed"


@pytest.mark.parametrize("kind, steps, make", ROWS)
def test_every_step_takes_a_metric_which_epoch_schedulers_ignore(kind, steps, make):
    opt, opt_metric = ds_optimizer(kind=kind), ds_optimizer(kind=kind)
    scheduler, with_metric = make(sched, opt), make(sched, opt_metric)
    for k in range(20):
        scheduler.step()
        with_metric.step(metrics=METRIC[k])
        assert with_metric.get_last_lr() == scheduler.get_last_lr()
    assert with_metric.state_dict() == scheduler.state_dict()


@pytest.mark.parametrize("total_steps", [1, 2, 7])
@pytest.mark.parametrize("three_phase", [False, True])
def test_one_cycle_steps_to_total_steps_and_refuses_one_more_as_torch(total_steps, three_phase):
    opt, topt = ds_optimizer(), torch_optimizer()
    options = dict(max_lr=0.5, total_steps=total_steps, three_phase=three_phase)
    scheduler = sched.OneCycleLR(opt, **options)
    tscheduler = torch.optim.lr_scheduler.OneCycleLR(topt, **options)
    step_both(opt, scheduler, topt, tscheduler, total_steps)
    with pytest.raises(ValueError, match="total steps is"):
        tscheduler.step()
    with pytest.raises(ValueError, match=f"tried to step {total_steps + 1} times.*total_steps"):
        scheduler.step()


@pytest.mark.parametrize("options", [dict(T_0=4), dict(T_0=3, T_mult=2, eta_min=0.01)])
def test_warm_restarts_jumps_to_fractional_epochs_as_torch(options):
    """PyTorch's ``scheduler.step(epoch + i / iters)``, with the epoch by keyword."""
    opt, topt = ds_optimizer(), torch_optimizer()
    scheduler = sched.CosineAnnealingWarmRestarts(opt, **options)
    tscheduler = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(topt, **options)
    for epoch in [0.5, 1.25, 3.0, 3.5, 7.75, 9.0, 20.5, 2.0, 45.0]:
        scheduler.step(epoch=epoch)
        tscheduler.step(epoch)
        np.testing.assert_allclose(
            scheduler.get_last_lr(), tscheduler.get_last_lr(), rtol=1e-12, atol=1e-12
        )
        assert (scheduler.T_cur, scheduler.T_i) == (tscheduler.T_cur, tscheduler.T_i)
        assert scheduler.last_epoch == tscheduler.last_epoch
    step_both(opt, scheduler, topt, tscheduler, 10)


@pytest.mark.parametrize("options, falling", [pytest.param(*r[1:], id=r[0]) for r in PLATEAU])
def test_reduce_on_plateau_follows_torch(options, falling):
    opt, topt = ds_optimizer(), torch_optimizer()
    scheduler = sched.ReduceLROnPlateau(opt, **options)
    tscheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **options)
    metric = [m if falling else 2.0 - m for m in METRIC]
    step_both(opt, scheduler, topt, tscheduler, len(METRIC), metric)
    assert scheduler.get_last_lr() != list(LRS), "the lr never changed"
    assert scheduler.best == tscheduler.best


def resume(make, steps_before: int, steps_after: int, metric=None, kind="sgd", tmp_path=None):
    """Run, save, rebuild both objects from the saved dicts, and run both on; with
    ``tmp_path`` the scheduler's state goes through a ds.save checkpoint on the way."""
    opt = ds_optimizer(kind=kind)
    scheduler = make(opt)
    for k in range(steps_before):
        opt.step()
        scheduler.step() if metric is None else scheduler.step(metric[k])
    saved_opt, saved = opt.state_dict(), scheduler.state_dict()
    assert_plain(saved_opt)
    assert_plain(saved)
    if tmp_path is not None:
        ds.save({"optimizer": saved_opt, "scheduler": saved}, tmp_path / "ckpt.safetensors")
        loaded = ds.load(tmp_path / "ckpt.safetensors")
        assert loaded["scheduler"] == saved
        saved_opt, saved = loaded["optimizer"], loaded["scheduler"]
    # PyTorch's order: build both, then load both (a scheduler built on a loaded optimizer
    # would take its first step again from the loaded lrs, in PyTorch as here)
    fresh_opt = ds_optimizer(lrs=(7.0, 7.0), kind=kind)
    fresh = make(fresh_opt)
    fresh_opt.load_state_dict(saved_opt)
    fresh.load_state_dict(saved)
    for k in range(steps_before, steps_before + steps_after):
        for o, s in ((opt, scheduler), (fresh_opt, fresh)):
            o.step()
            s.step() if metric is None else s.step(metric[k])
        assert fresh.get_last_lr() == scheduler.get_last_lr(), f"step {k}"
        assert [g["lr"] for g in fresh_opt.param_groups] == [g["lr"] for g in opt.param_groups]
        assert momenta(fresh_opt) == momenta(opt), f"step {k}"
    assert getattr(fresh, "last_epoch", None) == getattr(scheduler, "last_epoch", None)
    return saved


@pytest.mark.parametrize("kind, steps, make", ROWS)
def test_state_dict_round_trip_resumes_identically(kind, steps, make, tmp_path):
    before = steps // 2 - 3  # mid-way, off any round number
    saved = resume(lambda opt: make(sched, opt), before, steps - before, kind=kind)
    assert saved["last_epoch"] == before
    assert "optimizer" not in saved and "lr_lambdas" not in saved
    resume(lambda opt: make(sched, opt), before, steps - before, kind=kind, tmp_path=tmp_path)


@pytest.mark.parametrize("options, falling", [pytest.param(*r[1:], id=r[0]) for r in PLATEAU])
def test_reduce_on_plateau_state_dict_round_trip(options, falling):
    metric = [m if falling else 2.0 - m for m in METRIC]
    saved = resume(lambda opt: sched.ReduceLROnPlateau(opt, **options), 20, 30, metric)
    assert saved["num_bad_epochs"] >= 0 and saved["mode"] == options.get("mode", "min")


def test_scheduler_state_matches_torch_keys():
    opt, topt = ds_optimizer(), torch_optimizer()
    ours = sched.CosineAnnealingLR(opt, T_max=5).state_dict()
    theirs = torch.optim.lr_scheduler.CosineAnnealingLR(topt, T_max=5).state_dict()
    for key in ("T_max", "eta_min", "base_lrs", "last_epoch", "_step_count", "_last_lr"):
        assert ours[key] == theirs[key], key
    assert opt.param_groups[0]["initial_lr"] == topt.param_groups[0]["initial_lr"] == 0.1


def test_scheduler_errors():
    opt = ds_optimizer()
    with pytest.raises(KeyError, match="initial_lr"):
        sched.StepLR(opt, step_size=2, last_epoch=3)
    with pytest.raises(ValueError, match="step_size"):
        sched.StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="T_max"):
        sched.CosineAnnealingLR(opt, T_max=0)
    with pytest.raises(ValueError, match="factor should be < 1.0"):
        sched.ReduceLROnPlateau(opt, factor=1.5)
    with pytest.raises(ValueError, match="mode"):
        sched.ReduceLROnPlateau(opt, mode="lowest")
    with pytest.raises(ValueError, match="expected 2 min_lrs"):
        sched.ReduceLROnPlateau(opt, min_lr=[0.1])
    with pytest.raises(ValueError, match="expected 2 lr_lambdas"):
        sched.LambdaLR(opt, lr_lambda=[inverse])
    with pytest.raises(TypeError, match="not an Optimizer"):
        sched.ExponentialLR(torch_optimizer(), gamma=0.5)
    decaying = optim.SGD([ds.zeros(2)], lr=sched.ExponentialDecay(0.1, 10, 0.5))
    with pytest.raises(TypeError, match="lr is a schedule"):
        sched.ExponentialLR(decaying, gamma=0.5)


def other_optimizer(lib):
    return optimizer_of(lib)


def adagrad(lib):
    if lib is sched:
        return optim.Adagrad([ds.zeros(2, requires_grad=True)], lr=0.1)
    return torch.optim.Adagrad([torch.zeros(2, requires_grad=True)], lr=0.1)


# (id, make(lib, optimizer), our error and message, PyTorch's error or None where it accepts)
BAD = [
    (
        "multistep-fraction",
        simple("MultiStepLR", milestones=[2.5]),
        (ValueError, "milestone must be an integer"),
        None,
    ),
    (
        "multistep-gamma",
        simple("MultiStepLR", milestones=[2], gamma=-0.5),
        (ValueError, "gamma"),
        None,
    ),
    (
        "constant-factor-big",
        simple("ConstantLR", factor=1.5),
        (ValueError, r"factor must be in \(0, 1\]"),
        ValueError,
    ),
    (
        "constant-factor-negative",
        simple("ConstantLR", factor=-0.1),
        (ValueError, "factor"),
        ValueError,
    ),
    ("constant-factor-zero", simple("ConstantLR", factor=0.0), (ValueError, "divided by it"), None),
    (
        "constant-total-iters",
        simple("ConstantLR", total_iters=-1),
        (ValueError, "total_iters must be an integer >= 0"),
        None,
    ),
    (
        "linear-start-zero",
        simple("LinearLR", start_factor=0.0),
        (ValueError, "start_factor must be greater than 0"),
        ValueError,
    ),
    (
        "linear-start-big",
        simple("LinearLR", start_factor=1.5),
        (ValueError, "start_factor"),
        ValueError,
    ),
    (
        "linear-end-big",
        simple("LinearLR", end_factor=1.5),
        (ValueError, r"end_factor must be in \[0, 1\]"),
        ValueError,
    ),
    (
        "linear-end-negative",
        simple("LinearLR", end_factor=-0.5),
        (ValueError, "end_factor"),
        ValueError,
    ),
    (
        "linear-string",
        simple("LinearLR", start_factor="0.5"),
        (TypeError, "start_factor=0.5"),
        TypeError,
    ),
    (
        "polynomial-total-iters",
        simple("PolynomialLR", total_iters=-2),
        (ValueError, "total_iters"),
        None,
    ),
    (
        "restarts-T_0-zero",
        simple("CosineAnnealingWarmRestarts", T_0=0),
        (ValueError, "T_0 must be an integer >= 1"),
        ValueError,
    ),
    (
        "restarts-T_0-float",
        simple("CosineAnnealingWarmRestarts", T_0=2.0),
        (ValueError, "T_0"),
        ValueError,
    ),
    (
        "restarts-T_mult-zero",
        simple("CosineAnnealingWarmRestarts", T_0=2, T_mult=0),
        (ValueError, "T_mult"),
        ValueError,
    ),
    (
        "restarts-T_mult-float",
        simple("CosineAnnealingWarmRestarts", T_0=2, T_mult=1.5),
        (ValueError, "T_mult"),
        ValueError,
    ),
    (
        "restarts-eta_min",
        simple("CosineAnnealingWarmRestarts", T_0=2, eta_min="0"),
        (ValueError, "eta_min must be a number"),
        ValueError,
    ),
    (
        "onecycle-no-length",
        simple("OneCycleLR", max_lr=0.1),
        (ValueError, "either total_steps OR"),
        ValueError,
    ),
    (
        "onecycle-epochs-only",
        simple("OneCycleLR", max_lr=0.1, epochs=3),
        (ValueError, "steps_per_epoch"),
        ValueError,
    ),
    (
        "onecycle-total-zero",
        simple("OneCycleLR", max_lr=0.1, total_steps=0),
        (ValueError, "total_steps must be an integer >= 1"),
        ValueError,
    ),
    (
        "onecycle-total-float",
        simple("OneCycleLR", max_lr=0.1, total_steps=10.0),
        (ValueError, "total_steps"),
        ValueError,
    ),
    (
        "onecycle-epochs-zero",
        simple("OneCycleLR", max_lr=0.1, epochs=0, steps_per_epoch=3),
        (ValueError, "epochs"),
        ValueError,
    ),
    (
        "onecycle-steps-negative",
        simple("OneCycleLR", max_lr=0.1, epochs=2, steps_per_epoch=-3),
        (ValueError, "steps_per_epoch"),
        ValueError,
    ),
    (
        "onecycle-pct-big",
        simple("OneCycleLR", max_lr=0.1, total_steps=10, pct_start=1.5),
        (ValueError, "pct_start must be between 0 and 1"),
        ValueError,
    ),
    (
        "onecycle-pct-int",
        simple("OneCycleLR", max_lr=0.1, total_steps=10, pct_start=1),
        (ValueError, "pct_start must be a float"),
        ValueError,
    ),
    (
        "onecycle-anneal",
        simple("OneCycleLR", max_lr=0.1, total_steps=10, anneal_strategy="exp"),
        (ValueError, "'cos' or 'linear'"),
        ValueError,
    ),
    (
        "onecycle-max-lrs",
        simple("OneCycleLR", max_lr=[0.1], total_steps=10),
        (ValueError, "max_lr has 1 values, param_groups has 2"),
        ValueError,
    ),
    (
        "onecycle-momentums",
        simple("OneCycleLR", max_lr=0.1, total_steps=10, base_momentum=[0.8, 0.8, 0.8]),
        (ValueError, "base_momentum has 3 values"),
        ValueError,
    ),
    (
        "onecycle-no-momentum",
        lambda lib, opt: lib.OneCycleLR(adagrad(lib), max_lr=0.1, total_steps=10),
        (ValueError, "cycle_momentum=False"),
        ValueError,
    ),
    (
        "onecycle-div-zero",
        simple("OneCycleLR", max_lr=0.1, total_steps=10, div_factor=0.0),
        (ValueError, "div_factor must be > 0"),
        ZeroDivisionError,
    ),
    (
        "onecycle-empty-phase",
        simple("OneCycleLR", max_lr=0.1, total_steps=10, pct_start=0.1),
        (ValueError, "phase 1 of the cycle has no length"),
        ZeroDivisionError,
    ),
    (
        "sequential-empty",
        lambda lib, opt: lib.SequentialLR(opt, [], []),
        (ValueError, "at least one scheduler"),
        ValueError,
    ),
    (
        "sequential-milestones",
        sequence([3, 6], *WARMUP_COSINE),
        (ValueError, "one more than the number of milestone"),
        ValueError,
    ),
    (
        "sequential-other-optimizer",
        lambda lib, opt: lib.SequentialLR(opt, [lib.StepLR(other_optimizer(lib), 2)], []),
        (ValueError, "same optimizer"),
        ValueError,
    ),
    (
        "sequential-plateau",
        lambda lib, opt: lib.SequentialLR(opt, [lib.ReduceLROnPlateau(opt)], []),
        (ValueError, "ReduceLROnPlateau"),
        ValueError,
    ),
    (
        "sequential-not-a-scheduler",
        lambda lib, opt: lib.SequentialLR(opt, [opt], []),
        (TypeError, "not an LRScheduler"),
        TypeError,
    ),
]


@pytest.mark.parametrize("make, ours, theirs", [pytest.param(*r[1:], id=r[0]) for r in BAD])
def test_bad_arguments_raise_where_torch_does(make, ours, theirs):
    """Our error says what is wrong; PyTorch raises the same type (or accepts, or breaks on
    a division by zero that ours names before it happens)."""
    error, message = ours
    with pytest.raises(error, match=message):
        make(sched, ds_optimizer())
    if theirs is None:
        make(torch.optim.lr_scheduler, torch_optimizer())
    else:
        with pytest.raises(theirs):
            make(torch.optim.lr_scheduler, torch_optimizer())


def test_sequential_state_dict_needs_the_same_schedulers():
    scheduler = sequence([5], *WARMUP_COSINE)(sched, ds_optimizer())
    saved = scheduler.state_dict()
    assert [s["start_factor"] for s in saved["_schedulers"][:1]] == [0.1]
    single = sched.SequentialLR(scheduler.optimizer, [sched.StepLR(scheduler.optimizer, 2)], [])
    with pytest.raises(ValueError, match="holds 2 schedulers, this one runs 1"):
        single.load_state_dict(saved)


# ---- ExponentialDecay (TensorFlow) ------------------------------------------------------------


@pytest.mark.parametrize("staircase", [False, True])
def test_exponential_decay_is_tensorflow_formula(staircase):
    schedule = sched.ExponentialDecay(0.1, decay_steps=7, decay_rate=0.5, staircase=staircase)
    for step in range(60):
        exponent = math.floor(step / 7) if staircase else step / 7
        assert schedule(step) == pytest.approx(0.1 * 0.5**exponent, rel=1e-15)
    assert (schedule(13) == 0.1 * 0.5) is staircase


@pytest.mark.parametrize("staircase", [False, True])
@pytest.mark.parametrize("verb", ["apply_gradients", "step"])
def test_exponential_decay_drives_an_optimizer(staircase, verb):
    """The update at global_step k uses lr(k), k read before it is incremented."""
    w = ds.zeros(3, dtype=ds.float64, requires_grad=True)
    schedule = sched.ExponentialDecay(0.2, decay_steps=3, decay_rate=0.6, staircase=staircase)
    opt = optim.GradientDescent([w], lr=schedule)
    g = np.array([1.0, -2.0, 0.5])
    for k in range(12):
        before = w.numpy().copy()
        if verb == "step":
            w.grad = ds.tensor(g, dtype=ds.float64)
            opt.step()
        else:
            assert opt.apply_gradients([(ds.tensor(g, dtype=ds.float64), w)]) == k + 1
        exponent = (k // 3) if staircase else k / 3
        lr_k = 0.2 * 0.6**exponent
        np.testing.assert_allclose(before - w.numpy(), lr_k * g, rtol=1e-12)
    assert opt.global_step == 12
    assert opt.param_groups[0]["lr"] is schedule


def test_exponential_decay_keeps_float32():
    w = ds.zeros(3, requires_grad=True)
    opt = optim.Adam([w], lr=sched.ExponentialDecay(np.float64(0.1), 5, np.float64(0.9)))
    for _ in range(3):
        opt.apply_gradients([(np.ones(3), w)])
    assert w.numpy().dtype == np.float32 and opt.state[w]["exp_avg"].dtype == np.float32


def test_exponential_decay_config_and_optimizer_state_dict():
    schedule = sched.ExponentialDecay(0.1, decay_steps=4, decay_rate=0.5, staircase=True)
    config = schedule.get_config()
    assert config == {
        "initial_learning_rate": 0.1,
        "decay_steps": 4,
        "decay_rate": 0.5,
        "staircase": True,
    }
    assert schedule.state_dict() == config
    copy = sched.ExponentialDecay.from_config(config)
    assert [copy(k) for k in range(20)] == [schedule(k) for k in range(20)]
    copy.load_state_dict({**config, "decay_rate": 0.25})
    assert copy(4) == 0.025

    w = ds.zeros(2, dtype=ds.float64, requires_grad=True)
    opt = optim.SGD([w], lr=schedule, momentum=0.9)
    for _ in range(5):
        opt.apply_gradients([(np.ones(2), w)])
    saved = opt.state_dict()
    assert_plain(saved)
    assert saved["param_groups"][0]["lr"] == {"schedule": "ExponentialDecay", "config": config}
    w2 = ds.tensor(w.numpy(), dtype=ds.float64, requires_grad=True)
    fresh = optim.SGD([w2], lr=0.5, momentum=0.9)  # a number: the schedule is rebuilt
    fresh.load_state_dict(saved)
    assert isinstance(fresh.param_groups[0]["lr"], sched.ExponentialDecay)
    for _ in range(6):
        opt.apply_gradients([(np.ones(2), w)])
        fresh.apply_gradients([(np.ones(2), w2)])
    np.testing.assert_array_equal(w.numpy(), w2.numpy())


def test_exponential_decay_validates():
    with pytest.raises(ValueError, match="decay_steps"):
        sched.ExponentialDecay(0.1, decay_steps=0, decay_rate=0.5)
    with pytest.raises(ValueError, match="initial_learning_rate"):
        sched.ExponentialDecay(-0.1, decay_steps=10, decay_rate=0.5)


def test_a_positional_step_argument_is_pytorch_s_epoch():
    # torch: scheduler.step(epoch) jumps by the closed form (deprecated there), and
    # CosineAnnealingWarmRestarts' per-batch step(epoch + i / iters) is the documented use
    opt, topt = ds_optimizer(), torch_optimizer()
    warm = sched.CosineAnnealingWarmRestarts(opt, T_0=3)
    twarm = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(topt, T_0=3)
    for e in [0.25, 0.5, 1.75, 3.5, 7.0]:
        warm.step(e)
        twarm.step(e)
        assert warm.get_last_lr() == pytest.approx(twarm.get_last_lr(), rel=1e-12)
    step = sched.StepLR(ds_optimizer(), step_size=2, gamma=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns that the epoch argument is deprecated
        tstep = torch.optim.lr_scheduler.StepLR(torch_optimizer(), step_size=2, gamma=0.5)
        step.step(5)
        tstep.step(5)
    assert step.get_last_lr() == pytest.approx(tstep.get_last_lr(), rel=1e-12)


def chain(*parts):
    """A ChainedScheduler of (name, options) parts, in either library."""
    return lambda lib, opt: lib.ChainedScheduler(
        [getattr(lib, name)(opt, **options) for name, options in parts]
    )


# (id, optimizer, steps, make), as TABLE: every scheduler of the chain steps each time
CHAINS = [
    ("warmup-times-decay", "sgd", 40, chain(*WARMUP_COSINE)),
    ("three", "sgd", 40, chain(*THREE)),
    ("decays", "adam", 40, chain(*DECAYS)),
    (
        "multiplicative-step",
        "sgd",
        35,
        chain(("MultiplicativeLR", dict(lr_lambda=wobble)), ("StepLR", dict(step_size=5))),
    ),
    (
        "cyclic-then-exponential",
        "sgd",
        40,
        chain(
            ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=4)),
            ("ExponentialLR", dict(gamma=0.9)),
        ),
    ),
]
CHAIN_ROWS = [pytest.param(*row[1:], id=row[0]) for row in CHAINS]


@pytest.mark.parametrize("kind, steps, make", CHAIN_ROWS)
def test_chained_scheduler_follows_torch(kind, steps, make):
    opt, topt = ds_optimizer(kind=kind), torch_optimizer(kind=kind)
    scheduler, tscheduler = make(sched, opt), make(torch.optim.lr_scheduler, topt)
    assert scheduler.get_last_lr() == pytest.approx(tscheduler.get_last_lr(), rel=1e-12)
    start = scheduler.get_last_lr()
    step_both(opt, scheduler, topt, tscheduler, steps)
    assert scheduler.get_last_lr() != start, "the lr never changed"


@pytest.mark.parametrize("kind, steps, make", CHAIN_ROWS)
def test_chained_scheduler_state_dict_round_trip_and_metrics(kind, steps, make, tmp_path):
    saved = resume(lambda opt: make(sched, opt), 11, steps - 11, kind=kind, tmp_path=tmp_path)
    assert [s["last_epoch"] for s in saved["_schedulers"]] == [11] * len(saved["_schedulers"])
    opt, opt_metric = ds_optimizer(kind=kind), ds_optimizer(kind=kind)
    scheduler, with_metric = make(sched, opt), make(sched, opt_metric)
    for k in range(20):
        scheduler.step()
        with_metric.step(metrics=METRIC[k])
        assert with_metric.get_last_lr() == scheduler.get_last_lr()


def test_chained_scheduler_refuses_what_torch_refuses():
    opt = ds_optimizer()
    with pytest.raises(ValueError, match="at least one scheduler"):
        sched.ChainedScheduler([])
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        sched.ChainedScheduler([sched.ReduceLROnPlateau(opt)])
    with pytest.raises(ValueError, match="same optimizer"):
        sched.ChainedScheduler([sched.StepLR(opt, 2), sched.StepLR(ds_optimizer(), 2)])
    with pytest.raises(ValueError, match="mode is invalid"):
        sched.CyclicLR(opt, 0.01, 0.1, mode="square")
    with pytest.raises(ValueError, match="momentum or beta1"):
        sched.CyclicLR(adagrad(sched), 0.01, 0.1)
    with pytest.raises(TypeError, match="should be a function"):
        sched.MultiplicativeLR(opt, lr_lambda=[shrink, 0.9])


@pytest.mark.parametrize(
    "build,error,match",
    [
        (
            lambda o: sched.ReduceLROnPlateau(o, factor="0.5"),
            TypeError,
            r"factor must be a number.*factor=0.5",
        ),
        (
            lambda o: sched.ReduceLROnPlateau(o, patience=1.5),
            ValueError,
            "patience must be an integer >= 0",
        ),
        (lambda o: sched.ReduceLROnPlateau(o, min_lr=None), TypeError, "min_lr must be a number"),
        (
            lambda o: sched.CosineAnnealingLR(o, T_max="x"),
            ValueError,
            "T_max must be an integer >= 1",
        ),
        (
            lambda o: sched.CosineAnnealingLR(o, T_max=10, eta_min=None),
            TypeError,
            "eta_min must be a number",
        ),
    ],
)
def test_plateau_and_cosine_arguments_are_checked_when_built(build, error, match):
    opt = ds.optim.SGD([ds.nn.Parameter(ds.ones(1))], lr=0.1)
    with pytest.raises(error, match=match):
        build(opt)
