#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Trains the three QuantLens sample models on scikit-learn's 8x8 digits and exports them to samples/.

Run with Debian's interpreter (it has torch, onnx and sklearn):  /usr/bin/python3 scripts/make-samples.py

Outputs (committed fixtures, regenerated only by this script):
  samples/cnn.onnx        Conv-BN-ReLU-MaxPool-Conv-BN-ReLU-GlobalAveragePool-Flatten-Gemm (BN left unfused)
  samples/vit.onnx        tiny vision transformer: patch-embedding Conv, class token, position embedding,
                          2 blocks of LayerNorm + 2-head self-attention (MatMul, Softmax) + GELU MLP, Gemm head
  samples/mobilenet.onnx  depthwise-separable blocks (group Conv + 1x1 Conv), BN, HardSwish, GAP, Gemm
  samples/data/eval/x.npy, labels.npy   held-out split shared by all models ([N,1,8,8] float32, [N] int64)
  samples/data/calib/NNN.npy            64 single-sample inputs [1,1,8,8] from the training split

Every model takes `input` [batch,1,8,8] float32 (pixels/16, then standardised with the training mean and std
stored in the model's metadata) and returns `logits` [batch,10]. Accuracies are measured on the exported ONNX by
scripts/check-samples.mjs (onnxruntime-node), not here.
"""
import os
import sys
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import onnx
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SEED = 20240607
OPSET = 17
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
OUT = os.path.join(ROOT, 'samples')

# Determinism: one thread, fixed seeds, deterministic kernels.
torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)


def seed_all(seed):
    np.random.seed(seed)
    torch.manual_seed(seed)


def load_split():
    """Stratified 75/25 split; returns normalised float32 [N,1,8,8] arrays, int64 labels and the norm constants."""
    digits = load_digits()
    x = (digits.data.astype(np.float32) / 16.0).reshape(-1, 1, 8, 8)
    y = digits.target.astype(np.int64)
    x_tr, x_ev, y_tr, y_ev = train_test_split(x, y, test_size=0.25, random_state=0, stratify=y)
    mean = float(x_tr.mean())
    std = float(x_tr.std())
    norm = lambda a: ((a - mean) / std).astype(np.float32)
    return norm(x_tr), y_tr, norm(x_ev), y_ev, mean, std


class CNN(nn.Module):
    """Two conv stages with BatchNorm, then global pooling and one fully connected layer."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(16)
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(32)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.bn1(self.conv1(x))))
        x = F.relu(self.bn2(self.conv2(x)))
        return self.fc(torch.flatten(self.gap(x), 1))


