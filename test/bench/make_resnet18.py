# SPDX-License-Identifier: Apache-2.0
"""A ResNet-18-shaped ONNX model (11.7 M parameters, 1x3x224x224 input, 1000 logits) with seeded random
weights, for the analyze benchmark. Built from torch.nn modules (torchvision is not needed), BatchNorm folded
by the exporter in eval mode. Usage: /usr/bin/python3 test/bench/make_resnet18.py OUT.onnx"""
import sys
import torch
import torch.nn as nn
from resnet_blocks import Block, randomize_bn


class ResNet18(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1))
        layers, cin = [], 64
        for cout, stride in [(64, 1), (128, 2), (256, 2), (512, 2)]:
            layers += [Block(cin, cout, stride), Block(cout, cout, 1)]
            cin = cout
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(512, 1000)

    def forward(self, x):
        x = self.layers(self.stem(x))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


torch.manual_seed(0)
m = ResNet18().eval()
randomize_bn(m)
print('params', sum(p.numel() for p in m.parameters()))
torch.onnx.export(m, torch.randn(1, 3, 224, 224), sys.argv[1], input_names=['input'], output_names=['logits'],
                  dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}}, opset_version=13, do_constant_folding=True)
