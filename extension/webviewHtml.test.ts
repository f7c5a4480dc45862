// SPDX-License-Identifier: Apache-2.0
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contentSecurityPolicy, makeNonce, renderPage } from './webviewHtml';

test('the CSP allows nothing by default, scripts by nonce only, no remote sources', () => {
  const csp = contentSecurityPolicy('https://file+.vscode-resource.vscode-cdn.net', 'abc');
  assert.match(csp, /^default-src 'none'/);
  assert.match(csp, /script-src 'nonce-abc'(;|$)/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*|https?:\/\/(?!file\+)/);
});

test('nonces are fresh and long', () => {
  const a = makeNonce(), b = makeNonce();
  assert.notEqual(a, b);
  assert.ok(Buffer.from(a, 'base64').length >= 16);
});

test('the page has one script, carrying the nonce, and escapes what it interpolates', () => {
  const html = renderPage({ csp: contentSecurityPolicy('src', 'n0nce'), nonce: 'n0nce', scriptUri: 'x.js', title: '<script>alert(1)</script>', view: 'modelEditor' });
  assert.equal(html.match(/<script/g)?.length, 1);
  assert.match(html, /<script nonce="n0nce" src="x.js"><\/script>/);
  assert.match(html, /&#60;script&#62;alert\(1\)/);
  // the toolkit's FAST components read the nonce from this meta for the one <style> they add
  assert.match(html, /<meta property="csp-nonce" content="n0nce">/);
});
