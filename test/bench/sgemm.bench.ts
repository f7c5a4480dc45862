// SPDX-License-Identifier: Apache-2.0
/**
 * FP32 GEMM benchmark, measured side by side in one process (round robin, best wall time of each): the
 * engine's WebAssembly SIMD GEMM on one thread and on two, its TypeScript twin (the previous implementation),
 * onnxruntime-web's WASM backend (one thread) and onnxruntime-node (one intra-op thread) on a MatMul
 * 64×1024×1024 and a ResNet 3×3 convolution (64→64 channels, 56×56, pad 1). GFLOP/s = 2 per multiply-add of
 * the direct product (the engine's Winograd convolution does fewer, so its conv figure is an effective rate).
 *
 *   node [--experimental-wasm-relaxed-simd] --import tsx test/bench/sgemm.bench.ts [--quick]
 */
import { createRequire } from 'node:module';
import * as ortNode from 'onnxruntime-node';
import { matView, sgemmTs } from '../../engine/ops/gemm';
import { SgemmModule } from '../../engine/kernels/sgemm-module';
import { convWasm, sgemmWasm } from '../../engine/kernels/sgemm-wasm';
import { convForward } from '../../engine/ops/conv';
import { defaultSimdLevel } from '../../engine/kernels/wasm-module';
import { singleNodeModel } from '../engine/kernels/onnx-builders';
import { rng } from '../engine/kernels/rng';

const ortWeb = createRequire(__filename)('onnxruntime-web') as typeof ortNode;
ortWeb.env.wasm.numThreads = 1;
const quick = process.argv.includes('--quick');

type Runner = () => unknown;

/** Best wall time (ms) of each runner, round robin so all see the same machine state. */
async function timeSideBySide(runners: Runner[], minMs = quick ? 300 : 1500): Promise<number[]> {
  for (const r of runners) { await r(); await r(); }
  const best = runners.map(() => Infinity);
  const start = performance.now();
  let rounds = 0;
  while (performance.now() - start < minMs * runners.length || rounds < 3) {
    for (let i = 0; i < runners.length; i++) {
      const t0 = performance.now();
      await runners[i]();
      best[i] = Math.min(best[i], performance.now() - t0);
    }
    rounds++;
  }
  return best;
}

const session = (api: typeof ortNode, model: Uint8Array, wasm: boolean) =>
  api.InferenceSession.create(model, wasm ? { executionProviders: ['wasm'] } : { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' });

function print(name: string, macs: number, cols: [string, number][]): void {
  const g = (ms: number) => (2 * macs) / (ms * 1e6);
  console.log(`${name.padEnd(28)} ${cols.map(([n, ms]) => `${n} ${g(ms).toFixed(1).padStart(6)}`).join('   ')}  GFLOP/s`);
}

async function main(): Promise<void> {
  const level = defaultSimdLevel();
  const one = new SgemmModule(level, 1), two = new SgemmModule(level, 2);
  console.log(`engine FP32 GEMM: WASM ${level} build; 2 threads = this thread + one worker (${two.threads} available)`);
  const r = rng(5);
  {
    const M = 64, K = 1024, N = 1024;
    const a = Float32Array.from({ length: M * K }, () => r() - 0.5), b = Float32Array.from({ length: K * N }, () => r() - 0.5);
    const c = new Float32Array(M * N);
    const model = singleNodeModel({ op: 'MatMul', nodeInputs: ['a', 'b'], inputs: [{ name: 'a', type: 'float32', dims: [M, K] }],
      inits: [{ name: 'b', type: 'float32', dims: [K, N], data: b }], output: { name: 'y', type: 'float32', dims: [M, N] } });
    const web = await session(ortWeb, model, true), nat = await session(ortNode, model, false);
    const t = await timeSideBySide([
      () => sgemmWasm(one, M, N, K, matView(a, 0, K), matView(b, 0, N), c, 0, N, false),
      () => sgemmWasm(two, M, N, K, matView(a, 0, K), matView(b, 0, N), c, 0, N, false),
      () => sgemmTs(M, N, K, matView(a, 0, K), matView(b, 0, N), c, 0, N, false),
      () => web.run({ a: new ortWeb.Tensor('float32', a, [M, K]) }),
      () => nat.run({ a: new ortNode.Tensor('float32', a, [M, K]) }),
    ]);
    print(`MatMul ${M}x${K}x${N}`, M * K * N, [['ours 1T', t[0]], ['ours 2T', t[1]], ['TypeScript', t[2]], ['ort-web', t[3]], ['ort-node', t[4]]]);
  }
  {
    const C = 64, H = 56, W = 56, CO = 64;
    const x = Float32Array.from({ length: C * H * W }, () => r() - 0.5), w = Float32Array.from({ length: CO * C * 9 }, () => r() - 0.5);
    const y = new Float32Array(CO * H * W);
    const model = singleNodeModel({ op: 'Conv', nodeInputs: ['x', 'w'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] },
      inputs: [{ name: 'x', type: 'float32', dims: [1, C, H, W] }], inits: [{ name: 'w', type: 'float32', dims: [CO, C, 3, 3], data: w }],
      output: { name: 'y', type: 'float32', dims: [1, CO, H, W] } });
    const web = await session(ortWeb, model, true), nat = await session(ortNode, model, false);
    const geo = { H, W, KH: 3, KW: 3, sh: 1, sw: 1, dh: 1, dw: 1, ph: 1, pw: 1, OH: H, OW: W };
    const win = { kernel: [3, 3], strides: [1, 1], dilations: [1, 1], padBegin: [1, 1], padEnd: [1, 1], inSize: [H, W], out: [H, W] };
    const before = process.env.QUANTLENS_SGEMM;
    const t = await timeSideBySide([
      () => convWasm(one, x, 1, C, w, CO, 1, geo, y),
      () => convWasm(two, x, 1, C, w, CO, 1, geo, y),
      () => { process.env.QUANTLENS_SGEMM = 'ts'; try { convForward(x, 1, C, w, CO, 1, win); } finally { if (before === undefined) delete process.env.QUANTLENS_SGEMM; else process.env.QUANTLENS_SGEMM = before; } },
      () => web.run({ x: new ortWeb.Tensor('float32', x, [1, C, H, W]) }),
      () => nat.run({ x: new ortNode.Tensor('float32', x, [1, C, H, W]) }),
    ]);
    // GFLOP/s of the direct convolution's multiply-adds for all columns; ours runs Winograd F(2×2, 3×3) (2.25× fewer)
    print(`Conv 3x3 ${C}->${CO} ${H}x${W}*`, CO * C * 9 * H * W, [['ours 1T', t[0]], ['ours 2T', t[1]], ['TypeScript', t[2]], ['ort-web', t[3]], ['ort-node', t[4]]]);
  }
  console.log('* conv GFLOP/s count the direct convolution\'s multiply-adds; the engine computes this layer by Winograd F(2×2, 3×3)');
  one.dispose();
  two.dispose();
}

main().catch((e) => { console.error(e); process.exit(1); });
