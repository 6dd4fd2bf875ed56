# Saving and loading a state_dict: torch.save(model.state_dict(), path), then
# model.load_state_dict(torch.load(path)) into a fresh model; an optimizer's state too.
# compare: rtol=1e-6
import os
import tempfile

import numpy as np
import torch
import torch.nn as nn


class TinyNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(3, 5)
        self.norm = nn.BatchNorm1d(5)
        self.head = nn.Linear(5, 2)

    def forward(self, x):
        return self.head(torch.relu(self.norm(self.hidden(x))))


torch.manual_seed(0)
rng = np.random.default_rng(0)
X = torch.tensor(rng.normal(size=(32, 3)), dtype=torch.float32)
target = torch.tensor(rng.integers(0, 2, size=32))
model = TinyNet()
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
for _ in range(20):
    optimizer.zero_grad()
    loss = nn.functional.cross_entropy(model(X), target)
    loss.backward()
    optimizer.step()
model.eval()

folder = tempfile.mkdtemp()
path = os.path.join(folder, "model.pth")
torch.save(model.state_dict(), path)
print("saved keys:", list(model.state_dict().keys()))
print("file exists:", os.path.exists(path))

restored = TinyNet()
result = restored.load_state_dict(torch.load(path))
print("load result:", list(result.missing_keys), list(result.unexpected_keys))
restored.eval()
with torch.no_grad():
    same = torch.equal(model(X), restored(X))
print("same outputs after load:", same)
print("same running mean:", torch.equal(model.norm.running_mean, restored.norm.running_mean))

state = torch.load(path, weights_only=True)
print("loaded value types:", sorted({type(v).__name__ for v in state.values()}))
print("hidden.weight shape:", tuple(state["hidden.weight"].shape))

checkpoint = {
    "epoch": 20,
    "model_state_dict": model.state_dict(),
    "optimizer_state_dict": optimizer.state_dict(),
    "loss": loss.item(),
}
ckpt_path = os.path.join(folder, "checkpoint.tar")
torch.save(checkpoint, ckpt_path)
loaded = torch.load(ckpt_path)
fresh = TinyNet()
fresh_opt = torch.optim.Adam(fresh.parameters(), lr=0.01)
fresh.load_state_dict(loaded["model_state_dict"])
fresh_opt.load_state_dict(loaded["optimizer_state_dict"])
print("checkpoint epoch:", loaded["epoch"], "loss matches:", loaded["loss"] == loss.item())
print("optimizer lr:", fresh_opt.param_groups[0]["lr"])

# training continues identically from the restored optimizer state
model.train()
fresh.train()
for m, opt in ((model, optimizer), (fresh, fresh_opt)):
    opt.zero_grad()
    nn.functional.cross_entropy(m(X), target).backward()
    opt.step()
print(
    "resumed step identical:",
    all(torch.equal(a, b) for a, b in zip(model.parameters(), fresh.parameters())),
)

try:
    restored.load_state_dict({"hidden.weight": torch.zeros(5, 3)})
except RuntimeError:
    print("strict load of a partial state_dict raises RuntimeError")
partial = restored.load_state_dict({"hidden.weight": torch.zeros(5, 3)}, strict=False)
print("non-strict missing:", len(partial.missing_keys))
