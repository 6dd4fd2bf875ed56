"""DistributedSampler: each rank of an MPI job its own shard of the dataset's indices."""

from __future__ import annotations

import math

import numpy as np

from ..distributed import rank as _rank
from ..distributed import world_size as _world_size
from .loader import Sampler


class DistributedSampler(Sampler):
    """The indices of ``dataset`` that rank ``rank`` of ``num_replicas`` ranks visits in an
    epoch (PyTorch's ``torch.utils.data.DistributedSampler``): the ranks' shards are
    disjoint and together they are the epoch.

    With ``shuffle`` the epoch's order is a permutation drawn from ``seed + epoch`` (call
    ``set_epoch(epoch)`` before each epoch, or every epoch repeats the first one's order),
    the same on every rank; rank ``r`` takes every ``num_replicas``-th index of it from the
    ``r``-th. When the dataset does not divide evenly, ``drop_last=False`` pads the order
    by repeating its first indices, so every rank gets ``ceil(len / num_replicas)``
    (a few examples are then seen twice in the epoch), and ``drop_last=True`` leaves out
    its tail instead, so every rank gets ``floor(len / num_replicas)``.
    ``num_replicas`` and ``rank`` default to the MPI job's (``ds.distributed``).

    >>> s = ds.data.DistributedSampler(range(5), num_replicas=2, rank=1, shuffle=False)
    >>> list(s)
    [1, 3, 0]
    """

    def __init__(
        self,
        dataset,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ):
        num_replicas = _world_size() if num_replicas is None else num_replicas
        rank = _rank() if rank is None else rank
        for name, value, low in (("num_replicas", num_replicas, 1), ("seed", seed, 0)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise ValueError(
                    f"DistributedSampler: {name} must be an int >= {low}, got {value!r}"
                )
        if isinstance(rank, bool) or not isinstance(rank, (int, np.integer)):
            raise ValueError(f"DistributedSampler: rank must be an int, got {rank!r}")
        if not 0 <= rank < num_replicas:
            raise ValueError(
                f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]"
            )
        self.dataset = dataset
        self.num_replicas = int(num_replicas)
        self.rank = int(rank)
        self.shuffle = bool(shuffle)
        self.seed = int(seed)
        self.drop_last = bool(drop_last)
        self.epoch = 0
        n = len(dataset)
        if self.drop_last and n % self.num_replicas:
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            order = np.random.default_rng(self.seed + self.epoch).permutation(n)
        else:
            order = np.arange(n)
        if self.drop_last:
            order = order[: self.total_size]
        elif self.total_size > n:  # pad by repeating the order from its start
            order = np.resize(order, self.total_size)
        return iter(order[self.rank : self.total_size : self.num_replicas].tolist())

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Use epoch ``epoch``'s order (with ``shuffle``): call it before each epoch."""
        self.epoch = int(epoch)
