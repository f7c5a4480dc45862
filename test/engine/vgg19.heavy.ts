// SPDX-License-Identifier: Apache-2.0
// VGG-19 (≈20 GMAC at 224×224) against onnxruntime-node: too slow for `npm test` on a shared 2-core machine,
// so it runs in `npm run test:heavy`.
import { lightModelTests } from './helpers';

lightModelTests(['light_vgg19.onnx']);
