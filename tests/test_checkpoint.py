"""Checkpoints: safetensors files that round-trip nested state, written atomically, and
refused clearly when corrupt."""

from __future__ import annotations

import json
import os
import re
import struct
from pathlib import Path

import numpy as np
import pytest

import descent as ds
from descent.io import CheckpointError


def _state():
    model = ds.nn.Sequential(ds.nn.Linear(3, 4), ds.nn.ReLU(), ds.nn.Linear(4, 2))
    return {
        "model": model.state_dict(),
        "optimizer": {
            "state": {0: {"step": 3, "exp_avg": np.arange(6.0).reshape(2, 3)}},
            "param_groups": [{"lr": 0.01, "betas": (0.9, 0.999), "params": [0, 1]}],
        },
        "rng": ds.get_rng_state(),
        "epoch": 2,
        "best": float("inf"),
        "note": "héllo",
        "none": None,
        "flags": [True, False],
        "ints": np.arange(4, dtype=np.int64),
        "f64": np.ones((2, 2), np.float64),
    }


def _assert_same(a, b):
    if isinstance(a, dict):  # an OrderedDict comes back as a dict, in the same order
        assert isinstance(b, dict) and list(a) == list(b)
        for k in a:
            _assert_same(a[k], b[k])
        return
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _assert_same(x, y)
    elif isinstance(a, ds.Tensor):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    else:
        assert a == b


def test_round_trip_keeps_structure_types_and_bits(tmp_path):
    state = _state()
    path = ds.save(state, tmp_path / "sub" / "ckpt.safetensors")
    loaded = ds.load(path)
    _assert_same(dict(state), loaded)
    loaded["optimizer"]["state"][0]["exp_avg"] += 1  # loaded arrays are writeable


def test_file_is_plain_safetensors_readable_by_the_reference_library(tmp_path):
    from safetensors.numpy import load_file

    path = ds.save(_state(), tmp_path / "c.safetensors", metadata={"description": "a run"})
    arrays = load_file(str(path))
    np.testing.assert_array_equal(arrays["optimizer/state/0/exp_avg"], np.arange(6.0).reshape(2, 3))
    assert "model/0.weight" in arrays
    n = struct.unpack("<Q", path.read_bytes()[:8])[0]
    header = json.loads(path.read_bytes()[8 : 8 + n])
    assert header["__metadata__"]["description"] == "a run"


def test_a_failed_write_leaves_the_old_checkpoint_and_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.safetensors"
    ds.save({"epoch": 1}, path)
    before = path.read_bytes()

    def crash(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        ds.save({"epoch": 2, "w": np.ones(1000)}, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.safetensors"]


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda b: b[: len(b) // 2], "truncated"),
        (lambda b: b[:5], "truncated"),
        (lambda b: b + b"extra", "trailing"),
        (lambda b: struct.pack("<Q", 2**40) + b[8:], "header claims"),
        (lambda b: b[:8] + b"\xff" * 16 + b[24:], "corrupt"),
        (lambda b: b"", "truncated"),
    ],
    ids=["half", "five-bytes", "trailing", "huge-header", "garbage-header", "empty"],
)
def test_corrupt_or_truncated_files_raise_a_clear_error(tmp_path, damage, message):
    path = ds.save(_state(), tmp_path / "c.safetensors")
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(CheckpointError, match=message) as err:
        ds.load(path)
    assert str(path) in str(err.value)


def test_files_get_the_usual_permissions(tmp_path):
    path = ds.save({"epoch": 1}, tmp_path / "c.safetensors")
    mask = os.umask(0o022)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask


def test_a_missing_file_is_refused_and_a_foreign_safetensors_file_loads_as_a_state_dict(
    tmp_path,
):
    from safetensors.numpy import save_file

    with pytest.raises(CheckpointError, match="does not exist"):
        ds.load(tmp_path / "nope.safetensors")
    foreign = tmp_path / "foreign.safetensors"
    tensors = {"w": np.arange(3, dtype=np.float32), "b": np.ones((), np.int64)}
    for metadata in (None, {"format": "pt"}):  # what safetensors.torch writes, or nothing
        save_file(tensors, str(foreign), metadata=metadata)
        for loaded in (ds.load(foreign), ds.io.load_file(foreign)):  # the same flat dict
            assert sorted(loaded) == ["b", "w"] and isinstance(loaded["w"], ds.Tensor)
            assert loaded["w"].tolist() == [0.0, 1.0, 2.0] and loaded["b"].shape == ()
            assert loaded["w"].dtype == np.float32 and loaded["b"].dtype == np.int64
    state = ds.load(foreign)
    with pytest.raises(CheckpointError, match=r"foreign.safetensors is a plain safetensors file "
                       r"of 2 tensors \('b', 'w'\), not a descent checkpoint, so it has no "
                       r"entry 'model'"):  # fmt: skip
        state["model"]  # a training checkpoint's entry, asked of a plain file
    assert state.get("model") is None and "w" in state
    with pytest.raises(KeyError):  # code that catches a dict's KeyError still does
        state["model"]
    save_file({"w": np.zeros(1)}, str(foreign), metadata={"format": "descent.checkpoint/9"})
    with pytest.raises(CheckpointError, match="format tag 'descent.checkpoint/9'"):
        ds.load(foreign)


def test_load_file_reads_a_checkpoints_tensors_and_checks_them(tmp_path):
    path = ds.save({"w": np.arange(4.0), "epoch": 1}, tmp_path / "c.safetensors")
    assert ds.io.load_file(path)["w"].tolist() == [0.0, 1.0, 2.0, 3.0]
    raw = bytearray(path.read_bytes())
    raw[-1] ^= 1
    path.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match="checksum"):
        ds.io.load_file(path)


