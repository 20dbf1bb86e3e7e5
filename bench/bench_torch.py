#!/usr/bin/python3
"""bench_torch.py — PyTorch reference timings of gradscope's training step.

    bench_torch.py [--arch resnet20|resnet56|...] [--batch 128] [--size 32]
                   [--channels 3] [--threads 2] [--steps 20] [--warmup 3]
                   [--shortcut A|B] [--width 16] [--seed 0]

Times `--steps` full training steps (forward, mean cross-entropy, backward,
SGD momentum 0.9 / lr 0.1 / weight decay 5e-4) on one random batch after
`--warmup` untimed steps, with torch.set_num_threads(--threads).  Prints one
JSON line: median / mean / min step time, images/s (batch / median step time),
and the process's peak RSS in MiB (peak_rss_mb, from resource.getrusage ru_maxrss).
"""

import argparse
import json
import os
import resource
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True     # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "reference"))
import gs_torch  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", default="resnet20")
    ap.add_argument("--shortcut", choices=["A", "B"], default=None)
    ap.add_argument("--width", type=int, default=16)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--channels", type=int, default=3)
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if args.steps < 1:
        ap.error("--steps must be >= 1")

    torch.set_num_threads(args.threads)
    model = gs_torch.build_model(args.arch, in_channels=args.channels,
                                 num_classes=args.classes, width=args.width,
                                 shortcut=args.shortcut, seed=args.seed)
    model.train()
    gen = torch.Generator().manual_seed(args.seed + 1)
    x = torch.randn(args.batch, args.channels, args.size, args.size, generator=gen)
    y = torch.randint(0, args.classes, (args.batch,), generator=gen)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()      # .item() also makes sure the step has finished

    for _ in range(args.warmup):
        step()
    times = []
    for _ in range(args.steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)

    median = statistics.median(times)
    # ru_maxrss is in KiB on Linux.
    peak_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({
        "impl": "torch", "torch": torch.__version__, "arch": args.arch,
        "shortcut": model.shortcut_option, "width": args.width,
        "batch": args.batch, "size": args.size, "channels": args.channels,
        "threads": args.threads, "steps": args.steps, "warmup": args.warmup,
        "median_step_s": round(median, 6),
        "mean_step_s": round(statistics.fmean(times), 6),
        "min_step_s": round(min(times), 6),
        "images_per_s": round(args.batch / median, 2),
        "peak_rss_mb": round(peak_rss_mib, 1),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
