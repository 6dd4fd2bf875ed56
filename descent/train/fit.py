"""``fit``: the training loop of the lectures, Keras-like.

For each epoch: for each mini-batch, forward, loss, backward, update; then the
validation loss and metrics, the callbacks, and a progress line.
"""

from __future__ import annotations

import inspect
import math
import warnings
from pathlib import Path

import numpy as np

from ..autograd import no_grad
from ..compile import compile as compile_step
from ..data import DataLoader, Dataset, Subset, TensorDataset
from ..distributed import in_data_parallel
from ..io import CheckpointError, load, remove_stale_temporaries
from ..random import get_rng_state, set_rng_state
from ..tensor import Tensor, get_default_dtype, tensor
from .callbacks import Callback, TerminateOnNaN
from .history import History
from .losses import loss_function
from .metrics import get_metric
from .parallel import DataParallel, stops_job_on_error
from .progress import Progress

__all__ = ["fit", "evaluate", "TrainingDivergedError", "FitRun"]

_CHECKPOINT_KIND = "descent.fit"


class TrainingDivergedError(RuntimeError):
    """The loss or a gradient became NaN or inf; the model keeps its last good weights."""


def _as_dataset(data, who: str, model):
    """A Dataset from a Dataset, or from a tuple (X, y) of arrays or Tensors (floating
    arrays in the model's dtype, see ``_in_model_dtype``)."""
    if isinstance(data, (Dataset, DataLoader)):
        return data
    if isinstance(data, (tuple, list)) and len(data) == 2:
        dtype = _model_dtype(model)
        return TensorDataset(*(_in_model_dtype(part, dtype) for part in data))
    raise TypeError(
        f"fit: {who} must be a Dataset, a DataLoader or a tuple (X, y), got {type(data).__name__}"
    )


def _model_dtype(model) -> np.dtype:
    """The dtype of the model's first floating parameter (the default dtype without one)."""
    for p in model.parameters():
        if p.dtype.kind == "f":
            return p.dtype
    return get_default_dtype()


def _in_model_dtype(part, dtype: np.dtype):
    """Arrays and lists of floats given to ``fit`` as (X, y) become Tensors of the model's
    dtype, as Keras's fit and scikit-learn's estimators convert their input: a float64
    NumPy array trains a float32 model in float32. Integer data (class indices) stays
    integer, and a Tensor stays as it is (its dtype is the caller's choice)."""
    if isinstance(part, Tensor):
        return part
    arr = np.asarray(part)
    return tensor(arr, dtype=dtype if arr.dtype.kind == "f" else None)


def _split_off_validation(dataset, fraction: float):
    """Keras's validation_split: the last ``fraction`` of the examples, before shuffling."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fit: validation_split must be in (0, 1), got {fraction}")
    n = len(dataset)
    n_val = int(math.floor(n * fraction))
    if n_val == 0 or n_val == n:
        raise ValueError(
            f"fit: validation_split={fraction} of {n} examples leaves an empty training or "
            f"validation set"
        )
    return Subset(dataset, np.arange(n - n_val)), Subset(dataset, np.arange(n - n_val, n))


def _check_epochs(epochs) -> int:
    """Keras's check of ``epochs``: a positive int (a bool is no count)."""
    if isinstance(epochs, (bool, np.bool_)) or not isinstance(epochs, (int, np.integer)):
        raise TypeError(f"fit: epochs must be a positive int, got {epochs!r}")
    if epochs < 1:
        raise ValueError(f"fit: epochs must be a positive int, got {epochs}")
    return int(epochs)


def _check_loss(loss, where: str, who: str = "fit") -> None:
    """The loss function's answer must be a one-value Tensor."""
    if not isinstance(loss, Tensor):
        raise TypeError(
            f"{who}: the loss function returned a {type(loss).__name__} {where}; it must return "
            f"a scalar Tensor computed from the model's output with descent operations (e.g. "
            f"F.mse_loss(pred, target)), not a Python number or a NumPy array"
        )
    if loss._data.size != 1:
        raise ValueError(
            f"{who}: the loss function returned a Tensor of shape {tuple(loss.shape)} {where}; it "
            f"must "
            f"be a scalar: reduce it (reduction='mean', or .mean())"
        )


