// SPDX-License-Identifier: Apache-2.0
// The --html report is one self-contained page: no script, no remote resource, model strings escaped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderReportHtml } from '../../analysis/html/reportHtml';
import { escapeHtml } from '../../analysis/html/svg';
import { REPORT_SCHEMA_VERSION, type Report } from '../../analysis/report';

const hostile = '<script>alert(1)</script>"><img src=x onerror=alert(2)>';

function report(): Report {
  const hist = { edges: [-1, 0, 1, 2], counts: [3, 0, 5] };
  return {
    schemaVersion: REPORT_SCHEMA_VERSION, tool: { name: 'quantlens', version: '0.1.0' }, command: 'analyze',
    createdAt: '2026-01-01T00:00:00Z',
    model: { path: `m${hostile}.onnx`, sha256: 'ab', producer: hostile, irVersion: 8, opsets: { '': 17 }, params: 10, macs: 20,
      sizeBytes: 100, inputs: [], outputs: [], nodeCount: 1 },
    layers: [{
      name: hostile, op: 'Conv', inputShapes: [], outputShapes: [], params: 10, macs: 20, weightShape: [2, 5],
      weightStats: { count: 10, min: -1, max: 2, mean: 0.5, std: 1, kurtosis: 3, beyond6Sigma: 0, zeroFraction: 0, channelRangeRatio: 1, nanCount: 1, infCount: 0 },
      weightHistogram: hist, activationHistogram: hist,
      tags: [{ id: 'heavy-tailed', reason: hostile, suggestion: 'fp8_e4m3' }],
      sensitivity: {
        perturbation: { int8: { value: 1e-4, stdError: 2e-5 }, int4: { value: 3e-2, stdError: 1e-3 } },
        hessianTrace: { int8: { value: 2e-4 }, int4: { value: 5e-2 } },
        layerHessian: { int8: { value: 0.01 }, int4: { value: 2 } },
        top1Agreement: { int8: 1, int4: null }, perturbationMetric: 'kl',
      },
    }],
    warnings: [`file ${hostile}`],
    agreement: { 'perturbation~hessianTrace@int8': 1 },
    timings: { statistics: 1200, total: 3000 },
    analysis: { calibration: hostile, samples: 4, formats: ['int8', 'int4'], outputKind: 'logits', output: 'y', methods: {},
      timeShares: { onnxruntimeMs: 100, engineMs: 200, oursMs: 300 } },
  };
}

test('the HTML report escapes every model string and loads nothing from outside', () => {
  const html = renderReportHtml(report());
  assert.ok(!/<script/i.test(html), 'no script element');
  assert.ok(!/<img/i.test(html), 'injected markup stays text');
  assert.ok(!/(src|href)\s*=\s*["']?(https?:|\/\/)/i.test(html), 'no remote resources');
  assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
  assert.ok(html.includes(escapeHtml(hostile)));
  assert.ok((html.match(/<svg/g) ?? []).length >= 4, 'sensitivity charts and histograms are inline SVG');
  assert.match(html, /1 NaN/);
  assert.match(html, /n\/a/, 'top-1 agreement not applicable is shown as n/a, not a number');
});

test('escapeHtml covers the characters that matter in content and attributes', () => {
  assert.equal(escapeHtml(`<a href="x" title='y'>&\``), '&#60;a href=&#34;x&#34; title=&#39;y&#39;&#62;&#38;&#96;');
});
