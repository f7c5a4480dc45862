// SPDX-License-Identifier: Apache-2.0
/**
 * Pareto frontier of cost (avg bits, size, BOPs or latency) against predicted loss: sweep the budget from the
 * cheapest reachable assignment to the cost of the loss-minimal one, solve the ILP at each step, and keep the
 * non-dominated points. Each point carries its full allocation so it can be verified by running eval.
 */
import { evaluateAssignment, solveAllocation, type AllocChoice, type AllocProblem, type Allocation, type BudgetKind, type Budgets } from './ilp';

export interface ParetoPoint {
  /** The budget the ILP was given. */
  budget: number;
  /** The cost the solution actually has, in the budget's unit. */
  cost: number;
  allocation: Allocation;
}

/** Cost of an allocation in the unit of a budget kind. */
export function costOf(kind: BudgetKind, a: Omit<Allocation, 'choices'>): number {
  switch (kind) {
    case 'avg-bits': return a.avgWeightBits;
    case 'size-mb': return a.sizeMB;
    case 'bops': return a.bops;
    case 'latency-ms': return a.latencyMs ?? Number.NaN;
  }
}

/** Put a budget value into the Budgets record under its kind, keeping the other limits. */
export function withBudget(kind: BudgetKind, value: number, base: Budgets = {}): Budgets {
  const key = ({ 'avg-bits': 'avgBits', 'size-mb': 'sizeMB', bops: 'bops', 'latency-ms': 'latencyMs' } as const)[kind];
  return { ...base, [key]: value };
}

/** Sweep `steps` budgets of `kind` and return the non-dominated points, cheapest first. */
export async function paretoSweep(problem: AllocProblem, kind: BudgetKind, steps = 12, base: Budgets = {}): Promise<ParetoPoint[]> {
  const key = (c: AllocChoice): number => {
    switch (kind) {
      case 'avg-bits': case 'size-mb': return c.weightBits;
      case 'bops': return c.bops;
      case 'latency-ms': return c.latencyMs ?? 0;
    }
  };
  const cheapest = problem.layers.map((l) => l.choices.reduce((a, c) => (key(c) < key(a) ? c : a)));
  const lossMin = problem.layers.map((l) => l.choices.reduce((a, c) => (c.loss < a.loss || (c.loss === a.loss && key(c) < key(a)) ? c : a)));
  const lo = costOf(kind, evaluateAssignment(problem, cheapest));
  const hi = costOf(kind, evaluateAssignment(problem, lossMin));
  const budgets = steps <= 1 || hi <= lo ? [hi] : Array.from({ length: steps }, (_, i) => lo + ((hi - lo) * i) / (steps - 1));
  const points: ParetoPoint[] = [];
  for (const budget of budgets) {
    try {
      // a hair of slack so the endpoint assignments are not lost to rounding in the scaled rows
      const allocation = await solveAllocation(problem, withBudget(kind, budget * (1 + 1e-9) + 1e-12, base));
      points.push({ budget, cost: costOf(kind, allocation), allocation });
    } catch (e) {
      if ((e as { kind?: string }).kind !== 'usage') throw e;
    }
  }
  return nonDominated(points);
}

/** Drop points another point beats or equals on both cost and loss; cheapest first. */
export function nonDominated(points: ParetoPoint[]): ParetoPoint[] {
  const sorted = [...points].sort((a, b) => a.cost - b.cost || a.allocation.loss - b.allocation.loss);
  const out: ParetoPoint[] = [];
  for (const p of sorted) {
    const last = out[out.length - 1];
    if (last && p.allocation.loss >= last.allocation.loss - 1e-15 * Math.abs(last.allocation.loss)) continue;
    out.push(p);
  }
  return out;
}
