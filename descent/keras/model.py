"""``ds.keras.Model`` and ``Sequential``: Keras's compile / fit / evaluate / predict /
summary on a descent module, training through ``ds.train.fit``.

A Keras model is a front on an ``nn.Module`` rather than a Module itself: on a PyTorch
module, ``compile()`` means compiling the forward (``ds.compile``), and here it means
Keras's choice of optimizer, loss and metrics. ``model.module`` is the module trained.
"""

from __future__ import annotations

import numpy as np

from ..autograd import no_grad
from ..io import load, save
from ..nn import Module
from ..nn import Sequential as _NnSequential
from ..nn.module import register_module_forward_hook
from ..optim import SGD, Adagrad, Adam, Optimizer, RMSprop
from ..tensor import Tensor, get_default_dtype, tensor
from ..train import Callback, History
from ..train import evaluate as _evaluate
from ..train import fit as _fit
from ..train.losses import LOSSES
from .losses import Loss

__all__ = ["Model", "Sequential", "Input"]


# Keras's optimizers by name, with Keras's defaults (each as descent's optimizer of that
# rule; Keras's Adam adds epsilon before the bias correction, descent's after, a
# difference of epsilon's size).
def _adam(params):
    return Adam(params, lr=0.001, eps=1e-7)


def _sgd(params):
    return SGD(params, lr=0.01)


def _rmsprop(params):
    return RMSprop(params, lr=0.001, alpha=0.9, eps=1e-7)


def _adagrad(params):
    return Adagrad(params, lr=0.001, initial_accumulator_value=0.1, eps=1e-7)


_OPTIMIZERS = {"adam": _adam, "sgd": _sgd, "rmsprop": _rmsprop, "adagrad": _adagrad}


class Input:
    """Keras's ``keras.Input(shape=...)``: the shape of one example, without the batch
    axis, as the first entry of ``Sequential([...])``."""

    def __init__(self, shape, dtype=None, name: str | None = None):
        self.shape = tuple(int(n) for n in shape)
        self.dtype = dtype
        self.name = name

    def __repr__(self) -> str:
        return f"Input(shape={self.shape})"


class _Front(Callback):
    """Hands every callback the Keras model as ``self.model`` and lets
    ``model.stop_training = True`` stop the run, as in Keras."""

    def __init__(self, front: Model):
        self.front = front

    def on_train_begin(self, logs=None):
        for cb in self.run.callbacks:
            cb.set_model(self.front)
        self.front._run = self.run

    def on_train_end(self, logs=None):
        self.front._run = None


def _rank_matched(pred: Tensor, target: Tensor) -> Tensor:
    """Keras's loss wrapper: targets (N,) beside outputs (N, 1) get the missing axis."""
    if target.ndim == pred.ndim - 1 and pred.shape[-1] == 1:
        return target.reshape(*target.shape, 1)
    return target


