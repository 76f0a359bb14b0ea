"""Child processes for the signal tests: a busy neighbour (load), and a logging child that
counts its accepted calls in a shared 8-byte file."""

import contextlib
import mmap
import struct
import subprocess
import sys
import time

BUSY = "while True:\n    pass\n"


@contextlib.contextmanager
def load(kind):
    """kind "loaded": a CPU-bound process runs beside the test (another core's worth of load);
    "quiet": nothing."""
    busy = subprocess.Popen([sys.executable, "-c", BUSY]) if kind == "loaded" else None
    try:
        yield
    finally:
        if busy is not None:
            busy.kill()
            busy.wait()


class Counter:
    """The child writes its count of accepted calls after each call returns (struct "q" at 0)."""

    def __init__(self, path):
        self.path = path
        path.write_bytes(b"\0" * 8)
        self._file = open(path, "rb")
        self._map = mmap.mmap(self._file.fileno(), 8, access=mmap.ACCESS_READ)

    def value(self):
        return struct.unpack_from("q", self._map)[0]

    def wait_for(self, count, child, timeout=300):
        """Until the child accepted `count` calls; fails if it ended or took longer."""
        deadline = time.monotonic() + timeout
        while self.value() < count:
            assert child.poll() is None, f"the child ended early ({child.returncode}): " \
                f"{child.communicate()[1]}"
            assert time.monotonic() < deadline, f"the child made {self.value()} calls of {count}"
            time.sleep(0.02)

    def close(self):
        self._map.close()
        self._file.close()


def ended(child, timeout=120):
    """(exit status, stderr) of a child that should end by itself: a hang detector, not a
    timing claim. A child still running after `timeout` is killed and the test fails."""
    try:
        _, err = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        child.kill()
        _, err = child.communicate()
        raise AssertionError(f"the process hung: still running {timeout} s after the signal; "
                             f"stderr:\n{err}") from None
    return child.returncode, err


def pid_gone(pid, timeout=60):
    """True once no process `pid` runs (a zombie counts as gone)."""
    import psutil

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False

