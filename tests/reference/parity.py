#!/usr/bin/python3
"""parity.py — gradient parity between gradscope (C) and its PyTorch twin.

    parity.py --gradscope build/cli/gradscope --arch resnet20 --optimizer sgd \
              --transform none --workdir /tmp/parity [--shortcut A|B] [--width 16] \
              [--steps 2] [--batch 8] [--tol 1e-4] [--znorm-scope all|multidim] \
              [--calibrated] [--skip-run]

Steps:
  (a) build the torch model with a fixed seed and save it as WORKDIR/init.h5;
  (b) write one batch WORKDIR/batch.h5 (`images` float32 [B,C,H,W], `labels` int64 [B]);
  (c) run `gradscope train ... --init init.h5 --save final.h5 --out run.h5 --dump-grads 0`
      on that batch for K steps (the command is printed);
  (d) do the same K steps in torch (train mode, same batch every step, mean
      cross-entropy, transform on every p.grad, optimizer.step());
  (e) compare step 0 (loss, raw and transformed gradients, per-block dx_skip and
      dx_residual) from run.h5 and the parameters and BN buffers after K steps
      from final.h5 with torch's.

Metric per tensor: max|a - b| / max(max|b|, 1e-12), b = torch float32.  Pass when
<= tol.  The same K steps are also run by torch "twins": one in float64 and --twins
float32 ones whose initial weights are scaled by (1 + perturb * N(0,1)), perturb
1e-7 (roundoff-sized).  The largest twin metric against the float32 reference, the
"floor", is printed beside each tensor: it estimates what a correct implementation
with different roundoff may score.  A floor above tol marks an ill-conditioned
tensor: Adam, whose update g/(sqrt(v_hat)+eps) ~ lr*sign(g) turns with roundoff when
g (or g + wd*w, Adam's coupled decay) is within ~eps of 0; a ReLU input within
roundoff of 0 whose flip moves a small batch's gradient; or SGD at lr 0.1 going
chaotic after a few steps.  The floor is an estimate (a sample of perturbations),
not a bound.  --calibrated accepts metric <= max(tol, floor-factor * floor) (but a
tensor above tol whose floor exceeds --max-floor fails as unverifiable) and, for
Adam/AdamW, judges the final weights without their fragile elements (sqrt(v_hat)
below adam-kappa * the tensor's largest at some step), which need only be within
2 * lr * steps of torch.
Exit status: 0 all pass, 1 some tensor failed or is missing, 2 gradscope did not run.
"""

import argparse
import copy
import math
import os
import shlex
import subprocess
import sys

import h5py
import numpy as np
import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True     # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gs_torch  # noqa: E402

ZNORM_EPS = 1e-8


# ---------------------------------------------------------------------------------
# Gradient transforms (applied per parameter tensor to p.grad, before the step)
# ---------------------------------------------------------------------------------

def parse_transform(spec):
    """'none' | 'znorm' | 'gc' | 'clip-norm:T' | 'clip-value:T' -> (kind, T or None)."""
    if spec in ("none", "znorm", "gc"):
        return spec, None
    kind, _, value = spec.partition(":")
    if kind in ("clip-norm", "clip-value") and value:
        return kind, float(value)
    raise argparse.ArgumentTypeError("bad --transform %r" % spec)


def znorm_(g):
    """g = (g - mean) / (std + eps), population std; all zeros when std == 0."""
    std = g.std(unbiased=False)
    if std.item() == 0.0:
        g.zero_()
    else:
        g.sub_(g.mean()).div_(std + ZNORM_EPS)


def gc_(g):
    """Gradient centralization: subtract the mean over all dims but the first."""
    if g.dim() > 1:
        g.sub_(g.mean(dim=tuple(range(1, g.dim())), keepdim=True))