def test_unstorable_values_are_refused_before_anything_is_written(tmp_path):
    path = tmp_path / "c.safetensors"
    with pytest.raises(TypeError, match="cannot store a object at 'bad'"):
        ds.save({"bad": object()}, path)
    assert not path.exists()


def test_no_pickle_anywhere_in_the_package():
    root = Path(ds.__file__).parent
    offenders = []
    for f in root.rglob("*.py"):
        text = f.read_text()
        if re.search(r"^\s*(import|from)\s+(c?pickle|dill|joblib)\b", text, re.M):
            offenders.append(f.name)
        if "allow_pickle=True" in text:
            offenders.append(f.name)
    assert not offenders


_WRITER = """
import sys
import numpy as np
import descent as ds

path = sys.argv[1]
big = np.random.default_rng(0).standard_normal(6_000_000)  # 48 MB: each write takes a while
ds.save({"version": 0, "w": big}, path)
print("ready", flush=True)
version = 0
while True:
    version += 1
    ds.save({"version": version, "w": big + version}, path)
"""


def test_a_write_killed_by_sigkill_leaves_the_previous_checkpoint_loadable(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    path = tmp_path / "ckpt.safetensors"
    child = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob(".ckpt.safetensors.*.tmp")):  # a write is under way
            assert time.monotonic() < deadline, "the writer never started a second write"
            time.sleep(0.0005)
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
    assert child.returncode == -signal.SIGKILL
    assert list(tmp_path.glob(".ckpt.safetensors.*.tmp"))  # the write was interrupted
    state = ds.load(path)  # and the checkpoint under the real name is whole
    expected = np.random.default_rng(0).standard_normal(6_000_000) + state["version"]
    np.testing.assert_array_equal(state["w"], expected)
    assert list(tmp_path.glob(".ckpt.safetensors.*.tmp"))  # reading deletes nothing
    ds.save(state, path)  # the next write of that name removes what the dead write left
    assert not list(tmp_path.glob(".ckpt.safetensors.*.tmp"))


# ---- helpers for hand-made files --------------------------------------------------------


def _raw_file(path, header, data: bytes = b"") -> Path:
    """A safetensors file with exactly ``header`` (a dict, or raw JSON bytes) and ``data``."""
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    Path(path).write_bytes(struct.pack("<Q", len(raw)) + raw + data)
    return Path(path)


def _descent_file(path, structure, tensors: dict | None = None) -> Path:
    """A descent checkpoint as another tool would write it: no checksums."""
    header, data = {}, b""
    for name, array in (tensors or {}).items():
        dtype = {"float32": "F32", "int64": "I64"}[array.dtype.name]
        start = len(data)
        data += array.tobytes()
        header[name] = {
            "dtype": dtype,
            "shape": list(array.shape),
            "data_offsets": [start, len(data)],
        }
    meta = {"format": "descent.checkpoint/1"}
    meta["structure"] = structure if isinstance(structure, str) else json.dumps(structure)
    header["__metadata__"] = meta
    return _raw_file(path, header, data)


def _header_span(raw: bytes) -> tuple[int, int]:
    return 8, 8 + struct.unpack("<Q", raw[:8])[0]


