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


# ---- the rest of PyTorch's SummaryWriter ----------------------------------------------


def _grid(images: np.ndarray) -> np.ndarray:
    """PyTorch's grid of (N, H, W, C) images: rows of 8, no padding, black where none."""
    n, h, w, c = images.shape
    cols, rows = min(n, 8), -(-n // 8)
    grid = np.zeros((rows * h, cols * w, c), dtype=images.dtype)
    for i, image in enumerate(images):
        grid[i // 8 * h : (i // 8 + 1) * h, i % 8 * w : (i % 8 + 1) * w] = image
    return grid


def test_a_batch_of_images_reads_back_as_torchs_grid(tmp_path):
    rng = np.random.default_rng(2)
    rgb = rng.integers(0, 256, size=(10, 3, 4, 5), dtype=np.uint8)  # 10 images: 2 rows
    grey = rng.random((3, 2, 3, 1)).astype(np.float32)  # NHWC floats in [0, 1]
    with _writer(tmp_path) as writer:
        writer.add_images("rgb", ds.tensor(rgb), 4)
        writer.add_images("grey", grey, 0, dataformats="NHWC")
        with pytest.raises(ValueError, match="must order the axes N, C, H and W"):
            writer.add_images("x", rgb, dataformats="CHW")
        with pytest.raises(ValueError, match="holds no image"):
            writer.add_images("x", np.zeros((0, 3, 2, 2)))
    ea = _events(tmp_path)
    (event,) = ea.Images("rgb")
    assert (event.step, event.width, event.height) == (4, 8 * 5, 2 * 4)
    np.testing.assert_array_equal(_png(event), _grid(rgb.transpose(0, 2, 3, 1)))
    event = ea.Images("grey")[0]
    assert (event.width, event.height) == (3 * 3, 2)
    expected = _grid(np.repeat((grey * 255).astype(np.uint8), 3, axis=3))  # grey as RGB
    np.testing.assert_array_equal(_png(event), expected)
    torch_summary = pytest.importorskip("torch.utils.tensorboard.summary")
    theirs = torch_summary.image("rgb", rgb, dataformats="NCHW").value[0].image
    assert (theirs.width, theirs.height) == (40, 8)
    np.testing.assert_array_equal(_png(theirs), _png(ea.Images("rgb")[0]))  # torch's pixels


def test_a_batch_given_to_add_image_points_to_add_images(tmp_path):
    with _writer(tmp_path) as writer:
        with pytest.raises(
            ValueError, match=r"shape \(2, 3, 4, 5\).*a batch of images\? .*add_images"
        ):
            writer.add_image("img", ds.tensor(np.zeros((2, 3, 4, 5))))
        with pytest.raises(ValueError, match="add_images"):
            writer.add_image("img", np.zeros((2, 3, 4, 5)), dataformats="NCHW")


def test_a_figure_reads_back_as_an_image_of_its_pixel_size(tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    red = Figure(figsize=(2, 1.5), dpi=50, facecolor=(1, 0, 0))  # 100 x 75 pixels, red
    made = [plt.figure(figsize=(1, 1), dpi=40) for _ in range(3)]  # 40 x 40 each
    with _writer(tmp_path) as writer:
        writer.add_figure("red", red, 2)
        writer.add_figure("three", made, 0, close=True)
        with pytest.raises(TypeError, match="must be a matplotlib Figure"):
            writer.add_figure("x", np.zeros((3, 4, 4)))
        with pytest.raises(ValueError, match="different sizes in pixels"):
            writer.add_figure("x", [Figure(figsize=(1, 1)), Figure(figsize=(2, 1))])
    assert not any(plt.fignum_exists(f.number) for f in made)  # closed, as torch's
    ea = _events(tmp_path)
    (event,) = ea.Images("red")
    assert (event.step, event.width, event.height) == (2, 100, 75)
    pixels = _png(event)
    assert pixels.shape == (75, 100, 3) and (pixels == [255, 0, 0]).all()
    event = ea.Images("three")[0]
    assert (event.width, event.height) == (3 * 40, 40)  # add_images's grid


def test_hparams_go_to_a_sub_run_with_the_metrics_as_scalars(tmp_path):
    plugin_data = pytest.importorskip("tensorboard.plugins.hparams.plugin_data_pb2")
    hparams = {"lr": ds.tensor(0.1, requires_grad=True), "opt": "sgd", "bn": True, "n": 3}
    with _writer(tmp_path) as writer:
        writer.add_hparams(hparams, {"hp/acc": np.float32(0.75), "hp/loss": 0.5},
                           {"opt": ["sgd", "adam"]}, run_name="trial1", global_step=7)  # fmt: skip
        writer.add_hparams({"lr": 0.01}, {"hp/acc": 0.5})  # run_name: the time
        with pytest.raises(TypeError, match="the hparam 'layers' must be a number, a str"):
            writer.add_hparams({"layers": [8, 8]}, {"acc": 0.5})
        with pytest.raises(
            TypeError, match=r"hparam_domain_discrete\['opt'\] must be a list of str"
        ):
            writer.add_hparams({"opt": "sgd"}, {"acc": 0.5}, {"opt": [1, 2]})
        with pytest.raises(TypeError, match="metric_dict must be a dict"):
            writer.add_hparams({"lr": 0.1}, [0.5])
    run = _events(tmp_path / "trial1")
    assert sorted(run.Tags()["scalars"]) == ["hp/acc", "hp/loss"]
    assert _scalars(run, "hp/acc") == [(7, 0.75)] and _scalars(run, "hp/loss") == [(7, 0.5)]
    content = run.PluginTagToContent("hparams")
    start = plugin_data.HParamsPluginData.FromString(content["_hparams_/session_start_info"])
    values = start.session_start_info.hparams
    assert values["lr"].number_value == pytest.approx(0.1, rel=1e-6)
    assert (values["opt"].string_value, values["bn"].bool_value, values["n"].number_value) == (
        "sgd", True, 3.0,
    )  # fmt: skip
    experiment = plugin_data.HParamsPluginData.FromString(content["_hparams_/experiment"])
    infos = {i.name: i for i in experiment.experiment.hparam_infos}
    assert sorted(infos) == ["bn", "lr", "n", "opt"]
    assert [v.string_value for v in infos["opt"].domain_discrete.values] == ["sgd", "adam"]
    assert [m.name.tag for m in experiment.experiment.metric_infos] == ["hp/acc", "hp/loss"]
    (other,) = [p for p in tmp_path.iterdir() if p.is_dir() and p.name != "trial1"]
    assert float(other.name) > 0  # str(time.time()), as torch's
    assert _scalars(_events(other), "hp/acc") == [(0, 0.5)]
    assert _events(tmp_path).Tags()["scalars"] == []  # nothing in the log_dir itself


def _tensor(event) -> np.ndarray:
    tensor_util = pytest.importorskip("tensorboard.util.tensor_util")
    return tensor_util.make_ndarray(event.tensor_proto)


def test_a_pr_curve_holds_numpys_precision_and_recall_at_each_threshold(tmp_path):
    rng = np.random.default_rng(3)
    labels = rng.random(200) < 0.4
    scores = np.clip(0.3 * labels + rng.random(200) * 0.7, 0, 1)
    scores = np.round(scores, 3) + 5e-4  # no score on a threshold i / 10
    with _writer(tmp_path) as writer:
        writer.add_pr_curve("pr", labels, ds.tensor(scores, requires_grad=True), 3,
                            num_thresholds=11)  # fmt: skip
        with pytest.raises(ValueError, match="probabilities in \\[0, 1\\]"):
            writer.add_pr_curve("pr", labels, scores * 2)
        with pytest.raises(ValueError, match="labels for 'pr' must be 0 or 1"):
            writer.add_pr_curve("pr", labels * 2, scores)
        with pytest.raises(ValueError, match=r"labels \(200,\) and predictions \(3,\)"):
            writer.add_pr_curve("pr", labels, scores[:3])
    ea = _events(tmp_path)
    (event,) = ea.Tensors("pr")
    data = _tensor(event)
    assert event.step == 3 and data.shape == (6, 11)  # tp, fp, tn, fn, precision, recall
    assert ea.SummaryMetadata("pr").plugin_data.plugin_name == "pr_curves"
    for i in (0, 3, 5, 9):
        above = scores >= i / 10
        tp, fp = (above & labels).sum(), (above & ~labels).sum()
        np.testing.assert_allclose(data[:4, i], [tp, fp, (~labels).sum() - fp, labels.sum() - tp])
        np.testing.assert_allclose(data[4, i], tp / (tp + fp), rtol=1e-6)
        np.testing.assert_allclose(data[5, i], tp / labels.sum(), rtol=1e-6)


def test_audio_reads_back_as_the_16_bit_wav_of_the_samples(tmp_path):
    import wave

    samples = np.sin(np.arange(400) / 7.0) * 0.8
    with _writer(tmp_path) as writer:
        writer.add_audio("tone", ds.tensor(samples[None, :]), 1, sample_rate=8000)
        with pytest.raises(ValueError, match="must be mono"):
            writer.add_audio("x", np.zeros((2, 10)))
    (event,) = _events(tmp_path).Audio("tone")
    assert (event.step, event.sample_rate, event.length_frames) == (1, 8000, 400)
    with wave.open(io.BytesIO(event.encoded_audio_string)) as wav:
        assert (wav.getnchannels(), wav.getframerate()) == (1, 8000)
        pcm = np.frombuffer(wav.readframes(400), dtype="<i2")
    np.testing.assert_array_equal(pcm, (samples * 32767).astype(np.int16))


def test_custom_scalars_histogram_raw_mesh_and_tensor_read_back(tmp_path):
    layout_pb2 = pytest.importorskip("tensorboard.plugins.custom_scalar.layout_pb2")
    verts = np.random.default_rng(4).random((1, 4, 3)).astype(np.float32)
    with _writer(tmp_path) as writer:
        writer.add_custom_scalars({"loss": {"both": ["Multiline", ["train", "val"]],
                                            "band": ["Margin", ["m", "lo", "hi"]]}})  # fmt: skip
        with pytest.raises(ValueError, match="'Margin' chart .* takes 3 tags"):
            writer.add_custom_scalars_marginchart(["m", "lo"])
        writer.add_histogram_raw("raw", 0.0, 3.0, 3, 3.0, 5.0, [1.0, 2.0, 3.0], [1, 1, 1], 2)
        with pytest.raises(ValueError, match="one upper limit per count"):
            writer.add_histogram_raw("raw", 0, 3, 3, 3, 5, [1.0, 2.0], [1, 1, 1])
        writer.add_mesh("cloud", verts, faces=np.array([[[0, 1, 2], [1, 2, 3]]]))
        writer.add_tensor("t", ds.tensor(np.arange(6).reshape(2, 3)), 5)
        writer.add_scalar("s", 0.5, 1, new_style=True, double_precision=True)
    ea = _events(tmp_path)
    (config,) = ea.Tensors("custom_scalars__config__")
    layout = layout_pb2.Layout.FromString(config.tensor_proto.string_val[0])
    (category,) = layout.category
    assert category.title == "loss" and [c.title for c in category.chart] == ["both", "band"]
    assert list(category.chart[0].multiline.tag) == ["train", "val"]
    assert category.chart[1].margin.series[0].upper == "hi"
    h = ea.Histograms("raw")[0].histogram_value
    assert (h.num, h.max, list(h.bucket_limit), list(h.bucket)) == (3, 3, [1, 2, 3], [1, 1, 1])
    np.testing.assert_array_equal(_tensor(ea.Tensors("cloud_1")[0]), verts)
    np.testing.assert_array_equal(_tensor(ea.Tensors("cloud_2")[0]), [[[0, 1, 2], [1, 2, 3]]])
    np.testing.assert_array_equal(_tensor(ea.Tensors("t")[0]), np.arange(6).reshape(2, 3))
    (scalar,) = ea.Tensors("s")
    assert scalar.step == 1 and _tensor(scalar).dtype == np.float64 and _tensor(scalar) == 0.5


def test_every_method_of_torchs_summary_writer_is_here_with_its_signature(tmp_path):
    import inspect

    torch_tb = pytest.importorskip("torch.utils.tensorboard")
    from descent.utils.tensorboard import SummaryWriter

    public = [n for n in dir(torch_tb.SummaryWriter) if not n.startswith("_")]
    assert "add_images" in public and len(public) >= 25
    for name in public:
        ours, theirs = getattr(SummaryWriter, name), getattr(torch_tb.SummaryWriter, name)
        params = [(p.name, p.default) for p in inspect.signature(ours).parameters.values()]
        expected = [(p.name, p.default) for p in inspect.signature(theirs).parameters.values()]
        assert params == expected, name
    offered_not = {
        "add_graph": "descent.viz.graph", "add_onnx_graph": "Netron",
        "add_video": "add_images", "add_embedding": "Embedding Projector",
        "add_image_with_boxes": "add_figure",
    }  # fmt: skip
    with _writer(tmp_path) as writer:
        for name, instead in offered_not.items():
            method = getattr(writer, name)
            args = [None] * sum(
                p.default is inspect.Parameter.empty
                for p in inspect.signature(method).parameters.values()
            )
            with pytest.raises(NotImplementedError, match=f"{name}: .*{instead}"):
                method(*args)
