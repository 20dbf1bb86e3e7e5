#!/usr/bin/python3
"""make_fixture.py — write a synthetic gradscope run log that follows docs/run-format.md.

Until the trainer writes real runs, the analyzer tests read files made here.  The
numbers are plausible (losses fall, accuracies rise, norms shrink with depth, ZNorm
post-transform statistics are ~0 mean / ~1 std) and internally consistent:
  sum_norm² = skip² + residual² + 2·cosine·skip·residual,  overlap = sum² / (skip² + residual²),
  epoch aggregates are the mean / population std / histogram sums of the epoch's rows,
  every histogram row sums to the tensor's element count.
Everything is drawn from numpy's default_rng(seed), so a file is reproducible.

    make_fixture.py OUT.h5                       # small: ResNet-20, 3 epochs x 20 steps
    make_fixture.py OUT.h5 --big                 # ResNet-56, 50 epochs x 400 steps, hist every 50
    make_fixture.py OUT.h5 --live                # SWMR writer driven by stdin (see live_loop)

Run it with /usr/bin/python3 (python3-h5py, python3-numpy).
"""
import argparse
import json
import math
import sys

import h5py
import numpy as np

H = 67  # histogram bins (docs/run-format.md)


def hist_edges():
    e = [0.0, 0.0]
    for k in range(65):
        e.append(10.0 ** (-12 + k / 4.0))
    e.append(math.inf)
    return np.array(e, dtype=np.float32)  # H + 1 = 68 edges


EDGES = hist_edges()


def bin_probs(mu, sigma, zero_frac):
    """Bin probabilities of |x| with log10|x| ~ N(mu, sigma) and a share of exact zeros.
    mu: array (...), returns (..., H)."""
    mu = np.asarray(mu, dtype=np.float64)
    lo = np.log10(EDGES[2:67].astype(np.float64))            # 65 finite positive edges
    z = (lo[None, :] - mu.reshape(-1, 1)) / sigma
    cdf = 0.5 * (1.0 + np.vectorize(math.erf, otypes=[np.float64])(z / math.sqrt(2.0)))
    p = np.empty((mu.size, H))
    p[:, 0] = zero_frac
    p[:, 1] = (1 - zero_frac) * cdf[:, 0]
    p[:, 2:66] = (1 - zero_frac) * np.diff(cdf, axis=1)
    p[:, 66] = (1 - zero_frac) * (1.0 - cdf[:, -1])
    p = np.clip(p, 0, None)
    p /= p.sum(axis=1, keepdims=True)
    return p.reshape(mu.shape + (H,))


class Model:
    """CIFAR-style ResNet-(6n+2) basic blocks, option-A shortcuts, PyTorch names."""

    def __init__(self, depth, in_ch, hw, classes=10):
        n = (depth - 2) // 6
        self.blocks = []      # dicts: name stage index shortcut in_shape out_shape
        self.params = []      # dicts: name kind shape block
        widths = [16, 32, 64]
        self.params += [dict(name="conv1.weight", kind="conv_weight", shape=[16, in_ch, 3, 3], block=-1),
                        dict(name="bn1.weight", kind="bn_weight", shape=[16], block=-1),
                        dict(name="bn1.bias", kind="bn_bias", shape=[16], block=-1)]
        cin, size = 16, hw
        for s in range(3):
            c = widths[s]
            for i in range(n):
                stride = 2 if (s > 0 and i == 0) else 1
                out = size // stride
                b = len(self.blocks)
                self.blocks.append(dict(name=f"layer{s + 1}.{i}", stage=s + 1, index=i,
                                        shortcut="A" if (stride != 1 or cin != c) else "identity",
                                        in_shape=[cin, size, size], out_shape=[c, out, out]))
                pre = f"layer{s + 1}.{i}."
                self.params += [dict(name=pre + "conv1.weight", kind="conv_weight", shape=[c, cin, 3, 3], block=b),
                                dict(name=pre + "bn1.weight", kind="bn_weight", shape=[c], block=b),
                                dict(name=pre + "bn1.bias", kind="bn_bias", shape=[c], block=b),
                                dict(name=pre + "conv2.weight", kind="conv_weight", shape=[c, c, 3, 3], block=b),
                                dict(name=pre + "bn2.weight", kind="bn_weight", shape=[c], block=b),
                                dict(name=pre + "bn2.bias", kind="bn_bias", shape=[c], block=b)]
                cin, size = c, out
        self.params += [dict(name="fc.weight", kind="fc_weight", shape=[classes, 64], block=-1),
                        dict(name="fc.bias", kind="fc_bias", shape=[classes], block=-1)]
        for p in self.params:
            p["numel"] = int(np.prod(p["shape"]))


