// SPDX-License-Identifier: Apache-2.0
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FORMATS, FORMAT_IDS } from '../../analysis/quant/formats';
import { calibrate, calibrateFromHistogram } from '../../analysis/quant/calibrate';
import { quantize } from '../../analysis/quant/quantize';
import { RunningHistogram } from '../../analysis/quant/histogram';
import { dequantizeRecord, toEngineActivation } from '../../analysis/quant/toEngine';
import { QuantLensError } from '../../engine/errors';
import type { CalibrationMethod } from '../../analysis/quant/types';
import { normal, rng, sameBits, softmaxRows } from './gen';

/** Heavy-tailed data: Laplace-like with a few large outliers. */
function heavy(n: number, seed: number): Float32Array {
  const r = rng(seed);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = (r() < 0.5 ? -1 : 1) * -Math.log(1 - r()) * (i % 997 === 0 ? 12 : 1);
  return x;
}

const isFormatError = (e: unknown) => e instanceof QuantLensError && e.kind === 'format';

test('MSE calibration never does worse than min-max, for every format (swept from the table)', () => {
  const dims = [16, 256];
  const t = { data: heavy(16 * 256, 5), dims };
  for (const id of FORMAT_IDS) {
    const mm = quantize(t, calibrate(t, { format: id })).metrics.mse;
    const ms = quantize(t, calibrate(t, { format: id, calibration: { kind: 'mse' } })).metrics.mse;
    assert.ok(ms <= mm * (1 + 1e-9), `${id}: mse-calibrated ${ms} > min-max ${mm}`);
  }
  const i4 = (kind: 'minmax' | 'mse') => quantize(t, calibrate(t, { format: 'int4', calibration: { kind } })).metrics;
  assert.ok(i4('mse').sqnrDb > i4('minmax').sqnrDb + 1, 'int4 on heavy tails gains > 1 dB from clipping');
  assert.ok(i4('mse').clipFraction > 0);
});

test('percentile clips about (100 − p)% of a symmetric tensor', () => {
  const x = normal(200000, 8);
  const t = { data: x, dims: [x.length] };
  const r = quantize(t, calibrate(t, { format: 'int8', calibration: { kind: 'percentile', p: 99 } }));
  assert.ok(r.metrics.clipFraction > 0.008 && r.metrics.clipFraction < 0.012, `clipped ${r.metrics.clipFraction}`);
  const full = calibrate(t, { format: 'int8' });
  assert.ok(r.params.scales[0] < full.scales[0] / 1.3);
  assert.equal(r.params.calibration, 'percentile:99');
});

test('KL (entropy) calibration clips outliers of an 8-bit activation and beats min-max', () => {
  const x = heavy(100000, 12);
  const h = new RunningHistogram().add(x);
  const kl = calibrateFromHistogram(h, { format: 'int8', calibration: { kind: 'kl' } });
  const mm = calibrateFromHistogram(h, { format: 'int8' });
  assert.ok(kl.scales[0] < mm.scales[0], 'KL threshold is inside the range');
  const t = { data: x, dims: [x.length] };
  assert.ok(quantize(t, kl).metrics.sqnrDb > quantize(t, mm).metrics.sqnrDb);
});

test('calibration from a streamed histogram agrees with calibration on the whole tensor', () => {
  const x = normal(300000, 14, 2);
  const t = { data: x, dims: [x.length] };
  const h = new RunningHistogram();
  for (let i = 0; i < x.length; i += 50000) h.add(x.subarray(i, i + 50000));
  for (const calibration of [{ kind: 'minmax' }, { kind: 'percentile', p: 99.9 }, { kind: 'mse' }] as const) {
    for (const format of ['int8', 'uint8', 'int4', 'fp8_e4m3']) {
      const a = calibrate(t, { format, calibration, granularity: { kind: 'tensor' } });
      const b = calibrateFromHistogram(h, { format, calibration });
      assert.ok(Math.abs(a.scales[0] / b.scales[0] - 1) < 0.03, `${format} ${calibration.kind}: ${a.scales[0]} vs ${b.scales[0]}`);
    }
  }
  assert.equal(calibrateFromHistogram(h, { format: 'int8' }).scales[0], calibrate(t, { format: 'int8', granularity: { kind: 'tensor' } }).scales[0]);
});

test('MOSF takes the median of per-channel scales, so one outlier channel does not set the layer scale', () => {
  const dims = [5, 64];
  const x = normal(5 * 64, 15);
  for (let i = 0; i < 64; i++) x[4 * 64 + i] *= 50; // channel 4 is an outlier channel
  const t = { data: x, dims };
  const p = calibrate(t, { format: 'int8', granularity: { kind: 'tensor' }, calibration: { kind: 'mosf', axis: 0 } });
  const amax = [0, 1, 2, 3, 4].map((c) => Math.max(...Array.from(x.subarray(c * 64, c * 64 + 64), Math.abs))).sort((a, b) => a - b);
  assert.ok(Math.abs(p.scales[0] - amax[2] / 127) < 1e-7);
  assert.equal(p.calibration, 'mosf:0');
  const h = new RunningHistogram().add(x);
  const ph = calibrateFromHistogram(h, { format: 'int8', calibration: { kind: 'mosf' } }, {
    min: [0, 1, 2, 3, 4].map((c) => Math.min(...x.subarray(c * 64, c * 64 + 64))),
    max: [0, 1, 2, 3, 4].map((c) => Math.max(...x.subarray(c * 64, c * 64 + 64))),
  });
  assert.equal(ph.scales[0], p.scales[0]);
  // per-channel granularity + MOSF = those channel scales folded into one
  const folded = calibrate(t, { format: 'int8', granularity: { kind: 'channel', axis: 0 }, calibration: { kind: 'mosf' } });
  assert.deepEqual(folded.granularity, { kind: 'tensor' });
  assert.equal(folded.scales[0], p.scales[0]);
  assert.equal(folded.calibration, 'mosf:0');
  assert.throws(() => calibrate(t, { format: 'int8', granularity: { kind: 'group', axis: 1, size: 32 }, calibration: { kind: 'mosf' } }), isFormatError);
  assert.throws(() => calibrateFromHistogram(h, { format: 'int8', calibration: { kind: 'mosf' } }), QuantLensError);
});

