"""ds.distributed, DistributedSampler and fit(distributed=True).

The sampler and the errors outside MPI run in this process. The rest runs real MPI jobs
(``mpiexec -n 2`` and ``-n 3`` on this machine's loopback, tests/distributed_job.py and
tests/distributed_ops.py) and compares them with one process: the same weights, history
and test figures, an error on one rank that ends the job, a rank killed with SIGKILL
whose job ends and whose last checkpoint resumes to the uninterrupted run's weights.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import descent as ds
from descent.cli import main
from descent.distributed import comm
from descent.train.parallel import _shares
from tests.distributed_ops import LINEAR, MLP, estimator_data

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def _mpiexec() -> str | None:
    beside = Path(sys.executable).parent / "mpiexec"
    return str(beside) if beside.exists() else shutil.which("mpiexec")


MPIEXEC = _mpiexec()
needs_mpi = pytest.mark.skipif(
    MPIEXEC is None or importlib.util.find_spec("mpi4py") is None,
    reason="the distributed extra is not installed (pip install 'descent[distributed]': "
    "mpi4py and an MPI with its mpiexec)",
)
LAUNCHER_VARIABLES = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "PMI_RANK")


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in LAUNCHER_VARIABLES}
    env.update(
        PYTHONPATH=str(ROOT),
        OMP_NUM_THREADS="1",
        OPENBLAS_NUM_THREADS="1",
        OMPI_ALLOW_RUN_AS_ROOT="1",  # CI runs as root
        OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
        OMPI_MCA_rmaps_base_oversubscribe="1",  # 3 ranks on fewer cores
    )
    return env


def mpirun(n: int, *args, timeout: float = 60) -> subprocess.CompletedProcess:
    """``mpiexec -n n python ARGS`` from the repository's root; its output and status."""
    command = [MPIEXEC, "-n", str(n), "--oversubscribe", PY, *args]
    return subprocess.run(
        command, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=timeout
    )


def one_process(*args) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [PY, *args], cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done


def weights(path: Path, entry: str | None = None) -> dict:
    state = ds.load(path)
    return {k: v.numpy() for k, v in (state if entry is None else state[entry]).items()}


def max_difference(a: dict, b: dict) -> float:
    assert a.keys() == b.keys()
    return max(float(np.abs(a[k] - b[k]).max()) for k in a)


# ---- DistributedSampler -----------------------------------------------------------------


@pytest.mark.parametrize("n, replicas, drop_last", [(10, 3, False), (10, 3, True), (12, 4, False),
                                                    (2, 3, False), (7, 1, True)])  # fmt: skip
