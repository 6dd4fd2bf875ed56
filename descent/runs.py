"""A training run from data to a run folder: what ``descent train`` and ``descent demo`` do.

Load a bundled dataset (or a CSV file), split it 60/20/20 (stratified for classes),
standardise on the training part, train a linear model or an MLP with early stopping,
evaluate on the test part, and write ``runs/<name>/``:

- ``metrics.csv``: one row per epoch (loss, metrics, validation loss and metrics, lr);
- ``history.json``: the same as lists;
- ``model.safetensors``: the weights, the standardisation and the configuration;
- ``results.json``: the test metrics (and the confusion matrix for classifiers);
- ``report.html``: all of it in one self-contained page, with the curves and the graph;

and, with ``tensorboard`` (``--tensorboard DIR``), TensorBoard's event files in ``DIR``
(``DIR/train``, ``DIR/validation``: ``ds.train.TensorBoard``, with weight histograms).

``export_run`` (``descent export RUN_DIR --onnx PATH``) writes a run folder's model as an
ONNX file that takes raw features and gives what the run predicts.

Every value of the configuration is checked before any work starts, and the run's name is
a folder name, never a path. The files are written into a hidden temporary folder beside
the run folder, which is renamed into place when the run is complete; a run that fails or
is interrupted removes it, so a run folder is always whole.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import secrets
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from . import data, datasets, nn, optim, train
from .autograd import no_grad
from .distributed import rank as mpi_rank
from .io import CheckpointError, atomic_write, load, load_metadata, save
from .models.networks import ACTIVATIONS, build_mlp
from .onnx import export
from .random import manual_seed
from .tensor import array_of, tensor
from .train.progress import is_tty, wrap_prose
from .viz.report import write_report

DATASETS = {
    "digits": datasets.load_digits,
    "iris": datasets.load_iris,
    "wine": datasets.load_wine,
    "breast_cancer": datasets.load_breast_cancer,
    "diabetes": datasets.load_diabetes,
}
OPTIMIZERS = {
    "sgd": optim.SGD,
    "momentum": optim.Momentum,
    "adagrad": optim.Adagrad,
    "rmsprop": optim.RMSprop,
    "adam": optim.Adam,
    "adamw": optim.AdamW,
}


MODELS = ("linear", "mlp")
MAX_SEED = 2**32 - 1  # the seeds np.random.seed and scikit-learn's random_state take
MAX_NAME_BYTES = 200  # a file name may have 255; leave room for "-2" and the temporary name


def check_run_name(name) -> str:
    """``name`` if it can name a run folder; else a ValueError that says why.

    A run name is a folder's name inside ``runs_dir``, not a path: no separators, no
    ``..``, not absolute, not empty, not hidden (a leading ``.``), no control characters.

    >>> check_run_name("digits-lr0.01")
    'digits-lr0.01'
    """
    if not isinstance(name, str):
        raise ValueError(f"train: a run name must be a str, got {type(name).__name__}")
    why = None
    if not name:
        why = "it is empty"
    elif os.path.isabs(name) or os.path.splitdrive(name)[0]:
        why = "it is an absolute path"
    elif "/" in name or "\\" in name:  # a separator on POSIX or on Windows
        why = "it is a path (it holds a separator)"
    elif name in (".", ".."):
        why = "it is a path (this folder or the one above)"
    elif name.startswith("."):
        why = "it starts with '.' (a hidden folder)"
    elif any(ord(c) < 32 or ord(c) == 127 for c in name):
        why = "it holds a control character"
    elif len(name.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES:
        why = f"it is longer than {MAX_NAME_BYTES} bytes"
    if why:
        raise ValueError(
            f"train: the run name {name!r} (--name) is not a folder name: {why}; a run name "
            f"names one folder inside --runs-dir, such as 'digits-lr0.01'"
        )
    return name


def _flag(field_name: str) -> str:
    return f"{field_name} (--{field_name.replace('_', '-')})"


def _whole(config, field_name: str, low: int, high: float = math.inf) -> None:
    value = getattr(config, field_name)
    if (
        not isinstance(value, numbers.Integral)
        or isinstance(value, bool)
        or not low <= value <= high
    ):
        span = f">= {low}" if high == math.inf else f"in {low}..{high}"
        raise ValueError(f"train: {_flag(field_name)} must be a whole number {span}, got {value!r}")


def _real(config, field_name: str, low: float, high: float, what: str) -> None:
    value = getattr(config, field_name)
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not (ok and math.isfinite(value) and low <= value <= high):
        raise ValueError(f"train: {_flag(field_name)} must be {what}, got {value!r}")


def _choice(config, field_name: str, choices) -> None:
    value = getattr(config, field_name)
    if not isinstance(value, str) or value not in choices:
        raise ValueError(
            f"train: unknown {_flag(field_name)} {value!r}; use one of {sorted(choices)}"
        )


@dataclass
class RunConfig:
    """The hyperparameters of a run (every ``descent train`` flag), checked when made.

    ``check()`` runs again at the start of ``run``, so a field changed after the config was
    made is checked too.
    """

    dataset: str | None = "digits"
    csv: str | None = None
    target: str | None = None
    model: str = "mlp"  # 'linear' or 'mlp'
    hidden: tuple = (64,)
    activation: str = "relu"
    optimizer: str = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    dropout: float = 0.0
    epochs: int = 100
    batch_size: int = 32
    patience: int = 10
    seed: int = 0
    runs_dir: str = "runs"
    name: str | None = None
    tensorboard: str | None = None  # a folder for TensorBoard's event files
    compile: bool = False  # replay each training step with ds.compile (same numbers)

    def __post_init__(self):
        self.check()

    def check(self) -> RunConfig:
        """Raise a ValueError naming the first value out of range (and its flag)."""
        if self.csv is None:
            if self.target is not None:
                raise ValueError(
                    f"train: target (--target) {self.target!r} names a column of a CSV file, "
                    f"but no CSV file was given; add --csv PATH, or leave --target out"
                )
            _choice(self, "dataset", DATASETS)
        elif not self.target:
            raise ValueError("train: --csv needs --target COLUMN (the column to predict)")
        _choice(self, "model", MODELS)
        _choice(self, "activation", ACTIVATIONS)
        _choice(self, "optimizer", OPTIMIZERS)
        hidden = self.hidden
        if (
            not isinstance(hidden, (tuple, list))
            or not hidden
            or not all(isinstance(h, numbers.Integral) and not isinstance(h, bool) for h in hidden)
            or min(hidden) < 1
        ):
            raise ValueError(f"train: {_flag('hidden')} must be sizes >= 1 such as (64, 32), "
                             f"got {hidden!r}")  # fmt: skip
        lr = self.lr
        if (
            not isinstance(lr, numbers.Real)
            or isinstance(lr, bool)
            or not math.isfinite(lr)
            or lr <= 0
        ):
            raise ValueError(
                f"train: {_flag('lr')} must be a finite number > 0, got {lr!r}; 1e-3 is a good "
                f"start for adam, 0.01-0.1 for sgd"
            )
        _real(self, "weight_decay", 0.0, math.inf, "a finite number >= 0")
        if self.optimizer == "momentum" and self.weight_decay:
            raise ValueError(
                "train: the momentum optimizer takes no weight_decay (--weight-decay); "
                "use --optimizer adamw, or leave --weight-decay out"
            )
        _real(self, "dropout", 0.0, math.nextafter(1.0, 0.0), "a probability in [0, 1)")
        _whole(self, "epochs", 1)
        _whole(self, "batch_size", 1)
        _whole(self, "patience", 0)
        _whole(self, "seed", 0, MAX_SEED)
        if not isinstance(self.runs_dir, (str, os.PathLike)) or not str(self.runs_dir):
            raise ValueError(f"train: {_flag('runs_dir')} must be a folder's path, "
                             f"got {self.runs_dir!r}")  # fmt: skip
        if self.name is not None:
            check_run_name(self.name)
        if self.tensorboard is not None and (
            not isinstance(self.tensorboard, (str, os.PathLike)) or not str(self.tensorboard)
        ):
            raise ValueError(f"train: {_flag('tensorboard')} must be a folder's path, "
                             f"got {self.tensorboard!r}")  # fmt: skip
        return self


@dataclass
class RunResult:
    path: Path
    task: str  # 'classification' or 'regression'
    test: dict  # test metrics
    history: train.History
    classes: list = field(default_factory=list)
    confusion: np.ndarray | None = None
    seconds: float = 0.0


def load_table(config: RunConfig):
    """(X, y, class names or None, a label for the data) from the config.

    Integer labels of a CSV file become classes 0..K-1 in sorted order (labels 1, 2, 3 or
    -1, 1 or 0, 5, 10), and the class names are the labels themselves, as scikit-learn's
    ``classes_``; NaN or inf anywhere in the file is refused, naming the column and row.
    """
    if config.csv:
        if not config.target:
            raise ValueError("train: --csv needs --target COLUMN (the column to predict)")
        X, y, cols = data.read_csv(config.csv, target=config.target, return_names=True)
        X, y = X.numpy(), y.numpy()
        _check_finite(config.csv, X, [f"column {name!r}" for name in cols.features])
        _check_finite(config.csv, y.reshape(-1, 1), [f"the target column {cols.target!r}"])
        classes = list(cols.classes) if cols.classes else None
        if classes is None and y.dtype.kind in "iu":
            labels, y = np.unique(y, return_inverse=True)
            classes = [str(c) for c in labels.tolist()]
        if classes is not None and len(classes) < 2:
            raise ValueError(
                f"train: {config.csv}: the target column {cols.target!r} holds one class "
                f"({classes[0]}) only; a classifier needs examples of at least two"
            )
        return X, y, classes, _label(Path(config.csv).stem)
    _choice(config, "dataset", DATASETS)
    bunch = DATASETS[config.dataset]()
    classes = bunch.target_names if bunch.target.dtype.kind in "iu" else None
    return bunch.data, bunch.target, classes, config.dataset


def _check_finite(path, values: np.ndarray, columns: list) -> None:
    """Refuse NaN or inf in ``values`` (rows x columns), naming the column and data row."""
    if values.dtype.kind != "f":
        return
    bad = ~np.isfinite(values)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        count = int(bad[:, col].sum())
        raise ValueError(
            f"train: {path}: {columns[col]} holds NaN or inf in {count} "
            f"row{'s' if count > 1 else ''} (the first is data row {row + 1}: "
            f"{values[row, col]}); drop or fill those rows"
        )


def _label(text: str) -> str:
    """``text`` made fit to begin an automatic run name (a CSV file's stem may not be)."""
    text = "".join(c if c.isprintable() and c not in "/\\" else "_" for c in text).lstrip(".")
    return text[:100] or "csv"


def build_model(config: RunConfig, n_in: int, n_out: int) -> nn.Module:
    """A linear model, or an MLP with ``hidden`` layers, ``activation`` and dropout."""
    if config.model == "linear":
        return build_mlp([n_in, n_out])
    if config.model != "mlp":
        raise ValueError(f"train: unknown model {config.model!r}; use 'linear' or 'mlp'")
    if config.activation not in ACTIVATIONS:
        raise ValueError(
            f"train: unknown activation {config.activation!r}; use {sorted(ACTIVATIONS)}"
        )
    return build_mlp([n_in, *config.hidden, n_out], config.activation, dropout=config.dropout)


def format_confusion(m: np.ndarray, classes: list) -> str:
    names = [str(c) for c in classes]
    width = max(4, *(len(n) for n in names), len(str(m.max())))
    head = " " * width + " | " + " ".join(n.rjust(width) for n in names) + "   <- predicted"
    lines = [head, "-" * len(head)]
    for name, row in zip(names, m):
        lines.append(name.rjust(width) + " | " + " ".join(str(v).rjust(width) for v in row))
    return "\n".join(lines)


def available_memory() -> int | None:
    """Bytes of memory a new allocation may take now, or None where the system won't say.

    Linux's MemAvailable (free memory plus what the page cache would give back), capped
    by the limit of the process's control group (a container's memory limit).
    """
    found = []
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    found.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        try:
            found.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (AttributeError, ValueError, OSError):
            pass
    try:
        with open("/sys/fs/cgroup/memory.max") as f:
            limit = f.read().strip()
        with open("/sys/fs/cgroup/memory.current") as f:
            used = int(f.read().strip())
        if limit != "max":
            found.append(max(int(limit) - used, 0))
    except (OSError, ValueError):
        pass
    return min(found) if found else None


# Training holds about this many float32 copies of the parameters at once: the weights,
# their gradients, up to two optimizer moments, and the best weights early stopping keeps;
# and of each layer's outputs for a batch: the output, the activation (or dropout) and
# the gradients of both.
_PARAMETER_COPIES = 5
_ACTIVATION_COPIES = 4


def check_model_size(config: RunConfig, n_in: int, n_out: int, rows: int) -> int:
    """The number of parameters of the model ``config`` builds; a MemoryError at once,
    before anything is allocated, if training it on batches of up to ``rows`` examples
    would not fit in the memory available."""
    sizes = [n_in, n_out] if config.model == "linear" else [n_in, *config.hidden, n_out]
    count = sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))
    need = 4 * (count * _PARAMETER_COPIES + rows * sum(sizes[1:]) * _ACTIVATION_COPIES)
    have = available_memory()
    if have is not None and need > have:
        fix = "choose smaller --hidden sizes" if config.model == "mlp" else "use fewer features"
        model = "an MLP" if config.model == "mlp" else "a linear model"
        raise MemoryError(
            f"train: {model} of layer sizes {sizes} has {count:,} parameters and needs about "
            f"{need / 2**30:,.1f} GiB to train (on up to {rows} examples at once), more than "
            f"the {have / 2**30:,.1f} GiB of memory available; {fix}"
        )
    return count


