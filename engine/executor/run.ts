// SPDX-License-Identifier: Apache-2.0
/**
 * Runs a compiled program. Feeds may name graph inputs, intermediate values (only the nodes downstream of them
 * run) or constants (same as a weight override). Values are released after their last reader.
 */
import { QuantLensError } from '../errors';
import type { Tensor } from '../ir';
import { useArena } from '../ops/arena';
import type { CompiledNode, NodeTiming, Plan, Program, RunOptions, RunResult } from './program';
import type { FusedChain } from './fuse';
import { planRun } from './schedule';

/** Runs the program synchronously. */
export function runSync(program: Program, feeds: Record<string, Tensor>, opts: RunOptions = {}): RunResult {
  const steps = execute(program, feeds, opts);
  for (;;) { const r = steps.next(); if (r.done) return r.value; }
}

/** Runs the program, yielding to the event loop every ~50 ms and honouring `opts.signal`. */
export async function run(program: Program, feeds: Record<string, Tensor>, opts: RunOptions = {}): Promise<RunResult> {
  const steps = execute(program, feeds, opts);
  let last = performance.now();
  for (;;) {
    if (opts.signal?.aborted) throw new QuantLensError('cancelled', 'the engine run was cancelled');
    const r = steps.next();
    if (r.done) return r.value;
    if (performance.now() - last > 50) { await new Promise((res) => setTimeout(res, 0)); last = performance.now(); }
  }
}

function* execute(program: Program, feeds: Record<string, Tensor>, opts: RunOptions): Generator<void, RunResult> {
  const overlay = new Map<string, Tensor>();
  const runtime = new Map<string, Tensor>();
  for (const [name, t] of Object.entries(feeds)) {
    if (program.constants.has(name)) overlay.set(name, t);
    else if (program.producers.has(name) || program.inputNames.includes(name)) runtime.set(name, t);
    else throw new QuantLensError('usage', `feed '${name}' is not a value of graph '${program.graph.name}'`);
  }
  checkInputs(program, runtime);
  for (const [name, t] of Object.entries(opts.weightOverrides ?? {})) {
    if (!program.constants.has(name)) throw new QuantLensError('usage', `weight override '${name}' is not an initializer or constant of graph '${program.graph.name}'`);
    overlay.set(name, t);
  }
  if (overlay.size) refold(program, overlay);

  const wantedOutputs = opts.outputs ?? program.outputNames;
  const taps = opts.taps ?? [];
  const wanted = [...new Set([...wantedOutputs, ...taps])];
  const plan = planFor(program, new Set(runtime.keys()), wanted);
  const lookup = (v: string): Tensor | undefined => runtime.get(v) ?? overlay.get(v) ?? program.constants.get(v);
  const timings: NodeTiming[] = [];
  const arena = program.arena;
  // a chain whose captured parameters are overridden in this run runs unfused
  const fusedAt = new Map<number, FusedChain>();
  const foldedInto = new Map<number, string>();
  for (const f of plan.chains ?? []) {
    if (f.chain.params.some((v) => overlay.has(v))) continue;
    fusedAt.set(f.step, f.chain);
    for (const s of f.memberSteps) foldedInto.set(s, program.nodes[f.chain.head].node.name);
  }
  for (let step = 0; step < plan.order.length; step++) {
    const c = program.nodes[plan.order[step]];
    const into = foldedInto.get(step);
    if (into !== undefined) {
      if (opts.timings) timings.push({ node: c.node.name, op: c.node.opType, ms: 0, path: c.path, fusedInto: into });
      releaseStep(plan.release[step], runtime, arena);
      yield;
      continue;
    }
    const chain = fusedAt.get(step);
    const inputs = c.node.inputs.map((v) => (v === '' ? undefined : lookup(v)));
    const t0 = opts.timings ? performance.now() : 0;
    const restore = useArena(arena);
    let outs: Tensor[];
    try { outs = (chain ?? c).run(inputs); } finally { restore(); }
    if (opts.timings) timings.push({ node: c.node.name, op: c.node.opType, ms: performance.now() - t0, path: c.path });
    if (chain) {
      runtime.set(chain.output, outs[0]);
      arena.retain(outs[0].data);
      releaseStep(plan.release[step], runtime, arena);
      yield;
      continue;
    }
    c.node.outputs.forEach((o, j) => {
      if (o === '') return;
      const t = outs[j];
      if (!t) throw new QuantLensError('model-format', `${c.node.opType} node '${c.node.name}' did not produce output ${j} ('${o}')`);
      runtime.set(o, t);
      arena.retain(t.data);
    });
    releaseStep(plan.release[step], runtime, arena);
    yield;
  }
  const pick = (names: string[]): Record<string, Tensor> => {
    const out: Record<string, Tensor> = {};
    for (const n of names) {
      const t = lookup(n);
      if (!t) throw new QuantLensError('usage', `value '${n}' was not computed`);
      arena.pin(t.data); // handed to the caller: never recycled
      out[n] = t;
    }
    return out;
  };
  const result: RunResult = { outputs: pick(wantedOutputs) };
  if (opts.taps) result.taps = pick(taps);
  if (opts.timings) result.timings = timings;
  return result;
}