class Attention(nn.Module):
    """Multi-head self-attention written out so the export shows MatMul, Softmax and the head reshapes."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.head_dim = dim // heads
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, t, d = x.shape
        qkv = self.qkv(x).reshape(b, t, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        att = torch.matmul(q, k.transpose(-2, -1)) * (self.head_dim ** -0.5)
        att = torch.softmax(att, dim=-1)
        out = torch.matmul(att, v).transpose(1, 2).reshape(b, t, d)
        return self.proj(out)


class Block(nn.Module):
    """Pre-norm transformer block: x + Attn(LN(x)), then x + MLP(LN(x)) with GELU."""

    def __init__(self, dim, heads, hidden):
        super().__init__()
        self.ln1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.ln2 = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))


class TinyViT(nn.Module):
    """2x2 patches (16 tokens) + class token, learned position embedding, two blocks, LayerNorm, Gemm head."""

    def __init__(self, dim=32, heads=2, hidden=64, depth=2, patch=2):
        super().__init__()
        self.patch = nn.Conv2d(1, dim, patch, stride=patch)
        tokens = (8 // patch) ** 2
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(torch.randn(1, tokens + 1, dim) * 0.02)
        self.blocks = nn.ModuleList([Block(dim, heads, hidden) for _ in range(depth)])
        self.ln = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, 10)

    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2)  # [b, 16, dim]
        cls = self.cls.expand(x.shape[0], -1, -1)
        x = torch.cat([cls, x], dim=1) + self.pos
        for blk in self.blocks:
            x = blk(x)
        return self.head(self.ln(x)[:, 0])


def conv_bn_act(cin, cout, k, stride=1, groups=1):
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
        nn.Hardswish(),
    )


class MobileNetish(nn.Module):
    """Stem conv, then depthwise-separable blocks (depthwise 3x3 group=C, pointwise 1x1), HardSwish, GAP, Gemm."""

    def __init__(self):
        super().__init__()
        self.stem = conv_bn_act(1, 16, 3)
        self.blocks = nn.Sequential(
            conv_bn_act(16, 16, 3, groups=16), conv_bn_act(16, 32, 1),
            conv_bn_act(32, 32, 3, stride=2, groups=32), conv_bn_act(32, 64, 1),
            conv_bn_act(64, 64, 3, groups=64), conv_bn_act(64, 64, 1),
        )
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = self.blocks(self.stem(x))
        return self.fc(torch.flatten(self.gap(x), 1))


def train(model, x, y, epochs, lr, wd=1e-4, batch=64):
    """AdamW with cosine decay, no augmentation (random shifts measured worse on 8x8 digits)."""
    gen = torch.Generator().manual_seed(SEED)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=wd)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(len(xt), generator=gen)
        total = 0.0
        for i in range(0, len(xt), batch):
            idx = perm[i:i + batch]
            loss = F.cross_entropy(model(xt[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        sched.step()
    model.eval()
    return total / len(xt)


def export(model, name, mean, std, description):
    path = os.path.join(OUT, name + '.onnx')
    dummy = torch.zeros(1, 1, 8, 8)
    # PRESERVE with the module in eval mode keeps BatchNormalization as its own node: the EVAL path runs a
    # peephole pass that folds BN into the preceding Conv, and we want BN visible for the analysis.
    torch.onnx.export(
        model, dummy, path, opset_version=OPSET, input_names=['input'], output_names=['logits'],
        dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}},
        do_constant_folding=False, training=torch.onnx.TrainingMode.PRESERVE,
    )
    m = onnx.load(path)
    m.producer_name = 'quantlens-make-samples'
    m.doc_string = description
    for k, v in [('dataset', 'sklearn digits 8x8'), ('input_normalisation', f'(pixel/16 - {mean:.6f}) / {std:.6f}'),
                 ('classes', '0,1,2,3,4,5,6,7,8,9'), ('seed', str(SEED))]:
        p = m.metadata_props.add()
        p.key, p.value = k, v
    onnx.checker.check_model(m)
    onnx.save(m, path)
    ops = sorted({n.op_type for n in m.graph.node})
    print(f'  {name}.onnx  {os.path.getsize(path)} bytes  ops: {" ".join(ops)}')
    return path


def main():
    x_tr, y_tr, x_ev, y_ev, mean, std = load_split()
    os.makedirs(os.path.join(OUT, 'data', 'eval'), exist_ok=True)
    calib_dir = os.path.join(OUT, 'data', 'calib')
    os.makedirs(calib_dir, exist_ok=True)
    for f in os.listdir(calib_dir):
        if f.endswith('.npy'):
            os.remove(os.path.join(calib_dir, f))
    np.save(os.path.join(OUT, 'data', 'eval', 'x.npy'), x_ev)
    np.save(os.path.join(OUT, 'data', 'eval', 'labels.npy'), y_ev)
    pick = np.random.RandomState(SEED).choice(len(x_tr), 64, replace=False)
    for i, j in enumerate(sorted(pick)):
        np.save(os.path.join(calib_dir, f'{i:03d}.npy'), x_tr[j:j + 1])
    print(f'data: train {len(x_tr)}, eval {len(x_ev)}, calib 64; normalisation mean {mean:.6f} std {std:.6f}')

    specs = [
        ('cnn', CNN, 60, 3e-3, 'QuantLens sample: small CNN (Conv, BatchNorm, ReLU, MaxPool, GlobalAveragePool, Gemm) on 8x8 digits.'),
        ('vit', TinyViT, 60, 2e-3, 'QuantLens sample: tiny vision transformer (2x2 patches, 2 blocks, 2 heads, GELU MLP) on 8x8 digits.'),
        ('mobilenet', MobileNetish, 40, 3e-3, 'QuantLens sample: depthwise-separable MobileNet-style net (HardSwish) on 8x8 digits.'),
    ]
    only = set(sys.argv[1:])
    for name, cls, epochs, lr, desc in specs:
        if only and name not in only:
            continue
        seed_all(SEED)
        model = cls()
        loss = train(model, x_tr, y_tr, epochs, lr)
        with torch.no_grad():
            acc = (model(torch.from_numpy(x_ev)).argmax(1).numpy() == y_ev).mean()
        print(f'{name}: {epochs} epochs, final train loss {loss:.4f}, torch eval top-1 {acc * 100:.2f}% (informative only)')
        export(model, name, mean, std, desc)


if __name__ == '__main__':
    main()
