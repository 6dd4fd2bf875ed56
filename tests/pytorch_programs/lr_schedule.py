# Learning-rate schedules: StepLR and OneCycleLR stepping per epoch / per batch, printing
# the learning rate as training goes.
# compare: rtol=1e-5
import numpy as np
import torch
from torch import nn, optim
from torch.optim.lr_scheduler import OneCycleLR, StepLR

rng = np.random.default_rng(0)
X = torch.tensor(rng.normal(size=(64, 4)), dtype=torch.float32)
y = X @ torch.tensor([[1.0], [-2.0], [0.5], [3.0]])

model = nn.Linear(4, 1)
with torch.no_grad():
    model.weight.zero_()
    model.bias.zero_()
optimizer = optim.SGD(model.parameters(), lr=0.1)
scheduler = StepLR(optimizer, step_size=3, gamma=0.5)
loss_fn = nn.MSELoss()
for epoch in range(8):
    for i in range(0, 64, 16):
        optimizer.zero_grad()
        loss = loss_fn(model(X[i : i + 16]), y[i : i + 16])
        loss.backward()
        optimizer.step()
    print(f"epoch {epoch}: lr {scheduler.get_last_lr()[0]:.6f} loss {loss.item():.6f}")
    scheduler.step()
print("after StepLR:", optimizer.param_groups[0]["lr"])

model = nn.Linear(4, 1)
with torch.no_grad():
    model.weight.zero_()
    model.bias.zero_()
optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
steps_per_epoch, epochs = 4, 5
onecycle = OneCycleLR(optimizer, max_lr=0.1, steps_per_epoch=steps_per_epoch, epochs=epochs)
lrs = []
for epoch in range(epochs):
    for i in range(steps_per_epoch):
        xb, yb = X[i * 16 : (i + 1) * 16], y[i * 16 : (i + 1) * 16]
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        lrs.append(onecycle.get_last_lr()[0])
        onecycle.step()
    print(
        f"onecycle epoch {epoch}: lr {optimizer.param_groups[0]['lr']:.6f} momentum {optimizer.param_groups[0]['momentum']:.4f} loss {loss.item():.6f}"
    )
print("peak lr:", round(max(lrs), 6), "at step", int(np.argmax(lrs)))
