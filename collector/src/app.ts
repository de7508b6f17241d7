import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';
import { compress } from 'hono/compress';
import { requestId } from 'hono/request-id';
import { type Logger, pino } from 'pino';
import { collectTokens } from './auth/api-tokens.js';
import { TokenRegistry } from './auth/token-registry.js';
import { registerAnalytics } from './analytics/index.js';
import type { Config } from './config.js';
import { registerConsole } from './console/index.js';
import { registerAdminRoutes } from './http/admin-routes.js';
import { ApiDocs } from './http/api-docs.js';
import { recordIngestErrors, registerAuditRoutes } from './http/audit-routes.js';
import { registerDocsRoutes } from './http/docs-routes.js';
import { registerPolicyRoutes } from './http/policy-routes.js';
import { documentPublicRoutes } from './http/public-docs.js';
import { registerAnalyticsRoute } from './http/analytics-route.js';
import type { AppEnv } from './http/app-env.js';
import { authorize, identifyCaller } from './http/authorize.js';
import { sendError } from './http/errors.js';
import { registerEventsRoute } from './http/events-route.js';
import { identifyClientAddress } from './http/client-address.js';
import { corsFor, mergeAppOrigins, requireAllowedOrigin } from './http/origins.js';
import { createRateLimits, limitPerAddress } from './http/rate-limits.js';
import { secureResponses } from './http/security-headers.js';
import { createRedactor, logRequests, redactError } from './http/request-log.js';
import { registerStaticRoutes } from './http/static-routes.js';
import { DEFAULT_PING_INTERVAL_MS, registerStreamRoute } from './http/stream-route.js';
import { PolicyService } from './policy/policy-service.js';
import { registerUserDataRoutes } from './privacy/user-data-routes.js';
import { SessionService } from './session-service.js';
import { type Storage, StorageBacklogError, StorageLoadError } from './storage/index.js';
import { StreamHub } from './stream-hub.js';

const REPO_ROOT = new URL('../../', import.meta.url);

/** Default path of the SDK bundle served at `/sdk.js`. */
export const DEFAULT_SDK_SCRIPT_PATH = fileURLToPath(
  new URL('sdk/dist/process-sessions.iife.js', REPO_ROOT),
);

/** Default path of the example page served at `/`. */
export const DEFAULT_EXAMPLE_PAGE_PATH = fileURLToPath(
  new URL('examples/script-tag/index.html', REPO_ROOT),
);

/** Options of `createCollector`. */
export interface CollectorOptions {
  storage: Storage;
  config: Config;
  /** @default a pino logger at `config.logLevel` writing to stdout */
  logger?: Logger;
  /** Server clock in epoch ms. @default Date.now */
  now?: () => number;
  /** Hub that carries session changes to streams; share it with the sweep. @default a new hub */
  hub?: StreamHub;
  /**
   * Session service over `storage` and `hub`; share it with the sweep, because
   * it holds the settings and policies in memory. @default a new service
   */
  service?: SessionService;
  /** @default sdk/dist/process-sessions.iife.js under the repository root */
  sdkScriptPath?: string;
  /** @default examples/script-tag/index.html under the repository root */
  examplePagePath?: string;
  /** Interval of `: ping` comments on streams, 10 ms to 10 min. @default 15000 */
  pingIntervalMs?: number;
}

/**
 * Creates the collector's Hono app with every route, CORS, rate limits,
 * security headers, request logging and JSON errors.
 */
