// SPDX-License-Identifier: Apache-2.0
/** Entry of dist/webview/modelEditor.js: the read-only ONNX model editor. */
import { boot } from '../../shared/boot';
import { ModelEditor } from './ModelEditor';

boot('modelEditor', ModelEditor);
