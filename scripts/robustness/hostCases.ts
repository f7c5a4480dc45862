// SPDX-License-Identifier: Apache-2.0
/**
 * The host side: CLI exit codes of the built bin/quantlens.js, exports that refuse to overwrite, atomic writes
 * (a write that fails half-way or a cancelled job leaves the old file as it was), the model file never
 * written, webview message validation (webview/protocol.ts) and markup in model-provided names.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runJob } from '../../analysis/jobs/runJob';
import { parseFromWebview, parseToWebview } from '../../webview/protocol';
import { encodeModel, floatTensor, node, vi } from '../../test/loader/onnxBuild';
import { HOSTILE_NAMES } from '../../test/webview/reportFixtures';
import { ROOT, cli, describeError, expectCliUserError, scrub, type Case, type Observed, type Section } from './case';

const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
const CNN = path.join(ROOT, 'samples/cnn.onnx');

/** CLI exit codes. */
export function cliSection(dir: string): Section {
  const notOnnx = path.join(dir, 'not-a-model.onnx');
  writeFileSync(notOnnx, 'this is text, not protobuf');
  const u = (name: string, args: string[], pattern: RegExp): Case => ({ name: `\`quantlens ${args.map((a) => scrub(a)).join(' ')}\``, expected: `exit 1, one stderr line (${name}), no stack trace`, run: () => expectCliUserError(args, pattern, dir) });
  return {
    title: 'CLI exit codes (built bin/quantlens.js)',
    intro: "User mistakes exit 1 with one line on stderr and no stack trace (Node's own deprecation warnings from dependencies are not counted); success exits 0.",
    cases: [
      { name: '`quantlens inspect samples/cnn.onnx`', expected: 'exit 0', run: () => { const r = cli(['inspect', CNN]); return { pass: r.code === 0, observed: `exit ${r.code}` }; } },
      u('unknown command', ['frobnicate'], /unknown command/),
      u('model missing', ['inspect', path.join(dir, 'missing.onnx')], /missing\.onnx/),
      u('not an ONNX file', ['inspect', notOnnx], /not-a-model\.onnx/),
      u('unknown format', ['quantize-layer', CNN, '--layer', 'nope', '--format', 'int9'], /int9/),
      u('unknown layer', ['quantize-layer', CNN, '--layer', 'no_such_layer', '--format', 'int8'], /no_such_layer/),
      u('bad budget', ['suggest', CNN, '--budget', 'avg-bits=-1', '--out', path.join(dir, 'x.quant.json')], /budget/),
      u('--data and --random together', ['analyze', CNN, '--data', path.join(ROOT, 'samples/data/calib'), '--random', '4'], /either --data/),
      u('calibration folder missing', ['analyze', CNN, '--data', path.join(dir, 'nowhere')], /nowhere/),
      u('config file is not JSON', ['eval', CNN, '--config', notOnnx], /not-a-model\.onnx/),
    ],
  };
}

