"""gs_torch — the PyTorch twin of a gradscope ResNet, and gradscope's HDF5 checkpoints.

Used by parity.py (gradient parity against the C trainer), train_fmnist.py and
bench/bench_torch.py.  Only needs torch, numpy and h5py (no torchvision).

Model (must match gradscope exactly, parameter names included):
    stem     conv1 (3x3, s1, p1, no bias) -> bn1 -> relu
    stages   layer1..layerS, planes = width * 2**(s-1), stride 1 for layer1 else 2
    blocks   basic (expansion 1) or bottleneck (expansion 4), indexed from 0
    shortcut identity when stride == 1 and in == out, else option "A" (subsample +
             zero-pad channels, no parameters) or "B" (1x1 conv + BN, `shortcut.0/1`)
    head     global average pool -> fc (Linear with bias)

Checkpoint layout (HDF5):
    /params/<state_dict name>                       float32, PyTorch shapes
    /buffers/<bn>.running_mean, .running_var        float32 [C]
    /buffers/<bn>.num_batches_tracked               int64 scalar
    /optimizer  attrs type ("sgd"|"adam"|"adamw"), step (int64);
                datasets momentum_buffer/<name> or exp_avg/<name>, exp_avg_sq/<name>
    /state      attrs step, epoch, seed (int64)
    /config     JSON text, scalar string dataset
"""

import json
import re

import h5py
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# Named architectures: name -> (block kind, blocks per stage).
_NAMED_ARCHS = {
    "resnet20": ("basic", [3, 3, 3]),
    "resnet32": ("basic", [5, 5, 5]),
    "resnet44": ("basic", [7, 7, 7]),
    "resnet56": ("basic", [9, 9, 9]),
    "resnet110": ("basic", [18, 18, 18]),
    "resnet152": ("bottleneck", [3, 8, 36, 3]),
}

BN_EPS = 1e-5
BN_MOMENTUM = 0.1


def parse_arch(arch):
    """Returns (block kind, list of blocks per stage) for an arch string.

    Accepts the named archs above, `resnet-basic:N` and `resnet-bottleneck:N`
    (3 stages of N blocks each)."""
    if arch in _NAMED_ARCHS:
        kind, blocks = _NAMED_ARCHS[arch]
        return kind, list(blocks)
    m = re.fullmatch(r"resnet-(basic|bottleneck):(\d+)", arch)
    if m and int(m.group(2)) >= 1:
        return m.group(1), [int(m.group(2))] * 3
    raise ValueError("unknown arch %r (resnet20/32/44/56/110/152, resnet-basic:N, "
                     "resnet-bottleneck:N)" % arch)


def default_shortcut(kind):
    """Option A for basic blocks, B for bottlenecks."""
    return "A" if kind == "basic" else "B"


# ---------------------------------------------------------------------------------
# Blocks
# ---------------------------------------------------------------------------------

def _bn(c):
    return nn.BatchNorm2d(c, eps=BN_EPS, momentum=BN_MOMENTUM)


class ShortcutA(nn.Module):
    """Option A: x[:, :, ::stride, ::stride], then zero channels around it:
    pad_front = (out - in) // 2 before, the rest after.  No parameters."""

    def __init__(self, in_c, out_c, stride):
        super().__init__()
        self.stride = stride
        self.pad_front = (out_c - in_c) // 2
        self.pad_back = out_c - in_c - self.pad_front

    def forward(self, x):
        if self.stride != 1:
            x = x[:, :, ::self.stride, ::self.stride]
        # F.pad pads the last dims first: (W left, W right, H top, H bottom, C front, C back)
        return F.pad(x, (0, 0, 0, 0, self.pad_front, self.pad_back))


