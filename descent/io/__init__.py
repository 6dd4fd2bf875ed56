"""Files: checkpoints in safetensors (``ds.save`` / ``ds.load``)."""

from .checkpoint import CheckpointError, load, save

__all__ = ["save", "load", "CheckpointError"]
