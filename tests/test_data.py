"""ds.data: datasets, the DataLoader (and its checkpoint), splits, Standardizer, one_hot."""

import copy
import json
import pickle

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.utils.data import default_collate

import descent as ds
from descent.data import (
    DataLoader,
    Dataset,
    Standardizer,
    Subset,
    TensorDataset,
    collate,
    one_hot,
    random_split,
    train_val_test_split,
)


def arrays(batch) -> list:
    """A batch (tuple of Tensors) as a list of NumPy arrays."""
    return [t.numpy() for t in batch]


def same_batches(a: list, b: list) -> bool:
    """Bit-for-bit equality of two lists of batches, dtypes included."""
    return len(a) == len(b) and all(
        len(x) == len(y) and all(u.dtype == v.dtype and np.array_equal(u, v) for u, v in zip(x, y))
        for x, y in zip(a, b)
    )


class ArrayDataset(Dataset):
    """A plain Dataset over arrays: takes the DataLoader's general (per-item) path."""

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return ds.tensor(self.x[i], dtype=self.x.dtype), ds.tensor(self.y[i])


# ---- Dataset, TensorDataset, Subset, random_split ---------------------------------------------


def test_dataset_is_abstract():
    with pytest.raises(NotImplementedError, match="__len__"):
        len(Dataset())
    with pytest.raises(NotImplementedError, match="__getitem__"):
        Dataset()[0]


def test_tensor_dataset_items_are_tuples_of_rows():
    x = np.arange(12, dtype=np.float64).reshape(4, 3)
    y = np.array([3, 1, 4, 1])
    data = TensorDataset(x, y)
    assert len(data) == 4
    xi, yi = data[2]
    assert xi.tolist() == [6.0, 7.0, 8.0] and yi.item() == 4
    assert data.tensors[0].dtype == ds.float64  # arrays keep their dtype, as in ds.tensor
    assert data.tensors[1].dtype == ds.int64
    assert TensorDataset(x.astype(np.float32)).tensors[0].dtype == ds.float32
    assert TensorDataset([[1.0], [2.0]]).tensors[0].dtype == ds.float32  # the default dtype
    kept = TensorDataset(ds.tensor(x, dtype=ds.float32))
    assert kept[0][0].dtype == ds.float32  # Tensors are used as they are


