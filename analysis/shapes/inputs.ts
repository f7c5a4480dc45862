// SPDX-License-Identifier: Apache-2.0
/**
 * Concrete shapes for a graph's inputs. Symbolic dims come from `--shape NAME=1x3x224x224` (or
 * `--shape SYMBOL=N` for a named dim); otherwise a leading (batch-like) dim defaults to 1 with a warning;
 * any other unknown dim is a QuantLensError('shape') that tells the user which --shape to pass.
 */
import type { Dim, Graph } from '../../engine/ir';
import { QuantLensError } from '../../engine/errors';

export type ShapeOverrides = Record<string, number[]>;

export interface ResolvedInputs {
  shapes: Map<string, number[]>;
  warnings: string[];
}

const fmt = (s: readonly Dim[]) => s.map((d) => (d === null ? '?' : String(d))).join('x');

/** Resolves every graph input to concrete dims, or explains which --shape is missing. */
export function resolveInputShapes(graph: Graph, file: string, overrides: ShapeOverrides = {}): ResolvedInputs {
  const inputNames = new Set(graph.inputs.map((i) => i.name));
  const symbols = new Set<string>();
  for (const i of graph.inputs) for (const d of i.shape ?? []) if (typeof d === 'string') symbols.add(d);
  for (const name of Object.keys(overrides)) {
    if (!inputNames.has(name) && !symbols.has(name)) {
      throw new QuantLensError('usage',
        `${file}: --shape names '${name}', which is neither an input (${[...inputNames].join(', ') || 'none'}) nor a symbolic dim of one`, file);
    }
    if (symbols.has(name) && !inputNames.has(name) && overrides[name].length !== 1) {
      throw new QuantLensError('usage', `${file}: --shape ${name}=… sets a symbolic dim and takes one number`, file);
    }
  }
  const shapes = new Map<string, number[]>();
  const warnings: string[] = [];
  const defaulted = new Set<string>();
  for (const input of graph.inputs) {
    const given = overrides[input.name];
    const declared = input.shape;
    if (given) {
      if (declared && declared.length !== given.length) {
        throw new QuantLensError('shape', `${file}: --shape ${input.name}=${given.join('x')} has rank ${given.length} but the input is ${fmt(declared)}`, file);
      }
      declared?.forEach((d, i) => {
        if (typeof d === 'number' && d !== given[i]) {
          throw new QuantLensError('shape', `${file}: --shape ${input.name}=${given.join('x')} changes dim ${i}, which the model fixes at ${d}`, file);
        }
      });
      shapes.set(input.name, given.slice());
      continue;
    }
    if (!declared) {
      throw new QuantLensError('shape', `${file}: input '${input.name}' has no declared shape; pass --shape ${input.name}=<dims, e.g. 1x3x224x224>`, file);
    }
    const dims = declared.map((d, i): number => {
      if (typeof d === 'number') return d;
      if (typeof d === 'string' && overrides[d]) return overrides[d][0];
      if (i === 0 || (typeof d === 'string' && defaulted.has(d))) {
        if (typeof d === 'string') defaulted.add(d);
        return 1;
      }
      throw new QuantLensError('shape',
        `${file}: input '${input.name}' has shape ${fmt(declared)} with unknown dim ${i}${typeof d === 'string' ? ` ('${d}')` : ''}; pass --shape ${input.name}=${declared.map((x, k) => (typeof x === 'number' ? x : k === 0 ? 1 : 'N')).join('x')}`, file);
    });
    if (declared.some((d) => typeof d !== 'number')) {
      warnings.push(`input '${input.name}' has shape ${fmt(declared)}; assuming ${dims.join('x')} (batch 1). Use --shape ${input.name}=… to change it`);
    }
    shapes.set(input.name, dims);
  }
  return { shapes, warnings };
}

/** Parses `NAME=1x3x224x224` (also `,`-separated dims); a malformed value is a 'usage' error. */
export function parseShapeFlag(spec: string): [string, number[]] {
  const eq = spec.lastIndexOf('=');
  const name = eq > 0 ? spec.slice(0, eq) : '';
  const dims = eq > 0 ? spec.slice(eq + 1).split(/[x,×]/i).map((s) => Number(s.trim())) : [];
  if (!name || dims.length === 0 || dims.some((d) => !Number.isSafeInteger(d) || d < 0)) {
    throw new QuantLensError('usage', `--shape expects NAME=DIMS like input=1x3x224x224, got '${spec}'`);
  }
  return [name, dims];
}
