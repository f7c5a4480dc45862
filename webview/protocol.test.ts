// SPDX-License-Identifier: Apache-2.0
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFromWebview, parsePanelRestoreState, parseToWebview, ProtocolError, RpcChannel, RpcError, type FromWebview, type ToWebview } from './protocol';

describe('protocol validation', () => {
  test('accepts every well-formed webview message', () => {
    for (const m of [
      { type: 'ready' }, { type: 'cancel', id: 3 }, { type: 'selectLayer', layer: 'conv1' }, { type: 'selectLayer', layer: null },
      { type: 'request', id: 1, method: 'quantizeLayer', params: { layer: 'conv1', format: 'int4' } },
      { type: 'request', id: 2, method: 'activationHistogram', params: { layer: 'sm', formats: ['log2', 'tan', 'int8'] } },
      { type: 'log', level: 'error', message: 'x' },
    ]) assert.deepEqual(parseFromWebview(m), m);
  });

  test('rejects unknown types, unknown fields, missing fields and bad values', () => {
    const bad: [unknown, RegExp][] = [
      [null, /not an object/], [{ type: 7 }, /string 'type'/], [{ type: 'exec', cmd: 'rm' }, /unknown message type 'exec'/],
      [{ type: 'toString' }, /unknown message type/], [{ type: '__proto__' }, /unknown message type/],
      [{ type: 'ready', extra: 1 }, /unknown field 'extra'/], [{ type: 'cancel' }, /missing field 'id'/],
      [{ type: 'cancel', id: 1.5 }, /bad value for 'id'/], [{ type: 'request', id: 1, method: 'eval', params: {} }, /bad value for 'method'/],
      [{ type: 'request', id: 1, method: 'quantizeLayer', params: { layer: 'a', shell: 'x' } }, /params of 'quantizeLayer' have unknown field 'shell'/],
      [{ type: 'request', id: 1, method: 'activationHistogram', params: { layer: 'a', formats: ['a', 'b', 'c', 'd'] } }, /bad value for 'formats'/],
      [{ type: 'request', id: 1, method: 'allocate', params: { kind: 'avg-bits', value: -1 } }, /bad value for 'value'/],
      [{ type: 'request', id: 1, method: 'analyze', params: [] }, /bad value for 'params'/],
      [{ type: 'selectLayer', layer: 'x'.repeat(5000) }, /bad value for 'layer'/],
    ];
    for (const [m, re] of bad) assert.throws(() => parseFromWebview(m), (e: unknown) => e instanceof ProtocolError && re.test(e.message), JSON.stringify(m)?.slice(0, 80));
  });

  test('validates host messages too', () => {
    assert.equal(parseToWebview({ type: 'selection', layer: 'a' }).type, 'selection');
    assert.throws(() => parseToWebview({ type: 'init', trust: { canExecute: true }, data: { view: 'nope' } }), /bad value for 'data'/);
    assert.throws(() => parseToWebview({ type: 'busy', label: null, html: '<b>' }), /unknown field 'html'/);
  });
});

/** Two channels wired back to back, with validation on both sides as in the real transports. */
function pair(): { client: RpcChannel; server: RpcChannel; serve: Parameters<RpcChannel['serve']>[1]; fromClient: FromWebview[] } {
  const fromClient: FromWebview[] = [];
  const handlers: Parameters<RpcChannel['serve']>[1] = {};
  const client = new RpcChannel((m) => {
    const msg = parseFromWebview(JSON.parse(JSON.stringify(m)));
    fromClient.push(msg);
    if (msg.type === 'request' || msg.type === 'cancel') void server.serve(msg, handlers);
  });
  const server = new RpcChannel((m) => { queueMicrotask(() => client.handleReply(parseToWebview(JSON.parse(JSON.stringify(m))) as ToWebview)); });
  return { client, server, serve: handlers, fromClient };
}

