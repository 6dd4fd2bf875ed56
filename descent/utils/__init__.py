"""``ds.utils``: PyTorch's paths (``torch.utils.data``) to the parts that descent keeps
under its own names."""

from . import data

__all__ = ["data"]
