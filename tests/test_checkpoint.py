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


def test_missing_file_and_foreign_safetensors_file_are_refused(tmp_path):
    from safetensors.numpy import save_file

    with pytest.raises(CheckpointError, match="does not exist"):
        ds.load(tmp_path / "nope.safetensors")
    foreign = tmp_path / "foreign.safetensors"
    save_file({"w": np.zeros(3, np.float32)}, str(foreign))
    with pytest.raises(CheckpointError, match="not a descent checkpoint"):
        ds.load(foreign)


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
