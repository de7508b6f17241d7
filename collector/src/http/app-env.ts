import type { RequestIdVariables } from 'hono/request-id';

/** Hono environment of the collector: per-request variables set by middleware and routes. */
export interface AppEnv {
  Variables: RequestIdVariables & {
    /** Session the request concerns, set by its route and included in the request log. */
    sessionId?: string;
  };
}
