"""``ds.data``: datasets, batching, splits, standardization and file readers.

>>> X, y = np.random.default_rng(0).normal(size=(10, 3)), np.arange(10) % 2
>>> X_tr, X_val, X_te, y_tr, y_val, y_te = ds.data.train_val_test_split(X, y, seed=0)
>>> scaler = ds.data.Standardizer().fit(X_tr)
>>> loader = ds.data.DataLoader(
...     ds.data.TensorDataset(scaler.transform(X_tr), y_tr), batch_size=4, shuffle=True
... )
>>> [xb.shape for xb, yb in loader]
[descent.Size([4, 3]), descent.Size([2, 3])]
"""

from ..ops.nn import one_hot
from .dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split
from .loader import (
    Batch,
    BatchSampler,
    DataLoader,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
    collate,
    get_worker_info,
)
from .readers import CSVColumns, DataFormatError, read_csv, read_idx, read_npz, write_idx
from .sampler import DistributedSampler
from .split import train_val_test_split
from .transforms import Standardizer

__all__ = [
    "Dataset", "TensorDataset", "Subset", "random_split", "DataLoader", "Batch", "collate",
    "Sampler", "SequentialSampler", "RandomSampler", "BatchSampler",
    "train_val_test_split", "Standardizer", "one_hot",
    "read_csv", "read_npz", "read_idx", "write_idx", "CSVColumns", "DataFormatError",
    "ConcatDataset", "SubsetRandomSampler", "get_worker_info", "WeightedRandomSampler",
    "DistributedSampler",
]  # fmt: skip
