// SPDX-License-Identifier: Apache-2.0
/** Public surface of the quantizer library: the format table, calibrate → quantize, histograms, engine records. */
export { FORMATS, FORMAT_IDS, getFormat, resolveBits, bitsPerElement, scaleCount } from './formats';
export type { QuantFormat, FormatFamily, Granularity, EngineKernel, MinifloatSpec, StorageCost } from './formats';
export { RunningHistogram, DEFAULT_BINS } from './histogram';
export type { HistogramJSON } from './histogram';
export { calibrate, calibrateFromHistogram, calibrationLabel } from './calibrate';
export type { ChannelRanges } from './calibrate';
export { quantize, errorMetrics, codecOf } from './quantize';
export { resolveGranularity, granularityLabel, toLayout } from './layout';
export { toEngineWeight, toEngineActivation, toEngineParams, dequantizeRecord } from './toEngine';
export type { CalibrationMethod, QuantSpec, QuantParams, QuantizeResult, QuantMetrics, TensorInput } from './types';
