"""train_val_test_split: one call for three disjoint parts, optionally stratified by class."""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from ..tensor import Tensor
from .dataset import draw_seed

PART_NAMES = ("train", "val", "test")


def train_val_test_split(
    *arrays,
    fractions=(0.6, 0.2, 0.2),
    seed: int | None = None,
    stratify=None,
    shuffle: bool = True,
) -> list:
    """Split arrays (or Tensors) of one length into train, validation and test parts.

    Returns, for each input, its three parts in scikit-learn's ``train_test_split`` order:
    ``[a_train, a_val, a_test, b_train, b_val, b_test, ...]``. Tensors give Tensors, anything
    else gives NumPy arrays. The part sizes are ``fractions`` of the examples (rounded so they
    add up; a zero fraction gives an empty part). ``stratify`` (class labels, one per
    example) keeps each class's share in every part within one example of its share of the
    whole. ``seed=None`` draws from descent's generator, so ``ds.manual_seed`` repeats it;
    ``shuffle=False`` cuts the data in order.

    >>> X, y = np.arange(20).reshape(10, 2), np.arange(10)
    >>> X_tr, X_val, X_te, y_tr, y_val, y_te = train_val_test_split(X, y, seed=0)
    >>> len(X_tr), len(X_val), len(X_te)
    (6, 2, 2)
    """
    if not arrays:
        raise ValueError("train_val_test_split: give at least one array to split")
    n = _common_length(arrays)
    counts = part_sizes(n, fractions)
    if stratify is None:
        if shuffle:
            order = np.random.default_rng(draw_seed() if seed is None else seed).permutation(n)
        else:
            order = np.arange(n)
        ends = np.cumsum(counts)
        parts = [order[: ends[0]], order[ends[0] : ends[1]], order[ends[1] :]]
    else:
        if not shuffle:
            raise ValueError(
                "train_val_test_split: stratify needs shuffle=True (a stratified split picks "
                "examples of each class at random)"
            )
        rng = np.random.default_rng(draw_seed() if seed is None else seed)
        parts = _stratified_parts(_labels(stratify, n), counts, rng)
    out = []
    for a in arrays:
        for idx in parts:
            out.append(_take(a, idx))
    return out


def part_sizes(n: int, fractions) -> list[int]:
    """Three counts summing to ``n``, proportional to ``fractions`` (largest remainders)."""
    fractions = [float(f) for f in np.ravel(fractions)]
    if len(fractions) != 3:
        raise ValueError(
            f"train_val_test_split: fractions needs three numbers (train, val, test), got "
            f"{len(fractions)}: {fractions}"
        )
    if any(not 0.0 <= f <= 1.0 for f in fractions) or not math.isclose(
        sum(fractions), 1.0, abs_tol=1e-6
    ):
        raise ValueError(
            f"train_val_test_split: fractions must lie in [0, 1] and sum to 1, got "
            f"{tuple(fractions)} (sum {sum(fractions):g}); e.g. (0.6, 0.2, 0.2)"
        )
    exact = [f * n / sum(fractions) for f in fractions]
    counts = [math.floor(e + 1e-9) for e in exact]
    by_remainder = sorted(range(3), key=lambda i: counts[i] - exact[i])  # stable: ties in order
    for i in by_remainder[: max(n - sum(counts), 0)]:
        counts[i] += 1
    while sum(counts) > n:  # only when float rounding pushed a share just past an integer
        counts[by_remainder[-1]] -= 1
        by_remainder.pop()
    for name, f, c in zip(PART_NAMES, fractions, counts):
        if f > 0 and c == 0:
            raise ValueError(
                f"train_val_test_split: {n} examples are too few for fractions "
                f"{tuple(fractions)}: the {name} part would be empty; use at least "
                f"{math.ceil(1 / f)} examples, or a {name} fraction of 0"
            )
    return counts


def _common_length(arrays) -> int:
    lengths = []
    for a in arrays:
        shape = a.shape if isinstance(a, Tensor) else np.shape(a)
        if len(shape) == 0:
            raise ValueError("train_val_test_split: cannot split a 0-d value; give arrays")
        lengths.append(shape[0])
    if len(set(lengths)) > 1:
        raise ValueError(
            f"train_val_test_split: all arrays must have the same first dimension (one row per "
            f"example), got lengths {lengths}"
        )
    return lengths[0]