/** Exports, atomic writes and the model file. */
export function filesSection(dir: string): Section {
  const model = path.join(dir, 'cnn.onnx');
  copyFileSync(CNN, model);
  const modelSha = sha(model);
  const out = path.join(dir, 'cnn.qdq.onnx');
  return {
    title: 'Files: exports, atomic writes, the model file',
    intro: 'Exports need --force to replace a file; every report/config write goes through a temp file + rename (analysis/io/atomicWrite.ts).',
    cases: [
      { name: 'export onto an existing file without --force', expected: 'exit 1 naming the file; the old file unchanged', run: () => {
        writeFileSync(out, 'previous export');
        const r = expectCliUserError(['export', model, '--preset', 'w8a16', '--out', out], /already exists.*--force/, dir);
        const kept = readFileSync(out, 'utf8') === 'previous export';
        return { pass: r.pass && kept, observed: `${r.observed}; old file ${kept ? 'unchanged' : 'CHANGED'}` };
      } },
      { name: 'the same export with --force', expected: 'exit 0, the file replaced by an ONNX model', run: () => {
        const r = cli(['export', model, '--preset', 'w8a16', '--out', out, '--force'], dir);
        const replaced = readFileSync(out).length > 1000;
        return { pass: r.code === 0 && replaced, observed: `exit ${r.code}; file ${replaced ? `replaced (${readFileSync(out).length} bytes)` : 'not replaced'}` };
      } },
      { name: 'config write that fails half-way (file-size limit: `ulimit -f 1` → EFBIG)', expected: 'io error naming the file; the old config intact; no temp file left', run: () => {
        const cfg = path.join(dir, 'old.quant.json');
        writeFileSync(cfg, '{"old": true}\n');
        const script = `const { atomicWriteJson } = require(${JSON.stringify(path.join(ROOT, 'analysis/io/atomicWrite.ts'))});`
          + `try { atomicWriteJson(${JSON.stringify(cfg)}, { big: 'x'.repeat(200000) }); console.log('written'); } catch (e) { console.log(e.kind + ': ' + e.message); }`;
        const r = spawnSync('bash', ['-c', `ulimit -f 1; exec "${process.execPath}" --import tsx -e "$0"`, script], { cwd: ROOT, encoding: 'utf8' });
        const kept = readFileSync(cfg, 'utf8') === '{"old": true}\n';
        const leftovers = readdirSync(dir).filter((f) => f.endsWith('.tmp'));
        const line = scrub(r.stdout.trim() || r.stderr.trim());
        return { pass: /^io: .*old\.quant\.json.*EFBIG/.test(line) && kept && leftovers.length === 0, observed: `${line}; old config ${kept ? 'intact' : 'DAMAGED'}; ${leftovers.length} temp file(s)` };
      } },
      { name: 'analysis job cancelled while its JSON/HTML outputs exist from an earlier run', expected: "job settles 'cancelled'; the earlier JSON intact; no HTML, no temp file", run: async () => {
        const json = path.join(dir, 'job.json'), html = path.join(dir, 'job.html');
        writeFileSync(json, '{"earlier": true}\n');
        const abort = new AbortController();
        let observed: string;
        try {
          await runJob({ kind: 'analyze', model, options: { random: 256, batchSize: 4 }, outputs: { json, html } }, { signal: abort.signal, onProgress: () => abort.abort() });
          observed = 'completed (not cancelled)';
        } catch (e) { observed = describeError(e); }
        const kept = readFileSync(json, 'utf8') === '{"earlier": true}\n';
        const tmp = readdirSync(dir).filter((f) => f.startsWith('.job.'));
        return { pass: /^cancelled/.test(observed) && kept && !existsSync(html) && tmp.length === 0, observed: `${observed}; JSON ${kept ? 'intact' : 'CHANGED'}; HTML ${existsSync(html) ? 'written' : 'absent'}; ${tmp.length} temp file(s)` };
      } },
      { name: 'the model file after every run in this section (inspect/analyze/export)', expected: 'byte-identical (sha256 unchanged)', run: () => {
        cli(['analyze', model, '--random', '2', '--formats', 'int8'], dir);
        const same = sha(model) === modelSha;
        return { pass: same, observed: same ? `sha256 ${modelSha.slice(0, 16)}… unchanged` : 'CHANGED' };
      } },
    ],
  };
}

/** The analysis worker (analysis/jobs, as the extension runs it): cancellation and crashes. */
export function workerSection(): Section {
  const crashing = path.join(ROOT, 'test/robustness/crashingWorker.ts');
  const job = { kind: 'analyze' as const, model: CNN, options: { data: path.join(ROOT, 'samples/data/calib') } };
  const crash = (mode: 'throw' | 'exit'): Case => ({
    name: `worker ${mode === 'throw' ? 'throws an uncaught error' : 'thread ends abruptly'} mid-analysis (test/robustness/crashingWorker.ts)`,
    expected: 'the job rejects with an internal error (not a hang, not a user error); the next job completes', run: async () => {
      process.env.QUANTLENS_TEST_CRASH = mode;
      let first: string;
      try { await runJob(job, { workerPath: crashing }); first = 'completed (no crash?)'; } catch (e) { first = describeError(e); } finally { delete process.env.QUANTLENS_TEST_CRASH; }
      let next: string;
      try { next = `next job: success, ${(await runJob(job)).report.layers.length} layers`; } catch (e) { next = `next job: ${describeError(e)}`; }
      return { pass: /^untyped Error: analysis worker (crashed|exited)/.test(first) && next.startsWith('next job: success'), observed: `${first}; ${next}` };
    },
  });
  return {
    title: 'Analysis worker: cancellation and crashes',
    intro: 'Full analyses of samples/cnn.onnx on samples/data/calib through `runJob` (analysis/jobs/runJob.ts). Latency is shown, not judged here: see test/bench/host-lag.bench.ts for event-loop lag and cancellation latency.',
    cases: [
      { name: 'cancel once the statistics pass reports progress', expected: "the job settles with a 'cancelled' QuantLensError", run: async () => {
        const abort = new AbortController();
        let at = 0;
        try {
          await runJob({ ...job, options: { ...job.options, batchSize: 1 } }, { signal: abort.signal, onProgress: (stage, done) => { if (!at && stage === 'statistics' && done > 0) { at = performance.now(); abort.abort(); } } });
          return { pass: false, observed: 'completed before the cancel' };
        } catch (e) {
          const d = describeError(e);
          return { pass: /^cancelled/.test(d), observed: `${d} (settled ${(performance.now() - at).toFixed(0)} ms after the cancel)` };
        }
      } },
      crash('throw'),
      crash('exit'),
    ],
  };
}

