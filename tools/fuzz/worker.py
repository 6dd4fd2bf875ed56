"""The child that reads mutants: ``python -m tools.fuzz.worker SEEDS MEMORY_MB TIMEOUT``.

It reads one JSON request a line on stdin (``{"id", "format", "seed", "path"}``) and
answers one JSON line on stdout (``{"id", "outcome", "detail"}``). Its address space is
capped with ``RLIMIT_AS`` and, before each input, its CPU time with ``RLIMIT_CPU`` (the
kernel ends it with SIGXCPU); a crash or a hang ends only this process, and the campaign
starts another.

Outcomes: ``clear`` (the format's documented error, naming the file), ``unclear`` (any
other exception), ``silent`` (accepted, but not what the file says), ``changed`` (accepted,
a different valid file of a format without checksums, read as an independent decoder
reads it), ``harmless`` (accepted and equal to the seed's result). ``crash`` and ``hang``
are decided by the campaign, which sees the process die or fall silent.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import os
import re
import resource
import struct
import sys
import tempfile
import warnings

import numpy as np

import descent as ds

from . import seeds as seedlib

# ---- comparing results ----------------------------------------------------------------------


def same(a, b) -> bool:
    """Exactly equal results: the same types, keys, shapes, dtypes and bytes."""
    if isinstance(a, ds.Tensor):
        a = a.numpy()
    if isinstance(b, ds.Tensor):
        b = b.numpy()
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return a == b


# ---- independent decoders of the formats without checksums ----------------------------------

IDX_DTYPES = {8: ">u1", 9: ">i1", 11: ">i2", 12: ">i4", 13: ">f4", 14: ">f8"}


def reference_idx(data: bytes) -> np.ndarray:
    """The IDX spec, as written: raises on anything it does not describe."""
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    if len(data) < 4 or data[:2] != b"\0\0" or data[2] not in IDX_DTYPES or not data[3]:
        raise ValueError("bad header")
    ndim = data[3]
    dims = struct.unpack_from(f">{ndim}i", data, 4)
    dtype = np.dtype(IDX_DTYPES[data[2]])
    if min(dims) < 0 or len(data) != 4 + 4 * ndim + math.prod(dims) * dtype.itemsize:
        raise ValueError("bad size")
    body = np.frombuffer(data, dtype, offset=4 + 4 * ndim).reshape(dims)
    return body.astype(dtype.newbyteorder("="))


def reference_npz(data: bytes) -> dict:
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        arrays = {k: archive[k] for k in archive.files}
    return {k: a.astype(a.dtype.newbyteorder("=")) for k, a in arrays.items()}  # as Tensors keep


CSV_NUMBER = re.compile(
    r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|[+-]?(nan|inf|infinity)", re.I | re.A
)


def reference_csv(data: bytes, target=None, header=True, delimiter=",", return_names=False):
    """read_csv's documented rules (its docstring), written again from them."""
    text = data.decode("utf-8")
    text = text[1:] if text.startswith("\ufeff") else text
    rows = [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)]
    rows = [r for r in rows if r and not (len(r) == 1 and not r[0].strip())]
    names = [n.strip() for n in rows[0]] if header else [f"x{i}" for i in range(len(rows[0]))]
    body = rows[1:] if header else rows
    if not body or len(set(names)) != len(names) or any(len(r) != len(names) for r in body):
        raise ValueError("bad table")
    t = None if target is None else names.index(target) if isinstance(target, str) else target
    feats = [j for j in range(len(names)) if j != t]
    cells = [[r[j].strip(" \t") for j in feats] for r in body]
    if not all(CSV_NUMBER.fullmatch(c) for row in cells for c in row):
        raise ValueError("not a number")
    X = np.array([[float(c) for c in row] for row in cells]).reshape(len(body), len(feats))
    X = X.astype(np.float32)
    if t is None:
        return (X, None) if return_names else X
    labels = [r[t].strip(" \t") for r in body]
    classes = None
    if not all(labels):
        raise ValueError("empty label")
    if not all(CSV_NUMBER.fullmatch(v) for v in labels):
        classes = sorted(set(labels))
        y = np.array([classes.index(v) for v in labels], dtype=np.int64)
    elif all(re.fullmatch(r"[+-]?[0-9]+", v) for v in labels):
        y = np.array([int(v) for v in labels], dtype=np.int64)  # raises outside int64
    else:
        y = np.array([float(v) for v in labels])
        if not np.isfinite(y).all():
            raise ValueError("non-finite target")
        y = y.astype(np.float32)
    return (X, y, classes) if return_names else (X, y)


def as_arrays(fmt: str, result):
    """The reader's result as plain arrays, to compare with a reference decoder's."""
    if fmt == "csv":
        items = result if isinstance(result, tuple) else (result,)
        out = tuple(x.numpy() if isinstance(x, ds.Tensor) else x for x in items)
        if len(out) == 3:  # (X, y, CSVColumns): compare the class labels
            return (out[0], out[1], out[2].classes)
        if len(out) == 2 and isinstance(out[1], ds.data.CSVColumns):
            return (out[0], None)
        return out if len(out) > 1 else out[0]
    if fmt == "npz":
        return {k: v.numpy() for k, v in result.items()}
    return result.numpy()


def faithful(fmt: str, seed: str, data: bytes, result) -> bool:
    """Whether an accepted mutant was read as an independent decoder reads its bytes."""
    try:
        if fmt == "idx":
            expected = reference_idx(data)
        elif fmt == "npz":
            expected = reference_npz(data)
        elif fmt == "csv":
            expected = reference_csv(data, **seedlib.CSV_SEEDS[seed][1])
        else:
            return False  # a checkpoint has no second decoder: any change is silent
    except Exception:
        return False
    return same(as_arrays(fmt, result), expected)


# ---- one input ------------------------------------------------------------------------------


def run_one(fmt: str, seed: str, path: str, originals: dict, scratch: str) -> tuple[str, str]:
    documented = seedlib.error_type(fmt)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = seedlib.read(fmt, seed, path)
            if same(result, originals[seed]):
                return "harmless", ""
            if fmt == "checkpoint":
                seedlib.consume(seed, result, path, scratch)
    except BaseException as e:  # noqa: BLE001 - every exception is an outcome to classify
        text = f"{type(e).__name__}: {e}"[:300]
        if isinstance(e, documented) and path in str(e):
            return "clear", text
        return "unclear", text
    with open(path, "rb") as f:
        data = f.read()
    if faithful(fmt, seed, data, result):
        return "changed", ""
    return "silent", "accepted, and differs from the seed's result"


def limit_cpu(seconds: float) -> None:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = usage.ru_utime + usage.ru_stime
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = math.ceil(used + seconds)
    resource.setrlimit(resource.RLIMIT_CPU, (soft if hard < 0 else min(soft, hard), hard))


def main(argv: list) -> None:
    seeds_dir, memory_mb, timeout = argv[0], int(argv[1]), float(argv[2])
    memory = memory_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    sys.setrecursionlimit(10_000)  # deep nesting must not be able to crash the interpreter
    with open(os.path.join(seeds_dir, "seeds.json")) as f:
        seeds = json.load(f)
    originals = {
        name: seedlib.read(fmt, name, os.path.join(seeds_dir, name))
        for fmt, names in seeds.items()
        for name in names
    }
    scratch = tempfile.mkdtemp(prefix="fuzz-worker-")
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        limit_cpu(timeout)
        outcome, detail = run_one(
            request["format"], request["seed"], request["path"], originals, scratch
        )
        print(json.dumps({"id": request["id"], "outcome": outcome, "detail": detail}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
