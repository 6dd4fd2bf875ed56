"""``ds.utils``: PyTorch's paths (``torch.utils.data``, ``torch.utils.tensorboard``) to the
parts that descent keeps under its own names. tensorboardX is imported only when a
``SummaryWriter`` is made."""

from . import data, tensorboard

__all__ = ["data", "tensorboard"]
