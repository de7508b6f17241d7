import {
  type Batch,
  type BatchEnvelope,
  eventSchema,
  idSchema,
  type RejectedEvent,
  type SessionEvent,
} from '../../../shared/src/index.js';
import { clockOffsetMs } from '../session-rules.js';
import { formatPath, type Issue, toIssues } from './errors.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

/**
 * Skew window of event timestamps, after the batch's `sentAt` correction. An
 * event stamped more than `MAX_EVENT_AGE_MS` before the server receive time is
 * rejected (code `timestamp_out_of_range`): an SDK keeps an event that long
 * only after a day offline, and storing it would change reports already read.
 * An event stamped more than `MAX_EVENT_LEAD_MS` after the receive time is
 * stored at the receive time and flagged as clamped, because no event happens
 * after it arrives. Events up to 5 min ahead are capped at the receive time
 * too, but not flagged, as that much is clock drift. Every stored event keeps
 * the client's timestamp and the receive time.
 *
 * NOTE: the window is fixed, so a policy with an idle timeout over 24 h still
 * loses events older than 24 h.
 */
export const MAX_EVENT_AGE_MS = 24 * HOUR_MS;

/** See `MAX_EVENT_AGE_MS`. */
export const MAX_EVENT_LEAD_MS = 5 * MINUTE_MS;

/** An event stored at the receive time because its timestamp was beyond the skew window. */
export interface ClampedEvent {
  index: number;
  id: string;
  /** The timestamp after `sentAt` correction, epoch ms. */
  ts: number;
}

/** A batch split into the events to store and the events rejected or clamped. */
export interface CheckedBatch {
  /** The envelope with only the events that passed. */
  batch: Batch;
  /** Index in the request of each event of `batch`, in order. */
  indexes: number[];
  rejected: RejectedEvent[];
  /** Validation issues of the rejected events, with paths from the batch root. */
  issues: Issue[];
  clamped: ClampedEvent[];
}

/**
 * Validates each event of a batch on its own and checks its timestamp
 * against the skew window around `receivedAt`, so one bad event does not
 * cost the others.
 */
export function checkEvents(envelope: BatchEnvelope, receivedAt: number): CheckedBatch {
  const offset = clockOffsetMs(envelope.sentAt, receivedAt);
  const checked: CheckedBatch = {
    batch: { ...envelope, events: [] },
    indexes: [],
    rejected: [],
    issues: [],
    clamped: [],
  };

  envelope.events.forEach((raw, index) => {
    const result = eventSchema.safeParse(raw);
    if (!result.success) {
      const issues = toIssues(result.error).map((issue) => ({
        path: ['events', index, ...issue.path],
        message: issue.message,
      }));
      reject(checked, index, rawId(raw), 'invalid_event', issues);
      return;
    }
    checkTime(checked, index, result.data, { offset, receivedAt });
  });
  return checked;
}

/**
 * Formats epoch milliseconds as ISO 8601. A `sentAt` correction can move a
 * timestamp past the ±8.64e15 ms that a Date holds, and such a value is
 * written as a number instead.
 */
export function formatEpochMs(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? `${ms} ms since the epoch` : date.toISOString();
}

function checkTime(
  checked: CheckedBatch,
  index: number,
  event: SessionEvent,
  clock: { offset: number; receivedAt: number },
): void {
  const ts = event.ts + clock.offset;
  if (ts < clock.receivedAt - MAX_EVENT_AGE_MS) {
    // A client clock far ahead moves every event back, so the message names the correction.
    const sentAt = clock.receivedAt - clock.offset;
    const correction =
      clock.offset === 0
        ? ''
        : `, after correcting the client clock by ${clock.offset} ms ` +
          `(sentAt ${formatEpochMs(sentAt)}),`;
    const message =
      `${formatEpochMs(ts)}${correction} is more than 24 h before the server time ` +
      `${new Date(clock.receivedAt).toISOString()}, so the event is not stored`;
    reject(checked, index, event.id, 'timestamp_out_of_range', [
      { path: ['events', index, 'ts'], message },
    ]);
    return;
  }

  if (ts > clock.receivedAt + MAX_EVENT_LEAD_MS) checked.clamped.push({ index, id: event.id, ts });
  checked.batch.events.push(event);
  checked.indexes.push(index);
}

function reject(
  checked: CheckedBatch,
  index: number,
  id: string | undefined,
  code: string,
  issues: Issue[],
): void {
  const first = issues[0];
  const message = first
    ? `${formatPath(first.path)}: ${first.message}`
    : `events[${index}] is invalid`;
  checked.rejected.push({ index, ...(id === undefined ? {} : { id }), code, message });
  checked.issues.push(...issues);
}

/** Returns the event's id when it is a valid one, so a reply never echoes arbitrary input. */
function rawId(raw: unknown): string | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const id = idSchema.safeParse((raw as { id?: unknown }).id);
  return id.success ? id.data : undefined;
}