def test_sampler_shards_are_disjoint_and_cover_the_epoch(n, replicas, drop_last):
    shards = [
        list(ds.data.DistributedSampler(range(n), replicas, r, seed=5, drop_last=drop_last))
        for r in range(replicas)
    ]
    lengths = {len(s) for s in shards}
    assert len(lengths) == 1  # every rank the same number of steps
    everything = sorted(i for s in shards for i in s)
    if drop_last:
        assert len(set(everything)) == len(everything) == (n // replicas) * replicas
    else:
        assert set(everything) == set(range(n))  # the union is the epoch
        assert len(everything) == -(-n // replicas) * replicas  # padded by repeats
        counts = np.bincount(everything, minlength=n)
        assert counts.max() - counts.min() <= 1 + (replicas > n) * replicas


@pytest.mark.parametrize("n, replicas, drop_last", [(10, 3, False), (10, 3, True), (5, 2, False),
                                                    (2, 3, False), (9, 4, True)])  # fmt: skip
def test_sampler_without_shuffle_is_pytorchs(n, replicas, drop_last):
    torch_data = pytest.importorskip("torch.utils.data")
    for r in range(replicas):
        ours = ds.data.DistributedSampler(range(n), replicas, r, shuffle=False, drop_last=drop_last)
        theirs = torch_data.DistributedSampler(
            range(n), replicas, r, shuffle=False, drop_last=drop_last
        )
        assert list(ours) == list(theirs) and len(ours) == len(theirs)


def test_sampler_set_epoch_draws_a_new_order_that_every_rank_shares():
    def epoch_order(epoch):
        samplers = [ds.data.DistributedSampler(range(20), 2, r, seed=1) for r in range(2)]
        for s in samplers:
            s.set_epoch(epoch)
        a, b = (list(s) for s in samplers)
        order = [i for pair in zip(a, b) for i in pair]  # rank r holds every 2nd from r
        return order

    first, again, second = epoch_order(0), epoch_order(0), epoch_order(1)
    assert sorted(first) == list(range(20)) and first == again and first != second


def test_sampler_in_a_dataloader_gives_a_rank_its_shard():
    data = ds.data.TensorDataset(np.arange(10.0).reshape(10, 1), np.arange(10))
    sampler = ds.data.DistributedSampler(data, num_replicas=2, rank=1, shuffle=False)
    loader = ds.data.DataLoader(data, batch_size=2, sampler=sampler)
    assert [y.tolist() for _, y in loader] == [[1, 3], [5, 7], [9]]


def test_sampler_refuses_a_rank_outside_the_job():
    with pytest.raises(
        ValueError, match=r"Invalid rank 3, rank should be in the interval \[0, 2\]"
    ):
        ds.data.DistributedSampler(range(5), num_replicas=3, rank=3)


@pytest.mark.parametrize("rows, ranks", [(8, 2), (5, 3), (1, 3), (37, 4)])
def test_shares_split_a_batch_into_near_equal_contiguous_parts(rows, ranks):
    bounds = _shares(rows, ranks)
    sizes = np.diff(bounds)
    assert bounds[0] == 0 and bounds[-1] == rows and sizes.max() - sizes.min() <= 1
    assert [len(part) for part in np.array_split(np.arange(rows), ranks)] == sizes.tolist()


# ---- outside MPI ---------------------------------------------------------------------------


@pytest.fixture
def no_job(monkeypatch):
    for name in LAUNCHER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setitem(comm._state, "comm", None)


def test_init_outside_mpi_says_how_to_launch(no_job):
    assert not ds.distributed.launched_by_mpi()
    with pytest.raises(RuntimeError, match=r"not started by an MPI launcher.*mpiexec -n 2"):
        ds.distributed.init()
    with pytest.raises(RuntimeError, match="not started by an MPI launcher"):
        ds.distributed.rank()


def test_fit_distributed_outside_mpi_says_how_to_launch(no_job):
    model = ds.nn.Linear(2, 1)
    opt = ds.optim.SGD(model.parameters(), lr=0.1)
    data = (np.zeros((4, 2), np.float32), np.zeros((4, 1), np.float32))
    with pytest.raises(RuntimeError, match=r"mpiexec -n 2 python script.py"):
        ds.train.fit(model, "mse", opt, data, verbose=0, distributed=True)


def test_descent_train_distributed_outside_mpi_is_a_one_line_usage_error(no_job, capsys):
    assert main(["train", "--dataset", "iris", "--epochs", "1", "--distributed"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("descent train: --distributed trains over the ranks of an MPI job")
    assert "mpiexec -n 2 descent train" in err and len(err.strip().splitlines()) == 1


def test_import_descent_loads_no_mpi():
    code = "import sys, descent; descent.distributed; descent.data; print('mpi4py' in sys.modules)"
    done = subprocess.run([PY, "-c", code], cwd=ROOT, env=_env(), capture_output=True, text=True)
    assert done.stdout.strip() == "False", done.stderr


def test_missing_mpi4py_names_the_extra(no_job, monkeypatch):
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "2")
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # import mpi4py fails
    with pytest.raises(ImportError, match=r"pip install 'descent\[distributed\]'"):
        ds.distributed.init()


# ---- MPI jobs ------------------------------------------------------------------------------


@needs_mpi
@pytest.mark.filterwarnings("ignore:MLPClassifier. stopped at max_iter")
def test_collectives_under_mpiexec(tmp_path):
    done = mpirun(3, "-m", "tests.distributed_ops", str(tmp_path))
    assert done.returncode == 0, done.stderr
    seen = [json.loads((tmp_path / f"rank-{r}.json").read_text()) for r in range(3)]
    assert [s["rank"] for s in seen] == [0, 1, 2]
    assert [s["is_main"] for s in seen] == [True, False, False]
    for s in seen:
        assert s["world_size"] == 3 and s["sampler_replicas"] == [3, s["rank"]]
        assert s["sum"] == [3.0, 3.0] and s["mean"] == [1.0] and s["max"] == [2, 0]
        assert s["broadcast"] == [[10.0, 1.0]]  # rank 1's
        assert "different shapes" in s["shape_error"]
        assert f"rank {s['rank']}: ({s['rank'] + 1},)" in s["shape_error"]
        assert "the ranks' models differ from rank 0's" in s["model_error"]  # all raise
        assert "the DataLoader's seed differs between the ranks" in s["seed_error"]
        assert "op must be one of" in s["op_error"]
        assert s["state"] == seen[0]["state"]  # every rank holds rank 0's weights
        assert s["state"]["1.running_mean"] == [0.0] * 4  # and buffers
    X, y = estimator_data()
    est = ds.models.MLPClassifier(**MLP).fit(X, y)
    reg = ds.models.LinearRegression(**LINEAR).fit(X, X @ [1.0, -2.0, 0.5, 3.0])
    for s in seen:  # the estimators' data-parallel fits are the one-process fits
        np.testing.assert_allclose(s["estimator_proba"], est.predict_proba(X), rtol=0, atol=1e-5)
        np.testing.assert_allclose(s["estimator_loss_curve"], est.loss_curve_, rtol=1e-5)
        np.testing.assert_allclose(s["linear_coef"], reg.coef_, rtol=0, atol=1e-12)
        assert s["unseeded_coef"] == seen[0]["unseeded_coef"]  # one shuffling for all ranks
    shards = [s["sampler"] for s in seen]
    visited = [i for shard in shards for i in shard]
    assert set(visited) == set(range(10)) and all(len(shard) == 4 for shard in shards)
    assert sorted(np.bincount(visited).tolist()) == [1] * 8 + [2] * 2  # 2 padded by repeats


CASES = {
    "2 ranks, float64, shuffled": (2, ["--dtype", "float64"], 1e-12),
    "2 ranks, float64, in order, dropout": (2, ["--shuffle", "0", "--dropout", "0.3"], 1e-12),
    # 37 examples in batches of 4: the last batch has 1 row, so 2 of the 3 ranks get none
    "3 ranks, float64, dropout, uneven": (3, ["--batch-size", "4", "--dropout", "0.3"], 1e-12),
    "3 ranks, float32, dropout": (3, ["--dtype", "float32", "--dropout", "0.3"], 1e-5),
}


@needs_mpi
@pytest.mark.parametrize("case", list(CASES))
def test_distributed_fit_equals_one_process(case, tmp_path):
    ranks, options, tolerance = CASES[case]
    (tmp_path / "one").mkdir()
    (tmp_path / "many").mkdir()
    one = one_process("-m", "tests.distributed_job", str(tmp_path / "one"), *options)
    done = mpirun(ranks, "-m", "tests.distributed_job", str(tmp_path / "many"), "--distributed",
                  *options)  # fmt: skip
    assert done.returncode == 0, done.stderr
    reference = weights(tmp_path / "one" / "weights-0.safetensors")
    expected = json.loads((tmp_path / "one" / "history-0.json").read_text())
    for r in range(ranks):
        mine = weights(tmp_path / "many" / f"weights-{r}.safetensors")
        assert max_difference(mine, reference) <= tolerance, f"rank {r}"
        history = json.loads((tmp_path / "many" / f"history-{r}.json").read_text())
        for name, values in expected.items():  # loss, accuracy, val_loss, ... reduced
            np.testing.assert_allclose(history[name], values, rtol=0, atol=tolerance)
    # only rank 0 prints: each epoch's line once, as one process prints it
    assert done.stdout.count("epoch 3/3") == 1
    assert done.stdout.count("epoch 1/3") == one.stdout.count("epoch 1/3") == 1


@needs_mpi
def test_an_error_on_one_rank_stops_every_rank_and_is_printed_once(tmp_path):
    # example 5 is in the first batch (in order, 8 rows): rows 4-7 are rank 1's
    start = time.perf_counter()
    done = mpirun(2, "-m", "tests.distributed_job", str(tmp_path), "--distributed",
                  "--shuffle", "0", "--bad-row", "5", timeout=60)  # fmt: skip
    assert time.perf_counter() - start < 60  # ended, not hung (the timeout would raise)
    assert done.returncode != 0
    assert done.stderr.count("ValueError: Sequential layer 0 (RefuseNaN): bad data") == 1
    assert "rank 1 of 2 failed, so the job is stopped" in done.stderr
    assert not (tmp_path / "weights-0.safetensors").exists()


@needs_mpi
def test_a_killed_rank_ends_the_job_and_the_checkpoint_resumes_exactly(tmp_path):
    killed, resumed, whole = tmp_path / "killed", tmp_path / "resumed", tmp_path / "whole"
    for folder in (killed, resumed, whole):
        folder.mkdir()
    job = ["-m", "tests.distributed_job"]
    done = mpirun(2, *job, str(killed), "--distributed", "--epochs", "4", "--kill-at-epoch", "3")
    assert done.returncode != 0 and "signal 9" in done.stderr
    assert not (killed / "weights-0.safetensors").exists()
    checkpoint = killed / "ckpt.safetensors"  # written after epoch 2
    assert ds.load(checkpoint)["epoch"] == 2
    done = mpirun(2, *job, str(resumed), "--distributed", "--epochs", "4", "--resume",
                  str(checkpoint))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "epoch 3/4" in done.stdout and "epoch 2/4" not in done.stdout
    one_process(*job, str(whole), "--epochs", "4")
    reference = weights(whole / "weights-0.safetensors")
    for r in range(2):
        assert max_difference(weights(resumed / f"weights-{r}.safetensors"), reference) <= 1e-12


@needs_mpi
def test_descent_train_under_mpiexec_writes_one_run_folder_equal_to_one_process(tmp_path):
    flags = ["train", "--dataset", "iris", "--epochs", "4", "--name", "run", "--seed", "2"]
    done = mpirun(2, "-m", "descent.cli", *flags, "--runs-dir", str(tmp_path / "many"))
    assert done.returncode == 0, done.stderr
    one_process("-m", "descent.cli", *flags, "--runs-dir", str(tmp_path / "one"))
    assert sorted(p.name for p in (tmp_path / "many").iterdir()) == ["run"]  # rank 0's alone
    assert done.stdout.count("test accuracy") == 1 and done.stdout.count("run folder:") == 1
    many = weights(tmp_path / "many" / "run" / "model.safetensors", "model")
    one = weights(tmp_path / "one" / "run" / "model.safetensors", "model")
    assert max_difference(many, one) <= 1e-5  # float32
    results = [
        json.loads((tmp_path / k / "run" / "results.json").read_text()) for k in ("many", "one")
    ]
    assert results[0]["test"] == pytest.approx(results[1]["test"], abs=1e-6)
