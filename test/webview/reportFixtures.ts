// SPDX-License-Identifier: Apache-2.0
/** Type-checked Report builders for the webview tests (the compiler flags any field the real type adds). */
import { REPORT_SCHEMA_VERSION, type Histogram, type LayerReport, type Report, type TensorStats } from '../../analysis/report';

/** Node names a hostile model might carry: markup, script, attribute breakers. */
export const HOSTILE_NAMES = [
  '<img src=x onerror="window.__pwned=1">',
  '<script>window.__pwned=2</script>',
  '"><svg onload="window.__pwned=3">',
  'javascript:window.__pwned=4',
];

/** A deterministic bell-shaped histogram over [-a, a]. */
export function bellHistogram(a: number, bins = 64, seed = 1): Histogram {
  const edges = Array.from({ length: bins + 1 }, (_, i) => -a + (2 * a * i) / bins);
  const counts = Array.from({ length: bins }, (_, i) => {
    const x = (edges[i] + edges[i + 1]) / 2 / (a / 3);
    return Math.round(1000 * Math.exp(-x * x / 2) * (1 + 0.1 * Math.sin(i * seed)));
  });
  return { edges, counts };
}

function stats(i: number): TensorStats {
  const a = 0.05 + (i % 17) * 0.03;
  return { count: 1000 + i, min: -a, max: a * 1.1, mean: 0.001 * (i % 5), std: a / 3, kurtosis: 3 + (i % 11), beyond6Sigma: (i % 7) * 1e-4,
    zeroFraction: 0, channelRangeRatio: 1 + (i % 9) / 3, nanCount: 0, infCount: 0 };
}

/** A layer row; every 3rd is a Conv with weights, every 5th carries a tag, some have sensitivity. */
export function layer(i: number, name = `layer_${String(i).padStart(5, '0')}`): LayerReport {
  const conv = i % 3 === 0;
  return {
    name, op: conv ? 'Conv' : i % 3 === 1 ? 'Relu' : 'MatMul',
    inputShapes: [[1, 16, 32, 32]], outputShapes: [[1, 16 + (i % 4) * 16, 32, 32]],
    weightShape: conv || i % 3 === 2 ? [16 + (i % 4) * 16, 16, 3, 3] : undefined,
    params: conv || i % 3 === 2 ? 2304 * (1 + (i % 4)) : 0, macs: conv ? 2_359_296 * (1 + (i % 4)) : i % 3 === 2 ? 65536 : 0,
    weightStats: conv || i % 3 === 2 ? stats(i) : undefined,
    weightHistogram: conv ? bellHistogram(0.05 + (i % 17) * 0.03, 48, i) : undefined,
    tags: i % 5 === 0 ? [{ id: 'heavy-tailed', reason: `kurtosis ${3 + (i % 11)} > 6`, suggestion: 'log2' }] : [],
    sensitivity: conv ? { perturbation: { int4: { value: ((i * 7919) % 101) / 1000 }, int8: { value: ((i * 7919) % 101) / 30000 } } } : undefined,
    format: conv && i % 2 === 0 ? { weights: 'int8', activations: 'int8' } : undefined,
  };
}

/** A Report with `n` layers (names optionally replaced, e.g. by HOSTILE_NAMES at the front). */
export function report(n: number, names: string[] = []): Report {
  const layers = Array.from({ length: n }, (_, i) => layer(i, names[i]));
  return {
    schemaVersion: REPORT_SCHEMA_VERSION, tool: { name: 'quantlens', version: '0.1.0' }, command: 'inspect', createdAt: '2026-01-01T00:00:00Z',
    model: {
      path: '/models/cnn.onnx', sha256: '0'.repeat(64), producer: 'pytorch 1.13', irVersion: 8, opsets: { '': 13 },
      params: layers.reduce((a, l) => a + l.params, 0), macs: layers.reduce((a, l) => a + l.macs, 0), sizeBytes: 123456,
      inputs: [{ name: 'input', dtype: 'float32', shape: ['batch', 3, 32, 32] }], outputs: [{ name: 'logits', dtype: 'float32', shape: ['batch', 10] }],
      nodeCount: n, metadata: { note: '<b>metadata</b>' },
    },
    layers, warnings: [], timings: {},
  };
}