def _check_runs_dir(runs_dir) -> Path:
    path = Path(runs_dir)
    for folder in (path, *path.parents):
        if folder.exists():
            if not folder.is_dir():
                raise NotADirectoryError(
                    f"train: the runs folder (--runs-dir) {str(path)!r} cannot be made: "
                    f"{str(folder)!r} is not a folder; give a folder's path"
                )
            break
    return path


def _work_folder(runs_dir: Path, name: str) -> Path:
    """A new hidden folder ``runs_dir/.name.XXXXXXXX.tmp`` for a run in progress."""
    try:
        runs_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OSError(
            f"train: the runs folder (--runs-dir) {str(runs_dir)!r} cannot be made: "
            f"{e.strerror or e}"
        ) from None
    while True:
        work = runs_dir / f".{name}.{secrets.token_hex(4)}.tmp"
        try:
            work.mkdir()  # the mode of any folder (unlike mkdtemp's 0o700)
            return work
        except FileExistsError:
            continue


def _place(work: Path, runs_dir: Path, name: str) -> Path:
    """Rename the finished folder ``work`` to ``runs_dir/name`` (or ``name-2``, ...: an
    earlier run is never overwritten); return where it went."""
    k = 1
    while True:
        path = runs_dir / (name if k == 1 else f"{name}-{k}")
        if not path.exists():
            try:
                work.rename(path)  # NOTE: refused if another run took the name meanwhile
                return path
            except OSError:
                if not path.exists():
                    raise
        k += 1


