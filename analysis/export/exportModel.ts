// SPDX-License-Identifier: Apache-2.0
/**
 * The one export pipeline behind `quantlens export` and the extension's "Export QDQ model": compile (so weights
 * the engine folds, e.g. a Transpose of a stored MatMul weight, are found), calibrate the activations the config
 * quantizes, build the engine records, write the QDQ model in memory and prove onnxruntime loads it. Nothing is
 * written to disk here; callers decide where (and whether to overwrite).
 */
import * as ort from 'onnxruntime-node';
import { compile } from '../../engine/index';
import { QuantLensError } from '../../engine/errors';
import type { QuantConfig } from '../config/types';
import type { CalibrationSource } from '../data';
import { activationTensorsFor, buildEngineConfig, type BuiltQuant } from '../eval/engineConfig';
import { calibrateActivations } from '../eval/evaluate';
import { gptqLayers, gramsForConfig } from '../eval/layerGram';
import type { LoadedModel } from '../onnx/load';
import { exportQdq, type QdqExportResult } from './qdq';

export interface ExportedModel {
  result: QdqExportResult;
  built: BuiltQuant;
  /** Constants as the engine sees them after folding (weights reached through Transpose etc.). */
  constants: ReadonlyMap<string, import('../../engine/ir').Tensor>;
}

/** What needs calibration data when exporting this config (null: nothing): activation ranges, GPTQ rounding. */
export function calibrationNeed(loaded: LoadedModel, config: QuantConfig): string | null {
  const program = compile(loaded.model);
  const why = [
    ...(activationTensorsFor(loaded.model.graph, config, program.constants).length > 0 ? ['quantizes activations (their ranges)'] : []),
    ...(gptqLayers(program, config).length > 0 ? ['rounds weights with GPTQ (the layers\' inputs)'] : []),
  ];
  return why.length > 0 ? `the config ${why.join(' and ')}` : null;
}

/** Quantize `loaded` under `config` into a QDQ model that onnxruntime has loaded successfully. */
export async function buildQdqExport(loaded: LoadedModel, modelBytes: Uint8Array, config: QuantConfig,
  calib: CalibrationSource | undefined, metadata: Record<string, string> = {}): Promise<ExportedModel> {
  const program = compile(loaded.model);
  const { constants } = program;
  const names = activationTensorsFor(loaded.model.graph, config, constants);
  if (names.length > 0 && !calib) {
    throw new QuantLensError('usage', `${loaded.file}: the config quantizes activations, so calibration data is needed to set their ranges`, loaded.file);
  }
  const stats = names.length > 0 && calib ? await calibrateActivations(loaded, modelBytes, names, calib) : new Map();
  const grams = await gramsForConfig(program, config, calib);
  const built = buildEngineConfig(loaded.model.graph, config, stats, constants, grams);
  const result = exportQdq(modelBytes, built.engine, loaded.file, { metadata });
  try {
    const session = await ort.InferenceSession.create(result.bytes, { logSeverityLevel: 3 });
    await session.release();
  } catch (e) {
    throw new Error(`the exported model does not load in onnxruntime: ${(e as Error).message.split('\n')[0]}`);
  }
  return { result, built, constants };
}
