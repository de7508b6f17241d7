import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';

describe('loadConfig', () => {
  it('config applies documented defaults', () => {
    const config = loadConfig({});

    expect(config.port).toBe(8787);
    expect(config.host).toBe('127.0.0.1');
    expect(config.databasePath).toBe('./data/process-sessions.duckdb');
    expect(config.adminToken).toBeUndefined();
    expect(config.allowedOrigins).toEqual(['http://127.0.0.1:8787', 'http://localhost:8787']);
    expect(config.idleTimeoutMs).toBe(30 * 60_000);
    expect(config.absoluteTimeoutMs).toBe(12 * 3_600_000);
    expect(config.warningMs).toBe(60_000);
    expect(config.heartbeatMs).toBe(30_000);
    expect(config.sweepIntervalMs).toBe(10_000);
    expect(config.logLevel).toBe('info');
    expect(config.analystToken).toBeUndefined();
    expect(config.apiTokens).toEqual([]);
    expect(config.enabled).toBe(true);
    expect(config.maxSessionsPerUser).toBeNull();
    expect(config.sessionLimitBehavior).toBe('reject');
    expect(config.maxTabs).toBeNull();
    expect(config.maxIngestErrors).toBe(10_000);
    expect(config.duckdbReopenEvents).toBe(1_000_000);
  });

  it('config reads policy variables', () => {
    const config = loadConfig({
      ANALYST_TOKEN: 'analyst-token-0123456789',
      API_TOKENS: 'ops:admin:ops-token-0123456789',
      TRACKING_ENABLED: 'false',
      MAX_SESSIONS_PER_USER: '3',
      SESSION_LIMIT_BEHAVIOR: 'terminate_oldest',
      MAX_TABS: '5',
    });

    expect(config.analystToken).toBe('analyst-token-0123456789');
    expect(config.apiTokens).toEqual([{ name: 'ops', role: 'admin', token: 'ops-token-0123456789' }]);
    expect(config.enabled).toBe(false);
    expect(config.maxSessionsPerUser).toBe(3);
    expect(config.sessionLimitBehavior).toBe('terminate_oldest');
    expect(config.maxTabs).toBe(5);
  });

  it('config reads every variable', () => {
    const config = loadConfig({
      PORT: '0',
      HOST: '0.0.0.0',
      DATABASE_PATH: '/tmp/x.duckdb',
      ADMIN_TOKEN: 'abcdefghijklmnop',
      ALLOWED_ORIGINS: 'https://shop.example, http://localhost:3000',
      IDLE_TIMEOUT_MS: '5000',
      ABSOLUTE_TIMEOUT_MS: '60000',
      WARNING_MS: '1000',
      HEARTBEAT_MS: '2000',
      SWEEP_INTERVAL_MS: '100',
      REQUEST_TIMEOUT_MS: '5000',
      LOG_LEVEL: 'DEBUG',
      DUCKDB_REOPEN_EVENTS: '0',
    });

    expect(config.port).toBe(0);
    expect(config.host).toBe('0.0.0.0');
    expect(config.adminToken).toBe('abcdefghijklmnop');
    expect(config.allowedOrigins).toEqual(['https://shop.example', 'http://localhost:3000']);
    expect(config.idleTimeoutMs).toBe(5000);
    expect(config.absoluteTimeoutMs).toBe(60_000);
    expect(config.warningMs).toBe(1000);
    expect(config.requestTimeoutMs).toBe(5000);
    expect(config.logLevel).toBe('debug');
    expect(config.duckdbReopenEvents).toBe(0);
  });

  it('config accepts IPv6 and host name HOST', () => {
    for (const host of ['::', '::1', '::ffff:127.0.0.1', 'localhost', 'collector-1.internal', 'my_collector', 'example.com.']) {
      expect(loadConfig({ HOST: host }).host, host).toBe(host);
    }
  });

  it('config accepts wildcard origin', () => {
    expect(loadConfig({ ALLOWED_ORIGINS: '*' }).allowedOrigins).toBe('*');
  });

  it('config errors name the variable', () => {
    const cases: Array<[NodeJS.ProcessEnv, RegExp]> = [
      [{ PORT: '70000' }, /^PORT must be an integer from 0 to 65535, received "70000"/],
      [{ PORT: 'http' }, /^PORT must be/],
      [{ IDLE_TIMEOUT_MS: '50' }, /^IDLE_TIMEOUT_MS must be an integer from 1000 to 604800000/],
      [{ IDLE_TIMEOUT_MS: '1.5e4' }, /^IDLE_TIMEOUT_MS must be/],
      [{ ABSOLUTE_TIMEOUT_MS: '-1' }, /^ABSOLUTE_TIMEOUT_MS must be/],
      [{ HEARTBEAT_MS: '999' }, /^HEARTBEAT_MS must be an integer from 1000/],
      [{ SWEEP_INTERVAL_MS: '10' }, /^SWEEP_INTERVAL_MS must be an integer from 100/],
      [{ REQUEST_TIMEOUT_MS: '999' }, /^REQUEST_TIMEOUT_MS must be an integer from 1000 to 600000/],
      [{ ADMIN_TOKEN: 'short' }, /^ADMIN_TOKEN must be at least 16 characters/],
      [{ ADMIN_TOKEN: 'sixteen chars ok' }, /received 16 characters that include whitespace$/],
      [{ DATABASE_PATH: ':memory:' }, /^DATABASE_PATH must be the path of a database file, .*received ":memory:"/],
      [{ DATABASE_PATH: ':memory:?x=1' }, /^DATABASE_PATH must be the path of a database file/],
      [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL must be one of trace, debug/],
      [{ HOST: '[::1]' }, /^HOST must be an IP address or a host name, without brackets or port, .*received "\[::1\]"/],
      [{ HOST: 'localhost:8787' }, /^HOST must be an IP address or a host name, without brackets or port/],
      [{ HOST: '0.0.0.0:80' }, /^HOST must be an IP address or a host name, without brackets or port/],
      [{ HOST: 'http://example.com' }, /^HOST must be an IP address or a host name, without brackets or port/],
      [{ ANALYST_TOKEN: 'short' }, /^ANALYST_TOKEN must be at least 16 characters/],
      [{ API_TOKENS: 'ops:owner:ops-token-0123456789' }, /^API_TOKENS entry 1 \(ops\) must have role/],
      [{ TRACKING_ENABLED: 'off' }, /^TRACKING_ENABLED must be true, false, 1 or 0, received "off"/],
      [{ MAX_SESSIONS_PER_USER: '0' }, /^MAX_SESSIONS_PER_USER must be an integer from 1 to 1000/],
      [{ MAX_TABS: 'many' }, /^MAX_TABS must be an integer from 1 to 1000/],
      [{ MAX_INGEST_ERRORS: '99' }, /^MAX_INGEST_ERRORS must be an integer from 100 to 1000000, received "99"/],
      [{ DUCKDB_REOPEN_EVENTS: '-5' }, /^DUCKDB_REOPEN_EVENTS must be an integer from 0 to 1000000000/],
      [{ STREAMS_PER_ADDRESS: 'many' }, /^STREAMS_PER_ADDRESS must be an integer from 0 to 1000000/],
      [{ SESSION_LIMIT_BEHAVIOR: 'deny' }, /^SESSION_LIMIT_BEHAVIOR must be one of reject, terminate_oldest/],
      [
        { ADMIN_TOKEN: 'same-token-0123456789', ANALYST_TOKEN: 'same-token-0123456789' },
        /^API token "analyst" has the same value as another token/,
      ],
      [{ ALLOWED_ORIGINS: 'https://a.example/path' }, /^ALLOWED_ORIGINS must be "\*" or/],
      [{ ALLOWED_ORIGINS: 'ftp://a.example' }, /received "ftp:\/\/a.example"/],
      [{ WARNING_MS: '60000', IDLE_TIMEOUT_MS: '60000' }, /^WARNING_MS must be less than IDLE_TIMEOUT_MS/],
      [
        { IDLE_TIMEOUT_MS: '7200000', ABSOLUTE_TIMEOUT_MS: '3600000' },
        /^ABSOLUTE_TIMEOUT_MS must be at least IDLE_TIMEOUT_MS/,
      ],
    ];

    for (const [env, message] of cases) {
      expect(() => loadConfig(env), JSON.stringify(env)).toThrow(message);
    }
  });

  it('config error hides admin token', () => {
    expect(() => loadConfig({ ADMIN_TOKEN: 'secret value' })).toThrow(/received 12 characters/);
    expect(() => loadConfig({ ADMIN_TOKEN: 'secret value' })).not.toThrow(/secret/);
  });
});
