import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  activity,
  batchOf,
  createTestCollector,
  postBatch,
  T0,
  TEST_ADMIN_TOKEN,
  type TestCollector,
} from '../test-harness.js';
import { DEFAULT_CONTENT_SECURITY_POLICY, pageContentSecurityPolicy } from './security-headers.js';

const PAGE_STYLE = 'body { color: #123; }';
const PAGE = `<!doctype html><html><head><style>${PAGE_STYLE}</style></head>
<body><h1>Example</h1><script src="/sdk.js" data-app="example"></script></body></html>`;

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('base64');
}

function expectBaseHeaders(response: Response, label: string): void {
  expect(response.headers.get('x-content-type-options'), label).toBe('nosniff');
  expect(response.headers.get('x-frame-options'), label).toBe('DENY');
  expect(response.headers.get('referrer-policy'), label).not.toBeNull();
  expect(response.headers.get('content-security-policy'), label).toContain(
    "frame-ancestors 'none'",
  );
}

describe('security headers', () => {
  let filesDir: string;
  let collector: TestCollector;

  beforeEach(async () => {
    filesDir = await mkdtemp(join(tmpdir(), 'collector-headers-'));
    await writeFile(join(filesDir, 'index.html'), PAGE);
    await writeFile(join(filesDir, 'sdk.iife.js'), 'window.ProcessSessions = {};');
    collector = await createTestCollector({
      sdkScriptPath: join(filesDir, 'sdk.iife.js'),
      examplePagePath: join(filesDir, 'index.html'),
    });
  });

  afterEach(async () => {
    await collector.cleanup();
    await rm(filesDir, { recursive: true, force: true });
  });

  it('every kind of response covered', async () => {
    const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
    const responses: Array<[string, Response]> = [
      ['health', await collector.app.request('/healthz')],
      ['ingest', await postBatch(collector.app, batchOf([activity('event-0001', T0)]))],
      ['ingest error', await postBatch(collector.app, '{')],
      ['not found', await collector.app.request('/nothing-here')],
      ['unauthorized', await collector.app.request('/v1/admin/sessions')],
      ['admin', await collector.app.request('/v1/admin/sessions', { headers: admin })],
      ['openapi', await collector.app.request('/openapi.json')],
      ['sdk', await collector.app.request('/sdk.js')],
      ['example', await collector.app.request('/')],
      ['docs', await collector.app.request('/docs')],
      ['console', await collector.app.request('/console/login')],
    ];

    for (const [label, response] of responses) expectBaseHeaders(response, label);
  });

  it('JSON gets default policy', async () => {
    const response = await collector.app.request('/healthz');

    expect(response.headers.get('content-security-policy')).toBe(DEFAULT_CONTENT_SECURITY_POLICY);
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
  });

  it('failed handler still secured', async () => {
    await collector.storage.close();

    const response = await collector.app.request('/v1/admin/sessions', {
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    });

    expect(response.status).toBe(500);
    expectBaseHeaders(response, 'internal error');
  });

  it('example page allows its style', async () => {
    const response = await collector.app.request('/');

    expect(response.headers.get('content-security-policy')).toBe(
      "default-src 'none'; script-src 'self'; " +
        `style-src 'self' 'sha256-${sha256(PAGE_STYLE)}'; connect-src 'self'; ` +
        "img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    );
    expect(response.headers.get('referrer-policy')).toBe('same-origin');
  });

  it('pages keep their own policy', async () => {
    const docs = await collector.app.request('/docs');
    const console = await collector.app.request('/console/login');

    expect(docs.headers.get('content-security-policy')).toContain("style-src 'unsafe-inline'");
    expect(console.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(console.headers.get('referrer-policy')).toBe('same-origin');
  });

  it('SDK script loadable cross-site', async () => {
    const response = await collector.app.request('/sdk.js');

    // Cross-Origin-Resource-Policy: same-origin would stop other sites' script tags.
    expect(response.headers.get('cross-origin-resource-policy')).toBeNull();
    expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  });

  it('HSTS only over https', async () => {
    const plain = await collector.app.request('http://collector.example/healthz');
    const secure = await collector.app.request('https://collector.example/healthz');
    const forwarded = await collector.app.request('/healthz', {
      headers: { 'x-forwarded-proto': 'https' },
    });

    expect(plain.headers.get('strict-transport-security')).toBeNull();
    expect(secure.headers.get('strict-transport-security')).toBe('max-age=31536000');
    // X-Forwarded-Proto counts only behind a trusted proxy.
    expect(forwarded.headers.get('strict-transport-security')).toBeNull();
  });

  it('forwarded https trusted behind proxy', async () => {
    await collector.cleanup();
    collector = await createTestCollector({ env: { TRUST_PROXY: 'true' } });

    const response = await collector.app.request('/healthz', {
      headers: { 'x-forwarded-proto': 'https' },
    });

    expect(response.headers.get('strict-transport-security')).toBe('max-age=31536000');
  });
});

describe('pageContentSecurityPolicy', () => {
  it('inline elements hashed, sourced not', () => {
    const html =
      '<style media="print">a{}</style><script>go()</script>' +
      '<script src="/x.js"></script><SCRIPT type="module">run()</SCRIPT>';

    const policy = pageContentSecurityPolicy(html);

    expect(policy).toContain(
      `script-src 'self' 'sha256-${sha256('go()')}' 'sha256-${sha256('run()')}';`,
    );
    expect(policy).toContain(`style-src 'self' 'sha256-${sha256('a{}')}';`);
  });

  it('page without inline code', () => {
    const policy = pageContentSecurityPolicy('<p>plain</p>');

    expect(policy).toContain("script-src 'self';");
    expect(policy).toContain("style-src 'self';");
  });
});
