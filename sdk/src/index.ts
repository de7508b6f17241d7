/** Process Sessions browser SDK: one session per browser profile and app, shared by its tabs. */
import { ProcessSessionsError, raise } from './errors.js';
import { createInstance } from './instance.js';
import { resolveOptions, type ProcessSessionsOptions } from './options.js';
import type { ProcessSessions } from './types.js';

/**
 * Starts tracking this tab: joins the session of the app's other tabs or begins one, once
 * tracking is allowed (see the `consent` option). Throws one ProcessSessionsError that
 * names every invalid option and its allowed range.
 */
export function init(options: ProcessSessionsOptions): ProcessSessions {
  if (typeof window === 'undefined' || typeof document === 'undefined') {
    raise('unsupported', 'init() needs a browser window; call it in client-side code');
  }

  return createInstance(resolveOptions(options));
}

export { ProcessSessionsError };
export type { ProcessSessionsOptions };
export type { SessionEndReason } from './session-store.js';
export type {
  ProcessSessions,
  TrackerEvents,
  TrackerSnapshot,
  TrackerState,
  TrackProps,
  UserTraits,
} from './types.js';
