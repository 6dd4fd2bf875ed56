"""TensorBoard: ds.utils.tensorboard.SummaryWriter, the ds.train.TensorBoard callback and
`descent train --tensorboard`, each checked by reading the event files back with
TensorBoard's own EventAccumulator and comparing the values."""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import descent as ds
from descent import nn
from descent.cli import main

_GUIDANCE = {"scalars": 0, "histograms": 0, "images": 0, "tensors": 0}


def _events(folder):
    """The EventAccumulator of ``folder``, loaded."""
    pytest.importorskip("tensorboardX")
    ea_module = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    ea = ea_module.EventAccumulator(str(folder), size_guidance=_GUIDANCE)
    ea.Reload()
    return ea


def _scalars(ea, tag) -> list[tuple[int, float]]:
    return [(e.step, e.value) for e in ea.Scalars(tag)]


def _f32(values) -> list[float]:
    return [float(np.float32(v)) for v in values]


def _writer(path):
    pytest.importorskip("tensorboardX")
    from descent.utils.tensorboard import SummaryWriter

    return SummaryWriter(str(path))


# ---- SummaryWriter -------------------------------------------------------------------


def test_scalars_of_tensors_arrays_and_numbers_read_back_with_their_steps(tmp_path):
    w = ds.tensor([1.5, -2.0], requires_grad=True)
    with _writer(tmp_path) as writer:
        writer.add_scalar("loss", 0.125, 0)
        writer.add_scalar("loss", np.float64(0.1), 1)
        writer.add_scalar("loss", (w * w).sum(), 2)  # requires grad: its value is written
        writer.add_scalar("loss", np.array([[7]]), 3)  # one element, any shape
        writer.add_scalar("loss", ds.tensor(3, dtype=ds.int64), global_step=np.int64(4))
        writer.add_scalar("acc", True, 0, walltime=1234.5)
    ea = _events(tmp_path)
    assert ea.Tags()["scalars"] == ["loss", "acc"]
    assert _scalars(ea, "loss") == list(enumerate(_f32([0.125, 0.1, 6.25, 7.0, 3.0])))
    (acc,) = ea.Scalars("acc")
    assert (acc.value, acc.wall_time) == (1.0, 1234.5)


def test_a_scalar_of_more_than_one_element_is_refused_as_torch_does(tmp_path):
    with _writer(tmp_path) as writer:
        with pytest.raises(ValueError, match=r"scalar_value must be one number.*\(2,\)"):
            writer.add_scalar("loss", ds.tensor([1.0, 2.0]))
        with pytest.raises(TypeError, match="scalar_value must be numbers.*str 'high'"):
            writer.add_scalar("loss", "high")
        with pytest.raises(TypeError, match="tag must be a non-empty str"):
            writer.add_scalar(3, 1.0)
        with pytest.raises(TypeError, match="global_step must be an int"):
            writer.add_scalar("loss", 1.0, global_step=1.5)
        with pytest.raises(TypeError, match="walltime must be"):
            writer.add_scalar("loss", 1.0, walltime="now")


def test_add_scalars_writes_each_tag_in_its_own_folder_as_torch(tmp_path):
    with _writer(tmp_path) as writer:
        for step in range(3):
            values = {"train": 1.0 / (step + 1), "val": ds.tensor(2.0 * step)}
            writer.add_scalars("run/loss", values, step)
        with pytest.raises(TypeError, match="tag_scalar_dict must be a dict"):
            writer.add_scalars("loss", [1.0, 2.0], 0)
        with pytest.raises(ValueError, match="the value of 'a' must be one number"):
            writer.add_scalars("loss", {"a": np.zeros(3)}, 0)
    train = _events(tmp_path / "run_loss_train")
    val = _events(tmp_path / "run_loss_val")
    assert train.Tags()["scalars"] == ["run/loss"] == val.Tags()["scalars"]
    assert _scalars(train, "run/loss") == list(enumerate(_f32([1.0, 0.5, 1 / 3])))
    assert _scalars(val, "run/loss") == list(enumerate(_f32([0.0, 2.0, 4.0])))


