import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppEnv } from './app-env.js';
import { identifyClientAddress, isHttpsRequest } from './client-address.js';
import { addressKey } from './rate-limits.js';

/** Serves an app that replies with the client address it resolved, on a real port. */
async function serveProbe(
  trustProxyHops: number,
  hostname: string,
): Promise<{ url: string; server: Server }> {
  const app = new Hono<AppEnv>();
  app.use(identifyClientAddress(trustProxyHops));
  app.get('/', (c) =>
    c.json({ address: c.get('clientAddress') ?? null, isHttps: isHttpsRequest(c, trustProxyHops) }),
  );
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname }, (info: AddressInfo) => {
      resolve({ url: `http://127.0.0.1:${info.port}/`, server: server as Server });
    }) as Server;
  });
}

async function probe(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { headers });
  return (await response.json()) as { address: string | null; isHttps: boolean };
}

describe('identifyClientAddress', () => {
  const servers: Server[] = [];
  let direct: string;
  let oneProxy: string;
  let twoProxies: string;
  let dualStack: string;

  beforeAll(async () => {
    const probes = await Promise.all([
      serveProbe(0, '127.0.0.1'),
      serveProbe(1, '127.0.0.1'),
      serveProbe(2, '127.0.0.1'),
      serveProbe(0, '::'),
    ]);
    servers.push(...probes.map((entry) => entry.server));
    [direct, oneProxy, twoProxies, dualStack] = probes.map((entry) => entry.url) as [
      string,
      string,
      string,
      string,
    ];
  });

  afterAll(async () => {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  });

  it('socket address without proxy', async () => {
    const result = await probe(direct, { 'x-forwarded-for': '203.0.113.9' });

    expect(result.address).toBe('127.0.0.1');
  });

  it('IPv4-mapped socket address unmapped', async () => {
    const result = await probe(dualStack);

    expect(result.address).toBe('127.0.0.1');
  });

  it('one proxy takes last entry', async () => {
    const result = await probe(oneProxy, { 'x-forwarded-for': '198.51.100.7, 203.0.113.9' });

    expect(result.address).toBe('203.0.113.9');
  });

  it('two proxies take second entry', async () => {
    const result = await probe(twoProxies, {
      'x-forwarded-for': '198.51.100.7, 203.0.113.9, 10.0.0.2',
    });

    expect(result.address).toBe('203.0.113.9');
  });

  it('short list takes leftmost entry', async () => {
    const result = await probe(twoProxies, { 'x-forwarded-for': '203.0.113.9' });

    expect(result.address).toBe('203.0.113.9');
  });

  it('invalid entry falls back to socket', async () => {
    for (const header of ['unknown', "1.2.3.4' OR 1=1", '', ' , ']) {
      const result = await probe(oneProxy, { 'x-forwarded-for': header });

      expect(result.address, header).toBe('127.0.0.1');
    }
  });

  it('bracketed IPv6 entry normalized', async () => {
    const result = await probe(oneProxy, { 'x-forwarded-for': '[2001:DB8::1]' });

    expect(result.address).toBe('2001:db8::1');
  });

  it('forwarded https trusted only behind proxy', async () => {
    const headers = { 'x-forwarded-proto': 'https' };

    expect((await probe(direct, headers)).isHttps).toBe(false);
    expect((await probe(oneProxy, headers)).isHttps).toBe(true);
    expect((await probe(oneProxy)).isHttps).toBe(false);
  });

  it.each([
    ['https, http', true],
    ['https', true],
    ['http, https, http', true],
    ['https, http, http', false],
  ])('forwarded proto %s behind two proxies', async (proto, isHttps) => {
    const result = await probe(twoProxies, { 'x-forwarded-proto': proto });

    expect(result.isHttps).toBe(isHttps);
  });
});

describe('addressKey', () => {
  it('IPv4 address is its key', () => {
    expect(addressKey('203.0.113.9')).toBe('203.0.113.9');
  });

  it('IPv6 keyed by /64 prefix', () => {
    const cases: Array<[string, string]> = [
      ['2001:db8:1:2::1', '2001:db8:1:2::/64'],
      ['2001:db8:1:2:aaaa:bbbb:cccc:dddd', '2001:db8:1:2::/64'],
      ['2001:0db8:0001:0002::ffff', '2001:db8:1:2::/64'],
      ['2001:db8::1', '2001:db8:0:0::/64'],
      ['::1', '0:0:0:0::/64'],
      ['fe80::1%eth0', 'fe80:0:0:0::/64'],
      ['64:ff9b::192.0.2.33', '64:ff9b:0:0::/64'],
      ['1:2:3:4:5:6:7:8', '1:2:3:4::/64'],
    ];
    for (const [address, key] of cases) {
      expect(addressKey(address), address).toBe(key);
    }
  });
});
