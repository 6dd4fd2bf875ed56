"""Callbacks: hooks that ``fit`` calls at the start and end of training, epochs and steps.

Each callback sees the running fit as ``self.run`` (model, optimizer, history, epoch, ...)
and may stop training by setting ``self.run.stop_training = True``. Keras's names and
arguments; as in Keras, ``self.model`` is the model being trained (``ds.keras.Model``
when training through it, which also takes ``self.model.stop_training = True``) and
``self.params`` holds ``epochs``, ``steps`` and ``verbose``. With ``verbose=1`` a callback
prints what it did, in Keras's words.
"""

from __future__ import annotations

import csv
import io
import math
import os
import string
import time
import warnings
from pathlib import Path

import numpy as np

from ..io import atomic_write, save
from ..io.tensorboard import SummaryWriter, tensorboardx_module

__all__ = [
    "Callback", "EarlyStopping", "ModelCheckpoint", "TerminateOnNaN", "LearningRateScheduler",
    "CSVLogger", "TensorBoard",
]  # fmt: skip


class Callback:
    """Base class: override the hooks you need. ``logs`` holds the epoch's values."""

    run = None  # set by fit: the FitRun in progress
    model = None  # set by fit (set_model): the model being trained
    params: dict | None = None  # set by fit (set_params): epochs, steps, verbose

    def set_model(self, model) -> None:
        """Keras's hook: ``fit`` hands each callback the model it trains."""
        self.model = model

    def set_params(self, params: dict) -> None:
        """Keras's hook: ``fit`` hands each callback the run's ``epochs``, ``steps`` and
        ``verbose``."""
        self.params = dict(params)

    def on_train_begin(self, logs: dict | None = None) -> None: ...

    def on_train_end(self, logs: dict | None = None) -> None: ...

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None: ...

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None: ...

    def on_batch_end(self, step: int, logs: dict | None = None) -> None: ...

    def state_dict(self) -> dict:
        """What a checkpoint must hold for this callback to resume exactly."""
        return {}

    def load_state_dict(self, state: dict) -> None: ...


def _direction(monitor, mode: str) -> tuple[float, float]:
    """(sign, initial best) for a monitored quantity: sign +1 where larger is better, -1
    where smaller is; ``sign * current > sign * best + delta`` is an improvement."""
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode == "auto":
        larger = ("acc", "accuracy", "r2")
        # a callable is a score, larger is better (scikit-learn's scorers)
        mode = "max" if callable(monitor) or monitor.endswith(larger) else "min"
    return (1.0, -math.inf) if mode == "max" else (-1.0, math.inf)


def _monitored(logs: dict, monitor, who: str) -> float | None:
    """The monitored value: ``monitor()`` for a callable, else the logged ``monitor``."""
    if callable(monitor):
        return float(monitor())
    value = (logs or {}).get(monitor)
    if value is None:
        warnings.warn(
            f"{who}: '{monitor}' is not among the logged values {sorted(logs or {})}; "
            f"pass validation data or monitor one of those",
            stacklevel=3,
        )
    return value


