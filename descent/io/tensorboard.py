"""TensorBoard event files: a ``SummaryWriter`` with PyTorch's methods, on tensorboardX.

The one writer of the package: ``ds.utils.tensorboard.SummaryWriter`` (PyTorch's path) is
this class, and the ``ds.train.TensorBoard`` callback writes through it. It checks each
argument, turns descent Tensors (a parameter or its gradient included: the values are
read, never the graph), NumPy arrays and Python numbers into arrays, and has
tensorboardX (the ``descent[tensorboard]`` extra) build each summary and frame each
record. The event file itself is written here, in the caller's thread: tensorboardX's
own writer hands events to a thread, and its ``flush`` does not wait for them, so what
was added before a ``flush`` could still be missing from the file after it. Here
``flush`` writes everything added so far, as PyTorch's does. tensorboardX is imported when
a writer is made, never when descent is.

>>> with SummaryWriter("runs/demo") as w:  # doctest: +SKIP
...     w.add_scalar("loss", 0.25, global_step=1)
"""

from __future__ import annotations

import io
import itertools
import numbers
import os
import socket
import time
import wave
from datetime import datetime

import numpy as np

from .._extras import require
from ..tensor import Tensor

__all__ = ["SummaryWriter", "tensorboardx_module"]


def tensorboardx_module(needed_for: str = "ds.utils.tensorboard.SummaryWriter", module=""):
    """The tensorboardX module (or its ``module``), or the ImportError naming
    ``pip install 'descent[tensorboard]'``."""
    name = f"tensorboardX.{module}" if module else "tensorboardX"
    return require(name, "tensorboard", needed_for, package="tensorboardX")


def _tensorflow_bins() -> list[float]:
    """PyTorch's default histogram edges ('tensorflow'): 0 and +-1e-12 * 1.1**k up to 1e20."""
    v, edges = 1e-12, []
    while v < 1e20:
        edges.append(v)
        v *= 1.1
    return [-e for e in reversed(edges)] + [0.0] + edges


_file_numbers = itertools.count()  # no two event files of this process share a name


class _EventFile:
    """One event file in ``folder``: events are framed as TFRecords and written at once;
    they reach the disk every ``max_queue`` events, after ``flush_secs``, and at
    ``flush``/``close``."""

    def __init__(self, folder: str, max_queue: int, flush_secs: int, suffix: str, purge_step):
        pb = tensorboardx_module(module="proto.event_pb2")
        records = tensorboardx_module(module="record_writer")
        self._event = pb.Event
        os.makedirs(folder, exist_ok=True)
        name = (
            f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}."
            f"{os.getpid()}.{next(_file_numbers)}{suffix}"
        )  # torch's name: time, host, process and a count
        self._records = records.RecordWriter(os.path.join(folder, name))
        self.max_queue, self.flush_secs = max_queue, flush_secs
        self._pending, self._flushed = 0, time.monotonic()
        self._write(pb.Event(wall_time=time.time(), file_version="brain.Event:2"))
        if purge_step is not None:  # TensorBoard drops what earlier files hold from here on
            start = pb.SessionLog(status=pb.SessionLog.START)
            self._write(pb.Event(wall_time=time.time(), step=purge_step, session_log=start))
        self.flush()

    def add(self, summary, step, walltime) -> None:
        wall_time = time.time() if walltime is None else walltime
        event = self._event(summary=summary, wall_time=wall_time)
        if step is not None:
            event.step = step
        self._write(event)
        if self._pending >= self.max_queue or time.monotonic() - self._flushed >= self.flush_secs:
            self.flush()

    def _write(self, event) -> None:
        self._records.write(event.SerializeToString())
        self._pending += 1

    def flush(self) -> None:
        if self._pending:
            self._records.flush()
            self._pending = 0
        self._flushed = time.monotonic()

    def close(self) -> None:
        self.flush()
        self._records.close()


def _array(who: str, name: str, value) -> np.ndarray:
    """``value`` (a Tensor, an array, a number or a nested list of numbers) as a numeric
    NumPy array; else a TypeError naming the method and argument."""
    if isinstance(value, Tensor):
        arr = value.detach().numpy()
    elif isinstance(value, (str, bytes)) or value is None:
        arr = None
    else:
        try:
            arr = np.asarray(value)
        except (TypeError, ValueError):
            arr = None
    if arr is None or arr.dtype.kind not in "biuf":
        raise TypeError(
            f"{who}: {name} must be numbers (a descent Tensor, a NumPy array or a Python "
            f"number), got {_kind(value)}"
        )
    return arr


