import type { Logger } from 'pino';
import type { PurgeCounts, Storage } from '../storage/index.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Interval between purges: hourly, so no row outlives the retention by more than an hour. */
export const DEFAULT_PURGE_INTERVAL_MS = 60 * 60 * 1000;

/** Options of `startRetention`. */
export interface RetentionOptions {
  storage: Storage;
  /** Days per-session and per-user rows are kept, 1 to 3650. */
  retentionDays: number;
  logger: Pick<Logger, 'info' | 'error'>;
  /** Server clock in epoch ms. @default Date.now */
  now?: () => number;
  /** Interval between purges, 1 s to 1 day. @default 3600000 */
  intervalMs?: number;
}

/** A running retention schedule. */
export interface Retention {
  /** Purges now, unless a purge is running, and returns what it deleted (undefined on failure). */
  runOnce(): Promise<PurgeCounts | undefined>;
  /** Stops the timer and waits for a running purge to finish. */
  stop(): Promise<void>;
}

/**
 * Deletes rows older than `retentionDays` once at start and then every
 * `intervalMs` (see `Storage.purgeBefore` for what is deleted). The timer is
 * unref'd, so it never keeps the process alive by itself.
 */
export function startRetention(options: RetentionOptions): Retention {
  const { storage, retentionDays, logger } = validateRetention(options);
  const now = options.now ?? Date.now;
  const intervalMs = options.intervalMs ?? DEFAULT_PURGE_INTERVAL_MS;
  let running: Promise<PurgeCounts | undefined> | undefined;

  const runOnce = () => {
    running ??= purge(storage, now() - retentionDays * DAY_MS, logger).finally(() => {
      running = undefined;
    });
    return running;
  };

  const timer = setInterval(() => void runOnce(), intervalMs);
  timer.unref();
  void runOnce();

  return {
    runOnce,
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}

async function purge(
  storage: Storage,
  cutoff: number,
  logger: RetentionOptions['logger'],
): Promise<PurgeCounts | undefined> {
  try {
    const counts = await storage.purgeBefore(cutoff);
    const total = counts.events + counts.sessions + counts.auditLog + counts.ingestErrors;
    if (total > 0) {
      logger.info({ cutoff: new Date(cutoff).toISOString(), ...counts }, 'retention purge');
    }
    return counts;
  } catch (error) {
    logger.error({ err: error }, 'retention purge failed; retrying at the next interval');
    return undefined;
  }
}

function validateRetention(options: RetentionOptions): RetentionOptions {
  const { retentionDays, intervalMs } = options;
  if (!Number.isInteger(retentionDays) || retentionDays < 1 || retentionDays > 3650) {
    throw new Error(`retentionDays must be an integer from 1 to 3650, received ${retentionDays}`);
  }
  const isIntervalValid =
    intervalMs === undefined ||
    (Number.isInteger(intervalMs) && intervalMs >= 1000 && intervalMs <= DAY_MS);
  if (!isIntervalValid) {
    throw new Error(`intervalMs must be an integer from 1000 to 86400000, received ${intervalMs}`);
  }
  return options;
}
