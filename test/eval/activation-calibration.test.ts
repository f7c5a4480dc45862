// SPDX-License-Identifier: Apache-2.0
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ActivationAccumulator, activationChannelAxis } from '../../analysis/activations/accumulator';
import { quantizeActivation } from '../../analysis/eval/engineConfig';

/** NCHW activation whose channel 0 has a 20× wider range than the rest (the case MOSF is for). */
function skewedActivation(): ActivationAccumulator {
  const acc = new ActivationAccumulator('act', activationChannelAxis);
  const dims = [2, 4, 3, 3];
  const data = new Float32Array(2 * 4 * 9);
  for (let i = 0; i < data.length; i++) {
    const c = Math.floor(i / 9) % 4;
    data[i] = ((i * 37) % 17) / 16 * (c === 0 ? 20 : 1);
  }
  acc.add(data, dims);
  return acc;
}

test('MOSF activation calibration reads the streamed per-channel ranges and gives a narrower scale than min-max', () => {
  const acc = skewedActivation();
  const mosf = quantizeActivation({ format: 'uint8', calibration: 'mosf' }, acc);
  const minmax = quantizeActivation({ format: 'uint8', calibration: 'minmax' }, acc);
  assert.equal(mosf.scales.length, 1);
  assert.ok(mosf.scales[0] > 0);
  assert.ok(mosf.scales[0] < minmax.scales[0], `mosf scale ${mosf.scales[0]} should be below min-max ${minmax.scales[0]}`);
});
