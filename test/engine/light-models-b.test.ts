// SPDX-License-Identifier: Apache-2.0
// Conformance light/ CNNs vs onnxruntime-node, part 2 of 2 (see light-models-a.test.ts).
import { lightModelTests } from './helpers';

lightModelTests(['light_resnet50.onnx', 'light_shufflenet.onnx', 'light_squeezenet.onnx', 'light_zfnet512.onnx']);
