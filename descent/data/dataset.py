"""Datasets: the abstract Dataset, TensorDataset over arrays, Subset and random_split."""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import accumulate

import numpy as np

from .. import random as _random
from ..tensor import Tensor, tensor


class Dataset:
    """An indexable collection of examples: subclasses define ``__len__`` and ``__getitem__``.

    ``dataset[i]`` returns one example, usually a tuple such as ``(x, y)``; a DataLoader
    stacks examples into batches.

    >>> class Squares(ds.data.Dataset):
    ...     def __len__(self):
    ...         return 4
    ...     def __getitem__(self, i):
    ...         return ds.tensor([float(i)]), ds.tensor(i * i)
    >>> len(Squares())
    4
    """

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")


def as_data_tensor(value) -> Tensor:
    """``value`` as a Tensor: Tensors as they are, anything else through ``ds.tensor``
    (so an array keeps its dtype and a list of Python floats takes the default dtype)."""
    return value if isinstance(value, Tensor) else tensor(value)


class TensorDataset(Dataset):
    """Examples made of rows of equally long Tensors or arrays: item ``i`` is
    ``(a[i], b[i], ...)``.

    Tensors are used as they are; arrays and lists go through ``ds.tensor`` (an array
    keeps its dtype, as ``torch.tensor`` keeps it: a float64 array gives float64 rows, so
    convert it, ``X.astype(np.float32)``, for a float32 model; ``fit`` given (X, y)
    converts floating arrays to the model's dtype itself).

    >>> data = ds.data.TensorDataset(np.zeros((5, 3)), np.arange(5))
    >>> x, y = data[2]
    >>> x.shape, y.item(), len(data)
    (descent.Size([3]), 2, 5)
    """

    def __init__(self, *arrays):
        if not arrays:
            raise ValueError("TensorDataset: give at least one tensor or array")
        tensors = tuple(as_data_tensor(a) for a in arrays)
        for i, t in enumerate(tensors):
            if t.ndim == 0:
                raise ValueError(
                    f"TensorDataset: argument {i} is a 0-d tensor; each argument needs a first "
                    f"dimension that indexes the examples"
                )
        sizes = [t.shape[0] for t in tensors]
        if len(set(sizes)) > 1:
            raise ValueError(
                f"TensorDataset: all arguments must have the same first dimension (one row per "
                f"example), got sizes {sizes} for arguments 0..{len(sizes) - 1}"
            )
        self.tensors = tensors

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)


class Subset(Dataset):
    """The examples of ``dataset`` at ``indices``, in that order.

    >>> part = ds.data.Subset(ds.data.TensorDataset(np.arange(10)), [7, 3])
    >>> [x.item() for (x,) in part]
    [7, 3]
    """

    def __init__(self, dataset, indices: Sequence[int]):
        self.dataset = dataset
        indices = np.asarray(indices)
        if indices.ndim != 1 or (indices.size and indices.dtype.kind not in "iu"):
            raise TypeError(
                f"Subset: indices must be a 1-d sequence of integers, got an array of shape "
                f"{tuple(indices.shape)} and dtype {indices.dtype}"
            )
        n = len(dataset)
        if indices.size and (indices.min() < -n or indices.max() >= n):
            raise IndexError(
                f"Subset: indices must lie in [-{n}, {n - 1}] for a dataset of {n} examples, "
                f"got values from {indices.min()} to {indices.max()}"
            )
        self.indices = indices.astype(np.int64) % max(n, 1)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index):
        if isinstance(index, (int, np.integer)):
            return self.dataset[int(self.indices[index])]
        return [self.dataset[int(i)] for i in self.indices[index]]


class ConcatDataset(Dataset):
    """The examples of several datasets, one after another (``torch.utils.data.ConcatDataset``).

    >>> both = ds.data.ConcatDataset([range(3), range(10, 12)])
    >>> len(both), both[3], both[-1]
    (5, 10, 11)
    """

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int):
        n = len(self)
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(
                f"ConcatDataset: an index must be an integer, got {type(index).__name__} "
                f"({index!r}); take several examples with ds.data.Subset(dataset, indices)"
            )
        if not -n <= index < n:
            raise IndexError(f"ConcatDataset: index {index} is out of range for {n} examples")
        index %= n
        which = int(np.searchsorted(self.cumulative_sizes, index, side="right"))
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]


def split_lengths(n: int, lengths: Sequence) -> list[int]:
    """Part sizes from counts (ints summing to ``n``) or fractions (floats summing to 1).

    Fractions are floored and the remainder is handed out one by one from the first part,
    as ``torch.utils.data.random_split`` does.
    """
    lengths = list(lengths)
    if not lengths:
        raise ValueError("random_split: lengths is empty; give counts or fractions")
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in lengths):
        if any(v < 0 for v in lengths):
            raise ValueError(f"random_split: lengths must not be negative, got {lengths}")
        if sum(lengths) != n:
            raise ValueError(
                f"random_split: the lengths {lengths} add up to {sum(lengths)} but the dataset "
                f"has {n} examples; give counts that sum to {n} or fractions that sum to 1"
            )
        return [int(v) for v in lengths]
    fractions = [float(v) for v in lengths]
    if any(not 0.0 <= f <= 1.0 for f in fractions) or not math.isclose(
        sum(fractions), 1.0, abs_tol=1e-6
    ):
        raise ValueError(
            f"random_split: fractions must lie in [0, 1] and sum to 1, got {lengths} "
            f"(sum {sum(fractions):g}); or give integer counts that sum to {n}"
        )
    counts = [math.floor(n * f) for f in fractions]
    for i in range(n - sum(counts)):
        counts[i % len(counts)] += 1
    return counts


def random_split(
    dataset, lengths: Sequence, seed: int | None = None, *, generator=None
) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random Subsets of the given lengths.

    ``lengths`` holds counts (ints that sum to ``len(dataset)``) or fractions (floats that
    sum to 1). The permutation comes from ``generator`` (PyTorch's keyword: a
    ``ds.Generator().manual_seed(42)`` or any NumPy Generator), else from
    ``np.random.default_rng(seed)``; with neither it comes from descent's generator, so
    ``ds.manual_seed`` makes it repeatable.

    >>> train, val = ds.data.random_split(ds.data.TensorDataset(np.arange(10)), [0.8, 0.2], seed=0)
    >>> len(train), len(val)
    (8, 2)
    """
    if generator is not None and not isinstance(generator, np.random.Generator):
        raise TypeError(
            f"random_split: generator must be a ds.Generator or a NumPy Generator, got "
            f"{type(generator).__name__}"
        )
    if generator is not None and seed is not None:
        raise ValueError("random_split: pass a seed or a generator, not both")
    n = len(dataset)
    counts = split_lengths(n, lengths)
    rng = (
        generator
        if generator is not None
        else np.random.default_rng(draw_seed() if seed is None else seed)
    )
    order = rng.permutation(n)
    return [
        Subset(dataset, order[end - count : end]) for end, count in zip(accumulate(counts), counts)
    ]


def draw_seed() -> int:
    """A seed drawn from descent's generator (so ``ds.manual_seed`` fixes it)."""
    return int(_random.generator().integers(2**63))
