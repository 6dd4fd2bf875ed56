# Fitting y = sin(x) with a cubic four ways: raw tensors with gradients by hand, autograd,
# nn.Sequential with a manual update, and an optimizer.
# compare: rtol=1e-3
import math

import torch
from torch import nn

x = torch.linspace(-math.pi, math.pi, 1000)
y = torch.sin(x)
steps, lr = 500, 1e-6

# 1. tensors, gradients by hand
a, b, c, d = (torch.tensor(v) for v in (0.1, 0.2, -0.1, 0.05))
for t in range(steps):
    y_pred = a + b * x + c * x**2 + d * x**3
    loss = (y_pred - y).pow(2).sum().item()
    grad_y_pred = 2.0 * (y_pred - y)
    a -= lr * grad_y_pred.sum()
    b -= lr * (grad_y_pred * x).sum()
    c -= lr * (grad_y_pred * x**2).sum()
    d -= lr * (grad_y_pred * x**3).sum()
print(
    f"by hand: loss {loss:.4f} y = {a.item():.5f} + {b.item():.5f} x + {c.item():.5f} x^2 + {d.item():.5f} x^3"
)

# 2. autograd, updating under no_grad
a, b, c, d = (torch.tensor(v, requires_grad=True) for v in (0.1, 0.2, -0.1, 0.05))
for t in range(steps):
    y_pred = a + b * x + c * x**2 + d * x**3
    loss = (y_pred - y).pow(2).sum()
    loss.backward()
    with torch.no_grad():
        a -= lr * a.grad
        b -= lr * b.grad
        c -= lr * c.grad
        d -= lr * d.grad
        a.grad = None
        b.grad = None
        c.grad.zero_()
        d.grad.zero_()
print(
    f"autograd: loss {loss.item():.4f} y = {a.item():.5f} + {b.item():.5f} x + {c.item():.5f} x^2 + {d.item():.5f} x^3"
)

# 3. nn.Sequential on the features (x, x^2, x^3), updating model.parameters() by hand
p = torch.tensor([1, 2, 3])
xx = x.unsqueeze(-1).pow(p)
model = nn.Sequential(nn.Linear(3, 1), nn.Flatten(0, 1))
with torch.no_grad():
    model[0].weight.copy_(torch.tensor([[0.2, -0.1, 0.05]]))
    model[0].bias.fill_(0.1)
loss_fn = nn.MSELoss(reduction="sum")
for t in range(steps):
    loss = loss_fn(model(xx), y)
    model.zero_grad()
    loss.backward()
    with torch.no_grad():
        for param in model.parameters():
            param -= lr * param.grad
layer = model[0]
w = layer.weight[0]
print(
    f"nn: loss {loss.item():.4f} y = {layer.bias.item():.5f} + {w[0].item():.5f} x + {w[1].item():.5f} x^2 + {w[2].item():.5f} x^3"
)

# 4. an optimizer does the update
model = nn.Sequential(nn.Linear(3, 1), nn.Flatten(0, 1))
with torch.no_grad():
    model[0].weight.copy_(torch.tensor([[0.2, -0.1, 0.05]]))
    model[0].bias.fill_(0.1)
optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3)
for t in range(steps):
    loss = loss_fn(model(xx), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if t % 250 == 249:
        print(f"optim step {t + 1}: loss {loss.item():.4f}")
w = model[0].weight.detach().squeeze()
print(f"optim: y = {model[0].bias.item():.5f} + {w[0]:.5f} x + {w[1]:.5f} x^2 + {w[2]:.5f} x^3")
