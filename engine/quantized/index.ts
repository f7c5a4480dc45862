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

function create(mod: KernelModule, req: QuantizedNodeRequest): QuantizedNode | null {
  if (req.config.kernel === 'fake-quant' || req.node.domain !== '') return null;
  switch (req.node.opType) {
    case 'Conv': return createConvNode(mod, req);
    case 'Gemm':
    case 'MatMul': return createMatMulNode(mod, req);
    default: return null;
  }
}

/** A factory bound to one kernel instance (one WebAssembly.Memory per engine instance). */
export function createQuantizedNodeFactory(mod: KernelModule = new KernelModule()): QuantizedNodeFactory {
  return (req) => create(mod, req);
}

/** The factory on the process-wide kernel instance. */
export const createQuantizedNode: QuantizedNodeFactory = (req) => create(sharedKernelModule(), req);

export { KernelModule, relaxedSimdSupported, defaultSimdLevel } from '../kernels/wasm-module';
export type { SimdLevel } from '../kernels/wasm-module';
