import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestCollector, type TestCollector } from '../test-harness.js';

describe('static routes', () => {
  let filesDir: string;
  let collector: TestCollector;

  beforeEach(async () => {
    filesDir = await mkdtemp(join(tmpdir(), 'collector-static-'));
    collector = await createTestCollector({
      sdkScriptPath: join(filesDir, 'sdk.iife.js'),
      examplePagePath: join(filesDir, 'index.html'),
    });
  });

  afterEach(async () => {
    await collector.cleanup();
    await rm(filesDir, { recursive: true, force: true });
  });

  it('sdk script served with ETag', async () => {
    await writeFile(join(filesDir, 'sdk.iife.js'), 'window.ProcessSessions = {};');

    const first = await collector.app.request('/sdk.js');
    const etag = first.headers.get('etag');
    const revalidated = await collector.app.request('/sdk.js', { headers: { 'if-none-match': etag! } });

    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(first.headers.get('cache-control')).toBe('public, max-age=300');
    expect(await first.text()).toBe('window.ProcessSessions = {};');
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect(revalidated.status).toBe(304);
    expect(await revalidated.text()).toBe('');
    expect(revalidated.headers.get('vary')).toBe('Accept-Encoding');
  });

  it('gzipped sdk script revalidated', async () => {
    await writeFile(join(filesDir, 'sdk.iife.js'), `window.ProcessSessions = {${' '.repeat(4096)}};`);
    const gzip = { 'accept-encoding': 'gzip' };

    const first = await collector.app.request('/sdk.js', { headers: gzip });
    const etag = first.headers.get('etag');
    const revalidated = await collector.app.request('/sdk.js', {
      headers: { ...gzip, 'if-none-match': etag! },
    });

    expect(first.headers.get('content-encoding')).toBe('gzip');
    expect(first.headers.get('vary')).toBe('Accept-Encoding');
    expect(revalidated.status).toBe(304);
    expect(revalidated.headers.get('vary')).toBe('Accept-Encoding');
  });

  it('changed sdk script gets new ETag', async () => {
    const path = join(filesDir, 'sdk.iife.js');
    await writeFile(path, 'one();');
    const before = (await collector.app.request('/sdk.js')).headers.get('etag');

    await writeFile(path, 'two(); three();');
    const after = await collector.app.request('/sdk.js', { headers: { 'if-none-match': before! } });

    expect(after.status).toBe(200);
    expect(after.headers.get('etag')).not.toBe(before);
    expect(await after.text()).toBe('two(); three();');
  });

  it('missing sdk build gets 503', async () => {
    const response = await collector.app.request('/sdk.js');

    expect(response.status).toBe(503);
    const body = (await response.json()) as { message: string };
    expect(body.message).toContain('run npm run build');
  });

  it('example page served as HTML', async () => {
    await writeFile(join(filesDir, 'index.html'), '<!doctype html><title>Example</title>');

    const response = await collector.app.request('/');

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await response.text()).toContain('<title>Example</title>');
  });

  it('example script served beside the page', async () => {
    await writeFile(join(filesDir, 'example.js'), 'render();');

    const response = await collector.app.request('/example.js');

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await response.text()).toBe('render();');
  });

  it('favicon served as SVG', async () => {
    const response = await collector.app.request('/favicon.ico');

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/svg+xml');
    expect(await response.text()).toMatch(/^<svg /);
  });

  it('unknown route gets JSON 404', async () => {
    const response = await collector.app.request('/nope');

    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ code: 'not_found', message: 'No route for GET /nope' });
  });
});
