import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES, type SessionState } from '../../shared/src/index.js';
import { type RunningServer, startServer } from './server.js';
import {
  activity,
  batchOf,
  createClock,
  createMemoryLogger,
  T0,
  TEST_ADMIN_TOKEN,
  testConfig,
} from './test-harness.js';

/** Reads server-sent events from a fetch response, one block at a time. */
class SseReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();
  #buffer = '';

  constructor(response: Response) {
    this.#reader = response.body!.getReader();
  }

  /** Returns the next block (event or comment), or undefined when the stream ends. */
  async next(): Promise<string | undefined> {
    while (!this.#buffer.includes('\n\n')) {
      const { done, value } = await this.#reader.read();
      if (done) return undefined;
      this.#buffer += this.#decoder.decode(value, { stream: true });
    }
    const end = this.#buffer.indexOf('\n\n');
    const block = this.#buffer.slice(0, end);
    this.#buffer = this.#buffer.slice(end + 2);
    return block;
  }

  /** Returns the data of the next `state` event, skipping comments. */
  async nextState(): Promise<SessionState | undefined> {
    for (;;) {
      const block = await this.next();
      if (block === undefined) return undefined;
      if (!block.startsWith('event: state')) continue;
      const data = block.split('\n').find((line) => line.startsWith('data: '));
      return JSON.parse(data!.slice('data: '.length)) as SessionState;
    }
  }

  async cancel(): Promise<void> {
    await this.#reader.cancel();
  }
}

/** Posts a body in chunks with `Transfer-Encoding: chunked` and no Content-Length. */
function postChunked(url: string, chunks: string[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      url,
      { method: 'POST', headers: { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' } },
      (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      },
    );
    // The server may reply and stop reading before every chunk is written.
    request.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
    });
    for (const chunk of chunks) request.write(chunk);
    request.end();
  });
}

