"""What big images cost the caller: time in log.images() and the process's memory.

Each case runs in a fresh Python process (so peak RSS is its own), journal only (send=False:
the cost measured is the caller's and the journal thread's, not the network's):
  tall     one 1 x 3000 float image
  mnist    10,000 MNIST-sized uint8 images (28 x 28, random pixels) with labels, in one call
  stream   400 calls in a row, each 64 RGB 32 x 32 images with labels
Figures: the median over --repeat runs of the caller's time in the image calls, the time until
the journal holds them (flush), the peak RSS above the RSS before the first call (ru_maxrss,
psutil for the start; one small image call first imports torchvision and Pillow), and for `stream` the most image bytes ever waiting in the
journal thread's queue (sampled every 5 ms). Run it against another checkout with
PYTHONPATH=<that checkout> to compare (the README's before/after figures were made so).
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time

CASES = ("tall", "mnist", "stream")


def run_case(case):
    import psutil
    import torch

    from vizlab import VisdomLogger

    torch.manual_seed(0)
    if case == "tall":
        calls = [(torch.rand(1, 1, 1, 3000), None)]
    elif case == "mnist":
        calls = [(torch.randint(0, 256, (10_000, 1, 28, 28), dtype=torch.uint8), list(range(10)) * 1000)]
    else:
        batch = torch.rand(64, 3, 32, 32)
        calls = [(batch, list(range(64)))] * 400
    with tempfile.TemporaryDirectory() as tmp:
        log = VisdomLogger(env="bench_images", journal=os.path.join(tmp, "j.jsonl"), send=False)
        queued, stop = [0], threading.Event()

        def sample():   # the image bytes waiting in the journal thread's queue
            while not stop.wait(0.005):
                events = list(log._writer.queue)
                size = sum(e[2].nelement() for e in events if e[0] == "images")
                queued[0] = max(queued[0], size)

        log.images("warm-up", torch.rand(1, 1, 8, 8), labels=[0])   # imports torchvision, Pillow
        assert log.flush(timeout=600)
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        rss0 = psutil.Process().memory_info().rss
        start = time.perf_counter()
        for images, labels in calls:
            log.images("grid", images, labels=labels)
        caller = time.perf_counter() - start
        assert log.flush(timeout=600)
        flushed = time.perf_counter() - start
        stop.set()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        log.close()
    return {"caller_s": caller, "flushed_s": flushed, "peak_rss_mb": (peak - rss0) / 2**20,
            "max_queued_mb": queued[0] / 2**20}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--case", choices=CASES, help=argparse.SUPPRESS)   # one run, in a child
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case)))
        return
    print(f"load average {os.getloadavg()[0]:.1f}; medians of {args.repeat} runs, each a fresh process")
    for case in CASES:
        runs = [json.loads(subprocess.run([sys.executable, __file__, "--case", case], check=True,
                                          capture_output=True, text=True).stdout)
                for _ in range(args.repeat)]
        figures = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        print(f"{case:7s} caller {figures['caller_s']:7.3f} s   journal has it after "
              f"{figures['flushed_s']:7.3f} s   peak RSS +{figures['peak_rss_mb']:7.1f} MB   "
              f"most queued {figures['max_queued_mb']:7.1f} MB")


if __name__ == "__main__":
    main()