VLEN = False   # --vlen-strings: variable-length strings instead of the writer's fixed UTF-8


def strings(values, width):
    """A string table as the writer stores it: fixed-length, NUL-padded UTF-8."""
    if VLEN:
        return np.array(values, dtype=h5py.string_dtype("utf-8"))
    return np.array([v.encode() for v in values], dtype=h5py.string_dtype("utf-8", width))


def scalar_string(text, width=None):
    if VLEN:
        return np.array(text, dtype=h5py.string_dtype("utf-8"))
    b = text.encode()
    return np.array(b, dtype=h5py.string_dtype("utf-8", width or max(len(b), 1)))


def make(path, a):
    rng = np.random.default_rng(a.seed)
    dataset = "fashion-mnist" if not a.big else "cifar10"
    in_ch, hw = (1, 28) if not a.big else (3, 32)
    model = Model(a.depth, in_ch, hw)
    B, P = len(model.blocks), len(model.params)
    spe, E = a.steps_per_epoch, a.epochs
    S = spe * E
    K = a.hist_every
    batch = a.batch

    config = {
        "command_line": f"gradscope train --arch resnet{a.depth} --transform {a.transform} --seed {a.seed}",
        "gradscope_version": "0.1.0", "hdf5_version": "1.10.8", "openblas_config": "OpenBLAS 0.3.21",
        "host": "fixture", "start_time": "2024-01-01T00:00:00Z",
        "seed": a.seed, "threads": 2, "arch": "resnet", "shortcut": "A", "width": 16, "depth": a.depth,
        "data": dataset,
        "dataset": {"name": dataset, "train_size": spe * batch, "test_size": 10000,
                    "shape": [in_ch, hw, hw], "num_classes": 10},
        "epochs": E, "steps": S, "steps_per_epoch": spe, "batch_size": batch,
        "optimizer": {"name": a.optimizer, "lr": a.lr, "momentum": 0.9, "nesterov": False,
                      "weight_decay": 0.0, "betas": [0.9, 0.999], "eps": 1e-8},
        "schedule": "cosine", "warmup": 0,
        "transform": {"name": a.transform, "spec": a.transform, "znorm_eps": 1e-8, "znorm_scope": "all"},
        "augment": True, "shuffle": True,
        "probes": {"mode": "default" if a.probes else "off", "hist_every": K},
        "dump_grads": [0] if a.dump else [], "resumed_from": None, "init_from": None,
    }

    # ---- method-dependent quality: the test accuracy ceiling of the run
    quality = {"znorm": 0.90, "none": 0.87, "gc": 0.88, "clip": 0.875}.get(a.transform, 0.86)
    quality += rng.normal(0, 0.004)

    # ---- /train
    step = np.arange(S, dtype=np.int64)
    epoch_of = (step // spe).astype(np.int32)
    t = step / max(S - 1, 1)
    loss = (2.3 * np.exp(-4 * t) + 0.25 + 0.05 * rng.standard_normal(S)).astype(np.float32)
    acc = np.clip(quality - 0.8 * np.exp(-4 * t) + 0.03 * rng.standard_normal(S), 0, 1).astype(np.float32)
    lr = (a.lr * 0.5 * (1 + np.cos(np.pi * t))).astype(np.float32)
    gpre = (3.0 * np.exp(-1.5 * t) * np.exp(0.2 * rng.standard_normal(S))).astype(np.float32)
    gpost = (np.sqrt(sum(p["numel"] for p in model.params)) * np.ones(S) if a.transform == "znorm"
             else gpre).astype(np.float32)
    wall = np.cumsum(0.05 + 0.01 * rng.random(S)).astype(np.float64)

    # ---- /epochs
    ep = np.arange(E, dtype=np.int32)
    tr_loss = np.array([loss[epoch_of == e].mean() for e in range(E)], dtype=np.float32)
    tr_acc = np.array([acc[epoch_of == e].mean() for e in range(E)], dtype=np.float32)
    te = (ep + 1) / E
    te_loss = (2.0 * np.exp(-3 * te) + 0.3 + 0.02 * rng.standard_normal(E)).astype(np.float32)
    te_acc = np.clip(quality - 0.6 * np.exp(-3 * te) + 0.005 * rng.standard_normal(E), 0, 1).astype(np.float32)
    ep_wall = np.array([wall[epoch_of == e][-1] for e in range(E)], dtype=np.float64)
    ips = (spe * batch / np.diff(np.concatenate([[0.0], ep_wall]))).astype(np.float32)

    # ---- /probe blocks: [N, B], N = S (every step probed)
    N = S if a.probes else 0
    depth_pos = np.arange(B) / max(B - 1, 1)                      # 0 first block .. 1 last
    base = 0.05 * np.exp(1.2 * depth_pos)[None, :] * np.exp(-1.0 * t[:, None])   # nearer the loss → bigger
    skip = (base * np.exp(0.15 * rng.standard_normal((S, B)))).astype(np.float64)
    ratio = 0.5 + 0.4 * np.sin(np.arange(B))[None, :] ** 2 + (0.3 if a.transform == "znorm" else 0.0) * t[:, None]
    res = skip * ratio * np.exp(0.1 * rng.standard_normal((S, B)))
    cos_mu = -0.15 + (0.12 if a.transform == "znorm" else 0.0) - 0.1 * depth_pos[None, :] + 0.1 * t[:, None]
    cos = np.clip(cos_mu + 0.08 * rng.standard_normal((S, B)), -0.99, 0.99)
    sumn = np.sqrt(skip ** 2 + res ** 2 + 2 * cos * skip * res)
    overlap = sumn ** 2 / (skip ** 2 + res ** 2)
    blk = {"skip_norm": skip, "residual_norm": res, "sum_norm": sumn, "cosine": cos, "overlap": overlap}
    blk = {k: v.astype(np.float32) for k, v in blk.items()}

    # ---- /probe params: [N, P]
    numel = np.array([p["numel"] for p in model.params], dtype=np.int64)
    pnorm = (0.02 * np.sqrt(numel)[None, :] * np.exp(-t[:, None]) *
             np.exp(0.2 * rng.standard_normal((S, P))))
    pmean = 0.1 * pnorm / np.sqrt(numel)[None, :] * rng.standard_normal((S, P))
    pstd = np.sqrt(np.maximum(pnorm ** 2 / numel[None, :] - pmean ** 2, 1e-30))
    pre = {"mean": pmean, "std": pstd, "norm": pnorm,
           "min": pmean - 3 * pstd, "max": pmean + 3 * pstd, "nonfinite": np.zeros((S, P), np.int64)}
    if a.transform == "znorm":
        q_std = np.where(numel[None, :] > 1, 1.0, 0.0) * np.ones((S, 1))
        q_mean = np.zeros((S, P))
        post = {"mean": q_mean, "std": q_std, "norm": np.sqrt(numel)[None, :] * q_std,
                "min": -3 * q_std, "max": 3 * q_std, "nonfinite": np.zeros((S, P), np.int64)}
    else:
        post = {k: v.copy() for k, v in pre.items()}
    for d in (pre, post):
        for k in d:
            if k != "nonfinite":
                d[k] = d[k].astype(np.float32)
    upd = (1e-3 * np.exp(0.3 * rng.standard_normal((S, P)))).astype(np.float32)

    # ---- histograms every K steps
    hsteps = step[step % K == 0] if a.probes else np.zeros(0, np.int64)
    M = len(hsteps)
    elems = np.array([batch * int(np.prod(b["in_shape"])) for b in model.blocks], dtype=np.int64)
    hist = {}
    for part, norms, zf in (("skip", skip, 0.02), ("residual", res, 0.05), ("sum", sumn, 0.02)):
        rms = norms[hsteps] / np.sqrt(elems)[None, :]
        mu = np.log10(np.maximum(rms, 1e-30)) - 0.25
        pr = bin_probs(mu, 0.55, zf)
        hist[part] = rng.multinomial(np.broadcast_to(elems, (M, B)), pr).astype(np.int64)
    for part, d in (("pre", pre), ("post", post)):
        rms = d["norm"][hsteps].astype(np.float64) / np.sqrt(numel)[None, :]
        mu = np.log10(np.maximum(rms, 1e-30)) - 0.2
        pr = bin_probs(mu, 0.45 if part == "post" else 0.6, 0.0)
        hist[part] = rng.multinomial(np.broadcast_to(numel, (M, P)), pr).astype(np.int64)

    # ---- epoch aggregates
    pe = {}
    if a.probes:
        for k, v in blk.items():
            v64 = v.astype(np.float64)
            pe[f"blocks/{k}_mean"] = np.array([v64[epoch_of == e].mean(axis=0) for e in range(E)], np.float32)
            pe[f"blocks/{k}_std"] = np.array([v64[epoch_of == e].std(axis=0) for e in range(E)], np.float32)
        hepoch = epoch_of[hsteps]
        for part in ("skip", "residual", "sum"):
            pe[f"blocks/hist_{part}"] = np.array([hist[part][hepoch == e].sum(axis=0) for e in range(E)], np.int64)
        for side, d in (("pre", pre), ("post", post)):
            n64, s64 = d["norm"].astype(np.float64), d["std"].astype(np.float64)
            pe[f"params/{side}/norm_mean"] = np.array([n64[epoch_of == e].mean(axis=0) for e in range(E)], np.float32)
            pe[f"params/{side}/norm_std"] = np.array([n64[epoch_of == e].std(axis=0) for e in range(E)], np.float32)
            pe[f"params/{side}/std_mean"] = np.array([s64[epoch_of == e].mean(axis=0) for e in range(E)], np.float32)
            pe[f"params/{side}/hist"] = np.array([hist[side][hepoch == e].sum(axis=0) for e in range(E)], np.int64)
        pe_steps = np.array([(epoch_of == e).sum() for e in range(E)], np.int64)
        pe_hsteps = np.array([(hepoch == e).sum() for e in range(E)], np.int64)

    # ---------------------------------------------------------------- write
    f = h5py.File(path, "w", libver="latest")
    f.attrs["format"] = scalar_string("gradscope-run")
    f.attrs.create("format_version", a.format_version, dtype=np.int32)
    f.attrs["NX_class"] = scalar_string("NXroot")
    f.attrs["default"] = scalar_string("train")
    f.create_dataset("config", data=scalar_string(json.dumps(config, indent=1)))
    f.create_dataset("status", data=scalar_string("running", 16))

    mb = f.create_group("model/blocks")
    mb["name"] = strings([b["name"] for b in model.blocks], 32)
    mb["stage"] = np.array([b["stage"] for b in model.blocks], np.int32)
    mb["index"] = np.array([b["index"] for b in model.blocks], np.int32)
    mb["shortcut"] = strings([b["shortcut"] for b in model.blocks], 16)
    mb["in_shape"] = np.array([b["in_shape"] for b in model.blocks], np.int32)
    mb["out_shape"] = np.array([b["out_shape"] for b in model.blocks], np.int32)
    mp = f.create_group("model/params")
    mp["name"] = strings([p["name"] for p in model.params], 64)
    mp["kind"] = strings([p["kind"] for p in model.params], 16)
    mp["shape"] = np.array([(p["shape"] + [0, 0, 0, 0])[:4] for p in model.params], np.int32)
    mp["ndim"] = np.array([len(p["shape"]) for p in model.params], np.int32)
    mp["numel"] = numel
    mp["block"] = np.array([p["block"] for p in model.params], np.int32)

    def ext(group, name, data, long_name, units="1", chunk_rows=256):
        data = np.asarray(data)
        shape = (0,) + data.shape[1:]
        chunks = (min(chunk_rows, max(len(data), 1)),) + data.shape[1:]
        d = group.create_dataset(name, shape=shape, maxshape=(None,) + data.shape[1:], dtype=data.dtype,
                                 chunks=chunks, compression="gzip", compression_opts=4, shuffle=True)
        d.attrs["long_name"] = long_name
        d.attrs["units"] = units
        return d, data

    pending = []   # (dataset, full data, axis) appended in epoch slices

    tg = f.create_group("train")
    tg.attrs["NX_class"] = "NXdata"
    tg.attrs["signal"] = "loss"
    tg.attrs["axes"] = "step"
    for name, data, ln, u in (("step", step, "optimizer step", "1"), ("epoch", epoch_of, "epoch", "1"),
                              ("loss", loss, "batch loss", "nat"), ("accuracy", acc, "batch accuracy", "1"),
                              ("lr", lr, "learning rate", "1"), ("grad_norm_pre", gpre, "global gradient norm before transform", "1"),
                              ("grad_norm_post", gpost, "global gradient norm after transform", "1"),
                              ("wall_s", wall, "wall time", "s")):
        pending.append(ext(tg, name, data, ln, u) + ("step",))
    eg = f.create_group("epochs")
    eg.attrs["NX_class"] = "NXdata"
    eg.attrs["signal"] = "test_acc"
    eg.attrs["axes"] = "epoch"
    for name, data in (("epoch", ep), ("train_loss", tr_loss), ("train_acc", tr_acc), ("test_loss", te_loss),
                       ("test_acc", te_acc), ("wall_s", ep_wall), ("images_per_s", ips)):
        pending.append(ext(eg, name, data, name.replace("_", " ")) + ("epoch",))

    pg = f.create_group("probe")
    pending.append(ext(pg, "step", step[:N], "probed step") + ("step",))
    f.create_dataset("probe/hist_edges", data=EDGES)
    if a.probes:
        bg = f.create_group("probe/blocks")
        bg.attrs["NX_class"] = "NXdata"
        bg.attrs["signal"] = "overlap"
        bg.attrs["axes"] = ["step", "."]
        for k, v in blk.items():
            pending.append(ext(bg, k, v, k.replace("_", " ")) + ("step",))
        bg["step"] = pg["step"]    # hard link
        for side, d in (("pre", pre), ("post", post)):
            g = f.create_group(f"probe/params/{side}")
            for k, v in d.items():
                pending.append(ext(g, k, v, f"{side} {k}") + ("step",))
        pending.append(ext(f["probe/params"], "update_ratio", upd, "update ratio") + ("step",))
        hg = f.create_group("probe/hist")
        pending.append(ext(hg, "step", hsteps, "histogram step") + ("hist",))
        for part in ("skip", "residual", "sum", "pre", "post"):
            pending.append(ext(hg, part, hist[part], f"{part} magnitude counts", "count", chunk_rows=4) + ("hist",))
        eg2 = f.create_group("probe/epoch")
        pending.append(ext(eg2, "epoch", ep, "epoch") + ("epoch",))
        pending.append(ext(eg2, "steps", pe_steps, "steps aggregated") + ("epoch",))
        pending.append(ext(eg2, "hist_steps", pe_hsteps, "histogram samples aggregated") + ("epoch",))
        for k, v in pe.items():
            grp, name = k.rsplit("/", 1)
            g = f.require_group("probe/epoch/" + grp)
            pending.append(ext(g, name, v, k, chunk_rows=16) + ("epoch",))

    if a.dump:
        g = f.create_group("dump/step_0")
        g["loss"] = np.float64(loss[0])
        g.create_dataset("written", data=np.int32(1))
        for side in ("grad_pre", "grad_post"):
            for p in model.params[:3]:
                g[f"{side}/{p['name']}"] = rng.standard_normal(p["shape"]).astype(np.float32)

    # rows per axis up to the end of epoch e
    hist_epoch = epoch_of[hsteps] if a.probes else np.zeros(0, np.int32)

    def rows_through(axis, e):
        if axis == "step":
            return int(min((e + 1) * spe, S))
        if axis == "hist":
            return int((hist_epoch <= e).sum())
        return e + 1

    def append_through(e):
        for d, data, axis in pending:
            n = min(rows_through(axis, e), len(data))
            if n > d.shape[0]:
                old = d.shape[0]
                d.resize((n,) + d.shape[1:])
                d[old:n] = data[old:n]

    if not a.live:
        append_through(E - 1)
        f["status"][()] = scalar_string(a.status, 16)
        f.close()
        return

    # live: epoch 0 written, then SWMR; each stdin line appends one more epoch
    append_through(0)
    f.swmr_mode = True
    f.flush()
    print("ready 0", flush=True)
    e = 0
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == "next" and e + 1 < E:
            e += 1
            append_through(e)
            f.flush()
            print(f"ready {e}", flush=True)
        elif cmd == "finish":
            f["status"][()] = scalar_string("finished", 16)
            f.flush()
            f.close()
            print("closed", flush=True)
            return
        elif cmd == "abort":      # leave the file as kill -9 would
            import os
            print("aborting", flush=True)
            os._exit(0)
        else:
            print(f"ready {e}", flush=True)
    f.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--big", action="store_true", help="ResNet-56, 50 epochs x 400 steps, hist every 50")
    ap.add_argument("--depth", type=int, default=20)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--steps-per-epoch", type=int, default=20)
    ap.add_argument("--hist-every", type=int, default=5)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--transform", default="znorm")
    ap.add_argument("--optimizer", default="adam")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--status", default="finished")
    ap.add_argument("--format-version", type=int, default=1)
    ap.add_argument("--no-probes", dest="probes", action="store_false")
    ap.add_argument("--dump", action="store_true", help="add a /dump/step_0 group")
    ap.add_argument("--live", action="store_true", help="SWMR writer: epoch 0, then one epoch per stdin 'next'")
    ap.add_argument("--vlen-strings", action="store_true",
                    help="variable-length strings (the writer uses fixed-length UTF-8)")
    a = ap.parse_args()
    global VLEN
    VLEN = a.vlen_strings
    if a.big:
        a.depth, a.epochs, a.steps_per_epoch, a.hist_every, a.batch = 56, 50, 400, 50, 128
    make(a.out, a)


if __name__ == "__main__":
    main()
