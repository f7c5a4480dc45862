// SPDX-License-Identifier: Apache-2.0
/** What a per-op shape rule sees (its node's input shapes, dtypes, constant values, attributes) and returns. */
import type { DType, Dim, Node } from '../../engine/ir';
import { QuantLensError } from '../../engine/errors';
import type { Val } from './values';

/** One output's inferred facts; anything left undefined is unknown. */
export interface OutInfo {
  shape?: Dim[];
  dtype?: DType;
  value?: Val;
}

export type ShapeRule = (c: OpContext) => OutInfo[];

export class OpContext {
  constructor(
    readonly node: Node,
    readonly opset: number,
    readonly file: string,
    private readonly shapes: (Dim[] | undefined)[],
    private readonly dtypes: (DType | undefined)[],
    private readonly values: (Val | undefined)[],
  ) {}

  get inputCount(): number {
    return this.node.inputs.filter((x) => x !== '').length;
  }

  has(i: number): boolean {
    return (this.node.inputs[i] ?? '') !== '';
  }

  shape(i: number): Dim[] | undefined {
    return this.has(i) ? this.shapes[i] : undefined;
  }

  rank(i: number): number | undefined {
    return this.shape(i)?.length;
  }

  dtype(i: number): DType | undefined {
    return this.has(i) ? this.dtypes[i] : undefined;
  }

  value(i: number): Val | undefined {
    return this.has(i) ? this.values[i] : undefined;
  }

  int(name: string, dflt: number): number {
    const a = this.node.attrs[name];
    return a?.type === 'int' ? a.value : a?.type === 'float' ? a.value : dflt;
  }

  float(name: string, dflt: number): number {
    const a = this.node.attrs[name];
    return a?.type === 'float' || a?.type === 'int' ? a.value : dflt;
  }

  str(name: string, dflt: string): string {
    const a = this.node.attrs[name];
    return a?.type === 'string' ? a.value : dflt;
  }

  ints(name: string): number[] | undefined {
    const a = this.node.attrs[name];
    if (a?.type === 'ints') return a.value;
    if (a?.type === 'int') return [a.value];
    return undefined;
  }

  floats(name: string): number[] | undefined {
    const a = this.node.attrs[name];
    return a?.type === 'floats' ? a.value : a?.type === 'float' ? [a.value] : undefined;
  }

  /** A list given as attribute `name` (older opsets) or as constant input `index` (newer ones). */
  intsFrom(name: string, index: number): number[] | undefined {
    return this.ints(name) ?? this.value(index)?.v;
  }

  /** A 'shape' error naming the file, node and op. */
  fail(problem: string): never {
    const n = this.node;
    throw new QuantLensError('shape', `${this.file}: node '${n.name}' (${n.opType}): ${problem}`, this.file);
  }
}

/** Normalises a possibly negative axis against a rank, failing when out of range. */
export function axisOf(c: OpContext, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) c.fail(`axis ${axis} is out of range for rank ${rank}`);
  return a;
}

/** Product of dims, null when any is unknown. */
export function dimProduct(dims: readonly Dim[]): number | null {
  let p = 1;
  for (const d of dims) {
    if (typeof d !== 'number') return null;
    p *= d;
  }
  return p;
}

/** Numpy broadcast of possibly unknown dims; an incompatible pair is a shape error. */
export function broadcast(c: OpContext, shapes: Dim[][]): Dim[] {
  const r = Math.max(...shapes.map((s) => s.length));
  const out: Dim[] = [];
  for (let i = 0; i < r; i++) {
    let known: number | undefined;
    let unknown = false;
    for (const s of shapes) {
      const d = s[s.length - r + i] ?? 1;
      if (typeof d !== 'number') { unknown = true; continue; }
      if (d === 1) continue;
      if (known !== undefined && known !== d) {
        c.fail(`cannot broadcast shapes ${shapes.map((x) => `[${x.join(',')}]`).join(' and ')}`);
      }
      known = d;
    }
    out.push(known ?? (unknown ? null : 1));
  }
  return out;
}
