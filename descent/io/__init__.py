"""Files: checkpoints in safetensors (``ds.save`` / ``ds.load``)."""

from .checkpoint import CheckpointError, load, save
from .files import atomic_write

__all__ = ["save", "load", "CheckpointError", "atomic_write"]
