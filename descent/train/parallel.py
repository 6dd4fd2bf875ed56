"""``fit(..., distributed=True)``: one global batch split across the ranks of an MPI job.

Every rank draws the same global batch (the loader, its seed and descent's generator are
made equal at the start), keeps its own contiguous slice of the rows, and runs forward and
backward on it. Then one ``Allreduce`` of one buffer, per step, sums over the ranks

    [w_r * grad_r (every parameter, flattened), has_grad_r (one per parameter), w_r * loss_r]

with ``w_r = rows_r / rows``, the rank's share of the batch. For a loss that is a mean
over the batch's examples (fit's named losses, ``reduction='mean'``), the sum is the
gradient and the loss of the whole batch, so every rank then takes the update one process
would take, whatever the shards' sizes (a last partial batch, fewer rows than ranks).
Divergence is judged on the summed loss and gradients, so the ranks agree on it.

Dropout's masks are the one-process masks: while a rank's forward runs, descent's
generator draws each mask for the whole batch and hands the rank its rows of it.
"""

from __future__ import annotations

import functools
import math
import time

import numpy as np

from .. import random as _random
from ..distributed import comm
from ..random import get_rng_state, set_rng_state
from ..tensor import tensor
from .callbacks import CSVLogger, ModelCheckpoint, TensorBoard

__all__ = ["DataParallel", "stops_job_on_error", "FILE_WRITERS"]

# The callbacks that write files: rank 0's alone run (every rank's state is the same).
FILE_WRITERS = (ModelCheckpoint, CSVLogger, TensorBoard)


def stops_job_on_error(*agreed: type):
    """A decorator: ``fit`` that, with ``distributed=True``, ends the whole MPI job when it
    raises on a rank (the error printed once, by that rank) instead of leaving the other
    ranks waiting for it forever. The ``agreed`` errors, which every rank raises at the
    same step (a diverged loss, judged on the summed loss), are raised as they are."""

    def decorate(fit):
        @functools.wraps(fit)
        def guarded(*args, **kwargs):
            on = kwargs.get("distributed")
            if not (comm.in_data_parallel() if on is None else on):
                return fit(*args, **kwargs)
            if not comm.launched_by_mpi():
                return fit(*args, **kwargs)  # init's error says how to launch
            try:
                return fit(*args, **kwargs)
            except Exception as e:
                comm._set_batch_rows(None)
                if isinstance(e, agreed) or getattr(e, "agreed_by_all_ranks", False):
                    raise
                comm.abort_on_error(e, "fit(distributed=True)")
                raise  # not reached: the job has ended

        return guarded

    return decorate


def _shares(rows: int, ranks: int) -> np.ndarray:
    """Where each rank's rows start and end: ``ranks + 1`` bounds, the first
    ``rows % ranks`` ranks one row more (``np.array_split``'s sizes)."""
    q, extra = divmod(rows, ranks)
    sizes = np.full(ranks, q, dtype=np.int64)
    sizes[:extra] += 1
    return np.concatenate([[0], np.cumsum(sizes)])


