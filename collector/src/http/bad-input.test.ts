import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  errorBodySchema,
  MAX_BODY_BYTES,
  MAX_EVENTS_PER_BATCH,
} from '../../../shared/src/index.js';
import { activity, batchOf, createTestCollector, T0, type TestCollector } from '../test-harness.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** Server time of every request in this file. */
const NOW = T0 + MINUTE;
/** Session id of every batch that must not be stored. */
const BAD_SESSION = 'session-bad-0001';

/** One rejected request: what is sent and the reply and integration-log row it must get. */
interface BadInputCase {
  name: string;
  /** A string or bytes are sent as they are, anything else as JSON. */
  body: unknown;
  /** @default { 'content-type': 'application/json' } */
  headers?: Record<string, string>;
  status: number;
  code: string;
  /** Text the message must contain: the field at fault, or the rule broken. */
  inMessage: string;
  /** Path of the first validation issue, for `invalid_batch`. */
  path?: Array<string | number>;
}

/** Builds a valid batch of `BAD_SESSION` with `overrides` applied; `undefined` removes a field. */
function batch(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const base: Record<string, unknown> = {
    ...batchOf([activity('event-bad-0001', T0)]),
    sessionId: BAD_SESSION,
  };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete base[key];
    else base[key] = value;
  }
  return base;
}

/** Builds a batch of `BAD_SESSION` with one event. */
function withEvent(event: unknown): Record<string, unknown> {
  return batch({ events: [event] });
}

