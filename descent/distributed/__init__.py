"""``ds.distributed``: data-parallel training over MPI (the ``descent[distributed]`` extra).

Each process of an ``mpiexec -n N`` job (a *rank*) holds a replica of the model; the
ranks exchange NumPy buffers through mpi4py, never pickled objects. ``fit(...,
distributed=True)`` uses these to split every batch across the ranks and sum the
gradients; ``ds.data.DistributedSampler`` (PyTorch's ``torch.utils.data`` name) gives
each rank its own shard of a dataset, for a training loop of one's own.

>>> ds.distributed.init()  # mpiexec -n 2 python train.py
>>> ds.distributed.broadcast_parameters(model)  # every rank starts from rank 0's weights
"""

from .comm import (
    abort_on_error,
    all_reduce,
    barrier,
    broadcast,
    broadcast_parameters,
    data_parallel,
    global_batch_rows,
    in_data_parallel,
    init,
    is_initialized,
    is_main,
    launched_by_mpi,
    rank,
    world_size,
)

__all__ = [
    "init", "is_initialized", "launched_by_mpi", "rank", "world_size", "is_main", "barrier",
    "all_reduce", "broadcast", "broadcast_parameters", "abort_on_error", "data_parallel",
    "in_data_parallel", "global_batch_rows",
]  # fmt: skip
