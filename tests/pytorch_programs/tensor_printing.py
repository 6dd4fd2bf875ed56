# What printing a tensor and its dtype shows: the lines a PyTorch user reads all day.
# compare: exact
import torch

x = torch.tensor([[1, 2], [3, 4]])
print(x)
print(x.dtype)
y = torch.tensor([0.5, 1.5], dtype=torch.float64)
print(y)
print(y.dtype, y.shape)
w = torch.ones(3, requires_grad=True)
print(w * 2)
print(torch.zeros(2, 2).device)
print(x.shape, x.size())
a = torch.tensor([1.0, 2.0], requires_grad=True)
c = (a * a).sum()
print(c.grad_fn.name(), c.grad_fn.next_functions[0][0].next_functions[0][0].name())