def _kind(value) -> str:
    if isinstance(value, (str, bytes)):
        return f"the {type(value).__name__} {value!r}"
    if isinstance(value, (Tensor, np.ndarray)):
        return f"a {type(value).__name__} of dtype {value.dtype}"
    return f"a {type(value).__name__}"


def _scalar(who: str, name: str, value) -> float:
    """One number from a number, or a Tensor or array of one element."""
    arr = _array(who, name, value)
    if arr.size != 1:
        raise ValueError(
            f"{who}: {name} must be one number, got a {type(value).__name__} of shape "
            f"{tuple(arr.shape)} ({arr.size} elements); reduce it first (e.g. .mean()) "
            f"or log each value under its own tag"
        )
    return float(arr.reshape(()))


def _tag(who: str, tag, name: str = "tag") -> str:
    if not isinstance(tag, str) or not tag:
        raise TypeError(f"{who}: {name} must be a non-empty str, got {_kind(tag)}")
    return tag


def _step(who: str, step):
    """None, or the step as an int (a one-element integer Tensor or array counts)."""
    if step is None:
        return None
    if isinstance(step, (Tensor, np.ndarray)) and step.size == 1 and step.dtype.kind in "iu":
        step = step.reshape(()).item() if isinstance(step, np.ndarray) else step.item()
    if isinstance(step, (bool, np.bool_)) or not isinstance(step, numbers.Integral):
        raise TypeError(f"{who}: global_step must be an int or None, got {_kind(step)}")
    return int(step)


def _walltime(who: str, walltime):
    if walltime is None:
        return None
    if isinstance(walltime, (bool, np.bool_)) or not isinstance(walltime, numbers.Real):
        raise TypeError(
            f"{who}: walltime must be seconds since the epoch (a number) or None, got "
            f"{_kind(walltime)}"
        )
    return float(walltime)


def _hparam(who: str, name: str, value):
    """A hyperparameter as TensorBoard stores it: None, a str, a bool or a float."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (numbers.Real, Tensor, np.ndarray)):
        return _scalar(who, f"the hparam {name!r}", value)
    raise TypeError(
        f"{who}: the hparam {name!r} must be a number, a str, a bool or None, got "
        f"{_kind(value)}; log str(value) to see it as text"
    )


def _hparam_domains(who: str, domains, hparams: dict) -> dict:
    """``{name: [values]}``, each list of the type of its hparam's value (PyTorch's rule)."""
    if not isinstance(domains, dict):
        raise TypeError(f"{who}: hparam_domain_discrete must be a dict, got {_kind(domains)}")
    for name, values in domains.items():
        if name not in hparams or hparams[name] is None:
            raise ValueError(
                f"{who}: hparam_domain_discrete names {name!r}, which hparam_dict does not "
                f"hold (it holds {sorted(hparams)})"
            )
        kind = type(hparams[name])
        same = [_hparam(who, name, v) for v in values] if isinstance(values, list) else None
        if same is None or not all(type(v) is kind for v in same):
            raise TypeError(
                f"{who}: hparam_domain_discrete[{name!r}] must be a list of "
                f"{'numbers' if kind is float else kind.__name__} like hparam_dict[{name!r}]"
                f" = {hparams[name]!r}, got {values!r}"
            )
        domains[name] = same
    return domains


def _add_domains(experiment, domains: dict) -> None:
    """Put each hparam's discrete values into the experiment summary's plugin content."""
    pb = tensorboardx_module(module="proto.plugin_hparams_pb2")
    metadata = experiment.value[0].metadata.plugin_data
    content = pb.HParamsPluginData.FromString(metadata.content)
    field = {float: "number_value", str: "string_value", bool: "bool_value"}
    for info in content.experiment.hparam_infos:
        for value in domains.get(info.name, ()):
            setattr(info.domain_discrete.values.add(), field[type(value)], value)
    metadata.content = content.SerializeToString()


def _thresholds(who: str, num_thresholds) -> int:
    """PyTorch's thresholds count: an int >= 2, at most 127 (more is written as 127)."""
    if isinstance(num_thresholds, bool) or not isinstance(num_thresholds, numbers.Integral):
        raise TypeError(f"{who}: num_thresholds must be an int, got {_kind(num_thresholds)}")
    if num_thresholds < 2:
        raise ValueError(f"{who}: num_thresholds must be >= 2, got {num_thresholds}")
    return min(int(num_thresholds), 127)


