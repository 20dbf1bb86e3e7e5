#!/usr/bin/python3
"""train_fmnist.py — the PyTorch twin of

    gradscope train --arch resnet20 --data fashion-mnist --epochs 2 \
                    --optimizer adam --lr 1e-3 --batch-size 128

    train_fmnist.py [--epochs 2] [--seed 0] [--limit-train N] [--arch resnet20]
                    [--batch-size 128] [--lr 1e-3] [--weight-decay 0] [--threads 2]
                    [--data-dir /usr/share/datasets/fashion-mnist]

Data: the four idx .gz files read with gzip + numpy; pixels x/255 normalized with
the mean and population std of the whole training set; training augmentation =
zero padding by 4 (in normalized space) + random 28x28 crop + random horizontal
flip; a fresh shuffle each epoch; the last incomplete training batch is dropped.
Prints per-epoch train loss/acc, test loss/acc and training images/s, then one
JSON line {"test_acc", "test_loss", "seconds", ...}.
"""

import argparse
import gzip
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True     # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gs_torch  # noqa: E402

PAD = 4
TEST_BATCH = 1000


def read_idx(path):
    """An idx file (gzip) as a numpy uint8 array of the shape in its header."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    if data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError("%s: not an unsigned-byte idx file" % path)
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_fmnist(data_dir):
    """((train images, labels), (test images, labels)); images uint8 (N, 28, 28)."""
    def part(prefix):
        x = read_idx(os.path.join(data_dir, prefix + "-images-idx3-ubyte.gz"))
        y = read_idx(os.path.join(data_dir, prefix + "-labels-idx1-ubyte.gz"))
        assert len(x) == len(y)
        return x, y
    return part("train"), part("t10k")


def normalize(images, mean, std):
    """uint8 (N, H, W) -> float32 (N, 1, H, W), (x/255 - mean) / std."""
    x = torch.from_numpy(images.astype(np.float32) / np.float32(255.0))
    return ((x - mean) / std).unsqueeze(1).contiguous()


def augment(x, gen):
    """Pad-4 random crop (zeros in normalized space) + random horizontal flip,
    done for the whole batch with one gather."""
    b, _, h, w = x.shape
    padded = F.pad(x, (PAD, PAD, PAD, PAD))
    oy = torch.randint(0, 2 * PAD + 1, (b,), generator=gen)
    ox = torch.randint(0, 2 * PAD + 1, (b,), generator=gen)
    flip = torch.rand(b, generator=gen) < 0.5
    ar_h, ar_w = torch.arange(h), torch.arange(w)
    rows = oy[:, None] + ar_h                                           # (B, H)
    cols = ox[:, None] + torch.where(flip[:, None], w - 1 - ar_w, ar_w)  # (B, W)
    out = padded[torch.arange(b)[:, None, None], :, rows[:, :, None], cols[:, None, :]]
    return out.permute(0, 3, 1, 2).contiguous()                         # (B, C, H, W)


def evaluate(model, x, y):
    """(mean loss, accuracy) over a whole split, in eval mode."""
    model.eval()
    loss_sum, correct = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(x), TEST_BATCH):
            logits = model(x[i:i + TEST_BATCH])
            t = y[i:i + TEST_BATCH]
            loss_sum += F.cross_entropy(logits, t, reduction="sum").item()
            correct += (logits.argmax(1) == t).sum().item()
    return loss_sum / len(x), correct / len(x)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", default="resnet20")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--limit-train", type=int, default=0,
                    help="use only the first N training images (0 = all)")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--weight-decay", type=float, default=0.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)

    (xtr, ytr), (xte, yte) = load_fmnist(args.data_dir)
    # Statistics of the whole training set (population std), in float64.
    pix = xtr.astype(np.float64) / 255.0
    mean, std = float(pix.mean()), float(pix.std())
    del pix
    if args.limit_train:
        xtr, ytr = xtr[:args.limit_train], ytr[:args.limit_train]
    xtr, xte = normalize(xtr, mean, std), normalize(xte, mean, std)
    ytr = torch.from_numpy(ytr.astype(np.int64))
    yte = torch.from_numpy(yte.astype(np.int64))
    print("fashion-mnist: %d train, %d test, mean %.6f std %.6f, %d threads"
          % (len(xtr), len(xte), mean, std, args.threads), flush=True)

    model = gs_torch.GSResNet(args.arch, in_channels=1, num_classes=10)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    steps_per_epoch = len(xtr) // args.batch_size          # drop_last
    if steps_per_epoch == 0:
        ap.error("fewer training images than one batch")

    t_start = time.perf_counter()
    test_loss = test_acc = float("nan")
    for epoch in range(1, args.epochs + 1):
        model.train()
        perm = torch.randperm(len(xtr), generator=gen)
        loss_sum, correct, seen = 0.0, 0, 0
        t0 = time.perf_counter()
        for s in range(steps_per_epoch):
            idx = perm[s * args.batch_size:(s + 1) * args.batch_size]
            x, y = augment(xtr[idx], gen), ytr[idx]
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += loss.item() * len(y)
            correct += (logits.argmax(1) == y).sum().item()
            seen += len(y)
        train_time = time.perf_counter() - t0
        test_loss, test_acc = evaluate(model, xte, yte)
        print("epoch %d  train loss %.4f acc %.4f  test loss %.4f acc %.4f  %.1f images/s"
              % (epoch, loss_sum / seen, correct / seen, test_loss, test_acc,
                 seen / train_time), flush=True)
    seconds = time.perf_counter() - t_start
    print(json.dumps({"test_acc": test_acc, "test_loss": test_loss, "seconds": round(seconds, 3),
                      "arch": args.arch, "epochs": args.epochs, "train_images": len(xtr),
                      "threads": args.threads}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
