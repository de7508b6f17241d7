/**
 * Values both sides need at run time. This file imports nothing, so the SDK
 * can use it without bundling zod.
 */

/** Version of the wire protocol carried in every batch as `v`. */
export const PROTOCOL_VERSION = 1;

/** Every event type the collector accepts. */
export const EVENT_TYPES = [
  'session_start',
  'activity',
  'idle',
  'active',
  'heartbeat',
  'tab_opened',
  'tab_closed',
  'page_view',
  'custom',
  'session_end',
] as const;

/** Kinds of user input that count as activity. */
export const ACTIVITY_KINDS = ['pointer', 'key', 'scroll', 'touch', 'visibility', 'focus'] as const;

/**
 * Why a session ended.
 * - `logout`: the app called `end()`.
 * - `idle`: no activity in any tab for the idle timeout.
 * - `absolute`: the session reached its maximum lifetime.
 * - `terminated`: an admin ended it.
 * - `evicted`: a newer session of the same user replaced it at the per-user limit.
 * - `disabled`: tracking was switched off.
 * - `closed`: every tab closed and no heartbeat arrived afterwards.
 */
export const END_REASONS = [
  'logout',
  'idle',
  'absolute',
  'terminated',
  'evicted',
  'disabled',
  'closed',
] as const;

/**
 * End reasons a client may report in a `session_end` event. The others are
 * decisions of the collector and are rejected from clients.
 */
export const CLIENT_END_REASONS = ['logout', 'closed'] as const;

/** Maximum events in one batch. */
export const MAX_EVENTS_PER_BATCH = 500;

/** Maximum request body the collector reads, in bytes. */
export const MAX_BODY_BYTES = 256 * 1024;

/** Browsers reject a `sendBeacon` or keepalive body over 64 KiB. */
export const MAX_BEACON_BYTES = 64 * 1024;

/** Stable error codes of the collector's JSON error bodies. */
export const ERROR_CODES = [
  'invalid_json',
  'invalid_batch',
  'unsupported_media_type',
  'payload_too_large',
  'unsupported_version',
  'session_ended',
  'session_limit',
  'tracking_disabled',
  'origin_not_allowed',
  'unauthorized',
  'forbidden',
  'not_found',
  'invalid_query',
  'invalid_request',
  'rate_limited',
  'internal_error',
  'request_timeout',
  'headers_too_large',
  'bad_request',
  'method_not_allowed',
  'storage_unavailable',
] as const;
