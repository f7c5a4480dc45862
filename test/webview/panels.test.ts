// SPDX-License-Identifier: Apache-2.0
// The panel webviews (Quantize Layer, activation histogram, allocation, accuracy) in real headless Chromium with
// the extension's HTML/CSP and a mocked host; each is also captured in VS Code's dark and light themes.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { canRunBrowser, closeBrowser, MockHostPage } from './mockHost';
import { bellHistogram, report } from './reportFixtures';
import { chooseOption, isControlDisabled, shownOption, typeInto } from './toolkitDriver';
import type { AccuracyData, AllocationData, HistogramData, QuantizeLayerData } from '../../webview/protocol';

const skip = !canRunBrowser('allocation') && 'needs /usr/bin/chromium and built dist/webview bundles';
after(async () => { await closeBrowser(); });

/** Poll `cond` (every 50 ms, up to 10 s); fails the test when it never holds. */
async function waitFor(cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms: ${cond.toString().slice(0, 200)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const grid = (n: number, s: number): number[] => Array.from({ length: n }, (_, i) => (i - n / 2) * s);

const quantizeData: QuantizeLayerData = {
  view: 'quantizeLayer', modelPath: '/m/cnn.onnx', layer: '/conv1/Conv', op: 'Conv', pending: true, configPath: '/m/cnn.quant.json',
  histogram: bellHistogram(0.6, 96), result: {
    layer: '/conv1/Conv', format: 'int4', granularity: 'channel:0', calibration: 'mse', mse: 2.1e-4, sqnrDb: 19.4, cosine: 0.9941,
    maxAbsError: 0.041, clipFraction: 0.0031, bitsPerElement: 4.22, grid: grid(16, 0.075), clipRange: [-0.6, 0.525],
    accuracyDelta: { metric: 'top-1 accuracy', fp32: 0.9889, quantized: 0.9822, delta: -0.0067 },
  },
};

const activation = (layer: string): NonNullable<HistogramData['activation']> => ({
  layer, op: 'Softmax', samples: 64, histogram: { edges: Array.from({ length: 81 }, (_, i) => i / 80), counts: Array.from({ length: 80 }, (_, i) => Math.round(20000 * Math.exp(-i / 6)) + 3) },
  channelRanges: Array.from({ length: 17 }, (_, c) => ({ channel: c, min: 0, max: c === 5 ? 0.98 : 0.05 + (c % 4) * 0.02 })), outlierChannels: [5],
  clipRanges: [{ method: 'min/max', min: 0, max: 0.99 }, { method: 'percentile 99.99', min: 0, max: 0.8 }, { method: 'MSE', min: 0, max: 0.62 }, { method: 'KL', min: 0, max: 0.55 }],
  grids: [
    { format: 'log2', grid: Array.from({ length: 8 }, (_, i) => 2 ** -i), clipRange: [0, 1], mse: 1.2e-5, sqnrDb: 31.2 },
    { format: 'tan', grid: Array.from({ length: 16 }, (_, i) => Math.tan((i / 15) * 0.9) / Math.tan(0.9)), clipRange: [0, 1], mse: 2.3e-5, sqnrDb: 28.5 },
    { format: 'uint8', grid: Array.from({ length: 256 }, (_, i) => i / 255), clipRange: [0, 1], mse: 1.3e-6, sqnrDb: 41.0 },
  ],
});

const histogramData: HistogramData = {
  view: 'histogram', modelPath: '/m/vit.onnx', layers: ['/blocks.0/attn/Softmax', '/blocks.1/attn/Softmax'], layer: '/blocks.0/attn/Softmax', follow: true,
  formats: ['int8', 'uint8', 'log2', 'tan', 'fp8_e4m3'].map((id) => ({ id, label: id, bits: 8, family: 'x', hasKernel: true })), selectedFormats: ['log2', 'tan', 'uint8'],
};

const rep = report(12);
const allocationData: AllocationData = {
  view: 'allocation', modelPath: '/m/cnn.onnx',
  sensitivity: rep.layers.filter((l) => l.sensitivity).map((l, i) => ({ layer: l.name, op: l.op, sensitivity: {
    perturbation: { int4: { value: 0.01 * (i + 1) } }, hessianTrace: { int4: { value: 3 * (5 - i) ** 2 } }, layerHessian: { int4: { value: 0.2 * (i + 2) } } } })),
  agreement: { 'perturbation~hessianTrace': -0.4, 'perturbation~layerHessian': 1, 'hessianTrace~layerHessian': -0.4 },
  budget: { kind: 'avg-bits', value: 4 }, budgetLimits: { 'avg-bits': { min: 2, max: 8, step: 0.25 }, 'size-mb': { min: 0.001, max: 0.005, step: 0.0001 }, bops: { min: 1, max: 10, step: 1 }, 'latency-ms': { min: 0.001, max: 1, step: 0.001 } },
  pareto: [2.5, 3, 4, 5, 6, 8].map((c, i) => ({ cost: c, loss: 0.3 / c ** 2, measuredDelta: -0.08 / c ** 2, label: `${c} bits`, ...(i === 2 ? { chosen: true } : {}) })),
  rows: [{ layer: '/conv1/Conv', op: 'Conv', format: 'int8', bits: 8, predictedDelta: 0.002, measuredSqnrDb: 35.2 }, { layer: '/conv2/Conv', op: 'Conv', format: 'int4', bits: 4, predictedDelta: 0.011, measuredSqnrDb: 19.8 },
    { layer: '/fc/Gemm', op: 'Gemm', format: 'int3', bits: 3, predictedDelta: 0.02, measuredSqnrDb: 14.1 }],
  predicted: { avgWeightBits: 3.98, sizeMB: 0.0029, loss: 0.033 }, measured: { metric: 'top1', fp32: 0.9889, quantized: 0.98, delta: -0.0089 },
};

const accuracyData: AccuracyData = {
  view: 'accuracy', modelPath: '/m/cnn.onnx', configLabel: 'cnn.quant.json', eval: {
    parity: { maxAbsDiff: 3.1e-6, maxRelDiff: 1e-5 }, top1Agreement: 0.991, kl: 0.0021, sqnrDb: 24.3, accuracy: { fp32: 0.9889, quantized: 0.98, delta: -0.0089 },
    layers: ['/conv1/Conv', '/bn1/BatchNormalization', '/relu1/Relu', '/pool/MaxPool', '/conv2/Conv', '/bn2/BatchNormalization', '/relu2/Relu', '/gap/GlobalAveragePool', '/fc/Gemm']
      .map((name, i) => ({ name, op: name.split('/').pop()!, sqnrDb: 38 - i * 1.6 - (i === 4 ? 6 : 0), kernel: i % 4 === 0 ? 'int8-simd' : 'fp32', latencyMs: 0.01 * (i + 1) })),
    latencyMs: { fp32: 0.21, quantized: 0.12 }, samples: 450, weights: { avgBits: 4.1, sizeMB: 0.0027, fp32SizeMB: 0.0213 },
  },
};

describe('panel webviews', { skip }, () => {
  test('Quantize Layer shows the metrics, the accuracy delta and the int4 grid over the histogram', async () => {
    const host = await MockHostPage.open('quantizeLayer', { width: 1000, height: 760 });
    await host.init(quantizeData);
    await host.page.getByTestId('weight-histogram').locator('svg').first().waitFor();
    assert.match(await host.page.getByTestId('accuracy-delta').innerText(), /-0\.67 pts/);
    assert.equal(await host.page.locator('.grid-line').count(), 16);
    assert.equal(await host.page.locator('.clip-line').count(), 2);
    await host.page.getByTestId('log-y').check();
    await host.page.locator('[data-testid="weight-histogram"][data-log="log"]').waitFor();
    await host.page.getByTestId('y-scale').getByRole('radio', { name: 'linear' }).click();
    await host.page.locator('[data-testid="weight-histogram"][data-log="linear"]').waitFor();
    assert.deepEqual(host.consoleErrors.filter((e) => !/DevTools/.test(e)), []);
    assert.deepEqual(host.cspViolations, []);
    assert.deepEqual(await host.page.evaluate(() => (window as any).__savedState.restore),
      { view: 'quantizeLayer', modelPath: '/m/cnn.onnx', layer: '/conv1/Conv', format: 'int4' }, 'what a window reload restores from');
    for (const theme of ['dark', 'light'] as const) {
      const h = theme === 'dark' ? host : await MockHostPage.open('quantizeLayer', { theme, width: 1000, height: 760 });
      if (theme === 'light') await h.init(quantizeData);
      await h.page.getByTestId('weight-histogram').locator('svg').first().waitFor();
      await h.screenshot(`quantize-layer-${theme}`);
      if (h !== host) await h.close();
    }
    await host.close();
  });

  test('the histogram panel asks the host for the layer, overlays three grids and four clip ranges, marks outlier channels', async () => {
    const asked: unknown[] = [];
    const host = await MockHostPage.open('histogram', { width: 1100, height: 900, handlers: { activationHistogram: (p) => { asked.push(p); return activation(p.layer); } } });
    await host.init(histogramData);
    await host.page.getByTestId('grid-errors').locator('tbody tr').nth(2).waitFor();
    assert.deepEqual(asked[0], { layer: '/blocks.0/attn/Softmax', formats: ['log2', 'tan', 'uint8'] });
    assert.match(await host.page.getByTestId('grid-errors').innerText(), /log2[\s\S]*tan[\s\S]*uint8/);
    assert.equal(await host.page.getByTestId('clip-ranges').locator('tbody tr').count(), 4);
    assert.equal(await host.page.getByTestId('activation-histogram').getAttribute('data-log'), 'log');
    await host.page.getByTestId('channel-ranges').locator('.outlier').first().waitFor({ state: 'attached' });
    await host.screenshot('histogram-dark');
    // follow selection: the editor selects another layer, the panel asks for it
    await host.send({ type: 'selection', layer: '/blocks.1/attn/Softmax' });
    await host.page.getByTestId('activation-title').filter({ hasText: '/blocks.1/attn/Softmax' }).waitFor();
    // at most three formats; removing one asks again with two
    await chooseOption(host.page.getByTestId('format-2'), '(none)');
    await waitFor(() => (asked.at(-1) as { formats: string[] }).formats.length === 2);
    assert.deepEqual(asked.at(-1), { layer: '/blocks.1/attn/Softmax', formats: ['log2', 'tan'] });
    // picking a layer from the dropdown asks for it
    await chooseOption(host.page.getByTestId('layer-select'), '/blocks.0/attn/Softmax');
    await waitFor(() => (asked.at(-1) as { layer: string }).layer === '/blocks.0/attn/Softmax');
    assert.deepEqual(host.cspViolations, []);
    await host.send({ type: 'selection', layer: '/blocks.1/attn/Softmax' });
    await waitFor(() => (asked.at(-1) as { layer: string }).layer === '/blocks.1/attn/Softmax');
    // the webview is reloaded (hidden and shown again) with its saved state and the host's unchanged data: the
    // user's layer and formats are kept; the restore state (what a window reload restores from) names the layer
    const saved = await host.page.evaluate(() => (window as any).__savedState);
    assert.deepEqual(saved.restore, { view: 'histogram', modelPath: '/m/vit.onnx', layer: '/blocks.1/attn/Softmax' });
    await host.close();
    const again: unknown[] = [];
    const reloaded = await MockHostPage.open('histogram', { state: saved, width: 1100, height: 900, handlers: { activationHistogram: (p) => { again.push(p); return activation(p.layer); } } });
    await reloaded.init(histogramData);
    await reloaded.page.getByTestId('grid-errors').locator('tbody tr').nth(1).waitFor();
    assert.deepEqual(again, [{ layer: '/blocks.1/attn/Softmax', formats: ['log2', 'tan'] }]);
    assert.equal(await shownOption(reloaded.page.getByTestId('format-2')), '(none)');
    assert.equal(await shownOption(reloaded.page.getByTestId('layer-select')), '/blocks.1/attn/Softmax');
    await reloaded.close();
    const light = await MockHostPage.open('histogram', { theme: 'light', width: 1100, height: 900, handlers: { activationHistogram: (p) => activation(p.layer) } });
    await light.init(histogramData);
    await light.page.getByTestId('grid-errors').locator('tbody tr').nth(2).waitFor();
    await light.screenshot('histogram-light');
    await light.close();
  });

  test('the allocation view re-allocates for a budget, applies and exports through the host', async () => {
    const calls: string[] = [];
    const host = await MockHostPage.open('allocation', { width: 1100, height: 1100, handlers: {
      allocate: (p) => { calls.push(`allocate ${p.kind} ${p.value}`); return { ...allocationData, budget: { kind: p.kind, value: p.value } }; },
      applyAllocation: () => { calls.push('apply'); return { configPath: '/m/cnn.quant.json' }; },
      exportQdq: () => { calls.push('export'); return { path: '/m/cnn.qdq.onnx' }; },
    } });
    await host.init(allocationData);
    await host.page.getByTestId('allocation-table').locator('tbody tr').nth(2).waitFor();
    assert.match(await host.page.getByTestId('agreement').innerText(), /perturbation vs layerHessian 1\.0/);
    assert.match(await host.page.getByTestId('measured-delta').innerText(), /-0\.89 pts/);
    await host.page.getByTestId('pareto-chart').locator('svg').first().waitFor();
    await host.screenshot('allocation-dark');
    await typeInto(host.page.getByTestId('budget-value'), '3');
    await host.page.getByTestId('allocate').click();
    await host.page.getByText('(cost: average weight bits').waitFor();
    await waitFor(async () => (await host.page.evaluate(() => (window as any).__savedState.restore?.budget?.value)) === 3);
    await host.page.getByTestId('apply').click();
    await host.page.getByTestId('note').filter({ hasText: 'Wrote /m/cnn.quant.json' }).waitFor();
    await host.page.getByTestId('export').click();
    await host.page.getByTestId('note').filter({ hasText: 'Exported /m/cnn.qdq.onnx' }).waitFor();
    assert.deepEqual(calls, ['allocate avg-bits 3', 'apply', 'export']);
    // another budget kind starts at that kind's largest budget; an out-of-range number disables Allocate
    await host.page.getByTestId('budget-kind').getByRole('radio', { name: 'weight size (MB)' }).click();
    await waitFor(async () => (await host.page.getByTestId('budget-value').evaluate((el) => (el as HTMLInputElement).value)) === '0.005');
    await typeInto(host.page.getByTestId('budget-value'), '7');
    await waitFor(() => isControlDisabled(host.page.getByTestId('allocate')));
    assert.deepEqual(host.cspViolations, []);
    const saved = await host.page.evaluate(() => (window as any).__savedState);
    await host.close();
    // restored after a window reload: the host allocates at its default budget, the view asks again for the one it showed
    const restoredCalls: string[] = [];
    const restored = await MockHostPage.open('allocation', { state: saved, width: 1100, height: 1100, handlers: {
      allocate: (p) => { restoredCalls.push(`allocate ${p.kind} ${p.value}`); return { ...allocationData, budget: { kind: p.kind, value: p.value } }; },
    } });
    await restored.init(allocationData);
    await waitFor(async () => (await restored.page.evaluate(() => (window as any).__savedState?.restore?.budget?.value)) === 3);
    assert.deepEqual(restoredCalls, ['allocate avg-bits 3']);
    await restored.close();
    const light = await MockHostPage.open('allocation', { theme: 'light', width: 1100, height: 1100 });
    await light.init(allocationData);
    await light.page.getByTestId('pareto-chart').locator('svg').first().waitFor();
    await light.screenshot('allocation-light');
    await light.close();
  });

  test('the accuracy view shows FP32 vs quantized and the per-layer error-propagation chart', async () => {
    for (const theme of ['dark', 'light'] as const) {
      const host = await MockHostPage.open('accuracy', { theme, width: 1100, height: 800 });
      await host.init(accuracyData);
      await host.page.getByTestId('propagation-chart').locator('svg').first().waitFor();
      assert.match(await host.page.getByTestId('acc-delta').innerText(), /98\.89% → quantized 98\.00%/);
      assert.equal(await host.page.getByTestId('layer-table').locator('tbody tr').count(), 9);
      assert.deepEqual(host.cspViolations, []);
      await host.screenshot(`accuracy-${theme}`);
      await host.close();
    }
  });
});
