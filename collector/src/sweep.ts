import type { Logger } from 'pino';
import type { SessionService } from './session-service.js';

/** A running sweep. */
export interface Sweep {
  /** Runs one sweep now, unless one is running, and returns the number of sessions it ended. */
  runOnce(): Promise<number>;
  /** Stops the timer and waits for a running sweep to finish. */
  stop(): Promise<void>;
}

/**
 * Ends expired sessions every `intervalMs` (idle, absolute and closed rules of
 * `SessionService.expireSessions`) and logs each end. The timer is unref'd, so
 * it never keeps the process alive by itself.
 */
export function startSweep(service: SessionService, intervalMs: number, logger: Logger): Sweep {
  let running: Promise<number> | undefined;

  const runOnce = (): Promise<number> => {
    running ??= sweepOnce(service, logger).finally(() => {
      running = undefined;
    });
    return running;
  };

  const timer = setInterval(() => void runOnce(), intervalMs);
  timer.unref();

  return {
    runOnce,
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}

async function sweepOnce(service: SessionService, logger: Logger): Promise<number> {
  try {
    const ended = await service.expireSessions();
    for (const session of ended) {
      logger.info(
        { sessionId: session.id, endReason: session.endReason, endedAt: session.endedAt },
        'sweep ended session',
      );
    }
    return ended.length;
  } catch (error) {
    logger.error({ err: error }, 'sweep failed; retrying at the next interval');
    return 0;
  }
}