def _labels(stratify, n: int) -> np.ndarray:
    """Class labels as codes 0..k-1, one per example."""
    labels = np.asarray(stratify._data if isinstance(stratify, Tensor) else stratify)
    if labels.ndim == 0 or labels.shape[0] != n:
        raise ValueError(
            f"train_val_test_split: stratify must hold one label per example ({n}), got shape "
            f"{tuple(labels.shape)}"
        )
    if labels.ndim == 1:
        _, codes = np.unique(labels, return_inverse=True)
    else:  # one row per example, e.g. one-hot labels
        _, codes = np.unique(labels.reshape(n, -1), axis=0, return_inverse=True)
    return codes.reshape(n)


def _stratified_parts(codes: np.ndarray, counts: list[int], rng) -> list[np.ndarray]:
    """Per class, split its examples so every part gets ``n_class * n_part / n`` of them,
    rounded down or up, with the part sizes exactly ``counts``."""
    n = len(codes)
    class_sizes = np.bincount(codes)
    # (k, 3): the rounded-down shares, then the extra examples that rounding left over.
    shares = [[int(s) * c // n for c in counts] for s in class_sizes]
    fractional = [[int(s) * c % n != 0 for c in counts] for s in class_sizes]
    row_extra = [int(s) - sum(row) for s, row in zip(class_sizes, shares)]
    col_extra = [c - sum(row[p] for row in shares) for p, c in enumerate(counts)]
    extras = _round_up_cells(row_extra, col_extra, fractional, rng.permutation(len(class_sizes)))
    for c, p in extras:
        shares[c][p] += 1
    parts = [[], [], []]
    for c in range(len(class_sizes)):
        members = rng.permutation(np.flatnonzero(codes == c))
        ends = np.cumsum(shares[c])
        parts[0].append(members[: ends[0]])
        parts[1].append(members[ends[0] : ends[1]])
        parts[2].append(members[ends[1] :])
    return [rng.permutation(np.concatenate(p)).astype(np.int64) for p in parts]


def _round_up_cells(row_extra, col_extra, allowed, class_order) -> list[tuple[int, int]]:
    """Pick cells (class, part) to round up: each class ``c`` gets ``row_extra[c]`` of them,
    each part ``p`` gets ``col_extra[p]``, only where the share was fractional.

    A bipartite flow (augmenting paths, source -> class -> part -> sink). It always succeeds:
    the fractional parts of the shares are such a flow, so an integral one exists.
    """
    k = len(row_extra)
    taken = [[False] * 3 for _ in range(k)]
    col_left = list(col_extra)
    for c in class_order:
        for _ in range(row_extra[c]):
            path = _augmenting_path(c, taken, allowed, col_left)
            if path is None:
                raise AssertionError("stratified rounding found no assignment")  # cannot happen
            for cls, part, add in path:
                taken[cls][part] = add
            col_left[path[-1][1]] -= 1
    return [(c, p) for c in range(k) for p in range(3) if taken[c][p]]


def _augmenting_path(start, taken, allowed, col_left):
    """A path class -> part (not taken) -> class (taken) -> ... ending in a part with room.

    Returns the cells to flip as ``(class, part, new_value)``, or None.
    """
    queue = deque([start])
    came_from = {("class", start): None}
    while queue:
        c = queue.popleft()
        for p in range(3):
            if not allowed[c][p] or taken[c][p] or ("part", p) in came_from:
                continue
            came_from[("part", p)] = c
            if col_left[p] > 0:
                return _unwind(p, came_from)
            for c2 in range(len(taken)):
                if taken[c2][p] and ("class", c2) not in came_from:
                    came_from[("class", c2)] = p
                    queue.append(c2)
    return None


def _unwind(part, came_from):
    flips = []
    while True:
        c = came_from[("part", part)]
        flips.append((c, part, True))
        prev = came_from[("class", c)]
        if prev is None:
            return flips[::-1]
        flips.append((c, prev, False))
        part = prev


def _take(a, idx: np.ndarray):
    if isinstance(a, Tensor):
        return a[idx]
    return np.asarray(a)[idx]