def _check_file_path(path, who: str, example: str) -> None:
    """Refuse, before training, a path that cannot become a file: a folder, or a path
    under a file."""
    path = Path(path)
    if str(path).endswith(("/", os.sep)) or path.is_dir():
        raise ValueError(
            f"{who}: {path} is a folder, but it needs the path of a file; give one inside it, "
            f"e.g. {path / example}"
        )
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ValueError(
                    f"{who}: {parent} is a file, not a folder, so {path} cannot be written"
                )
            break


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    Keras's rule: after ``patience`` epochs in a row without an improvement (0: the first
    one), training stops. ``monitor`` is a logged name ('val_loss', 'loss', 'val_accuracy'
    ...) or a callable returning a score each epoch. With ``restore_best_weights`` the
    model ends with the weights of its best epoch. ``baseline``: an epoch only resets the
    count when it also beats the baseline (the best and its weights follow every
    improvement, as in Keras 3). ``scores`` lists every value seen, ``best`` the best one,
    ``stopped_epoch`` the epoch the rule stopped training (None if it never did).
    ``verbose=1`` prints, when training ends, what it did: "early stopping at epoch 43;
    restoring the weights of epoch 34" (epochs counted from 1, as Keras prints them).

    ``tol`` (a number) counts as scikit-learn's estimators do: an epoch that fails to
    beat the best so far by at least ``tol`` counts towards ``patience``, while ``best``
    (and the weights kept) still follows every improvement. Training stops after more
    than ``patience`` such epochs in a row: scikit-learn's ``n_iter_no_change``.

    >>> stop = ds.train.EarlyStopping("loss", patience=10, tol=1e-4)
    """

    def __init__(
        self,
        monitor="val_loss",
        min_delta: float = 0.0,
        patience: int = 0,
        mode: str = "auto",
        restore_best_weights: bool = False,
        baseline: float | None = None,
        tol: float | None = None,
        verbose: int = 0,
    ):
        self.monitor = monitor
        self.verbose = verbose
        self.min_delta = abs(min_delta)
        self.patience = patience
        self.mode = mode
        self.restore_best_weights = restore_best_weights
        self.baseline = baseline
        self.tol = None if tol is None else float(tol)
        self._sign, initial = _direction(monitor, mode)
        self.wait = 0
        self.best = initial
        self.best_epoch = -1
        self.best_weights = None
        self.stopped_epoch = None
        self.scores: list[float] = []

    def on_epoch_end(self, epoch, logs=None):
        current = _monitored(logs, self.monitor, "EarlyStopping")
        if current is None:
            return
        self.scores.append(current)
        s = self._sign
        improved = s * current > s * self.best + self.min_delta
        if self.tol is None:  # Keras: count the epochs since the last improvement
            self.wait += 1
            beats_baseline = (
                self.baseline is None or s * current > s * self.baseline + self.min_delta
            )
            if improved and beats_baseline:
                self.wait = 0
            stop = not improved and self.wait >= self.patience and epoch > 0
        else:  # scikit-learn: count the epochs that fail to beat the best before by tol
            settled = not s * current >= s * self.best + self.tol
            self.wait = self.wait + 1 if settled else 0
            stop = self.wait > self.patience
        if improved:
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = {
                    k: v.numpy().copy() for k, v in self.run.model.state_dict().items()
                }
        if stop:
            self.stopped_epoch = epoch
            self.run.stop_training = True

    def on_train_end(self, logs=None):
        restoring = self.restore_best_weights and self.best_weights is not None
        if restoring:
            self.run.model.load_state_dict(self.best_weights)
        if self.verbose and (restoring or self.stopped_epoch is not None):
            print(self.report(), flush=True)

    def report(self) -> str:
        """What this callback did, in one line (epochs counted from 1)."""
        parts = []
        if self.stopped_epoch is not None:
            parts.append(f"early stopping at epoch {self.stopped_epoch + 1}")
        if self.restore_best_weights and self.best_weights is not None:
            parts.append(f"restoring the weights of epoch {self.best_epoch + 1}")
        return "; ".join(parts) or "no early stopping"

    def state_dict(self) -> dict:
        state = {"wait": self.wait, "best": self.best, "best_epoch": self.best_epoch,
                 "scores": list(self.scores)}  # fmt: skip
        if self.best_weights is not None:
            state["best_weights"] = self.best_weights
        return state

    def load_state_dict(self, state: dict) -> None:
        self.wait, self.best, self.best_epoch = state["wait"], state["best"], state["best_epoch"]
        self.best_weights = state.get("best_weights")
        self.scores = list(state.get("scores", []))


class ModelCheckpoint(Callback):
    """Save a checkpoint at the end of each epoch (or only when ``monitor`` improves).

    ``filepath`` may hold ``{epoch}`` (1-based, as Keras) and any logged value, e.g.
    ``"run/ckpt-{epoch:02d}.safetensors"``; before training starts, a name the run will not
    log (``{val_loss}`` without validation data, a typo) is an error that lists the names it
    can use. The checkpoint holds everything a run needs to
    continue exactly (``fit(..., resume_from=path)``): weights, optimizer, scheduler,
    data-loader position and RNG states, global step, epoch and history; with
    ``save_weights_only`` just the model's state_dict. ``verbose=1`` prints each save
    (Keras's "Epoch 5: val_loss improved from 0.30000 to 0.20000, saving model to PATH").
    """

    def __init__(
        self,
        filepath,
        monitor: str = "val_loss",
        save_best_only: bool = False,
        mode: str = "auto",
        save_weights_only: bool = False,
        verbose: int = 0,
    ):
        self.filepath = str(filepath)
        self.verbose = verbose
        self.monitor = monitor
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self._sign, self.best = _direction(monitor, mode)
        self.last_path: Path | None = None

    def on_train_begin(self, logs=None):
        names = ["epoch", *self.run.log_names]
        for _, field, _, _ in string.Formatter().parse(self.filepath):
            if field is None:
                continue
            name = field.split(".")[0].split("[")[0]
            if name not in names:
                shown = "{" + field + "}"
                raise ValueError(
                    f"ModelCheckpoint: the file name {self.filepath!r} uses {shown}, which this "
                    f"run does not log; it can use {names}, e.g. 'ckpt-{{epoch:02d}}.safetensors' "
                    f"(the val_ names need validation data: val_data or validation_split)"
                )
        try:
            trial = self.filepath.format(epoch=1, **dict.fromkeys(self.run.log_names, 0.0))
        except (ValueError, TypeError, IndexError, KeyError, AttributeError) as e:
            raise ValueError(f"ModelCheckpoint: bad file name {self.filepath!r}: {e}") from None
        _check_file_path(trial, "ModelCheckpoint", "ckpt-{epoch:02d}.safetensors")

    def on_epoch_end(self, epoch, logs=None):
        path = Path(self.filepath.format(epoch=epoch + 1, **(logs or {})))
        message = f"Epoch {epoch + 1}: saving model to {path}"
        if self.save_best_only:
            current = _monitored(logs, self.monitor, "ModelCheckpoint")
            if current is None:
                return
            if not self._sign * current > self._sign * self.best:
                if self.verbose:
                    print(
                        f"Epoch {epoch + 1}: {self.monitor} did not improve from {self.best:.5f}",
                        flush=True,
                    )
                return
            message = (
                f"Epoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to "
                f"{current:.5f}, saving model to {path}"
            )
            self.best = current
        if self.save_weights_only:
            state = self.run.model.state_dict()
        else:
            state = self.run.checkpoint_state()
        self.last_path = save(state, path)
        if self.verbose:
            print(message, flush=True)

    def state_dict(self) -> dict:
        return {"best": self.best}

    def load_state_dict(self, state: dict) -> None:
        self.best = state["best"]


class TerminateOnNaN(Callback):
    """When the loss (or a gradient) turns NaN or inf, stop training instead of raising.

    ``fit`` warns in one line naming what became NaN or inf, the epoch and the step,
    records it in ``history.stopped_by`` and returns the History of the epochs finished
    before; the model keeps the weights of the last good step. ``verbose=1`` (the default:
    Keras's callback always prints) also prints Keras's line, "Epoch 2, batch 3: invalid
    loss (the loss became nan), terminating training; the history keeps 1 finished epoch".
    """

    def __init__(self, verbose: int = 1):
        self.verbose = verbose

    def on_train_end(self, logs=None):
        diverged = self.run.diverged
        if self.verbose and diverged is not None:
            finished = len(self.run.history)
            print(
                f"Epoch {diverged['epoch'] + 1}, batch {diverged['step'] + 1}: invalid loss "
                f"({diverged['what']}), terminating training; the history keeps {finished} "
                f"finished epoch{'' if finished == 1 else 's'}",
                flush=True,
            )


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of each epoch to ``schedule(epoch, lr)``."""

    def __init__(self, schedule, verbose: int = 0):
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        groups = self.run.optimizer.param_groups
        lr = float(self.schedule(epoch, groups[0]["lr"]))
        if not np.isfinite(lr) or lr < 0:
            raise ValueError(f"LearningRateScheduler: schedule gave lr={lr} at epoch {epoch}")
        for group in groups:
            group["lr"] = lr
        if self.verbose:
            print(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr}")


class CSVLogger(Callback):
    """Write one row per epoch (epoch, then each logged value by name) to a CSV file.

    Each epoch rewrites the file under a temporary name and renames it, so it never holds
    half a row. With ``append`` the rows follow what the file held before the run (a
    header already there is kept). On ``fit(resume_from=...)`` the file is rebuilt from the
    checkpoint (what it held before the run, then one row for each epoch the checkpoint
    holds), so after a kill at any moment and a resume, it equals the log of the run that
    was never stopped, row for row, whatever the order of the callbacks.
    """

    def __init__(self, filename, separator: str = ",", append: bool = False):
        self.filename = Path(filename)
        self.separator = separator
        self.append = append
        self._prefix = ""  # what the file held before this run began
        self._keys: list[str] | None = None
        self._header = False  # whether this logger writes the header (not the prefix)
        self._rows: list[str] = []
        self._restored: dict | None = None

    def on_train_begin(self, logs=None):
        _check_file_path(self.filename, "CSVLogger", "metrics.csv")
        history = self.run.history
        if self._restored is not None or len(history):  # resuming: rebuild from the checkpoint
            state = self._restored or {}
            self._prefix, self._keys = state.get("prefix", ""), state.get("keys")
            self._header, self._rows = bool(state.get("header")), []
            for epoch, epoch_logs in history.rows():
                self._add_row(epoch, epoch_logs)
        else:
            self._prefix, self._keys, self._header, self._rows = "", None, False, []
            if self.append and self.filename.is_file() and self.filename.stat().st_size > 0:
                self._prefix = self.filename.read_text()
                if not self._prefix.endswith("\n"):
                    self._prefix += "\n"
                header = next(csv.reader(io.StringIO(self._prefix), delimiter=self.separator))
                self._keys = header[1:] or None
        self._restored = None
        self._write()

    def on_epoch_end(self, epoch, logs=None):
        self._add_row(epoch, logs or {})
        self._write()

    def _add_row(self, epoch: int, logs: dict) -> None:
        if self._keys is None:
            self._keys, self._header = sorted(logs), True
        self._rows.append(self._line([epoch, *(_cell(logs.get(k, "")) for k in self._keys)]))

    def _line(self, cells: list) -> str:
        out = io.StringIO()
        csv.writer(out, delimiter=self.separator, lineterminator="\n").writerow(cells)
        return out.getvalue()

    def _write(self) -> None:
        header = self._line(["epoch", *self._keys]) if self._header else ""
        atomic_write(self.filename, self._prefix + header + "".join(self._rows))

    def state_dict(self) -> dict:
        return {"prefix": self._prefix, "keys": self._keys, "header": self._header}

    def load_state_dict(self, state: dict) -> None:
        self._restored = dict(state)


class TensorBoard(Callback):
    """Write TensorBoard event files of the run into ``log_dir`` (Keras's callback).

    Keras's layout: ``log_dir/train`` holds ``epoch_loss``, ``epoch_<metric>`` and
    ``epoch_learning_rate`` at step ``epoch`` (0-based); ``log_dir/validation`` holds the
    ``val_`` values under the same names (``val_loss`` as ``epoch_loss``) and
    ``evaluation_<name>_vs_iterations`` at the optimizer's global step. ``tensorboard
    --logdir log_dir`` shows the two runs in one chart.

    ``histogram_freq=N`` (> 0): every N epochs (from epoch 0), a histogram of each
    parameter under its ``named_parameters()`` name, ``<name>/histogram`` (``0.weight/
    histogram``), and of its gradient on the epoch's last batch, ``<name>/gradient``; with
    ``write_images`` also each 1-D or 2-D parameter as a grey image, ``<name>/image``,
    scaled from its smallest value (black) to its largest (white) (Keras clips to [0, 1]).
    ``update_freq``: 'epoch', or 'batch' (or N) to also write ``batch_loss`` every (N-th)
    batch at the optimizer's global step. ``write_steps_per_second`` adds
    ``epoch_steps_per_second``.

    Keras's options for what descent has not are accepted at their defaults only:
    ``write_graph`` writes no graph (``descent.viz.graph`` draws one), and
    ``profile_batch``, ``embeddings_freq`` and ``embeddings_metadata`` are refused when
    set. Needs the ``descent[tensorboard]`` extra (tensorboardX).
    """

    def __init__(
        self,
        log_dir="logs",
        histogram_freq: int = 0,
        write_graph: bool = True,
        write_images: bool = False,
        write_steps_per_second: bool = False,
        update_freq="epoch",
        profile_batch=0,
        embeddings_freq: int = 0,
        embeddings_metadata=None,
    ):
        tensorboardx_module("ds.train.TensorBoard")
        if not isinstance(log_dir, (str, os.PathLike)) or not str(log_dir):
            raise TypeError(f"TensorBoard: log_dir must be a folder's path, got {log_dir!r}")
        self.log_dir = str(log_dir)
        self.histogram_freq = _whole_number("histogram_freq", histogram_freq)
        if update_freq == "batch":
            update_freq = 1
        elif update_freq != "epoch" and (
            isinstance(update_freq, (bool, np.bool_))
            or not isinstance(update_freq, (int, np.integer))
            or update_freq < 1
        ):
            raise ValueError(
                f"TensorBoard: update_freq must be 'epoch', 'batch' or a whole number of "
                f"batches >= 1, got {update_freq!r}"
            )
        self.update_freq = update_freq if update_freq == "epoch" else int(update_freq)
        self.write_graph = bool(write_graph)
        self.write_images = bool(write_images)
        self.write_steps_per_second = bool(write_steps_per_second)
        for name, value, default, why in (
            ("profile_batch", profile_batch, 0, "descent has no profiler"),
            ("embeddings_freq", embeddings_freq, 0, "descent writes no embeddings"),
            ("embeddings_metadata", embeddings_metadata, None, "descent writes no embeddings"),
        ):
            if not (value is default or (default == 0 and value in (0, None))):
                raise ValueError(
                    f"TensorBoard: {name}={value!r} is not supported ({why}); leave it at "
                    f"its default, {default!r}"
                )
        self.profile_batch, self.embeddings_freq, self.embeddings_metadata = 0, 0, None
        self._writers: dict[str, SummaryWriter] = {}

    def _writer(self, which: str) -> SummaryWriter:
        if which not in self._writers:
            self._writers[which] = SummaryWriter(os.path.join(self.log_dir, which))
        return self._writers[which]

    def on_train_begin(self, logs=None):
        self._close()
        self._writer("train")

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start, self._batches = time.perf_counter(), 0

    def on_batch_end(self, step, logs=None):
        self._batches += 1
        if self.update_freq == "epoch":
            return
        global_step = self.run.optimizer.global_step
        if global_step % self.update_freq == 0:
            writer = self._writer("train")
            for name, value in (logs or {}).items():
                writer.add_scalar(f"batch_{name}", value, global_step)

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        train_logs = {k: v for k, v in logs.items() if not k.startswith("val_") and k != "lr"}
        val_logs = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        lr = logs.get("lr", self.run.optimizer.param_groups[0]["lr"])
        if callable(lr):  # a schedule of the step number
            lr = lr(self.run.optimizer.global_step)
        train_logs["learning_rate"] = lr
        if self.write_steps_per_second:
            seconds = time.perf_counter() - self._epoch_start
            train_logs["steps_per_second"] = self._batches / seconds if seconds > 0 else 0.0
        writer = self._writer("train")
        for name, value in train_logs.items():
            writer.add_scalar(f"epoch_{name}", value, epoch)
        if val_logs:
            val_writer = self._writer("validation")
            step = self.run.optimizer.global_step
            for name, value in val_logs.items():
                val_writer.add_scalar(f"epoch_{name}", value, epoch)
                val_writer.add_scalar(f"evaluation_{name}_vs_iterations", value, step)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(writer, epoch)
        for w in self._writers.values():
            w.flush()

    def _log_weights(self, writer: SummaryWriter, epoch: int) -> None:
        for name, p in self.run.model.named_parameters():
            writer.add_histogram(f"{name}/histogram", p, epoch)
            if p.grad is not None:
                writer.add_histogram(f"{name}/gradient", p.grad, epoch)
            if self.write_images and p.ndim in (1, 2):
                w = p.detach().numpy().astype(np.float64)
                w = w.reshape(-1, 1) if w.ndim == 1 else w if w.shape[0] <= w.shape[1] else w.T
                span = w.max() - w.min()
                img = (w - w.min()) / span if span > 0 else np.zeros_like(w)
                writer.add_image(f"{name}/image", img, epoch, dataformats="HW")

    def on_train_end(self, logs=None):
        self._close()

    def _close(self) -> None:
        for w in self._writers.values():
            w.close()
        self._writers = {}


def _whole_number(name: str, value) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"TensorBoard: {name} must be a whole number, got {value!r}")
    if value < 0:
        raise ValueError(f"TensorBoard: {name} must be >= 0, got {value}")
    return int(value)


def _cell(value):
    """A logged value as the log writes it, the same before and after a checkpoint's round
    trip (which turns NumPy scalars into Python numbers)."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return value