def test_tensor_dataset_rejects_unequal_lengths_naming_the_sizes():
    with pytest.raises(ValueError, match=r"\[4, 3\]"):
        TensorDataset(np.zeros((4, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="0-d"):
        TensorDataset(np.float32(1.0))
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()


def test_subset_picks_indices_in_order_and_checks_them():
    data = TensorDataset(np.arange(10))
    part = Subset(data, [7, 3, -1])
    assert len(part) == 3
    assert [x.item() for (x,) in part] == [7, 3, 9]
    with pytest.raises(IndexError, match=r"\[-10, 9\]"):
        Subset(data, [0, 10])
    with pytest.raises(TypeError, match="integers"):
        Subset(data, [0.5])


@pytest.mark.parametrize(
    "n, lengths",
    [(10, [0.5, 0.5]), (10, [0.33, 0.33, 0.34]), (7, [0.6, 0.2, 0.2]), (5, [0.1, 0.9])],
    ids=str,
)
def test_random_split_fractions_give_torch_lengths(n, lengths):
    torch = pytest.importorskip("torch")
    expected = [len(s) for s in torch.utils.data.random_split(range(n), lengths)]
    parts = random_split(TensorDataset(np.arange(n)), lengths, seed=0)
    assert [len(p) for p in parts] == expected


def test_random_split_is_a_repeatable_partition():
    data = TensorDataset(np.arange(20))
    parts = random_split(data, [12, 5, 3], seed=4)
    values = [sorted(x.item() for (x,) in p) for p in parts]
    assert sorted(sum(values, [])) == list(range(20))
    assert [len(v) for v in values] == [12, 5, 3]
    again = random_split(data, [12, 5, 3], seed=4)
    assert all(np.array_equal(a.indices, b.indices) for a, b in zip(parts, again))
    ds.manual_seed(1)
    first = random_split(data, [0.5, 0.5])[0].indices
    ds.manual_seed(1)
    assert np.array_equal(random_split(data, [0.5, 0.5])[0].indices, first)


def test_random_split_rejects_bad_lengths():
    data = TensorDataset(np.arange(10))
    with pytest.raises(ValueError, match="add up to 9 but the dataset has 10"):
        random_split(data, [5, 4])
    with pytest.raises(ValueError, match="sum to 1"):
        random_split(data, [0.5, 0.4])
    with pytest.raises(ValueError, match="negative"):
        random_split(data, [11, -1])


# ---- DataLoader ----------------------------------------------------------------------------


def test_loader_batches_in_order_with_a_smaller_last_batch():
    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    y = np.arange(10)
    loader = DataLoader(TensorDataset(x, y), batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 == len(batches)
    assert [b[0].shape for b in batches] == [(4, 2), (4, 2), (2, 2)]
    assert np.array_equal(np.concatenate([b[1].numpy() for b in batches]), y)
    assert batches[1][0].dtype == ds.float32 and batches[1][1].dtype == ds.int64
    dropped = DataLoader(TensorDataset(x, y), batch_size=4, drop_last=True)
    assert len(dropped) == 2 == len(list(dropped))


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 60),
    batch_size=st.integers(1, 16),
    shuffle=st.booleans(),
    drop_last=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_every_sample_once_per_epoch_for_drop_last_both_ways(
    n, batch_size, shuffle, drop_last, seed
):
    if drop_last and n < batch_size:
        return  # refused at construction, tested elsewhere
    loader = DataLoader(
        TensorDataset(np.arange(n)), batch_size, shuffle=shuffle, drop_last=drop_last, seed=seed
    )
    for _ in range(3):
        batches = [b[0].numpy() for b in loader]
        seen = np.concatenate(batches)
        assert len(batches) == len(loader)
        assert len(set(seen.tolist())) == len(seen)  # no sample twice
        if drop_last:
            assert len(seen) == n - n % batch_size
            assert all(len(b) == batch_size for b in batches)
        else:
            assert sorted(seen.tolist()) == list(range(n))  # every sample exactly once


def test_loader_shuffles_each_epoch_differently_and_repeatably():
    data = TensorDataset(np.arange(50))
    loader = DataLoader(data, batch_size=7, shuffle=True, seed=3)
    epochs = [np.concatenate([b[0].numpy() for b in loader]) for _ in range(3)]
    for e in epochs:
        assert sorted(e) == list(range(50))
    assert not np.array_equal(epochs[0], epochs[1])
    again = DataLoader(data, batch_size=7, shuffle=True, seed=3)
    assert all(np.array_equal(e, np.concatenate([b[0].numpy() for b in again])) for e in epochs)
    ds.manual_seed(5)
    first = [arrays(b) for b in DataLoader(data, batch_size=7, shuffle=True)]
    ds.manual_seed(5)
    assert same_batches(first, [arrays(b) for b in DataLoader(data, batch_size=7, shuffle=True)])


def test_fast_path_equals_the_per_item_path():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(23, 3)), rng.integers(0, 5, 23)
    fast = DataLoader(TensorDataset(ds.tensor(x, dtype=ds.float64), y), 5, shuffle=True, seed=1)
    slow = DataLoader(ArrayDataset(x, y), 5, shuffle=True, seed=1)
    for _ in range(2):
        assert same_batches([arrays(b) for b in fast], [arrays(b) for b in slow])


@pytest.mark.parametrize("kind", ["tensors", "subset", "per-item"])
def test_batches_are_tuples_that_know_their_dataset_indices(kind):
    x, y = np.arange(23.0)[:, None] * 10, np.arange(23)
    data = {
        "tensors": TensorDataset(x, y),
        "subset": Subset(TensorDataset(x[::-1], y[::-1]), np.arange(22, -1, -1)),
        "per-item": ArrayDataset(x, y),
    }[kind]
    seen = []
    for batch in DataLoader(data, 5, shuffle=True, seed=1):
        xb, yb = batch
        assert isinstance(batch, tuple) and len(batch) == 2
        assert yb.tolist() == batch.indices.tolist()  # y holds each example's index
        np.testing.assert_array_equal(xb.numpy()[:, 0], batch.indices * 10)
        seen += batch.indices.tolist()
    assert sorted(seen) == list(range(23)) and seen != sorted(seen)


@pytest.mark.parametrize(
    "copier", [copy.copy, copy.deepcopy, lambda b: pickle.loads(pickle.dumps(b))]
)
def test_a_batch_copies_whole(copier):
    data = TensorDataset(np.arange(10.0).reshape(5, 2), np.arange(5))
    batch = next(iter(DataLoader(data, 2, shuffle=True, seed=0)))
    again = copier(batch)
    assert isinstance(again, ds.data.Batch) and again.indices.tolist() == batch.indices.tolist()
    assert [t.tolist() for t in again] == [t.tolist() for t in batch]


@pytest.mark.parametrize(
    "field",
    [
        lambda i: float(i),
        lambda i: i,
        lambda i: bool(i % 2),
        lambda i: np.float64(i),
        lambda i: np.float32(i),
        lambda i: np.int32(i),
        lambda i: np.full(2, float(i)),
        lambda i: np.full(2, float(i), np.float32),
        lambda i: np.full(2, i, np.int32),
        lambda i: [float(i), 2.0],
    ],
    ids=[
        "float",
        "int",
        "bool",
        "np.float64",
        "np.float32",
        "np.int32",
        "float64 array",
        "float32 array",
        "int32 array",
        "list of floats",
    ],  # fmt: skip
)
def test_collate_gives_torchs_default_collate_dtypes(field):
    examples = [field(i) for i in range(3)]
    ours, theirs = collate(examples), default_collate(examples)
    if not isinstance(theirs, list):  # a list field is collated position by position
        ours, theirs = [ours], [theirs]
    for a, b in zip(ours, theirs, strict=True):
        assert str(a.dtype) == str(b.dtype).removeprefix("torch.")
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_loader_over_subsets_gives_the_subset_rows():
    data = TensorDataset(np.arange(30) * 10)
    train, _ = random_split(data, [20, 10], seed=2)
    inner = Subset(train, [3, 0, 5])
    got = np.concatenate([b[0].numpy() for b in DataLoader(inner, batch_size=2)])
    assert got.tolist() == [data[int(train.indices[i])][0].item() for i in (3, 0, 5)]


def test_collate_mirrors_the_example_structure():
    class Dicts(Dataset):
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return {"x": np.full(2, float(i)), "y": i}

    class Singles(Dataset):
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return ds.tensor([i, i], dtype=ds.float64)

    (batch,) = list(DataLoader(Dicts(), batch_size=3))
    assert batch["x"].shape == (3, 2) and batch["x"].dtype == ds.float64  # arrays keep theirs
    assert batch["y"].tolist() == [0, 1, 2] and batch["y"].dtype == ds.int64
    (single,) = list(DataLoader(Singles(), batch_size=3))
    assert single.shape == (3, 2) and single.dtype == ds.float64


def test_loader_rejects_bad_arguments_clearly():
    with pytest.raises(ValueError, match="dataset is empty"):
        DataLoader(TensorDataset(np.zeros((0, 2))))
    with pytest.raises(ValueError, match="batch_size must be at least 1, got 0"):
        DataLoader(TensorDataset(np.zeros(3)), batch_size=0)
    with pytest.raises(TypeError, match="batch_size must be an int"):
        DataLoader(TensorDataset(np.zeros(3)), batch_size=2.0)
    with pytest.raises(ValueError, match="no batch at all"):
        DataLoader(TensorDataset(np.zeros(3)), batch_size=4, drop_last=True)
    # refused when the loader is built, not at the first batch
    with pytest.raises(TypeError, match="sampler must be an iterable of indices.*got int"):
        DataLoader(TensorDataset(np.zeros(3)), sampler=5)
    with pytest.raises(TypeError, match="batch_sampler must be an iterable of lists of indices"):
        DataLoader(TensorDataset(np.zeros(3)), batch_sampler=3)
    with pytest.raises(TypeError, match="timeout must be a number of seconds, got str"):
        DataLoader(TensorDataset(np.zeros(3)), timeout="x")


def test_a_loop_left_early_starts_a_new_epoch_next_time():
    loader = DataLoader(TensorDataset(np.arange(12)), batch_size=4, shuffle=True, seed=0)
    reference = DataLoader(TensorDataset(np.arange(12)), batch_size=4, shuffle=True, seed=0)
    ref_epochs = [[arrays(b) for b in reference] for _ in range(2)]
    for batch in loader:
        assert same_batches([arrays(batch)], ref_epochs[0][:1])
        break
    assert loader.state_dict()["position"] == 1
    assert same_batches([arrays(b) for b in loader], ref_epochs[1])
    assert loader.epoch == 2


def test_an_unused_iterator_does_not_change_the_order_or_the_checkpoint():
    def make():
        return DataLoader(TensorDataset(np.arange(12)), batch_size=4, shuffle=True, seed=0)

    reference = [arrays(b) for b in make()]
    loader = make()
    iter(loader)  # created and dropped before yielding anything
    it = iter(loader)
    first = arrays(next(it))
    resumed = make()
    resumed.load_state_dict(loader.state_dict())
    iter(resumed)  # nor after a load
    assert same_batches([first] + [arrays(b) for b in resumed], reference)


def reference_run(make, epochs: int) -> list:
    loader = make(seed=7)
    return [arrays(b) for _ in range(epochs) for b in loader]


def run_with_resume(make, epochs: int, cut: int) -> list:
    """Take ``cut`` batches, save the state (through JSON: plain data only), load it into a
    loader with another seed, and let that one produce the rest."""
    first = make(seed=7)
    out = []
    while len(out) < cut:
        for batch in first:
            out.append(arrays(batch))
            if len(out) == cut:
                break  # inside the epoch, or right after its last batch
    state = json.loads(json.dumps(first.state_dict()))
    second = make(seed=12345)
    second.load_state_dict(state)
    while len(out) < epochs * len(second):
        out.extend(arrays(b) for b in second)
    return out


@pytest.mark.parametrize("drop_last", [False, True])
def test_resume_at_every_batch_is_bit_for_bit(drop_last):
    x = np.random.default_rng(0).normal(size=(23, 2))

    def make(seed):
        data = TensorDataset(x, np.arange(23))
        return DataLoader(data, batch_size=4, shuffle=True, drop_last=drop_last, seed=seed)

    epochs = 3
    reference = reference_run(make, epochs)
    per_epoch = len(make(0))
    assert len(reference) == epochs * per_epoch
    for cut in range(len(reference)):  # cut % per_epoch == 0: resume after a full epoch
        assert same_batches(run_with_resume(make, epochs, cut), reference), f"cut {cut}"


def test_state_dict_is_plain_data_and_saving_does_not_disturb_the_run():
    loader = DataLoader(TensorDataset(np.arange(10)), batch_size=3, shuffle=True, seed=2)
    uninterrupted = DataLoader(loader.dataset, batch_size=3, shuffle=True, seed=2)
    reference = [arrays(b) for _ in range(2) for b in uninterrupted]
    seen = []
    for _ in range(2):
        for batch in loader:
            state = loader.state_dict()
            json.dumps(state)  # only ints, strings, lists and dicts
            seen.append(arrays(batch))
    assert same_batches(seen, reference)
    assert state["epoch"] == 2 and state["position"] == 0


def test_load_state_dict_refuses_a_mid_epoch_resume_into_another_setup():
    loader = DataLoader(TensorDataset(np.arange(10)), batch_size=3, shuffle=True, seed=2)
    next(iter(loader))
    state = loader.state_dict()
    other = DataLoader(TensorDataset(np.arange(10)), batch_size=2, shuffle=True)
    with pytest.raises(ValueError, match="batch_size 3 -> 2"):
        other.load_state_dict(state)
    with pytest.raises(KeyError, match="rng_state"):
        other.load_state_dict({"epoch": 0, "position": 0})


# ---- train_val_test_split ----------------------------------------------------------------


def test_split_sizes_order_and_partition():
    X = np.arange(40).reshape(20, 2)
    y = np.arange(20)
    out = train_val_test_split(X, y, seed=0)
    assert len(out) == 6
    X_tr, X_val, X_te, y_tr, y_val, y_te = out
    assert [len(a) for a in out] == [12, 4, 4, 12, 4, 4]
    assert sorted(np.concatenate([y_tr, y_val, y_te]).tolist()) == list(range(20))
    for Xp, yp in [(X_tr, y_tr), (X_val, y_val), (X_te, y_te)]:
        assert np.array_equal(Xp[:, 0], 2 * yp)  # rows stay aligned across arrays
    assert all(isinstance(a, np.ndarray) for a in out)


def test_split_tensors_gives_tensors_of_the_same_dtype():
    x = ds.tensor(np.arange(10.0), dtype=ds.float64)
    parts = train_val_test_split(x, ds.tensor(np.arange(10)), fractions=(0.5, 0.3, 0.2), seed=1)
    assert all(isinstance(p, ds.Tensor) for p in parts)
    assert [p.dtype for p in parts] == [ds.float64] * 3 + [ds.int64] * 3
    assert [len(p) for p in parts] == [5, 3, 2] * 2


def test_split_is_repeatable_and_unshuffled_on_request():
    y = np.arange(30)
    assert all(
        np.array_equal(a, b)
        for a, b in zip(train_val_test_split(y, seed=3), train_val_test_split(y, seed=3))
    )
    assert not np.array_equal(
        train_val_test_split(y, seed=3)[0], train_val_test_split(y, seed=4)[0]
    )
    ds.manual_seed(0)
    first = train_val_test_split(y)[0]
    ds.manual_seed(0)
    assert np.array_equal(train_val_test_split(y)[0], first)
    tr, val, te = train_val_test_split(y, shuffle=False)
    assert tr.tolist() == list(range(18)) and val.tolist() == list(range(18, 24))


def test_split_allows_an_empty_part_for_a_zero_fraction():
    tr, val, te = train_val_test_split(np.arange(10), fractions=(0.8, 0.0, 0.2), seed=0)
    assert (len(tr), len(val), len(te)) == (8, 0, 2)


def test_split_rejects_bad_fractions_and_too_few_examples():
    with pytest.raises(ValueError, match="sum to 1"):
        train_val_test_split(np.arange(10), fractions=(0.6, 0.2, 0.1))
    with pytest.raises(ValueError, match="three numbers"):
        train_val_test_split(np.arange(10), fractions=(0.8, 0.2))
    with pytest.raises(ValueError, match="too few .* the (val|test) part would be empty"):
        train_val_test_split(np.arange(3), fractions=(0.8, 0.1, 0.1))
    with pytest.raises(ValueError, match=r"lengths \[10, 9\]"):
        train_val_test_split(np.arange(10), np.arange(9))
    with pytest.raises(ValueError, match="shuffle=True"):
        train_val_test_split(np.arange(10), stratify=np.arange(10) % 2, shuffle=False)
    with pytest.raises(ValueError, match="one label per example"):
        train_val_test_split(np.arange(10), stratify=np.arange(9))


def class_counts(labels: np.ndarray, classes: int) -> np.ndarray:
    return np.bincount(labels, minlength=classes)


def test_stratified_split_keeps_class_proportions():
    y = np.repeat([0, 1, 2], [47, 31, 22])  # n = 100: shares like 28.2 / 9.4 / 9.4
    fractions = (0.6, 0.2, 0.2)
    parts = train_val_test_split(np.arange(100), y, fractions=fractions, stratify=y, seed=0)
    idx, labels = parts[:3], parts[3:]
    assert sorted(np.concatenate(idx).tolist()) == list(range(100))
    whole = class_counts(y, 3)
    for f, ids, lab in zip(fractions, idx, labels):
        assert np.array_equal(y[ids], lab)
        assert np.all(np.abs(class_counts(lab, 3) - f * whole) <= 1), (f, class_counts(lab, 3))


@settings(max_examples=150, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 12), min_size=1, max_size=8),
    weights=st.tuples(st.integers(1, 10), st.integers(0, 10), st.integers(1, 10)),
    seed=st.integers(0, 2**32 - 1),
)
def test_stratified_rounding_is_within_one_example_per_class(sizes, weights, seed):
    y = np.repeat(np.arange(len(sizes)), sizes)
    n = len(y)
    fractions = tuple(w / sum(weights) for w in weights)
    try:
        parts = train_val_test_split(y, fractions=fractions, stratify=y, seed=seed)
    except ValueError as e:
        assert "too few" in str(e)
        return
    counts = [len(p) for p in parts]
    assert sum(counts) == n and sorted(np.concatenate(parts).tolist()) == sorted(y.tolist())
    for count, part in zip(counts, parts):
        ideal = np.array(sizes) * count / n
        assert np.all(np.abs(class_counts(part, len(sizes)) - ideal) < 1)


