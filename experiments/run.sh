#!/usr/bin/env bash
# experiments/run.sh — does ZNorm tame gradient overlap and help accuracy?
#
# Trains every (method × depth × seed) of the protocol below with probes on, skips runs
# that already finished (so it can be interrupted and restarted), then writes the
# comparison tables (mean ± std over seeds) and the figure set.
#
# usage: experiments/run.sh [--full] [--data SPEC] [--out DIR] [--epochs N]
#                           [--limit-train N] [--limit-test N] [--seeds "0 1 2"]
#                           [--threads N] [--optimizer adam|sgd] [--dry-run]
#
# Default protocol (about 90 minutes on 2 cores): Fashion-MNIST, 12000 training and
# 2000 test images, 2 epochs, ResNet-20 and ResNet-56, seeds 0 1 2, Adam lr 1e-3
# with transform none | znorm | gc | clip-norm:1.
# --full: the whole dataset, 30 epochs, also ResNet-110 and the bottleneck
# ResNet-152-style model (hours to days).  --data cifar10:DIR for the paper's setting.
# With --optimizer sgd: SGD lr 0.1, momentum 0.9, weight decay 5e-4, cosine schedule.
set -u
cd "$(dirname "$0")/.."

data=fashion-mnist
out=experiments/out
epochs=2
limit_train=12000
limit_test=2000
seeds="0 1 2"
threads=$(nproc)
optimizer=adam
full=0
dry=0
while [ $# -gt 0 ]; do
    case "$1" in
        --full) full=1; epochs=30; limit_train=0; limit_test=0 ;;
        --data) data="$2"; shift ;;
        --out) out="$2"; shift ;;
        --epochs) epochs="$2"; shift ;;
        --limit-train) limit_train="$2"; shift ;;
        --limit-test) limit_test="$2"; shift ;;
        --seeds) seeds="$2"; shift ;;
        --threads) threads="$2"; shift ;;
        --optimizer) optimizer="$2"; shift ;;
        --dry-run) dry=1 ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "experiments/run.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done
case "$optimizer" in
    adam) opt_args=(--optimizer adam --lr 1e-3) ;;
    sgd) opt_args=(--optimizer sgd --lr 0.1 --momentum 0.9 --weight-decay 5e-4 --schedule cosine) ;;
    *) echo "experiments/run.sh: --optimizer $optimizer: expected adam or sgd" >&2; exit 2 ;;
esac

. .ci/packages.sh
gs_build build || exit 1
gs=build/cli/gradscope

archs="resnet20 resnet56"
[ "$full" = 1 ] && archs="resnet20 resnet56 resnet110 resnet152"
methods="none znorm gc clip-norm:1"
limits=()
[ "$limit_train" != 0 ] && limits+=(--limit-train "$limit_train")
[ "$limit_test" != 0 ] && limits+=(--limit-test "$limit_test")

mkdir -p "$out/runs"
total=0
for a in $archs; do for m in $methods; do for s in $seeds; do total=$((total + 1)); done; done; done
i=0
start=$(date +%s)
for arch in $archs; do
    for method in $methods; do
        for seed in $seeds; do
            i=$((i + 1))
            tag="${arch}-${optimizer}-${method//:/}-s${seed}"
            run="$out/runs/$tag.h5"
            if [ -f "$run" ] && /usr/bin/env python3 - "$run" <<'PY' 2>/dev/null
import sys, h5py
with h5py.File(sys.argv[1], "r", swmr=True) as f:
    sys.exit(0 if f["status"][()].rstrip(b"\0") == b"finished" else 1)
PY
            then
                echo "[$i/$total] $tag: finished earlier, skipped"
                continue
            fi
            now=$(date +%s)
            echo "[$i/$total] $tag  (elapsed $(( (now - start) / 60 )) min)"
            [ "$dry" = 1 ] && continue
            $gs train --arch "$arch" --data "$data" --epochs "$epochs" "${limits[@]}" "${opt_args[@]}" \
                --transform "$method" --seed "$seed" --threads "$threads" --batch-size 128 \
                --out "$run" --overwrite --quiet || { echo "experiments/run.sh: $tag failed" >&2; exit 1; }
        done
    done
done
[ "$dry" = 1 ] && exit 0

echo "== comparison (mean ± std over seeds)"
$gs compare "$out"/runs/*.h5 --format markdown | tee "$out/compare.md"
for arch in $archs; do
    $gs compare "$out"/runs/"$arch"-*.h5 --format markdown > "$out/compare-$arch.md"
done
echo "== per stage (mean ± std over seeds; paired ZNorm − none)"
experiments/summarize.py --out "$out" --gradscope "$gs" | tee "$out/summary.md"
echo "== figures"
$gs plot "$out"/runs/*.h5 --all --format png --out "$out/figures" || exit 1
$gs plot "$out"/runs/*.h5 --all --format pdf --out "$out/figures-pdf" || exit 1
echo "experiments/run.sh: tables in $out/compare*.md and $out/summary.md, figures in $out/figures/"
