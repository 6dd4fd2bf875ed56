"""Files: checkpoints in safetensors (``ds.save`` / ``ds.load``)."""

from .checkpoint import CheckpointError, load, load_file, load_metadata, save
from .files import atomic_write, remove_stale_temporaries
from .plain import plain_data

__all__ = [
    "save",
    "load",
    "load_file",
    "load_metadata",
    "CheckpointError",
    "atomic_write",
    "plain_data",
    "remove_stale_temporaries",
]
