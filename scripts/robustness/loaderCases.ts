// SPDX-License-Identifier: Apache-2.0
/** Hostile and broken model files through the real loader (analysis/onnx/load.ts). */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { onnx } from 'onnx-proto';
import { loadModel } from '../../analysis/onnx/load';
import { FLOAT, encodeModel, externalModel, floatTensor, node, tinyModel, vi } from '../../test/loader/onnxBuild';
import { expectError, expectSuccess, type Case, type Section } from './case';

/** Writes a model (and side files) into its own folder under `root`; returns the model path. */
function placer(root: string): (bytes: Uint8Array, side?: Record<string, Uint8Array>) => string {
  let n = 0;
  return (bytes, side = {}) => {
    const dir = path.join(root, `loader-${n++}`);
    mkdirSync(dir, { recursive: true });
    for (const [name, data] of Object.entries(side)) writeFileSync(path.join(dir, name), data);
    const file = path.join(dir, 'model.onnx');
    writeFileSync(file, bytes);
    return file;
  };
}

const withInit = (t: onnx.ITensorProto) => encodeModel({ input: [vi('x', [1])], output: [vi('y', [1])], initializer: [t], node: [node('Add', ['x', 'w'], ['y'])] });
const floats = (n: number) => new Uint8Array(Float32Array.from({ length: n }, (_, i) => i).buffer);

