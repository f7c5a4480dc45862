// SPDX-License-Identifier: Apache-2.0
/**
 * The quantized-node factory the executor calls (engine/kernel-api.ts): Conv, Gemm and MatMul with a
 * quantized constant weight run on the packed-integer / decode-table WebAssembly kernels; the returned
 * node reports which path it runs. null means no kernel covers the combination (the executor fake-quants).
 */
import type { QuantizedNodeFactory, QuantizedNodeRequest, QuantizedNode } from '../kernel-api';
import { KernelModule, sharedKernelModule } from '../kernels/wasm-module';
import { createConvNode } from './conv-node';
import { createMatMulNode } from './matmul-node';

// Packed weights live in the kernel instance's memory; they are released when the runner that uses them is
// garbage-collected (the runner, not the QuantizedNode record: callers may keep only `run`).
const owners = new FinalizationRegistry<{ mod: KernelModule; blocks: number[] }>((held) => {
  for (const p of held.blocks) held.mod.release(p);
});

function createFor(mod: KernelModule, req: QuantizedNodeRequest): QuantizedNode | null {
  switch (req.node.opType) {
    case 'Conv': return createConvNode(mod, req);
    case 'Gemm':
    case 'MatMul': return createMatMulNode(mod, req);
    default: return null;
  }
}

function create(mod: KernelModule, req: QuantizedNodeRequest): QuantizedNode | null {
  if (req.config.kernel === 'fake-quant' || req.node.domain !== '') return null;
  let tracked: { value: QuantizedNode | null; blocks: number[] };
  try {
    tracked = mod.track(() => createFor(mod, req));
  } catch (e) {
    // a node that fails to build (e.g. codes outside the format's range) keeps nothing
    for (const p of mod.lastTracked) mod.release(p);
    throw e;
  }
  const { value, blocks } = tracked;
  if (!value) {
    for (const p of blocks) mod.release(p);
    return null;
  }
  owners.register(value.run, { mod, blocks });
  return value;
}

/** A factory bound to one kernel instance (one WebAssembly.Memory per engine instance). */
export function createQuantizedNodeFactory(mod: KernelModule = new KernelModule()): QuantizedNodeFactory {
  return (req) => create(mod, req);
}

/** The factory on the process-wide kernel instance. */
export const createQuantizedNode: QuantizedNodeFactory = (req) => create(sharedKernelModule(), req);

export { KernelModule, relaxedSimdSupported, defaultSimdLevel } from '../kernels/wasm-module';
export type { SimdLevel } from '../kernels/wasm-module';