def apply_transform(params, transform, znorm_scope="all"):
    kind, value = transform
    grads = [p for p in params if p.grad is not None]
    with torch.no_grad():
        if kind == "znorm":
            for p in grads:
                if znorm_scope == "all" or p.grad.dim() > 1:
                    znorm_(p.grad)
        elif kind == "gc":
            for p in grads:
                gc_(p.grad)
        elif kind == "clip-norm":
            torch.nn.utils.clip_grad_norm_(grads, value)
        elif kind == "clip-value":
            torch.nn.utils.clip_grad_value_(grads, value)


def make_optimizer(name, params, lr, momentum, weight_decay):
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, nesterov=False,
                               weight_decay=weight_decay)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, betas=(0.9, 0.999), eps=1e-8,
                                weight_decay=weight_decay)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, betas=(0.9, 0.999), eps=1e-8,
                                 weight_decay=weight_decay)
    raise ValueError(name)


# ---------------------------------------------------------------------------------
# The torch run
# ---------------------------------------------------------------------------------

def torch_run(model, images, labels, args, transform):
    """K training steps on the same batch, in the dtype of model and images.

    Returns {label: numpy array}, labels named after where gradscope stores them:
      step_0/loss, step_0/grad_pre/<name>, step_0/grad_post/<name>,
      step_0/blocks/<layer>/dx_skip, step_0/blocks/<layer>/dx_residual  (run.h5 /dump)
      final/params/<name>, final/buffers/<bn>.running_* / .num_batches_tracked (final.h5)
    and, for Adam/AdamW, "fragile/final/params/<name>": bool masks of the elements
    whose update is ill-conditioned (see adam_fragile).
    """
    def np_(t):
        return t.detach().clone().numpy()

    model.train()
    params = list(model.parameters())
    named = list(model.named_parameters())
    opt = make_optimizer(args.optimizer, params, args.lr, args.momentum, args.weight_decay)
    rec = {}
    for k in range(args.steps):
        first = k == 0
        model.set_capture_components(first)
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
        if first:
            rec["step_0/loss"] = np.float64(loss.item())
            for n, p in named:
                rec["step_0/grad_pre/" + n] = np_(p.grad)
            for name, block in model.named_blocks():
                rec["step_0/blocks/%s/dx_skip" % name] = np_(block.dx_skip())
                rec["step_0/blocks/%s/dx_residual" % name] = np_(block.dx_residual())
        apply_transform(params, transform, args.znorm_scope or "all")
        if first:
            for n, p in named:
                rec["step_0/grad_post/" + n] = np_(p.grad)
        opt.step()
        if args.optimizer in ("adam", "adamw"):
            for n, p in named:
                key = "fragile/final/params/" + n
                mask = adam_fragile(opt, p, args.adam_kappa)
                rec[key] = mask if key not in rec else rec[key] | mask
    model.set_capture_components(False)
    for n, p in named:
        rec["final/params/" + n] = np_(p)
    for n, b in model.named_buffers():
        if n.endswith(("running_mean", "running_var", "num_batches_tracked")):
            rec["final/buffers/" + n] = np_(b)
    return rec


def adam_fragile(opt, p, kappa):
    """Elements of p whose Adam update m_hat/(sqrt(v_hat)+eps) is ill-conditioned
    at this step: sqrt(v_hat) < kappa * its largest value over the tensor.  There
    the gradient is near 0 relative to its roundoff (or, for Adam's coupled decay,
    g + wd*w cancels), so the ~lr-sized update turns with the last bits of g."""
    st = opt.state[p]
    beta2 = opt.param_groups[0]["betas"][1]
    vhat_sqrt = (st["exp_avg_sq"] / (1 - beta2 ** float(st["step"]))).sqrt()
    return (vhat_sqrt < kappa * vhat_sqrt.max()).numpy()


def gradscope_location(label):
    """(file key, HDF5 path) where gradscope stores the tensor of a torch_run label."""
    if label.startswith("step_0/"):
        return "run", "/dump/" + label
    return "final", label[len("final"):]


