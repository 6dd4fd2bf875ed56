"""A training run for tests/test_distributed.py, run alone or by ``mpiexec -n N``.

    python -m tests.distributed_job OUT_DIR [--distributed] [--dtype float64] [--rows 37]
        [--batch-size 8] [--epochs 3] [--shuffle 1] [--dropout 0.0] [--bad-row R]
        [--kill-at-epoch E] [--resume CKPT]

An MLP with Adam on seeded random data, with validation data and an accuracy metric. Each
rank writes its final weights to OUT_DIR/weights-RANK.safetensors and its history to
OUT_DIR/history-RANK.json; a ModelCheckpoint writes OUT_DIR/ckpt.safetensors after every
epoch (rank 0's). ``--bad-row R`` puts a NaN in example R, which a layer refuses with a
ValueError on the rank whose shard holds it; ``--kill-at-epoch E`` makes rank 1 kill
itself with SIGKILL at the start of epoch E (1-based).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import time
from pathlib import Path

import numpy as np

import descent as ds
from descent import nn


class RefuseNaN(nn.Module):
    """Raises on a batch with a value that is not finite (bad data in one shard), noting
    the time in OUT_DIR/raised-at.txt."""

    def __init__(self, out: Path):
        super().__init__()
        self.out = out

    def forward(self, x):
        if not np.isfinite(x.numpy()).all():
            (self.out / "raised-at.txt").write_text(repr(time.time()))
            raise ValueError("bad data: a NaN in this batch's features")
        return x


class KillRankOne(ds.train.Callback):
    """Rank 1 kills itself at the start of epoch ``epoch``, noting the time in
    OUT_DIR/killed-at.txt."""

    def __init__(self, epoch: int, out: Path):
        self.epoch, self.out = epoch, out

    def on_epoch_begin(self, epoch, logs=None):
        if epoch + 1 == self.epoch and ds.distributed.rank() == 1:
            (self.out / "killed-at.txt").write_text(repr(time.time()))
            os.kill(os.getpid(), signal.SIGKILL)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--distributed", action="store_true")
    p.add_argument("--dtype", default="float64")
    p.add_argument("--rows", type=int, default=37)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--shuffle", type=int, default=1)
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--bad-row", type=int, default=None)
    p.add_argument("--kill-at-epoch", type=int, default=None)
    p.add_argument("--resume", default=None)
    args = p.parse_args()
    out = Path(args.out)
    dtype = np.dtype(args.dtype)
    ds.set_default_dtype(ds.float64 if dtype == np.float64 else ds.float32)

    data = np.random.default_rng(1)
    X = data.normal(size=(args.rows + 11, 5)).astype(dtype)
    y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(np.int64) + (X[:, 3] > 1)
    if args.bad_row is not None:
        X[args.bad_row, 2] = np.nan
    ds.manual_seed(0)
    layers = [RefuseNaN(out), nn.Linear(5, 16), nn.Tanh()]
    if args.dropout:
        layers.append(nn.Dropout(args.dropout))
    layers += [nn.Linear(16, 3)]
    model = nn.Sequential(*layers)
    opt = ds.optim.Adam(model.parameters(), lr=0.01)
    callbacks = [ds.train.ModelCheckpoint(out / "ckpt.safetensors", monitor="loss")]
    if args.kill_at_epoch:
        callbacks.append(KillRankOne(args.kill_at_epoch, out))
    history = ds.train.fit(
        model, "cross_entropy", opt, (X[: args.rows], y[: args.rows]),
        (X[args.rows :], y[args.rows :]), epochs=args.epochs, batch_size=args.batch_size,
        shuffle=bool(args.shuffle), seed=3, metrics=["accuracy"], verbose=2,
        callbacks=callbacks, resume_from=args.resume, distributed=args.distributed,
    )  # fmt: skip
    rank = ds.distributed.rank() if args.distributed else 0
    ds.save(model.state_dict(), out / f"weights-{rank}.safetensors")
    (out / f"history-{rank}.json").write_text(json.dumps(history.history))


if __name__ == "__main__":
    main()
