#!/usr/bin/python3
"""summarize.py — the per-stage view of an experiments/run.sh output, for docs/experiments.md.

    experiments/summarize.py [--out experiments/out] [--gradscope build/cli/gradscope]

Reads every finished run in OUT/runs through `gradscope info` and `gradscope export` (the analyzer is the
only reader of run logs) and prints markdown tables, per depth and method, mean ± sample
std over seeds of:
  - final test accuracy and loss;
  - the last epoch's mean overlap and cosine of each stage's blocks (epoch aggregates
    over every step of the epoch);
  - the global gradient norm before and after the transform over the last epoch's steps;
and, for each depth, the paired difference ZNorm − none of the per-stage overlap seed
by seed (same seed, same data order, same initial weights).
"""
import argparse
import csv
import io
import math
import os
import re
import statistics
import subprocess
import sys
from collections import defaultdict

RUN = re.compile(r"^(?P<arch>[^-]+)-(?P<opt>[^-]+)-(?P<method>.+)-s(?P<seed>\d+)\.h5$")


def export(gs, run, what, by=None):
    cmd = [gs, "export", run, "--what", what, "-o", "-"] + (["--by", by] if by else [])
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"summarize.py: {' '.join(cmd)}: {r.stderr.strip()}")
    return list(csv.DictReader(io.StringIO(r.stdout)))


def pm(values, digits=4):
    v = [x for x in values if x is not None and math.isfinite(x)]
    if not v:
        return "–"
    if len(v) == 1:
        return f"{v[0]:.{digits}f}"
    return f"{statistics.mean(v):.{digits}f} ± {statistics.stdev(v):.{digits}f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "out"))
    ap.add_argument("--gradscope", default=os.path.join(here, "..", "build", "cli", "gradscope"))
    args = ap.parse_args()
    rundir = os.path.join(args.out, "runs")
    rows = defaultdict(list)   # (arch, optimizer, method) -> [per-run dict]
    for name in sorted(os.listdir(rundir)):
        m = RUN.match(name)
        if not m:
            continue
        path = os.path.join(rundir, name)
        info = subprocess.run([args.gradscope, "info", path], capture_output=True, text=True).stdout
        if not re.search(r"^status\s+finished", info, re.M):
            continue   # still running, interrupted or failed: not part of the comparison
        epochs = export(args.gradscope, path, "epochs")
        if not epochs:
            continue
        last = epochs[-1]
        blocks = export(args.gradscope, path, "blocks", by="epoch")[-1]
        stages = defaultdict(lambda: {"overlap": [], "cosine": []})
        for col, val in blocks.items():
            bm = re.match(r"^layer(\d+)\.\d+/(overlap|cosine)_mean$", col)
            if bm:
                stages[int(bm.group(1))][bm.group(2)].append(float(val))
        train = export(args.gradscope, path, "train")
        last_epoch = train[-1]["epoch"]
        tail = [t for t in train if t["epoch"] == last_epoch]
        rows[(m["arch"], m["opt"], m["method"])].append({
            "seed": int(m["seed"]),
            "acc": float(last["test_acc"]), "loss": float(last["test_loss"]),
            "stage": {s: (statistics.mean(v["overlap"]), statistics.mean(v["cosine"])) for s, v in stages.items()},
            "pre": statistics.mean(float(t["grad_norm_pre"]) for t in tail),
            "post": statistics.mean(float(t["grad_norm_post"]) for t in tail),
        })
    setups = sorted({(a, o) for a, o, _ in rows}, key=lambda k: (int(re.sub(r"\D", "", k[0]) or 0), k[1]))
    for arch, opt in setups:
        found = sorted({m for a, o, m in rows if (a, o) == (arch, opt)})
        order = ["none", "znorm", "gc"] + [m for m in found if m not in ("none", "znorm", "gc")]
        runs = {m: rows[(arch, opt, m)] for m in order if rows.get((arch, opt, m))}
        nst = max(len(r["stage"]) for rs in runs.values() for r in rs)
        print(f"\n#### {arch}, {opt}\n")
        head = ["method", "seeds", "test acc", "test loss"] + [f"overlap s{s}" for s in range(1, nst + 1)] + \
               [f"cosine s{s}" for s in range(1, nst + 1)] + ["‖g‖ pre", "‖g‖ post"]
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for m, rs in runs.items():
            cells = [m, str(len(rs)), pm([r["acc"] for r in rs]), pm([r["loss"] for r in rs])]
            cells += [pm([r["stage"].get(s, (None, None))[0] for r in rs], 3) for s in range(1, nst + 1)]
            cells += [pm([r["stage"].get(s, (None, None))[1] for r in rs], 3) for s in range(1, nst + 1)]
            cells += [pm([r["pre"] for r in rs], 3), pm([r["post"] for r in rs], 1)]
            print("| " + " | ".join(cells) + " |")
        if "none" in runs and "znorm" in runs:
            base = {r["seed"]: r for r in runs["none"]}
            diffs = defaultdict(list)
            accd = []
            for r in runs["znorm"]:
                b = base.get(r["seed"])
                if not b:
                    continue
                accd.append(r["acc"] - b["acc"])
                for s in range(1, nst + 1):
                    if s in r["stage"] and s in b["stage"]:
                        diffs[s].append(r["stage"][s][0] - b["stage"][s][0])
            print(f"\nPaired ZNorm − none (same seed), {arch}, {opt}: test accuracy {pm(accd)}; "
                  + "; ".join(f"overlap stage {s} {pm(diffs[s], 4)}" for s in range(1, nst + 1)))


if __name__ == "__main__":
    main()