def test_a_histogram_holds_numpys_count_sum_min_and_max_of_the_values(tmp_path):
    rng = np.random.default_rng(0)
    weight = nn.Parameter(ds.tensor(rng.normal(size=(20, 30)).astype(np.float32)))
    ints = rng.integers(-5, 6, size=100)
    with _writer(tmp_path) as writer:
        writer.add_histogram("weight", weight, 7)
        writer.add_histogram("ints", ints, 0, bins="auto")
    ea = _events(tmp_path)
    assert sorted(ea.Tags()["histograms"]) == ["ints", "weight"]
    (event,) = ea.Histograms("weight")
    h, values = event.histogram_value, weight.numpy().astype(np.float64)
    assert event.step == 7 and h.num == values.size == 600
    assert h.sum == pytest.approx(values.sum(), rel=1e-12)
    assert h.sum_squares == pytest.approx((values**2).sum(), rel=1e-12)
    assert (h.min, h.max) == (values.min(), values.max())
    assert sum(h.bucket) == 600
    h = ea.Histograms("ints")[0].histogram_value
    assert (h.num, h.sum, h.min, h.max) == (100, ints.sum(), ints.min(), ints.max())


def test_a_histogram_of_nothing_or_of_nan_is_refused(tmp_path):
    with _writer(tmp_path) as writer:
        with pytest.raises(ValueError, match="'h' are empty"):
            writer.add_histogram("h", np.zeros(0))
        with pytest.raises(ValueError, match="hold 1 NaN or inf of 3"):
            writer.add_histogram("h", ds.tensor([1.0, float("nan"), 2.0]))
        with pytest.raises(TypeError, match="values must be numbers"):
            writer.add_histogram("h", ["a", "b"])


def _png(event) -> np.ndarray:
    image = pytest.importorskip("PIL.Image")
    return np.asarray(image.open(io.BytesIO(event.encoded_image_string)))


def test_images_decode_to_the_pixels_written(tmp_path):
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, size=(4, 5, 3), dtype=np.uint8)
    grey = np.array([[0.0, 0.5, 1.0], [1.0, 0.5, 0.0]], dtype=np.float32)  # floats in [0, 1]
    with _writer(tmp_path) as writer:
        writer.add_image("rgb", ds.tensor(rgb.transpose(2, 0, 1)), 3)  # CHW, PyTorch's default
        writer.add_image("rgb_hwc", rgb, 0, dataformats="HWC")
        writer.add_image("grey", grey, 0, dataformats="HW")
    ea = _events(tmp_path)
    assert sorted(ea.Tags()["images"]) == ["grey", "rgb", "rgb_hwc"]
    (event,) = ea.Images("rgb")
    assert (event.step, event.width, event.height) == (3, 5, 4)
    np.testing.assert_array_equal(_png(event), rgb)
    np.testing.assert_array_equal(_png(ea.Images("rgb_hwc")[0]), rgb)
    pixels = _png(ea.Images("grey")[0])
    expected = (grey * 255).astype(np.uint8)  # PyTorch's scaling of float images
    np.testing.assert_array_equal(pixels[..., 0] if pixels.ndim == 3 else pixels, expected)


def test_an_image_whose_shape_does_not_fit_its_dataformats_is_refused(tmp_path):
    with _writer(tmp_path) as writer:
        with pytest.raises(ValueError, match=r"shape \(4, 5\) \(2 axes\).*'CHW' names 3"):
            writer.add_image("img", np.zeros((4, 5)))
        with pytest.raises(ValueError, match="has 2 channels"):
            writer.add_image("img", np.zeros((2, 4, 5)))
        with pytest.raises(ValueError, match="dataformats must name"):
            writer.add_image("img", np.zeros((4, 5)), dataformats="XY")