describe('RpcChannel', () => {
  test('correlates replies by id, with progress', async () => {
    const { client, serve } = pair();
    serve.openPanel = async (p, ctx) => { ctx.progress(0.5, 'half'); return { opened: p.panel === 'histogram' }; };
    const progress: number[] = [];
    const [a, b] = await Promise.all([
      client.request('openPanel', { panel: 'histogram' }, { onProgress: (f) => progress.push(f) }),
      client.request('openPanel', { panel: 'accuracy' }),
    ]);
    assert.deepEqual([a, b], [{ opened: true }, { opened: false }]);
    assert.deepEqual(progress, [0.5]);
  });

  test('a failing handler becomes an error reply with its kind', async () => {
    const { client, serve } = pair();
    serve.exportQdq = async () => { throw Object.assign(new Error('model.onnx: no Conv'), { kind: 'unsupported-op' }); };
    await assert.rejects(client.request('exportQdq', {}), (e: unknown) => e instanceof RpcError && e.kind === 'unsupported-op' && /no Conv/.test(e.message));
  });

  test('a method the view does not serve is an error reply, not silence', async () => {
    const { client } = pair();
    await assert.rejects(client.request('analyze', {}), (e: unknown) => e instanceof RpcError && e.kind === 'usage');
  });

  test('aborting a request sends cancel, aborts the host handler and rejects as cancelled', async () => {
    const { client, serve, fromClient } = pair();
    let hostAborted = false;
    serve.analyze = (_p, ctx) => new Promise((_r, reject) => ctx.signal.addEventListener('abort', () => { hostAborted = true; reject(new Error('stopped')); }));
    const ac = new AbortController();
    const p = client.request('analyze', {}, { signal: ac.signal });
    setTimeout(() => ac.abort(), 10);
    await assert.rejects(p, (e: unknown) => e instanceof RpcError && e.kind === 'cancelled');
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(hostAborted, true);
    assert.deepEqual(fromClient.map((m) => m.type), ['request', 'cancel']);
  });

  test('dispose aborts running host work and rejects pending requests', async () => {
    const { client, server, serve } = pair();
    let aborted = false;
    serve.analyze = (_p, ctx) => new Promise(() => ctx.signal.addEventListener('abort', () => { aborted = true; }));
    const p = client.request('analyze', {});
    await new Promise((r) => setTimeout(r, 5));
    server.dispose();
    client.dispose();
    await assert.rejects(p, /closed/);
    assert.equal(aborted, true);
  });
});

describe('panel restore state', () => {
  test('a panel restores from the small state its webview kept, next to its other keys', () => {
    const state = { logY: true, restore: { view: 'histogram', modelPath: '/m/vit.onnx', layer: '/blocks.0/attn/Softmax' } };
    assert.deepEqual(parsePanelRestoreState('histogram', state), state.restore);
    const budget = { view: 'allocation', modelPath: '/m/cnn.onnx', budget: { kind: 'size-mb', value: 0.004 } };
    assert.deepEqual(parsePanelRestoreState('allocation', { restore: budget }), budget);
  });

  test('state that is missing, for another view, or malformed is refused', () => {
    assert.throws(() => parsePanelRestoreState('accuracy', undefined), /no restore state/);
    assert.throws(() => parsePanelRestoreState('accuracy', { restore: { view: 'histogram', modelPath: '/m', layer: null } }), /is for 'histogram'/);
    assert.throws(() => parsePanelRestoreState('accuracy', { restore: { view: 'accuracy', modelPath: '/m', data: {} } }), /unknown field 'data'/);
    assert.throws(() => parsePanelRestoreState('quantizeLayer', { restore: { view: 'quantizeLayer', modelPath: '/m', layer: 'c' } }), /missing field 'format'/);
    assert.throws(() => parsePanelRestoreState('allocation', { restore: { view: 'allocation', modelPath: '/m', budget: { kind: 'avg-bits', value: -1 } } }), ProtocolError);
  });
});
