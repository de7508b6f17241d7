import type { RequestIdVariables } from 'hono/request-id';
import type { Caller } from '../auth/token-registry.js';

/** One integration-log entry of an ingest request that got a 2xx reply. */
export interface IngestWarning {
  code: string;
  message: string;
}

/** Hono environment of the collector: per-request variables set by middleware and routes. */
export interface AppEnv {
  Variables: RequestIdVariables & {
    /** Session the request concerns, set by its route and included in the request log. */
    sessionId?: string;
    /** App id of an ingest request, set once the body names a valid one. */
    appId?: string;
    /** Name and role of the token that authenticated the request. */
    caller?: Caller;
    /** Client IP address, from the socket or a trusted proxy; never log or store it raw. */
    clientAddress?: string;
    /** Problems of a 2xx ingest reply (rejected or clamped events) for the integration log. */
    ingestWarnings?: IngestWarning[];
    /**
     * Whether the integration log skips this 4xx, because it repeats a rate-limit
     * rejection or is a batch of an erased session.
     */
    isIngestLogSkipped?: boolean;
  };
}