def _log_names(metric_fns, validation: bool, optimizer) -> list[str]:
    """The names each epoch's logs will hold, in order."""
    names = ["loss", *(name for name, _ in metric_fns)]
    if validation:
        names += [f"val_{n}" for n in names]
    if isinstance(optimizer.param_groups[0]["lr"], (int, float)):
        names.append("lr")
    return names


def _check_parameters(model, optimizer) -> bool:
    """Warn (and say so) when the optimizer holds none of the model's parameters: fit would
    train nothing."""
    own = [p for p in model.parameters() if p.requires_grad]
    held = {id(p) for group in optimizer.param_groups for p in group["params"]}
    if own and not any(id(p) in held for p in own):
        warnings.warn(
            f"fit: none of the model's {len(own)} parameters is in the optimizer, so training "
            f"will not change the model; build the optimizer from this model's parameters "
            f"(e.g. SGD(model.parameters(), lr=...))",
            stacklevel=3,
        )
        return True
    return False


def _check_gradients(optimizer) -> None:
    """After the first backward: warn when no parameter of the optimizer got a gradient."""
    held = [p for group in optimizer.param_groups for p in group["params"]]
    if held and all(p.grad is None for p in held):
        warnings.warn(
            f"fit: no parameter of the optimizer got a gradient from the loss at the first "
            f"step ({len(held)} parameters), so training changes nothing; check that the "
            f"loss is computed from the model's output and that the optimizer holds the "
            f"parameters the model uses",
            stacklevel=3,
        )


def _divergence_message(what: str, epoch: int, step: int, global_step: int, y) -> str:
    where = (
        f"training diverged: {what} at epoch {epoch + 1}, step {step + 1} (global step "
        f"{global_step})."
    )
    labels = y._data if isinstance(y, Tensor) else np.asarray(y)
    if labels.dtype.kind in "iu" and labels.size and (labels < 0).all():
        # negative labels are out of range unless ignored, so every one was ignored
        return (
            f"{where} Every target of the batch is {labels.flat[0]}"
            f"{'' if (labels == labels.flat[0]).all() else ' or another negative label'}, "
            f"which cross_entropy and nll_loss skip (ignore_index, -100 by default): the mean "
            f"over no counted targets is NaN. Leave out the examples whose every label is "
            f"ignored, or use reduction='sum'. The model keeps the weights of the last good step."
        )
    return (
        f"{where} The usual causes: a learning rate too high (try one 10x smaller), "
        f"bad input (NaN or inf in the data: check np.isfinite(X).all()), or the log of zero "
        f"(take cross_entropy / binary_cross_entropy_with_logits of logits rather than the "
        f"log of probabilities). The model keeps the weights of the last good step."
    )