def _make_shortcut(in_c, out_c, stride, option):
    """Identity, option A or option B (named so the params are `shortcut.0/1.*`)."""
    if stride == 1 and in_c == out_c:
        return nn.Identity()
    if option == "A":
        return ShortcutA(in_c, out_c, stride)
    if option == "B":
        return nn.Sequential(nn.Conv2d(in_c, out_c, 1, stride=stride, bias=False), _bn(out_c))
    raise ValueError("shortcut must be 'A' or 'B', got %r" % option)


class _Block(nn.Module):
    """Common skip/residual plumbing.

    forward() feeds the block input to the two branches through two distinct
    views (xs for the skip path, xr for the residual path).  When
    `capture_components` is set, both views retain their gradient, so after
    backward xs.grad is the gradient reaching the input through the skip path
    (dx_skip) and xr.grad the one through the residual path (dx_residual);
    their sum is the gradient of the block input."""

    def __init__(self):
        super().__init__()
        self.capture_components = False
        self.xs = None
        self.xr = None

    def residual(self, x):
        raise NotImplementedError

    def forward(self, x):
        xs = x.view_as(x)
        xr = x.view_as(x)
        if self.capture_components and x.requires_grad:
            xs.retain_grad()
            xr.retain_grad()
            self.xs, self.xr = xs, xr
        else:
            self.xs = self.xr = None
        z = self.residual(xr) + self.shortcut(xs)
        return F.relu(z)

    def dx_skip(self):
        return None if self.xs is None else self.xs.grad

    def dx_residual(self):
        return None if self.xr is None else self.xr.grad