# ---- 0-d arrays (defect 1) --------------------------------------------------------------


class _Scaled(ds.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = ds.nn.Linear(3, 2)
        self.temperature = ds.nn.Parameter(ds.tensor(1.5))

    def forward(self, x):
        return self.linear(x) / self.temperature


def test_zero_dimensional_arrays_keep_their_shape(tmp_path):
    state = {"t": ds.tensor(2.5), "a": np.array(3, np.int64), "v": np.ones(0, np.float32)}
    loaded = ds.load(ds.save(state, tmp_path / "c.safetensors"))
    assert loaded["t"].shape == () and loaded["t"].item() == 2.5
    assert loaded["a"].shape == () and loaded["a"].dtype == np.int64 and loaded["a"] == 3
    assert loaded["v"].shape == (0,)


def _tiny_data():
    X = np.random.default_rng(0).standard_normal((20, 3)).astype(np.float32)
    return X, (X[:, 0] > 0).astype(np.int64)


def test_a_scalar_parameter_survives_save_load_state_dict_and_resume(tmp_path):
    model = _Scaled()
    path = ds.save(model.state_dict(), tmp_path / "w.safetensors")
    other = _Scaled()
    other.load_state_dict(ds.load(path))
    assert other.temperature.shape == () and other.temperature.item() == 1.5

    ckpt = tmp_path / "ckpt.safetensors"
    opt = ds.optim.Adam(model.parameters(), lr=0.01)
    callbacks = [ds.train.ModelCheckpoint(ckpt)]
    ds.train.fit(model, "cross_entropy", opt, _tiny_data(), epochs=1, callbacks=callbacks,
                 verbose=0, seed=0)  # fmt: skip
    resumed = _Scaled()
    opt2 = ds.optim.Adam(resumed.parameters(), lr=0.01)
    ds.train.fit(resumed, "cross_entropy", opt2, _tiny_data(), epochs=2, verbose=0, seed=0,
                 resume_from=ckpt, callbacks=[ds.train.ModelCheckpoint(ckpt)])  # fmt: skip
    assert resumed.temperature.shape == ()


# ---- flattened names (defect 2) ---------------------------------------------------------


@pytest.mark.parametrize(
    "state",
    [
        {"a/b": np.ones(2), "a": {"b": np.zeros(3)}},
        {1: np.ones(2), "1": np.zeros(3)},
        {"x": [np.ones(2)], "x/0": np.zeros(3)},
        {"x/0": np.zeros(3), "x": (np.ones(2),)},
        {"__metadata__": np.ones(2), "m": np.zeros(1)},
        {"": np.ones(2), "e": {"": np.zeros(1)}},
    ],
    ids=[
        "slash-vs-nesting",
        "int-vs-str",
        "list-vs-slash",
        "slash-before-tuple",
        "reserved",
        "empty",
    ],
)
def test_entries_whose_flattened_names_collide_all_come_back(tmp_path, state):
    from safetensors.numpy import load_file

    path = ds.save(state, tmp_path / "c.safetensors")
    _assert_same(state, ds.load(path))
    assert len(load_file(str(path))) == 2  # a plain safetensors file with two tensors
    assert len(ds.io.load_file(path)) == 2


def test_a_bare_tensor_or_array_round_trips(tmp_path):
    for value in (ds.tensor([1.0, 2.0]), np.arange(3)):
        _assert_same(value, ds.load(ds.save(value, tmp_path / "c.safetensors")))


# ---- Module.load_state_dict wants a mapping (defect 3) ----------------------------------


@pytest.mark.parametrize(
    "value, name",
    [(ds.zeros(1_000_000), "Tensor"), (3, "int"), (None, "NoneType"), ([1, 2], "list")],
    ids=["tensor", "int", "none", "list"],
)
def test_module_load_state_dict_refuses_a_non_mapping_at_once(value, name):
    import time

    model = ds.nn.Linear(3, 2)
    start = time.perf_counter()
    with pytest.raises(TypeError, match=rf"a mapping .*got a {name}") as err:
        model.load_state_dict(value)
    assert time.perf_counter() - start < 0.5
    assert len(str(err.value)) < 300


# ---- damaged files: one error type (defect 4) -------------------------------------------


@pytest.mark.parametrize(
    "structure, message",
    [
        ({"__dict__": [[1, 2, 3]]}, "pair"),
        ({"__dict__": [[[1], 2]]}, "key"),
        ({"__dict__": [[True, 2]]}, "key"),
        ("[" * 100_000 + "]" * 100_000, "nested"),
        ({"__tensor__": "nope"}, "nope"),
        ({"__tensor__": 5}, "tensor"),
        ({"__tuple__": 5}, "tuple"),
        ({"__dict__": 5}, "dict"),
        ({"__what__": 1}, "unknown"),
        ({"__tensor__": "w", "x": 1}, "unknown"),
        ("{not json", "description"),
    ],
    ids=[
        "unpack",
        "unhashable",
        "bool-key",
        "deep",
        "missing-tensor",
        "tensor-name",
        "tuple",
        "dict",
        "unknown-tag",
        "extra-key",
        "bad-json",
    ],  # fmt: skip
)
def test_a_damaged_description_is_a_checkpoint_error(tmp_path, structure, message):
    path = _descent_file(tmp_path / "c.safetensors", structure, {"w": np.ones(2, np.float32)})
    with pytest.raises(CheckpointError, match=message) as err:
        ds.load(path)
    assert str(path) in str(err.value)


@pytest.mark.parametrize(
    "header, message",
    [
        (b"[" * 100_000 + b"]" * 100_000, "nested"),
        ({"__metadata__": [1, 2]}, "__metadata__"),
        ({"__metadata__": {"format": 5}}, "__metadata__"),
        ({"w": 5}, "'w'"),
        ({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0]}}, "'w'"),
        ({"w": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}, "'w'"),
        ({"w": {"dtype": "F32", "shape": [True], "data_offsets": [0, 4]}}, "'w'"),
        ({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, "'w'"),
        ({"w": {"dtype": ["F32"], "shape": [2], "data_offsets": [0, 8]}}, "'w'"),
        ({"w": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, "'w'"),
        (
            {
                "w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                "v": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
            },
            "overlap",
        ),
        ({"w": {"dtype": "F32", "shape": [2**62, 2**62], "data_offsets": [0, 8]}}, "'w'"),
    ],
    ids=[
        "deep",
        "meta-list",
        "meta-value",
        "entry",
        "offsets",
        "negative-shape",
        "bool-shape",
        "size",
        "dtype",
        "hole",
        "overlap",
        "huge-shape",
    ],  # fmt: skip
)
def test_a_damaged_tensor_table_is_a_checkpoint_error(tmp_path, header, message):
    path = _raw_file(tmp_path / "c.safetensors", header, b"\0" * 8)
    with pytest.raises(CheckpointError, match=message) as err:
        ds.load(path)
    assert str(path) in str(err.value)


def _checkpointed_run(tmp_path):
    ds.manual_seed(0)
    model = ds.nn.Sequential(ds.nn.Linear(3, 4), ds.nn.ReLU(), ds.nn.Linear(4, 2))
    opt = ds.optim.Adam(model.parameters(), lr=0.01)
    path = tmp_path / "ckpt.safetensors"
    ds.train.fit(model, "cross_entropy", opt, _tiny_data(), epochs=2, batch_size=8, verbose=0,
                 seed=0, callbacks=[ds.train.ModelCheckpoint(path)])  # fmt: skip
    return path


def _drop(key):
    def damage(state):
        del state[key]

    return damage


def _set(value, *keys):
    def damage(state):
        for k in keys[:-1]:
            state = state[k]
        state[keys[-1]] = value(state[keys[-1]]) if callable(value) else value

    return damage


def _rename_exp_avg(state):
    moments = state["optimizer"]["state"][0]
    moments["exp_arg"] = moments.pop("exp_avg")


_RESUME_DAMAGE = {
    "no-loader": (_drop("loader"), "'loader'"),
    "no-optimizer": (_drop("optimizer"), "'optimizer'"),
    "no-model": (_drop("model"), "'model'"),
    "no-rng": (_drop("rng"), "'rng'"),
    "no-history": (_drop("history"), "'history'"),
    "no-epoch": (_drop("epoch"), "'epoch'"),
    "other-rng": (_set(np.random.MT19937(0).state, "rng"), "MT19937"),
    "int-moment": (
        _set(lambda a: a.astype(np.int64), "optimizer", "state", 0, "exp_avg"),
        "exp_avg",
    ),
    "renamed-moment": (_rename_exp_avg, "exp_arg"),
    "epoch-text": (_set("two", "epoch"), "epoch"),
    "model-int": (_set(3, "model"), "model"),
    "history-list": (_set([], "history"), "history"),
    "loader-position": (_set(99, "loader", "position"), "position"),
    "loader-text": (_set("x", "loader", "epoch"), "epoch"),
    "callbacks-bad": (_set([[1]], "callbacks"), "callbacks"),
    "state-not-dict": (_set([1], "optimizer", "state"), "state"),
    "groups-text": (_set("x", "optimizer", "param_groups"), "param_groups"),
}


@pytest.mark.parametrize("case", list(_RESUME_DAMAGE), ids=list(_RESUME_DAMAGE))
def test_a_damaged_training_checkpoint_is_refused_and_changes_nothing(tmp_path, case):
    damage, message = _RESUME_DAMAGE[case]
    path = _checkpointed_run(tmp_path)
    state = ds.load(path)
    damage(state)
    ds.save(state, path)

    ds.manual_seed(1)
    model = ds.nn.Sequential(ds.nn.Linear(3, 4), ds.nn.ReLU(), ds.nn.Linear(4, 2))
    opt = ds.optim.Adam(model.parameters(), lr=0.01)
    weights = [p.numpy().copy() for p in model.parameters()]
    rng = ds.get_rng_state()
    again = [ds.train.ModelCheckpoint(tmp_path / "again.safetensors")]
    with pytest.raises(CheckpointError, match=message) as err:
        ds.train.fit(model, "cross_entropy", opt, _tiny_data(), epochs=3, batch_size=8,
                     verbose=0, seed=0, resume_from=path, callbacks=again)  # fmt: skip
    assert str(path) in str(err.value)
    for before, p in zip(weights, model.parameters()):
        np.testing.assert_array_equal(before, p.numpy())
    assert opt.state == {} and opt.global_step == 0
    assert ds.get_rng_state() == rng


def test_set_rng_state_of_another_generator_says_which(tmp_path):
    with pytest.raises(ValueError, match="MT19937.*PCG64"):
        ds.set_rng_state(np.random.MT19937(0).state)
    with pytest.raises(TypeError, match="get_rng_state"):
        ds.set_rng_state(5)


# ---- silent corruption (defect 5) -------------------------------------------------------


def test_a_flipped_bit_in_tensor_data_is_caught_by_the_checksum(tmp_path):
    path = ds.save({"w": np.arange(100.0), "epoch": 3}, tmp_path / "c.safetensors")
    raw = bytearray(path.read_bytes())
    raw[-100] ^= 0x04
    path.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match="checksum") as err:
        ds.load(path)
    assert "'w'" in str(err.value) and str(path) in str(err.value)