class FitRun:
    """The state of one ``fit`` call, which callbacks see as ``self.run``."""

    def __init__(self, model, optimizer, loader, scheduler, history, callbacks):
        self.model = model
        self.optimizer = optimizer
        self.loader = loader
        self.scheduler = scheduler
        self.history = history
        self.callbacks = callbacks
        self.epoch = 0  # epochs finished
        self.stop_training = False
        self.log_names: list[str] = []  # what each epoch's logs hold (set by fit)
        # where training stopped on a NaN or inf with TerminateOnNaN: {'what', 'epoch', 'step'}
        self.diverged: dict | None = None
        self.parallel = None  # with fit(distributed=True), its DataParallel (train/parallel.py)

    def checkpoint_state(self) -> dict:
        """Everything needed to continue this run exactly (``fit(resume_from=...)``)."""
        state = {
            "kind": _CHECKPOINT_KIND,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "loader": self.loader.state_dict(),
            "rng": get_rng_state(),
            "global_step": self.optimizer.global_step,
            "epoch": self.epoch,
            "history": self.history.state_dict(),
            "callbacks": [[type(cb).__name__, cb.state_dict()] for cb in self.callbacks],
        }
        if self.scheduler is not None:
            state["scheduler"] = self.scheduler.state_dict()
        return state

    def restore(self, state: dict, path) -> None:
        """Continue from the training checkpoint ``state`` that was read from ``path``.

        The checkpoint's layout is checked before anything changes; then each part is
        loaded, and when one is refused the parts already loaded are put back, so a
        refused resume changes nothing. Every problem is a ``CheckpointError`` naming the
        file. The temporary files that killed writes left in the folder are removed.
        """
        remove_stale_temporaries(Path(path).parent)
        if not isinstance(state, dict) or state.get("kind") != _CHECKPOINT_KIND:
            raise CheckpointError(
                f"fit: {path} is not a training checkpoint (written by ModelCheckpoint); "
                f"a weights-only file can be loaded with model.load_state_dict(ds.load(path))"
            )
        self._check_layout(state, path)
        before = self._snapshot()
        part = "model"
        try:
            self.model.load_state_dict(state["model"])
            part = "optimizer"
            self.optimizer.load_state_dict(state["optimizer"])
            part = "loader"
            self.loader.load_state_dict(state["loader"])
            part = "rng"
            set_rng_state(state["rng"])
            if self.scheduler is not None:
                part = "scheduler"
                self.scheduler.load_state_dict(state["scheduler"])
            part = "callbacks"
            self._restore_callbacks(state.get("callbacks", []), path)
            part = "history"
            restored = History.from_state_dict(state["history"])
        except Exception as e:
            self._put_back(before)
            if isinstance(e, CheckpointError):
                raise
            reason = e.args[0] if isinstance(e, KeyError) and e.args else e
            raise CheckpointError(
                f"fit: cannot resume from {path}: its '{part}' state is refused ({reason}); "
                f"nothing was changed. Resume with the model, optimizer, scheduler and "
                f"callbacks the checkpoint was written with"
            ) from e
        self.history.history, self.history.epoch = restored.history, restored.epoch
        self.epoch = int(state["epoch"])

    def _check_layout(self, state: dict, path) -> None:
        """Refuse a checkpoint that lacks an entry or holds one of the wrong type."""

        def refuse(what: str):
            raise CheckpointError(f"fit: {path} is not a complete training checkpoint: {what}")

        wanted = ["model", "optimizer", "loader", "rng", "history", "epoch"]
        if self.scheduler is not None:
            wanted.append("scheduler")
        for key in wanted:
            if key not in state:
                refuse(
                    f"it has no '{key}' entry"
                    + (" (it was written without a scheduler)" if key == "scheduler" else "")
                )
            if key != "epoch" and not isinstance(state[key], dict):
                refuse(f"its '{key}' entry is a {type(state[key]).__name__}, not a dict")
        epoch = state["epoch"]
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
            refuse(f"its 'epoch' entry must be an int >= 0, got {epoch!r}")
        history = state["history"]
        if not (
            isinstance(history.get("history"), dict)
            and all(isinstance(v, list) for v in history["history"].values())
            and isinstance(history.get("epoch"), list)
        ):
            refuse("its 'history' entry is not a History's state (a dict of lists and epochs)")
        callbacks = state.get("callbacks", [])
        if not isinstance(callbacks, list) or not all(
            isinstance(c, list) and len(c) == 2 and isinstance(c[0], str) and isinstance(c[1], dict)
            for c in callbacks
        ):
            refuse("its 'callbacks' entry is not a list of [class name, state] pairs")
        if self.scheduler is not None:
            unknown = set(state["scheduler"]) - set(self.scheduler.state_dict())
            if unknown:
                refuse(
                    f"its 'scheduler' entry has entries {sorted(unknown, key=str)} that a "
                    f"{type(self.scheduler).__name__} does not keep"
                )

    def _restore_callbacks(self, saved: list, path) -> None:
        # Each saved callback state goes to the next callback of the same class.
        unused = list(self.callbacks)
        for name, cb_state in saved:
            match = next((cb for cb in unused if type(cb).__name__ == name), None)
            if match is None:
                if cb_state:
                    raise CheckpointError(
                        f"fit: {path} holds the state of {_article(name)} {name} callback but "
                        f"this run has none; pass the same callbacks to resume exactly"
                    )
                continue
            unused.remove(match)
            match.load_state_dict(cb_state)

    def _snapshot(self) -> dict:
        """What ``restore`` changes, to put back when a part of a checkpoint is refused."""
        opt = self.optimizer
        schedules = [g["lr"] for g in opt.param_groups if hasattr(g["lr"], "load_state_dict")]
        return {
            # parameters and buffers (BatchNorm's running statistics) alike
            "model": {k: v.numpy().copy() for k, v in self.model.state_dict().items()},
            "groups": [dict(g) for g in opt.param_groups],
            "schedules": [(lr, lr.state_dict()) for lr in schedules],
            "opt_state": dict(opt.state),
            "global_step": opt.global_step,
            "loader": self.loader.state_dict(),
            "rng": get_rng_state(),
            "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
            "callbacks": [(cb, cb.state_dict()) for cb in self.callbacks],
        }

    def _put_back(self, before: dict) -> None:
        self.model.load_state_dict(before["model"])
        opt = self.optimizer
        for group, saved in zip(opt.param_groups, before["groups"]):
            group.clear()
            group.update(saved)
        for lr, saved in before["schedules"]:
            lr.load_state_dict(saved)
        opt.state, opt.global_step = before["opt_state"], before["global_step"]
        self.loader.load_state_dict(before["loader"])
        set_rng_state(before["rng"])
        if self.scheduler is not None:
            self.scheduler.load_state_dict(before["scheduler"])
        for cb, saved in before["callbacks"]:
            cb.load_state_dict(saved)


