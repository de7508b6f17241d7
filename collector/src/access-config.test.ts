import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';

describe('access variables', () => {
  it('access defaults applied', () => {
    const config = loadConfig({});

    expect(config.trustProxyHops).toBe(0);
    expect(config.rateLimitPerIp).toBe(1200);
    expect(config.rateLimitPerApp).toBe(60_000);
    expect(config.appOrigins.size).toBe(0);
  });

  it('TRUST_PROXY values parsed', () => {
    const cases: Array<[string, number]> = [
      ['', 0],
      ['false', 0],
      ['0', 0],
      ['true', 1],
      ['TRUE', 1],
      ['2', 2],
      ['10', 10],
    ];
    for (const [raw, hops] of cases) {
      expect(loadConfig({ TRUST_PROXY: raw }).trustProxyHops, raw).toBe(hops);
    }
  });

  it('invalid TRUST_PROXY names range', () => {
    for (const raw of ['yes', '11', '-1', '1.5']) {
      expect(() => loadConfig({ TRUST_PROXY: raw }), raw).toThrow(
        `TRUST_PROXY must be true, false or a number of proxies from 0 to 10, received "${raw}"`,
      );
    }
  });

  it('rate limits read and bounded', () => {
    const config = loadConfig({ RATE_LIMIT_PER_IP: '0', RATE_LIMIT_PER_APP: '500' });

    expect(config.rateLimitPerIp).toBe(0);
    expect(config.rateLimitPerApp).toBe(500);
    expect(() => loadConfig({ RATE_LIMIT_PER_IP: 'many' })).toThrow(
      'RATE_LIMIT_PER_IP must be an integer from 0 to 10000000, received "many"',
    );
    expect(() => loadConfig({ RATE_LIMIT_PER_APP: '-5' })).toThrow(
      'RATE_LIMIT_PER_APP must be an integer from 0 to 100000000, received "-5"',
    );
  });

  it('APP_ORIGINS parsed per app', () => {
    const config = loadConfig({
      APP_ORIGINS:
        ' shop-web=https://shop.example|https://www.shop.example ; admin=http://127.0.0.1:3000;',
    });

    expect([...config.appOrigins]).toEqual([
      ['shop-web', ['https://shop.example', 'https://www.shop.example']],
      ['admin', ['http://127.0.0.1:3000']],
    ]);
  });

  it('invalid APP_ORIGINS names entry', () => {
    expect(() => loadConfig({ APP_ORIGINS: 'shop-web' })).toThrow(
      'APP_ORIGINS entries must be appId=origin|origin, such as shop-web=https://shop.example, received "shop-web"',
    );
    expect(() => loadConfig({ APP_ORIGINS: 'bad app=https://a.example' })).toThrow(
      'received "bad app=https://a.example"',
    );
    expect(() => loadConfig({ APP_ORIGINS: 'shop-web=https://shop.example/path' })).toThrow(
      'APP_ORIGINS origins must look like https://shop.example:8443, received "https://shop.example/path" for app shop-web',
    );
    expect(() => loadConfig({ APP_ORIGINS: 'a=https://a.example;a=https://b.example' })).toThrow(
      'APP_ORIGINS lists app a twice, so merge its origins into one entry',
    );
  });
});
