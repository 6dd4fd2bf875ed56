# A custom Dataset, a DataLoader over it and random_split into train and validation.
# compare: rtol=1e-5
# compare[final train loss]: below 0.02
# compare[final val loss]: below 0.02
# compare[first batch]: skip
import numpy as np
import torch
from torch import nn, optim
from torch.utils.data import DataLoader, Dataset, TensorDataset, random_split


class LineDataset(Dataset):
    """y = 3x - 1 plus a little noise, made with NumPy so both frameworks see the same data."""

    def __init__(self, n):
        rng = np.random.default_rng(0)
        self.x = rng.uniform(-1, 1, size=(n, 1)).astype(np.float32)
        self.y = (3 * self.x - 1 + 0.05 * rng.normal(size=(n, 1))).astype(np.float32)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, idx):
        return torch.from_numpy(self.x[idx]), torch.from_numpy(self.y[idx])


full = LineDataset(200)
print("dataset length:", len(full))
x0, y0 = full[0]
print("one item:", tuple(x0.shape), tuple(y0.shape), round(float(x0), 5), round(float(y0), 5))

ordered = DataLoader(full, batch_size=64, shuffle=False)
print("batches:", len(ordered), [tuple(xb.shape) for xb, _ in ordered])
xb, yb = next(iter(ordered))
print("first ordered batch sum:", round(xb.sum().item(), 4), xb.dtype == torch.float32)

generator = torch.Generator().manual_seed(42)
train_set, val_set = random_split(full, [160, 40], generator=generator)
print("split sizes:", len(train_set), len(val_set))
print("disjoint:", len(set(train_set.indices) & set(val_set.indices)) == 0)
train_loader = DataLoader(train_set, batch_size=32, shuffle=True)
val_loader = DataLoader(val_set, batch_size=40)

tensors = TensorDataset(torch.arange(10.0).unsqueeze(1), torch.arange(10))
xs, ys = tensors[3]
print("TensorDataset item:", xs.tolist(), ys.item(), len(tensors))
for xb, yb in DataLoader(tensors, batch_size=4, drop_last=True):
    print("batch:", xb.squeeze(1).tolist(), yb.tolist())
first = next(iter(train_loader))[0]
print("first batch:", tuple(first.shape))

model = nn.Linear(1, 1)
loss_fn = nn.MSELoss()
opt = optim.SGD(model.parameters(), lr=0.1)
for epoch in range(30):
    model.train()
    total = 0.0
    for xb, yb in train_loader:
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        total += loss.item() * len(xb)
    model.eval()
    with torch.no_grad():
        val = sum(loss_fn(model(xb), yb).item() * len(xb) for xb, yb in val_loader) / len(val_set)
print(f"final train loss: {total / len(train_set):.5f}")
print(f"final val loss: {val:.5f}")
