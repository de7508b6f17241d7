import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { attributeOf, readScriptOptions, startFromScript } from './script-config.js';
import { startTestCollector, waitUntil } from './test-collector.js';

function scriptTag(attributes: Record<string, string>): HTMLScriptElement {
  const script = document.createElement('script');
  for (const [name, value] of Object.entries(attributes)) script.setAttribute(name, value);

  return script;
}

describe('script tag', () => {
  beforeEach(() => {
    localStorage.clear();
    sessionStorage.clear();
  });

  afterEach(() => {
    window.processSessions?.stop();
    delete window.processSessions;
    vi.restoreAllMocks();
  });

  it('reads data attributes', () => {
    const script = scriptTag({
      src: 'https://collect.example.com/sdk.js',
      'data-endpoint': 'https://events.example.com',
      'data-app': 'shop',
      'data-idle-timeout-ms': '600000',
      'data-warning-ms': '30000',
      'data-heartbeat-ms': '15000',
      'data-flush-interval-ms': '2000',
      'data-max-batch-size': '50',
      'data-consent': 'required',
      'data-respect-do-not-track': '',
      'data-respect-global-privacy-control': 'false',
      'data-debug': '',
    });

    expect(readScriptOptions(script)).toEqual({
      endpoint: 'https://events.example.com',
      appId: 'shop',
      idleTimeoutMs: 600_000,
      warningMs: 30_000,
      heartbeatMs: 15_000,
      flushIntervalMs: 2000,
      maxBatchSize: 50,
      consent: 'required',
      respectDoNotTrack: true,
      respectGlobalPrivacyControl: false,
      debug: true,
    });
  });

  it('names attributes in kebab case', () => {
    expect(attributeOf('appId')).toBe('data-app');
    expect(attributeOf('idleTimeoutMs')).toBe('data-idle-timeout-ms');
    expect(attributeOf('respectGlobalPrivacyControl')).toBe('data-respect-global-privacy-control');
  });

  it('defaults endpoint to script origin', () => {
    const script = scriptTag({ src: 'https://collect.example.com/static/sdk.js', 'data-app': 'shop' });

    expect(readScriptOptions(script)).toEqual({ endpoint: 'https://collect.example.com', appId: 'shop' });
  });

  it('ignores foreign data attributes', () => {
    const script = scriptTag({ src: 'https://collect.example.com/sdk.js', 'data-app': 'shop', 'data-cfasync': 'false' });

    expect(readScriptOptions(script)).toEqual({ endpoint: 'https://collect.example.com', appId: 'shop' });
  });

  it('logs bad attribute once', () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const cases: [Record<string, string>, string][] = [
      [{ 'data-idle-timeout-ms': 'soon' }, 'data-idle-timeout-ms must be an integer between 1000 and 604800000, received "soon"'],
      [{ 'data-warning-ms': '5000000' }, 'data-warning-ms must be an integer between 0 and 3600000, received 5000000'],
      [{ 'data-app': 'my shop' }, 'data-app must be 1 to 64 characters'],
      [
        { 'data-heartbeat-ms': '5', 'data-consent': 'maybe' },
        'data-heartbeat-ms must be an integer between 1000 and 3600000, received 5; data-consent must be "granted" or "required", received "maybe"',
      ],
    ];

    for (const [attributes, message] of cases) {
      errors.mockClear();
      const script = scriptTag({ src: 'https://collect.example.com/sdk.js', 'data-app': 'shop', ...attributes });

      expect(startFromScript(script)).toBeUndefined();
      expect(errors).toHaveBeenCalledTimes(1);
      expect(String(errors.mock.calls[0]?.[0])).toContain(message);
      expect(window.processSessions).toBeUndefined();
    }
  });

  it('entry starts from current script', async () => {
    const collector = await startTestCollector();
    const script = scriptTag({ src: `${collector.endpoint}/sdk.js`, 'data-app': 'shop', 'data-flush-interval-ms': '100' });
    vi.spyOn(document, 'currentScript', 'get').mockReturnValue(script);

    try {
      await import('./script-tag.js');
      const sessionId = window.processSessions?.getState().sessionId;
      await waitUntil(() => collector.batches().length > 0);

      expect(window.processSessions?.getState().state).toBe('active');
      expect(collector.batches()[0]?.sessionId).toBe(sessionId);
    } finally {
      window.processSessions?.stop();
      await collector.close();
    }
  });
});
