#!/usr/bin/python3
"""compare.py — gradscope against PyTorch on the same machine, in the same run.

For each configuration, runs gradscope's bench_step and bench_torch.py in turn
(A B A B …, --rounds times) and reports medians and the ratio gradscope/PyTorch of
images/s and of peak RSS; also gradscope's GFLOP/s and its fraction of the measured
sgemm peak, and the probe overhead (bench_step --probe-overhead: steps without probes,
with default probes and with histograms interleaved in one process).

usage: bench/compare.py [--build build] [--rounds 3] [--steps 10] [--threads 2]
                        [--configs r20-32x3,r56-32x3,r20-28x1] [--no-probes] [--hist-every 50]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIGS = {
    "r20-32x3": dict(arch="resnet20", size=32, channels=3),
    "r56-32x3": dict(arch="resnet56", size=32, channels=3),
    "r20-28x1": dict(arch="resnet20", size=28, channels=1),
}


def run_json(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("failed: %s\n%s" % (" ".join(cmd), r.stderr))
    return json.loads(r.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--configs", default="r20-32x3,r56-32x3,r20-28x1")
    ap.add_argument("--no-probes", action="store_true", help="skip the probe-overhead measurement")
    ap.add_argument("--hist-every", type=int, default=50,
                    help="histogram interval the default-probe overhead is amortized over (gradscope train's default)")
    args = ap.parse_args()

    bench = os.path.join(args.build, "bench", "bench_step")
    peak = run_json([os.path.join(args.build, "bench", "sgemm_peak"), "2048", str(args.threads)])["gflops_best"]
    print("sgemm peak (2048², %d threads): %.1f GFLOP/s" % (args.threads, peak))
    print("%-10s %12s %12s %7s %9s %7s %9s %9s %7s" % ("config", "gs img/s", "torch img/s", "ratio",
                                                       "gs GF/s", "%peak", "gs RSS", "torch RSS", "RSS r"))
    rows = []
    for name in args.configs.split(","):
        c = CONFIGS[name]
        common = ["--arch", c["arch"], "--size", str(c["size"]), "--channels", str(c["channels"]),
                  "--batch", str(args.batch), "--threads", str(args.threads), "--steps", str(args.steps),
                  "--warmup", "2"]
        gs, th = [], []
        for _ in range(args.rounds):
            gs.append(run_json([bench] + common))
            th.append(run_json(["/usr/bin/python3", os.path.join(HERE, "bench_torch.py")] + common))
        g_ips = statistics.median(r["images_per_s"] for r in gs)
        t_ips = statistics.median(r["images_per_s"] for r in th)
        g_gf = statistics.median(r["gflops"] for r in gs)
        g_rss = statistics.median(r["peak_rss_mb"] for r in gs)
        t_rss = statistics.median(r["peak_rss_mb"] for r in th)
        print("%-10s %12.1f %12.1f %7.2f %9.1f %6.0f%% %8.0fM %8.0fM %7.2f" % (
            name, g_ips, t_ips, g_ips / t_ips, g_gf, 100 * g_gf / peak, g_rss, t_rss, g_rss / t_rss))
        rows.append(dict(config=name, gradscope_images_per_s=g_ips, torch_images_per_s=t_ips,
                         ratio=g_ips / t_ips, gradscope_gflops=g_gf, sgemm_peak=peak,
                         gradscope_rss_mb=g_rss, torch_rss_mb=t_rss))
    if not args.no_probes:
        print("\nprobe overhead (one process per config: off / default / histogram steps interleaved, "
              "medians of %d rounds; default amortizes histograms every %d steps):" % (args.steps, args.hist_every))
        for name in args.configs.split(","):
            c = CONFIGS[name]
            common = ["--arch", c["arch"], "--size", str(c["size"]), "--channels", str(c["channels"]),
                      "--batch", str(args.batch), "--threads", str(args.threads), "--steps", str(args.steps),
                      "--warmup", "2", "--hist-every", str(args.hist_every)]
            r = run_json([bench, "--probe-overhead"] + common)
            print("  %-10s off %8.1f ms  default %+.1f%%  full %+.1f%%" % (
                name, r["off_ms"], r["default_overhead_pct"], r["full_overhead_pct"]))
            rows.append(dict(config=name, probe_overhead=r))
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