def run(
    config: RunConfig, verbose: int = 1, out=None, quiet: bool = False, distributed: bool = False
) -> RunResult:
    """Train as ``config`` says and write the run folder; return the test results.

    ``verbose``: 0 prints nothing, 1 and 2 what the run does, with fit's display of the same
    ``verbose``; ``quiet`` prints the test results and the run folder only. The lines go to
    ``out`` (stdout), wrapped to the terminal's width when it is one.

    The folder appears, whole, only when the run has finished; a run that fails (a bad
    file, a diverged loss, Ctrl-C) leaves nothing behind.

    ``distributed``: train data-parallel over the ranks of the MPI job this process is one
    of (``mpiexec -n N descent train ...``): ``fit(distributed=True)``, whose result equals
    one process's. Rank 0 alone prints and writes the run folder; the other ranks write
    nothing.
    """
    out = out or sys.stdout
    main = True
    if distributed:
        main = mpi_rank() == 0
        verbose = verbose if main else 0
    wrap = is_tty(out)  # a log file keeps each line whole, for grep

    def say(text: str, result: bool = False) -> None:
        if verbose and (result or not quiet):
            print(wrap_prose(text) if wrap else text, file=out, flush=True)

    start = time.perf_counter()
    config.check()
    runs_dir = _check_runs_dir(config.runs_dir)
    X, y, classes, label = load_table(config)
    task = "classification" if classes is not None else "regression"
    manual_seed(config.seed)
    stratify = y if task == "classification" else None
    X_tr, X_va, X_te, y_tr, y_va, y_te = data.train_val_test_split(
        X, y, seed=config.seed, stratify=stratify
    )
    scaler = data.Standardizer().fit(X_tr)
    X_tr, X_va, X_te = scaler.transform(X_tr), scaler.transform(X_va), scaler.transform(X_te)
    if task == "classification":
        n_out, loss, metrics = len(classes), "cross_entropy", ["accuracy"]
        y_mean, y_std = 0.0, 1.0
    else:  # train on a standardised target, report in its own units
        y_mean, y_std = float(np.mean(y_tr)), float(np.std(y_tr)) or 1.0
        y_tr, y_va = [
            ((v - y_mean) / y_std).reshape(-1, 1).astype(np.float32) for v in (y_tr, y_va)
        ]
        n_out, loss, metrics = 1, "mse", ["r2"]
    say(
        f"{label}: {len(X)} examples, {X.shape[1]} features, {task}"
        + (f" ({len(classes)} classes)" if classes else "")
        + f"; split {len(X_tr)}/{len(X_va)}/{len(X_te)} (train/val/test), standardised"
    )
    # the largest batch at once: a training batch, or the validation or test set (evaluated whole)
    rows = max(min(config.batch_size, len(X_tr)), len(X_va), len(X_te))
    check_model_size(config, X.shape[1], n_out, rows)
    model = build_model(config, X.shape[1], n_out)
    options = {"weight_decay": config.weight_decay} if config.optimizer != "momentum" else {}
    opt = OPTIMIZERS[config.optimizer](model.parameters(), lr=config.lr, **options)
    say(f"model: {model!r}".replace("\n", "\n  ") + f"  ({model.num_parameters()} parameters)")
    if task == "regression":
        say(
            f"the target is standardised for training (mean {y_mean:.4g}, std {y_std:.4g}): "
            f"loss and val_loss are mean squared errors on that scale"
        )
    name = config.name or f"{label}-{config.model}-{time.strftime('%Y%m%d-%H%M%S')}"
    # the other ranks of a distributed run write nothing (their callbacks that write are off)
    path = _work_folder(runs_dir, name) if main else runs_dir / f".{name}-not-written"
    try:
        stop = train.EarlyStopping(patience=config.patience, restore_best_weights=True)
        callbacks = [stop, train.CSVLogger(path / "metrics.csv")]
        if config.tensorboard is not None:
            callbacks.append(train.TensorBoard(str(config.tensorboard), histogram_freq=1))
        history = train.fit(
            model, loss, opt, (X_tr, y_tr), (X_va, y_va), epochs=config.epochs,
            batch_size=config.batch_size, metrics=metrics, seed=config.seed,
            verbose=0 if quiet else verbose,
            callbacks=callbacks, compile=bool(config.compile), distributed=distributed,
        )  # fmt: skip
        best = stop.best_epoch + 1 if stop.best_weights is not None else None
        if stop.stopped_epoch is not None:
            say(f"early stopping at epoch {stop.stopped_epoch + 1}; best epoch {best}")
        if best is not None:
            say(f"the test figures come from the weights of epoch {best}, the best val_loss")

        model.eval()
        with no_grad():
            pred = model(tensor(X_te, dtype=next(model.parameters()).dtype)).numpy()
        result = RunResult(path, task, {}, history, list(classes or []))
        if task == "classification":
            labels = pred.argmax(1)
            result.test = {"accuracy": train.accuracy(pred, y_te)}
            result.confusion = train.confusion_matrix(y_te, labels, len(classes))
            say(f"test accuracy: {result.test['accuracy']:.4f} on {len(y_te)} examples", True)
            say(
                "confusion matrix (rows: true class):\n"
                + format_confusion(result.confusion, classes)
            )
        else:
            p = pred.reshape(-1) * y_std + y_mean
            result.test = {
                "mse": train.mse(p, y_te),
                "mae": train.mae(p, y_te),
                "r2": train.r2(p, y_te),
            }
            say(
                f"test: mse {result.test['mse']:.4g} in the target's units "
                f"({result.test['mse'] / y_std**2:.4g} on the standardised scale of loss and "
                f"val_loss), mae {result.test['mae']:.4g}, r2 {result.test['r2']:.4g}",
                True,
            )

        config_dict = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(config).items()}
        if not main:
            return result
        save(
            {
                "model": model.state_dict(),
                "standardizer": {"mean": scaler.mean_, "scale": scaler.scale_},
                "target": {"mean": y_mean, "std": y_std},
                "classes": [str(c) for c in classes or []],
            },
            path / "model.safetensors",
            metadata={"config": json.dumps(config_dict), "architecture": repr(model)},
        )
        atomic_write(path / "history.json", json.dumps(history.history, indent=1))
        results = {"task": task, "test": result.test, "config": config_dict}
        if result.confusion is not None:
            results["confusion_matrix"] = result.confusion.tolist()
            results["classes"] = [str(c) for c in classes]
        atomic_write(path / "results.json", json.dumps(results, indent=1))
        write_report(
            path, title=f"{label}: {config.model} ({task})", config=config_dict, history=history,
            test_metrics=result.test, confusion=result.confusion, class_names=classes, model=model,
            example_input=X_te[:4], weights_epoch=best,
        )  # fmt: skip
        path = _place(path, runs_dir, name)
    except BaseException:  # a failed or interrupted run leaves no folder behind
        if main:
            shutil.rmtree(path, ignore_errors=True)
        raise
    result.path = path
    result.seconds = time.perf_counter() - start
    say(
        f"run folder: {path}/ (metrics.csv, history.json, model.safetensors, results.json, "
        f"report.html)",
        True,
    )
    if config.tensorboard is not None:
        board = config.tensorboard
        say(f"TensorBoard events: {board}/ (see them with: tensorboard --logdir {board})")
    return result


