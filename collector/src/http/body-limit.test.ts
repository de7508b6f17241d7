import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from '../../../shared/src/index.js';
import { type RunningServer, startServer } from '../server.js';
import {
  activity,
  batchOf,
  createClock,
  createMemoryLogger,
  T0,
  testConfig,
} from '../test-harness.js';

/** What came back on a raw connection: the status of the first response and everything read. */
interface RawReply {
  status: number;
  text: string;
}

/**
 * Writes `head` and then each chunk of `body` to a new connection and reads
 * until the server closes it or `timeoutMs` passes. With `isHalfClosed` the
 * client ends its side after writing, as a client that gives up does.
 */
function sendRaw(
  port: number,
  head: string,
  body: Array<string | Buffer>,
  options: { isHalfClosed?: boolean; timeoutMs?: number } = {},
): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text });
    };
    const timer = setTimeout(finish, options.timeoutMs ?? 5_000);
    socket.on('data', (chunk) => (text += chunk.toString('latin1')));
    socket.on('close', finish);
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // The server may reply and close before the whole body is written.
      if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
    });
    socket.on('connect', () => {
      socket.write(head);
      for (const chunk of body) socket.write(chunk);
      if (options.isHalfClosed) socket.end();
    });
  });
}

function requestHead(headers: Record<string, string | number>): string {
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
  const start = ['POST /v1/events HTTP/1.1', 'Host: 127.0.0.1', 'Connection: close'];
  return [...start, ...lines, '', ''].join('\r\n');
}

/** Encodes `parts` as chunked transfer coding, with the closing zero-size chunk. */
function chunked(parts: string[]): string[] {
  const encoded = parts.map((part) => `${Buffer.byteLength(part).toString(16)}\r\n${part}\r\n`);
  return [...encoded, '0\r\n\r\n'];
}

describe('ingest body limits on a real port', () => {
  let dir: string;
  let server: RunningServer;
  const valid = JSON.stringify(batchOf([activity('event-0001', T0)]));

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'collector-body-'));
    const { logger } = createMemoryLogger();
    const clock = createClock(T0 + 60_000);
    server = await startServer(testConfig(dir), { logger, now: clock.now });
  });

  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function logRowOf(requestId: string) {
    const rows = await server.storage.admin.listIngestErrors({ limit: 100 });
    return rows.find((row) => row.requestId === requestId);
  }

  async function expectHealthy() {
    const response = await fetch(`${server.url}/healthz`);
    expect(response.status).toBe(200);
  }

  it('chunked over limit without length', async () => {
    const part = 'x'.repeat(32 * 1024);
    const parts = Array.from({ length: Math.ceil(MAX_BODY_BYTES / part.length) + 2 }, () => part);
    const head = requestHead({
      'Content-Type': 'text/plain',
      'Transfer-Encoding': 'chunked',
      'X-Request-Id': 'body-chunked-1',
    });

    const reply = await sendRaw(server.port, head, chunked(parts));

    expect(reply.status).toBe(413);
    expect(reply.text).toContain('"code":"payload_too_large"');
    expect(await logRowOf('body-chunked-1')).toMatchObject({
      status: 413,
      code: 'payload_too_large',
    });
    await expectHealthy();
  });

  it('chunked valid batch accepted', async () => {
    const head = requestHead({
      'Content-Type': 'application/json',
      'Transfer-Encoding': 'chunked',
    });

    const reply = await sendRaw(server.port, head, chunked([valid.slice(0, 30), valid.slice(30)]), {
      timeoutMs: 1_000,
    });

    expect(reply.status).toBe(200);
    expect(reply.text).toContain('"accepted":1');
  });

  it('declared length over limit', async () => {
    const head = requestHead({
      'Content-Type': 'application/json',
      'Content-Length': MAX_BODY_BYTES + 1,
      'X-Request-Id': 'body-declared-1',
    });

    // Only the first bytes are sent: the reply must not wait for the rest.
    const reply = await sendRaw(server.port, head, [valid]);

    expect(reply.status).toBe(413);
    expect(await logRowOf('body-declared-1')).toMatchObject({
      status: 413,
      code: 'payload_too_large',
    });
    await expectHealthy();
  });

  it('length lower than body', async () => {
    const head = requestHead({
      'Content-Type': 'application/json',
      'Content-Length': 20,
      'X-Request-Id': 'body-short-1',
    });

    const reply = await sendRaw(server.port, head, [valid]);

    // Node reads 20 bytes as the body, so the route gets cut JSON. Node parses the rest as a
    // next request, rejects it with its own 400 and closes the connection.
    expect(reply.status).toBe(400);
    expect(await logRowOf('body-short-1')).toMatchObject({ status: 400, code: 'invalid_json' });
    expect(reply.text).not.toMatch(/HTTP\/1\.1 5\d\d/);
    await expectHealthy();
  });

  it('length higher than body', async () => {
    const head = requestHead({
      'Content-Type': 'application/json',
      'Content-Length': valid.length + 100,
      'X-Request-Id': 'body-long-1',
    });

    const reply = await sendRaw(server.port, head, [valid], { isHalfClosed: true });

    expect(reply.text).not.toMatch(/HTTP\/1\.1 5\d\d/);
    expect(await logRowOf('body-long-1')).toMatchObject({ status: 400, code: 'invalid_json' });
    expect((await logRowOf('body-long-1'))?.message).toContain('ended early');
    await expectHealthy();
  });

  it('oversized fetch body rejected', async () => {
    const response = await fetch(`${server.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ padding: 'x'.repeat(MAX_BODY_BYTES) }),
    });

    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ code: 'payload_too_large' });
  });
});