/** The loader section. */
export function loaderSection(root: string): Section {
  const place = placer(root);
  const outside = path.join(root, 'secret.bin');
  writeFileSync(outside, floats(4));
  const good = tinyModel();
  const err = (name: string, expected: string, make: () => string, kind: Parameters<typeof expectError>[1], pattern: RegExp, opts?: Parameters<typeof loadModel>[1]): Case => ({
    name, expected: `${kind} error naming the file (${expected})`,
    run: () => { const f = make(); return expectError(() => loadModel(f, opts), kind, pattern, f); },
  });
  const cases: Case[] = [
    { name: 'valid tiny model (control)', expected: 'loads', run: () => expectSuccess(() => loadModel(place(good)), (r) => `${(r as Awaited<ReturnType<typeof loadModel>>).model.graph.nodes.length} nodes`) },
    err('truncated to half its bytes', 'not valid ONNX / truncated', () => place(good.subarray(0, good.length >> 1)), 'model-format', /not a valid ONNX|no graph|declares|truncat/),
    err('truncated to 7 bytes', 'not valid ONNX', () => place(good.subarray(0, 7)), 'model-format', /not a valid ONNX|no graph|truncat/),
    err('a ZIP file renamed .onnx (not protobuf)', 'not valid ONNX', () => place(new TextEncoder().encode('PK\u0003\u0004 definitely a zip')), 'model-format', /not a valid ONNX|no graph/),
    err('a JSON file renamed .onnx', 'not valid ONNX', () => place(new TextEncoder().encode('{"model": 1}')), 'model-format', /not a valid ONNX|no graph/),
    err('empty file', 'empty', () => place(new Uint8Array(0)), 'model-format', /empty/),
    err('model file does not exist', 'ENOENT', () => path.join(root, 'nope', 'model.onnx'), 'io', /ENOENT|does not exist/),
    err('external data file missing', 'names the location', () => place(externalModel('absent.bin')), 'external-data', /absent\.bin/),
    err("external location '../secret.bin'", "'..' refused", () => place(externalModel('../secret.bin')), 'external-data', /'\.\.'/),
    err("external location 'sub/../../secret.bin'", "'..' refused", () => place(externalModel('sub/../../secret.bin')), 'external-data', /'\.\.'/),
    err('external location is an absolute path', 'absolute path refused', () => place(externalModel(outside)), 'external-data', /absolute/),
    err("external location 'C:\\Windows\\win.ini'", 'absolute path refused', () => place(externalModel('C:\\Windows\\win.ini')), 'external-data', /absolute/),
    err('external file is a symlink to a file outside the folder', 'symlink refused', () => {
      const f = place(externalModel('link.bin'));
      symlinkSync(outside, path.join(path.dirname(f), 'link.bin'));
      return f;
    }, 'external-data', /symlink/),
    err('external file inside a symlinked folder that leads out', 'symlink refused', () => {
      const f = place(externalModel('d/secret.bin'));
      symlinkSync(root, path.join(path.dirname(f), 'd'));
      return f;
    }, 'external-data', /symlink/),
    err('external data shorter than the tensor (offset 8 of 16 bytes)', 'too short', () => place(externalModel('short.bin', 4, { offset: '8' }), { 'short.bin': floats(4) }), 'external-data', /only|short|length/),
    err('raw_data holds 16 bytes, dims declare [5] float', 'size lie refused', () => place(withInit({ ...floatTensor('w', [4]), dims: [5] })), 'model-format', /declares .* but its data holds/),
    err('float_data holds 2 values, dims declare [3]', 'size lie refused', () => place(withInit({ name: 'w', dims: [3], dataType: FLOAT, floatData: [1, 2] })), 'model-format', /float_data holds 2/),
    err('dims [2^30, 2^30, 2^10] (product > 2^53)', 'overflow refused', () => place(withInit({ name: 'w', dims: [2 ** 30, 2 ** 30, 2 ** 10], dataType: FLOAT, rawData: new Uint8Array(4) })), 'limit', /2\^53/),
    err('negative dim -3', 'invalid dimension', () => place(withInit({ name: 'w', dims: [-3], dataType: FLOAT })), 'model-format', /invalid dimension/),
    { name: 'tensor declaring 64 GiB with 4 bytes present (default 2 GiB cap)', expected: 'limit error before any allocation (ArrayBuffer growth < 64 MiB)', run: async () => {
      const f = place(withInit({ name: 'w', dims: [2 ** 34], dataType: FLOAT, rawData: new Uint8Array(4) }));
      const before = process.memoryUsage().arrayBuffers;
      const r = await expectError(() => loadModel(f), 'limit', /cap/, f);
      const grew = process.memoryUsage().arrayBuffers - before;
      return { pass: r.pass && grew < 64 * 2 ** 20, observed: `${r.observed} (ArrayBuffers grew ${(grew / 2 ** 20).toFixed(1)} MiB)` };
    } },
    err('external tensor declaring 8 GiB (file absent)', 'cap answers before reading', () => place(withInit({ name: 'w', dims: [2 ** 31], dataType: FLOAT, dataLocation: 1, externalData: [{ key: 'location', value: 'huge.bin' }] })), 'limit', /cap/),
    err('4 KiB weight with a configured 1 KiB per-tensor cap', 'limit', () => place(withInit(floatTensor('w', [1024]))), 'limit', /per-tensor cap/, { limits: { maxTensorBytes: 1024 } }),
    err('4 KiB weight with a configured 2 KiB memory cap', 'limit', () => place(withInit(floatTensor('w', [1024]))), 'limit', /memory cap/, { limits: { maxTotalBytes: 2048 } }),
    err('cyclic graph (a → b → a)', 'cycle named', () => place(encodeModel({ input: [vi('x', [1])], output: [vi('b', [1])], node: [node('Add', ['x', 'b'], ['a'], {}, 'n1'), node('Relu', ['a'], ['b'], {}, 'n2')] })), 'model-format', /cycle/),
    err('node reading its own output', 'cycle', () => place(encodeModel({ input: [vi('x', [1])], output: [vi('a', [1])], node: [node('Add', ['x', 'a'], ['a'])] })), 'model-format', /cycle/),
    err('input never defined', 'names the value', () => place(encodeModel({ input: [vi('x', [1])], output: [vi('y', [1])], node: [node('Add', ['x', 'ghost'], ['y'])] })), 'model-format', /ghost/),
    err('value defined twice', 'duplicate', () => place(encodeModel({ input: [vi('x', [1])], output: [vi('y', [1])], node: [node('Relu', ['x'], ['y']), node('Neg', ['x'], ['y'])] })), 'model-format', /twice/),
    err('If subgraphs nested 80 deep', 'nesting cap (64)', () => place(deepModel(80)), 'limit', /nested/),
  ];
  return { title: 'Loader: broken and hostile model files', intro: 'Each file is written to its own temp folder and opened with `loadModel` (analysis/onnx/load.ts); helpers from test/loader/onnxBuild.ts build them.', cases };
}

function deepModel(depth: number): Uint8Array {
  const leaf: onnx.IGraphProto = { name: 'leaf', output: [vi('z', [1])], node: [node('Identity', ['x'], ['z'])] };
  let body = leaf;
  for (let i = 0; i < depth; i++) body = { name: `level${i}`, output: [vi('z', [1])], node: [node('If', ['c'], ['z'], { then_branch: body, else_branch: leaf })] };
  return encodeModel({ input: [vi('x', [1]), vi('c', [], 9)], output: [vi('z', [1])], node: body.node! });
}