def test_a_changed_dtype_in_the_header_is_caught(tmp_path):
    path = ds.save({"w": np.arange(4, dtype=np.float32)}, tmp_path / "c.safetensors")
    raw = path.read_bytes()
    start, end = _header_span(raw)
    assert raw[start:end].count(b'"F32"') == 1
    path.write_bytes(raw[:start] + raw[start:end].replace(b'"F32"', b'"I32"') + raw[end:])
    with pytest.raises(CheckpointError, match="'w'.*F32.*I32|'w'.*I32.*F32"):
        ds.load(path)


def test_a_changed_shape_or_description_in_the_header_is_caught(tmp_path):
    path = ds.save({"w": np.zeros((2, 3)), "epoch": 12345}, tmp_path / "c.safetensors")
    raw = path.read_bytes()
    for old, new in ((b"[2,3]", b"[3,2]"), (b"12345", b"12346")):
        assert old in raw
        path.write_bytes(raw.replace(old, new, 1))
        with pytest.raises(CheckpointError, match="checksum|shape"):
            ds.load(path)


def test_a_file_without_checksums_still_loads(tmp_path):
    structure = {"__dict__": [["w", {"__tensor__": "w"}], ["epoch", 3]]}
    path = _descent_file(tmp_path / "c.safetensors", structure, {"w": np.ones(2, np.float32)})
    state = ds.load(path)
    assert state["epoch"] == 3 and state["w"].tolist() == [1.0, 1.0]


