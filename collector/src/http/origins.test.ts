import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errorBodySchema } from '../../../shared/src/index.js';
import {
  activity,
  batchOf,
  createTestCollector,
  postBatch,
  T0,
  type TestCollector,
} from '../test-harness.js';

const SHOP = 'https://shop.example';
const LOCKED = 'https://locked.example';
const LOCKED_WWW = 'https://www.locked.example';

describe('per-app origins', () => {
  let collector: TestCollector;

  beforeEach(async () => {
    // ALLOWED_ORIGINS is https://shop.example in test configs.
    collector = await createTestCollector({
      env: { APP_ORIGINS: `locked-app=${LOCKED}|${LOCKED_WWW}` },
    });
    collector.clock.set(T0 + 60_000);
  });

  afterEach(async () => {
    await collector.cleanup();
  });

  function send(appId: string, origin: string | undefined, sessionId = `session-${appId}`) {
    const batch = batchOf([activity(`event-${appId}-${origin?.length ?? 0}`, T0)], {
      appId,
      sessionId,
    });
    return postBatch(collector.app, batch, {
      'content-type': 'text/plain',
      ...(origin === undefined ? {} : { origin }),
    });
  }

  it('listed origins send for their app', async () => {
    const first = await send('locked-app', LOCKED, 'session-locked-1');
    const second = await send('locked-app', LOCKED_WWW, 'session-locked-2');

    expect(first.status).toBe(200);
    expect(first.headers.get('access-control-allow-origin')).toBe(LOCKED);
    expect(second.status).toBe(200);
  });

  it('error replies carry CORS headers', async () => {
    const response = await postBatch(collector.app, '{"v":1,', { 'content-type': 'text/plain', origin: SHOP });

    expect(response.status).toBe(400);
    expect(response.headers.get('access-control-allow-origin')).toBe(SHOP);
    expect(response.headers.get('access-control-expose-headers')).toBe('X-Request-Id');
    expect(response.headers.get('vary')).toBe('Origin');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('global origin rejected for listed app', async () => {
    const response = await send('locked-app', SHOP);

    expect(response.status).toBe(403);
    const body = errorBodySchema.parse(await response.json());
    expect(body.code).toBe('origin_not_allowed');
    expect(body.message).toBe(
      `Origin ${SHOP} is not allowed for app locked-app; add it to the APP_ORIGINS entry of app locked-app`,
    );
    expect(await collector.storage.getSession('session-locked-app')).toBeUndefined();
  });

  it('app origin rejected for other apps', async () => {
    const response = await send('shop-web', LOCKED);

    expect(response.status).toBe(403);
    const body = errorBodySchema.parse(await response.json());
    expect(body.message).toBe(
      `Origin ${LOCKED} is not allowed for app shop-web; add it to ALLOWED_ORIGINS, or list it for the app in APP_ORIGINS`,
    );
  });

  it('unlisted app uses global origins', async () => {
    const response = await send('shop-web', SHOP);

    expect(response.status).toBe(200);
  });

  it('requests without origin pass', async () => {
    const response = await send('locked-app', undefined);

    expect(response.status).toBe(200);
  });

  it('own origin passes for any app', async () => {
    const response = await send('locked-app', 'http://localhost');

    expect(response.status).toBe(200);
  });

  it('preflight allows app origins', async () => {
    const response = await collector.app.request('/v1/events', {
      method: 'OPTIONS',
      headers: {
        origin: LOCKED_WWW,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });

    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(LOCKED_WWW);
  });

  it('stream checks session app origin', async () => {
    await send('locked-app', LOCKED, 'session-locked-1');
    const path = '/v1/sessions/session-locked-1/stream';

    const rejected = await collector.app.request(path, { headers: { origin: SHOP } });
    const accepted = await collector.app.request(path, { headers: { origin: LOCKED } });

    expect(rejected.status).toBe(403);
    expect(errorBodySchema.parse(await rejected.json()).code).toBe('origin_not_allowed');
    expect(accepted.status).toBe(200);
    expect(accepted.headers.get('access-control-allow-origin')).toBe(LOCKED);
    await accepted.body?.cancel();
  });

  it('stream of unlisted app uses global origins', async () => {
    await send('shop-web', SHOP);
    const path = '/v1/sessions/session-shop-web/stream';

    const rejected = await collector.app.request(path, {
      headers: { origin: 'https://evil.example' },
    });
    const accepted = await collector.app.request(path, { headers: { origin: SHOP } });

    expect(rejected.status).toBe(403);
    expect(accepted.status).toBe(200);
    await accepted.body?.cancel();
  });
});
