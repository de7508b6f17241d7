import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import nodeResolve from '@rollup/plugin-node-resolve';
import type { Browser } from 'playwright-core';
import { rollup } from 'rollup';
import esbuild from 'rollup-plugin-esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../e2e/browser.js';
import { type CollectorUnderTest, startCollectorUnderTest, waitFor } from '../e2e/collector-under-test.js';

const exampleDir = new URL('./', import.meta.url).pathname;
const bundlePath = `${exampleDir}dist/app.js`;

describe('npm example', () => {
  let collector: CollectorUnderTest;
  let browser: Browser;

  beforeAll(async () => {
    collector = await startCollectorUnderTest();
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await collector?.close();
  });

  it('type-checks against the published types', async () => {
    const tsc = new URL('../../node_modules/typescript/bin/tsc', import.meta.url).pathname;

    const result = await promisify(execFile)(process.execPath, [tsc, '-p', `${exampleDir}tsconfig.json`]);

    expect(result.stderr).toBe('');
  });

  it('bundles and tracks in Chromium', async () => {
    const bundle = await rollup({
      input: `${exampleDir}src/main.ts`,
      plugins: [nodeResolve({ browser: true }), esbuild({ target: 'es2020' })],
    });
    await bundle.write({ file: bundlePath, format: 'es' });
    await bundle.close();
    const html = await readFile(`${exampleDir}index.html`, 'utf8');
    const script = await readFile(bundlePath, 'utf8');

    const page = await browser.newPage();
    await page.route(`${collector.url}/npm-example/**`, (route) => {
      const isScript = route.request().url().endsWith('/dist/app.js');
      return route.fulfill({
        contentType: isScript ? 'text/javascript' : 'text/html',
        body: isScript ? script : html,
      });
    });
    await page.goto(`${collector.url}/npm-example/`);
    await page.waitForFunction(() => Boolean((window as any).npmExample?.getState().sessionId));
    const sessionId: string = await page.evaluate(() => (window as any).npmExample.getState().sessionId);

    const events = await waitFor(
      () => collector.storage.listEvents(sessionId),
      (rows) => rows.some((row) => row.type === 'custom'),
    );
    const custom = events.find((row) => row.type === 'custom');
    expect(JSON.parse(custom?.data ?? '{}')).toMatchObject({ name: 'npm_example_loaded' });
    await page.close();
  });
});
