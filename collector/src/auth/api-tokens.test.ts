import { describe, expect, it } from 'vitest';
import { collectTokens, parseApiTokens } from './api-tokens.js';
import { TokenRegistry } from './token-registry.js';

const ADMIN = 'admin-token-0123456789';
const ANALYST = 'analyst-token-0123456789';

describe('API tokens', () => {
  it('API_TOKENS entries parsed', () => {
    const tokens = parseApiTokens(' ops:admin:ops-token-0123456789 , bi:analyst:a:b:c-0123456789ab');

    expect(tokens).toEqual([
      { name: 'ops', role: 'admin', token: 'ops-token-0123456789' },
      { name: 'bi', role: 'analyst', token: 'a:b:c-0123456789ab' },
    ]);
    expect(parseApiTokens('')).toEqual([]);
    expect(parseApiTokens(undefined)).toEqual([]);
  });

  it('bad API_TOKENS entry named', () => {
    const cases: Array<[string, RegExp]> = [
      ['ops', /^API_TOKENS entry 1 must be name:role:token, with role admin or analyst$/],
      ['ops:', /^API_TOKENS entry 1 must be name:role:token/],
      ['ops::ops-token-0123456789', /^API_TOKENS entry 1 \(ops\) must have role admin or analyst, received ""$/],
      ['ops:root:ops-token-0123456789', /^API_TOKENS entry 1 \(ops\) must have role/],
      ['ok:admin:ok-token-0123456789,bad name:admin:x', /^API_TOKENS entry 2 must start with a name/],
      ['ops:admin:short', /^API_TOKENS entry 1 \(ops\) token must be at least 16 characters/],
    ];

    for (const [raw, message] of cases) {
      expect(() => parseApiTokens(raw), raw).toThrow(message);
    }
    expect(() => parseApiTokens('ops:admin:secret-but-short')).not.toThrow(/secret/);
    expect(() => parseApiTokens('S3cretValue-0123456789')).toThrow(/^API_TOKENS entry 1 must be name:role:token/);
    expect(() => parseApiTokens('ops:S3cretValue-0123456789:x')).toThrow(
      /^API_TOKENS entry 1 \(ops\) must have role admin or analyst$/,
    );
  });

  it('repeated name or value rejected', () => {
    const copy = { name: 'admin', role: 'analyst' as const, token: 'another-token-0123456789' };
    const reused = { name: 'bi', role: 'analyst' as const, token: ADMIN };

    expect(() => collectTokens({ adminToken: ADMIN, apiTokens: [copy] })).toThrow(/"admin" is used twice/);
    expect(() => collectTokens({ adminToken: ADMIN, apiTokens: [reused] })).toThrow(/"bi" has the same value/);
  });

  it('registry finds caller by token', () => {
    const registry = new TokenRegistry(
      collectTokens({
        adminToken: ADMIN,
        analystToken: ANALYST,
        apiTokens: [{ name: 'bi', role: 'analyst', token: 'bi-token-0123456789' }],
      }),
    );

    expect(registry.size).toBe(3);
    expect(registry.find(ADMIN)).toEqual({ name: 'admin', role: 'admin' });
    expect(registry.find(ANALYST)).toEqual({ name: 'analyst', role: 'analyst' });
    expect(registry.find('bi-token-0123456789')).toEqual({ name: 'bi', role: 'analyst' });
    expect(registry.find(`${ADMIN}x`)).toBeUndefined();
    expect(registry.find('')).toBeUndefined();
  });
});
