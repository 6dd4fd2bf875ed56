# Tensor basics: creation, indexing and slicing, dtypes and .to, devices, the NumPy bridge.
# compare: exact
import numpy as np
import torch

device = "cuda" if torch.cuda.is_available() else "cpu"
print("cuda available:", torch.cuda.is_available())

# creation
data = [[1, 2, 3], [4, 5, 6]]
t = torch.tensor(data)
print("from list:", t.tolist(), "shape", tuple(t.shape), "is_floating_point", t.is_floating_point())
zeros = torch.zeros(2, 3)
ones = torch.ones_like(zeros)
full = torch.full((2, 2), 7.5)
steps = torch.arange(0, 10, 3)
grid = torch.linspace(0.0, 1.0, steps=5)
ident = torch.eye(3)
print("zeros sum:", zeros.sum().item(), "ones sum:", ones.sum().item())
print("full:", full.tolist())
print("arange:", steps.tolist())
print("linspace:", grid.tolist())
print("eye sum:", ident.sum().item())
print("size:", tuple(t.size()), t.size(0), t.numel(), t.ndim)

# indexing and slicing
m = torch.arange(12).reshape(3, 4)
print("row 1:", m[1].tolist())
print("column 2:", m[:, 2].tolist())
print("last column:", m[..., -1].tolist())
print("block:", m[1:, ::2].tolist())
print("mask:", m[m % 2 == 0].tolist())
print("fancy:", m[[0, 2], [1, 3]].tolist())
m[0, 0] = 100
m[:, 1] = 0
print("assigned:", m.tolist())

# arithmetic and dtypes
a = torch.tensor([1.0, 2.0, 3.0])
b = torch.tensor([4.0, 5.0, 6.0])
print("add:", (a + b).tolist(), "mul:", (a * b).tolist(), "dot:", torch.dot(a, b).item())
print("matmul:", (m.float() @ torch.ones(4)).tolist())
print("dtype float default is float32:", a.dtype == torch.float32)
i = a.to(torch.int64)
print("to int64:", i.tolist(), i.dtype == torch.int64, i.dtype == torch.long)
d = a.double()
print("double:", d.dtype == torch.float64, "back to float:", d.float().dtype == torch.float32)
moved = a.to(device)
print("on device:", moved.device.type == device, moved.tolist())
h = torch.tensor([1, 2, 3], dtype=torch.float32)
print("dtype kw:", h.dtype == torch.float32, h.tolist())

# NumPy bridge: from_numpy and .numpy() share memory
arr = np.arange(4.0)
shared = torch.from_numpy(arr)
arr[0] = -1.0
print("from_numpy sees numpy change:", shared.tolist(), shared.dtype == torch.float64)
back = ones.numpy()
ones.add_(1)
print("numpy sees tensor change:", back.tolist())
copy = torch.tensor(arr)
arr[1] = -2.0
print("torch.tensor copies:", copy.tolist())

# reshaping, joining, reductions
x = torch.arange(6.0).view(2, 3)
print("transpose:", x.t().tolist(), "flatten:", x.flatten().tolist())
print(
    "cat dim0:", tuple(torch.cat([x, x], dim=0).shape), "stack:", tuple(torch.stack([x, x]).shape)
)
print("unsqueeze:", tuple(x.unsqueeze(0).shape), "squeeze:", tuple(x.unsqueeze(1).squeeze(1).shape))
print("sum dim1:", x.sum(dim=1).tolist(), "mean:", x.mean().item(), "max:", x.max().item())
values, indices = x.max(dim=1)
print("max dim1:", values.tolist(), indices.tolist(), "argmax:", x.argmax().item())
print("item of scalar:", torch.tensor(3.5).item())
