"""scikit-learn's estimator protocol: BaseEstimator (get/set_params, repr, tags) and the mixins.

Estimators follow scikit-learn's conventions (its ``doc/developers/develop.rst``):
``__init__`` stores its arguments as attributes of the same name and does nothing else,
``fit`` returns ``self``, and what ``fit`` learns ends in an underscore (``coef_``,
``classes_``, ``n_features_in_``, ``loss_curve_``). So ``get_params``/``set_params`` read
the hyperparameters from the ``__init__`` signature and ``sklearn.base.clone`` works.
"""

from __future__ import annotations

import html
import inspect

import numpy as np

from ..tensor import array_of
from ..train.metrics import r2
from .checks import as_labels, check_array, check_is_fitted
from .errors import ConvergenceWarning, DataConversionWarning, IllConditionedWarning, NotFittedError

# The errors and the two public checks live in errors.py and checks.py; this module, where
# they were first defined, still names them.
__all__ = [
    "BaseEstimator", "ClassifierMixin", "RegressorMixin", "TransformerMixin", "ClusterMixin",
    "NotFittedError", "ConvergenceWarning", "IllConditionedWarning", "DataConversionWarning",
    "check_array", "check_is_fitted",
]  # fmt: skip


class BaseEstimator:
    """Hyperparameters from the ``__init__`` signature: ``get_params``, ``set_params``, repr.

    A subclass's ``__init__`` names every hyperparameter explicitly (no ``*args`` or
    ``**kwargs``) and stores each one unchanged under its own name.

    >>> est = ds.models.LogisticRegression(C=0.5)
    >>> est.get_params()["C"]
    0.5
    >>> est.set_params(C=2.0).C
    2.0
    """

    _estimator_type: str | None = None

    @classmethod
    def _get_param_names(cls) -> list[str]:
        init = cls.__init__
        if init is object.__init__:
            return []
        names = []
        for p in inspect.signature(init).parameters.values():
            if p.name == "self":
                continue
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise TypeError(
                    f"{cls.__name__}.__init__ takes *args or **kwargs; an estimator must name "
                    f"each hyperparameter so get_params can find it"
                )
            names.append(p.name)
        return sorted(names)

    def get_params(self, deep: bool = True) -> dict:
        """The hyperparameters as ``{name: value}``; with ``deep``, also those of nested
        estimators as ``name__param``."""
        out = {}
        for name in self._get_param_names():
            value = getattr(self, name)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                for sub, sub_value in value.get_params().items():
                    out[f"{name}__{sub}"] = sub_value
            out[name] = value
        return out

    def set_params(self, **params) -> BaseEstimator:
        """Set hyperparameters by name (``name__param`` reaches into a nested estimator);
        returns ``self``. An unknown name raises a ValueError listing the valid ones."""
        if not params:
            return self
        valid = self.get_params(deep=True)
        nested: dict[str, dict] = {}
        for key, value in params.items():
            name, _, sub = key.partition("__")
            if name not in valid:
                raise ValueError(
                    f"Invalid parameter {name!r} for estimator {type(self).__name__}; valid "
                    f"parameters are {self._get_param_names()}"
                )
            if sub:
                nested.setdefault(name, {})[sub] = value
            else:
                setattr(self, name, value)
                valid[name] = value
        for name, sub_params in nested.items():
            valid[name].set_params(**sub_params)
        return self

    def __repr__(self) -> str:
        # Like scikit-learn: only the hyperparameters that differ from their defaults.
        defaults = {
            p.name: p.default for p in inspect.signature(type(self).__init__).parameters.values()
        }
        changed = []
        for name in self._get_param_names():
            value = getattr(self, name, None)
            default = defaults.get(name, inspect.Parameter.empty)
            if not _same_value(value, default):
                changed.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(changed)})"

    # ---- Jupyter: scikit-learn's convention, an HTML box beside the text repr ------------

    def _repr_html_(self) -> str:
        """The estimator in Jupyter: its repr in a collapsible box holding every parameter
        (those changed from their defaults in bold), whether it is fitted, and what ``fit``
        learned (the attributes ending in ``_``) with their shapes."""
        e = html.escape
        defaults = {
            p.name: p.default for p in inspect.signature(type(self).__init__).parameters.values()
        }
        rows = []
        for name in self._get_param_names():
            value = getattr(self, name, None)
            changed = not _same_value(value, defaults.get(name, inspect.Parameter.empty))
            text = e(_short_repr(value))
            cell = f"<b>{text}</b>" if changed else text
            rows.append(f"<tr><td>{e(name)}</td><td>{cell}</td></tr>")
        learned = [
            f"<tr><td>{e(k)}</td><td>{e(_shape_of(v))}</td></tr>"
            for k, v in vars(self).items()
            if k.endswith("_") and not k.startswith("_")
        ]
        fitted = "fitted" if learned else "not fitted"
        box = [
            f'<details class="descent-estimator" style="border:1px solid #999; '
            f'border-radius:4px; padding:4px 8px; display:inline-block">'
            f"<summary><code>{e(repr(self))}</code> <i>({fitted})</i></summary>",
            '<table><thead><tr><th>parameter</th><th>value</th></tr></thead><tbody>'
            + "".join(rows) + "</tbody></table>",
        ]  # fmt: skip
        if learned:
            box.append(
                "<table><thead><tr><th>learned by fit</th><th>shape or value</th></tr></thead>"
                "<tbody>" + "".join(learned) + "</tbody></table>"
            )
        box.append("</details>")
        return "\n".join(box)

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        return {"text/plain": repr(self), "text/html": self._repr_html_()}

    def to_module(self, method: str = "predict"):
        """An ``nn.Module`` that computes ``self.method(X)`` from raw X (N, d): the same
        arithmetic in float64, in eval mode, with its own copy of the learned weights.

        It is how a fitted estimator leaves ``ds.models``: ``ds.onnx.export(estimator, ...,
        method=...)`` exports this module. Each estimator names the methods it has a module
        for (``predict`` everywhere; ``predict_proba``, ``decision_function``, ``transform``
        where they exist); a classifier's ``predict`` module returns the labels of
        ``classes_`` (a NumPy array), the others Tensors.

        >>> clf = ds.models.SoftmaxRegression(random_state=0).fit(X, y)  # doctest: +SKIP
        >>> clf.to_module("predict_proba")(ds.tensor(X[:2], dtype=ds.float64))  # doctest: +SKIP
        """
        builders = self._module_builders()
        if method not in builders:
            raise ValueError(
                f"{type(self).__name__}.to_module: no module for {method!r}; this "
                f"{type(self).__name__} has one for {sorted(builders) or 'no method'}"
            )
        check_is_fitted(self, "n_features_in_")  # every fit sets it, as scikit-learn's do
        return builders[method]().double().eval()

    def _module_builders(self) -> dict:
        """{method name: a function building its module}; see ``to_module``."""
        return {}

    def __sklearn_is_fitted__(self) -> bool:
        return any(k.endswith("_") and not k.startswith("__") for k in vars(self))

    def __sklearn_tags__(self):
        # Called by scikit-learn only (cross_val_score, GridSearchCV, is_classifier ...),
        # so scikit-learn is importable whenever this runs.
        from sklearn.utils import (  # noqa: PLC0415 - optional dependency
            ClassifierTags,
            RegressorTags,
            Tags,
            TargetTags,
            TransformerTags,
        )

        kind = self._estimator_type
        tags = Tags(estimator_type=kind, target_tags=TargetTags(required=False))
        if kind == "classifier":
            tags.classifier_tags = ClassifierTags()
            tags.target_tags.required = True
        elif kind == "regressor":
            tags.regressor_tags = RegressorTags()
            tags.target_tags.required = True
            tags.target_tags.multi_output = True  # each regressor here takes y (n, k)
        if hasattr(self, "transform"):
            tags.transformer_tags = TransformerTags()
        return tags