def _chart_tags(who: str, where: str, kind, tags) -> None:
    """A custom chart's tags: a list of str; three (value, lower, upper) for 'Margin'."""
    if kind not in ("Multiline", "Margin"):
        raise ValueError(
            f"{who}: the kind of {where} must be 'Multiline' or 'Margin', got {kind!r}"
        )
    if not isinstance(tags, (list, tuple)) or not all(isinstance(t, str) for t in tags):
        raise TypeError(f"{who}: the tags of {where} must be a list of str, got {tags!r}")
    if kind == "Margin" and len(tags) != 3:
        raise ValueError(
            f"{who}: a 'Margin' chart ({where}) takes 3 tags [value, lower, upper], got {len(tags)}"
        )


# a NumPy dtype's TensorProto type, value field and the dtype that field takes
_TENSOR_FIELDS = {
    "float16": ("DT_HALF", "half_val", np.float16),
    "float32": ("DT_FLOAT", "float_val", np.float32),
    "float64": ("DT_DOUBLE", "double_val", np.float64),
    "int8": ("DT_INT8", "int_val", np.int32),
    "int16": ("DT_INT16", "int_val", np.int32),
    "int32": ("DT_INT32", "int_val", np.int32),
    "int64": ("DT_INT64", "int64_val", np.int64),
    "uint8": ("DT_UINT8", "int_val", np.int32),
    "bool": ("DT_BOOL", "bool_val", np.bool_),
}


def _tensor_summary(who: str, tag: str, arr: np.ndarray, plugin: str):
    """A summary holding all of ``arr`` as a TensorProto, for the ``plugin`` plugin."""
    if arr.dtype.name not in _TENSOR_FIELDS:
        raise TypeError(
            f"{who}: {tag!r} has dtype {arr.dtype}, which TensorBoard does not store; use one "
            f"of {', '.join(_TENSOR_FIELDS)} (e.g. .astype(np.int64))"
        )
    pb = tensorboardx_module(module="proto.summary_pb2")
    shape = tensorboardx_module(module="proto.tensor_shape_pb2").TensorShapeProto
    dtype, field, kind = _TENSOR_FIELDS[arr.dtype.name]
    proto = tensorboardx_module(module="proto.tensor_pb2").TensorProto(
        dtype=dtype,
        tensor_shape=shape(dim=[shape.Dim(size=n) for n in arr.shape]),
        **{field: arr.reshape(-1).astype(kind).tolist()},
    )
    meta = pb.SummaryMetadata(plugin_data=pb.SummaryMetadata.PluginData(plugin_name=plugin))
    return pb.Summary(value=[pb.Summary.Value(tag=tag, metadata=meta, tensor=proto)])


