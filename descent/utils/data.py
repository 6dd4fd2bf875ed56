"""``ds.utils.data``: ``torch.utils.data``'s names for descent's data pipeline, the same
objects as ``ds.data``'s (``default_collate`` is ``ds.data.collate``).

>>> from descent.utils.data import DataLoader, TensorDataset
>>> loader = DataLoader(TensorDataset(np.arange(6.0).reshape(3, 2)), batch_size=2)
>>> [x.shape for (x,) in loader]
[descent.Size([2, 2]), descent.Size([1, 2])]
"""

from ..data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    RandomSampler,
    Sampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    get_worker_info,
    random_split,
)
from ..data import collate as default_collate

__all__ = [
    "Dataset", "TensorDataset", "Subset", "random_split", "DataLoader", "default_collate",
    "Sampler", "SequentialSampler", "RandomSampler", "BatchSampler",
    "ConcatDataset", "SubsetRandomSampler", "get_worker_info", "WeightedRandomSampler",
]  # fmt: skip