def evaluate(model, loss_fn, data, batch_size: int = 256, metrics=()) -> dict:
    """The mean loss (weighted by batch size) and each metric over ``data``, in eval mode."""
    loss_fn = loss_function(loss_fn, "evaluate")
    data = _as_dataset(data, "data", model)
    loader = data if isinstance(data, DataLoader) else DataLoader(data, batch_size, seed=0)
    was_training = model.training
    model.eval()
    total, count, outs, targets = 0.0, 0, [], []
    try:
        with no_grad():
            for x, y in loader:
                out = model(x)
                loss = loss_fn(out, y)
                _check_loss(loss, "on a batch", "evaluate")
                total += float(loss.item()) * len(y)
                count += len(y)
                outs.append(out.numpy())
                targets.append(y.numpy())
    finally:
        model.train(was_training)
    logs = {"loss": total / count}
    if metrics:
        pred, true = np.concatenate(outs), np.concatenate(targets)
        for metric in metrics:
            name, fn = get_metric(metric)
            logs[name] = fn(pred, true)
    return logs


@stops_job_on_error(TrainingDivergedError)
def fit(
    model,
    loss_fn,
    optimizer,
    train_data=None,
    val_data=None,
    epochs: int = 1,
    batch_size: int | None = 32,
    callbacks=(),
    metrics=(),
    *,
    x=None,
    y=None,
    validation_data=None,
    validation_split: float = 0.0,
    shuffle: bool = True,
    initial_epoch: int = 0,
    seed: int | None = None,
    scheduler=None,
    verbose: int | str = 1,
    resume_from=None,
    compile: bool = False,  # noqa: A002 - the word of torch.compile and ds.compile
    distributed: bool | None = None,
) -> History:
    """Train ``model`` by mini-batch gradient descent; return the History.

    ``train_data``/``val_data``: a Dataset, a DataLoader, or a tuple (X, y); in a tuple,
    floating arrays become Tensors of the model's dtype (a float64 NumPy array trains a
    float32 model in float32), integer arrays stay integer and Tensors stay as they are.
    ``loss_fn(pred, target)`` returns a scalar Tensor (or a name: 'mse', 'cross_entropy',
    ...). ``metrics``: names ('accuracy', 'mse', 'mae', 'r2') or functions
    ``f(y_pred, y_true) -> float``, computed on the whole epoch's predictions.
    ``scheduler``: an lr_scheduler stepped once per epoch with the epoch's val_loss, or
    loss without validation data (ReduceLROnPlateau's metric; the others ignore it).
    ``verbose``: 0 silent, 1 a line per epoch updated in place on a terminal (a plain line
    per epoch otherwise), 2 a plain line per epoch, 'auto' 1 (``progress.py``).
    ``resume_from``: a checkpoint written by ``ModelCheckpoint``; training continues from
    the epoch after it, exactly as if it had never stopped. ``compile=True`` traces the
    forward, loss and backward once per batch shape and replays them (``ds.compile``):
    the same numbers as without it, bit for bit, for less Python time per step.

    Keras's keywords: ``x=``/``y=`` are Keras's spelling of ``train_data=(x, y)`` (``x``
    alone may be a Dataset or DataLoader), ``validation_data=`` of ``val_data``; one
    spelling or the other, not both. ``validation_split``: the last fraction of the
    examples, taken before shuffling, is the validation data. ``shuffle=False`` keeps the
    examples' order. ``initial_epoch``: the epoch training starts at, to continue an earlier
    fit; ``epochs`` is then the epoch it ends at (the total, as in Keras), and the History
    numbers its epochs from ``initial_epoch``. ``batch_size=None`` is 32.

    A loss or gradient that turns NaN or inf stops training with a
    ``TrainingDivergedError`` naming the step and the usual causes, before the bad update,
    so the model keeps its last good weights (with ``TerminateOnNaN`` it warns instead and
    returns the finished epochs; ``history.stopped_by`` says where). ``epochs`` must be a
    positive int; an optimizer that holds none of the model's parameters, or whose
    parameters get no gradient, is warned about.

    ``distributed=True``: data-parallel training over the ranks of an MPI job
    (``mpiexec -n N``, see ``descent/train/parallel.py``). ``batch_size`` is the global
    batch; each rank computes its rows and the gradients are summed, so the run equals one
    process's (for a loss that is a mean over the batch). Only rank 0 prints and runs the
    callbacks that write files; an error on one rank ends the job. ``None`` is True
    inside ``with ds.distributed.data_parallel():`` and False elsewhere. A loss term that
    divides by the batch's size uses ``ds.distributed.global_batch_rows(len(y))``. With
    ``distributed`` on, ``compile=True`` is ignored: each rank runs the eager step, whose
    dropout masks are cut from the whole batch's.
    """
    epochs = _check_epochs(epochs)
    initial_epoch = _check_initial_epoch(initial_epoch, epochs, resume_from)
    verbose = _check_verbose(verbose)
    batch_size = 32 if batch_size is None else batch_size
    train_data, val_data = _keras_data(train_data, val_data, x, y, validation_data)
    loss_fn = loss_function(loss_fn)
    _check_step(optimizer, "examples", "step(self, closure=None, examples=None)")
    if scheduler is not None:
        _check_step(scheduler, "metrics", "step(self, metrics=None)")
    if not optimizer.param_groups:  # built without params (TensorFlow 1's, Keras's way)
        optimizer.add_param_group({"params": [p for p in model.parameters() if p.requires_grad]})
    if distributed is None:
        distributed = in_data_parallel()
    parallel = DataParallel(model, optimizer) if distributed else None
    train_data = _as_dataset(train_data, "train_data", model)
    if validation_split:
        if val_data is not None:
            raise ValueError("fit: give val_data or validation_split, not both")
        if isinstance(train_data, DataLoader):
            raise ValueError("fit: validation_split needs a dataset or (X, y), not a DataLoader")
        train_data, val_data = _split_off_validation(train_data, validation_split)
    if parallel is not None and not isinstance(train_data, DataLoader):
        seed = parallel.agreed(seed)  # rank 0's: every rank draws one process's batches
    loader = (
        train_data
        if isinstance(train_data, DataLoader)
        else DataLoader(train_data, batch_size, shuffle=shuffle, seed=seed)
    )
    val_loader = None
    if val_data is not None:
        val_data = _as_dataset(val_data, "val_data", model)
        val_loader = val_data if isinstance(val_data, DataLoader) else DataLoader(val_data, 256)
    if parallel is not None:
        parallel.check_loader(loader)
    metric_fns = [get_metric(m) for m in metrics]
    callbacks = list(callbacks)
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise TypeError(
                f"fit: callbacks must be descent.train.Callback objects, got a "
                f"{type(cb).__name__}; subclass ds.train.Callback for your own"
            )
    if parallel is not None:
        callbacks = parallel.callbacks(callbacks)
        verbose = verbose if parallel.rank == 0 else 0
    history = History()
    run = FitRun(model, optimizer, loader, scheduler, history, callbacks)
    run.epoch = initial_epoch
    run.parallel = parallel  # None in one process
    if resume_from is not None:
        state = load(resume_from)
        run.restore(state if parallel is None else parallel.checkpoint(state), resume_from)
    history.params = {"epochs": epochs, "steps": len(loader), "verbose": verbose}
    run.log_names = _log_names(metric_fns, val_loader is not None, optimizer)
    for cb in callbacks:
        cb.run = run
        cb.set_model(model)
        cb.set_params(history.params)
    quiet_on_nan = any(isinstance(cb, TerminateOnNaN) for cb in callbacks)
    progress = Progress(verbose, epochs, len(loader))
    params = list(model.parameters())
    first_step = not _check_parameters(model, optimizer)  # then check the first gradients
    grad_step = _compiled_grad_step(model, loss_fn) if compile and parallel is None else None

    for cb in callbacks:
        cb.on_train_begin()
    while run.epoch < epochs and not run.stop_training:
        epoch = run.epoch
        for cb in callbacks:
            cb.on_epoch_begin(epoch)
        progress.epoch_begin(epoch)
        model.train()
        total, count, outs, targets = 0.0, 0, [], []
        diverged = None
        for step, batch in enumerate(loader):
            x, y = batch
            rows = len(y)
            if parallel is not None:
                x, y = parallel.shard(batch, step)
            optimizer.zero_grad()
            if grad_step is not None:  # forward, loss and backward replayed (ds.compile)
                out, loss = grad_step(x, y)
            else:
                out = model(x) if parallel is None else parallel.forward(model, x)
                loss = loss_fn(out, y)
            _check_loss(loss, f"at epoch {epoch + 1}, step {step + 1}")
            value = float(loss.item())
            if not math.isfinite(value):
                diverged = f"the loss became {value}"
            else:
                if grad_step is None:
                    _check_graph(loss, f"at epoch {epoch + 1}, step {step + 1}")
                    loss.backward()
                if first_step:
                    _check_gradients(optimizer)
                    first_step = False
                bad = _first_nonfinite(params)
                if bad is not None:
                    diverged = f"the gradient of parameter {bad} became NaN or inf"
            if parallel is not None:  # the batch's loss and gradients, summed over the ranks
                value, diverged = parallel.all_reduce(value, gradients=not diverged)
            if diverged:
                message = _divergence_message(diverged, epoch, step, optimizer.global_step, y)
                if not quiet_on_nan:
                    progress.epoch_end(epoch, {"loss": value})
                    raise TrainingDivergedError(message)
                history.stopped_by = (
                    f"TerminateOnNaN: {diverged} at epoch {epoch + 1}, step {step + 1} (global "
                    f"step {optimizer.global_step}); training stopped with the weights of the "
                    f"last good step and {len(history)} finished epochs in the history"
                )
                warnings.warn(history.stopped_by, RuntimeWarning, stacklevel=2)
                run.diverged = {"what": diverged, "epoch": epoch, "step": step}
                run.stop_training = True
                break
            optimizer.step(examples=batch.indices)
            total += value * rows
            count += rows
            if metric_fns:
                outs.append(out._data.copy())
                targets.append(y.numpy())
            progress.batch_end(value)
            for cb in callbacks:
                cb.on_batch_end(step, {"loss": value})
        if diverged:
            break
        logs = {"loss": total / count}
        if metric_fns:
            pred, true = np.concatenate(outs), np.concatenate(targets)
            if parallel is not None:  # every rank's predictions, in one process's order
                pred, true = parallel.gather(pred), parallel.gather(true)
            for name, fn in metric_fns:
                logs[name] = fn(pred, true)
        if val_loader is not None:
            val_logs = evaluate(model, loss_fn, val_loader, metrics=[fn for _, fn in metric_fns])
            logs.update({f"val_{k}": v for k, v in val_logs.items()})
        lr = optimizer.param_groups[0]["lr"]
        if isinstance(lr, (int, float)):
            logs["lr"] = float(lr)
        if scheduler is not None:
            scheduler.step(metrics=logs.get("val_loss", logs["loss"]))
        run.epoch = epoch + 1
        history.append(epoch, logs)
        for cb in callbacks:
            cb.on_epoch_end(epoch, logs)
            if run.stop_training and history.stopped_by is None:
                history.stopped_by = f"{type(cb).__name__} at epoch {epoch + 1}"
        progress.epoch_end(epoch, logs)
    for cb in callbacks:
        cb.on_train_end()
    return history


