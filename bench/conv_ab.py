#!/usr/bin/env python3
"""conv_ab.py — whole training steps with GS_CONV=im2col against GS_CONV=direct.

Runs build/bench/bench_step alternately (A B, B A, A B, …) for each configuration and
prints the median step time of each algorithm, images/s, GFLOP/s and the ratio
im2col / direct (> 1: direct is faster).  The ratio of alternating runs is what to
read on a shared machine; absolute times move with the load.

usage: bench/conv_ab.py [--build build] [--rounds 5] [--steps 10] [--threads 2]
                        [--configs r20-32,r56-32,r20-28]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

CONFIGS = {
    "r20-32": ["--arch", "resnet20", "--size", "32", "--channels", "3"],
    "r56-32": ["--arch", "resnet56", "--size", "32", "--channels", "3"],
    "r20-28": ["--arch", "resnet20", "--size", "28", "--channels", "1"],
}


def run(bench, algo, args):
    env = dict(os.environ, GS_CONV=algo)
    out = subprocess.run([bench] + args, env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--configs", default="r20-32,r56-32,r20-28")
    a = ap.parse_args()
    bench = os.path.join(a.build, "bench", "bench_step")
    print("# %d rounds, A/B alternating, %d steps each, batch %d, %d threads; medians over rounds"
          % (a.rounds, a.steps, a.batch, a.threads))
    print("%-8s %12s %12s %8s %10s %10s %9s %9s %8s %8s" % (
        "config", "im2col ms", "direct ms", "ratio", "img/s i2c", "img/s dir", "GF/s i2c", "GF/s dir",
        "RSS i2c", "RSS dir"))
    for name in a.configs.split(","):
        args = CONFIGS[name] + ["--batch", str(a.batch), "--threads", str(a.threads),
                                "--steps", str(a.steps), "--warmup", str(a.warmup)]
        res = {"im2col": [], "direct": []}
        for r in range(a.rounds):
            order = ["im2col", "direct"] if r % 2 == 0 else ["direct", "im2col"]
            for algo in order:
                res[algo].append(run(bench, algo, args))
        med = {k: statistics.median(d["step_ms_median"] for d in v) for k, v in res.items()}
        flop = res["direct"][0]["gflop_per_step"]
        imgs = {k: a.batch / (med[k] * 1e-3) for k in med}
        gfs = {k: flop / (med[k] * 1e-3) for k in med}
        rss = {k: max(d["peak_rss_mb"] for d in v) for k, v in res.items()}
        print("%-8s %12.1f %12.1f %7.2fx %10.1f %10.1f %9.1f %9.1f %7.0fM %7.0fM" % (
            name, med["im2col"], med["direct"], med["im2col"] / med["direct"],
            imgs["im2col"], imgs["direct"], gfs["im2col"], gfs["direct"], rss["im2col"], rss["direct"]))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
