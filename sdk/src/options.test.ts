import { describe, expect, it } from 'vitest';
import { ProcessSessionsError } from './errors.js';
import { isInRange, resolveOptions, type ProcessSessionsOptions } from './options.js';

const base: ProcessSessionsOptions = { endpoint: 'https://collect.example.com/', appId: 'shop' };

function messageOf(change: Record<string, unknown>): string {
  try {
    resolveOptions({ ...base, ...change } as ProcessSessionsOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(ProcessSessionsError);
    expect((error as ProcessSessionsError).code).toBe('invalid_option');

    return (error as Error).message;
  }
  throw new Error('expected resolveOptions to throw');
}

describe('resolveOptions', () => {
  it('applies documented defaults', () => {
    expect(resolveOptions(base)).toEqual({
      endpoint: 'https://collect.example.com',
      appId: 'shop',
      idleTimeoutMs: 1_800_000,
      warningMs: 60_000,
      heartbeatMs: 30_000,
      flushIntervalMs: 3000,
      maxBatchSize: 30,
      consent: 'granted',
      respectDoNotTrack: false,
      respectGlobalPrivacyControl: false,
      debug: false,
    });
  });

  it('treats undefined as default', () => {
    expect(resolveOptions({ ...base, idleTimeoutMs: undefined, debug: undefined })).toMatchObject({
      idleTimeoutMs: 1_800_000,
      debug: false,
    });
  });

  it('shortens default warning for short timeouts', () => {
    expect(resolveOptions({ ...base, idleTimeoutMs: 20_000 }).warningMs).toBe(10_000);
  });

  it('names option and range', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ idleTimeoutMs: 50 }, 'idleTimeoutMs must be an integer between 1000 and 604800000, received 50'],
      [{ idleTimeoutMs: '60000' }, 'idleTimeoutMs must be an integer between 1000 and 604800000, received "60000"'],
      [{ warningMs: -1 }, 'warningMs must be an integer between 0 and 3600000, received -1'],
      [{ idleTimeoutMs: 60_000, warningMs: 60_000 }, 'warningMs must be less than idleTimeoutMs (60000), received 60000'],
      [{ heartbeatMs: 999 }, 'heartbeatMs must be an integer between 1000 and 3600000, received 999'],
      [{ flushIntervalMs: 2.5 }, 'flushIntervalMs must be an integer between 100 and 600000, received 2.5'],
      [{ maxBatchSize: 501 }, 'maxBatchSize must be an integer between 1 and 500, received 501'],
      [{ debug: 'yes' }, 'debug must be true or false, received "yes"'],
      [{ respectDoNotTrack: 1 }, 'respectDoNotTrack must be true or false, received 1'],
      [{ respectGlobalPrivacyControl: 'on' }, 'respectGlobalPrivacyControl must be true or false, received "on"'],
      [{ consent: 'later' }, 'consent must be "granted" or "required", received "later"'],
      [{ idleTimeout: 60_000 }, 'idleTimeout is not an option, received 60000'],
      [{ constructor: 1 }, 'constructor is not an option, received 1'],
      [{ toString: true }, 'toString is not an option, received true'],
      [{ endpoint: 'ftp://example.com' }, 'endpoint must be an http or https URL, received "ftp://example.com"'],
      [{ endpoint: '' }, 'endpoint must be an http or https URL, received ""'],
      [{ appId: 'shop web' }, 'appId must be 1 to 64 characters of A-Z, a-z, 0-9, ".", "_" or "-", received "shop web"'],
      [{ appId: undefined }, 'appId must be 1 to 64 characters of A-Z, a-z, 0-9, ".", "_" or "-", received undefined'],
    ];

    for (const [change, message] of cases) expect(messageOf(change), JSON.stringify(change)).toBe(message);
  });

  it('names unserializable values', () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;

    expect(messageOf({ idleTimeoutMs: 5000n })).toBe(
      'idleTimeoutMs must be an integer between 1000 and 604800000, received 5000n',
    );
    expect(messageOf({ debug: circular })).toBe('debug must be true or false, received [object Object]');
  });

  it('lists every invalid option', () => {
    expect(messageOf({ idleTimeoutMs: 50, appId: '', debug: 'yes' })).toBe(
      [
        'appId must be 1 to 64 characters of A-Z, a-z, 0-9, ".", "_" or "-", received ""',
        'idleTimeoutMs must be an integer between 1000 and 604800000, received 50',
        'debug must be true or false, received "yes"',
      ].join('; '),
    );
  });

  it('resolves relative endpoint', () => {
    expect(resolveOptions({ ...base, endpoint: '/collect/' }).endpoint).toBe(`${location.origin}/collect`);
  });
});

describe('isInRange', () => {
  it('accepts integers within bounds', () => {
    expect(isInRange('idleTimeoutMs', 1000)).toBe(true);
    expect(isInRange('idleTimeoutMs', 604_800_000)).toBe(true);
    expect(isInRange('warningMs', 0)).toBe(true);
  });

  it('rejects values outside bounds', () => {
    expect(isInRange('idleTimeoutMs', 999)).toBe(false);
    expect(isInRange('idleTimeoutMs', 604_800_001)).toBe(false);
    expect(isInRange('warningMs', -1)).toBe(false);
    expect(isInRange('heartbeatMs', 1500.5)).toBe(false);
    expect(isInRange('heartbeatMs', '2000')).toBe(false);
    expect(isInRange('heartbeatMs', undefined)).toBe(false);
  });
});