function nested(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

const utf8 = (text: string) => new TextEncoder().encode(text);
const validText = JSON.stringify(batch());

const CASES: BadInputCase[] = [
  // Content types: a beacon sends text/plain, fetch sends application/json.
  {
    name: 'missing content type',
    body: utf8(validText),
    headers: {},
    status: 415,
    code: 'unsupported_media_type',
    inMessage: 'received none',
  },
  {
    name: 'XML content type',
    body: validText,
    headers: { 'content-type': 'application/xml' },
    status: 415,
    code: 'unsupported_media_type',
    inMessage: 'Content-Type must be',
  },
  {
    name: 'form content type',
    body: validText,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    status: 415,
    code: 'unsupported_media_type',
    inMessage: 'application/x-www-form-urlencoded',
  },
  {
    name: 'multipart content type',
    body: validText,
    headers: { 'content-type': 'multipart/form-data; boundary=x' },
    status: 415,
    code: 'unsupported_media_type',
    inMessage: 'multipart/form-data',
  },
  {
    name: 'JSON with latin1 charset',
    body: validText,
    headers: { 'content-type': 'application/json; charset=latin1' },
    status: 415,
    code: 'unsupported_media_type',
    inMessage: 'charset=latin1',
  },
  {
    name: 'text with UTF-16 charset',
    body: validText,
    headers: { 'content-type': 'text/plain;charset=UTF-16' },
    status: 415,
    code: 'unsupported_media_type',
    inMessage: 'charset=UTF-16',
  },
  {
    name: 'gzip content encoding',
    body: gzipSync(validText),
    headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
    status: 415,
    code: 'unsupported_media_type',
    inMessage: 'Content-Encoding must be identity (an uncompressed body), received gzip',
  },
  // Bodies that are not JSON, or not a batch.
  {
    name: 'truncated JSON',
    body: validText.slice(0, 40),
    status: 400,
    code: 'invalid_json',
    inMessage: 'not valid JSON',
  },
  { name: 'empty body', body: '', status: 400, code: 'invalid_json', inMessage: 'not valid JSON' },
  {
    name: 'trailing garbage after JSON',
    body: `${validText} x`,
    status: 400,
    code: 'invalid_json',
    inMessage: 'not valid JSON',
  },
  {
    name: 'invalid UTF-8 bytes',
    body: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]),
    status: 400,
    code: 'invalid_json',
    inMessage: 'not valid UTF-8',
  },
  {
    name: 'lone surrogate as bytes',
    // ED A0 80 encodes U+D800, which UTF-8 forbids.
    body: new Uint8Array([...utf8('{"userId":"'), 0xed, 0xa0, 0x80, ...utf8('"}')]),
    status: 400,
    code: 'invalid_json',
    inMessage: 'not valid UTF-8',
  },
  {
    name: 'deeply nested arrays',
    body: nested(100_000),
    status: 400,
    code: 'invalid_json',
    inMessage: 'deeper than 20 levels',
  },
  {
    name: 'deeply nested event data',
    body: JSON.stringify(
      withEvent({ id: 'event-bad-0001', type: 'custom', ts: T0, data: {} }),
    ).replace('"data":{}', `"data":{"name":"x","props":${'{"a":'.repeat(40)}1${'}'.repeat(40)}}`),
    status: 400,
    code: 'invalid_json',
    inMessage: 'deeper than 20 levels',
  },
  {
    name: 'body over the limit',
    body: JSON.stringify(batch({ padding: 'x'.repeat(MAX_BODY_BYTES) })),
    status: 413,
    code: 'payload_too_large',
    inMessage: `at most ${MAX_BODY_BYTES} bytes`,
  },
  {
    name: 'JSON null body',
    body: 'null',
    status: 400,
    code: 'invalid_batch',
    inMessage: '(root)',
    path: [],
  },
  {
    name: 'JSON array body',
    body: '[]',
    status: 400,
    code: 'invalid_batch',
    inMessage: '(root)',
    path: [],
  },
  {
    name: 'JSON string body',
    body: '"batch"',
    status: 400,
    code: 'invalid_batch',
    inMessage: '(root)',
    path: [],
  },
  // Protocol version.
  {
    name: 'newer protocol version',
    body: batch({ v: 2 }),
    status: 400,
    code: 'unsupported_version',
    inMessage: 'v must be 1, received 2',
  },
  {
    name: 'version as string',
    body: batch({ v: '1' }),
    status: 400,
    code: 'unsupported_version',
    inMessage: 'received "1"',
  },
  {
    name: 'huge version value',
    body: batch({ v: 'v'.repeat(100_000) }),
    status: 400,
    code: 'unsupported_version',
    inMessage: `received "${'v'.repeat(20)}`,
  },
  {
    name: 'huge content type',
    body: validText,
    headers: { 'content-type': `text/${'x'.repeat(4000)}` },
    status: 415,
    code: 'unsupported_media_type',
    inMessage: 'received text/xxx',
  },
  {
    name: 'missing version',
    body: batch({ v: undefined }),
    status: 400,
    code: 'invalid_batch',
    inMessage: 'at v:',
    path: ['v'],
  },
  // The envelope: a problem here rejects the whole batch.
  {
    name: 'empty event list',
    body: batch({ events: [] }),
    status: 400,
    code: 'invalid_batch',
    inMessage: 'at events:',
    path: ['events'],
  },
  {
    name: 'too many events',
    body: batch({
      events: Array.from({ length: MAX_EVENTS_PER_BATCH + 1 }, (_, i) =>
        activity(`event-many-${i}`, T0),
      ),
    }),
    status: 400,
    code: 'invalid_batch',
    inMessage: 'at events:',
    path: ['events'],
  },
  {
    name: 'events not an array',
    body: batch({ events: { 0: activity('event-bad-0001', T0) } }),
    status: 400,
    code: 'invalid_batch',
    inMessage: 'at events:',
    path: ['events'],
  },
  {
    name: 'missing session id',
    body: batch({ sessionId: undefined }),
    status: 400,
    code: 'invalid_batch',
    inMessage: 'at sessionId:',
    path: ['sessionId'],
  },
  {
    name: 'session id too short',
    body: batch({ sessionId: 'abc' }),
    status: 400,
    code: 'invalid_batch',
    inMessage: 'at sessionId: must be 8 to 64 characters',
    path: ['sessionId'],
  },
  {
    name: 'session id with SQL',
    body: batch({ sessionId: "x' OR 1=1; --" }),
    status: 400,
    code: 'invalid_batch',
    inMessage: 'at sessionId:',
    path: ['sessionId'],
  },
  {
    name: 'tab id with unicode',
    body: batch({ tabId: 'tab-ünïcødé-01' }),
    status: 400,
    code: 'invalid_batch',
    inMessage: 'at tabId:',
    path: ['tabId'],
  },
  {
    name: 'client id as number',
    body: batch({ clientId: 12345678 }),
    status: 400,
    code: 'invalid_batch',
    inMessage: 'at clientId:',
    path: ['clientId'],
  },
  {
    name: 'app id with space',
    body: batch({ appId: 'shop web' }),
    status: 400,
    code: 'invalid_batch',
    inMessage: 'at appId:',
    path: ['appId'],
  },
  {
    name: 'app id too long',
    body: batch({ appId: 'a'.repeat(65) }),
    status: 400,
    code: 'invalid_batch',
    inMessage: 'at appId:',
    path: ['appId'],
  },
  {
    name: 'user id with NUL',
    body: batch({ userId: 'user\u0000-42' }),
    status: 400,
    code: 'invalid_batch',
    inMessage: 'at userId: must not contain control characters',
    path: ['userId'],
  },
  {
    name: 'user id lone surrogate',
    body: '{"v":1,"appId":"shop-web","sessionId":"session-bad-0001","tabId":"tab-00000001","clientId":"client-0001","userId":"a\\ud800b","events":[{"id":"event-bad-0001","type":"idle","ts":1700000000000}]}',
    status: 400,
    code: 'invalid_batch',
    inMessage: 'at userId: must not contain lone surrogates',
    path: ['userId'],
  },
  {
    name: 'user id too long',
    body: batch({ userId: 'u'.repeat(257) }),
    status: 400,
    code: 'invalid_batch',
    inMessage: 'at userId:',
    path: ['userId'],
  },
  {
    name: 'user group with bell',
    body: batch({ userGroup: 'staff\u0007' }),
    status: 400,
    code: 'invalid_batch',
    inMessage: 'at userGroup:',
    path: ['userGroup'],
  },
  {
    name: 'negative sentAt',
    body: batch({ sentAt: -1 }),
    status: 400,
    code: 'invalid_batch',
    inMessage: 'at sentAt:',
    path: ['sentAt'],
  },
  {
    name: 'sentAt without offset',
    body: batch({ sentAt: '2023-11-14T22:14:20' }),
    status: 400,
    code: 'invalid_batch',
    inMessage: 'at sentAt:',
    path: ['sentAt'],
  },
  // Events: when every event is invalid, nothing is stored and the batch is rejected.
  {
    name: 'unknown event type',
    body: withEvent({ id: 'event-bad-0001', type: 'purchase', ts: T0 }),
    status: 400,
    code: 'invalid_batch',
    inMessage: 'at events[0].type:',
    path: ['events', 0, 'type'],
  },
  {
    name: 'event without type',
    body: withEvent({ id: 'event-bad-0001', ts: T0 }),
    status: 400,
    code: 'invalid_batch',
    inMessage: 'at events[0].type:',
    path: ['events', 0, 'type'],
  },
  {
    name: 'event id wrong format',
    body: withEvent(activity('evt 1', T0)),
    status: 400,
    code: 'invalid_batch',
    inMessage: 'at events[0].id: must be 8 to 64 characters',
    path: ['events', 0, 'id'],
  },
  {
    name: 'event not an object',
    body: withEvent(42),
    status: 400,
    code: 'invalid_batch',
    inMessage: 'at events[0]: ',
    path: ['events', 0],
  },
  {
    name: 'activity count zero',
    body: withEvent({
      id: 'event-bad-0001',
      type: 'activity',
      ts: T0,
      data: { kind: 'key', count: 0 },
    }),
    status: 400,
    code: 'invalid_batch',
    inMessage: 'at events[0].data.count:',
    path: ['events', 0, 'data', 'count'],
  },
  {
    name: 'unknown activity kind',
    body: withEvent({
      id: 'event-bad-0001',
      type: 'activity',
      ts: T0,
      data: { kind: 'pen', count: 1 },
    }),
    status: 400,
    code: 'invalid_batch',
    inMessage: 'at events[0].data.kind:',
    path: ['events', 0, 'data', 'kind'],
  },
  {
    name: 'negative timestamp',
    body: withEvent(activity('event-bad-0001', -5)),
    status: 400,
    code: 'invalid_batch',
    inMessage: 'at events[0].ts:',
    path: ['events', 0, 'ts'],
  },
  {
    name: 'fractional timestamp',
    body: withEvent(activity('event-bad-0001', T0 + 0.5)),
    status: 400,
    code: 'invalid_batch',
    inMessage: 'at events[0].ts: must be epoch milliseconds (a whole number) or an ISO 8601',
    path: ['events', 0, 'ts'],
  },
  {
    name: 'infinite timestamp',
    body: JSON.stringify(withEvent(activity('event-bad-0001', T0))).replace(
      `"ts":${T0}`,
      '"ts":1e400',
    ),
    status: 400,
    code: 'invalid_batch',
    inMessage: 'at events[0].ts:',
    path: ['events', 0, 'ts'],
  },
  {
    name: 'timestamp without offset',
    body: withEvent({ id: 'event-bad-0001', type: 'idle', ts: '2023-11-14T22:13:20' }),
    status: 400,
    code: 'invalid_batch',
    inMessage: 'at events[0].ts:',
    path: ['events', 0, 'ts'],
  },
  {
    name: 'timestamp as words',
    body: withEvent({ id: 'event-bad-0001', type: 'idle', ts: 'yesterday' }),
    status: 400,
    code: 'invalid_batch',
    inMessage: 'at events[0].ts:',
    path: ['events', 0, 'ts'],
  },
  {
    name: 'custom name with NUL',
    body: withEvent({ id: 'event-bad-0001', type: 'custom', ts: T0, data: { name: 'buy\u0000' } }),
    status: 400,
    code: 'invalid_batch',
    inMessage: 'at events[0].data.name: must not contain control characters',
    path: ['events', 0, 'data', 'name'],
  },
  {
    name: 'page URL lone surrogate',
    body: withEvent({
      id: 'event-bad-0001',
      type: 'page_view',
      ts: T0,
      data: { url: 'https://a.example/\udfff' },
    }),
    status: 400,
    code: 'invalid_batch',
    inMessage: 'at events[0].data.url: must not contain lone surrogates',
    path: ['events', 0, 'data', 'url'],
  },
  {
    name: 'page URL too long',
    body: withEvent({
      id: 'event-bad-0001',
      type: 'page_view',
      ts: T0,
      data: { url: `https://a.example/${'p'.repeat(2048)}` },
    }),
    status: 400,
    code: 'invalid_batch',
    inMessage: 'at events[0].data.url:',
    path: ['events', 0, 'data', 'url'],
  },
  {
    name: 'page title too long',
    body: withEvent({
      id: 'event-bad-0001',
      type: 'page_view',
      ts: T0,
      data: { url: 'https://a.example/', title: 't'.repeat(513) },
    }),
    status: 400,
    code: 'invalid_batch',
    inMessage: 'at events[0].data.title:',
    path: ['events', 0, 'data', 'title'],
  },
  {
    name: 'too many properties',
    body: withEvent({
      id: 'event-bad-0001',
      type: 'custom',
      ts: T0,
      data: {
        name: 'big',
        props: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, i])),
      },
    }),
    status: 400,
    code: 'invalid_batch',
    inMessage: 'at events[0].data.props: must have at most 32 keys',
    path: ['events', 0, 'data', 'props'],
  },
  {
    name: 'huge property value',
    body: withEvent({
      id: 'event-bad-0001',
      type: 'custom',
      ts: T0,
      data: { name: 'big', props: { note: 'n'.repeat(100_000) } },
    }),
    status: 400,
    code: 'invalid_batch',
    inMessage: 'at events[0].data.props.note:',
    path: ['events', 0, 'data', 'props', 'note'],
  },
  {
    name: 'nested property value',
    body: withEvent({
      id: 'event-bad-0001',
      type: 'custom',
      ts: T0,
      data: { name: 'big', props: { cart: { items: 3 } } },
    }),
    status: 400,
    code: 'invalid_batch',
    inMessage: 'at events[0].data.props.cart:',
    path: ['events', 0, 'data', 'props', 'cart'],
  },
  {
    name: 'tab count too high',
    body: withEvent({ id: 'event-bad-0001', type: 'tab_opened', ts: T0, data: { tabs: 1001 } }),
    status: 400,
    code: 'invalid_batch',
    inMessage: 'at events[0].data.tabs:',
    path: ['events', 0, 'data', 'tabs'],
  },
  {
    name: 'unknown end reason',
    body: withEvent({
      id: 'event-bad-0001',
      type: 'session_end',
      ts: T0,
      data: { reason: 'bored' },
    }),
    status: 400,
    code: 'invalid_batch',
    inMessage: 'at events[0].data.reason:',
    path: ['events', 0, 'data', 'reason'],
  },
  // Client clocks: events more than 24 h before the receive time are not stored.
  {
    name: 'timestamp two days old',
    body: withEvent(activity('event-bad-0001', NOW - 48 * HOUR)),
    status: 400,
    code: 'invalid_batch',
    inMessage: 'at events[0].ts: 2023-11-12T22:14:20.000Z is more than 24 h before the server time',
    path: ['events', 0, 'ts'],
  },
  {
    name: 'old timestamp with offset',
    body: withEvent({ id: 'event-bad-0001', type: 'idle', ts: '2023-11-13T20:00:00-02:00' }),
    status: 400,
    code: 'invalid_batch',
    inMessage: 'at events[0].ts: 2023-11-13T22:00:00.000Z is more than 24 h before',
    path: ['events', 0, 'ts'],
  },
  // Sessions the batch may not write to.
  {
    name: 'forged session of another client',
    body: batchOf([activity('event-bad-0001', T0)], {
      sessionId: 'session-owned-01',
      clientId: 'client-forger',
    }),
    status: 403,
    code: 'forbidden',
    inMessage: 'belongs to another clientId',
  },
  {
    name: 'session of another app',
    body: batchOf([activity('event-bad-0001', T0)], {
      sessionId: 'session-owned-01',
      appId: 'other-app',
    }),
    status: 403,
    code: 'forbidden',
    inMessage: 'belongs to another appId',
  },
  {
    name: 'ended session id',
    body: batchOf([activity('event-bad-0001', T0)], { sessionId: 'session-ended-01' }),
    status: 410,
    code: 'session_ended',
    inMessage: 'Session session-ended-01 ended (logout)',
  },
  // Origins.
  {
    name: 'origin not allowed',
    body: validText,
    headers: { 'content-type': 'text/plain', origin: 'https://evil.example' },
    status: 403,
    code: 'origin_not_allowed',
    inMessage: 'Origin https://evil.example is not allowed',
  },
  {
    name: 'origin of another app',
    body: batch({ appId: 'locked-app' }),
    headers: { 'content-type': 'text/plain', origin: 'https://shop.example' },
    status: 403,
    code: 'origin_not_allowed',
    inMessage: 'not allowed for app locked-app',
  },
];

