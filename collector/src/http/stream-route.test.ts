import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { activity, batchOf, createTestCollector, postBatch, T0, type TestCollector } from '../test-harness.js';

async function waitFor(condition: () => boolean, timeoutMs = 3000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return condition();
}

describe('GET /v1/sessions/:id/stream', () => {
  let collector: TestCollector;
  let server: Server;
  let baseUrl: string;

  beforeEach(async () => {
    collector = await createTestCollector();
    collector.clock.set(T0 + 1000);
    await postBatch(collector.app, batchOf([activity('event-0001', T0)]));
    server = await new Promise<Server>((resolve) => {
      const started = serve({ fetch: collector.app.fetch, port: 0, hostname: '127.0.0.1' }, () =>
        resolve(started as Server),
      ) as Server;
    });
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await collector.cleanup();
  });

  it('client abort removes subscriber', async () => {
    const controller = new AbortController();
    const response = await fetch(`${baseUrl}/v1/sessions/session-0001/stream`, {
      signal: controller.signal,
    });
    const reader = response.body!.getReader();
    await reader.read();
    const isSubscribed = await waitFor(() => collector.hub.subscriberCount('session-0001') === 1);

    controller.abort();
    const isRemoved = await waitFor(() => collector.hub.subscriberCount() === 0);

    expect(isSubscribed).toBe(true);
    expect(isRemoved).toBe(true);
  });

  it('stream sends CORS header to allowed origin', async () => {
    const controller = new AbortController();

    const response = await fetch(`${baseUrl}/v1/sessions/session-0001/stream`, {
      headers: { origin: 'https://shop.example' },
      signal: controller.signal,
    });
    controller.abort();

    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    expect(response.headers.get('cache-control')).toBe('no-cache');
  });

  it('ended session streams its end', async () => {
    await collector.service.terminate('session-0001', null, { name: 'admin', role: 'admin' });
    const controller = new AbortController();

    const response = await fetch(`${baseUrl}/v1/sessions/session-0001/stream`, {
      signal: controller.signal,
    });
    const { value } = await response.body!.getReader().read();
    controller.abort();

    const text = new TextDecoder().decode(value);
    expect(text).toMatch(/^event: state\ndata: /);
    expect(JSON.parse(text.split('data: ')[1]!)).toMatchObject({
      state: 'ended',
      endReason: 'terminated',
    });
  });
});