def _check_graph(loss, where: str) -> None:
    if not loss.requires_grad:
        raise ValueError(
            f"fit: the loss {where} has no graph, so no parameter can get a gradient; was it "
            f"computed under no_grad, from a detached output (.detach(), .data, .numpy()), or "
            f"from a model whose parameters all have requires_grad=False?"
        )


def _compiled_grad_step(model, loss_fn):
    """``fit(compile=True)``'s step: forward, loss and backward, traced once per batch
    shape and replayed (``ds.compile``); the checks of the loss and the gradients, and the
    optimizer's step, stay in fit's loop, so a diverged step never updates."""

    def grad_step(x, y):
        out = model(x)
        loss = loss_fn(out, y)
        if isinstance(loss, Tensor) and loss._data.size == 1:
            _check_graph(loss, "of the compiled step")
            loss.backward()
        return out, loss

    return compile_step(grad_step)


def _article(word: str) -> str:
    """'an' before a vowel (an EarlyStopping), else 'a' (a ModelCheckpoint)."""
    return "an" if word[:1].lower() in "aeiou" else "a"


def _keras_data(train_data, val_data, x, y, validation_data):
    """(train_data, val_data) from descent's arguments or Keras's spelling of them."""
    if x is not None or y is not None:
        if train_data is not None:
            raise TypeError(
                "fit: give the training data once: train_data=(X, y) (descent's) or x=X, y=y "
                "(Keras's), not both"
            )
        if x is None:
            raise TypeError("fit: y= was given without x=; pass x=X, y=y")
        train_data = x if y is None else (x, y)
    if train_data is None:
        raise TypeError("fit: no training data; pass train_data=(X, y), or x=X, y=y")
    if validation_data is not None:
        if val_data is not None:
            raise TypeError(
                "fit: give the validation data once: val_data (descent's) or validation_data "
                "(Keras's), not both"
            )
        if isinstance(validation_data, (tuple, list)) and len(validation_data) != 2:
            raise ValueError(
                f"fit: validation_data must be (x_val, y_val) or a Dataset; got a "
                f"{len(validation_data)}-tuple (sample weights are not supported)"
            )
        val_data = validation_data
    return train_data, val_data


