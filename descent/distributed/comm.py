"""The processes of an MPI job and what they say to each other: NumPy buffers, never pickle.

Every call here is collective unless it says otherwise: each rank of the job must make it,
in the same order. Arrays travel through mpi4py's buffer methods (``Allreduce``,
``Bcast``, ``Allgather``); a text (an error message) travels as its UTF-8 bytes in a uint8
array, and plain data (a generator's state) as JSON in one.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import traceback

import numpy as np

from .._extras import require
from ..tensor import Tensor

__all__ = [
    "init", "is_initialized", "launched_by_mpi", "rank", "world_size", "is_main", "barrier",
    "all_reduce", "broadcast", "broadcast_parameters", "abort_on_error", "data_parallel",
    "in_data_parallel",
]  # fmt: skip

# What a launcher puts in each process's environment: Open MPI's mpiexec, MPICH's and
# Intel MPI's Hydra, and PMIx (Open MPI 5, Slurm's srun --mpi=pmix).
_LAUNCHER_VARIABLES = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "PMI_RANK")

_state: dict = {"comm": None, "data_parallel": 0, "batch_rows": None}


def launched_by_mpi() -> bool:
    """Whether this process was started by an MPI launcher (``mpiexec``, ``srun``); it
    reads the environment only and starts nothing."""
    return any(name in os.environ for name in _LAUNCHER_VARIABLES)


def init():
    """Join the MPI job this process was launched in; return its communicator (mpi4py's
    ``COMM_WORLD``). Calling it again returns the same one.

    >>> ds.distributed.init()  # in a script run by: mpiexec -n 2 python train.py
    >>> ds.distributed.rank(), ds.distributed.world_size()
    (0, 2)
    """
    if _state["comm"] is not None:
        return _state["comm"]
    if not launched_by_mpi():
        raise RuntimeError(
            "ds.distributed.init: this process was not started by an MPI launcher (none of "
            f"{', '.join(_LAUNCHER_VARIABLES)} is set), so there are no other ranks to join; "
            "run it as mpiexec -n 2 python script.py (or srun on a cluster), or train without "
            "distributed=True"
        )
    mpi = require("mpi4py.MPI", "distributed", "ds.distributed (data-parallel training over MPI)")
    _state["comm"] = mpi.COMM_WORLD
    return _state["comm"]


@contextlib.contextmanager
def data_parallel():
    """Inside ``with ds.distributed.data_parallel():`` every ``fit`` that is not told
    otherwise trains with ``distributed=True``, so do the estimators whose ``fit`` runs
    through it (``ds.models``: MLPClassifier, MLPRegressor, LinearRegression,
    PolynomialRegression, LogisticRegression, LinearSVC, Autoencoder: their losses divide
    by the whole batch's size through ``global_batch_rows``).

    >>> with ds.distributed.data_parallel():  # mpiexec -n 4 python script.py
    ...     est = ds.models.MLPClassifier(batch_size=256).fit(X, y)
    """
    init()
    _state["data_parallel"] += 1
    try:
        yield
    finally:
        _state["data_parallel"] -= 1


def global_batch_rows(rows: int) -> int:
    """The number of rows of the whole batch that this rank's ``rows`` are part of.

    Inside a step of ``fit(..., distributed=True)`` a loss sees only its rank's rows, and
    fit sums the ranks' losses weighted by their shares of the batch, which is exact for a
    mean over the examples. A term that divides by the batch's size instead (the MLPs'
    ``alpha / (2 B)`` penalty, a last batch weighed by ``B / batch_size``) divides by this,
    so every rank uses the one-process B. Outside such a step it is ``rows``.

    >>> penalty = alpha / (2 * ds.distributed.global_batch_rows(len(y))) * l2
    """
    whole = _state["batch_rows"]
    return rows if whole is None else whole


def _set_batch_rows(rows: int | None) -> None:
    """fit's data-parallel step: the rows of the global batch it is on (None after it)."""
    _state["batch_rows"] = rows


def in_data_parallel() -> bool:
    """Whether this is inside ``data_parallel()``."""
    return _state["data_parallel"] > 0


def is_initialized() -> bool:
    """Whether ``init()`` has run in this process."""
    return _state["comm"] is not None


def _comm():
    return _state["comm"] if _state["comm"] is not None else init()


def rank() -> int:
    """This process's number in the job, 0 to ``world_size() - 1`` (joins it first)."""
    return int(_comm().Get_rank())


def world_size() -> int:
    """The number of processes in the job (joins it first)."""
    return int(_comm().Get_size())


def is_main() -> bool:
    """Whether this is rank 0, the one that prints and writes files."""
    return rank() == 0


def barrier() -> None:
    """Wait until every rank has reached this call."""
    _comm().Barrier()


def _mpi_op(op: str, who: str):
    mpi = require("mpi4py.MPI", "distributed", who)
    table = {"sum": mpi.SUM, "mean": mpi.SUM, "max": mpi.MAX, "min": mpi.MIN}
    if op not in table:
        raise ValueError(f"{who}: op must be one of {sorted(table)}, got {op!r}")
    return table[op]


def all_reduce(tensor: Tensor, op: str = "sum") -> Tensor:
    """Combine ``tensor`` over the ranks, in place, and return it: every rank ends with the
    elementwise ``'sum'`` (or ``'mean'``, ``'max'``, ``'min'``) of all the ranks' values.

    >>> t = ds.tensor([float(ds.distributed.rank())])
    >>> ds.distributed.all_reduce(t).item()  # with 3 ranks: 0 + 1 + 2
    3.0
    """
    data = _array(tensor, "all_reduce")
    mpi_op = _mpi_op(op, "ds.distributed.all_reduce")
    _check_same(data, "all_reduce")
    buffer = np.ascontiguousarray(data)
    _comm().Allreduce(_in_place(), buffer, op=mpi_op)
    if op == "mean":
        buffer /= world_size()
    if buffer is not data:
        data[...] = buffer
    return tensor


