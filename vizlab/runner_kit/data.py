"""MNIST for the runners: find or fetch the files, then hold the whole set as tensors on the device."""

import contextlib
import io
import os
import shutil

import torch

from vizlab.errors import UserError

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081
MNIST_FILES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
               "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]


class MNISTUnavailable(UserError):
    """The MNIST files are neither on disk nor downloadable; the message says what to do."""


def default_data_dir():
    """$VIZLAB_DATA, else ~/.vizlab/data."""
    return os.environ.get("VIZLAB_DATA") or os.path.join(os.path.expanduser("~"), ".vizlab", "data")


def _cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "vizlab", "data")


def _extracted(name):
    return name[: -len(".gz")]


def _has(raw_dir, names):
    return all(os.path.exists(os.path.join(raw_dir, n)) for n in names)


def _writable(folder):
    """True when `folder` (or, if it does not exist yet, its nearest existing parent) is writable.

    The mode bits count too: root may write anywhere, but a folder marked read-only is shared
    data that must stay as it is.
    """
    while not os.path.exists(folder):
        parent = os.path.dirname(folder)
        if parent == folder:
            return False
        folder = parent
    return os.access(folder, os.W_OK) and bool(os.stat(folder).st_mode & 0o222)


def mnist_root(data_dir=None):
    """A folder torchvision's MNIST can read from, holding MNIST/raw/ with the extracted files.

    torchvision extracts the .gz files next to themselves, so .gz files in a read-only folder
    (a shared data set) are first copied to a writable cache.
    """
    data_dir = os.path.abspath(os.path.expanduser(data_dir or default_data_dir()))
    raw = os.path.join(data_dir, "MNIST", "raw")
    if _has(raw, [_extracted(n) for n in MNIST_FILES]) or _writable(raw):
        return data_dir
    cache = _cache_dir()
    if _has(raw, MNIST_FILES):
        cached_raw = os.path.join(cache, "MNIST", "raw")
        os.makedirs(cached_raw, exist_ok=True)
        for name in MNIST_FILES:
            if not os.path.exists(os.path.join(cached_raw, _extracted(name))):
                shutil.copy(os.path.join(raw, name), os.path.join(cached_raw, name))
    return cache


def _missing_message(data_dir, error):
    files = "\n".join(f"  {n}" for n in MNIST_FILES)
    return (f"MNIST is not in {os.path.join(data_dir, 'MNIST', 'raw')} and could not be "
            f"downloaded ({error}).\nPut these four files (from "
            f"https://ossci-datasets.s3.amazonaws.com/mnist/) into that folder:\n{files}\n"
            f"or point --data-dir (or $VIZLAB_DATA) at a folder that holds MNIST/raw/ with them.")


def mnist_datasets(data_dir=None, transform=None):
    """(train, test) torchvision MNIST datasets, downloading once if needed."""
    from torchvision import datasets

    root = mnist_root(data_dir)
    # torchvision prints a line per mirror attempt; keep the terminal to one clear message.
    chatter = io.StringIO()
    try:
        with contextlib.redirect_stdout(chatter):
            train = datasets.MNIST(root, train=True, download=True, transform=transform)
            test = datasets.MNIST(root, train=False, download=True, transform=transform)
    except (RuntimeError, OSError) as error:
        # torchvision's message lists every mirror; its last line holds the actual cause.
        lines = str(error).strip().splitlines()
        raise MNISTUnavailable(_missing_message(root, lines[-1] if lines else type(error).__name__)) from None
    return train, test


def normalize(images_uint8):
    """uint8 N x 28 x 28 -> float N x 1 x 28 x 28, normalized like the lesson's transform."""
    return images_uint8.float().div_(255).sub_(MNIST_MEAN).div_(MNIST_STD).unsqueeze(1)


def load_mnist(data_dir=None, device="cpu"):
    """(train_x, train_y, test_x, test_y): the whole data set, normalized, on `device`."""
    train, test = mnist_datasets(data_dir)
    return (normalize(train.data).to(device), train.targets.to(device),
            normalize(test.data).to(device), test.targets.to(device))


def shuffled_batches(n, batch_size, generator, rank=0, world_size=1):
    """Index tensors of one epoch's batches: a fresh permutation, this rank's equal shard of it.

    Every rank draws the same permutation (same generator state), so the shards don't overlap;
    dropping the remainder keeps the number of batches equal on every rank, as DDP requires.
    """
    order = torch.randperm(n, generator=generator, device=generator.device)
    shard = order[: n - n % world_size][rank::world_size]
    return shard.split(batch_size)