def test_a_checkpoint_that_lost_its_checksums_is_refused(tmp_path):
    # a current checkpoint's format tag promises checksums: a damaged key that hides them
    # (found by the fuzzer: 'checksums' -> 'check{ums' with the description also changed)
    path = tmp_path / "c.safetensors"
    ds.save({"w": np.ones(3, np.float32)}, path)
    raw = path.read_bytes()
    assert raw.count(b'"checksums"') == 1
    path.write_bytes(raw.replace(b'"checksums"', b'"check{ums"'))
    with pytest.raises(CheckpointError, match="promises checksums, but it has none"):
        ds.load(path)


def test_module_load_state_dict_refuses_another_dtype_kind():
    model = ds.nn.Linear(3, 2)
    state = {k: v.numpy() for k, v in model.state_dict().items()}
    before = model.weight.numpy().copy()
    for bad in (np.int32, np.bool_):
        with pytest.raises(
            RuntimeError, match=r"weight: checkpoint dtype (int32|bool), model float32"
        ):
            model.load_state_dict({**state, "weight": state["weight"].astype(bad)})
    np.testing.assert_array_equal(model.weight.numpy(), before)
    model.load_state_dict({k: v.astype(np.float64) for k, v in state.items()})  # as PyTorch
    assert model.weight.dtype == np.float32