class BasicBlock(_Block):
    expansion = 1

    def __init__(self, in_c, planes, stride, shortcut):
        super().__init__()
        self.conv1 = nn.Conv2d(in_c, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = _bn(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = _bn(planes)
        self.shortcut = _make_shortcut(in_c, planes, stride, shortcut)

    def residual(self, x):
        f = F.relu(self.bn1(self.conv1(x)))
        return self.bn2(self.conv2(f))


class Bottleneck(_Block):
    expansion = 4

    def __init__(self, in_c, planes, stride, shortcut):
        super().__init__()
        out_c = planes * self.expansion
        self.conv1 = nn.Conv2d(in_c, planes, 1, bias=False)
        self.bn1 = _bn(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = _bn(planes)
        self.conv3 = nn.Conv2d(planes, out_c, 1, bias=False)
        self.bn3 = _bn(out_c)
        self.shortcut = _make_shortcut(in_c, out_c, stride, shortcut)

    def residual(self, x):
        f = F.relu(self.bn1(self.conv1(x)))
        f = F.relu(self.bn2(self.conv2(f)))
        return self.bn3(self.conv3(f))


# ---------------------------------------------------------------------------------
# Network
# ---------------------------------------------------------------------------------

class GSResNet(nn.Module):
    """The gradscope ResNet.  `arch` as in parse_arch; shortcut None = default."""

    def __init__(self, arch="resnet20", in_channels=3, num_classes=10, width=16,
                 shortcut=None, init=True):
        super().__init__()
        kind, blocks = parse_arch(arch)
        shortcut = (shortcut or default_shortcut(kind)).upper()
        block_cls = BasicBlock if kind == "basic" else Bottleneck
        self.arch, self.kind, self.blocks_per_stage = arch, kind, blocks
        self.shortcut_option, self.width = shortcut, width
        self.in_channels, self.num_classes = in_channels, num_classes

        self.conv1 = nn.Conv2d(in_channels, width, 3, stride=1, padding=1, bias=False)
        self.bn1 = _bn(width)
        in_c = width
        for s, n in enumerate(blocks, start=1):
            planes = width * 2 ** (s - 1)
            stage = []
            for b in range(n):
                stride = (1 if s == 1 else 2) if b == 0 else 1
                stage.append(block_cls(in_c, planes, stride, shortcut))
                in_c = planes * block_cls.expansion
            self.add_module("layer%d" % s, nn.Sequential(*stage))
        self.num_stages = len(blocks)
        self.fc = nn.Linear(in_c, num_classes)
        if init:
            self.reset_parameters()

    def reset_parameters(self):
        """Kaiming-normal (fan_in, relu gain) convs, BN (1, 0), Linear default."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
                m.reset_running_stats()
            elif isinstance(m, nn.Linear):
                m.reset_parameters()

    def stages(self):
        return [getattr(self, "layer%d" % s) for s in range(1, self.num_stages + 1)]

    def named_blocks(self):
        """Yields ("layer{S}.{B}", block) in forward order."""
        for s, stage in enumerate(self.stages(), start=1):
            for b, block in enumerate(stage):
                yield "layer%d.%d" % (s, b), block

    def set_capture_components(self, on=True):
        """Make every block retain dx_skip / dx_residual on the next forward."""
        for _, block in self.named_blocks():
            block.capture_components = on

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        for stage in self.stages():
            x = stage(x)
        x = x.mean(dim=(2, 3))          # global average pool
        return self.fc(x)


def build_model(arch="resnet20", in_channels=3, num_classes=10, width=16,
                shortcut=None, seed=None):
    """Builds a GSResNet, seeding torch's RNG first when seed is given."""
    if seed is not None:
        torch.manual_seed(seed)
    return GSResNet(arch, in_channels=in_channels, num_classes=num_classes,
                    width=width, shortcut=shortcut)


# ---------------------------------------------------------------------------------
# Checkpoints
# ---------------------------------------------------------------------------------

_BUFFER_SUFFIXES = ("running_mean", "running_var", "num_batches_tracked")


def _np(t):
    return t.detach().cpu().numpy()


def _optimizer_kind(opt):
    if isinstance(opt, torch.optim.AdamW):      # AdamW is not an Adam subclass, but be explicit
        return "adamw"
    if isinstance(opt, torch.optim.Adam):
        return "adam"
    if isinstance(opt, torch.optim.SGD):
        return "sgd"
    raise ValueError("unsupported optimizer %s" % type(opt).__name__)


def _optimizer_step(opt):
    """The optimizer's step count: Adam's per-param `step`, else the given counter."""
    for st in opt.state.values():
        if "step" in st:
            return int(st["step"])
    return 0


def save_checkpoint(path, model, optimizer=None, step=0, epoch=0, seed=0, config=None,
                    optimizer_step=None):
    """Writes model (and optionally optimizer) state in gradscope's HDF5 layout.

    optimizer_step overrides the /optimizer `step` attribute (for SGD, whose torch
    state has no step counter; defaults to `step`)."""
    names = {id(p): n for n, p in model.named_parameters()}
    with h5py.File(path, "w") as f:
        gp = f.create_group("params")
        for n, p in model.named_parameters():
            gp.create_dataset(n, data=_np(p).astype(np.float32))
        gb = f.create_group("buffers")
        for n, b in model.named_buffers():
            if n.endswith("num_batches_tracked"):
                gb.create_dataset(n, data=np.int64(b.item()))
            elif n.endswith(("running_mean", "running_var")):
                gb.create_dataset(n, data=_np(b).astype(np.float32))
        if optimizer is not None:
            kind = _optimizer_kind(optimizer)
            go = f.create_group("optimizer")
            go.attrs["type"] = kind
            if optimizer_step is None:
                optimizer_step = _optimizer_step(optimizer) if kind != "sgd" else step
            go.attrs["step"] = np.int64(optimizer_step)
            keys = ("momentum_buffer",) if kind == "sgd" else ("exp_avg", "exp_avg_sq")
            for key in keys:
                bufs = [(names[id(p)], st[key]) for p, st in optimizer.state.items()
                        if st.get(key) is not None]
                if bufs:
                    g = go.create_group(key)
                    for n, t in bufs:
                        g.create_dataset(n, data=_np(t).astype(np.float32))
        gs = f.create_group("state")
        gs.attrs["step"] = np.int64(step)
        gs.attrs["epoch"] = np.int64(epoch)
        gs.attrs["seed"] = np.int64(seed)
        # Scalar variable-length UTF-8 string (h5py's default for str).
        f.create_dataset("config", data=json.dumps(config if config is not None else {}))


def read_config(path):
    """The /config JSON of a checkpoint as a dict ({} when absent)."""
    with h5py.File(path, "r") as f:
        if "config" not in f:
            return {}
        v = f["config"][()]
        if isinstance(v, np.ndarray):       # fixed-length char array written by C
            v = v.tobytes()
        if isinstance(v, bytes):
            v = v.split(b"\0", 1)[0].decode("utf-8")
        return json.loads(v) if v else {}


def load_checkpoint(path, model, optimizer=None, strict=True):
    """Loads /params and /buffers into model (and /optimizer into optimizer).

    With strict, every parameter and BN buffer of the model must be present with
    the right shape, and the file may hold no unknown names.  Returns the /state
    attributes as a dict."""
    with h5py.File(path, "r") as f:
        params = dict(model.named_parameters())
        buffers = dict(model.named_buffers())
        seen = set()
        with torch.no_grad():
            for n, ds in _walk(f.get("params")):
                if n not in params:
                    if strict:
                        raise KeyError("%s: unknown parameter /params/%s" % (path, n))
                    continue
                _copy(params[n], ds[()], "/params/" + n)
                seen.add(n)
            for n, ds in _walk(f.get("buffers")):
                if n not in buffers:
                    if strict:
                        raise KeyError("%s: unknown buffer /buffers/%s" % (path, n))
                    continue
                _copy(buffers[n], ds[()], "/buffers/" + n)
                seen.add(n)
        if strict:
            missing = [n for n in list(params) + list(buffers) if n not in seen]
            if missing:
                raise KeyError("%s: missing %s" % (path, ", ".join(missing)))
        if optimizer is not None and "optimizer" in f:
            _load_optimizer(f["optimizer"], model, optimizer, path)
        return {k: _py(v) for k, v in f["state"].attrs.items()} if "state" in f else {}


def _walk(group):
    """(name, dataset) pairs of a flat group; tolerates nested groups too, in case a
    writer turned dots into '/' (names are joined back with dots)."""
    if group is None:
        return []
    out = []

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            out.append((name.replace("/", "."), obj))
    group.visititems(visit)
    return out


def _copy(dst, value, where):
    value = np.asarray(value)
    if tuple(value.shape) != tuple(dst.shape):
        raise ValueError("%s: shape %s, model has %s" % (where, value.shape, tuple(dst.shape)))
    dst.copy_(torch.from_numpy(value.astype(_NP_DTYPE[dst.dtype], copy=True)))


_NP_DTYPE = {torch.float32: np.float32, torch.int64: np.int64}


def _py(v):
    if isinstance(v, bytes):
        return v.decode("utf-8")
    if isinstance(v, np.generic):
        return v.item()
    return v


def _load_optimizer(go, model, optimizer, path):
    """Fills torch optimizer state from /optimizer (the types must agree)."""
    kind = _py(go.attrs.get("type", ""))
    if kind != _optimizer_kind(optimizer):
        raise ValueError("%s: optimizer type %r, torch has %r"
                         % (path, kind, _optimizer_kind(optimizer)))
    step = int(_py(go.attrs.get("step", 0)))
    keys = ("momentum_buffer",) if kind == "sgd" else ("exp_avg", "exp_avg_sq")
    for n, p in model.named_parameters():
        st = optimizer.state[p]
        for key in keys:
            if key in go and n in go[key]:
                st[key] = torch.from_numpy(np.asarray(go[key][n][()], dtype=np.float32).copy())
        if kind != "sgd" and "exp_avg" in st:
            st["step"] = torch.tensor(float(step))
            st.setdefault("exp_avg_sq", torch.zeros_like(p))
