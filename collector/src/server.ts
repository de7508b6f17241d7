import type { Server } from 'node:http';
import { createServer } from 'node:net';
import { serve } from '@hono/node-server';
import { type Logger, pino } from 'pino';
import { type CollectorOptions, createCollector } from './app.js';
import type { Config } from './config.js';
import { startRetention } from './privacy/retention.js';
import { SessionService } from './session-service.js';
import { SHARED_FILE_WARNING } from './secret-file.js';
import { openStorage, type Storage } from './storage/index.js';
import { StreamHub } from './stream-hub.js';
import { createClientErrorListener } from './http/client-errors.js';
import { startSweep } from './sweep.js';

/** Time open connections get to finish after `close()` before they are cut, in ms. */
const CLOSE_GRACE_MS = 2_000;
/** Time a client has to send its request headers, capped by `requestTimeoutMs`, in ms. */
const MAX_HEADERS_TIMEOUT_MS = 10_000;

/** Options of `startServer`; the rest of `CollectorOptions` comes from `config`. */
export interface StartServerOptions
  extends Omit<CollectorOptions, 'storage' | 'config' | 'hub' | 'service'> {
  /** Storage to use; by default `startServer` opens `config.databasePath`. */
  storage?: Storage;
  /**
   * Called, after a fatal log line, when the storage it opened closed DuckDB
   * to reopen it and could not open it again, so the collector can no longer
   * store or read anything. `main.ts` exits with status 1, and the next start
   * loads every acknowledged batch from the ingest log.
   */
  onStorageFailure?: (error: unknown) => void;
  /**
   * Returns the admin token when `config.adminToken` is unset. It is called
   * once the storage is open, so a collector that fails on the database lock
   * of a running one creates no token file. `main.ts` reads or creates the
   * file beside the database.
   */
  loadAdminToken?: () => Promise<string>;
}

/** A listening collector. */
export interface RunningServer {
  /** Base URL, such as `http://127.0.0.1:8787`. */
  url: string;
  /** Port it listens on, also when `config.port` was 0. */
  port: number;
  storage: Storage;
  /** Stops the sweep, the purge and the server (ending streams), then flushes and closes the storage. */
  close(): Promise<void>;
}

/**
 * Checks that HOST and PORT can be bound, opens the storage, starts the HTTP
 * server, the sweep and the retention purge, and resolves once it listens.
 */
export async function startServer(
  baseConfig: Config,
  options: StartServerOptions = {},
): Promise<RunningServer> {
  let config = baseConfig;
  const logger = options.logger ?? pino({ level: config.logLevel });
  await checkListenAddress(config);
  const storage = options.storage ?? (await openConfiguredStorage(config, logger, options));
  let server: Server;
  let port: number;
  let hub: StreamHub;
  let service: SessionService;
  const now = options.now ?? Date.now;
  try {
    if (config.adminToken === undefined && options.loadAdminToken) {
      config = { ...config, adminToken: await options.loadAdminToken() };
    }
    hub = new StreamHub();
    service = new SessionService({ storage, hub, config, now, logger });
    const app = createCollector({ ...options, storage, config, logger, hub, service });
    ({ server, port } = await listen(app.fetch, config, logger));
  } catch (error) {
    await storage.close();
    throw error;
  }

  const sweep = startSweep(service, config.sweepIntervalMs, logger);
  const retention = startRetention({ storage, retentionDays: config.retentionDays, logger, now });
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;

  let closing: Promise<void> | undefined;
  const close = async () => {
    await sweep.stop();
    await retention.stop();
    hub.close();
    await closeServer(server);
    await storage.close();
  };
  return { url: `http://${host}:${port}`, port, storage, close: () => (closing ??= close()) };
}

/**
 * Opens the storage at `config.databasePath` with the collector's log lines.
 * Its errors name DATABASE_PATH, the variable to change.
 */
