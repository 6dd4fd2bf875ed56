"""ds.distributed's calls under ``mpiexec -n N``, for tests/test_distributed.py.

    mpiexec -n 3 python -m tests.distributed_ops OUT_DIR

Each rank writes what it saw to OUT_DIR/rank-RANK.json.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

import descent as ds
from descent import nn

# The penalty divides by the batch's size and the last of 43 rows in batches of 10 (or
# of 4) is partial: both need the whole batch's size on a rank (global_batch_rows).
MLP = {
    "hidden_layer_sizes": (8,), "alpha": 0.01, "batch_size": 10, "max_iter": 4,
    "random_state": 0,
}  # fmt: skip
LINEAR = {"solver": "minibatch", "batch_size": 4, "max_iter": 3, "eta0": 0.01, "dtype": "float64"}
LINEAR["random_state"] = 0


def estimator_data():
    X = np.random.default_rng(2).normal(size=(43, 4))
    return X, (X[:, 0] > X[:, 1]).astype(np.int64)


def main() -> None:
    out = Path(sys.argv[1])
    dist = ds.distributed
    dist.init()
    r, n = dist.rank(), dist.world_size()
    seen: dict = {"rank": r, "world_size": n, "is_main": dist.is_main()}
    seen["sum"] = dist.all_reduce(ds.tensor([float(r), 1.0], dtype=ds.float64)).tolist()
    seen["mean"] = dist.all_reduce(ds.tensor([float(r)], dtype=ds.float64), op="mean").tolist()
    seen["max"] = dist.all_reduce(ds.tensor(np.array([r, -r])), op="max").tolist()
    seen["broadcast"] = dist.broadcast(ds.tensor([[10.0 * r, r]]), root=1).tolist()
    try:
        dist.all_reduce(ds.zeros(r + 1))
    except ValueError as e:
        seen["shape_error"] = str(e)
    try:
        dist.all_reduce(ds.zeros(2), op="prod")
    except ValueError as e:
        seen["op_error"] = str(e)
    try:
        dist.broadcast_parameters(nn.Linear(3, 4 if r == 2 else 5))
    except RuntimeError as e:
        seen["model_error"] = str(e)
    loader = ds.data.DataLoader(ds.data.TensorDataset(np.zeros((4, 1)), np.zeros(4)), seed=r)
    linear = nn.Linear(1, 1).double()
    try:
        ds.train.fit(linear, "mse", ds.optim.SGD(linear.parameters(), lr=0.1), loader,
                     verbose=0, distributed=True)  # fmt: skip
    except ValueError as e:
        seen["seed_error"] = str(e)
    ds.manual_seed(r)  # every rank its own initial weights
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    model[1].running_mean._data[...] = r
    dist.broadcast_parameters(model)
    seen["state"] = {k: v.numpy().ravel().tolist() for k, v in model.state_dict().items()}
    sampler = ds.data.DistributedSampler(range(10), shuffle=True, seed=4)
    sampler.set_epoch(2)
    seen["sampler"] = list(sampler)
    seen["sampler_replicas"] = [sampler.num_replicas, sampler.rank]
    X, y = estimator_data()
    with dist.data_parallel():  # an estimator's fit runs through fit: data-parallel
        est = ds.models.MLPClassifier(**MLP).fit(X, y)
        reg = ds.models.LinearRegression(**LINEAR).fit(X, X @ [1.0, -2.0, 0.5, 3.0])
        # random_state=None: each rank draws its own seed; fit takes rank 0's
        unseeded = {**LINEAR, "random_state": None}
        free = ds.models.LinearRegression(**unseeded).fit(X, X @ [1.0, -2.0, 0.5, 3.0])
    seen["estimator_proba"] = est.predict_proba(X).tolist()
    seen["estimator_loss_curve"] = est.loss_curve_
    seen["linear_coef"] = reg.coef_.tolist()
    seen["unseeded_coef"] = free.coef_.tolist()
    dist.barrier()
    (out / f"rank-{r}.json").write_text(json.dumps(seen))


if __name__ == "__main__":
    main()
