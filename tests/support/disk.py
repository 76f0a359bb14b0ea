"""A small real file system that fills up, for the full-disk tests and benchmarks/faults.py."""

import os


def fill(path):
    """Fill the file system holding `path` to its last byte; removing the file frees it again."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    for size in (65536, 4096, 64, 1):
        try:
            while True:
                os.write(fd, b"\0" * size)
        except OSError:
            pass
    os.close(fd)
