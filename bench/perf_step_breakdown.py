#!/usr/bin/env python3
"""perf_step_breakdown.py — where a training step's time goes, from a perf profile.

Reads `perf script` output of a profile recorded with call chains and buckets every
sample by the phase of the step it belongs to (conv forward / weight gradient / input
gradient, split into sgemm, im2col and the direct kernels; batch norm; relu; the
probes' overlap reduction; ...), then prints the share of each bucket.

    perf record -e cpu-clock -F 999 --call-graph dwarf,16384 -o step.data -- \\
        build/bench/bench_step --steps 4 --warmup 1 --threads 1
    perf script -i step.data | bench/perf_step_breakdown.py

The samples include the model's set-up and the warm-up step.
"""
import collections
import sys


def classify(frames):
    names = [f.split("+0x")[0] for f in frames]
    leaf = names[0] if names else "?"

    def has(x):
        return any(x in n for n in names)

    if has("gs_conv2d_forward"):
        if has("im2col"):
            return "conv forward: im2col"
        if has("sgemm"):
            return "conv forward: sgemm"
        if has("pack_image") or has("grid_to_image"):
            return "conv forward: direct packing"
        if has("direct") or has("fwd_image"):
            return "conv forward: direct kernel"
        return "conv forward: other"
    if has("gs_conv2d_backward"):
        if has("sgemm_tn"):
            return "conv wgrad: sgemm"
        if has("col2im"):
            return "conv dgrad: col2im"
        if has("im2col"):
            return "conv backward: im2col (of the input for wgrad, of dout for dgrad)"
        if has("sgemm"):
            return "conv dgrad: sgemm"
        if has("pack_image") or has("image_to_grid") or has("grid_to_image"):
            return "conv backward: direct packing"
        if has("wgrad"):
            return "conv wgrad: direct kernel"
        if has("dgrad") or has("direct"):
            return "conv dgrad: direct kernel"
        return "conv backward: other"
    for key, label in [("gs_relu_backward", "relu backward"), ("gs_relu_forward", "relu forward"),
                       ("gs_batchnorm_forward_train", "batch norm forward"),
                       ("gs_batchnorm_backward", "batch norm backward"),
                       ("gs_overlap_add", "block gradient sum + overlap statistics (gs_overlap_add)"),
                       ("block_forward", "residual add + relu (block_forward)"),
                       ("gs_optim", "optimizer"), ("gs_avgpool", "avgpool"),
                       ("gs_linear", "fc"), ("gs_softmax", "loss")]:
        if has(key):
            return label
    if any(n.startswith("[k]") for n in names):
        return "kernel (page faults, scheduling)"
    if "libgomp" in leaf or leaf.startswith("0x"):
        return "OpenMP runtime (barrier spin/yield)"
    return "other (set-up: random init, libc)"


def main():
    buckets = collections.Counter()
    total = 0
    frames = []

    def flush():
        nonlocal total
        if frames:
            buckets[classify(frames)] += 1
            total += 1

    for line in sys.stdin:
        line = line.rstrip("\n")
        if not line.strip():
            flush()
            frames = []
            continue
        if line[0] in " \t":
            parts = line.strip().split(None, 1)
            if len(parts) == 2:
                sym = parts[1].split(" (")[0]
                dso = parts[1].rsplit("(", 1)[-1]
                if sym.startswith("[unknown]"):
                    sym = "0x?" + dso
                if "kernel.kallsyms" in dso:
                    sym = "[k]" + sym
                frames.append(sym)
        else:
            frames = []
    flush()
    for k, v in buckets.most_common():
        print("%6.1f%%  %s" % (100.0 * v / total, k))
    print("(%d samples)" % total)


if __name__ == "__main__":
    main()
