/** Width of one time bucket of a report. */
export type ReportInterval = 'hour' | 'day';

const DAY_MS = 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Returns a cached formatter of year to minute, 24-hour, in `timeZone`. */
function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** Returns the wall-clock fields of an instant in `timeZone`. */
function wallClock(ms: number, timeZone: string): Record<string, string> {
  const parts = formatterFor(timeZone).formatToParts(new Date(ms));
  return Object.fromEntries(parts.map((part) => [part.type, part.value]));
}

/** Returns how far `timeZone` is ahead of UTC at the instant `ms`, in ms. */
function offsetMs(ms: number, timeZone: string): number {
  const clock = wallClock(ms, timeZone);
  const asUtc = Date.UTC(
    Number(clock.year),
    Number(clock.month) - 1,
    Number(clock.day),
    Number(clock.hour),
    Number(clock.minute),
    Number(clock.second),
  );
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/** Returns whether the host's Intl data supports `timeZone`. */
export function isKnownTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

/**
 * Returns the instant of local midnight that starts `date` (`YYYY-MM-DD`) in
 * `timeZone`. On a day whose midnight a DST change skips, it returns the
 * first instant of that day instead.
 */
export function startOfLocalDate(date: string, timeZone: string): number {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  const wallMidnight = Date.UTC(year, month - 1, day);
  // The offset at the guess may differ from the offset at midnight across a DST change,
  // so a second pass uses the offset at the first result.
  const first = wallMidnight - offsetMs(wallMidnight, timeZone);
  return wallMidnight - offsetMs(first, timeZone);
}

/** Formats a bucket start as local `YYYY-MM-DD` (day) or `YYYY-MM-DD HH:mm` (hour). */
export function formatBucket(start: number, interval: ReportInterval, timeZone: string): string {
  const clock = wallClock(start, timeZone);
  const date = `${clock.year}-${clock.month}-${clock.day}`;
  return interval === 'day' ? date : `${date} ${clock.hour}:${clock.minute}`;
}

/** Adds days to a `YYYY-MM-DD` date. */
export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/** A stretch of time with one UTC offset, ending at `until` (exclusive) or open when null. */
export interface OffsetSegment {
  until: number | null;
  offsetMs: number;
}

/** Finds the first instant in (lo, hi] whose offset differs from the offset at `lo`, to the second. */
function findOffsetChange(lo: number, hi: number, timeZone: string): number {
  const before = offsetMs(lo, timeZone);
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (offsetMs(mid, timeZone) === before) lo = mid;
    else hi = mid;
  }
  return hi;
}

/**
 * Lists the UTC offsets of `timeZone` from a day before `from` to a day
 * after `to`. Offsets are sampled once a day, so two changes within one
 * day (which no time zone has) would be missed.
 */
export function listOffsetSegments(from: number, to: number, timeZone: string): OffsetSegment[] {
  const segments: OffsetSegment[] = [];
  let at = from - DAY_MS;
  let offset = offsetMs(at, timeZone);
  for (let next = at + DAY_MS; next <= to + DAY_MS; next += DAY_MS) {
    const nextOffset = offsetMs(next, timeZone);
    if (nextOffset !== offset) {
      const change = findOffsetChange(at, next, timeZone);
      segments.push({ until: change, offsetMs: offset });
      offset = nextOffset;
    }
    at = next;
  }
  segments.push({ until: null, offsetMs: offset });
  return segments;
}

/** Returns the offset in force at `ms` according to `segments`. */
export function offsetAt(ms: number, segments: readonly OffsetSegment[]): number {
  const segment = segments.find(({ until }) => until === null || ms < until);
  return (segment ?? segments[segments.length - 1]!).offsetMs;
}
