# A custom nn.Module: layers in an nn.ModuleList, a forward with Python control flow
# (a loop whose length depends on the input and a branch), parameters counted and named.
# compare: rtol=1e-5
# compare[final loss]: below 0.05
# compare[first loss]: skip
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


class ResidualStack(nn.Module):
    def __init__(self, features, hidden, depth):
        super().__init__()
        self.inp = nn.Linear(features, hidden)
        self.blocks = nn.ModuleList([nn.Linear(hidden, hidden) for _ in range(depth)])
        self.out = nn.Linear(hidden, 1)
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, x, depth=None):
        h = torch.tanh(self.inp(x))
        depth = len(self.blocks) if depth is None else depth
        for i, block in enumerate(self.blocks):
            if i >= depth:
                break
            update = F.relu(block(h))
            h = h + update if i % 2 == 0 else h - 0.5 * update
        return self.scale * self.out(h)


model = ResidualStack(features=2, hidden=16, depth=3)
n_params = sum(p.numel() for p in model.parameters())
print("parameters:", n_params)
print(
    "names:",
    [name for name, _ in model.named_parameters()][:4],
    len(list(model.named_parameters())),
)
print("blocks:", len(model.blocks), "children:", len(list(model.children())))
print("is module:", isinstance(model.blocks[1], nn.Linear), model.training)

rng = np.random.default_rng(0)
X = torch.tensor(rng.uniform(-1, 1, size=(256, 2)), dtype=torch.float32)
y = (X[:, :1] * X[:, 1:] + 0.5 * X[:, :1] ** 2).float()

optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
for epoch in range(200):
    depth = 1 + epoch % 3  # a different graph each step
    pred = model(X, depth=depth)
    loss = F.mse_loss(pred, y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if epoch == 0:
        print(f"first loss: {loss.item():.5f}")
with torch.no_grad():
    final = F.mse_loss(model(X), y).item()
print(f"final loss: {final:.5f}")
