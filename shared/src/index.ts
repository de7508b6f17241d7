/** Wire protocol shared by the SDK and the collector. */
export {
  ACTIVITY_KINDS,
  CLIENT_END_REASONS,
  END_REASONS,
  ERROR_CODES,
  EVENT_TYPES,
  MAX_BEACON_BYTES,
  MAX_BODY_BYTES,
  MAX_EVENTS_PER_BATCH,
  PROTOCOL_VERSION,
} from './constants.js';
export {
  appIdSchema,
  batchEnvelopeSchema,
  batchReplySchema,
  batchSchema,
  errorBodySchema,
  eventSchema,
  freeTextSchema,
  idSchema,
  propsSchema,
  rejectedEventSchema,
  sessionPolicySchema,
  sessionStateSchema,
  textSchema,
  timestampSchema,
} from './schemas.js';
export type {
  Batch,
  BatchEnvelope,
  BatchInput,
  BatchReply,
  ErrorBody,
  EventType,
  RejectedEvent,
  SessionEvent,
  SessionEventInput,
  SessionPolicy,
  SessionState,
} from './schemas.js';

/** Why a session ended; see `END_REASONS`. */
export type EndReason = (typeof import('./constants.js').END_REASONS)[number];
/** A kind of user input; see `ACTIVITY_KINDS`. */
export type ActivityKind = (typeof import('./constants.js').ACTIVITY_KINDS)[number];
/** A stable error code; see `ERROR_CODES`. */
export type ErrorCode = (typeof import('./constants.js').ERROR_CODES)[number];