def test_stratify_accepts_one_hot_tensors():
    labels = np.arange(40) % 4
    onehot = one_hot(ds.tensor(labels), 4)
    _, _, _, tr, val, te = train_val_test_split(
        np.arange(40), ds.tensor(labels), stratify=onehot, fractions=(0.5, 0.25, 0.25), seed=0
    )
    assert class_counts(tr.numpy(), 4).tolist() == [5] * 4
    for part in (val, te):
        counts = class_counts(part.numpy(), 4)
        assert counts.sum() == 10 and set(counts.tolist()) <= {2, 3}


# ---- Standardizer ------------------------------------------------------------------------


def sample(n=50, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    X = rng.normal(loc=[1.0, -3.0, 0.0, 5.0], scale=[1.0, 10.0, 0.1, 1.0], size=(n, 4))
    X[:, 3] = 0.1  # a constant column: scale 1, not 1/eps
    return X


def test_standardizer_matches_scikit_learn():
    preprocessing = pytest.importorskip(
        "sklearn.preprocessing", reason="scikit-learn is the reference for this test"
    )
    X, X_test = sample(), sample(seed=1)
    ours, theirs = Standardizer().fit(X), preprocessing.StandardScaler().fit(X)
    np.testing.assert_allclose(ours.mean_, theirs.mean_, rtol=1e-12)
    np.testing.assert_allclose(ours.var_, theirs.var_, rtol=1e-10, atol=1e-30)
    np.testing.assert_allclose(ours.scale_, theirs.scale_, rtol=1e-12)
    np.testing.assert_allclose(ours.transform(X_test), theirs.transform(X_test), rtol=1e-10)
    np.testing.assert_allclose(
        ours.inverse_transform(X_test), theirs.inverse_transform(X_test), rtol=1e-10
    )
    assert ours.n_features_in_ == theirs.n_features_in_ == 4
    for kw in ({"with_mean": False}, {"with_std": False}):
        np.testing.assert_allclose(
            Standardizer(**kw).fit_transform(X),
            preprocessing.StandardScaler(**kw).fit_transform(X),
            rtol=1e-10,
        )


def test_standardizer_uses_training_statistics_with_ddof_0():
    X_train, X_test = sample(), sample(seed=1)
    sc = Standardizer().fit(X_train)
    expected_scale = X_train.std(axis=0)
    assert 0 < expected_scale[3] < 1e-15  # float noise from a constant column of 0.1
    expected_scale[3] = 1.0
    np.testing.assert_allclose(sc.scale_, expected_scale)
    np.testing.assert_allclose(sc.transform(X_test), (X_test - X_train.mean(0)) / expected_scale)
    Z = sc.fit_transform(X_train)
    np.testing.assert_allclose(Z[:, :3].mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(Z[:, :3].std(0), 1, rtol=1e-12)
    np.testing.assert_allclose(sc.inverse_transform(Z), X_train, rtol=1e-12)


@pytest.mark.parametrize(
    "make, dtype",
    [
        (lambda X: ds.tensor(X, dtype=ds.float32), ds.float32),
        (lambda X: ds.tensor(X), ds.float64),
        (lambda X: ds.tensor(np.round(X * 10).astype(np.int64)), ds.float32),
        (lambda X: X.astype(np.float32), np.float32),
        (lambda X: np.round(X).astype(np.int64), np.float64),
    ],
    ids=["tensor32", "tensor64", "tensor-int", "array32", "array-int"],
)
def test_standardizer_output_types(make, dtype):
    X = make(sample())
    sc = Standardizer().fit(X)
    Z = sc.transform(X)
    assert type(Z) is type(X) and Z.dtype == dtype
    assert sc.inverse_transform(Z).dtype == dtype


def test_standardizer_transform_of_a_tensor_is_differentiable():
    X = sample()
    sc = Standardizer().fit(X)
    x = ds.tensor(X, requires_grad=True)
    sc.transform(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.broadcast_to(1 / sc.scale_, X.shape), rtol=1e-6)


def test_standardizer_errors_are_clear():
    with pytest.raises(RuntimeError, match="not fitted yet"):
        Standardizer().transform(sample())
    sc = Standardizer().fit(sample())
    with pytest.raises(ValueError, match="3 features but the Standardizer was fitted on 4"):
        sc.transform(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"reshape\(-1, 1\)"):
        Standardizer().fit(np.zeros(5))
    bad = sample()
    bad[7, 2] = np.nan
    with pytest.raises(ValueError, match="row 7, column 2"):
        Standardizer().fit(bad)


def test_standardizer_state_round_trip():
    sc = Standardizer().fit(sample())
    state = sc.state_dict()
    assert all(isinstance(v, np.ndarray) for v in state.values())
    restored = Standardizer().load_state_dict(state)
    X = sample(seed=3)
    assert np.array_equal(restored.transform(X), sc.transform(X))
    assert restored.n_features_in_ == 4 and restored.n_samples_seen_ == 50
    tensors = {k: ds.tensor(v, dtype=v.dtype) for k, v in state.items()}
    assert np.array_equal(Standardizer().load_state_dict(tensors).transform(X), sc.transform(X))
    with pytest.raises(KeyError, match="missing keys"):
        Standardizer().load_state_dict({"mean_": state["mean_"]})
    with pytest.raises(ValueError, match="one length"):
        Standardizer().load_state_dict({**state, "scale_": np.ones(3)})
    with pytest.raises(RuntimeError, match="not fitted"):
        Standardizer().state_dict()


def test_one_hot_is_the_functional_one():
    from descent.nn.functional import one_hot as functional_one_hot

    assert one_hot is functional_one_hot
    out = one_hot(ds.tensor([2, 0]), 3)
    assert out.dtype == ds.int64 and out.tolist() == [[0, 0, 1], [1, 0, 0]]


@pytest.mark.parametrize("name", ["", ".dataset", ".loader", ".split", ".transforms"])
def test_docstring_examples_run(name):
    import doctest
    import importlib

    module = importlib.import_module("descent.data" + name)
    result = doctest.testmod(module, extraglobs={"ds": ds, "np": np})
    assert result.attempted > 0 and result.failed == 0


def test_batch_indices_names_the_last_batch_of_a_dataset_of_dicts():
    class Dicts(Dataset):
        def __len__(self):
            return 7

        def __getitem__(self, i):
            return {"x": np.float32(i)}

    loader = DataLoader(Dicts(), 3, shuffle=True, seed=4)
    for batch in loader:
        assert batch["x"].tolist() == loader.batch_indices.astype(np.float32).tolist()
    with pytest.raises(AttributeError):
        loader.batch_indices = np.arange(3)  # read-only: each batch's own, not a channel


# ---- PyTorch's path, samplers and DataLoader keywords -----------------------------------------

tdata = torch.utils.data

X = np.arange(22.0).reshape(11, 2)
Y = np.arange(11) * 10


def ours_and_torchs(**kw):
    """The batches of our loader and of torch's with the same keywords, as arrays."""
    ours = DataLoader(TensorDataset(X, Y), **kw)
    theirs = tdata.DataLoader(tdata.TensorDataset(torch.tensor(X), torch.tensor(Y)), **kw)
    return [[t.numpy() for t in b] for b in ours], [[t.numpy() for t in b] for b in theirs]


def same_values(a: list, b: list) -> bool:
    return len(a) == len(b) and all(
        len(x) == len(y) and all(np.array_equal(u, v) for u, v in zip(x, y)) for x, y in zip(a, b)
    )


def test_utils_data_is_pytorchs_path_to_the_same_objects():
    import descent.utils.data as data
    from descent.utils.data import DataLoader as Loader
    from descent.utils.data import default_collate

    assert Loader is ds.data.DataLoader and data is ds.utils.data
    assert default_collate is ds.data.collate
    for name in (
        "Dataset", "TensorDataset", "DataLoader", "random_split", "Subset", "Sampler",
        "SequentialSampler", "RandomSampler", "BatchSampler",
    ):  # fmt: skip
        assert getattr(ds.utils.data, name) is getattr(ds.data, name)
        assert hasattr(tdata, name)


def test_import_descent_does_not_load_utils():
    import subprocess
    import sys

    code = "import sys, descent\nprint('descent.utils' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_samplers_give_torchs_indices():
    assert list(ds.data.SequentialSampler(X)) == list(tdata.SequentialSampler(X))
    assert len(ds.data.SequentialSampler(X)) == len(tdata.SequentialSampler(X)) == 11
    for sampler, drop_last in [(range(7), False), (range(7), True), ([3, 1, 4, 1, 5], False)]:
        ours = ds.data.BatchSampler(sampler, 3, drop_last)
        theirs = tdata.BatchSampler(sampler, 3, drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)
    for kw in [{}, {"num_samples": 25}, {"num_samples": 4}, {"replacement": True}]:
        ours = ds.data.RandomSampler(X, generator=np.random.default_rng(0), **kw)
        theirs = tdata.RandomSampler(X, **kw)
        drawn = list(ours)
        assert len(ours) == len(theirs) == len(drawn) == len(list(theirs))
        assert all(isinstance(i, int) and 0 <= i < 11 for i in drawn)
        if not kw.get("replacement"):  # each pass of n is a permutation, as torch's
            whole = len(drawn) // 11 * 11
            assert all(sorted(drawn[k : k + 11]) == list(range(11)) for k in range(0, whole, 11))
            assert len(set(drawn[whole:])) == len(drawn[whole:])


def test_random_sampler_is_repeatable_with_manual_seed_and_new_each_pass():
    ds.manual_seed(3)
    sampler = ds.data.RandomSampler(X)
    first, second = list(sampler), list(sampler)
    ds.manual_seed(3)
    assert list(sampler) == first and first != second


def test_sampler_errors_are_torchs():
    cases = [
        (lambda m: m.RandomSampler(X, replacement=1), TypeError),
        (lambda m: m.RandomSampler(X, num_samples=0), ValueError),
        (lambda m: m.RandomSampler(X, num_samples=2.0), ValueError),
        (lambda m: m.BatchSampler(range(3), 0, False), ValueError),
        (lambda m: m.BatchSampler(range(3), True, False), ValueError),
        (lambda m: m.BatchSampler(range(3), 2.0, False), ValueError),
        (lambda m: m.BatchSampler(range(3), 2, 1), ValueError),
    ]
    for make, error in cases:
        with pytest.raises(error) as theirs:
            make(tdata)
        with pytest.raises(error) as ours:
            make(ds.data)
        assert str(ours.value) == str(theirs.value)
    with pytest.raises(NotImplementedError, match="must define __iter__"):
        iter(ds.data.Sampler())


@pytest.mark.parametrize(
    "kw",
    [
        {"batch_size": 3, "sampler": [5, 0, 7, 7, 2, 9, 1]},
        {"batch_size": 3, "sampler": [5, 0, 7, 7, 2, 9, 1], "drop_last": True},
        {"batch_size": 4, "sampler": tdata.SequentialSampler(range(11))},
        {"batch_sampler": [[3, 1], [0], [10, 9, 8, 7]]},
        {"batch_sampler": tdata.BatchSampler(range(11), 4, True)},
        {"batch_size": 4, "drop_last": True},
        {"batch_size": 4, "pin_memory": False, "timeout": 0, "worker_init_fn": print},
        {"batch_size": 5, "num_workers": 0, "persistent_workers": False, "prefetch_factor": None},
    ],
)
def test_loader_keywords_give_torchs_batches(kw):
    ours, theirs = ours_and_torchs(**kw)
    assert same_values(ours, theirs)
    loader = DataLoader(TensorDataset(X, Y), **kw)
    assert len(loader) == len(tdata.DataLoader(tdata.TensorDataset(torch.tensor(X)), **kw))


def test_our_samplers_drive_torchs_loader_and_ours_alike():
    kw = {"batch_sampler": ds.data.BatchSampler(ds.data.SequentialSampler(X), 3, False)}
    assert same_values(*ours_and_torchs(**kw))
    loader = DataLoader(TensorDataset(X, Y), **kw)
    assert loader.batch_size is None and loader.drop_last is False
    theirs = tdata.DataLoader(tdata.TensorDataset(torch.tensor(X)), **kw)
    assert theirs.batch_size is None and theirs.drop_last is False


def test_collate_fn_is_used_and_the_loader_still_knows_the_indices():
    def pairs(examples):
        return [(float(x[0]), int(y)) for x, y in examples]

    ours = DataLoader(TensorDataset(X, Y), batch_size=4, sampler=[2, 9, 4, 0, 1], collate_fn=pairs)
    tx, ty = torch.tensor(X), torch.tensor(Y)
    theirs = tdata.DataLoader(
        tdata.TensorDataset(tx, ty), batch_size=4, sampler=[2, 9, 4, 0, 1], collate_fn=pairs
    )
    seen = []
    for batch in ours:
        assert type(batch) is list
        seen.append(loader_indices := ours.batch_indices.tolist())
        assert [y for _, y in batch] == [10 * i for i in loader_indices]
    assert seen == [[2, 9, 4, 0], [1]]
    assert list(ours) == list(theirs)
    # a tuple from collate_fn is a Batch that knows its indices
    as_tuple = DataLoader(TensorDataset(X, Y), batch_size=3, collate_fn=lambda e: tuple(e))
    batch = next(iter(as_tuple))
    assert isinstance(batch, tuple) and batch.indices.tolist() == [0, 1, 2]
    # default_collate passed explicitly is the default
    explicit = DataLoader(
        TensorDataset(X, Y), batch_size=3, collate_fn=ds.utils.data.default_collate
    )
    assert same_batches(
        [arrays(b) for b in explicit], [arrays(b) for b in DataLoader(TensorDataset(X, Y), 3)]
    )


def test_loader_over_a_plain_dataset_with_a_sampler():
    ours = DataLoader(ArrayDataset(X, Y), batch_size=2, sampler=[4, 3, 8])
    assert [b.indices.tolist() for b in ours] == [[4, 3], [8]]
    assert [arrays(b)[1].tolist() for b in ours] == [[40, 30], [80]]


def test_an_iterable_sampler_without_a_length():
    loader = DataLoader(TensorDataset(X, Y), batch_size=2, sampler=iter([1, 2, 3]))
    with pytest.raises(TypeError):
        len(loader)
    with pytest.raises(TypeError):
        len(tdata.DataLoader(tdata.TensorDataset(torch.tensor(X)), batch_size=2, sampler=iter([1])))
    assert [b.indices.tolist() for b in loader] == [[1, 2], [3]]


def test_generator_seeds_the_shuffle_repeatably():
    def order(generator):
        loader = DataLoader(TensorDataset(X, Y), batch_size=11, shuffle=True, generator=generator)
        return [b.indices.tolist() for b in loader]

    assert order(np.random.default_rng(5)) == order(np.random.default_rng(5))
    assert order(np.random.default_rng(5)) != order(np.random.default_rng(6))
    assert sorted(order(np.random.default_rng(5))[0]) == list(range(11))
    ds.manual_seed(1)
    first = order(ds.random.generator())
    ds.manual_seed(1)
    assert order(ds.random.generator()) == first


def test_loader_errors_are_torchs():
    cases = [
        {"sampler": [1, 2], "shuffle": True},
        {"batch_sampler": [[1]], "batch_size": 2},
        {"batch_sampler": [[1]], "shuffle": True},
        {"batch_sampler": [[1]], "drop_last": True},
        {"batch_sampler": [[1]], "sampler": [1]},
        {"num_workers": -1},
        {"timeout": -1},
        {"multiprocessing_context": "spawn"},
    ]
    for kw in cases:
        with pytest.raises(ValueError) as theirs:
            tdata.DataLoader(tdata.TensorDataset(torch.tensor(X)), **kw)
        with pytest.raises(ValueError) as ours:
            DataLoader(TensorDataset(X), **kw)
        assert str(ours.value) == str(theirs.value)
    # torch's own words, then how to fix it here
    for kw, words in [
        ({"persistent_workers": True}, "persistent_workers option needs num_workers > 0"),
        ({"prefetch_factor": 2}, "prefetch_factor option could only be specified in multi"),
    ]:
        with pytest.raises(ValueError, match=words):
            tdata.DataLoader(tdata.TensorDataset(torch.tensor(X)), **kw)
        with pytest.raises(ValueError, match=words):
            DataLoader(TensorDataset(X), **kw)
    with pytest.raises(ValueError, match="main process.*use num_workers=0"):
        DataLoader(TensorDataset(X), num_workers=2)
    with pytest.raises(TypeError, match="generator must be a NumPy Generator"):
        DataLoader(TensorDataset(X), shuffle=True, generator=torch.Generator())
    with pytest.raises(ValueError, match="seed or generator, not both"):
        DataLoader(TensorDataset(X), seed=0, generator=np.random.default_rng(0))
    with pytest.raises(TypeError, match="collate_fn must be a function"):
        DataLoader(TensorDataset(X), collate_fn=3)


@pytest.mark.parametrize(
    "kw",
    [
        {"batch_size": 3, "sampler": [5, 0, 7, 7, 2, 9, 1, 3]},
        {"batch_sampler": [[3, 1], [0], [10, 9, 8, 7], [2]]},
        {"batch_size": 2, "sampler": ds.data.RandomSampler(X, generator=np.random.default_rng(0))},
    ],
)
def test_a_deterministic_sampler_resumes_at_every_batch(kw):
    if isinstance(kw.get("sampler"), ds.data.RandomSampler):  # the same order every pass
        kw = {**kw, "sampler": list(kw["sampler"])}
    whole = [arrays(b) for b in DataLoader(TensorDataset(X, Y), **kw)]
    for stop in range(len(whole)):
        loader = DataLoader(TensorDataset(X, Y), **kw)
        it = iter(loader)
        head = [arrays(next(it)) for _ in range(stop)]
        state = loader.state_dict()
        resumed = DataLoader(TensorDataset(X, Y), **kw)
        resumed.load_state_dict(json.loads(json.dumps(state)))
        assert same_batches(head + [arrays(b) for b in resumed], whole)
        assert resumed.epoch == 1


def test_pin_memory_is_accepted_and_changes_nothing():
    pinned = DataLoader(TensorDataset(X, Y), batch_size=4, pin_memory=True)
    plain = DataLoader(TensorDataset(X, Y), batch_size=4)
    assert same_batches([arrays(b) for b in pinned], [arrays(b) for b in plain])


def test_utils_data_docstring_example_runs():
    import doctest

    import descent.utils.data

    result = doctest.testmod(descent.utils.data, extraglobs={"ds": ds, "np": np})
    assert result.attempted > 0 and result.failed == 0


def test_a_random_sampler_over_an_empty_source_says_so():
    sampler = ds.data.RandomSampler(range(0), num_samples=3)  # accepted, as torch's is
    with pytest.raises(ValueError, match="data source is empty"):
        list(sampler)  # torch: ZeroDivisionError


def test_random_split_takes_torchs_generator_keyword():
    # random_split(full, [160, 40], generator=torch.Generator().manual_seed(42))
    data = ds.data.TensorDataset(np.arange(20.0))
    splits = [
        ds.utils.data.random_split(data, [15, 5], generator=ds.Generator().manual_seed(42))
        for _ in range(2)
    ]
    assert [list(s.indices) for s in splits[0]] == [list(s.indices) for s in splits[1]]
    assert sorted(np.concatenate([s.indices for s in splits[0]]).tolist()) == list(range(20))
    other = ds.utils.data.random_split(data, [15, 5], generator=ds.Generator().manual_seed(7))
    assert list(other[0].indices) != list(splits[0][0].indices)
    with pytest.raises(TypeError, match="generator must be"):
        ds.utils.data.random_split(data, [15, 5], generator=42)


def test_generator_is_torchs_and_drives_a_dataloader():
    g = ds.Generator(device="cpu").manual_seed(5)
    assert isinstance(g, np.random.Generator) and g.initial_seed() == 5 and g.device == "cpu"
    state = g.get_state()
    first = g.permutation(6).tolist()
    assert g.set_state(state).permutation(6).tolist() == first
    data = ds.data.TensorDataset(np.arange(6.0))
    orders = [
        [x.tolist() for (x,) in ds.data.DataLoader(data, batch_size=6, shuffle=True, generator=h)]
        for h in (ds.Generator().manual_seed(1), ds.Generator().manual_seed(1))
    ]
    assert orders[0] == orders[1]
    with pytest.raises(RuntimeError, match="no backend"):
        ds.Generator(device="cuda")


# ---- more of torch.utils.data's names


@pytest.mark.parametrize("sizes", [(3, 2), (1,), (0, 4, 2)])
@pytest.mark.parametrize("index", [0, 2, -1, -3])
def test_concat_dataset_indexes_as_torch(sizes, index):
    parts = [list(range(10 * i, 10 * i + n)) for i, n in enumerate(sizes)]
    ours, theirs = ds.utils.data.ConcatDataset(parts), torch.utils.data.ConcatDataset(parts)
    assert len(ours) == len(theirs)
    assert ours.cumulative_sizes == theirs.cumulative_sizes
    if -len(theirs) <= index < len(theirs):
        assert ours[index] == theirs[index]
    assert [ours[i] for i in range(len(ours))] == [theirs[i] for i in range(len(theirs))]
    with pytest.raises(IndexError):
        ours[len(ours)]


def test_subset_random_sampler_draws_each_index_once_repeatably():
    indices = [7, 3, 11, 5]
    sampler = ds.utils.data.SubsetRandomSampler(indices, generator=np.random.default_rng(0))
    first, second = list(sampler), list(sampler)
    assert sorted(first) == sorted(indices) == sorted(second) and len(sampler) == 4
    ds.manual_seed(1)
    a = list(ds.utils.data.SubsetRandomSampler(indices))
    ds.manual_seed(1)
    assert a == list(ds.utils.data.SubsetRandomSampler(indices))
    loader = ds.utils.data.DataLoader(list(range(20)), batch_size=2, sampler=sampler)
    assert sorted(int(x) for batch in loader for x in batch) == sorted(indices)


def test_get_worker_info_is_none_in_the_main_process_as_torch():
    assert ds.utils.data.get_worker_info() is None is torch.utils.data.get_worker_info()


WEIGHTS = np.array([1.0, 0.0, 3.0, 6.0, 0.5, 2.5])


def test_weighted_sampler_with_replacement_draws_in_proportion_to_the_weights():
    sampler = ds.utils.data.WeightedRandomSampler(
        ds.tensor(WEIGHTS), 40000, generator=np.random.default_rng(0)
    )
    drawn = np.array(list(sampler))
    assert len(sampler) == len(drawn) == 40000 and drawn.dtype.kind == "i"
    freq = np.bincount(drawn, minlength=len(WEIGHTS)) / len(drawn)
    np.testing.assert_allclose(freq, WEIGHTS / WEIGHTS.sum(), atol=0.01)
    assert freq[1] == 0  # a zero weight is never drawn
    # torch's semantics too (its draws, not its values): the same proportions
    torch.manual_seed(0)
    theirs = list(torch.utils.data.WeightedRandomSampler(WEIGHTS.tolist(), 40000))
    tfreq = np.bincount(theirs, minlength=len(WEIGHTS)) / 40000
    np.testing.assert_allclose(freq, tfreq, atol=0.015)


def test_weighted_sampler_without_replacement_draws_each_index_once_heaviest_first():
    firsts = []
    sampler = ds.utils.data.WeightedRandomSampler(
        WEIGHTS, 6, False, generator=np.random.default_rng(0)
    )
    for _ in range(20000):
        order = list(sampler)
        assert sorted(order) == list(range(6)) and order[-1] == 1  # zero weight last, as torch
        firsts.append(order[0])
    freq = np.bincount(firsts, minlength=6) / len(firsts)
    np.testing.assert_allclose(freq, WEIGHTS / WEIGHTS.sum(), atol=0.015)  # first draw ~ w
    two = list(ds.utils.data.WeightedRandomSampler([0.0, 1.0, 3.0], 2, replacement=False))
    assert sorted(two) == [1, 2]
    tfirst = [list(torch.utils.data.WeightedRandomSampler(WEIGHTS, 6, False)) for _ in range(50)]
    assert all(sorted(t) == list(range(6)) and t[-1] == 1 for t in tfirst)


def test_weighted_sampler_is_repeatable_with_manual_seed_and_drives_a_loader():
    ds.manual_seed(4)
    a = list(ds.utils.data.WeightedRandomSampler(WEIGHTS, 20))
    ds.manual_seed(4)
    sampler = ds.utils.data.WeightedRandomSampler(WEIGHTS, 20)
    assert list(sampler) == a and list(sampler) != a  # a new draw each pass
    data = ds.utils.data.TensorDataset(ds.arange(6))
    drawn = list(
        ds.utils.data.WeightedRandomSampler(WEIGHTS, 20, generator=np.random.default_rng(2))
    )
    sampler = ds.utils.data.WeightedRandomSampler(WEIGHTS, 20, generator=np.random.default_rng(2))
    loader = ds.utils.data.DataLoader(data, batch_size=5, sampler=sampler)
    assert [int(v) for (x,) in loader for v in x.tolist()] == drawn


@pytest.mark.parametrize(
    "args, kwargs, match",
    [((WEIGHTS, 0), {}, "num_samples should be a positive integer"),
     ((WEIGHTS, 3.0), {}, "num_samples should be a positive integer"),
     ((WEIGHTS, 3), {"replacement": 1}, "replacement should be a boolean"),
     (([[1.0, 2.0]], 2), {}, "weights should be a 1d sequence"),
     (([1.0, -1.0], 2), {}, "non-negative"),
     (([0.0, 0.0], 2), {}, "positive sum"),
     ((WEIGHTS, 7), {"replacement": False}, "without replacement")],
)  # fmt: skip
def test_weighted_sampler_refuses_bad_arguments(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        ds.utils.data.WeightedRandomSampler(*args, **kwargs)


@pytest.mark.parametrize("index", [1.0, slice(0, 2), "0", True])
def test_concat_dataset_refuses_an_index_that_is_not_an_integer(index):
    ours = ds.utils.data.ConcatDataset([[1, 2, 3], [4, 5]])
    with pytest.raises(TypeError, match="an index must be an integer"):
        ours[index]
