# SPDX-License-Identifier: Apache-2.0
"""A reduced-width ResNet-18 (BasicBlocks 2-2-2-2 at widths 16/32/64/128, residual Adds, BatchNormalization kept
as separate nodes, 1x3x64x64 input, 10 logits) with seeded random weights and non-trivial BN statistics, for the
whole-model W8A8 benchmark (test/bench/model.bench.ts): the ResNet-18 topology at a size that keeps the bench to
minutes. Usage: /usr/bin/python3 test/bench/make_resnet_small.py OUT.onnx"""
import sys
import torch
import torch.nn as nn
from resnet_blocks import Block, randomize_bn


class ResNetSmall(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        layers, cin = [], 16
        for cout, stride in [(16, 1), (32, 2), (64, 2), (128, 2)]:
            layers += [Block(cin, cout, stride), Block(cout, cout, 1)]
            cin = cout
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(128, 10)

    def forward(self, x):
        x = self.layers(self.stem(x))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


torch.manual_seed(0)
torch.set_num_threads(1)
m = ResNetSmall().eval()
randomize_bn(m)
print('params', sum(p.numel() for p in m.parameters()))
# PRESERVE keeps BatchNormalization nodes (the engine's Conv→BN→ReLU fusion is part of what is measured)
torch.onnx.export(m, torch.randn(1, 3, 64, 64), sys.argv[1], input_names=['input'], output_names=['logits'],
                  dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}}, opset_version=13,
                  training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
