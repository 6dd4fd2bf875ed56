"""The Optimizer base: parameters, per-parameter state, the step counter and both verb sets.

A subclass only names its hyperparameters (``defaults``), checks those beyond the lr
(``check``) and points at its update rule (``rule``): a short function of NumPy arrays,

    rule(params, grads, states, **hyperparameters)

that changes each array of ``params`` in place from its gradient in ``grads`` and its
state dict in ``states`` (created empty by the base, filled by the rule). Every verb also
takes the indices of the training examples the gradient came from (``examples``, which
``ds.train.fit`` always passes); ``check_examples`` turns them into more arguments of the
rule, none for the rules that have no use for them. The base does the rest: param groups,
PyTorch's ``zero_grad`` / ``step`` / ``state_dict``, TensorFlow's ``compute_gradients`` /
``apply_gradients`` / ``minimize`` and ``global_step``.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable, Iterable, Mapping

import numpy as np

from ..autograd import bump_version, enable_grad, grad
from ..compile import effect
from ..tensor import Tensor
from .schedules import SCHEDULES, check_number

__all__ = ["Optimizer", "add_scaled", "check_lr", "check_number", "scratch", "zeros_state"]


def check_lr(lr):
    """A learning rate: a number >= 0, or a schedule (a callable of the step number)."""
    if callable(lr):
        return lr
    return check_number("lr", lr)


# Block size of add_scaled: 65536 values (256 KiB of float32) stay in the core's cache;
# measured after a backward pass, 2^16 and 2^17 were fastest, 2^13 and no blocks slowest.
_BLOCK = 1 << 16
# Up to this many values NumPy's allocation of a temporary (from its own cache of small
# blocks) costs less than finding a kept one: measured on a 2-16-16-1 MLP's parameters.
_SMALL = 4096

# NOTE: the rules' temporaries live in arrays made once per thread and reused by every
# step, so an update allocates nothing, eager or compiled, beyond the few-KiB temporaries
# of parameters up to ``_SMALL`` values; a rule never keeps one past its own call. A
# small one is kept per shape (a lookup is all a step pays for it); a large one is a view
# of one flat array per dtype, as large as the largest asked for, so that the
# temporaries of a big model cost one parameter's size, not the model's.
_scratch = threading.local()
_KEPT_SHAPES = 256  # small temporaries kept per thread before they are all let go
_OWN = 9  # add_scaled's own ``which``: the rules that call it hold 0 and 1 meanwhile


def scratch(like: np.ndarray, which: int = 0, size: int | None = None) -> np.ndarray:
    """A temporary shaped and typed like ``like`` (or ``size`` values of its dtype, flat),
    one of this thread's reused arrays: ``which`` tells apart those a rule needs at once.
    Its values are whatever the last user left; the caller writes before it reads."""
    try:
        pool = _scratch.pool
    except AttributeError:
        pool = _scratch.pool = {}
    key = (like.shape if size is None else size, like.dtype, which)
    found = pool.get(key)
    if found is None:
        found = _new_scratch(pool, key, like.size if size is None else size)
    return found


def _new_scratch(pool: dict, key: tuple, n: int) -> np.ndarray:
    shape, dtype, which = key
    if n <= _BLOCK:
        if len(pool) >= _KEPT_SHAPES:
            pool.clear()
        found = pool[key] = np.empty(shape, dtype)
        return found
    flat_key = ("flat", dtype, which)
    flat = pool.get(flat_key)
    if flat is None or flat.size < n:  # a larger one: the views of the old one go with it
        for k in [k for k, v in pool.items() if k[1:] == key[1:] and v.size > _BLOCK]:
            del pool[k]
        flat = pool[flat_key] = np.empty(n, dtype)
    found = pool[key] = flat[:n].reshape(shape)
    return found


def add_scaled(p: np.ndarray, g: np.ndarray, alpha: float) -> None:
    """``p += alpha * g`` in place, without a temporary the size of ``p``.

    NOTE: for a large parameter, ``p -= lr * g`` writes and rereads a full-size
    temporary; going block by block through one small buffer keeps that traffic in the
    cache and leaves ``g`` (the user's ``.grad``) unchanged. Small arrays take one step.
    """
    if (
        p.size <= _SMALL
        or g.dtype.kind not in "fc"  # an integer g: alpha * g is a float
        or (alpha.__class__ is not float and np.result_type(alpha, g) != g.dtype)
    ):  # (a NumPy float64 alpha makes alpha * g a float64 for a float32 g)
        p += alpha * g
        return
    if p.size <= _BLOCK or not (p.flags.c_contiguous and g.flags.c_contiguous):
        part = np.multiply(g, alpha, out=scratch(g, _OWN))
        p += part
        return
    flat_p, flat_g = p.reshape(-1), g.reshape(-1)
    buf = scratch(g, _OWN, _BLOCK)
    for start in range(0, p.size, _BLOCK):
        stop = min(start + _BLOCK, p.size)
        part = buf[: stop - start]
        np.multiply(flat_g[start:stop], alpha, out=part)
        target = flat_p[start:stop]
        np.add(target, part, out=target)  # (``flat_p[a:b] += part`` would copy it back again)


def zeros_state(state: dict, name: str, like: np.ndarray) -> np.ndarray:
    """``state[name]``, created as zeros shaped and typed like ``like`` on first use."""
    buf = state.get(name)
    if buf is None:
        buf = state[name] = np.zeros_like(like)
    return buf


class Optimizer:
    """Base class of every optimizer (PyTorch's constructor and verbs, TensorFlow's verbs).

    ``params`` is an iterable of Tensors, or of dicts (param groups) each holding
    ``'params'`` and any hyperparameter that differs from ``defaults``; or None, as
    TensorFlow 1 builds an optimizer: then the variables join it when the verbs first see
    them (``var_list`` of ``compute_gradients``/``minimize``, the pairs of
    ``apply_gradients``), or the model's parameters when ``ds.train.fit`` trains with it.
    Every optimizer takes ``learning_rate=`` (Keras's and TensorFlow's spelling) as the
    same parameter as ``lr=`` (PyTorch's); give one of them.

    >>> opt = ds.optim.SGD(model.parameters(), lr=0.1)
    >>> opt.zero_grad(); loss.backward(); opt.step()      # PyTorch
    >>> opt.minimize(lambda: loss_fn(model(x), y))        # TensorFlow
    >>> ds.optim.Adam(model.parameters(), learning_rate=1e-3)
    """

    # The update rule; subclasses set it with staticmethod(...).
    rule: Callable[..., None]

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # NOTE: one place gives every optimizer (and a user's own) the learning_rate=
        # spelling of its lr parameter, rather than a keyword in each constructor.
        step = cls.__dict__.get("step")
        if step is not None:  # a user's own step: recorded by ds.compile as the base's is
            cls.step = _recorded(step)
        init = cls.__dict__.get("__init__")
        if init is not None:
            signature = inspect.signature(init)
            if "lr" in signature.parameters and "learning_rate" not in signature.parameters:
                cls.__init__ = _taking_learning_rate(init, signature)

    def __init__(self, params, defaults: dict):
        self.defaults = self._checked(dict(defaults))
        self.param_groups: list[dict] = []
        self.state: dict[Tensor, dict] = {}
        self.global_step = 0
        self.binds_on_use = params is None  # TensorFlow 1's way: variables join at the verbs
        if params is None:
            return
        params = [params] if isinstance(params, Tensor) else list(params)
        if not params:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        for group in groups:
            self.add_param_group(group)

    @staticmethod
    def check(options: dict) -> dict:
        """Validate one group's hyperparameters beyond the lr; return them normalised
        (plain floats). The base has none."""
        return options

    @staticmethod
    def check_examples(examples, options: dict) -> dict:
        """The rule's arguments from the step's example indices, checked against one
        group's options before any parameter moves. The base rules take none."""
        return {}

    def _checked(self, options: dict) -> dict:
        options["lr"] = check_lr(options["lr"])
        return self.check(options)

    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters with its own hyperparameters (the rest from defaults)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"a param group must be a dict, got {type(param_group).__name__}")
        params = param_group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"{type(self).__name__} can only optimize Tensors, got {type(p).__name__}"
                )
            if p._data.dtype.kind != "f":
                raise ValueError(f"can't optimize a tensor of dtype {p._data.dtype}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor; optimize the leaves it uses")
        taken = set(self._params())
        if len(set(params)) != len(params) or taken & set(params):
            raise ValueError("some parameters appear more than once (in one or several groups)")
        unknown = [k for k in param_group if k != "params" and k not in self.defaults]
        options = self._checked({k: param_group.get(k, v) for k, v in self.defaults.items()})
        extras = {k: param_group[k] for k in unknown}  # e.g. 'initial_lr' of a scheduler
        self.param_groups.append({"params": params, **options, **extras})

    def _params(self) -> list[Tensor]:
        return [p for group in self.param_groups for p in group["params"]]

    # ---- the update (shared by both verb sets) --------------------------------------
    def _update(self, grads: dict[Tensor, np.ndarray], examples) -> None:
        """Call the rule once per group on the parameters that have a gradient in ``grads``,
        with the arguments ``check_examples`` makes of ``examples`` (for every group before
        any rule runs, so a refused index moves nothing).

        A schedule lr is evaluated at ``global_step`` before it is incremented (TensorFlow).
        """
        calls = []
        for group in self.param_groups:
            options = {k: group[k] for k in self.defaults}
            calls.append((group, {**options, **self.check_examples(examples, options)}))
        for group, options in calls:
            params = [p for p in group["params"] if p in grads]
            if not params:
                continue
            if callable(options["lr"]):
                options["lr"] = float(options["lr"](self.global_step))
            states = [self.state.setdefault(p, {}) for p in params]
            arrays = [p._data for p in params]
            self.rule(arrays, [grads[p] for p in params], states, **options)
            bump_version(*arrays)  # changed in place: a new version of each, as in PyTorch

    @staticmethod
    def _grad_array(g, p: Tensor, where: str) -> np.ndarray:
        array = g._data if isinstance(g, Tensor) else np.asarray(g)
        if array.shape != p._data.shape:
            raise ValueError(
                f"{where}: gradient of shape {tuple(array.shape)} for a parameter of shape "
                f"{p._data.shape}; they must match"
            )
        return array.astype(p._data.dtype, copy=False)

    # ---- PyTorch verbs ------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's ``.grad`` (None, or zeros with set_to_none=False)."""
        with effect(self._replay_zero_grad, set_to_none):  # replayed by ds.compile
            for p in self._params():
                p.zero_grad(set_to_none)

    def step(self, closure: Callable[[], Tensor] | None = None, examples=None):
        """Update every parameter from its ``.grad`` (those with None are skipped).

        Adds 1 to ``global_step``. ``closure``, if given, recomputes and returns the loss.
        ``examples``: the indices of the training examples behind the gradient.
        """
        # NOTE: the mechanism ds.compile records: a traced step runs this once as usual and
        # replays it as this same call, so every optimizer (a user's own too) replays its
        # own array code, with the replay's gradients and examples.
        with effect(self._replay_step, closure, examples):
            loss = None
            if closure is not None:
                with enable_grad():
                    loss = closure()
            grads = {
                p: self._grad_array(p.grad, p, "step") for p in self._params() if p.grad is not None
            }
            self._update(grads, examples)
            self.global_step += 1
        return loss

    def _replay_zero_grad(self, set_to_none: bool) -> None:
        """``zero_grad`` as a compiled step replays it: the same, without the calls."""
        if not set_to_none:
            self.zero_grad(False)
            return
        for group in self.param_groups:
            for p in group["params"]:
                p._grad = None

    def _replay_step(self, closure=None, examples=None) -> None:
        """``step`` as a compiled step replays it (``ds.compile``): the same rule on the
        same arrays, with fewer checks when every parameter has a gradient, nothing
        depends on examples and the subclass keeps the base's ``_update``; else ``step``."""
        cls = type(self)
        groups = self.param_groups
        grads = [[p._grad for p in group["params"]] for group in groups]
        if (
            closure is not None
            or examples is not None
            or cls._update is not Optimizer._update
            or cls.check_examples is not Optimizer.check_examples
            or any(g is None for gs in grads for g in gs)
        ):
            self.step(closure, examples)
            return
        state, names = self.state, self.defaults
        for group, gs in zip(groups, grads):
            params = group["params"]
            if not params:
                continue
            options = {k: group[k] for k in names}
            if callable(options["lr"]):
                options["lr"] = float(options["lr"](self.global_step))
            arrays = [p._data for p in params]
            self.rule(
                arrays,
                [g._data.astype(a.dtype, copy=False) for g, a in zip(gs, arrays)],
                [state.setdefault(p, {}) for p in params],
                **options,
            )
            bump_version(*arrays)
        self.global_step += 1

    # ---- TensorFlow verbs ---------------------------------------------------------
    def compute_gradients(self, loss, var_list: Iterable[Tensor] | None = None) -> list:
        """``[(grad, var), ...]`` of a scalar loss; no ``.grad`` is touched.

        ``loss`` is a scalar Tensor or a zero-argument callable returning one; ``var_list``
        defaults to every parameter of this optimizer. ``grad`` is None for a variable
        the loss does not depend on.
        """
        if not isinstance(loss, Tensor) and callable(loss):
            with enable_grad():
                loss = loss()
        if not isinstance(loss, Tensor):
            raise TypeError(f"loss must be a Tensor or a callable returning one, got {loss!r}")
        if isinstance(var_list, Tensor) and var_list.ndim == 0 and var_list.dtype.kind in "iu":
            raise TypeError(
                "compute_gradients: var_list is a 0-d integer Tensor, which looks like a "
                "global step counter; pass it as global_step=... (descent's minimize takes "
                "var_list second, as TensorFlow 2 does)"
            )
        if loss._data.size != 1:
            raise ValueError(
                f"compute_gradients: loss must be a scalar, got shape {loss._data.shape}; "
                f"reduce it first (e.g. .mean())"
            )
        if var_list is None and not self.param_groups:
            raise ValueError(
                f"compute_gradients: this {type(self).__name__} holds no variables yet (it "
                f"was built without params); pass var_list=[...] (descent keeps no global "
                f"collection of trainable variables for TensorFlow 1's default)"
            )
        var_list = self._params() if var_list is None else list(var_list)
        wanted = [v for v in var_list if v.requires_grad]
        found: dict[Tensor, Tensor | None] = {}
        if wanted and loss.requires_grad:
            found = dict(zip(wanted, grad(loss, wanted, allow_unused=True)))
        return [(found.get(v), v) for v in var_list]

    def apply_gradients(
        self, grads_and_vars: Iterable[tuple], global_step=None, name=None, examples=None
    ) -> int:
        """Update each variable with its gradient; add 1 to ``global_step`` and return it.

        Pairs whose gradient is None are skipped; every variable must belong to this
        optimizer (or joins it, for an optimizer built without params).
        ``global_step``: TensorFlow 1's counter that the caller owns, a 0-d integer Tensor
        (``gs = ds.tensor(0)``) that gets 1 added in place, beside the optimizer's own
        ``global_step``. ``name`` (an op's name in TensorFlow's graph) is accepted and
        unused. ``examples``: the indices of the training examples behind the gradients.
        """
        _check_counter(global_step)
        pairs = list(grads_and_vars)
        with effect(self.apply_gradients, pairs, global_step, name, examples=examples):
            return self._apply_gradients(pairs, global_step, examples)

    def _apply_gradients(self, pairs: list, global_step, examples) -> int:
        joining = self._joining([v for _, v in pairs]) if self.binds_on_use else []
        index = {p: i for i, p in enumerate([*self._params(), *joining])}
        grads: dict[Tensor, np.ndarray] = {}
        for g, v in pairs:
            if not isinstance(v, Tensor) or v not in index:
                raise ValueError(
                    f"apply_gradients: {_describe(v)} is not a parameter of this optimizer; "
                    f"pass it in the optimizer's params (or add_param_group) first"
                )
            if g is None:
                continue
            if v in grads:
                raise ValueError(f"apply_gradients: {_describe(v, index)} appears twice")
            grads[v] = self._grad_array(g, v, "apply_gradients")
        if not grads:
            names = ", ".join(_describe(v, index) for _, v in pairs)
            raise ValueError(f"No gradients provided for any variable: [{names}]")
        if joining:  # an optimizer built without params: one group, with the defaults
            self.add_param_group({"params": joining})
        self._update(grads, examples)
        self.global_step += 1
        if global_step is not None:
            global_step._data += 1
            bump_version(global_step._data)
        return self.global_step

    def minimize(
        self,
        loss,
        var_list: Iterable[Tensor] | None = None,
        examples=None,
        *,
        global_step=None,
        name=None,
    ) -> int:
        """``apply_gradients(compute_gradients(loss, var_list), global_step, examples=...)``;
        returns the optimizer's ``global_step``. ``var_list`` restricts the update to those
        variables; ``global_step``, the caller's counter, gets 1 added (TensorFlow 1)."""
        _check_counter(global_step)
        pairs = self.compute_gradients(loss, var_list)
        return self.apply_gradients(pairs, global_step, name, examples=examples)

    def _joining(self, variables: list) -> list[Tensor]:
        """The variables this optimizer does not hold yet, each once, in order."""
        held = set(self._params())  # Tensors hash and compare as themselves in a set
        new = []
        for v in variables:
            if isinstance(v, Tensor) and v not in held:
                held.add(v)
                new.append(v)
        return new

    # ---- state -----------------------------------------------------------------
    def state_dict(self) -> dict:
        """PyTorch's layout, of plain data only (arrays, numbers, bools, strings, lists, dicts).

        ``{'state': {index: {name: value}}, 'param_groups': [{options..., 'params':
        [indices]}], 'global_step': n}``; parameters are numbered in group order. Arrays
        are copies. A schedule lr is stored as ``{'schedule': name, 'config': {...}}``.
        """
        groups, state = [], {}
        index = 0
        for group in self.param_groups:
            packed = {k: _plain_option(v) for k, v in group.items() if k != "params"}
            packed["params"] = list(range(index, index + len(group["params"])))
            groups.append(packed)
            for p in group["params"]:
                if self.state.get(p):
                    state[index] = {
                        k: v.copy() if isinstance(v, np.ndarray) else v
                        for k, v in self.state[p].items()
                    }
                index += 1
        return {"state": state, "param_groups": groups, "global_step": self.global_step}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore what ``state_dict`` saved, into an optimizer built on the same parameters.

        Checks everything before changing anything: the number of groups and their sizes,
        that each parameter's state holds exactly the names this optimizer's rule keeps
        with the saved options (an unknown name such as 'exp_arg', or a missing one, is
        refused, never silently restarted at zero), and each array's shape and dtype kind.
        """
        who = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, Mapping):
            raise TypeError(
                f"{who} expects the dict that state_dict() returns, got a "
                f"{type(state_dict).__name__}"
            )
        for key in ("state", "param_groups"):
            if key not in state_dict:
                raise ValueError(
                    f"{who}: the state dict has no {key!r}; expected the dict that "
                    f"state_dict() returns (keys 'state', 'param_groups', 'global_step')"
                )
        saved_groups, saved_states = state_dict["param_groups"], state_dict["state"]
        if not isinstance(saved_groups, list) or not all(
            isinstance(g, Mapping) and isinstance(g.get("params"), list) for g in saved_groups
        ):
            raise ValueError(f"{who}: 'param_groups' must be a list of dicts with a 'params' list")
        if not isinstance(saved_states, Mapping):
            raise ValueError(
                f"{who}: 'state' must be a dict of parameter index -> state, got a "
                f"{type(saved_states).__name__}"
            )
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"loaded state dict has {len(saved_groups)} parameter group(s), this "
                f"optimizer has {len(self.param_groups)}"
            )
        by_index: dict[int, tuple[Tensor, int]] = {}
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"param group {i}: the loaded state dict has {len(saved['params'])} "
                    f"parameter(s), this optimizer has {len(group['params'])}"
                )
            for k, p in zip(saved["params"], group["params"]):
                by_index[_parameter_index(k, who)] = (p, i)
        new_groups = []
        for saved, group in zip(saved_groups, self.param_groups):
            options = {
                k: _restore_option(v, group.get(k)) for k, v in saved.items() if k != "params"
            }
            checked = self._checked({k: options.get(k, group[k]) for k in self.defaults})
            new_groups.append({**options, **checked})
        kept = [self._state_names(options) for options in new_groups]
        new_state = {}
        for key, saved_state in saved_states.items():
            p, i = by_index.get(_parameter_index(key, who), (None, None))
            if p is None:
                raise ValueError(f"loaded state dict has state for unknown parameter {key}")
            if not isinstance(saved_state, Mapping):
                raise ValueError(
                    f"{who}: the state of parameter {key} must be a dict of name -> value, "
                    f"got a {type(saved_state).__name__}"
                )
            _check_state_names(saved_state, kept[i], key, type(self).__name__)
            new_state[p] = {
                name: _restore_state(v, p, self._state_shape(name, p), key, name)
                for name, v in saved_state.items()
            }
            if not new_state[p]:
                del new_state[p]
        global_step = state_dict.get("global_step", 0)
        if isinstance(global_step, bool) or not isinstance(global_step, (int, np.integer)):
            raise ValueError(f"{who}: global_step must be an int, got {global_step!r}")
        if global_step < 0:
            raise ValueError(f"{who}: global_step must be >= 0, got {global_step}")
        for group, options in zip(self.param_groups, new_groups):
            params = group["params"]
            group.clear()
            group.update(params=params, **options)
        self.state = new_state
        self.global_step = int(global_step)

    def _state_names(self, options: dict) -> set[str] | None:
        """The state names the rule keeps for a parameter of a group with ``options``.

        NOTE: found by running the rule once on a scratch parameter of one value with a
        zero gradient (and example 0 for the rules that take examples), since which
        buffers a rule keeps depends on its options (Adam's amsgrad, SGD's momentum).
        None where the rule cannot run on such a scratch; then the names are not checked.
        """
        probe = {k: options[k] for k in self.defaults}
        probe["lr"] = 0.0
        state: dict = {}
        try:
            probe.update(self.check_examples(np.zeros(1, np.int64), probe))
            self.rule([np.zeros(1)], [np.zeros(1)], [state], **probe)
        except Exception:
            return None
        return set(state)

    def _state_shape(self, name: str, p: Tensor) -> tuple:
        """The shape an array of state ``name`` of parameter ``p`` must have when loaded."""
        return p._data.shape

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            options = ", ".join(f"{k}={v!r}" for k, v in group.items() if k != "params")
            lines.append(f"  group {i}: {len(group['params'])} params, {options}")
        return "\n".join(lines + [")"])


def _recorded(step):
    """``step`` declared as one effect of a compiled step (``ds.compile``), so that a
    replay calls it again where the trace called it."""

    @functools.wraps(step)
    def recorded(self, *args, **kwargs):
        with effect(step, self, *args, **kwargs):
            return step(self, *args, **kwargs)

    return recorded


def _taking_learning_rate(init, signature: inspect.Signature):
    """``init`` that also takes ``learning_rate=`` for its ``lr`` (not both)."""

    @functools.wraps(init)
    def init_with_spelling(self, *args, **kwargs):
        if "learning_rate" in kwargs:
            learning_rate = kwargs.pop("learning_rate")
            if "lr" in signature.bind_partial(self, *args, **kwargs).arguments:
                raise TypeError(
                    f"{type(self).__name__}: lr and learning_rate are one parameter (PyTorch's "
                    f"and Keras's spelling); give one of them"
                )
            kwargs["lr"] = learning_rate
        init(self, *args, **kwargs)

    parameters = list(signature.parameters.values())
    spelling = inspect.Parameter("learning_rate", inspect.Parameter.KEYWORD_ONLY, default=None)
    at = next(
        (i for i, p in enumerate(parameters) if p.kind is inspect.Parameter.VAR_KEYWORD),
        len(parameters),
    )
    init_with_spelling.__signature__ = signature.replace(
        parameters=[*parameters[:at], spelling, *parameters[at:]]
    )
    return init_with_spelling


def _check_counter(global_step) -> None:
    """TensorFlow 1's ``global_step``: None or a 0-d integer Tensor, checked before any
    variable moves."""
    if global_step is None:
        return
    if not (
        isinstance(global_step, Tensor)
        and global_step.ndim == 0
        and global_step.dtype.kind in "iu"
        and not global_step.requires_grad
    ):
        raise TypeError(
            f"global_step must be a 0-d integer Tensor that the optimizer adds 1 to in place, "
            f"as TensorFlow 1's counter variable: gs = ds.tensor(0); got {global_step!r}"
        )


def _describe(v, index: dict | None = None) -> str:
    """How an error names a variable: its name if it has one, else its place and shape."""
    if not isinstance(v, Tensor):
        return f"{type(v).__name__} object (not a Tensor)"
    name = getattr(v, "name", None)
    where = f"params[{index[v]}]" if index and v in index else "tensor"
    shape = f"shape {v._data.shape}, {v._data.dtype}"
    return f"{name} ({where}, {shape})" if isinstance(name, str) else f"{where} ({shape})"


def _plain_option(value):
    """A group option as plain data: tuples become lists, schedules their config."""
    if isinstance(value, tuple):
        return list(value)
    if callable(value):
        config = value.get_config() if hasattr(value, "get_config") else None
        return {"schedule": type(value).__name__, "config": config}
    return value


def _restore_option(saved, current):
    """A saved option back as the optimizer wants it (lists to tuples, schedules rebuilt)."""
    if isinstance(saved, dict) and "schedule" in saved:
        if callable(current) and hasattr(current, "load_state_dict"):
            current.load_state_dict(saved["config"])
            return current
        if saved["schedule"] in SCHEDULES and saved["config"] is not None:
            return SCHEDULES[saved["schedule"]](**saved["config"])
        if callable(current):
            return current  # a plain function cannot be saved; keep the one given
        raise ValueError(
            f"the saved lr is a {saved['schedule']} schedule that cannot be rebuilt; "
            f"create the optimizer with that schedule as lr before loading"
        )
    if isinstance(current, tuple) and isinstance(saved, list):
        return tuple(saved)
    return saved


def _parameter_index(key, who: str) -> int:
    """A parameter's index as a state dict holds it (an int, or its string from JSON)."""
    if isinstance(key, str) and key.isdigit():
        return int(key)
    if isinstance(key, bool) or not isinstance(key, (int, np.integer)):
        raise ValueError(f"{who}: parameter index {key!r} is not an int")
    return int(key)


