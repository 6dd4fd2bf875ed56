"""The valid files every mutant starts from, and how each format is read.

A seed is a file and the call that reads it. Checkpoint seeds are written with ``ds.save``
and ``ModelCheckpoint`` from one tiny model, which ``tiny_run`` rebuilds the same way in
every worker, so a worker can hand a loaded state on to ``load_state_dict`` and ``fit``.
"""

from __future__ import annotations

import io
import json
import os

import numpy as np

import descent as ds
from descent.data import write_idx

# The reader's documented error for each format: a mutant that raises it naming the file
# got a clear error.
FORMATS = ("checkpoint", "csv", "idx", "npz")

CSV_SEEDS = {
    "classes.csv": (
        "sepal_length,sepal_width,label\n5.1,3.5,0\n4.9,3.0,1\n\n6.3,3.3,2\n-1e-3,+.5,1\n",
        {"target": "label"},
    ),
    "text-labels.csv": (
        'width,"height, cm",kind\r\n1.5,2,cat\r\n3," 4 ",dog\r\n"nan",inf,cat\r\n',
        {"target": "kind", "return_names": True},
    ),
    "regression.csv": ("a,b,price\n1,2,2.5\n3,4,3\n5,6,-1e3\n", {"target": "price"}),
    "plain.csv": ("1;2;3\n4;5;6\n7;8;9\n", {"header": False, "delimiter": ";"}),
}


def tiny_run():
    """The model, optimizer and data of every checkpoint seed, built the same each time."""
    ds.manual_seed(0)
    model = ds.nn.Sequential(ds.nn.Linear(4, 3), ds.nn.ReLU(), ds.nn.Linear(3, 2))
    optimizer = ds.optim.Adam(model.parameters(), lr=0.01)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(16, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    return model, optimizer, (X, y)


def fit_tiny(model, optimizer, data, checkpoint: str, epochs: int, resume_from=None):
    callbacks = [ds.train.ModelCheckpoint(checkpoint)]
    return ds.train.fit(
        model, "cross_entropy", optimizer, data, epochs=epochs, batch_size=8,
        callbacks=callbacks, verbose=0, seed=0, resume_from=resume_from,
    )  # fmt: skip


def build(directory: str) -> dict:
    """Write every seed into ``directory``; returns {format: [seed file names]}."""
    seeds = {f: [] for f in FORMATS}

    def put(fmt: str, name: str, data: bytes | None = None):
        if data is not None:
            with open(os.path.join(directory, name), "wb") as f:
                f.write(data)
        seeds[fmt].append(name)

    model, optimizer, data = tiny_run()
    ds.save({"model": model.state_dict()}, os.path.join(directory, "model.safetensors"))
    put("checkpoint", "model.safetensors")
    fit_tiny(model, optimizer, data, os.path.join(directory, "fit.safetensors"), epochs=1)
    put("checkpoint", "fit.safetensors")
    state = {"model": model.state_dict(), "optimizer": optimizer.state_dict()}
    ds.save(state, os.path.join(directory, "optimizer.safetensors"))
    put("checkpoint", "optimizer.safetensors")

    for name, (text, _) in CSV_SEEDS.items():
        put("csv", name, text.encode())

    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, size=(3, 4, 4), dtype=np.uint8)
    for name, array in {
        "images-idx3-ubyte": images,
        "images-idx3-ubyte.gz": images,
        "values-idx2-float": rng.normal(size=(2, 5)).astype(np.float32),
        "labels-idx1-short.gz": np.array([-3, 0, 7, 300, -32768, 32767], dtype=np.int16),
        "pairs-idx2-double": np.array([[np.pi, -1e300], [0.0, 5e-324]]),
    }.items():
        write_idx(os.path.join(directory, name), array)
        put("idx", name)

    arrays = {
        "w": rng.normal(size=(3, 4)),
        "labels": np.arange(5, dtype=np.int32),
        "mask": np.array([True, False, True]),
        "fortran": np.asfortranarray(np.arange(6.0, dtype=np.float32).reshape(2, 3)),
        "big_endian": np.arange(4, dtype=">i2"),
        "scalar": np.float64(2.5),
    }
    for name, save in [("stored.npz", np.savez), ("deflated.npz", np.savez_compressed)]:
        buf = io.BytesIO()
        save(buf, **arrays)
        put("npz", name, buf.getvalue())
    buf = io.BytesIO()
    np.savez(buf, images=images)
    put("npz", "one.npz", buf.getvalue())
    with open(os.path.join(directory, "seeds.json"), "w") as f:
        json.dump(seeds, f)
    return seeds


def read(fmt: str, seed: str, path: str):
    """Read ``path`` the way seed ``seed`` of format ``fmt`` is read."""
    if fmt == "csv":
        return ds.data.read_csv(path, **CSV_SEEDS[seed][1])
    if fmt == "idx":
        return ds.data.read_idx(path)
    if fmt == "npz":
        return ds.data.read_npz(path)
    return ds.load(path)


def consume(seed: str, state, path: str, scratch: str) -> None:
    """Hand a loaded checkpoint on, as its user would: to the model, the optimizer, or a
    resumed ``fit``."""
    model, optimizer, data = tiny_run()
    if seed == "fit.safetensors":
        resumed = os.path.join(scratch, "resumed.safetensors")
        fit_tiny(model, optimizer, data, resumed, epochs=2, resume_from=path)
        return
    model.load_state_dict(state["model"])
    if seed == "optimizer.safetensors":
        optimizer.load_state_dict(state["optimizer"])


def error_type(fmt: str) -> type:
    return ds.io.CheckpointError if fmt == "checkpoint" else ds.data.DataFormatError
