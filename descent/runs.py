"""A training run from data to a run folder: what ``descent train`` and ``descent demo`` do.

Load a bundled dataset (or a CSV file), split it 60/20/20 (stratified for classes),
standardise on the training part, train a linear model or an MLP with early stopping,
evaluate on the test part, and write ``runs/<name>/``:

- ``metrics.csv``: one row per epoch (loss, metrics, validation loss and metrics, lr);
- ``history.json``: the same as lists;
- ``model.safetensors``: the weights, the standardisation and the configuration;
- ``results.json``: the test metrics (and the confusion matrix for classifiers);
- ``report.html``: all of it in one self-contained page, with the curves and the graph.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from . import data, datasets, nn, optim, train
from .autograd import no_grad
from .io import atomic_write, save
from .models.networks import ACTIVATIONS, build_mlp
from .random import manual_seed
from .tensor import tensor
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


@dataclass
class RunConfig:
    """The hyperparameters of a run (every ``descent train`` flag)."""

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
    """(X, y, class names or None, a label for the data) from the config."""
    if config.csv:
        if not config.target:
            raise ValueError("train: --csv needs --target COLUMN (the column to predict)")
        X, y, cols = data.read_csv(config.csv, target=config.target, return_names=True)
        X, y = X.numpy(), y.numpy()
        classes = list(cols.classes) if cols.classes else None
        if classes is None and y.dtype.kind in "iu":
            classes = [str(c) for c in np.unique(y)]
        return X, y, classes, Path(config.csv).stem
    try:
        loader = DATASETS[config.dataset]
    except KeyError:
        raise ValueError(
            f"train: unknown dataset {config.dataset!r}; use one of {sorted(DATASETS)} "
            f"or --csv PATH --target COLUMN"
        ) from None
    bunch = loader()
    classes = bunch.target_names if bunch.target.dtype.kind in "iu" else None
    return bunch.data, bunch.target, classes, config.dataset


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


def _run_folder(config: RunConfig, label: str) -> Path:
    name = config.name or f"{label}-{config.model}-{time.strftime('%Y%m%d-%H%M%S')}"
    path = Path(config.runs_dir) / name
    k = 1
    while path.exists():  # never overwrite an earlier run
        k += 1
        path = Path(config.runs_dir) / f"{name}-{k}"
    path.mkdir(parents=True)
    return path


def run(config: RunConfig, verbose: int = 1, out=None) -> RunResult:
    """Train as ``config`` says and write the run folder; return the test results."""
    out = out or sys.stdout
    say = (lambda text: print(text, file=out, flush=True)) if verbose else (lambda text: None)
    start = time.perf_counter()
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
    model = build_model(config, X.shape[1], n_out)
    if config.optimizer not in OPTIMIZERS:
        raise ValueError(f"train: unknown optimizer {config.optimizer!r}; use {sorted(OPTIMIZERS)}")
    options = {"weight_decay": config.weight_decay} if config.optimizer != "momentum" else {}
    opt = OPTIMIZERS[config.optimizer](model.parameters(), lr=config.lr, **options)
    say(f"model: {model!r}".replace("\n", "\n  ") + f"  ({model.num_parameters()} parameters)")
    path = _run_folder(config, label)
    stop = train.EarlyStopping(patience=config.patience, restore_best_weights=True)
    history = train.fit(
        model, loss, opt, (X_tr, y_tr), (X_va, y_va), epochs=config.epochs,
        batch_size=config.batch_size, metrics=metrics, seed=config.seed, verbose=verbose,
        callbacks=[stop, train.CSVLogger(path / "metrics.csv")],
    )  # fmt: skip
    if stop.stopped_epoch is not None:
        say(f"early stopping at epoch {stop.stopped_epoch + 1}; best epoch {stop.best_epoch + 1}")

    model.eval()
    with no_grad():
        pred = model(tensor(X_te)).numpy()
    result = RunResult(path, task, {}, history, list(classes or []))
    if task == "classification":
        labels = pred.argmax(1)
        result.test = {"accuracy": float(np.mean(labels == y_te))}
        result.confusion = train.confusion_matrix(y_te, labels, len(classes))
        say(f"test accuracy: {result.test['accuracy']:.4f} on {len(y_te)} examples")
        say("confusion matrix (rows: true class):\n" + format_confusion(result.confusion, classes))
    else:
        p = pred.reshape(-1) * y_std + y_mean
        result.test = {
            "mse": train.mse(p, y_te),
            "mae": train.mae(p, y_te),
            "r2": train.r2(p, y_te),
        }
        say("test: " + ", ".join(f"{k} {v:.4g}" for k, v in result.test.items()))

    config_dict = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(config).items()}
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
        example_input=X_te[:4],
    )  # fmt: skip
    result.seconds = time.perf_counter() - start
    say(
        f"run folder: {path}/ (metrics.csv, history.json, model.safetensors, results.json, "
        f"report.html)"
    )
    return result