def test_text_reads_back_from_the_text_plugin(tmp_path):
    with _writer(tmp_path) as writer:
        writer.add_text("notes", "lr **0.1**, batch 32", 2)
        with pytest.raises(TypeError, match="text_string must be a str"):
            writer.add_text("notes", 5)
    ea = _events(tmp_path)
    (tag,) = ea.Tags()["tensors"]
    assert tag.startswith("notes")
    (event,) = ea.Tensors(tag)
    assert event.step == 2 and event.tensor_proto.string_val == [b"lr **0.1**, batch 32"]
    assert ea.SummaryMetadata(tag).plugin_data.plugin_name == "text"


def test_the_default_log_dir_is_torchs_and_flush_writes_before_close(tmp_path, monkeypatch):
    pytest.importorskip("tensorboardX")
    from descent.utils.tensorboard import SummaryWriter

    monkeypatch.chdir(tmp_path)
    writer = SummaryWriter(comment="_lr0.1")
    path = Path(writer.get_logdir())
    assert path.parts[0] == "runs" and path.name.endswith(f"_{socket.gethostname()}_lr0.1")
    writer.add_scalar("x", 1.0, 0)
    writer.flush()
    assert _scalars(_events(path), "x") == [(0, 1.0)]
    with pytest.raises(NotImplementedError, match=r"descent.viz.graph"):
        writer.add_graph(nn.Linear(2, 1))
    writer.close()


def test_purge_step_drops_what_earlier_files_hold_from_that_step_on(tmp_path):
    pytest.importorskip("tensorboardX")
    from descent.utils.tensorboard import SummaryWriter

    with SummaryWriter(str(tmp_path)) as writer:
        for step in range(5):
            writer.add_scalar("loss", float(step), step)
    with SummaryWriter(str(tmp_path), purge_step=2) as writer:  # a run resumed at step 2
        for step in (2, 3):
            writer.add_scalar("loss", 10.0 + step, step)
    assert _scalars(_events(tmp_path), "loss") == [(0, 0.0), (1, 1.0), (2, 12.0), (3, 13.0)]


def test_an_image_without_pillow_names_what_to_install(tmp_path, monkeypatch):
    with _writer(tmp_path) as writer:
        monkeypatch.setitem(sys.modules, "PIL", None)
        with pytest.raises(ImportError, match="add_image needs PIL.*pip install pillow"):
            writer.add_image("img", np.zeros((3, 2, 2)))


# ---- the optional extra ---------------------------------------------------------------