function releaseStep(values: string[], runtime: Map<string, Tensor>, arena: Program['arena']): void {
  for (const v of values) {
    const t = runtime.get(v);
    runtime.delete(v);
    if (t) arena.release(t.data);
  }
}

/** Feeds for graph inputs must match the declared dtype and every concrete dim. */
function checkInputs(program: Program, runtime: Map<string, Tensor>): void {
  for (const info of program.graph.inputs) {
    const t = runtime.get(info.name);
    if (!t) continue;
    if (info.dtype !== t.dtype) throw new QuantLensError('usage', `input '${info.name}' expects ${info.dtype}, got ${t.dtype}`);
    const shape = info.shape;
    if (shape && (shape.length !== t.dims.length || shape.some((d, i) => typeof d === 'number' && d !== t.dims[i]))) {
      throw new QuantLensError('shape', `input '${info.name}' expects shape [${shape.map((d) => d ?? '?').join(',')}], got [${t.dims.join(',')}]`);
    }
  }
}

/** Re-evaluates folded constants downstream of overridden values, into the overlay. */
function refold(program: Program, overlay: Map<string, Tensor>): void {
  for (const [name, t] of overlay) {
    const orig = program.constants.get(name)!;
    if (orig.dims.length !== t.dims.length || orig.dims.some((d, i) => d !== t.dims[i])) {
      throw new QuantLensError('shape', `override of '${name}' has dims [${t.dims}], the model's are [${orig.dims}]`);
    }
  }
  for (const f of program.folded) {
    if (!f.node.inputs.some((v) => overlay.has(v))) continue;
    const outs = f.run(f.node.inputs.map((v) => (v === '' ? undefined : overlay.get(v) ?? program.constants.get(v))));
    f.node.outputs.forEach((o, j) => { if (o !== '' && outs[j]) overlay.set(o, outs[j]); });
  }
  for (const c of program.nodes) checkCaptured(c, overlay);
}

function checkCaptured(c: CompiledNode, overlay: Map<string, Tensor>): void {
  for (const v of c.captured) {
    if (overlay.has(v)) {
      throw new QuantLensError('usage', `'${v}' cannot be overridden per run: quantized node '${c.node.name}' (${c.path}) fixed it at compile time; compile again with the new weight`);
    }
  }
}

function planFor(program: Program, fed: Set<string>, wanted: string[]): Plan {
  const key = `${[...fed].sort().join('\u0000')}\u0001${[...wanted].sort().join('\u0000')}`;
  let plan = program.plans.get(key);
  if (!plan) {
    plan = planRun(program.nodes.map((c) => c.node), program.producers, (v) => program.constants.has(v), new Set(program.inputNames), fed, wanted);
    plan.chains = chainsFor(program, plan, fed, wanted);
    program.plans.set(key, plan);
  }
  return plan;
}

/** The fused chains usable in a plan: head and members all run, and no value inside the chain is fed or wanted. */
function chainsFor(program: Program, plan: Plan, fed: Set<string>, wanted: string[]): Plan['chains'] {
  if (!program.fusions?.size) return undefined;
  const stepOf = new Map(plan.order.map((ni, step) => [ni, step]));
  const visible = new Set([...fed, ...wanted]);
  const out: NonNullable<Plan['chains']> = [];
  for (const chain of program.fusions.values()) {
    const step = stepOf.get(chain.head);
    const memberSteps = chain.members.map((m) => stepOf.get(m));
    if (step === undefined || memberSteps.some((s) => s === undefined)) continue;
    if (chain.intermediates.some((v) => visible.has(v))) continue;
    out.push({ step, memberSteps: memberSteps as number[], chain });
  }
  return out;
}
