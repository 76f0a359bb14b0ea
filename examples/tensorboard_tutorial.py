"""PyTorch's official TensorBoard tutorial ("Visualizing Models, Data, and Training with
TensorBoard"), step by step, with one change: the SummaryWriter import is vizlab's.

The tutorial uses FashionMNIST; this copy reads the real MNIST files (no download) and names the
digits. Everything else is the tutorial's code, including writer.close() between the steps and the
logging after it.

    vizlab serve --detach --port 8097
    VISDOM_PORT=8097 python examples/tensorboard_tutorial.py --data ../shared/data
    # --batches N: the training and the test loop stop after N mini-batches each (the tutorial
    # runs one epoch and the whole test set)
"""

import argparse
import glob
import gzip
import os
import shutil

import matplotlib

matplotlib.use("Agg")   # no display needed; the figures go to Visdom

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import torch.optim as optim  # noqa: E402
import torchvision  # noqa: E402
import torchvision.transforms as transforms  # noqa: E402

# from torch.utils.tensorboard import SummaryWriter    # the tutorial's line
from vizlab import SummaryWriter  # noqa: E402
from vizlab.runner_kit.data import mnist_root  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--data", default="./data", help="folder holding MNIST/raw/*.gz")
parser.add_argument("--batches", type=int, default=None,
                    help="stop the training and the test loop each after this many mini-batches")
cli = parser.parse_args()

# transforms
transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])



def extracted_mnist(data):
    """The folder to give torchvision: MNIST/raw/*.gz extracted (not the tutorial's: its data)."""
    root = mnist_root(data)   # a writable copy when `data` is read-only
    for gz in glob.glob(os.path.join(root, "MNIST", "raw", "*.gz")):
        if not os.path.exists(gz[:-3]):
            with gzip.open(gz) as packed, open(gz[:-3], "wb") as out:
                shutil.copyfileobj(packed, out)
    return root


# datasets
root = extracted_mnist(cli.data)
trainset = torchvision.datasets.MNIST(root, download=False, train=True, transform=transform)
testset = torchvision.datasets.MNIST(root, download=False, train=False, transform=transform)

# dataloaders
trainloader = torch.utils.data.DataLoader(trainset, batch_size=4, shuffle=True, num_workers=2)
testloader = torch.utils.data.DataLoader(testset, batch_size=4, shuffle=False, num_workers=2)

# constant for classes
classes = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


# helper function to show an image
def matplotlib_imshow(img, one_channel=False):
    if one_channel:
        img = img.mean(dim=0)
    img = img / 2 + 0.5     # unnormalize
    npimg = img.numpy()
    if one_channel:
        plt.imshow(npimg, cmap="Greys")
    else:
        plt.imshow(np.transpose(npimg, (1, 2, 0)))


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 4 * 4, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.view(-1, 16 * 4 * 4)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


net = Net()
criterion = nn.CrossEntropyLoss()
optimizer = optim.SGD(net.parameters(), lr=0.001, momentum=0.9)

# 1. TensorBoard setup
writer = SummaryWriter("runs/mnist_experiment_1")

# 2. Writing to TensorBoard
dataiter = iter(trainloader)
images, labels = next(dataiter)
img_grid = torchvision.utils.make_grid(images)
matplotlib_imshow(img_grid, one_channel=True)
writer.add_image("four_mnist_images", img_grid)

# 3. Inspect the model using TensorBoard
writer.add_graph(net, images)
writer.close()


# 4. Adding a "Projector" to TensorBoard
def select_n_random(data, labels, n=100):
    """Selects n random datapoints and their corresponding labels from a dataset"""
    assert len(data) == len(labels)
    perm = torch.randperm(len(data))
    return data[perm][:n], labels[perm][:n]


images, labels = select_n_random(trainset.data, trainset.targets)
class_labels = [classes[lab] for lab in labels]
features = images.view(-1, 28 * 28)
writer.add_embedding(features, metadata=class_labels, label_img=images.unsqueeze(1))
writer.close()


# 5. Tracking model training with TensorBoard
def images_to_probs(net, images):
    """Generates predictions and corresponding probabilities from a trained network"""
    output = net(images)
    _, preds_tensor = torch.max(output, 1)
    preds = np.squeeze(preds_tensor.numpy())
    return preds, [F.softmax(el, dim=0)[i].item() for i, el in zip(preds, output)]


def plot_classes_preds(net, images, labels):
    """A figure of the batch's images with the network's top prediction, its probability and the label"""
    preds, probs = images_to_probs(net, images)
    fig = plt.figure(figsize=(12, 48))
    for idx in np.arange(4):
        ax = fig.add_subplot(1, 4, idx + 1, xticks=[], yticks=[])
        matplotlib_imshow(images[idx], one_channel=True)
        ax.set_title("{0}, {1:.1f}%\n(label: {2})".format(classes[preds[idx]], probs[idx] * 100.0,
                                                          classes[labels[idx]]),
                     color=("green" if preds[idx] == labels[idx].item() else "red"))
    return fig


running_loss = 0.0
for epoch in range(1):  # loop over the dataset multiple times
    for i, data in enumerate(trainloader, 0):
        if cli.batches is not None and i >= cli.batches:
            break
        inputs, labels = data
        optimizer.zero_grad()
        outputs = net(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
        if i % 1000 == 999:    # every 1000 mini-batches...
            writer.add_scalar("training loss", running_loss / 1000, epoch * len(trainloader) + i)
            writer.add_figure("predictions vs. actuals", plot_classes_preds(net, inputs, labels),
                              global_step=epoch * len(trainloader) + i)
            running_loss = 0.0
print("Finished Training")

# 6. Assessing trained models with TensorBoard
class_probs = []
class_label = []
with torch.no_grad():
    for i, data in enumerate(testloader):
        if cli.batches is not None and i >= cli.batches:
            break
        images, labels = data
        output = net(images)
        class_probs_batch = [F.softmax(el, dim=0) for el in output]
        class_probs.append(class_probs_batch)
        class_label.append(labels)

test_probs = torch.cat([torch.stack(batch) for batch in class_probs])
test_label = torch.cat(class_label)


def add_pr_curve_tensorboard(class_index, test_probs, test_label, global_step=0):
    """Takes in a class index from 0 to 9 and plots the corresponding precision-recall curve"""
    tensorboard_truth = test_label == class_index
    tensorboard_probs = test_probs[:, class_index]
    writer.add_pr_curve(classes[class_index], tensorboard_truth, tensorboard_probs, global_step=global_step)
    writer.close()


for i in range(len(classes)):
    add_pr_curve_tensorboard(i, test_probs, test_label)
