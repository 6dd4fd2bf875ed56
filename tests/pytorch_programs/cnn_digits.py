# A small CNN on scikit-learn's 8x8 digits: Conv2d, MaxPool2d, CrossEntropyLoss,
# SGD with momentum, a training loop and accuracy through torch.max(outputs.data, 1).
# compare: rtol=1e-5
# compare[epoch]: skip
# compare[test accuracy]: above 85
# compare[per-class correct]: skip
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from sklearn.datasets import load_digits
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
digits = load_digits()
images = (digits.images / 16.0).astype(np.float32)[:, None, :, :]  # N, 1, 8, 8
labels = digits.target.astype(np.int64)
order = np.random.default_rng(0).permutation(len(labels))
train_idx, test_idx = order[:1400], order[1400:]
train_set = TensorDataset(torch.from_numpy(images[train_idx]), torch.from_numpy(labels[train_idx]))
test_set = TensorDataset(torch.from_numpy(images[test_idx]), torch.from_numpy(labels[test_idx]))
trainloader = DataLoader(train_set, batch_size=32, shuffle=True)
testloader = DataLoader(test_set, batch_size=100, shuffle=False)
print("train/test:", len(train_set), len(test_set))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.fc1 = nn.Linear(16 * 2 * 2, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        return self.fc2(x)


net = Net()
print("output shape:", tuple(net(torch.zeros(2, 1, 8, 8)).shape))
criterion = nn.CrossEntropyLoss()
optimizer = optim.SGD(net.parameters(), lr=0.05, momentum=0.9)

for epoch in range(6):
    running_loss = 0.0
    for i, data in enumerate(trainloader, 0):
        inputs, targets = data
        optimizer.zero_grad()
        outputs = net(inputs)
        loss = criterion(outputs, targets)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
    print(f"epoch {epoch + 1} loss: {running_loss / len(trainloader):.3f}")

correct = 0
total = 0
class_correct = [0] * 10
with torch.no_grad():
    for inputs, targets in testloader:
        outputs = net(inputs)
        _, predicted = torch.max(outputs.data, 1)
        total += targets.size(0)
        correct += (predicted == targets).sum().item()
        for t, p in zip(targets, predicted):
            class_correct[t.item()] += int(t == p)
print(f"test accuracy: {100 * correct / total:.1f}")
print("per-class correct:", class_correct)
