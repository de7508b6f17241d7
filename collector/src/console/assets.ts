import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Hono } from 'hono';
import type { AppEnv } from '../http/app-env.js';
import { sendError } from '../http/errors.js';

const ASSETS_DIR = fileURLToPath(new URL('./assets/', import.meta.url));

/** Chart.js's UMD build, found through the package's own entry, so hoisting does not matter. */
function chartScriptPath(): string {
  const entry = createRequire(import.meta.url).resolve('chart.js');
  return join(dirname(entry), 'chart.umd.min.js');
}

/** Every file under /console/assets, by name; nothing else is served from there. */
const ASSETS: Record<string, { path: () => string; type: string }> = {
  'console.css': { path: () => join(ASSETS_DIR, 'console.css'), type: 'text/css; charset=utf-8' },
  'live.js': { path: () => join(ASSETS_DIR, 'live.js'), type: 'text/javascript; charset=utf-8' },
  'reports.js': {
    path: () => join(ASSETS_DIR, 'reports.js'),
    type: 'text/javascript; charset=utf-8',
  },
  'chart.umd.min.js': { path: chartScriptPath, type: 'text/javascript; charset=utf-8' },
};

/** Registers `GET /console/assets/:name`: the console's CSS and scripts, and Chart.js. */
export function registerAssetRoutes(app: Hono<AppEnv>): void {
  const cache = new Map<string, Buffer>();

  app.get('/console/assets/:name', async (c) => {
    const name = c.req.param('name');
    const asset = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
    if (!asset) return sendError(c, 404, 'not_found', `No console asset named ${name}`);

    let body = cache.get(name);
    if (!body) {
      body = await readFile(asset.path());
      cache.set(name, body);
    }
    c.header('Content-Type', asset.type);
    c.header('Cache-Control', 'public, max-age=300');
    c.header('X-Content-Type-Options', 'nosniff');
    return c.body(new Uint8Array(body));
  });
}