export function createCollector(options: CollectorOptions): Hono<AppEnv> {
  const { storage, config } = validateOptions(options);
  const logger = options.logger ?? pino({ level: config.logLevel });
  const now = options.now ?? Date.now;
  const hub = options.hub ?? new StreamHub();
  const service = options.service ?? new SessionService({ storage, hub, config, now, logger });
  const policies = new PolicyService({ sessions: service, storage, now });
  const docs = new ApiDocs();
  const apiTokens = collectTokens(config);
  const tokens = new TokenRegistry(apiTokens);
  const redact = createRedactor(apiTokens.map((token) => token.token));
  if (tokens.size === 0) {
    logger.warn('no API token configured, so the admin and analytics APIs reject every request');
  }

  const limits = createRateLimits(config, now);
  const originRules = { allowed: config.allowedOrigins, appOrigins: config.appOrigins };
  const origins = mergeAppOrigins(config.allowedOrigins, config.appOrigins);

  const app = new Hono<AppEnv>();
  app.use(requestId());
  app.use(logRequests(logger, redact));
  app.use(secureResponses(config.trustProxyHops));
  app.use(identifyClientAddress(config.trustProxyHops));
  app.use(identifyCaller(tokens));
  app.use('/v1/events', recordIngestErrors(storage.admin, now));
  app.use('/v1/events', corsFor(origins));
  app.use('/v1/sessions/*', corsFor(origins));
  // After CORS, so a browser can read the 429, and before authorize, so failed tokens count too.
  app.use(limitPerAddress(limits.perAddress, logger));
  app.use('/v1/admin/*', authorize('admin'));
  app.use('/v1/analytics/*', authorize('analyst'));
  // Large bodies with no secret in them: reports, exports, the docs and the SDK script.
  // Console pages carry CSRF tokens beside reflected input, so they are left alone
  // (BREACH), and so is /v1/events, whose short replies gain nothing.
  for (const path of ['/v1/admin/*', '/v1/analytics/*', '/docs', '/openapi.json', '/sdk.js']) {
    app.use(path, compress());
  }
  app.post('/v1/events', requireAllowedOrigin(origins));

  app.get('/healthz', (c) => c.json({ ok: true }));
  registerEventsRoute(app, {
    service,
    now,
    origins: originRules,
    perAppLimiter: limits.perApp,
    logger,
  });
  registerStreamRoute(app, {
    service,
    hub,
    origins: originRules,
    storage,
    pingIntervalMs: options.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS,
    streamsPerAddress: config.streamsPerAddress,
  });
  registerAdminRoutes(app, docs, { service, storage });
  registerUserDataRoutes(app, docs, { service, storage, now });
  registerPolicyRoutes(app, docs, { service, policies });
  registerAuditRoutes(app, docs, storage.admin);
  documentPublicRoutes(docs);
  registerDocsRoutes(app, docs);
  registerAnalyticsRoute(app, docs, storage, now);
  registerAnalytics(app, { storage, hub, now, authorize, docs });
  registerConsole(app, {
    storage,
    hub,
    now,
    findCaller: (token) => tokens.find(token),
    trustProxyHops: config.trustProxyHops,
  });
  registerStaticRoutes(app, {
    sdkScriptPath: options.sdkScriptPath ?? DEFAULT_SDK_SCRIPT_PATH,
    examplePagePath: options.examplePagePath ?? DEFAULT_EXAMPLE_PAGE_PATH,
  });

  app.notFound((c) => sendError(c, 404, 'not_found', `No route for ${c.req.method} ${c.req.path}`));
  app.onError((error, c) => {
    if (error instanceof StorageBacklogError) {
      // Each failed load already logs its error, so the rejected request logs no second line.
      c.header('Retry-After', '10');
      return sendError(c, 503, 'storage_unavailable', `${error.message}; retry after 10 s`);
    }
    if (error instanceof StorageLoadError) {
      const fields = { err: redactError(error, redact), requestId: c.get('requestId') };
      logger.warn(fields, 'loading the ingest log for a request failed');
      c.header('Retry-After', '10');
      const message =
        'Loading acknowledged batches into DuckDB failed, so the result would miss some; ' +
        'retry after 10 s';
      return sendError(c, 503, 'storage_unavailable', message);
    }
    logger.error(
      {
        err: redactError(error, redact),
        requestId: c.get('requestId'),
        method: c.req.method,
        path: redact(c.req.path),
      },
      'request handler failed',
    );
    return sendError(c, 500, 'internal_error', 'Internal error; the request id is in X-Request-Id');
  });
  return app;
}

function validateOptions(options: CollectorOptions): CollectorOptions {
  if (!options?.storage) throw new Error('createCollector: storage is required (use openStorage)');
  if (!options.config) throw new Error('createCollector: config is required (use loadConfig)');

  const ping = options.pingIntervalMs;
  if (ping !== undefined && (!Number.isInteger(ping) || ping < 10 || ping > 600_000)) {
    throw new Error(`pingIntervalMs must be an integer from 10 to 600000, received ${ping}`);
  }
  return options;
}