def _in_place():
    return require("mpi4py.MPI", "distributed", "ds.distributed").IN_PLACE


def broadcast(tensor: Tensor, root: int = 0) -> Tensor:
    """Overwrite ``tensor`` on every rank, in place, with rank ``root``'s values; return it.
    Every rank's tensor must have the same shape and dtype."""
    data = _array(tensor, "broadcast")
    _check_root(root, "broadcast")
    _check_same(data, "broadcast")
    buffer = np.ascontiguousarray(data)
    _comm().Bcast(buffer, root=root)
    if buffer is not data:
        data[...] = buffer
    return tensor


def broadcast_parameters(model, root: int = 0) -> None:
    """Give every rank rank ``root``'s parameters and buffers (``model.state_dict()``), so
    that all replicas start equal. The models must have the same architecture: the same
    entries, shapes and dtypes, which is checked (by name) before anything is sent."""
    _check_root(root, "broadcast_parameters")
    state = model.state_dict()
    layout = ";".join(f"{k}:{tuple(v.shape)}:{v.dtype}" for k, v in state.items())
    if not _same_everywhere(layout, root):
        raise RuntimeError(
            f"ds.distributed.broadcast_parameters: the ranks' models differ from rank {root}'s "
            f"(a state_dict with other entries, shapes or dtypes, on rank {rank()} or "
            f"another); build the same model on every rank"
        )
    for value in state.values():
        buffer = np.ascontiguousarray(value._data)
        _comm().Bcast(buffer, root=root)
        if buffer is not value._data:
            value._data[...] = buffer


def broadcast_bytes(data: np.ndarray, root: int = 0) -> np.ndarray:
    """Rank ``root``'s uint8 array, on every rank (each may hold one of another length)."""
    comm = _comm()
    size = np.array([data.size], dtype=np.int64)
    comm.Bcast(size, root=root)
    if comm.Get_rank() == root:
        out = np.array(data, dtype=np.uint8)
    else:
        out = np.empty(int(size[0]), dtype=np.uint8)
    comm.Bcast(out, root=root)
    return out


def broadcast_json(value, root: int = 0):
    """Rank ``root``'s plain data (what JSON holds: dicts, lists, strings, numbers), on
    every rank; it travels as the JSON text's bytes."""
    raw = np.frombuffer(json.dumps(value).encode(), dtype=np.uint8)
    return json.loads(broadcast_bytes(raw, root).tobytes().decode())


def all_gather_rows(array: np.ndarray) -> list[np.ndarray]:
    """Every rank's ``array`` (the same trailing shape and dtype, any number of rows), in
    rank order, on every rank: one ``Allgather`` of the row counts, one ``Allgatherv``."""
    comm = _comm()
    array = np.ascontiguousarray(array)
    counts = np.empty(comm.Get_size(), dtype=np.int64)
    comm.Allgather(np.array([array.shape[0]], dtype=np.int64), counts)
    row = int(np.prod(array.shape[1:], dtype=np.int64))
    out = np.empty((int(counts.sum()), *array.shape[1:]), dtype=array.dtype)
    sizes = counts * row
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    comm.Allgatherv(array, [out, (sizes.tolist(), offsets.tolist())])
    bounds = np.concatenate([[0], np.cumsum(counts)])
    return [out[bounds[r] : bounds[r + 1]] for r in range(comm.Get_size())]


def abort_on_error(error: BaseException, where: str) -> None:
    """Print ``error`` with its traceback, once, naming this rank, and end the whole job
    (``MPI_Abort``): the other ranks, which would wait for this one at their next collective
    call forever, are stopped by the launcher."""
    text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    sys.stdout.flush()
    print(
        f"{where}: rank {rank()} of {world_size()} failed, so the job is stopped:\n{text}",
        file=sys.stderr,
        end="",
        flush=True,
    )
    _comm().Abort(1)


def _array(tensor, who: str) -> np.ndarray:
    if isinstance(tensor, Tensor):
        return tensor._data
    if isinstance(tensor, np.ndarray):
        return tensor
    raise TypeError(
        f"ds.distributed.{who}: expected a Tensor (or a NumPy array), got {type(tensor).__name__}"
    )


def _check_root(root, who: str) -> None:
    size = world_size()
    if isinstance(root, bool) or not isinstance(root, (int, np.integer)) or not 0 <= root < size:
        raise ValueError(
            f"ds.distributed.{who}: root must be a rank from 0 to {size - 1}, got {root!r}"
        )


def _same_everywhere(text: str, root: int = 0) -> bool:
    """Whether every rank's ``text`` is rank ``root``'s; every rank gets the same answer,
    so all of them raise together or none does."""
    mine = np.frombuffer(text.encode(), dtype=np.uint8)
    same = np.array([int(np.array_equal(broadcast_bytes(mine, root), mine))], dtype=np.int64)
    _comm().Allreduce(_in_place(), same, op=_mpi_op("min", "ds.distributed"))
    return bool(same[0])


def _check_same(data: np.ndarray, who: str) -> None:
    """Refuse, on every rank alike, arrays whose shape or dtype differs between ranks."""
    layout = f"{tuple(data.shape)}:{data.dtype}"
    if not _same_everywhere(layout):
        raise ValueError(
            f"ds.distributed.{who}: the ranks hold tensors of different shapes or dtypes "
            f"(rank {rank()}: {layout}, and another rank's differs); give every rank a tensor "
            f"of one shape and dtype"
        )