async function openConfiguredStorage(
  config: Config,
  logger: Logger,
  options: StartServerOptions,
): Promise<Storage> {
  try {
    return await openStorage(config.databasePath, {
      maxIngestErrors: config.maxIngestErrors,
      ...(config.duckdbMemoryLimit ? { memoryLimit: config.duckdbMemoryLimit } : {}),
      onIngestLogError: (error, count) =>
        logger.error({ err: error, count }, 'integration log lost ingest errors'),
      onLoadError: (error) =>
        logger.error({ err: error }, 'loading the ingest log into DuckDB failed; the next load retries'),
      onSharedFile: (path) => logger.warn({ path }, SHARED_FILE_WARNING),
      onLockFileReplaced: (path) =>
        logger.warn({ path }, 'replaced a lock file DuckDB could not read, such as one a crash left half written'),
      reopenAfterEvents: config.duckdbReopenEvents,
      onReopen: ({ durationMs, events }) =>
        logger.info({ durationMs: Math.round(durationMs), events }, 'reopened DuckDB to free its memory'),
      onReopenError: (error) => {
        logger.fatal({ err: error }, 'DuckDB could not be opened again after closing it to free memory');
        options.onStorageFailure?.(error);
      },
      onLogRecovered: (segments) => {
        for (const segment of segments) {
          if (segment.rejectedLines > 0) {
            const message =
              'loaded an ingest log file the last run left, without lines that could not load; ' +
              'inspect the file at rejectedPath, then delete it, because it holds event data';
            logger.warn(segment, message);
            continue;
          }
          const level = segment.cutBytes > 0 ? 'warn' : 'info';
          logger[level](segment, 'loaded an ingest log file the last run left');
        }
      },
    });
  } catch (error) {
    if (!(error instanceof Error) || error.message.includes('DATABASE_PATH')) throw error;
    const message = `Cannot open the database at DATABASE_PATH ${config.databasePath}: ${error.message}`;
    throw new Error(message, { cause: error });
  }
}

/**
 * Binds HOST and PORT and releases them before the storage opens, so that a
 * start that cannot listen fails before it creates the database, key and
 * admin token files. Another process may still take the port before the
 * real listen, which then fails with the same message after the storage opened.
 */
async function checkListenAddress(config: Pick<Config, 'host' | 'port'>): Promise<void> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', (error) => reject(explainListenError(error, config)));
    probe.listen({ port: config.port, host: config.host }, resolve);
  });
  await new Promise<void>((resolve) => probe.close(() => resolve()));
}

function listen(
  fetch: (request: Request) => Response | Promise<Response>,
  config: Config,
  logger: Logger,
): Promise<{ server: Server; port: number }> {
  const limits = {
    headersTimeoutMs: Math.min(MAX_HEADERS_TIMEOUT_MS, config.requestTimeoutMs),
    requestTimeoutMs: config.requestTimeoutMs,
  };
  const serverOptions = {
    requestTimeout: limits.requestTimeoutMs,
    headersTimeout: limits.headersTimeoutMs,
    // Node checks both timeouts only at this interval, 30 s by default.
    connectionsCheckingInterval: Math.min(1_000, config.requestTimeoutMs / 2),
  };

  return new Promise((resolve, reject) => {
    const server = serve({ fetch, port: config.port, hostname: config.host, serverOptions }, (info) => {
      server.off('error', reject);
      resolve({ server, port: info.port });
    }) as Server;
    server.on('clientError', createClientErrorListener(logger, limits));
    server.once('error', (error) => reject(explainListenError(error, config)));
  });
}

/** Returns a listen error with a message that names the setting to change, when it is known. */
export function explainListenError(error: Error, config: Pick<Config, 'host' | 'port'>): Error {
  const code = (error as NodeJS.ErrnoException).code;
  const address = `${config.host} port ${config.port}`;
  const messages: Record<string, string> = {
    EADDRINUSE: `PORT ${config.port} is in use on HOST ${config.host}; stop the other server or choose another PORT`,
    EACCES: `Listening on ${address} is not permitted; choose a PORT above 1023 or run with the right to bind it`,
    EADDRNOTAVAIL: `HOST ${config.host} is not an address of this machine; use one of its addresses, or 0.0.0.0 for all`,
    ENOTFOUND: `HOST ${config.host} does not resolve to an address; use an IP address or a name this machine resolves`,
    EAI_AGAIN: `HOST ${config.host} could not be resolved (name lookup failed for now); use an IP address`,
  };
  const message = code === undefined ? undefined : messages[code];
  return message === undefined ? error : new Error(`${message} (${error.message})`, { cause: error });
}

/**
 * Closes the server, giving open requests `CLOSE_GRACE_MS` before cutting their
 * connections. Keep-alive connections are closed as soon as they turn idle,
 * which streams do once the hub has ended them.
 */
function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    const idlePoll = setInterval(() => server.closeIdleConnections(), 25);
    const grace = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
    server.close((error) => {
      clearInterval(idlePoll);
      clearTimeout(grace);
      if (error) reject(error);
      else resolve();
    });
    server.closeIdleConnections();
  });
}