def _adam_after_a_step():
    model = ds.nn.Linear(3, 2)
    opt = ds.optim.Adam(model.parameters(), lr=0.01)
    model(ds.randn(4, 3)).sum().backward()
    opt.step()
    return model, opt


def test_optimizer_load_state_dict_refuses_unknown_or_missing_state_names():
    _, opt = _adam_after_a_step()
    saved = opt.state_dict()
    saved["state"][0]["exp_arg"] = saved["state"][0].pop("exp_avg")
    fresh = ds.optim.Adam(ds.nn.Linear(3, 2).parameters(), lr=0.01)
    with pytest.raises(ValueError, match=r"parameter 0.*exp_arg.*exp_avg") as err:
        fresh.load_state_dict(saved)
    assert "exp_avg_sq" in str(err.value) and "step" in str(err.value)
    missing = opt.state_dict()
    del missing["state"][1]["exp_avg_sq"]
    with pytest.raises(ValueError, match=r"parameter 1.*missing.*exp_avg_sq"):
        fresh.load_state_dict(missing)
    assert fresh.state == {}
    amsgrad = ds.optim.Adam(ds.nn.Linear(3, 2).parameters(), lr=0.01, amsgrad=True)
    amsgrad.load_state_dict(opt.state_dict())  # the saved options (amsgrad=False) decide
    assert set(amsgrad.state_dict()["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}


def test_optimizer_load_state_dict_refuses_an_integer_moment():
    _, opt = _adam_after_a_step()
    saved = opt.state_dict()
    saved["state"][0]["exp_avg"] = saved["state"][0]["exp_avg"].astype(np.int64)
    fresh = ds.optim.Adam(ds.nn.Linear(3, 2).parameters(), lr=0.01)
    with pytest.raises(ValueError, match=r"exp_avg.*int64"):
        fresh.load_state_dict(saved)


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: ds.optim.SGD(ps, lr=0.1, momentum=0.9),
        lambda ps: ds.optim.SGD(ps, lr=0.1),
        lambda ps: ds.optim.RMSprop(ps, lr=0.1, centered=True, momentum=0.5),
        lambda ps: ds.optim.Adagrad(ps, lr=0.1),
        lambda ps: ds.optim.AdamW(ps, lr=0.1, amsgrad=True),
        lambda ps: ds.optim.Momentum(ps, lr=0.1),
    ],
    ids=["sgd-momentum", "sgd", "rmsprop", "adagrad", "adamw", "momentum"],
)
def test_every_optimizer_reloads_its_own_state(make):
    model = ds.nn.Linear(3, 2)
    opt = make(model.parameters())
    for _ in range(2):
        opt.zero_grad()
        model(ds.randn(4, 3)).sum().backward()
        opt.step()
    other = make(ds.nn.Linear(3, 2).parameters())
    other.load_state_dict(opt.state_dict())
    _assert_same(opt.state_dict(), other.state_dict())


# ---- messages (defect 6) ----------------------------------------------------------------


