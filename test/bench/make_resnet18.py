# SPDX-License-Identifier: Apache-2.0
"""A ResNet-18-shaped ONNX model (11.7 M parameters, 1x3x224x224 input, 1000 logits) with seeded random
weights, for the analyze benchmark. Built from torch.nn modules (torchvision is not needed), BatchNorm folded
by the exporter in eval mode. Usage: /usr/bin/python3 test/bench/make_resnet18.py OUT.onnx"""
import sys
import torch
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.b1 = nn.BatchNorm2d(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.b2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = torch.relu(self.b1(self.c1(x)))
        y = self.b2(self.c2(y))
        return torch.relu(y + (self.down(x) if self.down is not None else x))


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
for mod in m.modules():  # non-trivial BN statistics so folding changes the weights
    if isinstance(mod, nn.BatchNorm2d):
        mod.running_mean.uniform_(-0.1, 0.1)
        mod.running_var.uniform_(0.5, 1.5)
print('params', sum(p.numel() for p in m.parameters()))
torch.onnx.export(m, torch.randn(1, 3, 224, 224), sys.argv[1], input_names=['input'], output_names=['logits'],
                  dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}}, opset_version=13, do_constant_folding=True)