# ---- a run folder as an ONNX file ----------------------------------------------------------


class Rescale(nn.Module):
    """Per column ``(x - shift) / scale`` (a run's standardisation of its features), or with
    ``inverse`` ``x * scale + shift`` (a regression's prediction back in the target's units),
    with its ONNX form (Sub and Div, or Mul and Add)."""

    def __init__(self, shift, scale, inverse: bool = False):
        super().__init__()
        self.shift = np.asarray(shift, np.float64)
        self.scale = np.asarray(scale, np.float64)
        self.inverse = inverse

    def forward(self, x):
        shift, scale = (tensor(a, dtype=x.dtype) for a in (self.shift, self.scale))
        return x * scale + shift if self.inverse else (x - shift) / scale

    def onnx_export(self, g, x: str) -> str:
        shift, scale = g.const(self.shift, "shift"), g.const(self.scale, "scale")
        if self.inverse:
            return g.node("Add", g.node("Mul", x, scale), shift)
        return g.node("Div", g.node("Sub", x, shift), scale)


def run_predictor(run_dir) -> tuple[nn.Module, int, str]:
    """(the Module that predicts from raw features as the run folder ``run_dir`` does, the
    number of features, the task): its standardisation, its network rebuilt from the saved
    configuration and weights, then the softmax probabilities of the classes
    (classification) or the prediction in the target's units (regression, (N,)).

    A missing or damaged run folder is a ValueError (or CheckpointError) saying what is
    wrong with it."""
    folder = Path(run_dir)
    file = folder / "model.safetensors"
    if not folder.is_dir():
        raise ValueError(
            f"export: {str(folder)!r} is not a run folder (no such folder); give a folder "
            f"that descent train wrote, such as runs/iris-linear-20240101-120000"
        )
    if not file.is_file():
        raise ValueError(
            f"export: {str(folder)!r} is not a run folder: it has no model.safetensors (a "
            f"run folder holds the file descent train writes)"
        )
    saved = load(file)
    try:
        config = json.loads(load_metadata(file)["config"])
        config["hidden"] = tuple(config["hidden"])
        config = RunConfig(**config)
        mean = np.asarray(array_of(saved["standardizer"]["mean"]), np.float64)
        scale = np.asarray(array_of(saved["standardizer"]["scale"]), np.float64)
        weights = saved["model"]
        last = [k for k in weights if k.endswith(".weight")][-1]
        n_in, n_out = len(mean), int(weights[last].shape[0])
        model = build_model(config, n_in, n_out)
        model.load_state_dict(weights)
        classes = list(saved["classes"])
        target = saved["target"]
    except (KeyError, IndexError, TypeError, ValueError, RuntimeError, AttributeError) as e:
        if isinstance(e, CheckpointError):
            raise
        raise CheckpointError(
            f"checkpoint {file} is not a run's model (descent train writes its weights, "
            f"standardisation, classes and configuration there): {e}"
        ) from None
    steps = [Rescale(mean, scale), model.eval()]
    if classes:
        steps.append(nn.Softmax(1))
        task = "classification"
    else:
        steps += [Rescale(float(target["mean"]), float(target["std"]), inverse=True),
                  nn.Flatten(0)]  # fmt: skip
        task = "regression"
    return nn.Sequential(*steps), n_in, task


def export_run(run_dir, onnx_path, opset: int = 17) -> Path:
    """Write the run folder ``run_dir``'s model as the ONNX file ``onnx_path`` (see
    ``run_predictor`` for what it computes); returns the path."""
    predictor, n_in, _ = run_predictor(run_dir)
    return export(predictor, np.zeros((1, n_in), np.float32), onnx_path, opset=opset)
