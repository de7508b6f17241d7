import type { RequestIdVariables } from 'hono/request-id';
import type { Caller } from '../auth/token-registry.js';

/** Hono environment of the collector: per-request variables set by middleware and routes. */
export interface AppEnv {
  Variables: RequestIdVariables & {
    /** Session the request concerns, set by its route and included in the request log. */
    sessionId?: string;
    /** App id of an ingest request, set once the body names a valid one. */
    appId?: string;
    /** Name and role of the token that authenticated the request. */
    caller?: Caller;
  };
}
