"""DataLoader: batches from a Dataset, shuffled by its own seeded generator, resumable."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from ..io.plain import plain_data
from ..ops.shape import stack
from ..random import restore_state
from ..tensor import Tensor, make_tensor, tensor
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


class Sampler:
    """An iterable of dataset indices (PyTorch's ``torch.utils.data.Sampler``): subclasses
    define ``__iter__`` and, when they know it, ``__len__``."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class SequentialSampler(Sampler):
    """The indices ``0, 1, ..., len(data_source) - 1`` in order.

    >>> list(ds.data.SequentialSampler(range(3)))
    [0, 1, 2]
    """

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """Random indices of ``data_source``: a new permutation each pass, or with
    ``replacement=True`` independent draws; ``num_samples`` of them (default: the
    dataset's length; without replacement, more than that chains permutations).

    ``generator`` is a NumPy Generator (descent's own is one), drawn from directly; with
    ``None`` each pass takes a seed from descent's generator, so ``ds.manual_seed`` makes
    the passes repeatable.

    >>> sorted(ds.data.RandomSampler(range(4), generator=np.random.default_rng(0)))
    [0, 1, 2, 3]
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        if not isinstance(replacement, bool):
            raise TypeError(
                f"replacement should be a boolean value, but got replacement={replacement}"
            )
        if generator is not None and not isinstance(generator, np.random.Generator):
            raise TypeError(
                f"RandomSampler: generator must be a NumPy Generator "
                f"(np.random.default_rng(seed)) or None, got {type(generator).__name__}"
            )
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        n = self.num_samples
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= 0:
            raise ValueError(
                f"num_samples should be a positive integer value, but got num_samples={n}"
            )

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n = len(self.data_source)
        if n == 0:  # torch divides by zero here
            raise ValueError(
                f"RandomSampler: the data source is empty, so there is nothing to draw "
                f"{self.num_samples} samples from; check the dataset or the split it came from"
            )
        rng = self.generator if self.generator is not None else np.random.default_rng(draw_seed())
        if self.replacement:
            return iter(rng.integers(n, size=self.num_samples).tolist())
        whole, rest = divmod(self.num_samples, n)
        parts = [rng.permutation(n) for _ in range(whole)] + [rng.permutation(n)[:rest]]
        return iter(np.concatenate(parts).tolist())

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a new random order each pass (``generator`` as for
    ``RandomSampler``).

    >>> sorted(ds.data.SubsetRandomSampler([5, 2, 9]))
    [2, 5, 9]
    """

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        rng = self.generator if self.generator is not None else np.random.default_rng(draw_seed())
        return iter(self.indices[i] for i in rng.permutation(len(self.indices)).tolist())

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices 0 .. len(weights) - 1, index i drawn with probability
    proportional to ``weights[i]``: independently (``replacement=True``), or each index
    at most once, in weighted random order (zero weights come last, as in PyTorch).

    ``generator`` as for ``RandomSampler`` (None: each pass seeds from descent's generator).

    >>> sorted(ds.utils.data.WeightedRandomSampler([0.0, 1.0, 3.0], 2, replacement=False))
    [1, 2]
    """

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        if (
            isinstance(num_samples, bool)
            or not isinstance(num_samples, (int, np.integer))
            or (num_samples <= 0)
        ):
            raise ValueError(
                f"num_samples should be a positive integer value, but got num_samples={num_samples}"
            )
        if not isinstance(replacement, bool):
            raise ValueError(
                f"replacement should be a boolean value, but got replacement={replacement}"
            )
        w = np.asarray(weights._data if isinstance(weights, Tensor) else weights, np.float64)
        if w.ndim != 1:
            raise ValueError(
                f"weights should be a 1d sequence but given weights have shape {tuple(w.shape)}"
            )
        if not np.isfinite(w).all() or (w < 0).any() or not w.sum() > 0:
            raise ValueError(
                "WeightedRandomSampler: weights must be finite and non-negative with a positive "
                f"sum, got {w.tolist() if w.size <= 10 else 'an array'}"
            )
        if not replacement and num_samples > w.size:
            raise ValueError(
                f"WeightedRandomSampler: cannot sample num_samples={num_samples} > "
                f"{w.size} weights without replacement"
            )
        self.weights = w
        self.num_samples = int(num_samples)
        self.replacement = replacement
        self.generator = generator

    def __iter__(self):
        rng = self.generator if self.generator is not None else np.random.default_rng(draw_seed())
        n = self.weights.size
        if self.replacement:
            p = self.weights / self.weights.sum()
            return iter(rng.choice(n, size=self.num_samples, p=p).tolist())
        # Efraimidis and Spirakis: the smallest Exp(1) / w keys are a weighted draw
        # without replacement (PyTorch's multinomial draws the same way)
        with np.errstate(divide="ignore"):
            keys = rng.exponential(size=n) / self.weights  # a zero weight: an infinite key
        return iter(np.argsort(keys, kind="stable")[: self.num_samples].tolist())

    def __len__(self) -> int:
        return self.num_samples


def get_worker_info():
    """None: descent loads every batch in the main process, where PyTorch answers None too."""
    return None


class BatchSampler(Sampler):
    """Group the indices of ``sampler`` into lists of ``batch_size``; ``drop_last=True``
    skips a last, smaller list.

    >>> list(ds.data.BatchSampler(range(5), batch_size=2, drop_last=False))
    [[0, 1], [2, 3], [4]]
    """

    def __init__(self, sampler, batch_size, drop_last):
        integer = isinstance(batch_size, (int, np.integer)) and not isinstance(batch_size, bool)
        if not integer or batch_size <= 0:
            raise ValueError(
                f"batch_size should be a positive integer value, but got batch_size={batch_size}"
            )
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = int(batch_size)
        self.drop_last = drop_last

    def __iter__(self):
        batch = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)


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

    PyTorch's keywords (keyword-only here; the fifth positional argument is ``seed``):
    ``sampler`` (an iterable of indices, exclusive with ``shuffle``) and ``batch_sampler``
    (an iterable of lists of indices, exclusive with ``batch_size``, ``shuffle``,
    ``sampler`` and ``drop_last``) choose the order instead of the loader; ``collate_fn``
    turns a list of examples into a batch instead of ``collate`` (a tuple it returns
    becomes a ``Batch``, anything else is yielded as it is; ``batch_indices`` names the
    examples either way); ``generator``, a NumPy Generator such as descent's, gives the
    loader its seed. descent loads in the main process: ``num_workers`` must be 0, and
    ``timeout``, ``worker_init_fn``, ``pin_memory``, ``pin_memory_device`` and
    ``in_order`` are accepted and change nothing; ``prefetch_factor``,
    ``persistent_workers`` and ``multiprocessing_context`` need workers and are refused,
    as PyTorch refuses them with ``num_workers=0``.

    With a ``sampler`` or ``batch_sampler``, each epoch is a new pass over it, and
    ``load_state_dict`` resumes by passing over it again and skipping the batches already
    yielded: exactly the batches an uninterrupted loader would yield when the sampler gives
    the same order on every pass (a list, ``SequentialSampler``, a sampler of a fixed
    seed); a ``RandomSampler`` draws a new order, so a resumed epoch yields the rest of
    the epoch's batches in number, not the same examples.

    >>> data = ds.data.TensorDataset(np.arange(10.0).reshape(5, 2), np.arange(5))
    >>> loader = ds.data.DataLoader(data, batch_size=2, shuffle=True, seed=0)
    >>> len(loader), [y.shape for x, y in loader]
    (3, [descent.Size([2]), descent.Size([2]), descent.Size([1])])
    """

    def __init__(
        self,
        dataset,
        batch_size: int | None = 1,
        shuffle: bool | None = False,
        drop_last: bool = False,
        seed: int | None = None,
        *,
        sampler=None,
        batch_sampler=None,
        num_workers: int = 0,
        collate_fn=None,
        pin_memory: bool = False,
        timeout: float = 0,
        worker_init_fn=None,
        multiprocessing_context=None,
        generator=None,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        in_order: bool = True,
    ):
        _check_main_process(
            num_workers, timeout, multiprocessing_context, prefetch_factor, persistent_workers
        )
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(
                f"DataLoader: collate_fn must be a function of a list of examples, got "
                f"{type(collate_fn).__name__}"
            )
        if generator is not None and not isinstance(generator, np.random.Generator):
            raise TypeError(
                f"DataLoader: generator must be a NumPy Generator (descent's generator, or "
                f"np.random.default_rng(seed)) or None, got {type(generator).__name__}"
            )
        if generator is not None and seed is not None:
            raise ValueError(
                "DataLoader: give seed or generator, not both (the loader's seed is drawn "
                "from generator)"
            )
        for name, given in (("sampler", sampler), ("batch_sampler", batch_sampler)):
            if given is not None and not hasattr(given, "__iter__"):
                raise TypeError(
                    f"DataLoader: {name} must be an iterable of "
                    f"{'indices' if name == 'sampler' else 'lists of indices'} (a Sampler, "
                    f"a list, a range), got {type(given).__name__}"
                )
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive with batch_size, shuffle, "
                    "sampler, and drop_last"
                )
            batch_size = None
        elif sampler is not None:
            _check_batch_size(batch_size)
            batch_sampler = BatchSampler(sampler, int(batch_size), bool(drop_last))
        else:
            _check_batch_size(batch_size)
            n = len(dataset)
            if n == 0:
                raise ValueError(
                    "DataLoader: dataset is empty (len 0), so there is nothing to batch; check "
                    "the split or the file it came from"
                )
            if drop_last and n < batch_size:
                raise ValueError(
                    f"DataLoader: drop_last=True with batch_size={batch_size} and only {n} "
                    f"examples would yield no batch at all; lower batch_size or set "
                    f"drop_last=False"
                )
        self.dataset = dataset
        self.batch_size = None if batch_size is None else int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self._batch_sampler = batch_sampler  # None: the loader's own order (and fast path)
        self.collate_fn = None if collate_fn is collate else collate_fn
        self.num_workers = 0
        self.pin_memory = bool(pin_memory)  # there is only the CPU: nothing to pin
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.generator = generator
        if seed is None:
            seed = draw_seed() if generator is None else int(generator.integers(2**63))
        self.seed = int(seed)
        self._rng = np.random.default_rng(self.seed)
        self._epoch = 0  # epochs finished (the index of the current or next epoch)
        self._position = 0  # batches of the current epoch already yielded
        self._epoch_state = self._rng.bit_generator.state  # at the start of the epoch
        self._resume = False  # True after load_state_dict: the next loop continues
        self._last_indices = np.zeros(0, dtype=np.int64)

    def __len__(self) -> int:
        if self._batch_sampler is not None:
            return len(self._batch_sampler)  # a TypeError if the sampler has no length
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
        if self._batch_sampler is not None:
            return self._sampled_batches(self._position)
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

    def _sampled_batches(self, start: int):
        """The batches of the user's sampler or batch_sampler: a new pass over it, less the
        ``start`` batches already yielded; one batch is read ahead to know the last."""
        self._resume = False
        batches = iter(self._batch_sampler)
        for _ in range(start):
            next(batches, None)
        upcoming = next(batches, None)
        b = start
        while upcoming is not None:
            current, upcoming = upcoming, next(batches, None)
            self._last_indices = _as_indices(current)
            batch = self._fetch(self._last_indices)
            if upcoming is None:
                self._next_epoch()
            else:
                self._position = b = b + 1
            yield batch

    def _next_epoch(self) -> None:
        """Move to the next epoch; the generator has already drawn this epoch's order."""
        self._epoch += 1
        self._position = 0
        self._epoch_state = self._rng.bit_generator.state

    def _fetch(self, indices: np.ndarray):
        tensors, base = _tensor_source(self.dataset)
        if tensors is not None and self.collate_fn is None:
            rows = indices if base is None else base[indices]
            return Batch([_rows_of(t, rows) for t in tensors], indices)
        batch = (self.collate_fn or collate)([self.dataset[_key(i)] for i in indices])
        # a plain tuple of fields learns its indices; any other result (a dict, a Tensor, a
        # user's namedtuple) is yielded as it came
        return Batch(batch, indices) if type(batch) is tuple else batch

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
            if _known_length(self) is not None and position >= len(self):
                raise ValueError(
                    f"DataLoader.load_state_dict: position {position} is past the end of an "
                    f"epoch of {len(self)} batches"
                )
        if state.get("shuffle", self.shuffle) != self.shuffle and position > 0:
            raise ValueError(
                "DataLoader.load_state_dict: cannot resume in the middle of an epoch after "
                f"changing shuffle {state['shuffle']} -> {self.shuffle}"
            )
        restore_state(
            self._rng.bit_generator, state["rng_state"], "DataLoader.load_state_dict",
            "DataLoader.state_dict()['rng_state']",
        )  # fmt: skip
        self._epoch = int(state["epoch"])
        self._position = position
        self._epoch_state = self._rng.bit_generator.state
        self.seed = int(state.get("seed", self.seed))
        self._resume = True


def _check_batch_size(batch_size) -> None:
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
        raise TypeError(f"DataLoader: batch_size must be an int, got {batch_size!r}")
    if batch_size < 1:
        raise ValueError(f"DataLoader: batch_size must be at least 1, got {batch_size}")


def _check_main_process(
    num_workers, timeout, multiprocessing_context, prefetch_factor, persistent_workers
) -> None:
    """PyTorch's worker options: descent loads every batch in the main process."""
    if isinstance(num_workers, bool) or not isinstance(num_workers, (int, np.integer)):
        raise TypeError(f"DataLoader: num_workers must be an int, got {num_workers!r}")
    if num_workers < 0:
        raise ValueError(
            "num_workers option should be non-negative; use num_workers=0 to disable "
            "multiprocessing."
        )
    if num_workers > 0:
        raise ValueError(
            f"DataLoader: num_workers={num_workers}, but descent loads every batch in the "
            f"main process (there are no worker processes); use num_workers=0"
        )
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(
            f"DataLoader: timeout must be a number of seconds, got {type(timeout).__name__}"
        )
    if timeout < 0:
        raise ValueError("timeout option should be non-negative")
    if multiprocessing_context is not None:
        raise ValueError(
            "multiprocessing_context can only be used with multi-process loading "
            "(num_workers > 0), but got num_workers=0"
        )
    if prefetch_factor is not None:
        raise ValueError(
            "prefetch_factor option could only be specified in multiprocessing; descent loads "
            "in the main process (num_workers=0), so set prefetch_factor to None"
        )
    if persistent_workers:
        raise ValueError(
            "persistent_workers option needs num_workers > 0; descent loads in the main "
            "process, so set persistent_workers=False"
        )


def _as_indices(batch) -> np.ndarray:
    """A batch of indices from a sampler as an array (int64 when they are integers)."""
    indices = np.asarray(list(batch))
    return indices.astype(np.int64) if indices.dtype.kind in "iu" or not indices.size else indices


def _known_length(loader) -> int | None:
    """The number of batches in an epoch, or None for a sampler without a length."""
    try:
        return len(loader)
    except TypeError:
        return None


def _key(index):
    """An index as a dataset takes it: integers as Python ints, other keys as they are."""
    return int(index) if isinstance(index, np.integer) else index


def _rows_of(t: Tensor, rows: np.ndarray) -> Tensor:
    """``t[rows]``, the rows of one field of a batch.

    NOTE: a field that needs no gradient (data, labels: the usual case) is copied out with
    NumPy directly, without the indexing op and its bookkeeping, a third of a batch's
    fetch time; ``take`` along the first axis is quicker than fancy indexing for rows of
    two or more dims, fancy indexing for one. A field that requires a gradient, indices
    that are not integers (a mask) and an index out of range (for the op's message) go
    through the op.
    """
    if t.requires_grad or t.__class__ is not Tensor or rows.dtype.kind not in "iu":
        return t[rows]
    d = t._data
    try:
        return make_tensor(d[rows] if d.ndim == 1 else d.take(rows, axis=0))
    except IndexError:
        return t[rows]


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
    Tensor: Tensors, arrays and NumPy scalars keep their dtype, Python floats give float64
    and ints int64, as PyTorch's ``default_collate``.
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
        arr = _stack_arrays([e._data for e in examples])
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
