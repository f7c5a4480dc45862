// SPDX-License-Identifier: Apache-2.0
/**
 * Mixed-precision allocation as an integer linear program (HAWQ-V3 style), solved by HiGHS (WebAssembly):
 * one binary x[l,c] per (layer, choice), exactly one choice per layer, minimise Σ loss subject to budgets on
 * average weight bits (scales and metadata included), model size, BOPs and measured latency, and optionally on
 * the summed loss itself. Pins and per-op-type format restrictions narrow each layer's choices before solving.
 */
import highsLoader from 'highs';
import { QuantLensError } from '../../engine/errors';

/** One way to run a layer: a weight format and an activation format with their predicted costs. */
export interface AllocChoice {
  /** Stable key, `weights/activations` format ids (`fp32` for a float side). */
  id: string;
  weightFormat: string | null;
  activationFormat: string | null;
  /** Predicted loss (sensitivity) of this choice; additive over layers. */
  loss: number;
  /** Weight storage in bits, scales and block metadata included. */
  weightBits: number;
  /** Bit operations: MACs × weight bits × activation bits. */
  bops: number;
  /** Measured latency of the layer with this choice, when measured. */
  latencyMs?: number;
}

export interface AllocLayer {
  name: string;
  op: string;
  /** Weight elements (the denominator of average bits). */
  params: number;
  choices: AllocChoice[];
}

export interface AllocProblem {
  layers: AllocLayer[];
  /** Costs of the parts of the model that are not allocated (float weights of other ops, their latency). */
  fixed?: { bytes?: number; bops?: number; latencyMs?: number };
}

export type BudgetKind = 'avg-bits' | 'size-mb' | 'bops' | 'latency-ms';

export interface Budgets {
  avgBits?: number;
  sizeMB?: number;
  bops?: number;
  latencyMs?: number;
  /** Upper bound on the summed predicted loss. */
  maxLoss?: number;
}

export interface AllocConstraints {
  /** Layer name → choice id (or weight format id) it must take. */
  pins?: Record<string, string>;
  /** Op type → allowed weight format ids. */
  opFormats?: Record<string, string[]>;
}

export interface Allocation {
  /** Layer name → chosen choice. */
  choices: Record<string, AllocChoice>;
  loss: number;
  avgWeightBits: number;
  sizeMB: number;
  bops: number;
  latencyMs?: number;
}

type Highs = Awaited<ReturnType<typeof highsLoader>>;
let highs: Promise<Highs> | undefined;
function solver(): Promise<Highs> {
  highs ??= highsLoader();
  return highs;
}

/** Narrow each layer's choices by pins and per-op-type restrictions; errors name the layer that has none left. */
export function applyConstraints(problem: AllocProblem, c: AllocConstraints = {}): AllocProblem {
  const names = new Set(problem.layers.map((l) => l.name));
  for (const pinned of Object.keys(c.pins ?? {})) {
    if (!names.has(pinned)) throw new QuantLensError('usage', `--pin ${pinned}: no allocatable layer of that name`);
  }
  const layers = problem.layers.map((l) => {
    let choices = l.choices;
    const allowed = c.opFormats?.[l.op];
    if (allowed) choices = choices.filter((ch) => allowed.includes(ch.weightFormat ?? 'fp32'));
    const pin = c.pins?.[l.name];
    if (pin !== undefined) choices = choices.filter((ch) => ch.id === pin || ch.weightFormat === pin);
    if (choices.length === 0) {
      const why = pin !== undefined ? `pinned to '${pin}', which is not among its choices (${l.choices.map((ch) => ch.id).join(', ')})` : `no choice left after the ${l.op} format restriction`;
      throw new QuantLensError('usage', `layer '${l.name}': ${why}`);
    }
    return { ...l, choices };
  });
  return { ...problem, layers };
}

/** Cost of a full assignment, in the units of each budget. */
export function evaluateAssignment(problem: AllocProblem, picks: AllocChoice[]): Omit<Allocation, 'choices'> {
  let loss = 0, bits = 0, params = 0, bops = problem.fixed?.bops ?? 0;
  let latency: number | undefined = problem.fixed?.latencyMs ?? 0;
  picks.forEach((ch, i) => {
    loss += ch.loss;
    bits += ch.weightBits;
    params += problem.layers[i].params;
    bops += ch.bops;
    latency = ch.latencyMs === undefined || latency === undefined ? undefined : latency + ch.latencyMs;
  });
  return {
    loss,
    avgWeightBits: params > 0 ? bits / params : 0,
    sizeMB: (bits / 8 + (problem.fixed?.bytes ?? 0)) / 1e6,
    bops,
    ...(latency === undefined ? {} : { latencyMs: latency }),
  };
}

