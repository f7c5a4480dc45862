// SPDX-License-Identifier: Apache-2.0
import { rng } from '../rng';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyConstraints, evaluateAssignment, solveAllocation, type AllocChoice, type AllocProblem, type Budgets } from '../../analysis/allocate/ilp';
import { paretoSweep } from '../../analysis/allocate/pareto';
import { isQuantLensError } from '../../engine/errors';

const FORMATS: [string, number][] = [['int8', 8.25], ['int4', 4.5], ['int2', 2.5]];

function randomProblem(r: () => number, nLayers: number): AllocProblem {
  return {
    layers: Array.from({ length: nLayers }, (_, i) => {
      const params = 100 + Math.floor(r() * 5000);
      const macs = params * (1 + Math.floor(r() * 50));
      const base = r() * 0.1;
      return {
        name: `l${i}`, op: i % 2 ? 'Conv' : 'Gemm', params,
        choices: FORMATS.map(([f, bpe], k): AllocChoice => ({
          id: `${f}/uint8`, weightFormat: f, activationFormat: 'uint8',
          loss: base * (k === 0 ? r() * 0.01 : k * k * (0.5 + r())),
          weightBits: params * bpe, bops: macs * (8 >> k) * 8, latencyMs: 0.1 + r() * (3 - k),
        })),
      };
    }),
    fixed: { bytes: 1000, latencyMs: 0.5 },
  };
}

function bruteForce(problem: AllocProblem, budgets: Budgets): number {
  let best = Infinity;
  const n = problem.layers.length;
  const idx = new Array(n).fill(0);
  for (;;) {
    const picks = idx.map((j, i) => problem.layers[i].choices[j]);
    const c = evaluateAssignment(problem, picks);
    const ok = (budgets.avgBits === undefined || c.avgWeightBits <= budgets.avgBits)
      && (budgets.sizeMB === undefined || c.sizeMB <= budgets.sizeMB)
      && (budgets.bops === undefined || c.bops <= budgets.bops)
      && (budgets.latencyMs === undefined || (c.latencyMs ?? 0) <= budgets.latencyMs)
      && (budgets.maxLoss === undefined || c.loss <= budgets.maxLoss);
    if (ok) best = Math.min(best, c.loss);
    let k = 0;
    while (k < n && ++idx[k] === problem.layers[k].choices.length) idx[k++] = 0;
    if (k === n) return best;
  }
}

test('the ILP optimum equals brute force on random small instances, for every budget kind', async () => {
  const r = rng(42);
  let solved = 0;
  for (let trial = 0; trial < 24; trial++) {
    const p = randomProblem(r, 3 + (trial % 4));
    const all8 = evaluateAssignment(p, p.layers.map((l) => l.choices[0]));
    const all2 = evaluateAssignment(p, p.layers.map((l) => l.choices[2]));
    const t = 0.2 + 0.6 * r();
    const kinds: Budgets[] = [
      { avgBits: all2.avgWeightBits + t * (all8.avgWeightBits - all2.avgWeightBits) },
      { sizeMB: all2.sizeMB + t * (all8.sizeMB - all2.sizeMB) },
      { bops: all2.bops + t * (all8.bops - all2.bops) },
      { avgBits: 6, latencyMs: (all2.latencyMs ?? 0) + t * ((all8.latencyMs ?? 0) - (all2.latencyMs ?? 0)) },
    ];
    const budgets = kinds[trial % kinds.length];
    const expected = bruteForce(p, budgets);
    if (!Number.isFinite(expected)) {
      await assert.rejects(solveAllocation(p, budgets), (e) => isQuantLensError(e) && /cannot be met/.test(e.message));
      continue;
    }
    const got = await solveAllocation(p, budgets);
    solved++;
    assert.ok(Math.abs(got.loss - expected) <= 1e-9 * Math.max(1, expected), `trial ${trial}: ILP ${got.loss} vs brute force ${expected}`);
    // and the solution it returns really satisfies the budget
    if (budgets.avgBits !== undefined) assert.ok(got.avgWeightBits <= budgets.avgBits * (1 + 1e-9));
    if (budgets.sizeMB !== undefined) assert.ok(got.sizeMB <= budgets.sizeMB * (1 + 1e-9));
    if (budgets.bops !== undefined) assert.ok(got.bops <= budgets.bops * (1 + 1e-9));
  }
  assert.ok(solved >= 18, `only ${solved} of 24 instances were feasible`);
});

test('an impossible budget is a usage error naming the reachable minimum', async () => {
  const p = randomProblem(rng(1), 4);
  await assert.rejects(solveAllocation(p, { avgBits: 1 }), (e) => isQuantLensError(e) && e.kind === 'usage' && /avg-bits ≥ 2\.500/.test(e.message));
});

test('pins and per-op-type restrictions are honoured', async () => {
  const p = randomProblem(rng(7), 5);
  const narrowed = applyConstraints(p, { pins: { l0: 'int8', l4: 'int8' }, opFormats: { Conv: ['int4', 'int2'] } });
  const a = await solveAllocation(narrowed, { avgBits: 5 });
  assert.equal(a.choices.l0.weightFormat, 'int8');
  assert.equal(a.choices.l4.weightFormat, 'int8');
  for (const name of ['l1', 'l3']) assert.notEqual(a.choices[name].weightFormat, 'int8');
  assert.throws(() => applyConstraints(p, { pins: { nope: 'int8' } }), /--pin nope/);
  assert.throws(() => applyConstraints(p, { pins: { l1: 'int3' } }), /pinned to 'int3'/);
});

test('a max-loss bound is respected', async () => {
  const p = randomProblem(rng(9), 5);
  const a = await solveAllocation(p, { maxLoss: 0.05, bops: Infinity });
  assert.ok(a.loss <= 0.05 + 1e-12);
  assert.equal(a.loss, bruteForce(p, { maxLoss: 0.05 }));
});

test('the Pareto sweep is monotone: cost rises as predicted loss falls, ending at the loss-minimal point', async () => {
  const p = randomProblem(rng(3), 6);
  const front = await paretoSweep(p, 'avg-bits', 10);
  assert.ok(front.length >= 3, `only ${front.length} points`);
  for (let i = 1; i < front.length; i++) {
    assert.ok(front[i].cost > front[i - 1].cost);
    assert.ok(front[i].allocation.loss < front[i - 1].allocation.loss);
  }
  const minLoss = p.layers.reduce((s, l) => s + Math.min(...l.choices.map((c) => c.loss)), 0);
  assert.ok(Math.abs(front[front.length - 1].allocation.loss - minLoss) < 1e-12);
  // the cheapest point is the all-2-bit assignment
  assert.ok(Math.abs(front[0].cost - 2.5) < 1e-9);
});