def test_a_directory_fifo_or_device_is_not_a_regular_file(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for path in (tmp_path, fifo, Path("/dev/null")):
        with pytest.raises(CheckpointError, match="not a regular file") as err:
            ds.load(path)
        assert str(path) in str(err.value)


def test_a_header_over_the_cap_names_the_cap(tmp_path):
    path = tmp_path / "c.safetensors"
    claim = 101 * 1024 * 1024
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", claim))
        f.truncate(8 + claim + 16)  # sparse: the file really is that long
    with pytest.raises(CheckpointError, match=r"limit of 104857600 bytes") as err:
        ds.load(path)
    assert str(claim) in str(err.value)


def test_a_folder_given_as_the_file_to_write_is_named_not_the_temporary(tmp_path):
    with pytest.raises(IsADirectoryError, match=rf"cannot write {tmp_path}: it is a folder"):
        ds.save({"a": 1}, tmp_path)
    assert list(tmp_path.iterdir()) == []  # no temporary left behind


@pytest.mark.parametrize("legacy", [False, True])
def test_a_torch_save_file_is_refused_without_unpickling_it(tmp_path, legacy):
    torch = pytest.importorskip("torch")
    path = tmp_path / "model.pt"
    torch.save({"w": torch.zeros(2)}, path, _use_new_zipfile_serialization=not legacy)
    with pytest.raises(CheckpointError, match=r"model.pt is a PyTorch file written by torch.save "
                       r"\(a pickle\).*safetensors.torch.save_file"):  # fmt: skip
        ds.load(path)


def test_a_path_name_too_long_is_a_clear_error(tmp_path):
    long = tmp_path / ("x" * 300)
    with pytest.raises(CheckpointError, match="too long"):
        ds.load(long)
    with pytest.raises(ValueError, match="too long"):
        ds.save({"a": 1}, long)
    name = "y" * 250  # a name the file system takes, but not with a temporary's affixes
    ds.save({"a": 1}, tmp_path / name)
    assert ds.load(tmp_path / name) == {"a": 1}


def _low_precision_tensors():
    torch = pytest.importorskip("torch")
    values = torch.tensor([0.0, 1.0, -2.5, 0.125, 448.0, -3.0e-3, 1.0e-4, 3.0])
    tensors = {"bf16": values.to(torch.bfloat16)}
    tensors["e4m3"] = values.to(torch.float8_e4m3fn)
    tensors["e5m2"] = values.to(torch.float8_e5m2)
    tensors["bf16_special"] = torch.tensor([float("inf"), -float("inf"), float("nan")]).bfloat16()
    tensors["e5m2_special"] = torch.tensor([float("inf"), float("nan")]).to(torch.float8_e5m2)
    tensors["e4m3_nan"] = torch.tensor([float("nan")]).to(torch.float8_e4m3fn)
    return tensors


def test_bf16_and_f8_files_written_by_other_tools_load_as_float32(tmp_path):
    from safetensors.torch import save_file

    tensors = _low_precision_tensors()
    plain = tmp_path / "plain.safetensors"
    save_file(tensors, str(plain))
    loaded = ds.io.load_file(plain)
    assert sorted(loaded) == sorted(tensors)
    for name, t in tensors.items():
        assert loaded[name].dtype == np.float32
        np.testing.assert_array_equal(loaded[name].numpy(), t.float().numpy())
    structure = {"__dict__": [["w", {"__tensor__": "bf16"}]]}
    meta = {"format": "descent.checkpoint/1", "structure": json.dumps(structure)}
    wrapped = tmp_path / "descent.safetensors"
    save_file({"bf16": tensors["bf16"]}, str(wrapped), metadata=meta)
    np.testing.assert_array_equal(ds.load(wrapped)["w"].numpy(), tensors["bf16"].float().numpy())


def test_an_unsupported_dtype_is_named(tmp_path):
    header = {"w": {"dtype": "C64", "shape": [1], "data_offsets": [0, 8]}}
    path = _raw_file(tmp_path / "c.safetensors", header, b"\0" * 8)
    with pytest.raises(CheckpointError, match="dtype C64 is not supported"):
        ds.load(path)


# ---- killed writes (defect 7) -----------------------------------------------------------


def _dead_pid() -> int:
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_stale_temporary_files_of_dead_writers_are_removed(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "ckpt.safetensors"
    dead = _dead_pid()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        stale = tmp_path / f".ckpt.safetensors.{dead}.ab_cd123.tmp"
        busy = tmp_path / f".ckpt.safetensors.{live.pid}.zz_yy987.tmp"
        others = [
            tmp_path / f".other.safetensors.{dead}.ab_cd123.tmp",  # another target
            tmp_path / ".ckpt.safetensors.notes.tmp",  # not our pattern
            tmp_path / f"ckpt.safetensors.{dead}.ab_cd123.tmp",
        ]
        for p in (stale, busy, *others):
            p.write_bytes(b"partial")
        ds.save({"epoch": 1}, path)
        assert not stale.exists()
        assert busy.exists() and all(p.exists() for p in others)
        stale.write_bytes(b"partial")
        ds.load(path)  # a reader deletes nothing (the next write and a resume clean up)
        assert stale.exists()
    finally:
        live.kill()
        live.wait()


def test_resuming_removes_the_temporary_files_left_in_the_folder(tmp_path):
    path = _checkpointed_run(tmp_path)
    dead = _dead_pid()
    stale = [tmp_path / f".ckpt-{i}.safetensors.{dead}.ab_cd12{i}.tmp" for i in range(2)]
    for p in stale:
        p.write_bytes(b"partial")
    model = ds.nn.Sequential(ds.nn.Linear(3, 4), ds.nn.ReLU(), ds.nn.Linear(4, 2))
    opt = ds.optim.Adam(model.parameters(), lr=0.01)
    ds.train.fit(model, "cross_entropy", opt, _tiny_data(), epochs=2, batch_size=8, verbose=0,
                 seed=0, resume_from=path, callbacks=[ds.train.ModelCheckpoint(path)])  # fmt: skip
    assert not any(p.exists() for p in stale)


def test_the_folder_is_synced_after_the_rename(tmp_path, monkeypatch):
    import stat

    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append("fsync-dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync-file")
        real_fsync(fd)

    def replace(a, b):
        events.append("rename")
        real_replace(a, b)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    ds.save({"epoch": 1}, tmp_path / "c.safetensors")
    assert events == ["fsync-file", "rename", "fsync-dir"]


# ---- memory (defect 10) -----------------------------------------------------------------


def test_loading_holds_about_one_copy_of_the_data(tmp_path):
    import tracemalloc

    size = 16 * 1024 * 1024
    path = ds.save({"w": np.ones(size // 8), "v": np.ones(size // 16, np.float32)},
                   tmp_path / "c.safetensors")  # fmt: skip
    tracemalloc.start()
    try:
        state = ds.load(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert state["w"].sum() == size // 8
    assert peak < 1.25 * (size + size // 4), peak


def test_a_refused_resume_leaves_the_models_buffers_as_they_were(tmp_path):
    # the model part loads (running statistics too), then a later part is refused:
    # everything the model held, buffers included, must come back
    def net():
        ds.manual_seed(0)
        return ds.nn.Sequential(ds.nn.Linear(3, 4), ds.nn.BatchNorm1d(4), ds.nn.Linear(4, 2))

    model, path = net(), tmp_path / "ckpt.safetensors"
    ds.train.fit(model, "cross_entropy", ds.optim.SGD(model.parameters(), lr=0.1), _tiny_data(),
                 epochs=2, batch_size=8, verbose=0, seed=0,
                 callbacks=[ds.train.ModelCheckpoint(path)])  # fmt: skip
    fresh = net()
    before = {k: v.numpy().copy() for k, v in fresh.state_dict().items()}
    with pytest.raises(CheckpointError, match="ModelCheckpoint callback"):
        ds.train.fit(fresh, "cross_entropy", ds.optim.Adam(fresh.parameters()), _tiny_data(),
                     epochs=3, batch_size=8, verbose=0, seed=0, resume_from=path)  # fmt: skip
    after = {k: v.numpy() for k, v in fresh.state_dict().items()}
    assert before.keys() == after.keys() and "1.running_mean" in after
    for k in before:
        np.testing.assert_array_equal(before[k], after[k], err_msg=k)


def test_a_state_dict_saved_to_a_path_loads_with_torchs_keywords(tmp_path):
    # torch.save(model.state_dict(), path); model.load_state_dict(torch.load(path, ...))
    model = ds.nn.Sequential(ds.nn.Linear(3, 4), ds.nn.BatchNorm1d(4))
    path = str(tmp_path / "model.pth")
    ds.save(model.state_dict(), path)
    fresh = ds.nn.Sequential(ds.nn.Linear(3, 4), ds.nn.BatchNorm1d(4))
    for kwargs in ({}, {"weights_only": True}, {"map_location": "cpu"}, {"mmap": False}):
        state = ds.load(path, **kwargs)
        assert list(state) == list(model.state_dict())
        fresh.load_state_dict(state)
    assert ds.load(path, ds.device("cpu"))["0.weight"].shape == (4, 3)
    for a, b in zip(model.state_dict().values(), fresh.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    with pytest.raises((ValueError, RuntimeError), match="cuda"):
        ds.load(path, map_location="cuda")