test('MX blocks share the OCP E8M0 scale 2^(floor(log2 amax) − emax_elem)', () => {
  const x = new Float32Array(64);
  x[0] = 5; x[1] = -1.3; x[32] = 0.3; x[33] = 0.01;
  const t = { data: x, dims: [64] };
  const p4 = calibrate(t, { format: 'mxfp4' });
  assert.deepEqual(Array.from(p4.scales), [2 ** (2 - 2), 2 ** (-2 - 2)]);
  const p8 = calibrate(t, { format: 'mxfp8' });
  assert.deepEqual(Array.from(p8.scales), [2 ** (2 - 8), 2 ** (-2 - 8)]);
  const pi = calibrate(t, { format: 'mxint8' });
  assert.deepEqual(Array.from(pi.scales), [2 ** (2 - 6), 2 ** (-2 - 6)]);
  const r = quantize(t, p4);
  assert.equal(r.dequantized[0], 4); // 5 rounds to the E2M1 grid {4, 6} → 4 (nearest)
  assert.throws(() => calibrate(t, { format: 'mxfp4', granularity: { kind: 'tensor' } }), isFormatError);
  assert.throws(() => calibrate(t, { format: 'mxfp4', granularity: { kind: 'group', axis: 0, size: 16 } }), isFormatError);
});

test('post-Softmax: AdaLog is at least as good as log2 and log√2; Tan picks a curvature > 0', () => {
  const x = softmaxRows(64, 64);
  const t = { data: x, dims: [64, 64] };
  const err = (format: string, calibration: 'minmax' | 'mse' = 'minmax') =>
    quantize(t, calibrate(t, { format, calibration: { kind: calibration }, granularity: { kind: 'tensor' } })).metrics.mse;
  assert.ok(err('adalog') <= Math.min(err('log2'), err('log_sqrt2')) * (1 + 1e-9));
  const tan = calibrate(t, { format: 'tan', calibration: { kind: 'mse' } });
  assert.ok(tan.curvature! > 0, `curvature ${tan.curvature}`);
  assert.equal(tan.signedCodes, false);
  assert.ok(err('tan', 'mse') < err('uint4', 'mse'), `Tan ${err('tan', 'mse')} beats uniform 4-bit ${err('uint4', 'mse')} on probabilities`);
  const a = calibrate(t, { format: 'adalog' });
  assert.ok(a.base! > 1);
});

test('bad calibration options are format errors; activations must be per tensor', () => {
  const t = { data: normal(64, 3), dims: [2, 32] };
  assert.throws(() => calibrate(t, { format: 'int8', calibration: { kind: 'percentile', p: 0 } }), isFormatError);
  assert.throws(() => calibrate(t, { format: 'int8', calibration: { kind: 'percentile', p: 101 } }), isFormatError);
  assert.throws(() => calibrate(t, { format: 'binary', calibration: { kind: 'kl' } }), isFormatError);
  assert.throws(() => calibrate(t, { format: 'int8', granularity: { kind: 'channel', axis: 2 } }), isFormatError);
  assert.throws(() => calibrate(t, { format: 'nope' }), isFormatError);
  assert.throws(() => toEngineActivation(calibrate(t, { format: 'int8' })), isFormatError);
  const act = toEngineActivation(calibrate(t, { format: 'uint8', granularity: { kind: 'tensor' } }));
  assert.equal(act.kind, 'int');
  assert.equal(act.signed, false);
  assert.ok(act.zeroPoints && act.zeroPoints.length === 1);
  assert.ok(Object.keys(FORMATS).length > 0);
});

test('every per-tensor-capable format calibrates from a histogram and hands the engine an exact activation record', () => {
  for (const data of [normal(20000, 21, 3), softmaxRows(100, 200)]) {
    const h = new RunningHistogram().add(data);
    const t = { data, dims: [data.length] };
    for (const id of FORMAT_IDS.filter((f) => !FORMATS[f].blockSizeFixed)) {
      const methods: CalibrationMethod[] = [{ kind: 'minmax' }, { kind: 'mse' }];
      if (id !== 'binary' && id !== 'ternary') methods.push({ kind: 'kl' }, { kind: 'percentile', p: 99.9 });
      for (const calibration of methods) {
        const kind = calibration.kind;
        const p = calibrateFromHistogram(h, { format: id, calibration });
        assert.ok(p.scales[0] > 0 && Number.isFinite(p.scales[0]), `${id} ${kind}`);
        const r = quantize(t, p);
        const rec = { ...toEngineActivation(p), dims: [data.length], codes: r.codes };
        assert.ok(sameBits(dequantizeRecord(rec), r.dequantized), `${id} ${kind}: activation record exact`);
      }
    }
  }
});
