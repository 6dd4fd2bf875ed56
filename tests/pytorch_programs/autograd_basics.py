# Autograd: requires_grad, backward, .grad, no_grad, detach, and walking the graph.
# compare: rtol=1e-5
import numpy as np
import torch

rng = np.random.default_rng(0)
x = torch.tensor(rng.normal(size=(5, 3)), dtype=torch.float32)
y = torch.tensor(rng.normal(size=(5, 2)), dtype=torch.float32)
w = torch.tensor(rng.normal(size=(3, 2)), dtype=torch.float32, requires_grad=True)
b = torch.zeros(2, requires_grad=True)

z = x @ w + b
loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y.sigmoid())
print("requires_grad:", z.requires_grad, x.requires_grad, w.is_leaf, z.is_leaf)
print("loss:", round(loss.item(), 6))

# walk the graph from the loss back to the leaves
node = loss.grad_fn
depth = 0
while node is not None and node.next_functions:
    node = node.next_functions[0][0]
    depth += 1
print("graph depth > 1:", depth > 1)
a = torch.tensor([1.0, 2.0], requires_grad=True)
c = (a * a + a).sum()
print("c.grad_fn:", c.grad_fn.name())
print("next:", [f.name() for f, _ in c.grad_fn.next_functions])
add = c.grad_fn.next_functions[0][0]
print(
    "next of add:",
    add.next_functions[0][0].name(),
    "then a leaf:",
    add.next_functions[1][0].variable is a,
)

loss.backward()
print("w.grad:", np.round(w.grad.numpy(), 5).tolist())
print("b.grad:", np.round(b.grad.numpy(), 5).tolist())

# gradients accumulate until zeroed
loss2 = (x @ w + b).pow(2).sum()
loss2.backward()
print("accumulated b.grad:", np.round(b.grad.numpy(), 4).tolist())
w.grad.zero_()
b.grad.zero_()
print("zeroed:", w.grad.abs().sum().item(), b.grad.abs().sum().item())

# no_grad and detach
with torch.no_grad():
    z2 = x @ w + b
print("under no_grad requires_grad:", z2.requires_grad)
z3 = (x @ w).detach()
print("detached requires_grad:", z3.requires_grad, "grad_fn is None:", z3.grad_fn is None)
w.requires_grad_(False)
print("requires_grad_ off:", (x @ w).requires_grad)
w.requires_grad_(True)

# a scalar function and its derivative
t = torch.tensor(2.0, requires_grad=True)
f = t**3 + 2 * t
f.backward()
print("d/dt (t^3 + 2t) at 2:", t.grad.item())

# vector output: backward with a gradient argument
v = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
out = v * v
out.backward(torch.tensor([1.0, 0.1, 0.01]))
print("vector-Jacobian product:", v.grad.tolist())

# torch.autograd.grad leaves .grad alone
u = torch.tensor([0.5, -1.0], requires_grad=True)
(g,) = torch.autograd.grad((u.exp() * u).sum(), u)
print("autograd.grad:", np.round(g.numpy(), 6).tolist(), "u.grad is None:", u.grad is None)