def test_importing_descent_imports_no_tensorboard_writer():
    code = (
        "import sys, descent as ds, descent.utils.tensorboard, descent.train; "
        "ds.train.TensorBoard; ds.utils.tensorboard.SummaryWriter; "
        "print(sorted(m for m in sys.modules "
        "if m.split('.')[0] in ('tensorboardX', 'tensorboard', 'PIL')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_without_tensorboardx_the_error_names_the_extra(tmp_path, monkeypatch, capsys):
    pytest.importorskip("sklearn")
    from descent.utils.tensorboard import SummaryWriter

    monkeypatch.setitem(sys.modules, "tensorboardX", None)
    pip = r"pip install 'descent\[tensorboard\]'"
    with pytest.raises(ImportError, match=f"SummaryWriter needs tensorboardX.*{pip}"):
        SummaryWriter(str(tmp_path / "w"))
    with pytest.raises(ImportError, match=f"ds.train.TensorBoard needs tensorboardX.*{pip}"):
        ds.train.TensorBoard(str(tmp_path / "logs"))
    runs = tmp_path / "runs"
    args = ["train", "--dataset", "iris", "--model", "linear", "--epochs", "1", "--quiet"]
    assert main([*args, "--tensorboard", str(tmp_path / "tb"), "--runs-dir", str(runs)]) == 2
    assert "pip install 'descent[tensorboard]'" in capsys.readouterr().err
    assert not any(runs.iterdir())  # the failed run left no folder behind


# ---- the TensorBoard callback ---------------------------------------------------------


def _iris():
    pytest.importorskip("sklearn")
    bunch = ds.datasets.load_iris()
    X, y = ds.data.Standardizer().fit_transform(bunch.data).astype(np.float32), bunch.target
    order = np.random.default_rng(0).permutation(len(y))
    train, val = order[:120], order[120:]
    return (X[train], y[train]), (X[val], y[val])


class _BatchLosses(ds.train.Callback):
    def __init__(self):
        self.losses = []

    def on_batch_end(self, step, logs=None):
        self.losses.append(logs["loss"])


def test_the_callback_writes_keras_layout_values_equal_to_the_history(tmp_path):
    pytest.importorskip("tensorboardX")
    (train, val) = _iris()
    ds.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    opt = ds.optim.SGD(model.parameters(), lr=0.1)
    schedule = ds.train.LearningRateScheduler(lambda epoch, lr: 0.1 * 0.5**epoch)
    board = ds.train.TensorBoard(tmp_path / "logs", histogram_freq=1)
    history = ds.train.fit(
        model, "cross_entropy", opt, train, val, epochs=3, batch_size=32, seed=0,
        metrics=["accuracy"], callbacks=[schedule, board], verbose=0,
    )  # fmt: skip
    h = history.history
    tr, va = _events(tmp_path / "logs" / "train"), _events(tmp_path / "logs" / "validation")
    assert sorted(tr.Tags()["scalars"]) == ["epoch_accuracy", "epoch_learning_rate", "epoch_loss"]
    assert _scalars(tr, "epoch_loss") == list(enumerate(_f32(h["loss"])))
    assert _scalars(tr, "epoch_accuracy") == list(enumerate(_f32(h["accuracy"])))
    assert _scalars(tr, "epoch_learning_rate") == list(enumerate(_f32([0.1, 0.05, 0.025])))
    assert _scalars(va, "epoch_loss") == list(enumerate(_f32(h["val_loss"])))
    assert _scalars(va, "epoch_accuracy") == list(enumerate(_f32(h["val_accuracy"])))
    steps = [4, 8, 12]  # 120 examples in batches of 32: 4 steps an epoch
    assert _scalars(va, "evaluation_loss_vs_iterations") == list(zip(steps, _f32(h["val_loss"])))

    names = dict(model.named_parameters())
    assert sorted(tr.Tags()["histograms"]) == sorted(
        f"{n}/{kind}" for n in names for kind in ("histogram", "gradient")
    )
    for name, p in names.items():
        events = tr.Histograms(f"{name}/histogram")
        assert [e.step for e in events] == [0, 1, 2]
        last = events[-1].histogram_value  # after the last update: the trained weights
        assert last.num == p.numel()
        assert last.sum == pytest.approx(p.numpy().astype(np.float64).sum(), rel=1e-9, abs=1e-12)
        grad = tr.Histograms(f"{name}/gradient")[-1].histogram_value  # the last batch's
        g = p.grad.numpy().astype(np.float64)
        assert (grad.num, grad.min, grad.max) == (g.size, g.min(), g.max())
        assert grad.sum == pytest.approx(g.sum(), rel=1e-9, abs=1e-12)


def test_batch_updates_images_and_steps_per_second(tmp_path):
    pytest.importorskip("tensorboardX")
    (train, val) = _iris()
    ds.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3))
    losses = _BatchLosses()
    board = ds.train.TensorBoard(
        str(tmp_path), histogram_freq=2, write_images=True, write_steps_per_second=True,
        update_freq=3,
    )  # fmt: skip
    ds.train.fit(model, "cross_entropy", ds.optim.SGD(model.parameters(), lr=0.1), train,
                 epochs=3, batch_size=32, callbacks=[board, losses], verbose=0)  # fmt: skip
    tr = _events(tmp_path / "train")
    assert not (tmp_path / "validation").exists()  # no validation data, no folder
    # every 3rd of the 12 global steps, at that step (1-based, as Keras's batch counter)
    assert _scalars(tr, "batch_loss") == [(s, float(np.float32(losses.losses[s - 1])))
                                          for s in (3, 6, 9, 12)]  # fmt: skip
    assert [s for s, v in _scalars(tr, "epoch_steps_per_second") if v > 0] == [0, 1, 2]
    assert [e.step for e in tr.Histograms("0.weight/histogram")] == [0, 2]
    (image,) = [e for e in tr.Images("0.weight/image") if e.step == 2]
    assert (image.height, image.width) == (3, 4)  # the (3, 4) weight, as it is
    pixels = _png(image)
    pixels = pixels[..., 0] if pixels.ndim == 3 else pixels
    w = model[0].weight.numpy()
    assert pixels.min() == 0 and pixels.max() == 255
    assert pixels.flat[w.argmin()] == 0 and pixels.flat[w.argmax()] == 255
    assert tr.Images("0.bias/image")[0].height == 3  # a vector: a column


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"profile_batch": 5}, ValueError, "profile_batch=5 is not supported.*no profiler"),
        ({"embeddings_freq": 1}, ValueError, "embeddings_freq=1 is not supported"),
        ({"embeddings_metadata": {"x": "m.tsv"}}, ValueError, "embeddings_metadata="),
        ({"update_freq": "often"}, ValueError, "update_freq must be 'epoch', 'batch'"),
        ({"update_freq": 0}, ValueError, "update_freq must be"),
        ({"histogram_freq": -1}, ValueError, "histogram_freq must be >= 0"),
        ({"histogram_freq": 0.5}, TypeError, "histogram_freq must be a whole number"),
        ({"log_dir": None}, TypeError, "log_dir must be a folder's path"),
    ],
)
def test_options_the_callback_cannot_honour_are_refused(options, error, message):
    pytest.importorskip("tensorboardX")
    with pytest.raises(error, match=message):
        ds.train.TensorBoard(**options)


