"""``ds.utils.tensorboard``: ``torch.utils.tensorboard``'s ``SummaryWriter`` (the writer of
``descent/io/tensorboard.py``; it needs the ``descent[tensorboard]`` extra).

>>> from descent.utils.tensorboard import SummaryWriter
>>> with SummaryWriter("runs/exp1") as writer:  # doctest: +SKIP
...     writer.add_scalar("loss", 0.5, global_step=0)
"""

from ..io.tensorboard import SummaryWriter

__all__ = ["SummaryWriter"]
