"""System panes: CPU, memory and GPU figures sampled on a background thread (never the training one).

    log.watch_system(every=2.0)   # windows system_cpu, system_memory and, with NVML, system_gpu

x is seconds since the watch started. CUDA figures come from torch.cuda.memory_allocated/reserved
(host-side counters: no device sync); GPU utilization from NVML when nvidia-ml-py is installed.
"""

import sys
import threading
import time

import psutil

MB = 2 ** 20


class SystemWatcher:
    """A daemon thread that logs one sample every `every` seconds until the logger closes."""

    def __init__(self, log, every=2.0):
        if not isinstance(every, (int, float)) or isinstance(every, bool) or not every > 0:
            raise ValueError(f"every={every!r}: use a positive number of seconds (default 2.0)")
        self.log, self.every = log, float(every)
        self._process = psutil.Process()
        self._process.cpu_percent(None)   # the first call only starts the measurement interval
        psutil.cpu_percent(None)
        self._cuda = _cuda()
        self._nvml = _nvml_handle() if self._cuda else None
        log.window("system_cpu", title="CPU %", xlabel="seconds", ylabel="%")
        log.window("system_memory", title="memory (MiB)", xlabel="seconds", ylabel="MiB")
        if self._nvml:
            log.window("system_gpu", title="GPU utilization %", xlabel="seconds", ylabel="%")
        self._start = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="vizlab-system", daemon=True)
        self._thread.start()

    def stop(self):
        self._stop.set()
        self._thread.join()

    def _run(self):
        while not self._stop.wait(self.every):
            try:
                self.sample()
            except RuntimeError:   # the logger closed: nothing more to show
                return

    def sample(self):
        x = round(time.monotonic() - self._start, 3)
        self.log.scalars("system_cpu", x, {"process": self._process.cpu_percent(None),
                                           "machine": psutil.cpu_percent(None)})
        memory = {"process RSS": self._process.memory_info().rss / MB}
        if self._cuda:
            memory["cuda allocated"] = self._cuda.memory_allocated() / MB
            memory["cuda reserved"] = self._cuda.memory_reserved() / MB
        self.log.scalars("system_memory", x, memory)
        if self._nvml:
            nvml, handle = self._nvml
            self.log.scalar("system_gpu", x, nvml.nvmlDeviceGetUtilizationRates(handle).gpu, trace="utilization")


def _cuda():
    """torch.cuda when the program already uses CUDA (importing torch here would cost seconds)."""
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized():
        return torch.cuda
    return None


def _nvml_handle():
    try:
        import pynvml   # nvidia-ml-py, optional
        pynvml.nvmlInit()
        return pynvml, pynvml.nvmlDeviceGetHandleByIndex(_cuda().current_device())
    except Exception:   # not installed, or no driver: the other panes still work
        return None