def test_the_defaults_are_kerass_and_accepted():
    pytest.importorskip("tensorboardX")
    board = ds.train.TensorBoard()
    assert (board.log_dir, board.histogram_freq, board.update_freq) == ("logs", 0, "epoch")
    assert ds.train.TensorBoard(update_freq="batch", profile_batch=None).update_freq == 1


# ---- descent train --tensorboard -------------------------------------------------------


def test_descent_train_tensorboard_writes_the_runs_history(tmp_path, capsys):
    pytest.importorskip("sklearn")
    tb, runs = tmp_path / "tb", tmp_path / "runs"
    args = ["train", "--dataset", "iris", "--model", "linear", "--epochs", "3", "--patience", "5"]
    assert main([*args, "--tensorboard", str(tb), "--runs-dir", str(runs), "--name", "r"]) == 0
    assert f"TensorBoard events: {tb}" in capsys.readouterr().out
    history = json.loads((runs / "r" / "history.json").read_text())
    tr, va = _events(tb / "train"), _events(tb / "validation")
    assert sorted(tr.Tags()["scalars"]) == ["epoch_accuracy", "epoch_learning_rate", "epoch_loss"]
    assert _scalars(tr, "epoch_loss") == list(enumerate(_f32(history["loss"])))
    assert _scalars(tr, "epoch_learning_rate") == list(enumerate(_f32([1e-3] * 3)))
    assert _scalars(va, "epoch_loss") == list(enumerate(_f32(history["val_loss"])))
    assert _scalars(va, "epoch_accuracy") == list(enumerate(_f32(history["val_accuracy"])))
    assert sorted(tr.Tags()["histograms"]) == [
        "0.bias/gradient", "0.bias/histogram", "0.weight/gradient", "0.weight/histogram",
    ]  # fmt: skip
    assert tr.Histograms("0.weight/histogram")[-1].histogram_value.num == 4 * 3
