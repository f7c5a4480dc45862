// SPDX-License-Identifier: Apache-2.0
/**
 * Awkward numbers end to end through the built CLI: a model with NaN/Inf/denormal weights, an all-zero and a
 * constant layer and a zero-size initializer (test/robustness/numbersModel.ts) through inspect, analyze and
 * suggest. Broken numbers must be counted and tagged, and never reach a recommendation silently.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Report } from '../../analysis/report';
import { NUMBER_LAYERS, numbersModel } from '../../test/robustness/numbersModel';
import { cli, scrub, type Observed, type Section } from './case';

/** The numbers section; files go to `dir`. */
export function numbersSection(dir: string): Section {
  const model = path.join(dir, 'numbers.onnx');
  writeFileSync(model, numbersModel());
  const layer = (r: Report, name: string) => r.layers.find((l) => l.name === name);
  let analyzed: Report | undefined;
  const analyze = (): Report => {
    if (analyzed) return analyzed;
    const json = path.join(dir, 'numbers-analyze.json');
    const r = cli(['analyze', model, '--random', '4', '--formats', 'int8', '--json', json], dir);
    if (r.code !== 0) throw new Error(`analyze exited ${r.code}: ${r.stderr.join(' ')}`);
    return (analyzed = JSON.parse(readFileSync(json, 'utf8')) as Report);
  };
  const guard = (fn: () => Observed): Observed => { try { return fn(); } catch (e) { return { pass: false, observed: scrub((e as Error).message) }; } };
  return {
    title: 'Numbers: NaN, Inf, denormals, all-zero and constant weights, zero-size dims',
    intro: `Model: \`${NUMBER_LAYERS.nonFinite}\` (1 NaN, +Inf, −Inf, 2 float32 denormals among 72 weights) → Relu → \`${NUMBER_LAYERS.zero}\` (all-zero weights) → Flatten → \`${NUMBER_LAYERS.constant}\` (every weight 0.25); plus an unused \`[0, 3]\` initializer. Run through \`bin/quantlens.js\`.`,
    cases: [
      { name: 'inspect: weight statistics of the broken layer', expected: 'NaN, Inf and denormals counted; statistics over finite values only; a warning names the layer', run: () => guard(() => {
        const json = path.join(dir, 'numbers-inspect.json');
        const r = cli(['inspect', model, '--json', json], dir);
        if (r.code !== 0) return { pass: false, observed: `exit ${r.code}: ${scrub(r.stderr.join(' '))}` };
        const rep = JSON.parse(readFileSync(json, 'utf8')) as Report;
        const w = layer(rep, NUMBER_LAYERS.nonFinite)?.weightStats;
        const z = layer(rep, NUMBER_LAYERS.zero)?.weightStats, c = layer(rep, NUMBER_LAYERS.constant)?.weightStats;
        const warning = r.stderr.find((l) => l.includes(NUMBER_LAYERS.nonFinite));
        const pass = !!warning && !!w && w.nanCount === 1 && w.infCount === 2 && w.denormalCount === 2 && w.count === 69 && z?.max === 0 && c?.std === 0;
        return { pass, observed: `exit 0; ${NUMBER_LAYERS.nonFinite}: nanCount ${w?.nanCount}, infCount ${w?.infCount}, denormalCount ${w?.denormalCount}, count ${w?.count}; all-zero max ${z?.max}; constant std ${c?.std}; zero-size tensor loaded; stderr: ${warning ? scrub(warning) : 'no warning'} (inspect computes no tags; analyze does)` };
      }) },
      { name: "analyze: the broken layer's tags and sensitivity", expected: "'non-finite' tag with the counts; sensitivity not computed, with the reason", run: () => guard(() => {
        const l = layer(analyze(), NUMBER_LAYERS.nonFinite)!;
        const tag = l.tags.find((t) => t.id === 'non-finite');
        const na = JSON.stringify(l.sensitivity?.notApplicable ?? {});
        return { pass: !!tag && /1 NaN and 2 Inf/.test(tag.reason) && /NaN\/Inf/.test(na), observed: `tag: ${tag?.reason ?? 'none'}; notApplicable: ${na}` };
      }) },
      { name: 'analyze: NaN propagated into later activations', expected: "downstream activations' NaN counted and tagged 'non-finite'", run: () => guard(() => {
        const rows = [NUMBER_LAYERS.zero, NUMBER_LAYERS.constant].map((n) => layer(analyze(), n)!);
        const pass = rows.every((l) => (l.activationStats?.nanCount ?? 0) > 0 && l.tags.some((t) => t.id === 'non-finite'));
        return { pass, observed: rows.map((l) => `${l.name}: activation nanCount ${l.activationStats?.nanCount}, tags [${l.tags.map((t) => t.id).join(', ')}]`).join('; ') };
      }) },
      { name: "analyze: a layer tagged 'non-finite' keeps no format suggestion", expected: 'no tag of that layer carries a suggestion', run: () => guard(() => {
        const bad = analyze().layers.filter((l) => l.tags.some((t) => t.id === 'non-finite'))
          .flatMap((l) => l.tags.filter((t) => t.suggestion).map((t) => `${l.name}: '${t.id}' suggests ${t.suggestion}`));
        return { pass: bad.length === 0, observed: bad.length ? `GAP — ${bad.join('; ')} (weight tags keep their suggestion when only the activation is non-finite)` : 'none' };
      }) },
      { name: 'suggest (weight-only) on the model', expected: `${NUMBER_LAYERS.nonFinite} refused, pinned or warned about with a reason — never silently given a format`, run: () => guard(() => {
        const out = path.join(dir, 'numbers-wonly.quant.json');
        const r = cli(['suggest', model, '--random', '8', '--budget', 'avg-bits=4', '--activations', 'none', '--steps', '2', '--out', out], dir);
        const named = new RegExp(`${NUMBER_LAYERS.nonFinite}.*(NaN|Inf|non-finite)`);
        if (r.code !== 0) return { pass: r.stderr.some((l) => named.test(l)) && !existsSync(out), observed: `exit ${r.code}: ${scrub(r.stderr.join(' ⏎ '))}` };
        const cfg = JSON.parse(readFileSync(out, 'utf8')) as { defaults: { weights?: { format: string } }; layers: Record<string, { weights?: { format: string } | null; pinned?: boolean }> };
        const entry = cfg.layers[NUMBER_LAYERS.nonFinite];
        const fmt = entry?.weights === null ? 'no format (weights: null, stays FP32)' : entry?.weights?.format ?? cfg.defaults.weights?.format;
        const warning = r.stderr.find((l) => named.test(l));
        return { pass: !!warning && entry?.weights === null && !!entry?.pinned, observed: `${warning ? '' : 'GAP — '}exit 0, ${NUMBER_LAYERS.nonFinite} gets ${fmt}${entry?.pinned ? ', pinned' : ', not pinned'}; ${warning ? `stderr: ${scrub(warning)}` : 'no warning naming it'}` };
      }) },
      { name: 'suggest (weights + uint8 activations) on the model', expected: 'no config written; exit 1 with an error naming the NaN/Inf cause', run: () => guard(() => {
        const out = path.join(dir, 'numbers-act.quant.json');
        const r = cli(['suggest', model, '--random', '8', '--budget', 'avg-bits=4', '--steps', '2', '--out', out], dir);
        return { pass: r.code === 1 && !existsSync(out) && r.stderr.some((l) => /NaN/.test(l)), observed: `exit ${r.code}, config ${existsSync(out) ? 'written' : 'not written'}: ${scrub(r.stderr.filter((l) => !l.startsWith('…')).join(' ⏎ '))}` };
      }) },
    ],
  };
}
