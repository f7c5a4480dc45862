// SPDX-License-Identifier: Apache-2.0
/** The shape of an op implementation and the attribute readers every op uses to parse its node once, at compile time. */
import { QuantLensError } from '../errors';
import type { Node, Tensor } from '../ir';
import type { NodeRunner } from '../kernel-api';

export type { NodeRunner };

/** What an op factory sees at compile time. */
export interface OpContext {
  /** Opset version of the node's domain. */
  opset: number;
  /** Inputs known at compile time (initializers, folded constants) by input index; undefined otherwise. */
  constants: (Tensor | undefined)[];
}

/** Parses a node's attributes once and returns the function that runs it; throws for unsupported attribute values. */
export type OpFactory = (node: Node, ctx: OpContext) => NodeRunner;

/** Reads a node's attributes with defaults; every getter names the node in its error. */
export class Attrs {
  constructor(private readonly node: Node) {}

  has(name: string): boolean { return name in this.node.attrs; }

  int(name: string, dflt: number): number {
    const a = this.node.attrs[name];
    if (!a) return dflt;
    if (a.type !== 'int') throw this.bad(name, 'an int');
    return a.value;
  }

  float(name: string, dflt: number): number {
    const a = this.node.attrs[name];
    if (!a) return dflt;
    if (a.type === 'float' || a.type === 'int') return a.value;
    throw this.bad(name, 'a float');
  }

  string(name: string, dflt: string): string {
    const a = this.node.attrs[name];
    if (!a) return dflt;
    if (a.type !== 'string') throw this.bad(name, 'a string');
    return a.value;
  }

  ints(name: string): number[] | undefined {
    const a = this.node.attrs[name];
    if (!a) return undefined;
    if (a.type === 'ints') return a.value;
    if (a.type === 'int') return [a.value];
    throw this.bad(name, 'a list of ints');
  }

  floats(name: string): number[] | undefined {
    const a = this.node.attrs[name];
    if (!a) return undefined;
    if (a.type === 'floats') return a.value;
    if (a.type === 'float') return [a.value];
    throw this.bad(name, 'a list of floats');
  }

  tensor(name: string): Tensor | undefined {
    const a = this.node.attrs[name];
    if (!a) return undefined;
    if (a.type !== 'tensor') throw this.bad(name, 'a tensor');
    return a.value;
  }

  /** Throws the engine's unsupported error for an attribute value it does not implement. */
  unsupported(what: string): QuantLensError {
    return new QuantLensError('unsupported-op', `${this.node.opType} node '${this.node.name}': ${what} is not supported by the engine`);
  }

  private bad(name: string, want: string): QuantLensError {
    return new QuantLensError('model-format', `${this.node.opType} node '${this.node.name}': attribute '${name}' is not ${want}`);
  }
}

/** The required input `i`, or a model-format error naming the node. */
export function need(inputs: (Tensor | undefined)[], i: number, node: Node): Tensor {
  const t = inputs[i];
  if (!t) throw new QuantLensError('model-format', `${node.opType} node '${node.name}': required input ${i} is missing`);
  return t;
}