def _check_initial_epoch(initial_epoch, epochs: int, resume_from) -> int:
    """Keras's ``initial_epoch``: an int in [0, epochs); with ``resume_from`` the
    checkpoint says where training continues, so it stays 0."""
    if isinstance(initial_epoch, (bool, np.bool_)) or not isinstance(
        initial_epoch, (int, np.integer)
    ):
        raise TypeError(f"fit: initial_epoch must be an int >= 0, got {initial_epoch!r}")
    if not 0 <= initial_epoch < epochs:
        raise ValueError(
            f"fit: initial_epoch={initial_epoch} with epochs={epochs} trains no epoch; epochs "
            f"is the epoch training ends at (the total, as in Keras), so continuing after "
            f"{initial_epoch} epochs for 5 more is initial_epoch={initial_epoch}, "
            f"epochs={initial_epoch + 5}"
        )
    if initial_epoch and resume_from is not None:
        raise ValueError(
            "fit: give initial_epoch or resume_from, not both; the checkpoint says which "
            "epoch training continues at"
        )
    return int(initial_epoch)


def _check_verbose(verbose) -> int:
    """An int >= 0 (0, 1 and 2 are the display's levels); Keras's 'auto' is 1."""
    if isinstance(verbose, str) and verbose == "auto":
        return 1
    if isinstance(verbose, (bool, np.bool_)) or not isinstance(verbose, (int, np.integer)):
        raise TypeError(f"fit: verbose must be 0, 1, 2 or 'auto', got {verbose!r}")
    if verbose < 0:
        raise ValueError(f"fit: verbose must be 0, 1, 2 or 'auto', got {verbose}")
    return int(verbose)


