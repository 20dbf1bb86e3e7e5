#!/usr/bin/env python3
"""The probe statistics at a dumped step equal those recomputed from the raw
--dump-grads tensors of that step: block norms, cosine, overlap and histograms of
dx_skip / dx_residual / dx, and every tensor's pre/post-transform statistics and
histograms — for shortcut A, shortcut B and bottleneck blocks, with each transform.
Also checks the run-log schema (names, shapes, NXdata attributes, fixed edges,
monotone steps) with h5py.

usage: test_probe_consistency.py GRADSCOPE_BINARY   (TAP; exit 1 on failure)
"""
import json
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

GS = os.path.abspath(sys.argv[1])
TMP = tempfile.mkdtemp(prefix="gs-probe-test-")
results = []


def check(ok, what):
    results.append(bool(ok))
    print("%s %d - %s" % ("ok" if ok else "not ok", len(results), what), flush=True)
    return ok


def rel(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-30)))


def hist_counts(x, edges):
    """Magnitude histogram on gradscope's fixed bins (docs/run-format.md)."""
    a = np.abs(np.asarray(x, dtype=np.float32).ravel())
    a = a[np.isfinite(a)]
    h = np.zeros(len(edges) - 1, dtype=np.int64)
    h[0] = np.count_nonzero(a == 0)
    h[1] = np.count_nonzero((a > 0) & (a < edges[2]))
    h[-1] = np.count_nonzero(a >= edges[-2])
    mid = a[(a >= edges[2]) & (a < edges[-2])]
    idx = np.searchsorted(edges[2:-1], mid, side="right") - 1
    n_log = len(edges) - 4                      # quarter-decade bins between 1e-12 and 1e4
    h[2:-1] += np.bincount(idx, minlength=n_log)[:n_log]
    return h


