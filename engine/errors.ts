// SPDX-License-Identifier: Apache-2.0
/**
 * The one typed error of QuantLens. Every problem a user can cause (a broken file, a bad flag, an op the
 * engine lacks) is a QuantLensError with a kind; anything else that escapes is a bug (CLI exit code 2).
 * It lives in engine/ because that is the lowest layer; analysis/ and extension/ re-use it.
 */
export type ErrorKind =
  | 'usage'          // wrong command-line use
  | 'io'             // file missing or unreadable
  | 'model-format'   // not ONNX / truncated / inconsistent protobuf
  | 'limit'          // a size or resource cap refused the input before allocation
  | 'external-data'  // external tensor data missing or escaping the model folder
  | 'shape'          // shapes that cannot be inferred or do not agree
  | 'unsupported-op' // the engine has no implementation for an op
  | 'calibration'    // calibration data or labels unusable
  | 'format'         // unknown quantization format or unsupported option
  | 'config'         // invalid *.quant.json
  | 'gate'           // a CI gate (e.g. eval --fail-on-drop) was not met: the run itself succeeded
  | 'cancelled';

export class QuantLensError extends Error {
  override readonly name = 'QuantLensError';
  constructor(
    readonly kind: ErrorKind,
    message: string,
    /** The file the problem is in, when there is one; the message should name it too. */
    readonly file?: string,
  ) {
    super(message);
  }
}

export function isQuantLensError(e: unknown): e is QuantLensError {
  return e instanceof QuantLensError;
}
