import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Hono } from 'hono';
import type { AppEnv } from './app-env.js';
import { sendError } from './errors.js';
import { pageContentSecurityPolicy } from './security-headers.js';

/** A small icon, so the /favicon.ico request every browser makes does not end in a 404. */
const FAVICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">' +
  '<circle cx="8" cy="8" r="7" fill="#2563eb"/></svg>';

/** Paths of the files the collector serves. */
export interface StaticFiles {
  /** Built IIFE bundle of the SDK, served at `/sdk.js`. */
  sdkScriptPath: string;
  /** Example page, served at `/`; its script `example.js` beside it is served at `/example.js`. */
  examplePagePath: string;
}

interface CachedFile {
  mtimeMs: number;
  size: number;
  body: Buffer;
  etag: string;
}

/** Registers `GET /sdk.js` (with ETag revalidation), `GET /` (the example page) and `GET /example.js`. */
export function registerStaticRoutes(app: Hono<AppEnv>, files: StaticFiles): void {
  const cache = new Map<string, CachedFile>();

  app.get('/sdk.js', async (c) => {
    const file = await loadFile(files.sdkScriptPath, cache);
    if (!file) {
      return sendError(
        c,
        503,
        'not_found',
        `The SDK bundle ${files.sdkScriptPath} is missing; run npm run build`,
      );
    }

    c.header('ETag', file.etag);
    c.header('Cache-Control', 'public, max-age=300');
    // The 200 is gzipped for clients that accept it, so caches must key on the header, also on a 304.
    c.header('Vary', 'Accept-Encoding');
    if (matchesEtag(c.req.header('if-none-match'), file.etag)) return c.body(null, 304);
    c.header('Content-Type', 'text/javascript; charset=utf-8');
    return c.body(new Uint8Array(file.body), 200);
  });

  app.get('/', async (c) => {
    const file = await loadFile(files.examplePagePath, cache);
    if (!file) {
      return sendError(c, 404, 'not_found', `The example page ${files.examplePagePath} is missing`);
    }
    const page = file.body.toString('utf8');
    c.header('Content-Security-Policy', pageContentSecurityPolicy(page));
    c.header('Referrer-Policy', 'same-origin');
    return c.html(page);
  });

  app.get('/favicon.ico', (c) => {
    c.header('Content-Type', 'image/svg+xml');
    c.header('Cache-Control', 'public, max-age=86400');
    return c.body(FAVICON_SVG);
  });

  app.get('/example.js', async (c) => {
    const scriptPath = join(dirname(files.examplePagePath), 'example.js');
    const file = await loadFile(scriptPath, cache);
    if (!file) return sendError(c, 404, 'not_found', `The example script ${scriptPath} is missing`);

    c.header('Content-Type', 'text/javascript; charset=utf-8');
    return c.body(new Uint8Array(file.body), 200);
  });
}

/** Reads a file, or reuses the cached copy while its size and mtime are unchanged. */
async function loadFile(
  path: string,
  cache: Map<string, CachedFile>,
): Promise<CachedFile | undefined> {
  try {
    const info = await stat(path);
    const cached = cache.get(path);
    if (cached && cached.mtimeMs === info.mtimeMs && cached.size === info.size) return cached;

    const body = await readFile(path);
    const hash = createHash('sha256').update(body).digest('base64url').slice(0, 27);
    const file = { mtimeMs: info.mtimeMs, size: info.size, body, etag: `"${hash}"` };
    cache.set(path, file);
    return file;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Returns whether an If-None-Match header lists `etag`, or is `*`. */
function matchesEtag(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .some((tag) => tag === '*' || tag === etag);
}
