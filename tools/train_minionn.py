#!/usr/bin/python3
"""Trains the example models and writes the ONNX files that pmdi ships.

  tools/train_minionn.py                 train MiniONN on Fashion-MNIST, write
                                         examples/models/minionn_fashion.onnx and
                                         the tiny test models under tests/data/onnx/
  tools/train_minionn.py --tiny-only     only the tiny test models (seconds)

MiniONN is the MNIST network (iii) of Liu, Juuti, Lu, Asokan: "Oblivious Neural
Network Predictions via MiniONN transformations", CCS 2017: conv 5x5x16, ReLU,
mean-pool 2, conv 5x5x16, ReLU, mean-pool 2, dense 100, ReLU, dense 10. Inputs
are 1x28x28 pixels scaled to [0, 1], nothing else.

Needs Debian's python3-torch, python3-onnx, python3-numpy and
dataset-fashion-mnist (tools/install-deps.sh --tools). CPU only, fixed seeds.
"""
import argparse
import gzip
import os
import struct
import sys
import time

import numpy as np
import onnx
import torch
import torch.nn as tnn
from onnx import helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = "/usr/share/datasets/fashion-mnist"
OPSET = 13


def read_idx(path):
    """IDX file (optionally gzipped) -> numpy array, validating magic and sizes."""
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        raw = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    body = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise ValueError(f"{path}: {body.size} bytes for dimensions {dims}")
    return body.reshape(dims)


def load_split(split):
    x = read_idx(f"{DATA}/{split}-images-idx3-ubyte.gz").astype(np.float32) / 255.0
    y = read_idx(f"{DATA}/{split}-labels-idx1-ubyte.gz").astype(np.int64)
    return torch.from_numpy(x).unsqueeze(1), torch.from_numpy(y)


class MiniONN(tnn.Module):
    def __init__(self):
        super().__init__()
        self.features = tnn.Sequential(
            tnn.Conv2d(1, 16, 5), tnn.ReLU(), tnn.AvgPool2d(2),
            tnn.Conv2d(16, 16, 5), tnn.ReLU(), tnn.AvgPool2d(2))
        self.classifier = tnn.Sequential(
            tnn.Flatten(), tnn.Linear(16 * 4 * 4, 100), tnn.ReLU(), tnn.Linear(100, 10))

    def forward(self, x):
        return self.classifier(self.features(x))


