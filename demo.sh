#!/usr/bin/env bash
# ./demo.sh — install what is missing, build, and run the main job on the default
# data (Fashion-MNIST from Debian's dataset-fashion-mnist): two ResNet-20 runs with
# the same seed, plain Adam and Adam + ZNorm, probes on; then what they hold and the
# figure set comparing them.  Outputs go to demo-out/ (kept out of git).
#
# Environment: GS_DEMO_EPOCHS (default 1), GS_DEMO_LIMIT (training images, default all).
set -u
cd "$(dirname "$0")"
. .ci/packages.sh

gs_install_missing "${GS_BUILD_PACKAGES[@]}" "${GS_RUN_PACKAGES[@]}" || {
    echo "gradscope: package installation failed" >&2; exit 1; }
# The GUI is optional: build it when GTK 4 is there.
gs_build build || exit 1

out=demo-out
mkdir -p "$out/checkpoints"
epochs="${GS_DEMO_EPOCHS:-1}"
limit=()
if [ -n "${GS_DEMO_LIMIT:-}" ]; then
    limit=(--limit-train "$GS_DEMO_LIMIT")
fi

for method in adam znorm; do
    transform=none
    [ "$method" = znorm ] && transform=znorm
    run="$out/resnet20-fmnist-$method.h5"
    if [ -f "$run" ] && build/cli/gradscope info "$run" 2>/dev/null | grep -q "status.*finished"; then
        echo "gradscope: $run already finished, kept (delete it to train again)"
        continue
    fi
    echo "== training ResNet-20 on Fashion-MNIST, Adam lr 1e-3, transform $transform, $epochs epoch(s)"
    build/cli/gradscope train --arch resnet20 --data fashion-mnist --epochs "$epochs" "${limit[@]}" \
        --optimizer adam --lr 1e-3 --batch-size 128 --transform "$transform" --seed 0 \
        --out "$run" --overwrite --save "$out/checkpoints/resnet20-fmnist-$method.h5" || exit 1
done

if build/cli/gradscope --help | grep -q '^  info'; then
    for method in adam znorm; do
        echo "== gradscope info $out/resnet20-fmnist-$method.h5"
        build/cli/gradscope info "$out/resnet20-fmnist-$method.h5" || exit 1
    done
fi
if build/cli/gradscope --help | grep -q '^  plot'; then
    echo "== figures"
    build/cli/gradscope compare "$out"/resnet20-fmnist-*.h5 || exit 1
    build/cli/gradscope plot "$out"/resnet20-fmnist-*.h5 --all --format png --out "$out/figures" || exit 1
    echo "gradscope: figures and their gnuplot scripts are in $out/figures/"
fi
