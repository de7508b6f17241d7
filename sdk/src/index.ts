/** Process Sessions browser SDK: one session per browser profile and app, shared by its tabs. */
import { ProcessSessionsError, raise } from './errors.js';
import { createInstance } from './instance.js';
import { resolveOptions, type ProcessSessionsOptions } from './options.js';
import { buildTracker, startTracker } from './tracker.js';
import type { ProcessSessions } from './types.js';

/**
 * Starts tracking this tab: joins the session of the app's other tabs or begins one.
 * Throws ProcessSessionsError for an invalid option, naming it and its allowed range.
 */
export function init(options: ProcessSessionsOptions): ProcessSessions {
  if (typeof window === 'undefined' || typeof document === 'undefined') {
    raise('unsupported', 'init() needs a browser window; call it in client-side code');
  }

  const ctx = buildTracker(resolveOptions(options));
  startTracker(ctx);

  return createInstance(ctx);
}

export { ProcessSessionsError };
export type { ProcessSessionsOptions };
export type { SessionEndReason } from './session-store.js';
export type { ProcessSessions, TrackerEvents, TrackerSnapshot, TrackerState, TrackProps } from './types.js';
