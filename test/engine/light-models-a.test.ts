// SPDX-License-Identifier: Apache-2.0
// Conformance light/ CNNs (weights made by ConstantOfShape, folded at compile time) vs onnxruntime-node, part 1 of 2.
// The set is split across two files so each stays well under a minute; VGG-19 (≈20 GMAC) runs in `npm run test:heavy`.
import { lightModelTests } from './helpers';

lightModelTests(['light_bvlc_alexnet.onnx', 'light_densenet121.onnx', 'light_inception_v1.onnx', 'light_inception_v2.onnx']);
