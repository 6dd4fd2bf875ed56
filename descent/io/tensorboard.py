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

import itertools
import numbers
import os
import socket
import time
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


class SummaryWriter:
    """Write TensorBoard event files into ``log_dir`` (PyTorch's ``SummaryWriter``).

    ``log_dir`` defaults to ``runs/CURRENT_DATETIME_HOSTNAME`` followed by ``comment``
    (``comment`` is ignored when ``log_dir`` is given); ``purge_step``, ``max_queue``
    (events between writes to disk), ``flush_secs`` and ``filename_suffix`` mean what
    they mean in PyTorch. Values may be descent Tensors (also ones that require grad),
    NumPy arrays or Python numbers. After ``close`` the next ``add_*`` opens a new event
    file, as PyTorch's. ``tensorboard --logdir`` shows what it writes; ``add_graph`` is
    not offered (``descent.viz.graph`` draws a model's graph).
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

    def get_logdir(self) -> str:
        """The folder the event files go to."""
        return self.log_dir

    def add_scalar(self, tag, scalar_value, global_step=None, walltime=None) -> None:
        """One number (a one-element Tensor or array counts) under ``tag`` at ``global_step``."""
        who = "add_scalar"
        summary = self._summary.scalar(_tag(who, tag), _scalar(who, "scalar_value", scalar_value))
        self._file(self.log_dir).add(summary, _step(who, global_step), _walltime(who, walltime))

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
        self._file(self.log_dir).add(summary, _step(who, global_step), _walltime(who, walltime))

    def add_image(self, tag, img_tensor, global_step=None, walltime=None, dataformats="CHW"):
        """An image: ``dataformats`` names the axes ('CHW', 'HWC', 'HW', 'WH', ...) with 1,
        3 or 4 channels. As PyTorch's: uint8 values are pixels (0-255), any other values
        are in [0, 1] (scaled by 255 and clipped). Needs Pillow, which encodes the PNG."""
        who = "add_image"
        tag = _tag(who, tag)
        img = _array(who, "img_tensor", img_tensor)
        fmt = dataformats.upper() if isinstance(dataformats, str) else None
        if fmt is None or len(set(fmt)) != len(fmt) or not {"H", "W"} <= set(fmt) <= set("CHW"):
            raise ValueError(
                f"{who}: dataformats must name the image's axes with H, W and optionally C "
                f"('CHW', 'HWC', 'HW'), got {dataformats!r}"
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
        require("PIL", "tensorboard", who, package="pillow")
        if img.dtype != np.uint8:
            img = (img.astype(np.float32) * 255.0).clip(0, 255).astype(np.uint8)
        summary = self._summary.image(tag, img, dataformats=fmt)
        self._file(self.log_dir).add(summary, _step(who, global_step), _walltime(who, walltime))

    def add_text(self, tag, text_string, global_step=None, walltime=None) -> None:
        """Text (Markdown, as TensorBoard shows it) under ``tag`` (stored as
        ``tag/text_summary``, as PyTorch's)."""
        who = "add_text"
        if not isinstance(text_string, str):
            raise TypeError(f"{who}: text_string must be a str, got {_kind(text_string)}")
        summary = self._summary.text(_tag(who, tag), text_string)
        self._file(self.log_dir).add(summary, _step(who, global_step), _walltime(who, walltime))

    def add_graph(self, model, input_to_model=None, verbose=False, use_strict_trace=True):
        """Not offered: TensorBoard's graph is a TorchScript trace, which descent has not."""
        raise NotImplementedError(
            "add_graph: descent writes no TensorBoard graph (PyTorch's is a TorchScript "
            "trace); draw the model's graph with descent.viz.graph(model(x)) instead"
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