describe('startServer', () => {
  let dir: string;
  let server: RunningServer;
  const clock = createClock(T0 + 60_000);

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'collector-server-'));
    const { logger } = createMemoryLogger();
    server = await startServer(testConfig(dir), { logger, now: clock.now, pingIntervalMs: 50 });
  });

  afterEach(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function post(body: unknown): Promise<Response> {
    return fetch(`${server.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  }

  it('server reports real port', async () => {
    const response = await fetch(`${server.url}/healthz`);

    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect(await response.json()).toEqual({ ok: true });
  });

  it('host of another machine fails before creating files', async () => {
    const otherDir = join(dir, 'other');
    const { logger } = createMemoryLogger();
    let tokenLoads = 0;
    const loadAdminToken = async () => {
      tokenLoads += 1;
      return TEST_ADMIN_TOKEN;
    };
    // 192.0.2.1 is a documentation address that no interface here has, so bind fails locally.
    const config = { ...testConfig(otherDir), host: '192.0.2.1', adminToken: undefined };

    const start = startServer(config, { logger, loadAdminToken });

    await expect(start).rejects.toThrow(/^HOST 192\.0\.2\.1 is not an address of this machine/);
    expect(tokenLoads).toBe(0);
    expect(existsSync(otherDir)).toBe(false);
  });

  it('port in use fails before creating files', async () => {
    const otherDir = join(dir, 'other');
    const { logger } = createMemoryLogger();
    const config = { ...testConfig(otherDir), port: server.port };

    const start = startServer(config, { logger });

    await expect(start).rejects.toThrow(`PORT ${server.port} is in use on HOST 127.0.0.1`);
    expect(existsSync(otherDir)).toBe(false);
    expect(await (await fetch(`${server.url}/healthz`)).json()).toEqual({ ok: true });
  });

  it('folder as database path named in the start error', async () => {
    const otherDir = join(dir, 'other');
    const folder = join(otherDir, 'folder.duckdb');
    await mkdir(folder, { recursive: true });
    const { logger } = createMemoryLogger();
    const config = { ...testConfig(otherDir), databasePath: folder };

    const start = startServer(config, { logger });

    await expect(start).rejects.toThrow(`Cannot open the database at DATABASE_PATH ${folder}: `);
    await expect(start).rejects.toThrow('is a folder');
    expect(await readdir(otherDir)).toEqual(['folder.duckdb']);
  });

  it('chunked body over limit gets 413', async () => {
    const chunk = 'x'.repeat(16 * 1024);
    const chunks = Array.from({ length: Math.ceil(MAX_BODY_BYTES / chunk.length) + 2 }, () => chunk);

    const result = await postChunked(`${server.url}/v1/events`, chunks);

    expect(result.status).toBe(413);
    expect(JSON.parse(result.body)).toMatchObject({ code: 'payload_too_large' });
  });

  it('chunked body under limit accepted', async () => {
    const text = JSON.stringify(batchOf([activity('event-0001', T0)]));

    const result = await postChunked(`${server.url}/v1/events`, [text.slice(0, 40), text.slice(40)]);

    expect(result.status).toBe(200);
    expect(JSON.parse(result.body)).toMatchObject({ accepted: 1 });
  });

  it('stream receives termination', async () => {
    await post(batchOf([activity('event-0001', T0)]));
    const response = await fetch(`${server.url}/v1/sessions/session-0001/stream`);
    const stream = new SseReader(response);

    const first = await stream.nextState();
    const terminated = await fetch(`${server.url}/v1/admin/sessions/session-0001/terminate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'test' }),
    });
    const second = await stream.nextState();
    await stream.cancel();

    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(first).toMatchObject({ id: 'session-0001', state: 'active', endReason: null });
    expect(first?.policy.heartbeatMs).toBe(30_000);
    expect(terminated.status).toBe(200);
    expect(second).toMatchObject({ state: 'ended', endReason: 'terminated', endedAt: T0 + 60_000 });
  });

  it('streams per client address capped', async () => {
    const { logger } = createMemoryLogger();
    const config = testConfig(join(dir, 'capped'), { TRUST_PROXY: 'true', STREAMS_PER_ADDRESS: '2' });
    const capped = await startServer(config, { logger, now: clock.now, pingIntervalMs: 50 });
    const open = (address: string) =>
      fetch(`${capped.url}/v1/sessions/session-0001/stream`, { headers: { 'x-forwarded-for': address } });

    try {
      const batch = await fetch(`${capped.url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(batchOf([activity('event-0001', T0)])),
      });
      expect(batch.status).toBe(200);
      const first = new SseReader(await open('203.0.113.5'));
      const second = new SseReader(await open('203.0.113.5'));
      await first.nextState();
      await second.nextState();

      const rejected = await open('203.0.113.5');
      const otherAddress = await open('203.0.113.6');
      await first.cancel();
      // The server frees the slot once it notices the closed connection.
      let reopened = await open('203.0.113.5');
      for (let attempt = 0; attempt < 50 && reopened.status === 429; attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        reopened = await open('203.0.113.5');
      }

      expect(rejected.status).toBe(429);
      expect(rejected.headers.get('retry-after')).toBe('30');
      expect(await rejected.json()).toMatchObject({
        code: 'rate_limited',
        message: expect.stringContaining('203.0.113.5 already has 2 open session streams (STREAMS_PER_ADDRESS)'),
      });
      expect(otherAddress.status).toBe(200);
      expect(reopened.status).toBe(200);
      await otherAddress.body?.cancel();
      await reopened.body?.cancel();
      await second.cancel();
    } finally {
      await capped.close();
    }
  });

  it('stream sends ping comments', async () => {
    await post(batchOf([activity('event-0001', T0)]));
    const stream = new SseReader(await fetch(`${server.url}/v1/sessions/session-0001/stream`));

    await stream.nextState();
    const ping = await stream.next();
    await stream.cancel();

    expect(ping).toBe(': ping');
  });

  it('stream of unknown session 404', async () => {
    const response = await fetch(`${server.url}/v1/sessions/session-9999/stream`);

    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ code: 'not_found' });
  });

  it('close ends open streams', async () => {
    await post(batchOf([activity('event-0001', T0)]));
    const stream = new SseReader(await fetch(`${server.url}/v1/sessions/session-0001/stream`));
    await stream.nextState();

    await server.close();
    const rest: string[] = [];
    for (let block = await stream.next(); block !== undefined; block = await stream.next()) {
      rest.push(block);
    }

    expect(rest.every((block) => block === ': ping')).toBe(true);
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  });
});

/**
 * Writes raw bytes to 127.0.0.1:`port`, then resolves with everything the
 * server sends until it closes the connection, or rejects after `limitMs`.
 */
function sendRaw(port: number, text: string, limitMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let received = '';
    const limit = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connection still open after ${limitMs} ms`));
    }, limitMs);
    socket.on('data', (chunk) => (received += chunk.toString('utf8')));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(limit);
      resolve(received);
    });
  });
}