class Model:
    """Keras's Model on a descent module.

    >>> model = ds.keras.Model(ds.nn.Sequential(ds.nn.Linear(4, 3), ds.nn.Softmax(dim=1)))
    >>> model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
    ...               metrics=["accuracy"])
    >>> history = model.fit(x, y, epochs=20, validation_data=(x_val, y_val))
    >>> loss, acc = model.evaluate(x_test, y_test); probs = model.predict(x_test)

    ``compile(optimizer, loss, metrics)``: ``optimizer`` is a name ('adam', 'sgd',
    'rmsprop', 'adagrad', with Keras's default learning rates: 0.001, 0.01, 0.001, 0.001)
    or a descent optimizer (built on the module's parameters, or without params, which
    then binds them); ``loss`` a name of ``ds.train.fit``'s table (Keras's names take
    probabilities), a ``ds.keras.losses`` object, or a function ``f(y_true, y_pred)`` in
    Keras's order (an ``nn`` loss module keeps PyTorch's order, ``(input, target)``);
    ``metrics`` names ('accuracy', 'mae', 'mse') or functions ``f(y_true, y_pred)``.
    Parameter counts in ``summary`` are the module's parameters (buffers, such as
    BatchNorm's running statistics, which Keras counts as non-trainable, are left out).
    """

    def __init__(self, module: Module, name: str | None = None):
        if not isinstance(module, Module):
            raise TypeError(
                f"ds.keras.Model wraps a descent nn.Module, got a {type(module).__name__}; for "
                f"a list of layers use ds.keras.Sequential([...])"
            )
        self.module = module
        self.name = name or "model"
        self.optimizer = None
        self.loss = None
        self.metrics: list = []
        self.history: History | None = None
        self._input: tuple[tuple, np.dtype] | None = None  # one example's shape and dtype
        self._run = None
        self._stop_training = False

    # ---- Keras's attributes ----------------------------------------------------------
    @property
    def layers(self) -> list[Module]:
        """The module's direct children, in order."""
        return list(self.module.children())

    @property
    def built(self) -> bool:
        """Whether the shape of an input is known (data seen, ``build`` or ``Input``)."""
        return self._input is not None

    @property
    def stop_training(self) -> bool:
        return self._run.stop_training if self._run is not None else self._stop_training

    @stop_training.setter
    def stop_training(self, value: bool) -> None:
        self._stop_training = bool(value)
        if self._run is not None:
            self._run.stop_training = bool(value)

    def __call__(self, x):
        return self.module(self._as_input(x))

    def build(self, input_shape, dtype=None) -> None:
        """Know the input's shape, ``(None, *example_shape)`` or ``example_shape``; a batch of
        zeros runs through the module once to check it."""
        shape = tuple(input_shape)
        if shape and shape[0] is None:
            shape = shape[1:]
        if any(n is None for n in shape):
            raise ValueError(f"build: every axis but the batch's must be known, got {input_shape}")
        self._input = (tuple(int(n) for n in shape), np.dtype(dtype or self._float_dtype()))
        self._output_shapes()

    # ---- compile / fit / evaluate / predict ---------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None) -> None:
        """Choose the optimizer, loss and metrics that fit and evaluate use."""
        if loss is None:
            raise ValueError(
                "compile: give a loss, e.g. loss='sparse_categorical_crossentropy' (probabilities "
                "from a softmax layer) or loss='mse'"
            )
        if isinstance(optimizer, str):
            make = _OPTIMIZERS.get(optimizer.lower())
            if make is None:
                raise ValueError(
                    f"compile: unknown optimizer {optimizer!r}; use one of {sorted(_OPTIMIZERS)} "
                    f"or a descent optimizer, e.g. ds.optim.Adam(model.module.parameters(), "
                    f"lr=1e-3)"
                )
            optimizer = make([p for p in self.module.parameters() if p.requires_grad])
        elif not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"compile: optimizer must be a name or a descent optimizer, got a "
                f"{type(optimizer).__name__}"
            )
        self.optimizer = optimizer
        self.loss = loss
        self._loss_fn = self._descent_loss(loss)
        self.metrics = list(metrics or [])
        self._metric_fns = [self._descent_metric(m) for m in self.metrics]

    @staticmethod
    def _descent_loss(loss):
        """The loss as fit calls it, ``f(pred, target)``."""
        if isinstance(loss, str):
            if loss not in LOSSES:
                raise ValueError(f"compile: unknown loss {loss!r}; use one of {sorted(LOSSES)}")
            named = LOSSES[loss]
            return lambda pred, target: named(pred, _rank_matched(pred, target))
        if isinstance(loss, Module):  # PyTorch's loss modules take (input, target)
            return lambda pred, target: loss(pred, _rank_matched(pred, target))
        if isinstance(loss, Loss) or callable(loss):  # Keras's order, (y_true, y_pred)
            return lambda pred, target: loss(_rank_matched(pred, target), pred)
        raise TypeError(f"compile: loss must be a name or a function, got {loss!r}")

    @staticmethod
    def _descent_metric(metric):
        if isinstance(metric, str):
            return metric
        if callable(metric):  # Keras's order, (y_true, y_pred)

            def keras_metric(y_pred, y_true):
                return metric(y_true, y_pred)

            keras_metric.__name__ = getattr(metric, "__name__", "metric")
            return keras_metric
        raise TypeError(f"compile: a metric must be a name or a function, got {metric!r}")

    def _compiled(self, who: str) -> None:
        if self.optimizer is None:
            raise RuntimeError(
                f"{who}: the model is not compiled; call model.compile(optimizer='adam', "
                f"loss=..., metrics=[...]) first"
            )

    def fit(
        self,
        x=None,
        y=None,
        batch_size: int | None = None,
        epochs: int = 1,
        verbose="auto",
        callbacks=None,
        validation_split: float = 0.0,
        validation_data=None,
        shuffle: bool = True,
        initial_epoch: int = 0,
    ) -> History:
        """Train by ``ds.train.fit``; return (and keep as ``self.history``) the History."""
        self._compiled("fit")
        self._see(x)
        self._stop_training = False
        if isinstance(validation_data, (tuple, list)) and len(validation_data) == 2:
            validation_data = tuple(self._as_data(part) for part in validation_data)
        self.history = _fit(
            self.module, self._loss_fn, self.optimizer, epochs=epochs, batch_size=batch_size,
            callbacks=[_Front(self), *(callbacks or [])], metrics=self._metric_fns,
            x=self._as_data(x), y=self._as_data(y), validation_data=validation_data,
            validation_split=validation_split, shuffle=shuffle, initial_epoch=initial_epoch,
            verbose=verbose,
        )  # fmt: skip
        return self.history

    def evaluate(
        self, x=None, y=None, batch_size: int | None = None, verbose="auto", return_dict=False
    ):
        """The loss and metrics on (x, y): the loss alone without metrics, else
        ``[loss, *metrics]`` (a dict with ``return_dict``); one line printed unless
        ``verbose=0``."""
        self._compiled("evaluate")
        self._see(x)
        data = x if y is None else (self._as_data(x), self._as_data(y))
        logs = _evaluate(
            self.module, self._loss_fn, data, batch_size=batch_size or 32,
            metrics=self._metric_fns,
        )  # fmt: skip
        if verbose:
            print(" - ".join(f"{k}: {v:.4f}" for k, v in logs.items()), flush=True)
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size: int | None = None, verbose="auto") -> np.ndarray:
        """The module's outputs on ``x``, batch by batch in eval mode, as one NumPy array."""
        self._see(x)
        x = self._as_input(x)
        step = batch_size or 32
        was_training = self.module.training
        self.module.eval()
        try:
            with no_grad():
                outs = [self.module(x[i : i + step]).numpy() for i in range(0, len(x), step)]
        finally:
            self.module.train(was_training)
        return np.concatenate(outs)

    # ---- data --------------------------------------------------------------------
    def _float_dtype(self) -> np.dtype:
        for p in self.module.parameters():
            if p.dtype.kind == "f":
                return p.dtype
        return get_default_dtype()

    def _as_data(self, part):
        """Arrays stay arrays (fit converts them); lists become arrays."""
        return np.asarray(part) if isinstance(part, list) else part

    def _as_input(self, x) -> Tensor:
        if isinstance(x, Tensor):
            return x
        arr = np.asarray(x)
        return tensor(arr, dtype=self._float_dtype() if arr.dtype.kind == "f" else None)

    def _see(self, x) -> None:
        """Remember the input's shape and dtype the first time an array is seen."""
        if self._input is None and isinstance(x, (np.ndarray, Tensor, list)):
            arr = x.numpy() if isinstance(x, Tensor) else np.asarray(x)
            dtype = self._float_dtype() if arr.dtype.kind == "f" else arr.dtype
            self._input = (tuple(arr.shape[1:]), np.dtype(dtype))

    # ---- summary -----------------------------------------------------------------
    def _output_shapes(self) -> dict[int, tuple]:
        """Each direct child's output shape (batch axis None), from one batch of zeros."""
        shape, dtype = self._input
        children = {id(child) for child in self.module.children()}
        shapes: dict[int, tuple] = {}

        def record(module, args, output):
            if id(module) in children and isinstance(output, Tensor):
                shapes.setdefault(id(module), (None, *output.shape[1:]))

        was_training = self.module.training
        self.module.eval()
        try:
            with no_grad(), register_module_forward_hook(record):
                out = self.module(tensor(np.zeros((2, *shape), dtype)))
        except Exception as e:
            raise ValueError(
                f"{self.name}: a batch of input shape {(None, *shape)} does not run through the "
                f"model ({e})"
            ) from e
        finally:
            self.module.train(was_training)
        shapes[id(self.module)] = (None, *out.shape[1:])
        return shapes

    def summary(self, print_fn=None) -> None:
        """Print Keras's table: each layer, its output shape and its parameter count, then
        the totals. Output shapes are known once the model is built (it has seen data, or
        ``build(input_shape)``, or ``Sequential([Input(shape), ...])``)."""
        print_fn = print_fn or print
        shapes = self._output_shapes() if self.built else {}
        rows = [
            (
                f"{name} ({type(child).__name__})",
                str(shapes.get(id(child), "?")),
                f"{sum(p.numel() for p in child.parameters()):,}",
            )
            for name, child in self.module.named_children()
        ]
        params = list(self.module.parameters())
        trainable = sum(p.numel() for p in params if p.requires_grad)
        total = sum(p.numel() for p in params)
        widths = [max(29, *(len(r[0]) + 2 for r in rows)), 26, 10]
        width = sum(widths)

        def line(cells) -> str:
            return "".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()

        print_fn(f'Model: "{self.name}"')
        print_fn("_" * width)
        print_fn(line(("Layer (type)", "Output Shape", "Param #")))
        print_fn("=" * width)
        for i, row in enumerate(rows):
            print_fn(line(row))
            if i < len(rows) - 1:
                print_fn("")
        print_fn("=" * width)
        print_fn(f"Total params: {total:,}")
        print_fn(f"Trainable params: {trainable:,}")
        print_fn(f"Non-trainable params: {total - trainable:,}")
        print_fn("_" * width)
        if not self.built:
            print_fn(
                "Output shapes are known once the model is built: after it has seen data "
                "(fit, evaluate, predict) or build(input_shape)."
            )

    def count_params(self) -> int:
        """The number of the module's parameters."""
        return sum(p.numel() for p in self.module.parameters())

    # ---- weights -----------------------------------------------------------------
    def get_weights(self) -> list[np.ndarray]:
        """Copies of the module's state (parameters and buffers), in state_dict order."""
        return [v.numpy().copy() for v in self.module.state_dict().values()]

    def set_weights(self, weights) -> None:
        """Set the module's state from arrays in ``get_weights`` order (shapes checked)."""
        state = self.module.state_dict()
        weights = list(weights)
        if len(weights) != len(state):
            raise ValueError(
                f"set_weights: the model holds {len(state)} arrays, got {len(weights)}; pass the "
                f"list that get_weights() returns"
            )
        new = {}
        for (key, old), w in zip(state.items(), weights):
            w = np.asarray(w)
            if w.shape != tuple(old.shape):
                raise ValueError(
                    f"set_weights: {key} has shape {tuple(old.shape)}, got an array of shape "
                    f"{w.shape}"
                )
            new[key] = w.astype(old.dtype)
        self.module.load_state_dict(new)

    def save_weights(self, filepath) -> None:
        """Write the module's state_dict to ``filepath`` (a safetensors file, ``ds.save``)."""
        save(self.module.state_dict(), filepath)

    def load_weights(self, filepath) -> None:
        """Read a file written by ``save_weights`` (or ``ds.save(module.state_dict())``)."""
        self.module.load_state_dict(load(filepath))

    def __repr__(self) -> str:
        return f"<ds.keras.{type(self).__name__} {self.name!r} of {type(self.module).__name__}>"


class Sequential(Model):
    """Keras's Sequential: a stack of descent layers, on an ``nn.Sequential``.

    >>> model = ds.keras.Sequential([ds.keras.Input(shape=(4,)), ds.nn.Linear(4, 16),
    ...                              ds.nn.ReLU(), ds.nn.Linear(16, 3), ds.nn.Softmax(dim=1)])
    """

    def __init__(self, layers=None, name: str | None = None):
        layers = list(layers or [])
        spec = None
        if layers and isinstance(layers[0], Input):
            spec = layers.pop(0)
        for layer in layers:
            if not isinstance(layer, Module):
                raise TypeError(
                    f"Sequential: each layer must be a descent nn.Module (ds.nn.Linear, "
                    f"ds.nn.ReLU, ...), got a {type(layer).__name__}"
                )
        super().__init__(_NnSequential(*layers), name=name or "sequential")
        if spec is not None:
            self.build(spec.shape, spec.dtype)

    def add(self, layer: Module) -> None:
        """Append a layer (an ``Input`` first sets the input's shape)."""
        if isinstance(layer, Input):
            self.build(layer.shape, layer.dtype)
            return
        self.module.append(layer)
