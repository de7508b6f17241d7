/** How often the idle deadline is compared to the clock, in ms. */
export const CHECK_INTERVAL_MS = 1000;

/** Phase of a session relative to its idle deadline. */
export type IdlePhase = 'active' | 'warning' | 'idle';

/** Inputs and callbacks of the idle timer. */
export interface IdleTimerEvents {
  /** Reads the latest activity in any tab (epoch ms) and the timeouts; undefined without a running session. */
  read(): { lastActivityAt: number; idleTimeoutMs: number; warningMs: number } | undefined;
  /** Called on every check while in the warning phase. */
  onWarning(remainingMs: number, idleAt: number): void;
  /** Called when activity ends a warning before the deadline. */
  onDismiss(): void;
  /** Called once when the deadline passes; `idleAt` is lastActivityAt + idleTimeoutMs. */
  onIdle(idleAt: number): void;
}

/** Compares the wall clock to the idle deadline; see `startIdleTimer`. */
export interface IdleTimer {
  /** Runs one check now. */
  check(): void;
  /** Starts over in the active phase, for a new session or after new activity. */
  reset(): void;
  stop(): void;
}

/**
 * Starts checking every CHECK_INTERVAL_MS and when the page becomes visible. The phase comes
 * from Date.now() against the last activity, never from counted ticks, because timers stop
 * while the computer sleeps, and Chrome runs them once a minute in long-hidden pages.
 */
export function startIdleTimer(events: IdleTimerEvents): IdleTimer {
  let phase: IdlePhase = 'active';

  const check = () => {
    const session = events.read();

    if (!session || phase === 'idle') return;

    const { lastActivityAt, idleTimeoutMs, warningMs } = session;
    const idleAt = lastActivityAt + idleTimeoutMs;
    const now = Date.now();

    if (now >= idleAt) {
      phase = 'idle';
      events.onIdle(idleAt);
    } else if (now >= idleAt - warningMs) {
      phase = 'warning';
      events.onWarning(idleAt - now, idleAt);
    } else if (phase === 'warning') {
      phase = 'active';
      events.onDismiss();
    }
  };
  const timer = setInterval(check, CHECK_INTERVAL_MS);
  document.addEventListener('visibilitychange', check);

  return {
    check,
    reset: () => (phase = 'active'),
    stop() {
      clearInterval(timer);
      document.removeEventListener('visibilitychange', check);
    },
  };
}