# ---------------------------------------------------------------------------------
# Comparison
# ---------------------------------------------------------------------------------

def rel_error(a, b, keep=None):
    """max|a - b| / max(max|b|, 1e-12); inf on shape mismatch or non-finite a.
    With keep (a bool mask), the numerator only looks at the kept elements."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.size == b.size == 1:
        a, b = a.reshape(()), b.reshape(())
    if a.shape != b.shape or not np.all(np.isfinite(a)):
        return math.inf
    diff = np.abs(a - b) if keep is None else np.abs(a - b)[keep]
    if diff.size == 0:
        return 0.0
    return float(np.max(diff) / max(float(np.max(np.abs(b))), 1e-12))


def compare_all(files, ref, twins, args):
    """One row per tensor: (label, metric, floor, ok, note).

    metric = rel_error(gradscope, torch float32);  floor = the largest
    rel_error(twin, torch float32) over the twins, i.e. how far a correct
    implementation with other roundoff lands.  ok = metric <= tol, or with
    --calibrated metric <= max(tol, floor_factor * floor), where for Adam's final
    weights metric and floor leave out the fragile elements (adam_fragile), which
    must only lie within 2 * lr * steps (the most Adam can move them) of torch."""
    rows = []
    for label, expected in ref.items():
        if label.startswith("fragile/"):
            continue
        key, path = gradscope_location(label)
        fragile = ref.get("fragile/" + label) if args.calibrated else None
        keep = None if fragile is None else ~fragile
        floor = max([rel_error(t[label], expected, keep) for t in twins], default=0.0)
        if path not in files[key]:
            rows.append((label, math.inf, floor, False, "missing %s in %s.h5" % (path, key)))
            continue
        got = files[key][path][()]
        metric = rel_error(got, expected, keep)
        note = ""
        if metric == math.inf:
            note = ("non-finite values" if np.size(got) == np.size(expected)
                    else "shape %s, torch %s" % (np.shape(got), np.shape(expected)))
        elif fragile is not None and fragile.any():
            # The fragile elements: only bounded by the size of Adam's steps.
            bound = 2 * args.lr * args.steps + args.tol * np.abs(expected).max()
            worst = float(np.abs(got - expected)[fragile].max())
            note = "%d Adam-fragile elements left out, max diff %.2e" % (fragile.sum(), worst)
            if worst > bound:
                metric = math.inf
                note += " > 2*lr*steps"
        limit = args.tol
        if args.calibrated:
            limit = max(limit, args.floor_factor * floor)
            if floor > args.max_floor and metric > args.tol:
                # The twins scatter too much for the comparison to mean anything.
                limit = -1.0
                note = (note + "; " if note else "") + \
                    "unverifiable: floor > --max-floor %g" % args.max_floor
        rows.append((label, metric, floor, metric <= limit, note))
    return rows


# ---------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------

def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gradscope", required=True, help="path to the gradscope binary")
    ap.add_argument("--arch", required=True)
    ap.add_argument("--shortcut", choices=["A", "B"], default=None,
                    help="default: A for basic blocks, B for bottlenecks")
    ap.add_argument("--width", type=int, default=16)
    ap.add_argument("--optimizer", choices=["sgd", "adam", "adamw"], required=True)
    ap.add_argument("--transform", type=parse_transform, default=("none", None),
                    help="none|znorm|gc|clip-norm:T|clip-value:T")
    ap.add_argument("--znorm-scope", choices=["all", "multidim"], default=None,
                    help="passed through to gradscope when given (torch default: all)")
    ap.add_argument("--steps", type=int, default=2)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--channels", type=int, default=3)
    ap.add_argument("--size", type=int, default=8, help="image height and width")
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--lr", type=float, default=None,
                    help="default 0.1 for sgd, 1e-3 for adam/adamw")
    ap.add_argument("--momentum", type=float, default=0.9)
    ap.add_argument("--weight-decay", type=float, default=5e-4)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--calibrated", action="store_true",
                    help="also accept a tensor whose metric is within --floor-factor times "
                         "its floor (the largest difference of the torch twins)")
    ap.add_argument("--floor-factor", type=float, default=10.0)
    ap.add_argument("--max-floor", type=float, default=1e-2,
                    help="with --calibrated, a tensor above tol whose floor exceeds this "
                         "fails as unverifiable")
    ap.add_argument("--adam-kappa", type=float, default=1e-4,
                    help="with --calibrated, Adam's final weights leave out the elements "
                         "whose sqrt(v_hat) fell below kappa * the tensor's largest")
    ap.add_argument("--twins", type=int, default=2,
                    help="perturbed float32 torch twins besides the float64 one")
    ap.add_argument("--perturb", type=float, default=1e-7,
                    help="relative perturbation of the twins' initial weights")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds for gradscope")
    ap.add_argument("--skip-run", action="store_true",
                    help="reuse WORKDIR/run.h5 and final.h5 instead of running gradscope")
    ap.add_argument("--workdir", required=True)
    args = ap.parse_args(argv)
    if args.lr is None:
        args.lr = 0.1 if args.optimizer == "sgd" else 1e-3
    kind, _ = gs_torch.parse_arch(args.arch)          # validates the arch string
    args.shortcut = args.shortcut or gs_torch.default_shortcut(kind)
    return args


def transform_str(transform):
    kind, value = transform
    return kind if value is None else "%s:%s" % (kind, repr(value))


def gradscope_command(args, wd):
    cmd = [args.gradscope, "train",
           "--arch", args.arch, "--shortcut", args.shortcut, "--width", str(args.width),
           "--data", "h5:" + os.path.join(wd, "batch.h5"),
           "--batch-size", str(args.batch), "--steps", str(args.steps),
           "--no-augment", "--no-shuffle",
           "--optimizer", args.optimizer, "--lr", repr(args.lr),
           "--momentum", repr(args.momentum), "--weight-decay", repr(args.weight_decay),
           "--transform", transform_str(args.transform)]
    if args.znorm_scope:
        cmd += ["--znorm-scope", args.znorm_scope]
    cmd += ["--threads", "1",
            "--init", os.path.join(wd, "init.h5"),
            "--save", os.path.join(wd, "final.h5"),
            "--out", os.path.join(wd, "run.h5"),
            "--dump-grads", "0"]
    return cmd


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(1)
    wd = os.path.abspath(args.workdir)
    os.makedirs(wd, exist_ok=True)

    # (a) initial weights, saved and reloaded so both sides start from the file.
    model = gs_torch.build_model(args.arch, in_channels=args.channels,
                                 num_classes=args.classes, width=args.width,
                                 shortcut=args.shortcut, seed=args.seed)
    init_path = os.path.join(wd, "init.h5")
    gs_torch.save_checkpoint(init_path, model, seed=args.seed)
    model = gs_torch.GSResNet(args.arch, in_channels=args.channels,
                              num_classes=args.classes, width=args.width,
                              shortcut=args.shortcut, init=False)
    gs_torch.load_checkpoint(init_path, model)

    # (b) one random batch.
    gen = torch.Generator().manual_seed(args.seed + 1)
    images = torch.randn(args.batch, args.channels, args.size, args.size, generator=gen)
    labels = torch.randint(0, args.classes, (args.batch,), generator=gen, dtype=torch.int64)
    labels[0] = args.classes - 1    # gradscope's h5 loader takes 1 + the largest label as K
    with h5py.File(os.path.join(wd, "batch.h5"), "w") as f:
        f.create_dataset("images", data=images.numpy().astype(np.float32))
        f.create_dataset("labels", data=labels.numpy().astype(np.int64))

    # (c) gradscope.
    run_path, final_path = os.path.join(wd, "run.h5"), os.path.join(wd, "final.h5")
    cmd = gradscope_command(args, wd)
    print("$ " + shlex.join(cmd), flush=True)
    if not args.skip_run:
        for p in (run_path, final_path):        # never compare stale outputs
            if os.path.exists(p):
                os.remove(p)
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
        except (OSError, subprocess.TimeoutExpired) as e:
            print("gradscope failed to run: %s" % e, file=sys.stderr)
            return 2
        if proc.returncode != 0:
            print("gradscope exited with status %d; stderr:" % proc.returncode, file=sys.stderr)
            sys.stderr.write(proc.stderr)
            return 2
    for p in (run_path, final_path):
        if not os.path.exists(p):
            print("gradscope wrote no %s" % p, file=sys.stderr)
            return 2

    # (d) torch: the float32 reference, and the twins that measure how far an
    #     implementation with other roundoff may land (the "floor" of each tensor).
    twins = [torch_run(copy.deepcopy(model).double(), images.double(), labels, args,
                       args.transform)]
    for i in range(args.twins):
        twin = copy.deepcopy(model)
        gen = torch.Generator().manual_seed(args.seed + 100 + i)
        with torch.no_grad():
            for p in twin.parameters():
                p.mul_(1 + args.perturb * torch.randn(p.shape, generator=gen))
        twins.append(torch_run(twin, images, labels, args, args.transform))
    ref = torch_run(model, images, labels, args, args.transform)

    # (e) compare.
    with h5py.File(run_path, "r") as run, h5py.File(final_path, "r") as final:
        rows = compare_all({"run": run, "final": final}, ref, twins, args)
    return report(rows, args)


def report(rows, args):
    """Prints the 10 worst rows (failures first) and the verdict; returns the exit status."""
    worst = sorted(rows, key=lambda r: (r[3], -r[1]))
    failed = [r for r in rows if not r[3]]
    width = max(len(r[0]) for r in rows)
    print("\n%-*s  %-10s  %-10s" % (width, "tensor (worst 10)", "metric", "floor"))
    for label, metric, floor, ok, note in worst[:10]:
        print("%-*s  %.3e   %.3e%s%s" % (width, label, metric, floor, "" if ok else "  FAIL",
                                          ("  (" + note + ")") if note else ""))
    if len(failed) > 10:
        print("... %d more failing" % (len(failed) - 10))
    ill = [r for r in rows if r[2] > args.tol]
    if ill:
        print("note: on %d tensors the torch twins already differ by more than tol "
              "(worst floor %.3e: %s): ill-conditioned (Adam's g/(|g|+eps) near g = 0, a "
              "ReLU flip, or a chaotic trajectory); fewer --steps (1 for Adam), a smaller --lr, "
              "another --seed or --calibrated make the check meaningful"
              % (len(ill), max(r[2] for r in ill), max(ill, key=lambda r: r[2])[0]))
        if not args.calibrated:
            within = [r for r in failed if r[1] <= args.floor_factor * r[2]]
            if within:
                print("note: %d of the failures are within %gx their floor "
                      "(--calibrated would accept them)" % (len(within), args.floor_factor))
    head = "parity %s shortcut=%s width=%d opt=%s transform=%s%s steps=%d" % (
        args.arch, args.shortcut, args.width, args.optimizer, transform_str(args.transform),
        " znorm-scope=" + args.znorm_scope if args.znorm_scope else "", args.steps)
    crit = "tol %g%s" % (args.tol, " (calibrated, x%g floor)" % args.floor_factor
                         if args.calibrated else "")
    top = max(rows, key=lambda r: r[1])
    if failed:
        print("FAIL %s: %d of %d tensors above %s (worst %.3e: %s)"
              % (head, len(failed), len(rows), crit, top[1], top[0]))
        return 1
    print("PASS %s: %d tensors, worst %.3e (%s) within %s"
          % (head, len(rows), top[1], top[0], crit))
    return 0


if __name__ == "__main__":
    sys.exit(main())