describe('POST /v1/events bad input', () => {
  let collector: TestCollector;

  beforeAll(async () => {
    collector = await createTestCollector({
      env: { APP_ORIGINS: 'locked-app=https://locked.example' },
    });
    collector.clock.set(NOW);
    const owned = batchOf([activity('event-owned-01', T0)], { sessionId: 'session-owned-01' });
    const ended = batchOf(
      [{ id: 'event-ended-01', type: 'session_end', ts: T0, data: { reason: 'logout' } }],
      { sessionId: 'session-ended-01' },
    );
    for (const body of [owned, ended]) expect((await send(body)).status).toBe(200);
  });

  afterAll(async () => {
    await collector.cleanup();
  });

  function send(body: unknown, headers?: Record<string, string>, requestId?: string) {
    const isRaw = typeof body === 'string' || body instanceof Uint8Array;
    return collector.app.request('/v1/events', {
      method: 'POST',
      headers: {
        ...(headers ?? { 'content-type': 'application/json' }),
        ...(requestId ? { 'x-request-id': requestId } : {}),
      },
      body: isRaw ? (body as BodyInit) : JSON.stringify(body),
    });
  }

  async function logRowOf(requestId: string) {
    const rows = await collector.storage.admin.listIngestErrors({ limit: 100 });
    return rows.find((row) => row.requestId === requestId);
  }

  it('table has forty cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
    expect(new Set(CASES.map((row) => row.name)).size).toBe(CASES.length);
  });

  it.each(CASES.map((row, index) => ({ ...row, index })))('$name', async (row) => {
    const requestId = `bad-input-${row.index}`;

    const response = await send(row.body, row.headers, requestId);

    expect(response.status).toBe(row.status);
    const body = errorBodySchema.parse(await response.json());
    expect(body.code).toBe(row.code);
    expect(body.message).toContain(row.inMessage);
    // Messages quote input only in part, so a huge value cannot inflate replies and logs.
    expect(body.message.length).toBeLessThan(400);
    if (row.path) expect(body.issues?.[0]?.path).toEqual(row.path);
    const logged = await logRowOf(requestId);
    expect(logged).toMatchObject({ status: row.status, code: row.code });
    expect(logged?.message).toContain(row.inMessage);
    expect(await collector.storage.getSession(BAD_SESSION)).toBeUndefined();
  });

  it('no event stored by rejections', async () => {
    const owned = await collector.storage.listEvents('session-owned-01');
    const ended = await collector.storage.listEvents('session-ended-01');

    expect(owned.map((event) => event.id)).toEqual(['event-owned-01']);
    expect(ended.map((event) => event.id)).toEqual(['event-ended-01']);
  });
});