def check_run(arch, shortcut, transform, tag):
    out = os.path.join(TMP, "%s.h5" % tag)
    cmd = [GS, "train", "--arch", arch, "--shortcut", shortcut, "--width", "4", "--data", "synthetic:3x16x16:10",
           "--synthetic-train", "64", "--synthetic-test", "16", "--batch-size", "16", "--steps", "5",
           "--transform", transform, "--probes", "full", "--dump-grads", "0,3", "--out", out, "--quiet",
           "--threads", "2"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if not check(r.returncode == 0, "%s: run (%s)" % (tag, r.stderr.strip()[-200:])):
        return
    with h5py.File(out, "r") as f:
        blocks = [n.decode() for n in f["model/blocks/name"][:]]
        params = [n.decode() for n in f["model/params/name"][:]]
        edges = f["probe/hist_edges"][:]
        steps = list(f["probe/step"][:])
        hsteps = list(f["probe/hist/step"][:])
        worst = {"norms": 0.0, "cos/overlap": 0.0, "pre": 0.0, "post": 0.0}
        hist_bad = 0
        for step in (0, 3):
            d = f["dump/step_%d" % step]
            if not check(int(d["written"][()]) == 1, "%s: dump of step %d written" % (tag, step)):
                continue
            row, hrow = steps.index(step), hsteps.index(step)
            for b, name in enumerate(blocks):
                s = d["blocks/%s/dx_skip" % name][:].astype(np.float32)
                res = d["blocks/%s/dx_residual" % name][:].astype(np.float32)
                total = (s + res).astype(np.float32)
                s64, r64, t64 = (v.astype(np.float64).ravel() for v in (s, res, total))
                ns, nr, nt = np.linalg.norm(s64), np.linalg.norm(r64), np.linalg.norm(t64)
                worst["norms"] = max(worst["norms"],
                                     rel([f["probe/blocks/skip_norm"][row, b], f["probe/blocks/residual_norm"][row, b],
                                          f["probe/blocks/sum_norm"][row, b]], [ns, nr, nt]))
                cos = np.dot(s64, r64) / (ns * nr)
                ov = nt ** 2 / (ns ** 2 + nr ** 2)
                worst["cos/overlap"] = max(worst["cos/overlap"],
                                           abs(f["probe/blocks/cosine"][row, b] - cos),
                                           abs(f["probe/blocks/overlap"][row, b] - ov) / ov)
                for part, arr in (("skip", s), ("residual", res), ("sum", total)):
                    hist_bad += int(not np.array_equal(f["probe/hist/" + part][hrow, b], hist_counts(arr, edges)))
            for phase in ("pre", "post"):
                for p, name in enumerate(params):
                    g = d["grad_%s/%s" % (phase, name)][:].astype(np.float64).ravel()
                    got = [f["probe/params/%s/%s" % (phase, k)][row, p] for k in ("mean", "std", "norm", "min", "max")]
                    want = [g.mean(), g.std(), np.linalg.norm(g), g.min(), g.max()]
                    scale = max(np.abs(g).max(), 1e-30)
                    worst[phase] = max(worst[phase], max(abs(a - b) / scale for a, b in zip(got, want)))
                    hist_bad += int(not np.array_equal(f["probe/hist/" + phase][hrow, p],
                                                       hist_counts(d["grad_%s/%s" % (phase, name)][:], edges)))
        check(worst["norms"] < 1e-5, "%s: skip/residual/sum norms match the dumps (worst rel %.1e)" % (tag, worst["norms"]))
        check(worst["cos/overlap"] < 1e-5, "%s: cosine and overlap match the dumps (worst %.1e)" % (tag, worst["cos/overlap"]))
        check(worst["pre"] < 1e-5 and worst["post"] < 1e-5,
              "%s: pre/post tensor statistics match the dumps (worst %.1e / %.1e)" % (tag, worst["pre"], worst["post"]))
        check(hist_bad == 0, "%s: every histogram equals the one recomputed from the dumps (%d differ)" % (tag, hist_bad))


def check_schema(path):
    with h5py.File(path, "r") as f:
        fmt = f.attrs["format"]
        fmt = fmt.decode() if isinstance(fmt, bytes) else fmt
        check(fmt == "gradscope-run" and int(f.attrs["format_version"]) == 1, "schema: format attributes")
        cfg = json.loads(f["config"][()].decode().rstrip("\0"))
        check(all(k in cfg for k in ("command_line", "seed", "arch", "dataset", "optimizer", "transform",
                                    "gradscope_version", "hdf5_version", "host", "start_time")),
              "schema: /config is JSON with the resolved configuration")
        B, P = len(f["model/blocks/name"]), len(f["model/params/name"])
        S, N, M, E = (len(f["train/step"]), len(f["probe/step"]), len(f["probe/hist/step"]), len(f["epochs/epoch"]))
        check(all(f["probe/blocks/" + k].shape == (N, B) for k in ("skip_norm", "residual_norm", "sum_norm",
                                                                   "cosine", "overlap")),
              "schema: /probe/blocks/* are [N, B] = [%d, %d]" % (N, B))
        check(all(f["probe/params/%s/%s" % (ph, k)].shape == (N, P) for ph in ("pre", "post")
                  for k in ("mean", "std", "norm", "min", "max", "nonfinite")),
              "schema: /probe/params/{pre,post}/* are [N, P]")
        H = len(f["probe/hist_edges"]) - 1
        check(H == 67 and f["probe/hist/skip"].shape == (M, B, H) and f["probe/hist/pre"].shape == (M, P, H),
              "schema: histograms [M, B, H] and [M, P, H] with H = 67")
        edges = f["probe/hist_edges"][:]
        check(edges[0] == 0 and edges[1] == 0 and np.isclose(edges[2], 1e-12) and np.isclose(edges[-2], 1e4)
              and np.isinf(edges[-1]) and np.all(np.diff(edges[1:]) > 0), "schema: fixed log edges 1e-12 … 1e4, inf")
        check(np.all(np.diff(f["train/step"][:]) == 1) and np.all(np.diff(f["probe/step"][:]) > 0)
              and S == N, "schema: steps monotone, one probe row per step")
        for grp, sig in (("train", "loss"), ("epochs", "test_acc"), ("probe/blocks", "overlap")):
            a = f[grp].attrs
            check(a.get("NX_class") in (b"NXdata", "NXdata") and a.get("signal") in (sig.encode(), sig)
                  and "axes" in a, "schema: /%s is NXdata with signal %s" % (grp, sig))
        check(all("long_name" in f["probe/blocks/" + k].attrs and "units" in f["probe/blocks/" + k].attrs
                  for k in ("overlap", "cosine")), "schema: long_name/units attributes")
        check(f["epochs/epoch"].shape == (E,) and E >= 1 and f["probe/epoch/blocks/overlap_mean"].shape == (E, B),
              "schema: epoch aggregates [E, B]")
        check(f["status"][()].rstrip(b"\0") == b"finished", "schema: status finished")


for arch, sc, tr in (("resnet-basic:1", "A", "znorm"), ("resnet-basic:1", "B", "none"),
                     ("resnet-bottleneck:1", "B", "gc"), ("resnet-basic:1", "A", "clip-norm:0.01"),
                     ("resnet-bottleneck:1", "A", "clip-value:0.001")):
    check_run(arch, sc, tr, "%s-%s-%s" % (arch.replace(":", ""), sc, tr.replace(":", "")))
check_schema(os.path.join(TMP, "resnet-basic1-A-znorm.h5"))

print("1..%d" % len(results))
failed = results.count(False)
print("# %d passed, %d failed" % (len(results) - failed, failed))
sys.exit(1 if failed else 0)
