/** Width of one time bucket of a report. */
export type ReportInterval = 'hour' | 'day';

const DAY_MS = 86_400_000;
/**
 * Every time zone in use today is offset from UTC by a multiple of 15
 * minutes, so local hour starts fall on 15-minute UTC boundaries.
 */
const QUARTER_HOUR_MS = 15 * 60_000;

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

/** Returns whether the host's Intl data knows `timeZone`. */
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

/** Lists local midnights of the days that overlap [from, to), in order. */
function listDayStarts(from: number, to: number, timeZone: string): number[] {
  const starts: number[] = [];
  for (let date = formatBucket(from, 'day', timeZone); ; date = addDays(date, 1)) {
    const start = startOfLocalDate(date, timeZone);
    if (start >= to) return starts;
    starts.push(start);
  }
}

/** Lists local hour starts that overlap [from, to), in order; a repeated DST hour is two buckets. */
function listHourStarts(from: number, to: number, timeZone: string): number[] {
  const starts: number[] = [];
  const first = Math.floor(from / QUARTER_HOUR_MS) * QUARTER_HOUR_MS - 3 * QUARTER_HOUR_MS;
  for (let at = first; at < to; at += QUARTER_HOUR_MS) {
    if (wallClock(at, timeZone).minute === '00') starts.push(at);
  }
  // The scan starts up to 45 minutes early, so drop starts whose bucket ends by `from`.
  while (starts.length > 1 && starts[1]! <= from) starts.shift();
  return starts;
}

/**
 * Lists the start (epoch ms) of every hour or day bucket of `timeZone` that
 * overlaps [from, to), in order. The first starts at or before `from`.
 */
export function listBucketStarts(
  from: number,
  to: number,
  interval: ReportInterval,
  timeZone: string,
): number[] {
  return interval === 'day'
    ? listDayStarts(from, to, timeZone)
    : listHourStarts(from, to, timeZone);
}

/** Lists the local Monday midnights of the weeks that overlap [from, to), in order. */
export function listWeekStarts(from: number, to: number, timeZone: string): number[] {
  const firstDate = formatBucket(from, 'day', timeZone);
  const weekday = new Date(`${firstDate}T00:00:00Z`).getUTCDay();
  const starts: number[] = [];
  for (let date = addDays(firstDate, -((weekday + 6) % 7)); ; date = addDays(date, 7)) {
    const start = startOfLocalDate(date, timeZone);
    if (start >= to) return starts;
    starts.push(start);
  }
}