/** Webview message validation and markup in model-provided strings. */
export function webviewSection(dir: string): Section {
  const rejects = (name: string, parse: (m: unknown) => unknown, msg: unknown): Case => ({
    name, expected: 'rejected with a ProtocolError', run: (): Observed => {
      try { parse(msg); return { pass: false, observed: 'accepted' }; } catch (e) { return { pass: (e as Error).name === 'ProtocolError', observed: `${(e as Error).name}: ${(e as Error).message}` }; }
    },
  });
  const hostile = path.join(dir, 'hostile-names.onnx');
  writeFileSync(hostile, encodeModel({
    input: [vi('x', [1, 4])], output: [vi('y', [1, 4])], initializer: [floatTensor('w', [4, 4])],
    node: [node('MatMul', ['x', 'w'], ['h'], {}, HOSTILE_NAMES[0]), node('Relu', ['h'], ['r'], {}, HOSTILE_NAMES[1]), node('Neg', ['r'], ['n'], {}, HOSTILE_NAMES[2]), node('Identity', ['n'], ['y'], {}, HOSTILE_NAMES[3])],
  }));
  return {
    title: 'Webview messages and model-provided markup',
    intro: 'Messages go through the runtime validators of webview/protocol.ts; node names come from test/webview/reportFixtures.ts HOSTILE_NAMES.',
    cases: [
      { name: 'a valid `ready` (control)', expected: 'accepted', run: () => { try { parseFromWebview({ type: 'ready' }); return { pass: true, observed: 'accepted' }; } catch (e) { return { pass: false, observed: String(e) }; } } },
      rejects('unknown message type from the webview', parseFromWebview, { type: 'evil', payload: '<script>' }),
      rejects('`ready` with an extra field', parseFromWebview, { type: 'ready', extra: 1 }),
      rejects('not an object', parseFromWebview, 'ready'),
      rejects('request for an unknown RPC method', parseFromWebview, { type: 'request', id: 1, method: 'runShell', params: {} }),
      rejects('request with an unknown param', parseFromWebview, { type: 'request', id: 1, method: 'quantizeLayer', params: { layer: 'a', cmd: 'rm -rf' } }),
      rejects('request with a non-integer id', parseFromWebview, { type: 'request', id: 1.5, method: 'analyze', params: {} }),
      rejects('log message over 10 000 characters', parseFromWebview, { type: 'log', level: 'info', message: 'x'.repeat(10_001) }),
      rejects('unknown message type to the webview', parseToWebview, { type: 'eval', code: 'alert(1)' }),
      { name: 'HTML report (`analyze --html`) of a model whose node names are markup/script', expected: 'every name escaped: no live <script>, <img> or <svg onload> from the names', run: () => {
        const html = path.join(dir, 'hostile.html');
        const r = cli(['analyze', hostile, '--random', '2', '--formats', 'int8', '--html', html], dir);
        if (r.code !== 0) return { pass: false, observed: `exit ${r.code}: ${scrub(r.stderr.join(' '))}` };
        const text = readFileSync(html, 'utf8');
        const live = ['<img src=x', '<script>window.__pwned', '<svg onload'].filter((s) => text.includes(s));
        const escaped = /&(lt|#60|#x3c);img src=x/i.test(text);
        return { pass: live.length === 0 && escaped, observed: live.length ? `LIVE markup: ${live.join(', ')}` : !escaped ? 'the names do not appear in the report' : `escaped (${/&(lt|#60|#x3c);img src=x/i.exec(text)?.[0]} …), no live markup (${text.length} bytes)` };
      } },
      { name: 'model editor webview in Chromium with those names (test/webview/modelEditor.test.ts, UI engineer\'s test)', expected: 'shown as text, never executed', run: () => {
        const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-name-pattern', 'markup', 'test/webview/modelEditor.test.ts'], { cwd: ROOT, encoding: 'utf8', timeout: 180_000 });
        const count = (k: string) => Number(new RegExp(`# ${k} (\\d+)`).exec(r.stdout)?.[1] ?? 0);
        const [pass, fail, skipped] = [count('pass'), count('fail'), count('skipped')];
        return { pass: pass > 0 && fail === 0, observed: `node --test: ${pass} passed, ${fail} failed, ${skipped} skipped` };
      } },
    ],
  };
}