def _check_step(member, keyword: str, signature: str) -> None:
    """Refuse, before training, an optimizer or scheduler whose ``step`` cannot take what
    fit hands every step (the batch's example indices; the epoch's monitored value)."""
    try:
        inspect.signature(member.step).bind(**{keyword: None})
    except TypeError:
        raise TypeError(
            f"fit: {type(member).__name__}.step must accept {keyword}=..., which fit hands "
            f"to every step (each one may ignore it); define it as {signature}, passing "
            f"{keyword} on to the base class's step"
        ) from None
    except (AttributeError, ValueError):
        if not callable(getattr(member, "step", None)):
            raise TypeError(
                f"fit: the {type(member).__name__} given has no step() method"
            ) from None


def _first_nonfinite(params) -> int | None:
    """The index in ``params`` of the first parameter whose gradient holds a NaN or inf;
    None when every gradient is finite (or missing).

    NOTE: a sum of every gradient's ``vdot(g, g)`` is finite only when every value is, so
    the usual step settles all gradients with one pass over each and one test; only a sum
    that is not finite (a bad value, or finite values large enough to overflow it) asks
    ``_finite`` of each gradient in turn. The sum is of Python floats: an overflow there is
    inf, without a warning.
    """
    total = 0.0
    for p in params:
        g = p._grad
        if g is not None:
            total += float(np.vdot(g._data, g._data))  # vdot flattens its arguments
    if math.isfinite(total):
        return None
    return next(
        (i for i, p in enumerate(params) if p._grad is not None and not _finite(p._grad)), None
    )


def _finite(t: Tensor) -> bool:
    """Whether every value of ``t`` is finite.

    NOTE: ``vdot(g, g)`` is one fast pass, finite only when every value is; but it also
    overflows for finite values above about 1e19 (float32), so an inf there is settled by
    the exact ``isfinite(g).all()``, two and a half times slower on a large gradient.
    """
    g = t._data.reshape(-1)
    return bool(np.isfinite(np.vdot(g, g)) or np.isfinite(g).all())
