"""``ds.nn.utils``: torch.nn.utils' helpers over a model's parameters.

Gradient clipping is ``descent/clip.py``'s (the same functions ``ds.optim`` offers);
``parameters_to_vector`` and ``vector_to_parameters`` flatten parameters into one vector
and back.

>>> total = ds.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
>>> flat = ds.nn.utils.parameters_to_vector(model.parameters())
"""

from __future__ import annotations

from collections.abc import Iterable

from ..autograd import no_grad
from ..clip import clip_grad_norm_, clip_grad_value_
from ..ops.shape import cat
from ..tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "vector_to_parameters"]


def _tensors(parameters, who: str) -> list[Tensor]:
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    for p in params:
        if not isinstance(p, Tensor):
            raise TypeError(f"{who}: expected a Tensor, but got {type(p).__name__}")
    return params


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """The parameters flattened and joined into one vector, in order (differentiable, as
    in PyTorch).

    >>> ds.nn.utils.parameters_to_vector(ds.nn.Linear(3, 2).parameters()).shape
    descent.Size([8])
    """
    params = _tensors(parameters, "parameters_to_vector")
    if not params:
        raise ValueError("parameters_to_vector: there are no parameters to join")
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of the vector ``vec`` into the parameters, in order: the
    inverse of ``parameters_to_vector`` (no gradient flows)."""
    if not isinstance(vec, Tensor):
        raise TypeError(
            f"vector_to_parameters: expected a Tensor for vec, got {type(vec).__name__}"
        )
    params = _tensors(parameters, "vector_to_parameters")
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.shape[0] != total:
        raise ValueError(
            f"vector_to_parameters: vec has shape {tuple(vec.shape)}, but the parameters "
            f"hold {total} numbers; pass a 1-D vector of that length"
        )
    start = 0
    with no_grad():
        for p in params:
            n = p.numel()
            p.copy_(vec[start : start + n].reshape(p.shape))
            start += n