def _short_repr(value, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _shape_of(value) -> str:
    """An array's shape, a list's length, or a short value."""
    shape = getattr(value, "shape", None)
    if shape is not None and not callable(shape):
        return f"shape {tuple(shape)}"
    if isinstance(value, (list, tuple)) and len(value) > 4:
        return f"{type(value).__name__} of {len(value)}"
    return _short_repr(value, 60)


def _same_value(a, b) -> bool:
    if a is b:
        return True
    try:
        return bool(type(a) is type(b) and a == b)
    except (TypeError, ValueError):
        return False


# ---- mixins: what each kind of estimator adds ----------------------------------------------


class ClassifierMixin:
    """``score`` is the accuracy: the fraction of examples whose predicted label is right."""

    _estimator_type = "classifier"

    def score(self, X, y, sample_weight=None) -> float:  # noqa: N803 - scikit-learn's X
        y = as_labels(y, "score")
        right = (self.predict(X) == y).astype(np.float64)
        return float(np.average(right, weights=sample_weight))


class RegressorMixin:
    """``score`` is $R^2 = 1 - SS_{res} / SS_{tot}$ (averaged over outputs), as scikit-learn."""

    _estimator_type = "regressor"

    def score(self, X, y, sample_weight=None) -> float:  # noqa: N803
        y = np.asarray(array_of(y), dtype=np.float64)
        pred = np.asarray(self.predict(X), dtype=np.float64).reshape(y.shape)
        return r2(pred, y, sample_weight)


class TransformerMixin:
    """``fit_transform(X, y)`` is ``fit(X, y).transform(X)``."""

    def fit_transform(self, X, y=None):  # noqa: N803
        return self.fit(X, y).transform(X)


class ClusterMixin:
    """``fit_predict(X)`` is ``fit(X).labels_``."""

    _estimator_type = "clusterer"

    def fit_predict(self, X, y=None):  # noqa: N803
        return self.fit(X).labels_
