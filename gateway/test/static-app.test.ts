/** Serving the built app: cache headers by kind of file, and the SPA fallback. */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from './support/gateway.ts';

describe('static app', () => {
  let gateway: TestGateway;
  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'app-'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>app</title>');
    writeFileSync(join(dir, 'main-AB12CD34.js'), 'console.log(1)');
    writeFileSync(join(dir, 'favicon.ico'), 'icon');
    gateway = await startTestGateway({ staticDir: dir });
  });

  it('serves index.html at / to be revalidated on every load', async () => {
    const response = await fetch(`${gateway.url}/`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('cache-control'), 'no-cache');
    assert.match(await response.text(), /<title>app<\/title>/);
  });

  it('caches hashed bundles for a year, immutable', async () => {
    const response = await fetch(`${gateway.url}/main-AB12CD34.js`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  });

  it('revalidates unhashed files', async () => {
    const response = await fetch(`${gateway.url}/favicon.ico`);
    assert.equal(response.headers.get('cache-control'), 'no-cache');
  });

  it('answers client-side routes with index.html', async () => {
    const response = await fetch(`${gateway.url}/payments/pay_1`);
    assert.equal(response.status, 200);
    assert.match(await response.text(), /<title>app<\/title>/);
  });

  it('answers a missing file with 404, and leaves the API alone', async () => {
    assert.equal((await fetch(`${gateway.url}/missing-AB12CD34.js`)).status, 404);
    const api = await fetch(`${gateway.url}/api/unknown`);
    assert.equal(api.status, 404);
    assert.match(api.headers.get('content-type') ?? '', /json/);
  });

  it('refuses path traversal', async () => {
    const response = await fetch(`${gateway.url}/..%2f..%2fetc%2fpasswd`);
    assert.notEqual(response.status, 200);
  });
});