def _check_state_names(saved: Mapping, kept: set[str] | None, key, optimizer: str) -> None:
    if kept is None or not saved:
        return
    unknown, missing = sorted(set(saved) - kept, key=str), sorted(kept - set(saved))
    if unknown or missing:
        parts = [f"unknown names {unknown}"] if unknown else []
        parts += [f"missing names {missing}"] if missing else []
        raise ValueError(
            f"the state of parameter {key} has {' and '.join(parts)}; {optimizer} with these "
            f"options keeps exactly {sorted(kept)}. Load a state saved by the same optimizer "
            f"with the same options"
        )


def _restore_state(value, p: Tensor, shape: tuple, key, name: str):
    if isinstance(value, Tensor):
        value = value._data
    if not isinstance(value, np.ndarray):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
            raise ValueError(
                f"state '{name}' of parameter {key} is a {type(value).__name__}; an "
                f"optimizer's state holds arrays and numbers"
            )
        return value
    if value.shape != shape:
        raise ValueError(
            f"state '{name}' of parameter {key} has shape {tuple(value.shape)}, but it must have "
            f"shape {shape} (the parameter has shape {p._data.shape})"
        )
    if value.dtype.kind != p._data.dtype.kind:
        raise ValueError(
            f"state '{name}' of parameter {key} has dtype {value.dtype}, but the parameter is "
            f"{p._data.dtype}: no silent cast between kinds"
        )
    return value.astype(p._data.dtype)  # a copy, in the parameter's precision