class SummaryWriter:
    """Write TensorBoard event files into ``log_dir`` (PyTorch's ``SummaryWriter``).

    ``log_dir`` defaults to ``runs/CURRENT_DATETIME_HOSTNAME`` followed by ``comment``
    (``comment`` is ignored when ``log_dir`` is given); ``purge_step``, ``max_queue``
    (events between writes to disk), ``flush_secs`` and ``filename_suffix`` mean what
    they mean in PyTorch. Values may be descent Tensors (also ones that require grad),
    NumPy arrays or Python numbers. After ``close`` the next ``add_*`` opens a new event
    file, as PyTorch's. ``tensorboard --logdir`` shows what it writes. Every method of
    PyTorch's writer is here with its signature; ``add_graph``, ``add_onnx_graph``,
    ``add_video``, ``add_embedding`` and ``add_image_with_boxes`` raise NotImplementedError
    naming what to use instead.
    """

    def __init__(
        self,
        log_dir=None,
        comment: str = "",
        purge_step: int | None = None,
        max_queue: int = 10,
        flush_secs: int = 120,
        filename_suffix: str = "",
    ):
        self._summary = tensorboardx_module(module="summary")
        if log_dir is None:
            now = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", f"{now}_{socket.gethostname()}{comment}")
        elif not isinstance(log_dir, (str, os.PathLike)) or not str(log_dir):
            raise TypeError(f"SummaryWriter: log_dir must be a folder's path, got {_kind(log_dir)}")
        self.log_dir = str(log_dir)
        self.purge_step = _step("SummaryWriter", purge_step)
        for name, value in (("max_queue", max_queue), ("flush_secs", flush_secs)):
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
                raise ValueError(f"SummaryWriter: {name} must be a number > 0, got {value!r}")
        if not isinstance(filename_suffix, str):
            raise TypeError(
                f"SummaryWriter: filename_suffix must be a str, got {_kind(filename_suffix)}"
            )
        self.max_queue, self.flush_secs = max_queue, flush_secs
        self.filename_suffix = filename_suffix
        self._files: dict[str, _EventFile] = {}  # the log_dir's, then add_scalars's folders
        self._file(self.log_dir)

    def _file(self, folder: str) -> _EventFile:
        if folder not in self._files:
            purge = None
            if folder == self.log_dir:  # the purge is done once, by the first file (torch)
                purge, self.purge_step = self.purge_step, None
            self._files[folder] = _EventFile(
                folder, self.max_queue, self.flush_secs, self.filename_suffix, purge
            )
        return self._files[folder]

    def _add(self, who: str, summary, global_step, walltime) -> None:
        """Write ``summary`` to the log_dir's event file at the checked step and time."""
        self._file(self.log_dir).add(summary, _step(who, global_step), _walltime(who, walltime))

    def get_logdir(self) -> str:
        """The folder the event files go to."""
        return self.log_dir

    def add_scalar(
        self, tag, scalar_value, global_step=None, walltime=None, new_style=False,
        double_precision=False,
    ) -> None:  # fmt: skip
        """One number (a one-element Tensor or array counts) under ``tag`` at ``global_step``.
        ``new_style`` stores it as a tensor of the scalars plugin (float64 with
        ``double_precision``), as PyTorch's does; EventAccumulator's ``Tensors`` reads it."""
        who = "add_scalar"
        tag, value = _tag(who, tag), _scalar(who, "scalar_value", scalar_value)
        if new_style:
            arr = np.array(value, dtype=np.float64 if double_precision else np.float32)
            summary = _tensor_summary(who, tag, arr, "scalars")
        else:
            summary = self._summary.scalar(tag, value)
        self._add(who, summary, global_step, walltime)

    def add_scalars(self, main_tag, tag_scalar_dict, global_step=None, walltime=None) -> None:
        """Several numbers in one chart: each ``{tag: value}`` is written as ``main_tag`` in
        its own folder ``log_dir/main_tag_tag`` (PyTorch's layout, '/' in main_tag as '_')."""
        who = "add_scalars"
        main_tag = _tag(who, main_tag, "main_tag")
        if not isinstance(tag_scalar_dict, dict):
            raise TypeError(
                f"{who}: tag_scalar_dict must be a dict {{tag: number}}, got "
                f"{_kind(tag_scalar_dict)}"
            )
        values = {
            _tag(who, tag, "each key of tag_scalar_dict"): _scalar(who, f"the value of {tag!r}", v)
            for tag, v in tag_scalar_dict.items()
        }
        step, walltime = _step(who, global_step), _walltime(who, walltime)
        walltime = time.time() if walltime is None else walltime  # one time for all, as torch
        for tag, value in values.items():
            folder = f"{self.log_dir}/{main_tag.replace('/', '_')}_{tag}"
            self._file(folder).add(self._summary.scalar(main_tag, value), step, walltime)

    def add_histogram(
        self, tag, values, global_step=None, bins="tensorflow", walltime=None, max_bins=None
    ) -> None:
        """A histogram of ``values`` (any shape, flattened); ``bins`` as NumPy's
        ``histogram`` takes it, or 'tensorflow' (PyTorch's default edges)."""
        who = "add_histogram"
        tag = _tag(who, tag)
        arr = _array(who, "values", values).astype(np.float64).reshape(-1)
        if arr.size == 0:
            raise ValueError(f"{who}: values for {tag!r} are empty; a histogram needs a value")
        if not np.isfinite(arr).all():
            bad = int((~np.isfinite(arr)).sum())
            raise ValueError(
                f"{who}: values for {tag!r} hold {bad} NaN or inf of {arr.size}; a histogram "
                f"needs finite values"
            )
        if isinstance(bins, str) and bins == "tensorflow":
            bins = _tensorflow_bins()
        summary = self._summary.histogram(tag, arr, bins, max_bins=max_bins)
        self._add(who, summary, global_step, walltime)

    def add_image(self, tag, img_tensor, global_step=None, walltime=None, dataformats="CHW"):
        """An image: ``dataformats`` names the axes ('CHW', 'HWC', 'HW', 'WH', ...) with 1,
        3 or 4 channels. As PyTorch's: uint8 values are pixels (0-255), any other values
        are in [0, 1] (scaled by 255 and clipped). Needs Pillow, which encodes the PNG."""
        summary = self._image("add_image", tag, img_tensor, dataformats)
        self._add("add_image", summary, global_step, walltime)

    def add_images(self, tag, img_tensor, global_step=None, walltime=None, dataformats="NCHW"):
        """A batch of N images as one image, PyTorch's grid: rows of 8 side by side with no
        padding (``min(N, 8) * W`` wide, ``ceil(N / 8) * H`` high), the last row filled
        with black. ``dataformats`` orders N, C, H and W ('NCHW', 'NHWC'); values as in
        ``add_image``."""
        summary = self._image("add_images", tag, img_tensor, dataformats)
        self._add("add_images", summary, global_step, walltime)

    def _image(self, who: str, tag, img_tensor, dataformats):
        """The image summary of ``img_tensor`` (its axes named by ``dataformats``, N for
        ``add_images``'s batch), checked; float values in [0, 1] become pixels."""
        tag = _tag(who, tag)
        img = _array(who, "img_tensor", img_tensor)
        batch = who == "add_images"
        fmt = dataformats.upper() if isinstance(dataformats, str) else None
        if batch and (fmt is None or len(fmt) != 4 or set(fmt) != set("NCHW")):
            raise ValueError(
                f"{who}: dataformats must order the axes N, C, H and W ('NCHW', 'NHWC'), "
                f"got {dataformats!r}"
            )
        if fmt is None or len(set(fmt)) != len(fmt) or not {"H", "W"} <= set(fmt) <= set("NCHW"):
            raise ValueError(
                f"{who}: dataformats must name the image's axes with H, W and optionally C "
                f"('CHW', 'HWC', 'HW'), got {dataformats!r}"
            )
        if not batch and (img.ndim == 4 or "N" in fmt):
            raise ValueError(
                f"{who}: the image {tag!r} has shape {tuple(img.shape)} (dataformats="
                f"{dataformats!r}): a batch of images? log it with add_images(tag, images, "
                f"step, dataformats='NCHW'), which lays them out in a grid"
            )
        if img.ndim != len(fmt):
            raise ValueError(
                f"{who}: the image {tag!r} has shape {tuple(img.shape)} ({img.ndim} axes) but "
                f"dataformats={dataformats!r} names {len(fmt)}; give the dataformats of its axes"
            )
        if "C" in fmt and img.shape[fmt.index("C")] not in (1, 3, 4):
            raise ValueError(
                f"{who}: the image {tag!r} has {img.shape[fmt.index('C')]} channels (axis "
                f"C of {dataformats!r}, shape {tuple(img.shape)}); an image has 1 (grey), 3 "
                f"(RGB) or 4 (RGBA)"
            )
        if batch and img.shape[fmt.index("N")] == 0:
            raise ValueError(f"{who}: the batch {tag!r} holds no image (shape {img.shape})")
        require("PIL", "tensorboard", who, package="pillow")
        if img.dtype != np.uint8:
            img = (img.astype(np.float32) * 255.0).clip(0, 255).astype(np.uint8)
        return self._summary.image(tag, img, dataformats=fmt)

    def add_text(self, tag, text_string, global_step=None, walltime=None) -> None:
        """Text (Markdown, as TensorBoard shows it) under ``tag`` (stored as
        ``tag/text_summary``, as PyTorch's)."""
        who = "add_text"
        if not isinstance(text_string, str):
            raise TypeError(f"{who}: text_string must be a str, got {_kind(text_string)}")
        summary = self._summary.text(_tag(who, tag), text_string)
        self._add(who, summary, global_step, walltime)

    def add_graph(self, model, input_to_model=None, verbose=False, use_strict_trace=True):
        """Not offered: TensorBoard's graph is a TorchScript trace, which descent has not."""
        raise NotImplementedError(
            "add_graph: descent writes no TensorBoard graph (PyTorch's is a TorchScript "
            "trace); draw the model's graph with descent.viz.graph(model(x)) instead"
        )

    def add_figure(self, tag, figure, global_step=None, close=True, walltime=None) -> None:
        """A matplotlib figure drawn as an image of its pixel size (``figure.canvas.
        get_width_height()``: inches times dpi); a list of figures of one size is logged as
        ``add_images``'s grid. ``close`` closes each figure once drawn, as PyTorch's.
        Needs matplotlib (the ``descent[viz]`` extra)."""
        who = "add_figure"
        agg = require("matplotlib.backends.backend_agg", "viz", who)
        figures = figure if isinstance(figure, list) else [figure]
        if not figures:
            raise ValueError(f"{who}: the list of figures for {tag!r} is empty")
        pixels = []
        for fig in figures:
            if not hasattr(fig, "savefig") or not hasattr(fig, "get_size_inches"):
                raise TypeError(
                    f"{who}: figure must be a matplotlib Figure or a list of them, got "
                    f"{_kind(fig)}; pass plt.gcf() or the figure plt.subplots() returns"
                )
            canvas = agg.FigureCanvasAgg(fig)  # NOTE: as PyTorch's, the figure keeps it
            canvas.draw()
            pixels.append(np.asarray(canvas.buffer_rgba())[..., :3].copy())  # (H, W, 3)
            if close:
                require("matplotlib.pyplot", "viz", who).close(fig)
        sizes = sorted({p.shape[:2] for p in pixels})
        if len(sizes) > 1:
            raise ValueError(
                f"{who}: the figures for {tag!r} have different sizes in pixels (height, "
                f"width) {sizes}; a grid needs one size: give them one figsize and dpi"
            )
        if isinstance(figure, list):
            summary = self._image("add_images", tag, np.stack(pixels), "NHWC")
        else:
            summary = self._image(who, tag, pixels[0], "HWC")
        self._add(who, summary, global_step, walltime)

    def add_hparams(
        self, hparam_dict, metric_dict, hparam_domain_discrete=None, run_name=None,
        global_step=None,
    ) -> None:  # fmt: skip
        """One run's hyperparameters and final metrics for TensorBoard's HPARAMS tab, as
        PyTorch's: written with each metric as a scalar into a new event file in the
        sub-folder ``log_dir/run_name`` (``run_name`` defaults to ``str(time.time())``).
        Values are numbers (Tensors of one element count), str or bool (None is left out);
        ``hparam_domain_discrete`` lists, per hparam, every value it can take."""
        who = "add_hparams"
        for name, value in (("hparam_dict", hparam_dict), ("metric_dict", metric_dict)):
            if not isinstance(value, dict):
                raise TypeError(f"{who}: {name} must be a dict, got {_kind(value)}")
        hparams = {
            _tag(who, k, "each key of hparam_dict"): _hparam(who, k, v)
            for k, v in hparam_dict.items()
        }
        metrics = {
            _tag(who, k, "each key of metric_dict"): _scalar(who, f"the metric {k!r}", v)
            for k, v in metric_dict.items()
        }
        domains = _hparam_domains(who, hparam_domain_discrete or {}, hparams)
        if run_name is None or run_name == "":
            run_name = str(time.time())
        elif not isinstance(run_name, str):
            raise TypeError(f"{who}: run_name must be a str or None, got {_kind(run_name)}")
        step = _step(who, global_step)
        experiment, start, end = self._summary.hparams(hparams, metrics)
        if domains:
            _add_domains(experiment, domains)
        run = _EventFile(
            os.path.join(self.log_dir, run_name), self.max_queue, self.flush_secs,
            self.filename_suffix, None,
        )  # fmt: skip
        for summary in (experiment, start, end):
            run.add(summary, step, None)
        for tag, value in metrics.items():
            run.add(self._summary.scalar(tag, value), step, None)
        run.close()

    def add_pr_curve(
        self, tag, labels, predictions, global_step=None, num_thresholds=127, weights=None,
        walltime=None,
    ) -> None:  # fmt: skip
        """A precision-recall curve: ``labels`` (0/1 or bool) against ``predictions`` (in
        [0, 1], same shape) at ``num_thresholds`` thresholds ``i / (num_thresholds - 1)``,
        at most 127 (PyTorch's limit); ``weights`` weighs each example."""
        who = "add_pr_curve"
        tag = _tag(who, tag)
        labels = _array(who, "labels", labels).astype(np.float64)
        predictions = _array(who, "predictions", predictions).astype(np.float64)
        if labels.shape != predictions.shape:
            raise ValueError(
                f"{who}: labels {tuple(labels.shape)} and predictions "
                f"{tuple(predictions.shape)} for {tag!r} must have one shape"
            )
        if not np.isin(labels, (0.0, 1.0)).all():
            raise ValueError(f"{who}: labels for {tag!r} must be 0 or 1 (or bool)")
        if not ((predictions >= 0) & (predictions <= 1)).all():  # NaN fails too
            raise ValueError(
                f"{who}: predictions for {tag!r} must be probabilities in [0, 1]; apply "
                f"a sigmoid or softmax first"
            )
        if weights is not None:
            weights = np.broadcast_to(_array(who, "weights", weights), labels.shape)
        thresholds = _thresholds(who, num_thresholds)
        summary = self._summary.pr_curve(tag, labels, predictions, thresholds, weights)
        self._add(who, summary, global_step, walltime)

    def add_pr_curve_raw(
        self, tag, true_positive_counts, false_positive_counts, true_negative_counts,
        false_negative_counts, precision, recall, global_step=None, num_thresholds=127,
        weights=None, walltime=None,
    ) -> None:  # fmt: skip
        """A precision-recall curve from its counts, one value per threshold each (PyTorch's
        ``add_pr_curve_raw``; ``weights`` is unused, as there)."""
        who = "add_pr_curve_raw"
        tag = _tag(who, tag)
        names = ("true_positive_counts", "false_positive_counts", "true_negative_counts",
                 "false_negative_counts", "precision", "recall")  # fmt: skip
        values = (true_positive_counts, false_positive_counts, true_negative_counts,
                  false_negative_counts, precision, recall)  # fmt: skip
        rows = [_array(who, n, v).astype(np.float64).reshape(-1) for n, v in zip(names, values)]
        thresholds = _thresholds(who, num_thresholds)
        if {len(r) for r in rows} != {thresholds}:
            raise ValueError(
                f"{who}: each of {', '.join(names)} must hold num_thresholds={thresholds} "
                f"values, got {[len(r) for r in rows]}"
            )
        summary = self._summary.pr_curve_raw(tag, *rows, num_thresholds=thresholds)
        self._add(who, summary, global_step, walltime)

    def add_audio(self, tag, snd_tensor, global_step=None, sample_rate=44100, walltime=None):
        """A mono sound: ``snd_tensor`` holds its samples in [-1, 1] (one axis once axes of
        length 1 are dropped, as PyTorch's; louder ones are clipped), stored as 16-bit
        WAV at ``sample_rate`` samples a second."""
        who = "add_audio"
        tag = _tag(who, tag)
        samples = _array(who, "snd_tensor", snd_tensor).astype(np.float64).squeeze()
        if samples.ndim != 1:
            raise ValueError(
                f"{who}: the sound {tag!r} has shape {tuple(np.shape(snd_tensor))}; it must "
                f"be mono, one axis of samples (stereo: log each channel under its own tag)"
            )
        if not np.isfinite(samples).all():
            raise ValueError(f"{who}: the sound {tag!r} holds NaN or inf")
        if isinstance(sample_rate, bool) or not isinstance(sample_rate, numbers.Integral):
            raise TypeError(f"{who}: sample_rate must be an int, got {_kind(sample_rate)}")
        if sample_rate <= 0:
            raise ValueError(f"{who}: sample_rate must be > 0, got {sample_rate}")
        pcm = (samples.clip(-1, 1) * np.iinfo(np.int16).max).astype("<i2")
        wav = io.BytesIO()
        with wave.open(wav, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)  # bytes a sample
            out.setframerate(int(sample_rate))
            out.writeframes(pcm.tobytes())
        pb = tensorboardx_module(module="proto.summary_pb2")
        audio = pb.Summary.Audio(
            sample_rate=int(sample_rate), num_channels=1, length_frames=len(pcm),
            encoded_audio_string=wav.getvalue(), content_type="audio/wav",
        )  # fmt: skip
        summary = pb.Summary(value=[pb.Summary.Value(tag=tag, audio=audio)])
        self._add(who, summary, global_step, walltime)

    def add_custom_scalars(self, layout) -> None:
        """The CUSTOM SCALARS tab's layout: ``{category: {title: [kind, tags]}}`` with kind
        'Multiline' (tags: the list of scalar tags, or regexes, drawn in one chart) or
        'Margin' (tags: [value, lower, upper])."""
        who = "add_custom_scalars"
        if not isinstance(layout, dict):
            raise TypeError(f"{who}: layout must be a dict {{category: {{title: [kind, tags]}}}}")
        for category, charts in layout.items():
            if not isinstance(charts, dict):
                raise TypeError(
                    f"{who}: layout[{category!r}] must be a dict {{title: [kind, tags]}}, got "
                    f"{_kind(charts)}"
                )
            for title, chart in charts.items():
                where = f"layout[{category!r}][{title!r}]"
                if not isinstance(chart, (list, tuple)) or len(chart) != 2:
                    raise ValueError(f"{who}: {where} must be [kind, tags], got {chart!r}")
                _chart_tags(who, where, *chart)
        self._add(who, self._summary.custom_scalars(layout), None, None)

    def add_custom_scalars_multilinechart(self, tags, category="default", title="untitled"):
        """One custom chart drawing the scalars ``tags`` together."""
        self.add_custom_scalars({category: {title: ["Multiline", tags]}})

    def add_custom_scalars_marginchart(self, tags, category="default", title="untitled"):
        """One custom chart of a value between two bounds: ``tags`` = [value, lower, upper]."""
        self.add_custom_scalars({category: {title: ["Margin", tags]}})

    def add_histogram_raw(
        self, tag, min, max, num, sum, sum_squares, bucket_limits, bucket_counts,  # noqa: A002
        global_step=None, walltime=None,
    ) -> None:  # fmt: skip
        """A histogram from its statistics: ``bucket_counts[i]`` values up to
        ``bucket_limits[i]`` (one limit per count)."""
        who = "add_histogram_raw"
        tag = _tag(who, tag)
        stats = {"min": min, "max": max, "num": num, "sum": sum, "sum_squares": sum_squares}
        stats = {k: _scalar(who, k, v) for k, v in stats.items()}
        limits = _array(who, "bucket_limits", bucket_limits).astype(np.float64).reshape(-1)
        counts = _array(who, "bucket_counts", bucket_counts).astype(np.float64).reshape(-1)
        if len(limits) != len(counts):
            raise ValueError(
                f"{who}: bucket_limits ({len(limits)}) and bucket_counts ({len(counts)}) "
                f"for {tag!r} must have one length: one upper limit per count"
            )
        summary = self._summary.histogram_raw(
            tag, **stats, bucket_limits=limits.tolist(), bucket_counts=counts.tolist()
        )
        self._add(who, summary, global_step, walltime)

    def add_mesh(
        self, tag, vertices, colors=None, faces=None, config_dict=None, global_step=None,
        walltime=None,
    ) -> None:  # fmt: skip
        """A 3D mesh or point cloud for the MESH tab: ``vertices`` (B, N, 3) positions,
        ``colors`` (B, N, 3) in 0-255, ``faces`` (B, F, 3) vertex indices; stored as PyTorch
        stores them, tensors tagged ``tag_1`` (vertices), ``tag_2`` (faces), ``tag_3``."""
        who = "add_mesh"
        tag = _tag(who, tag)
        parts = {"vertices": vertices, "colors": colors, "faces": faces}
        arrays = {}
        for name, value in parts.items():
            if value is None and name != "vertices":
                arrays[name] = None
                continue
            arr = _array(who, name, value).astype(np.float64)
            if arr.ndim != 3 or arr.shape[2] != 3:
                raise ValueError(
                    f"{who}: {name} of {tag!r} must have shape (batch, count, 3), got "
                    f"{tuple(arr.shape)}"
                )
            arrays[name] = arr
        if arrays["colors"] is not None and arrays["colors"].shape != arrays["vertices"].shape:
            raise ValueError(
                f"{who}: colors {arrays['colors'].shape} of {tag!r} must match vertices "
                f"{arrays['vertices'].shape}: one color per vertex"
            )
        summary = self._summary.mesh(tag, **arrays, config_dict=config_dict)
        self._add(who, summary, global_step, walltime)

    def add_tensor(self, tag, tensor, global_step=None, walltime=None) -> None:
        """The whole of ``tensor`` (numbers of any shape), PyTorch's 'tensor' plugin; read
        it back with ``tensorboard.util.tensor_util.make_ndarray``."""
        who = "add_tensor"
        tag = _tag(who, tag)
        arr = _array(who, "tensor", tensor)
        summary = _tensor_summary(who, tag, arr, "tensor")
        self._add(who, summary, global_step, walltime)

    def add_image_with_boxes(
        self, tag, img_tensor, box_tensor, global_step=None, walltime=None, rescale=1,
        dataformats="CHW", labels=None,
    ):  # fmt: skip
        """Not offered: draw the boxes into the image, then ``add_image`` it."""
        raise NotImplementedError(
            "add_image_with_boxes: descent draws no boxes; draw them into the image (e.g. "
            "with matplotlib's Rectangle and log the figure with add_figure), then log it"
        )

    def add_video(self, tag, vid_tensor, global_step=None, fps=4, walltime=None):
        """Not offered: TensorBoard's video is an animated GIF, which needs moviepy."""
        raise NotImplementedError(
            "add_video: descent writes no video (PyTorch's is a GIF made by moviepy); log "
            "the frames with add_images(tag, frames, step, dataformats='NCHW'), or each "
            "frame with add_image at its own global_step"
        )

    def add_embedding(
        self, mat, metadata=None, label_img=None, global_step=None, tag="default",
        metadata_header=None,
    ):  # fmt: skip
        """Not offered: the projector's files are not written."""
        raise NotImplementedError(
            "add_embedding: descent writes no TensorBoard projector files; save the vectors "
            "and labels as TSV (np.savetxt(path, mat, delimiter='\\t')) and load them in "
            "the Embedding Projector (projector.tensorflow.org)"
        )

    def add_onnx_graph(self, prototxt):
        """Not offered: descent writes no TensorBoard graph."""
        raise NotImplementedError(
            "add_onnx_graph: descent writes no TensorBoard graph; open the ONNX file in "
            "Netron (netron.app), or draw a descent model with descent.viz.graph(model(x))"
        )

    def flush(self) -> None:
        """Write everything added so far to disk."""
        for f in self._files.values():
            f.flush()

    def close(self) -> None:
        """Flush and close the event files."""
        for f in self._files.values():
            f.close()
        self._files = {}

    def __enter__(self) -> SummaryWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