/** Solve the allocation ILP; throws QuantLensError('usage') when the budgets cannot be met, saying how far off. */
export async function solveAllocation(problem: AllocProblem, budgets: Budgets): Promise<Allocation> {
  const { layers } = problem;
  if (layers.length === 0) return { choices: {}, ...evaluateAssignment(problem, []) };
  const totalParams = layers.reduce((s, l) => s + l.params, 0);
  const lossScale = Math.max(1e-30, ...layers.flatMap((l) => l.choices.map((c) => Math.abs(c.loss))));
  const v = (i: number, j: number): string => `x${i}_${j}`;
  const num = (x: number): string => (Number.isFinite(x) ? Number(x.toPrecision(15)).toString() : '0');
  const sum = (coef: (c: AllocChoice) => number): string[] =>
    layers.flatMap((l, i) => l.choices.map((c, j) => `${coef(c) >= 0 ? '+' : '-'} ${num(Math.abs(coef(c)))} ${v(i, j)}`));

  const rows: string[] = [];
  layers.forEach((l, i) => rows.push(` one${i}: ${l.choices.map((_, j) => v(i, j)).join(' + ')} = 1`));
  // every budget row is divided by its right-hand side so coefficients stay near 1 whatever the units
  const budgetRow = (name: string, limit: number | undefined, fixed: number, coef: (c: AllocChoice) => number | undefined): void => {
    if (limit === undefined) return;
    if (layers.some((l) => l.choices.some((c) => coef(c) === undefined))) {
      throw new QuantLensError('usage', `a ${name} budget needs a ${name} cost for every choice`);
    }
    const scale = Math.max(Math.abs(limit - fixed), 1e-30);
    rows.push(` ${name}: ${sum((c) => (coef(c) as number) / scale).join(' ')} <= ${num((limit - fixed) / scale)}`);
  };
  budgetRow('avgbits', budgets.avgBits === undefined ? undefined : budgets.avgBits * totalParams, 0, (c) => c.weightBits);
  budgetRow('size', budgets.sizeMB === undefined ? undefined : budgets.sizeMB * 8e6, (problem.fixed?.bytes ?? 0) * 8, (c) => c.weightBits);
  budgetRow('bops', budgets.bops, problem.fixed?.bops ?? 0, (c) => c.bops);
  budgetRow('latency', budgets.latencyMs, problem.fixed?.latencyMs ?? 0, (c) => c.latencyMs);
  budgetRow('loss', budgets.maxLoss, 0, (c) => c.loss);

  const lp = [
    'Minimize',
    ` obj: ${sum((c) => c.loss / lossScale).join(' ')}`,
    'Subject To',
    ...rows,
    'Binary',
    ...layers.flatMap((l, i) => l.choices.map((_, j) => ` ${v(i, j)}`)),
    'End',
  ].join('\n');
  const result = (await solver()).solve(lp, { mip_rel_gap: 0, output_flag: false, log_to_console: false });
  if (result.Status === 'Infeasible' || result.Status === 'Primal infeasible or unbounded') {
    throw new QuantLensError('usage', `the budget cannot be met: ${describeMinimum(problem, budgets)}`);
  }
  if (result.Status !== 'Optimal') throw new Error(`HiGHS returned '${result.Status}'`);
  const picks = layers.map((l, i) => {
    const j = l.choices.findIndex((_, jj) => ((result.Columns[v(i, jj)] as { Primal?: number } | undefined)?.Primal ?? 0) > 0.5);
    if (j < 0) throw new Error(`HiGHS left layer ${l.name} without a choice`);
    return l.choices[j];
  });
  return { choices: Object.fromEntries(layers.map((l, i) => [l.name, picks[i]])), ...evaluateAssignment(problem, picks) };
}

/** The cheapest reachable value of each active budget, for an error that says how far off a budget is. */
function describeMinimum(problem: AllocProblem, b: Budgets): string {
  const cheapest = (key: (c: AllocChoice) => number): AllocChoice[] =>
    problem.layers.map((l) => l.choices.reduce((a, c) => (key(c) < key(a) ? c : a)));
  const parts: string[] = [];
  if (b.avgBits !== undefined) parts.push(`avg-bits ≥ ${evaluateAssignment(problem, cheapest((c) => c.weightBits)).avgWeightBits.toFixed(3)} with these choices`);
  if (b.sizeMB !== undefined) parts.push(`size-mb ≥ ${evaluateAssignment(problem, cheapest((c) => c.weightBits)).sizeMB.toFixed(4)}`);
  if (b.bops !== undefined) parts.push(`bops ≥ ${evaluateAssignment(problem, cheapest((c) => c.bops)).bops.toExponential(3)}`);
  if (b.latencyMs !== undefined) parts.push(`latency-ms ≥ ${(evaluateAssignment(problem, cheapest((c) => c.latencyMs ?? 0)).latencyMs ?? 0).toFixed(3)}`);
  if (b.maxLoss !== undefined) parts.push(`loss ≥ ${evaluateAssignment(problem, cheapest((c) => c.loss)).loss.toPrecision(4)}`);
  return parts.length > 0 ? `${parts.join(', ')} (jointly they may need more)` : 'the pins and format restrictions conflict';
}