class DataParallel:
    """fit's side of a distributed run: the shard of each batch, the one all-reduce per
    step, and the epoch's predictions gathered for the metrics."""

    def __init__(self, model, optimizer):
        self.comm = comm.init()
        self.rank, self.size = comm.rank(), comm.world_size()
        self._sum, self._in_place = comm._mpi_op("sum", "fit"), comm._in_place()
        comm.broadcast_parameters(model)
        set_rng_state(comm.broadcast_json(get_rng_state()))  # dropout, loader seeds: equal
        self.params = list(model.parameters())
        self.dtype = np.result_type(*[p.dtype for p in self.params]) if self.params else None
        sizes = [p._data.size for p in self.params]
        self.offsets = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)]).astype(int)
        n = int(self.offsets[-1])
        # (parameters' gradients, one presence count per parameter, the loss)
        self.buffer = np.zeros(n + len(self.params) + 1, dtype=self.dtype or np.float64)
        self.rows = self.start = self.stop = 0
        self.batch_rows: list[int] = []  # the rows of each batch of the epoch so far
        # the all-reduces so far: their count and seconds (waiting for the slowest rank too)
        self.reduces, self.reduce_seconds = 0, 0.0

    def agreed(self, value):
        """Rank 0's ``value`` (plain data) on every rank: the shuffling seed of the loader
        fit builds, which an estimator with ``random_state=None`` draws on each rank."""
        return comm.broadcast_json(value)

    def check_loader(self, loader) -> None:
        """Refuse, on every rank alike, a loader whose seed differs between the ranks (a
        user's DataLoader built before fit, without a seed)."""
        if not comm._same_everywhere(str(getattr(loader, "seed", 0))):
            raise _agreed(
                ValueError(
                    "fit(distributed=True): the DataLoader's seed differs between the ranks, so "
                    "they would draw different batches; give it a seed (DataLoader(..., "
                    "seed=0)), or pass the data and let fit build the loader"
                )
            )

    def shard(self, batch, step: int):
        """This rank's rows ``(x, y)`` of the global batch ``batch``."""
        x, y = batch
        self.rows = len(y)
        if step == 0:
            self.batch_rows = []
        self.batch_rows.append(self.rows)
        bounds = _shares(self.rows, self.size)
        self.start, self.stop = int(bounds[self.rank]), int(bounds[self.rank + 1])
        comm._set_batch_rows(self.rows)  # until all_reduce: the loss's global_batch_rows
        return x[self.start : self.stop], y[self.start : self.stop]

    def forward(self, model, x):
        """``model(x)`` with dropout's masks cut from the whole batch's (see the module)."""
        if self.size == 1:
            return model(x)
        saved = _random.generator()
        # NOTE: descent's generator is swapped for one on the same bit generator, so every
        # draw advances the one state that checkpoints save, exactly as in one process.
        _random._state["rng"] = _RowsOfTheBatch(saved, self.stop - self.start, self.rows,
                                                self.start)  # fmt: skip
        try:
            return model(x)
        finally:
            _random._state["rng"] = saved

    def all_reduce(self, value: float, gradients: bool) -> tuple[float, str | None]:
        """Sum every rank's share of the gradients and the loss (one ``Allreduce``); set
        each parameter's ``.grad`` to the batch's; return the batch's loss and what went
        wrong (a loss or gradient not finite), which every rank sees alike."""
        comm._set_batch_rows(None)  # the step's loss is computed
        buf = self.buffer
        weight = (self.stop - self.start) / self.rows
        buf[:] = 0
        if weight > 0:
            buf[-1] = weight * value
            if gradients:
                n = int(self.offsets[-1])
                for i, p in enumerate(self.params):
                    if p.grad is not None:
                        a, b = self.offsets[i], self.offsets[i + 1]
                        np.multiply(p.grad._data.reshape(-1), weight, out=buf[a:b])
                        buf[n + i] = 1
        start = time.perf_counter()
        self.comm.Allreduce(self._in_place, buf, op=self._sum)
        self.reduce_seconds += time.perf_counter() - start
        self.reduces += 1
        value = float(buf[-1])
        if not math.isfinite(value):
            return value, f"the loss became {value}"
        n = int(self.offsets[-1])
        bad = None
        for i, p in enumerate(self.params):
            if buf[n + i] == 0:
                continue
            a, b = self.offsets[i], self.offsets[i + 1]
            g = buf[a:b].reshape(p._data.shape)
            if bad is None and not np.isfinite(g).all():
                bad = f"the gradient of parameter {i} became NaN or inf"
            if p.grad is None:
                p.grad = tensor(g.astype(p.dtype))
            else:
                p.grad._data[...] = g
        return value, bad

    def gather(self, local: np.ndarray) -> np.ndarray:
        """The epoch's rows of every rank, in the order one process holds them (batch by
        batch; in each batch, rank by rank), from this rank's rows ``local``."""
        parts = comm.all_gather_rows(local)
        taken = [0] * self.size
        pieces = []
        for rows in self.batch_rows:
            bounds = _shares(rows, self.size)
            for r in range(self.size):
                k = int(bounds[r + 1] - bounds[r])
                pieces.append(parts[r][taken[r] : taken[r] + k])
                taken[r] += k
        return np.concatenate(pieces)

    def callbacks(self, callbacks: list) -> list:
        """The callbacks this rank runs: all on rank 0, those that write no file elsewhere."""
        if self.rank == 0:
            return callbacks
        return [cb for cb in callbacks if not isinstance(cb, FILE_WRITERS)]

    def checkpoint(self, state: dict) -> dict:
        """A training checkpoint as this rank resumes from it: without the state of the file
        writers it does not run."""
        if self.rank == 0 or not isinstance(state, dict):
            return state
        names = {cls.__name__ for cls in FILE_WRITERS}
        saved = state.get("callbacks")
        if isinstance(saved, list):
            state = dict(state)
            state["callbacks"] = [
                c for c in saved if not (isinstance(c, list) and c and c[0] in names)
            ]
        return state


def _agreed(error: Exception) -> Exception:
    """Mark an error that every rank raises at the same point: it is raised as it is."""
    error.agreed_by_all_ranks = True
    return error


class _RowsOfTheBatch(np.random.Generator):
    """descent's generator while a rank's forward runs: ``random`` of a shape whose first
    dim is the rank's rows draws the whole batch's and returns the rank's rows of it; every
    other draw is the generator's own. It shares the generator's bit generator."""

    def __init__(self, base: np.random.Generator, local: int, rows: int, start: int):
        super().__init__(base.bit_generator)
        self.local, self.all_rows, self.start = local, rows, start

    def random(self, size=None, dtype=np.float64, out=None):
        if out is None and isinstance(size, tuple) and size and size[0] == self.local:
            whole = super().random((self.all_rows, *size[1:]), dtype=dtype)
            return whole[self.start : self.start + self.local]
        return super().random(size, dtype=dtype, out=out)