describe('startServer request timeout', () => {
  let dir: string;
  let server: RunningServer;
  let logLines: string[];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'collector-timeout-'));
    const { logger, lines } = createMemoryLogger();
    logLines = lines;
    const config = testConfig(dir, { REQUEST_TIMEOUT_MS: '1000' });
    server = await startServer(config, { logger, pingIntervalMs: 50 });
  });

  afterEach(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('stalled body gets 408', async () => {
    const head = 'POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n';

    const reply = await sendRaw(server.port, `${head}Content-Length: 100\r\n\r\n{"v":1`, 5_000);

    expect(reply).toMatch(/^HTTP\/1\.1 408 /);
    expect(reply).toMatch(/\r\nContent-Type: application\/json\r\n/);
    expect(reply).toMatch(/\r\nX-Content-Type-Options: nosniff\r\n/);
    expect(JSON.parse(reply.split('\r\n\r\n')[1]!)).toEqual({
      code: 'request_timeout',
      message: 'Request timed out: send the headers within 1 s and the whole request within 1 s',
    });
    const logged = logLines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(logged).toContainEqual(
      expect.objectContaining({ msg: 'client error', status: 408, code: 'request_timeout' }),
    );
  });

  it('client error lines capped per second', async () => {
    const replies = await Promise.all(
      Array.from({ length: 25 }, () => sendRaw(server.port, 'GARBAGE\r\n\r\n', 5_000)),
    );
    await new Promise((resolve) => setTimeout(resolve, 1_200));

    const logged = logLines.map((line) => JSON.parse(line) as { msg: string; count?: number });
    const lines = logged.filter((line) => line.msg === 'client error');
    const summaries = logged.filter((line) => line.msg.startsWith('client errors beyond'));
    const summed = summaries.reduce((total, line) => total + (line.count ?? 0), 0);
    expect(replies.filter((reply) => /^HTTP\/1\.1 400 /.test(reply))).toHaveLength(25);
    expect(lines.length).toBeLessThanOrEqual(20);
    expect(summaries.length).toBeGreaterThanOrEqual(1);
    expect(lines.length + summed).toBe(25);
  });

  it('stalled headers get 408', async () => {
    const reply = await sendRaw(server.port, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n', 5_000);

    expect(reply).toMatch(/^HTTP\/1\.1 408 /);
    expect(reply).toContain('"code":"request_timeout"');
  });

  it('garbage request gets 400 JSON', async () => {
    const reply = await sendRaw(server.port, 'HELLO\r\n\r\n', 5_000);

    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(reply.split('\r\n\r\n')[1]!)).toMatchObject({ code: 'bad_request' });
    expect(reply).toMatch(/\r\nX-Frame-Options: DENY\r\n/);
    expect(reply).toMatch(/\r\nContent-Security-Policy: default-src 'none'; frame-ancestors 'none'/);
    expect(reply).toMatch(/\r\nReferrer-Policy: no-referrer\r\n/);
  });

  it('huge headers get 431 JSON', async () => {
    const head = `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`;

    const reply = await sendRaw(server.port, head, 5_000);

    expect(reply).toMatch(/^HTTP\/1\.1 431 /);
    expect(reply).toContain('"code":"headers_too_large"');
    expect(reply).toContain('over the limit of 16384 bytes');
  });

  it('stream outlives request timeout', async () => {
    const batch = batchOf([activity('event-0001', Date.now())]);
    await fetch(`${server.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(batch),
    });
    const stream = new SseReader(await fetch(`${server.url}/v1/sessions/session-0001/stream`));
    const first = await stream.nextState();

    await new Promise((resolve) => setTimeout(resolve, 2_500));
    await fetch(`${server.url}/v1/admin/sessions/session-0001/terminate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'test' }),
    });
    const second = await stream.nextState();
    await stream.cancel();

    expect(first).toMatchObject({ state: 'active' });
    expect(second).toMatchObject({ state: 'ended', endReason: 'terminated' });
  });
});

describe('startServer with DUCKDB_REOPEN_EVENTS', () => {
  it('DuckDB reopened while batches arrive over HTTP, none lost', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'collector-reopen-'));
    const { logger, lines } = createMemoryLogger();
    const clock = createClock(T0 + 60_000);
    const config = testConfig(dir, { DUCKDB_REOPEN_EVENTS: '20' });
    const server = await startServer(config, { logger, now: clock.now });
    try {
      const replies = await Promise.all(
        Array.from({ length: 6 }, (_, batch) => {
          const events = Array.from({ length: 10 }, (_, index) =>
            activity(`event-${batch}-${index}`, clock.now()),
          );
          return fetch(`${server.url}/v1/events`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(batchOf(events)),
          });
        }),
      );
      expect(replies.map((reply) => reply.status)).toEqual([200, 200, 200, 200, 200, 200]);
      const session = await fetch(`${server.url}/v1/admin/sessions/session-0001`, {
        headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
      });
      expect(session.status).toBe(200);

      await server.close();
      const reopened = lines.filter((line) => line.includes('reopened DuckDB to free its memory'));
      expect(reopened.length).toBeGreaterThanOrEqual(1);
      expect(JSON.parse(reopened[0]!)).toMatchObject({ events: expect.any(Number) });
      const again = await startServer(testConfig(dir), { logger, now: clock.now });
      expect(await again.storage.listEvents('session-0001')).toHaveLength(60);
      await again.close();
    } finally {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
