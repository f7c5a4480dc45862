// SPDX-License-Identifier: Apache-2.0
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FORMATS, FORMAT_IDS, bitsPerElement, getFormat, resolveBits, scaleCount } from '../../analysis/quant/formats';
import { QuantLensError } from '../../engine/errors';

const REQUIRED_IDS = [
  'int2', 'int3', 'int4', 'int5', 'int6', 'int7', 'int8', 'uint2', 'uint3', 'uint4', 'uint5', 'uint6', 'uint7', 'uint8', 'int16',
  'fp8_e4m3', 'fp8_e5m2', 'fp6_e3m2', 'fp6_e2m3', 'fp4_e2m1', 'mxfp8', 'mxfp8_e5m2', 'mxfp6', 'mxfp6_e3m2', 'mxfp4', 'mxint8', 'nf4', 'nf4_dq',
  'log2', 'log_sqrt2', 'adalog', 'tan', 'ternary', 'binary', 'pow2',
];

test('the table declares every stable format id exactly once, each with its data', () => {
  assert.deepEqual([...FORMAT_IDS].sort(), [...REQUIRED_IDS].sort());
  for (const id of FORMAT_IDS) {
    const f = FORMATS[id];
    assert.equal(f.id, id);
    assert.ok(f.bits >= 1 && f.bits <= 16, id);
    assert.ok(['int', 'lut', 'decode-table'].includes(f.engineKernel), id);
    assert.ok(f.description.length > 10, id);
    assert.ok(f.tolerance > 0 && f.tolerance < 2, id);
    if (f.family === 'minifloat' || (f.family === 'mx' && !f.mxIntBits)) {
      assert.equal(1 + f.minifloat!.exp + f.minifloat!.man, f.bits, `${id}: sign + exponent + mantissa = bits`);
    }
  }
});

test('an unknown id or an unsupported width is a format error listing the valid ones', () => {
  assert.throws(() => getFormat('int9'), (e: unknown) =>
    e instanceof QuantLensError && e.kind === 'format' && e.message.includes("'int9'") && e.message.includes('fp8_e4m3'));
  assert.throws(() => resolveBits(getFormat('log2'), 12), (e: unknown) =>
    e instanceof QuantLensError && e.kind === 'format' && /2, 3, 4, 5, 6, 7, 8/.test(e.message));
  assert.throws(() => resolveBits(getFormat('int8'), 4), /does not support 4 bits; valid: 8/);
  assert.equal(resolveBits(getFormat('log2'), 3), 3);
});

test('bitsPerElement matches hand-computed storage costs', () => {
  // int4 per-channel on a 64x128 weight: 4 + 64·32/8192 = 4.25
  assert.equal(bitsPerElement('int4', { kind: 'channel', axis: 0 }, [64, 128]), 4.25);
  // asymmetric uint8 per-tensor on 1000 elements: 8 + (32 + 8)/1000
  assert.equal(bitsPerElement('uint8', { kind: 'tensor' }, [1000]), 8 + 40 / 1000);
  // int4 groups of 128 along axis 1 of 256x1024, symmetric: 4 + 32/128
  assert.equal(bitsPerElement('int4', { kind: 'group', axis: 1, size: 128 }, [256, 1024]), 4.25);
  // asymmetric int4 groups of 32: 4 + (32 + 4)/32
  assert.equal(bitsPerElement('int4', { kind: 'group', axis: 1, size: 32 }, [8, 64], { symmetric: false }), 4 + 36 / 32);
  // MXFP4: 4 + 8/32 = 4.25; MXFP8: 8.25; MXFP6: 6.25
  assert.equal(bitsPerElement('mxfp4', { kind: 'group', axis: 1, size: 32 }, [16, 64]), 4.25);
  assert.equal(bitsPerElement('mxfp8', { kind: 'group', axis: 1, size: 32 }, [16, 64]), 8.25);
  assert.equal(bitsPerElement('mxfp6', { kind: 'group', axis: 1, size: 32 }, [16, 64]), 6.25);
  // NF4, blocks of 64 with an FP32 absmax: 4.5
  assert.equal(bitsPerElement('nf4', { kind: 'group', axis: 1, size: 64 }, [4, 256]), 4.5);
  // ternary per tensor on 1024: 2 + 32/1024; binary per channel 16x64: 1 + 0.5
  assert.equal(bitsPerElement('ternary', { kind: 'tensor' }, [1024]), 2 + 32 / 1024);
  assert.equal(bitsPerElement('binary', { kind: 'channel', axis: 0 }, [16, 64]), 1.5);
  // adalog stores its base once per tensor: 4 + (32 + 32)/4096
  assert.equal(bitsPerElement('adalog', { kind: 'tensor' }, [64, 64]), 4 + 64 / 4096);
  // 3-bit log2 on request
  assert.equal(bitsPerElement('log2', { kind: 'tensor' }, [100], { bits: 3 }), 3 + 32 / 100);
  // ragged last group: ceil(100/32) = 4 groups per row
  assert.equal(scaleCount({ kind: 'group', axis: 1, size: 32 }, [3, 100]), 12);
});
