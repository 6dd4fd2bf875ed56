# A custom autograd Function: forward and backward as staticmethods, ctx.save_for_backward,
# used through .apply inside a small fit.
# compare: rtol=1e-4
import numpy as np
import torch


class LegendreP3(torch.autograd.Function):
    """P3(x) = (5x^3 - 3x) / 2, with its derivative written by hand."""

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input**3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input**2 - 1)


class ScaledSquare(torch.autograd.Function):
    """scale * x^2 with a non-tensor argument, whose gradient is None."""

    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x)
        ctx.scale = scale
        return scale * x * x

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * 2 * ctx.scale * x, None


x = torch.tensor([-1.0, -0.5, 0.0, 0.5, 1.0], requires_grad=True)
y = LegendreP3.apply(x)
y.sum().backward()
print("P3:", np.round(y.detach().numpy(), 6).tolist())
print("dP3/dx:", np.round(x.grad.numpy(), 6).tolist())

s = torch.tensor([3.0], requires_grad=True)
ScaledSquare.apply(s, 0.5).backward()
print("d(0.5 s^2)/ds at 3:", s.grad.item())

# fit y = a + b * P3(c + d x) to sin(x) on [-pi, pi]
xs = torch.linspace(-np.pi, np.pi, 200)
ys = torch.sin(xs)
a = torch.tensor(0.0, requires_grad=True)
b = torch.tensor(-1.0, requires_grad=True)
c = torch.tensor(0.0, requires_grad=True)
d = torch.tensor(0.3, requires_grad=True)
lr = 2e-5
for step in range(300):
    pred = a + b * LegendreP3.apply(c + d * xs)
    loss = (pred - ys).pow(2).sum()
    if step % 100 == 99:
        print(f"step {step + 1}: loss {loss.item():.4f}")
    loss.backward()
    with torch.no_grad():
        for p in (a, b, c, d):
            p -= lr * p.grad
            p.grad = None
print(f"result: y = {a.item():.5f} + {b.item():.5f} * P3({c.item():.5f} + {d.item():.5f} x)")
