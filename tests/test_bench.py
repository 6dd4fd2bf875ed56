"""descent.bench: the three implementations of each workload agree, and the runner reports.

Nothing here is timed: these are smoke tests on tiny settings (one round, short blocks).
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import json
import os
import sys

import numpy as np
import pytest

import descent as ds
from descent.bench import command, environment, fresh, runner, sweep, table
from descent.bench import fit_digits as fd
from descent.bench import workloads as wl
from descent.bench.environment import blas_warnings
from descent.bench.problems import chain_problem
from descent.bench.settings import FitSettings, Settings
from descent.bench.steps import to_numpy
from descent.bench.timing import time_workload

HAS_TORCH = importlib.util.find_spec("torch") is not None
HAS_SKLEARN = importlib.util.find_spec("sklearn") is not None
HAS_JAX = importlib.util.find_spec("jax") is not None
FRAMEWORKS = ["descent", "numpy"] + (["torch"] if HAS_TORCH else []) + (["jax"] if HAS_JAX else [])


def _one_step(workload: wl.Workload) -> dict:
    """{framework: (output, state before, state after)} for one step from the same problem."""
    problem = workload.make_problem()
    done = {}
    for fw in FRAMEWORKS:
        if fw not in workload.builders:  # a workload may have no step for a peer
            continue
        impl = workload.builders[fw](problem)
        before = impl.state()
        out = to_numpy(impl.step())
        done[fw] = (out, before, impl.state())
    return done


@pytest.mark.parametrize("name", [n for n in wl.WORKLOADS if n != "ops-tiny"])
def test_training_step_same_loss_and_update(name):
    done = _one_step(wl.WORKLOADS[name])
    ref_loss, ref_before, ref_after = done["numpy"]
    ref_updates = [a - b for a, b in zip(ref_after, ref_before)]
    assert max(np.abs(u).max() for u in ref_updates) > 0, "the step changed no weight"
    for fw in done:
        loss, before, after = done[fw]
        np.testing.assert_allclose(loss, ref_loss, rtol=1e-5, err_msg=f"{name} {fw} loss")
        for i, (b, a, ref_b, ref_u) in enumerate(zip(before, after, ref_before, ref_updates)):
            assert a.dtype == np.float32, f"{name} {fw} parameter {i} is {a.dtype}"
            np.testing.assert_array_equal(b, ref_b)  # the same starting weights
            scale = np.abs(ref_u).max()
            np.testing.assert_allclose(
                a - b, ref_u, rtol=1e-3, atol=1e-3 * scale, err_msg=f"{name} {fw} update {i}"
            )


def test_ops_tiny_same_output_and_gradient():
    done = _one_step(wl.WORKLOADS["ops-tiny"])
    ref_out, _, (ref_grad,) = done["numpy"]
    assert np.abs(ref_grad).max() > 0
    assert set(done) == set(FRAMEWORKS)
    for fw in done:
        out, _, (grad,) = done[fw]
        np.testing.assert_allclose(out, ref_out, rtol=1e-5, atol=1e-6, err_msg=fw)
        np.testing.assert_allclose(grad, ref_grad, rtol=1e-4, atol=1e-7, err_msg=fw)


def test_every_workload_of_the_speed_goals_has_a_jax_and_a_compiled_step():
    for name in ("mlp-b32", "mlp-b128", "mlp-b1024", "cnn-b64", "ops-tiny", "tiny-mlp"):
        builders = wl.WORKLOADS[name].builders
        assert {"descent", "compiled", "torch", "jax", "numpy"} <= set(builders), name


def test_chain_problem_has_200_ops_with_tanh_every_10th():
    kinds = chain_problem().kinds
    assert len(kinds) == 200
    assert [i for i, k in enumerate(kinds) if k == "tanh"] == list(range(9, 200, 10))
    assert set(kinds) == {"mul", "add", "tanh"}


def test_numpy_reference_takes_repeated_steps_like_descent():
    workload = wl.WORKLOADS["cnn-b64"]
    problem = workload.make_problem()
    ours, ref = workload.builders["descent"](problem), workload.builders["numpy"](problem)
    for _ in range(3):
        np.testing.assert_allclose(float(ours.step()), ref.step(), rtol=1e-5)
    for a, b in zip(ours.state(), ref.state()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


# ---- fit-digits --------------------------------------------------------------------------------


@pytest.mark.skipif(not HAS_SKLEARN, reason="fit-digits needs scikit-learn")
def test_fit_digits_sklearn_side_learns():
    data = fd.digits_split(0)
    assert len(data[0]) + len(data[1]) == 1797
    seconds, accuracy, epochs = fd.fit_sklearn(data, FitSettings(epochs=10))
    assert seconds > 0
    assert 0.5 < accuracy <= 1.0  # chance is 0.1
    assert epochs == 10


@pytest.mark.skipif(not HAS_SKLEARN, reason="fit-digits needs scikit-learn")
def test_fit_digits_descent_side_or_clear_na():
    data = fd.digits_split(0)
    try:
        from descent.models import MLPClassifier  # noqa: F401
    except ImportError:  # not written yet: the row must say so
        with pytest.raises(fd.MissingModelError, match=r"descent\.models.* missing"):
            fd.fit_descent(data, FitSettings(epochs=2))
    else:
        seconds, accuracy, epochs = fd.fit_descent(data, FitSettings(epochs=10))
        assert seconds > 0 and 0.5 < accuracy <= 1.0
        assert epochs in (None, 10)


def test_descent_classifier_options_map_the_settings():
    class SklearnNames:
        def __init__(self, hidden_layer_sizes=(), batch_size=1, max_iter=1, solver="sgd",
                     learning_rate_init=0.1, early_stopping=True, n_iter_no_change=10,
                     random_state=None):  # fmt: skip
            pass

    class ShortNames:
        def __init__(self, hidden=(), epochs=1, batch_size=1, lr=0.1, seed=None):
            pass

    class NoEpochs:
        def __init__(self, hidden=(), batch_size=1):
            pass

    settings = FitSettings()
    options = fd.descent_classifier_options(SklearnNames, settings)
    assert options == {
        "hidden_layer_sizes": (100,), "batch_size": 200, "max_iter": 30, "solver": "adam",
        "learning_rate_init": 1e-3, "early_stopping": False, "n_iter_no_change": 31,
        "random_state": 0,
    }  # fmt: skip
    options = fd.descent_classifier_options(ShortNames, settings)
    assert options == {"hidden": (100,), "epochs": 30, "batch_size": 200, "lr": 1e-3, "seed": 0}
    assert set(options) <= set(inspect.signature(ShortNames).parameters)
    with pytest.raises(fd.MissingModelError, match="max_iter"):
        fd.descent_classifier_options(NoEpochs, settings)


# ---- the runner ----------------------------------------------------------------------------------


def _parse(argv: list) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="descent bench")
    command.add_arguments(parser)
    return parser.parse_args(argv)


def test_command_prints_table_and_writes_json(tmp_path, capsys):
    path = tmp_path / "bench.json"
    names = "ops-tiny,tiny-mlp,fit-digits,import-time"
    args = _parse(["--quick", "--repeat", "1", "--workloads", names, "--json", str(path)])
    assert command.main(args) == 0
    table = capsys.readouterr().out
    for text in ("NumPy BLAS", "threads", "Python", "NumPy", "PyTorch", "JAX", "descent", "machine",
                 "ops-tiny", "us/op", "tiny-mlp", "ms/step", "desc/torch", "desc/numpy",
                 "fit-digits", "import descent", "targets", "<= 0.5"):  # fmt: skip
        assert text in table, text

    data = json.loads(path.read_text())
    assert data["schema"] == runner.SCHEMA
    env = data["environment"]
    for key in ("date", "platform", "cpu", "cores", "python", "numpy", "torch", "descent",
                "threads", "numpy_blas", "load_average"):  # fmt: skip
        assert key in env, key
    assert env["threads"] == 2
    assert {"internal_api", "version", "architecture", "num_threads"} <= set(env["numpy_blas"])
    assert data["settings"]["repeat"] == 1
    rows = {w["name"]: w for w in data["workloads"]}
    assert set(rows) == {"ops-tiny", "tiny-mlp"}
    for row in rows.values():
        assert set(row["median"]) == {"descent", "compiled", "torch", "jax", "numpy"}
        assert row["median"]["descent"] > 0 and row["median"]["numpy"] > 0
        assert len(row["samples"]["descent"]) == 1
        assert {"descent/torch", "descent/jax", "descent/numpy", "compiled/jax"} <= set(
            row["ratios"]
        )
        assert row["ratios"]["descent/numpy"] == pytest.approx(
            row["median"]["descent"] / row["median"]["numpy"]
        )
        if HAS_JAX:
            assert row["median"]["jax"] > 0 and row["status"]["jax"] == "ok"
            assert row["ratios"]["descent/jax"] == pytest.approx(
                row["median"]["descent"] / row["median"]["jax"]
            )
    assert rows["ops-tiny"]["unit"] == "us/op"
    if HAS_TORCH:
        assert rows["ops-tiny"]["ratios"]["descent/torch"] > 0
    if HAS_JAX:
        assert "desc/jax" in table and env["jax"]
    fit = data["fit_digits"]
    assert fit["settings"]["epochs"] == 3
    assert fit["settings"]["seeds"] == [0, 1, 2, 3, 4]
    if HAS_SKLEARN:
        assert fit["seconds"]["sklearn"] > 0 and 0 < fit["accuracy"]["sklearn"] <= 1
        by_seed = fit["accuracy_by_seed"]["sklearn"]
        assert len(by_seed) == 5 and len(set(by_seed)) > 1  # each seed its own split
        assert fit["accuracy"]["sklearn"] == pytest.approx(sum(by_seed) / 5)
        rounds = data["settings"]["fit_repeat"]
        assert len(fit["samples"]["sklearn"]) == 5 * rounds  # each round fits all five seeds
    assert data["import_time"]["seconds"] > 0
    assert data["peak_memory"] is None
    measures = {(t["workload"], t["measure"]) for t in data["targets"]}
    assert ("ops-tiny", "descent/torch") in measures and ("import-time", "seconds") in measures
    assert all(t["passed"] in (True, False, None) for t in data["targets"])


def test_torch_missing_gives_na_columns():
    settings = Settings.quick(["ops-tiny"], repeat=1)
    row = time_workload(wl.WORKLOADS["ops-tiny"], settings, torch_ok=False)
    assert row["median"]["torch"] is None and row["ratios"]["descent/torch"] is None
    assert row["status"]["torch"] == "n/a (torch not installed)"
    assert row["median"]["descent"] > 0
    assert "n/a" in table._step_table([row])


def test_peak_memory_in_fresh_processes():
    settings = Settings.quick(repeat=1)
    mem = fresh.measure_peak_memory(settings, "mlp-b128", frameworks=("descent", "numpy"))
    assert mem["status"] == {"descent": "ok", "torch": "not measured", "numpy": "ok"}
    assert 10 < mem["mib"]["numpy"] < mem["mib"]["descent"] < 1000  # descent loads more
    assert mem["ratios"]["descent/torch"] is None


def test_slow_blas_variables_are_warned_about():
    assert blas_warnings({}) == []
    warnings = blas_warnings({"OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_L2_SIZE": "1"})
    assert len(warnings) == 2 and "OPENBLAS_CORETYPE=Haswell" in warnings[0]


def test_unknown_workload_is_a_usage_error():
    with pytest.raises(SystemExit):
        _parse(["--workloads", "mlp-b128,nope"])
    assert _parse(["--workloads", "mlp-b128, cnn-b64"]).workloads == ("mlp-b128", "cnn-b64")


# ---- the JAX and compiled columns, and the sweep -----------------------------------------------


def test_jax_missing_is_a_note_not_a_crash(monkeypatch):
    monkeypatch.setitem(sys.modules, "jax", None)  # `import jax` now raises ImportError
    assert environment.jax_module() is None
    results = runner.run(Settings.quick(["ops-tiny"], repeat=1))
    (row,) = results["workloads"]
    assert row["status"]["jax"].startswith("n/a (jax not installed")
    assert row["median"]["jax"] is None and row["ratios"]["descent/jax"] is None
    assert row["median"]["descent"] > 0
    shown = table.render(results)
    assert "jax (ops-tiny): n/a (jax not installed" in shown
    assert "desc/jax" in shown and "n/a" in shown.split("desc/jax")[1]


def test_compiled_column_runs_the_step_through_ds_compile(monkeypatch):
    calls = []

    def fake_compile(fn):  # stands for ds.compile: a function with fn's arguments and result
        calls.append(fn)

        def step(*args):
            calls.append(args)
            return fn(*args)

        return step

    monkeypatch.setattr(ds, "compile", fake_compile, raising=False)
    missing = environment.missing_frameworks()
    assert "compiled" not in missing
    settings = Settings.quick(["tiny-mlp"], repeat=1)
    row = time_workload(wl.WORKLOADS["tiny-mlp"], settings, missing=missing)
    assert row["status"]["compiled"] == "ok" and row["median"]["compiled"] > 0
    assert row["ratios"]["compiled/descent"] == pytest.approx(
        row["median"]["compiled"] / row["median"]["descent"]
    )
    assert callable(calls[0]) and len(calls) > 2  # compiled once, then called every step
    assert all(isinstance(c, tuple) and len(c) == 2 for c in calls[1:])  # (x, y)
    shown = table._step_table([row])
    assert "compiled" in shown and "comp/jax" in shown


def test_compiled_column_absent_without_ds_compile(monkeypatch):
    monkeypatch.delattr(ds, "compile", raising=False)
    missing = environment.missing_frameworks()
    assert missing["compiled"].startswith("n/a")
    row = time_workload(wl.WORKLOADS["ops-tiny"], Settings.quick(["ops-tiny"], 1), missing=missing)
    assert row["median"]["compiled"] is None and row["status"]["compiled"] == missing["compiled"]
    head = table._step_table([row]).splitlines()[0]
    assert "descent" in head and "compiled" not in head and "comp/" not in head


@pytest.mark.skipif(getattr(ds, "compile", None) is None, reason="descent has no ds.compile yet")
@pytest.mark.parametrize("name", ["tiny-mlp", "ops-tiny", "cnn-b64"])
def test_compiled_step_equals_eager_bit_for_bit(name):
    workload = wl.WORKLOADS[name]
    problem = workload.make_problem()
    eager, comp = workload.builders["descent"](problem), workload.builders["compiled"](problem)
    for _ in range(3):
        np.testing.assert_array_equal(to_numpy(comp.step()), to_numpy(eager.step()))
    for a, b in zip(comp.state(), eager.state()):
        np.testing.assert_array_equal(a, b)


def test_step_flops_counts_every_matmul_of_the_step():
    # W-W-W-10 at batch N: forward and weight gradient of all three layers, input gradient
    # of the last two: 2 N (W W + W W + W 10) * 2 + 2 N (W W + W 10)
    for n, w in ((1, 16), (8, 64), (128, 1024)):
        assert sweep.step_flops(n, sweep.sizes_of(w)) == 2 * n * (5 * w * w + 30 * w)
    assert sweep.step_flops(2, (3, 5)) == 2 * 2 * 3 * 5 * 2  # one layer: no input gradient


def test_sweep_on_a_tiny_grid_writes_table_and_plot(tmp_path):
    results = sweep.run_sweep(sweep.sweep_settings(quick=True), batches=(1, 4), widths=(8,))
    points = results["points"]
    assert [(p["batch"], p["width"]) for p in points] == [(1, 8), (4, 8)]
    for p in points:
        assert p["median"]["descent"] > 0 and p["median"]["numpy"] > 0
        assert p["flops"] == sweep.step_flops(p["batch"], (8, 8, 8, 10))
        if HAS_JAX:
            assert p["median"]["jax"] > 0
    written, no_plot = sweep.write_sweep(results, tmp_path)
    md = (tmp_path / "sweep.md").read_text()
    rows = [line for line in md.splitlines() if line.startswith("| ")]
    assert rows[0].startswith("| batch | width | MFLOP | descent ms")
    assert ("jax ms" in rows[0]) == HAS_JAX and "descent/numpy" in rows[0]
    assert len(rows) == 1 + len(points)  # the head, then one row per point
    assert rows[2].startswith("| 4 | 8 | ")
    if importlib.util.find_spec("matplotlib") is None:
        assert no_plot and written == [str(tmp_path / "sweep.md")]
    else:
        assert no_plot is None
        assert (tmp_path / "sweep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_sweep_command_quick(tmp_path, capsys):
    path = tmp_path / "sweep.json"
    args = _parse(["--sweep", "--quick", "--sweep-dir", str(tmp_path), "--json", str(path)])
    assert command.main(args) == 0
    out = capsys.readouterr().out
    assert "| 8 | 32 |" in out and "wrote" in out
    data = json.loads(path.read_text())
    assert data["schema"] == sweep.SCHEMA
    grid = [(p["batch"], p["width"]) for p in data["points"]]
    assert grid == [(b, w) for w in sweep.QUICK_WIDTHS for b in sweep.QUICK_BATCHES]
    assert (tmp_path / "sweep.md").exists()


def test_prepare_jax_holds_xla_to_one_thread_only_for_one():
    env = {}
    assert environment.prepare_jax(1, env, modules={}) == "1 (XLA_FLAGS)"
    assert "intra_op_parallelism_threads=1" in env["XLA_FLAGS"] and env["JAX_PLATFORMS"] == "cpu"
    env = {"XLA_FLAGS": "--xla_dump_to=x", "JAX_PLATFORMS": "gpu"}
    environment.prepare_jax(1, env, modules={})
    assert env["XLA_FLAGS"].startswith("--xla_dump_to=x --xla_cpu_multi_thread_eigen=false")
    assert env["JAX_PLATFORMS"] == "gpu"  # the environment's own choice stays
    env = {}
    assert "default" in environment.prepare_jax(2, env, modules={}) and "XLA_FLAGS" not in env
    env = {}  # once jax runs, its flags are fixed: nothing is changed, and the line says so
    assert "imported before" in environment.prepare_jax(1, env, modules={"jax": object()})
    assert env == {}


@pytest.mark.skipif(
    not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2,
    reason="needs CPU affinity and at least two CPUs",
)
def test_pin_cpus_holds_every_thread_to_its_cpus_and_lets_go():
    import threading

    before = os.sched_getaffinity(0)
    seen = {}

    def started_inside():
        seen["thread"] = os.sched_getaffinity(0)

    with environment.pin_cpus(1) as cpus:
        assert len(cpus) == 1 and set(cpus) <= before
        assert os.sched_getaffinity(0) == set(cpus)
        worker = threading.Thread(target=started_inside)
        worker.start()
        worker.join()
    assert seen["thread"] == set(cpus)  # a pool started inside (XLA's) is held too
    assert os.sched_getaffinity(0) == before
    with environment.pin_cpus(len(before)) as cpus:  # as many threads as CPUs: nothing to do
        assert cpus is None and os.sched_getaffinity(0) == before
