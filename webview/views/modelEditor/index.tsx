// SPDX-License-Identifier: Apache-2.0
/** Entry of dist/webview/modelEditor.js: the read-only ONNX model editor. */
import React from 'react';
import { createRoot } from 'react-dom/client';
import { useViewData } from '../../shared/hooks';
import { installStyles } from '../../shared/styles';
import { ModelEditor } from './ModelEditor';

function App(): React.ReactElement {
  const { data, trust } = useViewData('modelEditor');
  return data ? <ModelEditor data={data} trust={trust} /> : <p className="muted">Loading model…</p>;
}

installStyles();
createRoot(document.getElementById('root')!).render(<App />);
