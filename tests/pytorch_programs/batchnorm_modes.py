# BatchNorm in training and evaluation mode: batch statistics versus running statistics,
# and how model.train() / model.eval() switch every submodule (Dropout too).
# compare: rtol=1e-4, atol=1e-6
import numpy as np
import torch
import torch.nn as nn

rng = np.random.default_rng(0)
batches = [
    torch.tensor(rng.normal(loc=2.0, scale=3.0, size=(16, 4)), dtype=torch.float32)
    for _ in range(5)
]

bn = nn.BatchNorm1d(4)
print("initial running mean:", bn.running_mean.tolist(), "var:", bn.running_var.tolist())
print("affine params:", [tuple(p.shape) for p in bn.parameters()], "momentum:", bn.momentum)
bn.train()
for xb in batches:
    out = bn(xb)
print("train output mean:", np.round(out.mean(dim=0).detach().numpy(), 5).tolist())
print("train output std:", np.round(out.std(dim=0, unbiased=False).detach().numpy(), 4).tolist())
print("running mean:", np.round(bn.running_mean.numpy(), 5).tolist())
print("running var:", np.round(bn.running_var.numpy(), 5).tolist())
print("batches tracked:", bn.num_batches_tracked.item())

bn.eval()
probe = batches[0][:3]
with torch.no_grad():
    evaluated = bn(probe)
expected = (probe - bn.running_mean) / torch.sqrt(bn.running_var + bn.eps)
print("eval uses running stats:", torch.allclose(evaluated, expected, atol=1e-5))
print("eval output row 0:", np.round(evaluated[0].numpy(), 5).tolist())
print("running mean unchanged in eval:", np.round(bn.running_mean.numpy(), 5).tolist())

model = nn.Sequential(
    nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 2)
)
model.eval()
print("all eval:", [m.training for m in model.modules()])
model.train()
print("all train:", [m.training for m in model.modules()])
model.eval()
with torch.no_grad():
    a = model(batches[1])
    b = model(batches[1])
print("eval deterministic:", torch.equal(a, b))

bn2 = nn.BatchNorm2d(3)
images = torch.tensor(rng.normal(size=(4, 3, 5, 5)), dtype=torch.float32)
y = bn2(images)
print("bn2d per-channel mean:", np.round(y.mean(dim=(0, 2, 3)).detach().numpy(), 5).tolist())
print("bn2d running var:", np.round(bn2.running_var.numpy(), 5).tolist())
print("state_dict keys:", list(bn2.state_dict().keys()))
