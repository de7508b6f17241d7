import { z } from 'zod';
import {
  ACTIVITY_KINDS,
  CLIENT_END_REASONS,
  END_REASONS,
  ERROR_CODES,
  MAX_EVENTS_PER_BATCH,
  PROTOCOL_VERSION,
} from './constants.js';

/** Control characters (C0, DEL, C1) are never valid in ids or names. */
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

/** Control characters other than tab, line feed and carriage return, which free text may contain. */
const FREE_TEXT_CONTROL_CHARACTERS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/** Session, tab, client and event ids: 8 to 64 URL-safe characters, such as a UUID. */
export const idSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{8,64}$/, 'must be 8 to 64 characters of A-Z, a-z, 0-9, "_" or "-"');

/** The app id an integration chooses, such as `shop-web`. */
export const appIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1 to 64 characters of A-Z, a-z, 0-9, ".", "_" or "-"');

/** Printable text of 1 to `max` characters, free of control characters, such as a name. */
export function textSchema(max: number) {
  return z
    .string()
    .min(1)
    .max(max)
    .refine((value) => !CONTROL_CHARACTERS.test(value), 'must not contain control characters')
    .refine((value) => value.isWellFormed(), 'must not contain lone surrogates');
}

/** Free text of 0 to `max` characters: tabs and line breaks allowed, other control characters not. */
export function freeTextSchema(max: number) {
  return z
    .string()
    .max(max)
    .refine((value) => !FREE_TEXT_CONTROL_CHARACTERS.test(value), 'must not contain control characters')
    .refine((value) => value.isWellFormed(), 'must not contain lone surrogates');
}

/** Builds the schema of an absolute http or https URL of at most `max` characters. */
function webUrlSchema(max: number) {
  return textSchema(max).refine(isWebUrl, 'must be an absolute http or https URL');
}

function isWebUrl(value: string): boolean {
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

/**
 * A client timestamp: epoch milliseconds, or an ISO 8601 string with an offset.
 * Both are converted to epoch milliseconds (UTC).
 */
export const timestampSchema = z
  .union([z.number().int().min(0).max(8.64e15), z.iso.datetime({ offset: true })], {
    error: 'must be epoch milliseconds (a whole number) or an ISO 8601 date-time with an offset',
  })
  .transform((value) => (typeof value === 'number' ? value : Date.parse(value)));

/** Small flat property bags: at most 32 keys of strings, numbers, booleans or null. */
export const propsSchema = z
  .record(textSchema(64), z.union([freeTextSchema(1024), z.number(), z.boolean(), z.null()]))
  .refine((props) => Object.keys(props).length <= 32, 'must have at most 32 keys');

const eventBase = {
  id: idSchema,
  ts: timestampSchema,
};

const tabCount = z.number().int().min(0).max(1000);

/** The events of a batch, discriminated by `type`. */
export const eventSchema = z.discriminatedUnion('type', [
  z.object({
    ...eventBase,
    type: z.literal('session_start'),
    data: z.object({ tabs: tabCount.optional() }).optional(),
  }),
  z.object({
    ...eventBase,
    type: z.literal('activity'),
    data: z.object({
      kind: z.enum(ACTIVITY_KINDS),
      /** Raw input events coalesced into this one. */
      count: z.number().int().min(1).max(100_000),
    }),
  }),
  z.object({
    ...eventBase,
    type: z.literal('idle'),
    data: z.object({ idleTimeoutMs: z.number().int().min(0) }).optional(),
  }),
  z.object({
    ...eventBase,
    type: z.literal('active'),
    data: z.object({ idleMs: z.number().int().min(0) }).optional(),
  }),
  z.object({
    ...eventBase,
    type: z.literal('heartbeat'),
    data: z.object({ tabs: tabCount, lastActivityAt: timestampSchema.optional() }),
  }),
  z.object({ ...eventBase, type: z.literal('tab_opened'), data: z.object({ tabs: tabCount }) }),
  z.object({ ...eventBase, type: z.literal('tab_closed'), data: z.object({ tabs: tabCount }) }),
  z.object({
    ...eventBase,
    type: z.literal('page_view'),
    data: z.object({
      url: webUrlSchema(2048),
      title: freeTextSchema(512).optional(),
      referrer: z.union([z.literal(''), webUrlSchema(2048)]).optional(),
    }),
  }),
  z.object({
    ...eventBase,
    type: z.literal('custom'),
    data: z.object({ name: textSchema(128), props: propsSchema.optional() }),
  }),
  z.object({
    ...eventBase,
    type: z.literal('session_end'),
    data: z.object({ reason: z.enum(CLIENT_END_REASONS) }),
  }),
]);

/** The body of `POST /v1/events`: events of one session and tab. */
export const batchSchema = z.object({
  v: z.literal(PROTOCOL_VERSION),
  appId: appIdSchema,
  sessionId: idSchema,
  tabId: idSchema,
  clientId: idSchema,
  userId: textSchema(256).optional(),
  userGroup: textSchema(128).optional(),
  sentAt: timestampSchema.optional(),
  events: z.array(eventSchema).min(1).max(MAX_EVENTS_PER_BATCH),
});

/**
 * A batch with its events left unchecked, so the collector can validate each
 * event on its own, store the valid ones and report the invalid ones by index.
 */
export const batchEnvelopeSchema = batchSchema.extend({
  events: z.array(z.unknown()).min(1).max(MAX_EVENTS_PER_BATCH),
});

/** The policy values an SDK must apply to its session. */
export const sessionPolicySchema = z.object({
  enabled: z.boolean(),
  idleTimeoutMs: z.number().int(),
  warningMs: z.number().int(),
  absoluteTimeoutMs: z.number().int(),
  heartbeatMs: z.number().int(),
  maxTabs: z.number().int().nullable(),
});

/** A session as the collector sees it, sent in replies and on the stream. */
export const sessionStateSchema = z.object({
  id: idSchema,
  state: z.enum(['active', 'ended']),
  startedAt: z.number(),
  endedAt: z.number().nullable(),
  endReason: z.enum(END_REASONS).nullable(),
  policy: sessionPolicySchema,
});

/** An event the collector did not store, by its index in the batch. */
export const rejectedEventSchema = z.object({
  index: z.number().int(),
  id: z.string().optional(),
  code: z.string(),
  message: z.string(),
});

/** The collector's 2xx reply to a batch. */
export const batchReplySchema = z.object({
  accepted: z.number().int(),
  duplicates: z.number().int(),
  rejected: z.array(rejectedEventSchema),
  session: sessionStateSchema,
});

/** Every 4xx and 5xx JSON body of the collector. */
export const errorBodySchema = z.object({
  code: z.enum(ERROR_CODES),
  message: z.string(),
  issues: z
    .array(z.object({ path: z.array(z.union([z.string(), z.number()])), message: z.string() }))
    .optional(),
  session: sessionStateSchema.optional(),
});

export type Batch = z.infer<typeof batchSchema>;
export type BatchInput = z.input<typeof batchSchema>;
export type BatchEnvelope = z.infer<typeof batchEnvelopeSchema>;
export type SessionEvent = z.infer<typeof eventSchema>;
export type SessionEventInput = z.input<typeof eventSchema>;
export type EventType = SessionEvent['type'];
export type SessionPolicy = z.infer<typeof sessionPolicySchema>;
export type SessionState = z.infer<typeof sessionStateSchema>;
export type RejectedEvent = z.infer<typeof rejectedEventSchema>;
export type BatchReply = z.infer<typeof batchReplySchema>;
export type ErrorBody = z.infer<typeof errorBodySchema>;
