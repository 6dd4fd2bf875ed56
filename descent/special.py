"""``ds.special``: PyTorch's ``torch.special`` names for the special functions descent has."""

from .ops.elementwise import erf

__all__ = ["erf"]
