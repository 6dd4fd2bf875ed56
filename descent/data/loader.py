"""DataLoader: batches from a Dataset, shuffled by its own seeded generator, resumable."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from ..io.plain import plain_data
from ..ops.shape import stack
from ..tensor import Tensor, tensor
from .dataset import Subset, TensorDataset, draw_seed


class Batch(tuple):
    """A batch's fields, ``(x_batch, y_batch, ...)``, and ``indices``: the dataset indices
    of its examples, in order.

    >>> data = ds.data.TensorDataset(np.arange(10.0).reshape(5, 2), np.arange(5) * 10)
    >>> batch = next(iter(ds.data.DataLoader(data, batch_size=2, shuffle=True, seed=0)))
    >>> x, y = batch
    >>> batch.indices, y.tolist()
    (array([2, 4]), [20, 40])
    """

    indices: np.ndarray

    def __new__(cls, fields, indices: np.ndarray):
        batch = super().__new__(cls, fields)
        batch.indices = indices
        return batch

    def __getnewargs__(self):  # copy.copy, copy.deepcopy and pickle rebuild it whole
        return tuple(self), self.indices


class DataLoader:
    """Iterate over ``dataset`` in batches of ``batch_size`` examples.

    Each batch has the structure of one example with every field stacked along a new
    first dim: a TensorDataset gives tuples of Tensors ``(x_batch, y_batch)``. With
    ``shuffle=True`` every epoch visits the examples in a new order drawn from the
    loader's own generator, ``np.random.default_rng(seed)``; ``seed=None`` draws the seed
    from descent's generator, so ``ds.manual_seed`` makes runs repeatable.
    ``drop_last=True`` skips a last, smaller batch.

    The loader remembers where it is: ``state_dict()`` holds the epoch, the batches already
    yielded in it and the generator's state at its start, and ``load_state_dict`` resumes
    with exactly the batches an uninterrupted loader would yield next. Each ``for`` loop
    runs the next epoch (a loop left early, by ``break``, abandons the rest of its epoch);
    the first loop after ``load_state_dict`` continues the saved epoch where it stopped.
    A batch of fields is a ``Batch``: a tuple that also knows the dataset indices of its
    examples (``batch.indices``, which ``fit`` hands to the optimizer's step).

    >>> data = ds.data.TensorDataset(np.arange(10.0).reshape(5, 2), np.arange(5))
    >>> loader = ds.data.DataLoader(data, batch_size=2, shuffle=True, seed=0)
    >>> len(loader), [y.shape for x, y in loader]
    (3, [(2,), (2,), (1,)])
    """

    def __init__(
        self,
        dataset,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        seed: int | None = None,
    ):
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
            raise TypeError(f"DataLoader: batch_size must be an int, got {batch_size!r}")
        if batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be at least 1, got {batch_size}")
        n = len(dataset)
        if n == 0:
            raise ValueError(
                "DataLoader: dataset is empty (len 0), so there is nothing to batch; check the "
                "split or the file it came from"
            )
        if drop_last and n < batch_size:
            raise ValueError(
                f"DataLoader: drop_last=True with batch_size={batch_size} and only {n} examples "
                f"would yield no batch at all; lower batch_size or set drop_last=False"
            )
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.seed = draw_seed() if seed is None else int(seed)
        self._rng = np.random.default_rng(self.seed)
        self._epoch = 0  # epochs finished (the index of the current or next epoch)
        self._position = 0  # batches of the current epoch already yielded
        self._epoch_state = self._rng.bit_generator.state  # at the start of the epoch
        self._resume = False  # True after load_state_dict: the next loop continues
        self._last_indices = np.zeros(0, dtype=np.int64)

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    @property
    def epoch(self) -> int:
        """The number of epochs finished."""
        return self._epoch

    @property
    def batch_indices(self) -> np.ndarray:
        """The dataset indices of the batch yielded last (every batch of fields also
        carries its own, ``batch.indices``; this serves batches of one Tensor or a dict)."""
        return self._last_indices

    def __iter__(self):
        if self._position > 0 and not self._resume:
            self._next_epoch()  # the last loop was left early: its epoch is abandoned
        # Regenerate the epoch's order from the state at its start; a resumed epoch
        # then skips the batches that were already yielded.
        self._rng.bit_generator.state = self._epoch_state
        n = len(self.dataset)
        order = self._rng.permutation(n) if self.shuffle else np.arange(n)
        return self._batches(order, self._position)

    def _batches(self, order: np.ndarray, start: int):
        self._resume = False  # runs at the first next(): an unused iterator changes nothing
        count = len(self)
        for b in range(start, count):
            self._last_indices = order[b * self.batch_size : (b + 1) * self.batch_size]
            batch = self._fetch(self._last_indices)
            # The last batch moves the loader to the next epoch before it is yielded, so a
            # checkpoint saved while it is in use already points at the next epoch.
            if b + 1 == count:
                self._next_epoch()
            else:
                self._position = b + 1
            yield batch

    def _next_epoch(self) -> None:
        """Move to the next epoch; the generator has already drawn this epoch's order."""
        self._epoch += 1
        self._position = 0
        self._epoch_state = self._rng.bit_generator.state

    def _fetch(self, indices: np.ndarray):
        tensors, base = _tensor_source(self.dataset)
        if tensors is not None:
            rows = indices if base is None else base[indices]
            return Batch((t[rows] for t in tensors), indices)  # one indexing op per field
        batch = collate([self.dataset[int(i)] for i in indices])
        return Batch(batch, indices) if isinstance(batch, tuple) else batch

    # ---- checkpointing -----------------------------------------------------------------
    def state_dict(self) -> dict:
        """The loader's position as plain data (ints, strings, dicts): the epoch, the
        batches already yielded in it, and the generator's state at the epoch's start."""
        return {
            "epoch": self._epoch,
            "position": self._position,
            "rng_state": plain_data(self._epoch_state),
            "seed": self.seed,
            "num_examples": len(self.dataset),
            "batch_size": self.batch_size,
            "shuffle": self.shuffle,
            "drop_last": self.drop_last,
        }

    def load_state_dict(self, state: dict) -> None:
        """Resume from ``state_dict()``: the next loop yields exactly the batches that the
        saved loader would have yielded next, and later epochs follow identically."""
        if not isinstance(state, Mapping):
            raise TypeError(
                f"DataLoader.load_state_dict expects the dict that DataLoader.state_dict() "
                f"returns, got a {type(state).__name__}"
            )
        missing = {"epoch", "position", "rng_state"} - set(state)
        if missing:
            raise KeyError(
                f"DataLoader.load_state_dict: missing keys {sorted(missing)}; expected the "
                f"dict that DataLoader.state_dict() returns"
            )
        for key in ("epoch", "position", "seed"):
            value = state.get(key, 0)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
                raise ValueError(
                    f"DataLoader.load_state_dict: {key} must be an int >= 0, got {value!r}"
                )
        position = int(state["position"])
        if position > 0:
            saved = {k: state[k] for k in ("num_examples", "batch_size", "drop_last") if k in state}
            mine = {"num_examples": len(self.dataset), "batch_size": self.batch_size}
            mine["drop_last"] = self.drop_last
            changed = [k for k in saved if saved[k] != mine[k]]
            if changed:
                diffs = ", ".join(f"{k} {saved[k]} -> {mine[k]}" for k in changed)
                raise ValueError(
                    f"DataLoader.load_state_dict: cannot resume in the middle of an epoch "
                    f"after changing {diffs}; build the loader as it was saved"
                )
            if position >= len(self):
                raise ValueError(
                    f"DataLoader.load_state_dict: position {position} is past the end of an "
                    f"epoch of {len(self)} batches"
                )
        if state.get("shuffle", self.shuffle) != self.shuffle and position > 0:
            raise ValueError(
                "DataLoader.load_state_dict: cannot resume in the middle of an epoch after "
                f"changing shuffle {state['shuffle']} -> {self.shuffle}"
            )
        before = self._rng.bit_generator.state
        try:
            self._rng.bit_generator.state = state["rng_state"]
        except (TypeError, ValueError, KeyError, OverflowError) as e:
            self._rng.bit_generator.state = before
            raise ValueError(
                f"DataLoader.load_state_dict: rng_state is not a state of "
                f"{type(self._rng.bit_generator).__name__}: {e}"
            ) from e
        self._epoch = int(state["epoch"])
        self._position = position
        self._epoch_state = self._rng.bit_generator.state
        self.seed = int(state.get("seed", self.seed))
        self._resume = True


def _tensor_source(dataset):
    """``(tensors, base_indices)`` when ``dataset`` is a TensorDataset or a chain of Subsets
    of one, so a batch is one fancy index per field; ``(None, None)`` otherwise."""
    base = None
    while _plain_class(dataset, Subset):
        base = dataset.indices if base is None else dataset.indices[base]
        dataset = dataset.dataset
    if _plain_class(dataset, TensorDataset):
        return dataset.tensors, base
    return None, None


def _plain_class(dataset, cls) -> bool:
    """An instance of ``cls`` whose items are ``cls``'s (a subclass may change them)."""
    return isinstance(dataset, cls) and type(dataset).__getitem__ is cls.__getitem__


def collate(examples: list):
    """Stack a list of examples field by field along a new first dim.

    Tuples and lists give tuples, dicts give dicts, Tensors, arrays and numbers give one
    Tensor (Tensors keep their dtype; others go through ``ds.tensor``).
    """
    first = examples[0]
    if isinstance(first, (tuple, list)):
        if any(len(e) != len(first) for e in examples):
            raise ValueError(
                f"DataLoader: examples have different numbers of fields "
                f"{sorted({len(e) for e in examples})}; a Dataset must return one structure"
            )
        return tuple(collate([e[i] for e in examples]) for i in range(len(first)))
    if isinstance(first, dict):
        return {k: collate([e[k] for e in examples]) for k in first}
    if isinstance(first, Tensor):
        if any(e.requires_grad for e in examples):
            return stack(examples)
        arr = _stack_arrays([e.data for e in examples])
        return tensor(arr, dtype=arr.dtype)
    return tensor(_stack_arrays([np.asarray(e) for e in examples]))


def _stack_arrays(arrays: list) -> np.ndarray:
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise ValueError(
            f"DataLoader: cannot stack examples of different shapes {sorted(shapes)} into a "
            f"batch; pad or resize them in the Dataset"
        )
    return np.stack(arrays)
