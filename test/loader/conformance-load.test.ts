// SPDX-License-Identifier: Apache-2.0
// Every ONNX backend conformance model and every test-data tensor loads into the graph IR.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { loadModel, readTensorFile } from '../../analysis/onnx/load';
import { elementCount } from '../../engine/ir';
import { conformanceDir } from '../shared-data';

const ROOT = conformanceDir();

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

const all = walk(ROOT);
const models = all.filter((f) => f.endsWith('.onnx') && !f.endsWith('LICENSE.onnx'));
const tensors = all.filter((f) => f.endsWith('.pb'));

test('every conformance model loads, Constant nodes folded and node names unique', async () => {
  assert.ok(models.length >= 140, `expected the conformance models, found ${models.length}`);
  for (const f of models) {
    const { model } = await loadModel(f);
    const g = model.graph;
    assert.ok(!g.nodes.some((n) => n.opType === 'Constant' && n.domain === ''), `${f}: Constant node left in nodes`);
    const names = new Set(g.nodes.map((n) => n.name));
    assert.equal(names.size, g.nodes.length, `${f}: node names not unique`);
    for (const n of g.nodes) assert.ok(n.name.length > 0);
    for (const [name, t] of g.initializers) {
      if (t.dtype !== 'complex64' && t.dtype !== 'complex128') {
        assert.equal(t.data.length, elementCount(t.dims), `${f}: ${name} data length`);
      }
      assert.ok(g.constantSources.has(name));
    }
  }
});

test('models whose weights are Constant nodes get them as initializers tagged constant-node', async () => {
  const f = models.find((m) => m.includes('test_operator_addconstant'))!;
  const { model } = await loadModel(f);
  const sources = [...model.graph.constantSources.values()];
  assert.ok(sources.includes('constant-node'), 'addconstant keeps its constant as a folded Constant node');
});

test('every conformance *.pb tensor decodes with data matching its dims', () => {
  assert.ok(tensors.length > 100);
  for (const f of tensors) {
    const t = readTensorFile(f);
    assert.equal(t.data.length, elementCount(t.dims), f);
  }
});
