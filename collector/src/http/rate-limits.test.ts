import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorBodySchema } from '../../../shared/src/index.js';
import { type RunningServer, startServer } from '../server.js';
import {
  activity,
  batchOf,
  createClock,
  createMemoryLogger,
  T0,
  TEST_ADMIN_TOKEN,
  testConfig,
} from '../test-harness.js';

/** Starts a collector on a real port with small limits and a stopped clock, so no bucket refills. */
async function startLimited(env: NodeJS.ProcessEnv) {
  const dir = await mkdtemp(join(tmpdir(), 'collector-limits-'));
  const { logger, lines } = createMemoryLogger();
  const clock = createClock(T0 + 60_000);
  const server = await startServer(testConfig(dir, env), { logger, now: clock.now });
  return {
    server,
    lines,
    close: async () => {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Posts a valid batch of a new session of `appId`. */
function postBatch(
  server: RunningServer,
  headers: Record<string, string>,
  appId = 'shop-web',
): Promise<Response> {
  const batch = batchOf([activity(`event-${randomUUID()}`, T0)], {
    appId,
    sessionId: `session-${randomUUID()}`,
  });
  return fetch(`${server.url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain', ...headers },
    body: JSON.stringify(batch),
  });
}

/** Sends the requests one at a time, so the statuses come in request order. */
async function statusesOf(requests: Array<() => Promise<Response>>): Promise<number[]> {
  const statuses = [];
  for (const send of requests) statuses.push((await send()).status);
  return statuses;
}

describe('rate limits behind a proxy', () => {
  let limited: Awaited<ReturnType<typeof startLimited>>;
  let server: RunningServer;

  beforeAll(async () => {
    limited = await startLimited({
      TRUST_PROXY: 'true',
      RATE_LIMIT_PER_IP: '3',
      RATE_LIMIT_PER_APP: '5',
    });
    server = limited.server;
  });

  afterAll(async () => {
    await limited.close();
  });

  it('address over limit gets 429', async () => {
    const from = { 'x-forwarded-for': '203.0.113.1' };
    for (let i = 0; i < 3; i += 1)
      expect((await postBatch(server, from, `app-a${i}`)).status).toBe(200);

    const response = await postBatch(server, from, 'app-a9');

    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('20');
    const body = errorBodySchema.parse(await response.json());
    expect(body.code).toBe('rate_limited');
    expect(body.message).toBe(
      'Too many requests from this client address: the limit is 3 a minute (RATE_LIMIT_PER_IP); retry after 20 s',
    );
  });

  it('other address not limited', async () => {
    for (let i = 0; i < 4; i += 1)
      await postBatch(server, { 'x-forwarded-for': '203.0.113.2' }, `app-b${i}`);

    const response = await postBatch(server, { 'x-forwarded-for': '203.0.113.3' }, 'app-b9');

    expect(response.status).toBe(200);
  });

  it('IPv6 limited per /64', async () => {
    const statuses = await statusesOf(
      [
        '2001:db8:1:2::1',
        '2001:db8:1:2::2',
        '2001:db8:1:2:ffff::3',
        '2001:db8:1:2::4',
        '2001:db8:1:3::1',
      ].map((address, i) => () => postBatch(server, { 'x-forwarded-for': address }, `app-c${i}`)),
    );

    expect(statuses).toEqual([200, 200, 200, 429, 200]);
  });

  it('first 429 of a run logged', async () => {
    const from = { 'x-forwarded-for': '203.0.113.4', 'x-request-id': 'limit-run' };
    await statusesOf(
      Array.from({ length: 6 }, (_, i) => () => postBatch(server, from, `app-d${i}`)),
    );

    const rows = await server.storage.admin.listIngestErrors({ limit: 100, code: 'rate_limited' });
    const warnings = limited.lines
      .map((line) => JSON.parse(line) as { msg: string; requestId?: string })
      .filter(
        (line) => line.msg === 'per-address rate limit reached' && line.requestId === 'limit-run',
      );

    expect(rows.filter((row) => row.requestId === 'limit-run')).toHaveLength(1);
    expect(warnings).toHaveLength(1);
  });

  it('bearer token requests not limited', async () => {
    const headers = {
      'x-forwarded-for': '203.0.113.5',
      authorization: `Bearer ${TEST_ADMIN_TOKEN}`,
    };
    const statuses = await statusesOf(
      Array.from({ length: 6 }, () => () => fetch(`${server.url}/v1/admin/sessions`, { headers })),
    );

    expect(statuses).toEqual([200, 200, 200, 200, 200, 200]);
  });

  it('wrong tokens count against address', async () => {
    const headers = {
      'x-forwarded-for': '203.0.113.6',
      authorization: 'Bearer guessed-token-0000000000',
    };
    const statuses = await statusesOf(
      Array.from({ length: 4 }, () => () => fetch(`${server.url}/v1/admin/sessions`, { headers })),
    );

    expect(statuses).toEqual([401, 401, 401, 429]);
  });

  it('health check never limited', async () => {
    const headers = { 'x-forwarded-for': '203.0.113.7' };
    const statuses = await statusesOf(
      Array.from({ length: 5 }, () => () => fetch(`${server.url}/healthz`, { headers })),
    );

    expect(statuses).toEqual([200, 200, 200, 200, 200]);
  });

  it('app over limit gets 429', async () => {
    const statuses = await statusesOf(
      Array.from(
        { length: 6 },
        (_, i) => () => postBatch(server, { 'x-forwarded-for': `198.51.100.${i + 1}` }, 'busy-app'),
      ),
    );
    const response = await postBatch(server, { 'x-forwarded-for': '198.51.100.50' }, 'busy-app');

    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('12');
    expect((await response.json()).message).toBe(
      'App busy-app sent more than 5 batches a minute (RATE_LIMIT_PER_APP); retry after 12 s',
    );
    const rows = await server.storage.admin.listIngestErrors({ limit: 100, appId: 'busy-app' });
    expect(rows.map(({ status, code }) => ({ status, code }))).toEqual([
      { status: 429, code: 'rate_limited' },
    ]);
  });

  it('429 readable across origins', async () => {
    const from = { 'x-forwarded-for': '203.0.113.8', origin: 'https://shop.example' };
    await statusesOf(
      Array.from({ length: 3 }, (_, i) => () => postBatch(server, from, `app-e${i}`)),
    );

    const response = await postBatch(server, from, 'app-e9');

    expect(response.status).toBe(429);
    expect(response.headers.get('access-control-allow-origin')).toBe('https://shop.example');
  });

  it('client address never logged', () => {
    const text = limited.lines.join('\n');

    for (const address of ['203.0.113.', '198.51.100.', '2001:db8']) {
      expect(text, address).not.toContain(address);
    }
  });
});

describe('rate limits without a proxy', () => {
  let limited: Awaited<ReturnType<typeof startLimited>>;

  beforeAll(async () => {
    limited = await startLimited({ RATE_LIMIT_PER_IP: '2', RATE_LIMIT_PER_APP: '3' });
  });

  afterAll(async () => {
    await limited.close();
  });

  it('loopback not limited per address', async () => {
    const statuses = await statusesOf(
      ['203.0.113.1', '203.0.113.1', '203.0.113.1'].map(
        (address, i) => () =>
          postBatch(limited.server, { 'x-forwarded-for': address }, `app-f${i}`),
      ),
    );

    // The socket address is 127.0.0.1, and X-Forwarded-For is not trusted by default.
    expect(statuses).toEqual([200, 200, 200]);
  });

  it('loopback still limited per app', async () => {
    const statuses = await statusesOf(
      Array.from({ length: 4 }, () => () => postBatch(limited.server, {}, 'local-app')),
    );

    expect(statuses).toEqual([200, 200, 200, 429]);
  });

  it('proxied client limited behind loopback', async () => {
    const proxied = await startLimited({ TRUST_PROXY: 'true', RATE_LIMIT_PER_IP: '2' });
    try {
      const from = { 'x-forwarded-for': '198.51.100.9' };
      const statuses = await statusesOf(
        Array.from({ length: 3 }, (_, i) => () => postBatch(proxied.server, from, `app-g${i}`)),
      );

      expect(statuses).toEqual([200, 200, 429]);
    } finally {
      await proxied.close();
    }
  });
});

describe('rate limits switched off', () => {
  it('zero turns limits off', async () => {
    const limited = await startLimited({ RATE_LIMIT_PER_IP: '0', RATE_LIMIT_PER_APP: '0' });
    try {
      const statuses = await statusesOf(
        Array.from({ length: 30 }, () => () => postBatch(limited.server, {}, 'one-app')),
      );

      expect(statuses.every((status) => status === 200)).toBe(true);
    } finally {
      await limited.close();
    }
  });
});