def accuracy(model, x, y, batch=1000):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            correct += (model(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum().item()
    return correct / len(x)


def export(model, example, path, **kw):
    model.eval()
    torch.onnx.export(model, example, path, opset_version=OPSET, input_names=["input"],
                      output_names=["output"], **kw)
    onnx.checker.check_model(onnx.load(path))


def train_minionn(epochs, threads):
    torch.manual_seed(1)
    np.random.seed(1)
    torch.set_num_threads(threads)
    xtr, ytr = load_split("train")
    xte, yte = load_split("t10k")
    model = MiniONN()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    gen = torch.Generator().manual_seed(2)
    loss_fn = tnn.CrossEntropyLoss()
    for epoch in range(epochs):
        model.train()
        t0 = time.time()
        perm = torch.randperm(len(xtr), generator=gen)
        for i in range(0, len(xtr), 64):
            idx = perm[i:i + 64]
            opt.zero_grad()
            loss = loss_fn(model(xtr[idx]), ytr[idx])
            loss.backward()
            opt.step()
        sched.step()
        print(f"epoch {epoch + 1}/{epochs}: loss {loss.item():.3f}, test accuracy "
              f"{100 * accuracy(model, xte, yte):.2f}% ({time.time() - t0:.0f} s)", flush=True)
    acc = accuracy(model, xte, yte)
    os.makedirs(f"{ROOT}/examples/models", exist_ok=True)
    path = f"{ROOT}/examples/models/minionn_fashion.onnx"
    export(model, xte[:1], path)
    # Logits of the first 8 test images: the C++ float oracle must agree.
    with torch.no_grad():
        logits = model(xte[:8]).numpy().astype("<f4")
    logits.tofile(f"{ROOT}/tests/data/onnx/minionn_fashion_first8.f32")
    print(f"MiniONN float test accuracy on Fashion-MNIST: {100 * acc:.2f}% -> {path}")


class Tiny(tnn.Module):
    """conv 3x3 (pad 1, stride 2) + batch-norm + ReLU + max-pool + flatten +
    dropout + dense + batch-norm + ReLU + dense: every op the loader folds or skips."""

    def __init__(self, kernel=3, act=None):
        super().__init__()
        self.conv = tnn.Conv2d(2, 4, kernel, stride=2, padding=kernel // 2)
        self.bn = tnn.BatchNorm2d(4)
        self.act = act if act is not None else tnn.ReLU()
        self.pool = tnn.MaxPool2d(2)
        self.drop = tnn.Dropout(0.5)
        self.fc1 = tnn.Linear(16, 6)
        self.bn1 = tnn.BatchNorm1d(6)
        self.fc2 = tnn.Linear(6, 3)

    def forward(self, x):
        x = self.pool(self.act(self.bn(self.conv(x))))
        x = self.drop(torch.flatten(x, 1))
        return self.fc2(torch.relu(self.bn1(self.fc1(x))))


class TinyResidual(tnn.Module):
    """conv, relu, then y = x + conv(relu(bn(conv(x)))) (identity shortcut),
    relu, flatten, dense: nn::residual<conv2d, batchnorm, relu, conv2d>."""

    def __init__(self):
        super().__init__()
        self.conv0 = tnn.Conv2d(2, 4, 3, padding=1)
        self.conv1 = tnn.Conv2d(4, 4, 3, padding=1)
        self.bn1 = tnn.BatchNorm2d(4)
        self.conv2 = tnn.Conv2d(4, 4, 3, padding=1)
        self.fc = tnn.Linear(4 * 8 * 8, 3)

    def forward(self, x):
        x = torch.relu(self.conv0(x))
        x = x + self.conv2(torch.relu(self.bn1(self.conv1(x))))
        return self.fc(torch.flatten(torch.relu(x), 1))


def randomise_bn(bn, gen):
    n = bn.num_features
    with torch.no_grad():
        bn.weight.copy_(torch.rand(n, generator=gen) + 0.5)
        bn.bias.copy_(torch.randn(n, generator=gen) * 0.2)
        bn.running_mean.copy_(torch.randn(n, generator=gen) * 0.3)
        bn.running_var.copy_(torch.rand(n, generator=gen) + 0.5)


def tiny_model(kernel=3, act=None):
    torch.manual_seed(3)
    m = Tiny(kernel, act)
    gen = torch.Generator().manual_seed(4)
    randomise_bn(m.bn, gen)
    randomise_bn(m.bn1, gen)
    return m.eval()


def add_noops(path):
    """The exporter drops eval-mode Dropout; put a Dropout and an Identity back
    after Flatten, as other exporters leave them, so the loader must skip them."""
    g = onnx.load(path)
    nodes = list(g.graph.node)
    at = next(i for i, n in enumerate(nodes) if n.op_type == "Flatten")
    src = nodes[at].output[0]
    drop = helper.make_node("Dropout", [src], ["dropout_out"], name="dropout")
    ident = helper.make_node("Identity", ["dropout_out"], ["identity_out"], name="identity")
    for n in nodes[at + 1:]:
        n.input[:] = ["identity_out" if i == src else i for i in n.input]
    del g.graph.node[:]
    g.graph.node.extend(nodes[:at + 1] + [drop, ident] + nodes[at + 1:])
    onnx.checker.check_model(g)
    onnx.save(g, path)


def write_tiny():
    out = f"{ROOT}/tests/data/onnx"
    os.makedirs(out, exist_ok=True)
    m = tiny_model()
    x = torch.rand(4, 2, 8, 8, generator=torch.Generator().manual_seed(5))
    # PRESERVE keeps BatchNormalization and Dropout nodes in the graph (EVAL would
    # fold them away in the exporter), so the loader's folding is what is tested.
    kw = dict(training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    export(m, x[:1], f"{out}/tiny.onnx", **kw)
    add_noops(f"{out}/tiny.onnx")
    with torch.no_grad():
        y = m(x)
    x.numpy().astype("<f4").tofile(f"{out}/tiny_inputs.f32")    # 4 x 2x8x8
    y.numpy().astype("<f4").tofile(f"{out}/tiny_outputs.f32")   # 4 x 3

    torch.manual_seed(6)
    r = TinyResidual().eval()
    randomise_bn(r.bn1, torch.Generator().manual_seed(7))
    export(r, x[:1], f"{out}/tiny_residual.onnx", **kw)
    with torch.no_grad():
        r(x).numpy().astype("<f4").tofile(f"{out}/tiny_residual_outputs.f32")  # 4 x 3

    # Malformed files, each refused by the loader for one reason.
    raw = open(f"{out}/tiny.onnx", "rb").read()
    open(f"{out}/bad_truncated.onnx", "wb").write(raw[:len(raw) // 2])
    export(tiny_model(kernel=5), x[:1], f"{out}/bad_kernel.onnx", **kw)
    export(tiny_model(act=tnn.Sigmoid()), x[:1], f"{out}/bad_op.onnx", **kw)
    # An initializer whose bytes do not fill its declared dimensions.
    g = onnx.load(f"{out}/tiny.onnx")
    for init in g.graph.initializer:
        if init.name.endswith("conv.weight"):
            init.raw_data = init.raw_data[:-8]
    onnx.save(g, f"{out}/bad_bytes.onnx")
    print(f"tiny models -> {out}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tiny-only", action="store_true")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    write_tiny()
    if not a.tiny_only:
        train_minionn(a.epochs, a.threads)


if __name__ == "__main__":
    sys.exit(main())
