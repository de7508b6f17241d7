import { pino } from 'pino';
import { ensureAdminToken } from './admin-token.js';
import { type Config, loadConfig } from './config.js';
import { limitHeapGrowth } from './heap-growth.js';
import { SHARED_FILE_WARNING } from './secret-file.js';
import { startServer } from './server.js';

/** Time after a stop signal within which another signal counts as the same one, in ms. */
const REPEATED_SIGNAL_MS = 1000;

/** Starts the collector from environment variables and stops it on SIGTERM or SIGINT. */
async function main(): Promise<void> {
  limitHeapGrowth();
  // Every file the collector creates contains personal data or a secret: the
  // DuckDB file and its WAL, ingest log segments, the key files. So new files
  // and folders are its user's alone, whatever the shell's umask.
  process.umask(0o077);

  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    process.stderr.write(`Invalid collector configuration: ${(error as Error).message}\n`);
    process.exit(1);
  }

  const logger = pino({ level: config.logLevel });
  const loadAdminToken = async () => {
    const stored = await ensureAdminToken(config.databasePath);
    if (stored.isShared) logger.warn({ path: stored.path }, SHARED_FILE_WARNING);
    return stored.token;
  };
  // The ingest log contains every acknowledged batch, so exiting loses none of them.
  const onStorageFailure = () => process.exit(1);
  const server = await startServer(config, { logger, onStorageFailure, loadAdminToken });

  let stoppingSince: number | undefined;
  const stop = (signal: NodeJS.Signals) => {
    if (stoppingSince !== undefined) {
      // Ctrl-C under `npm start` reaches node twice: from the terminal's process group and from npm.
      if (performance.now() - stoppingSince < REPEATED_SIGNAL_MS) return;
      logger.warn({ signal }, 'second signal, exiting without a clean shutdown');
      process.exit(1);
    }
    stoppingSince = performance.now();
    logger.info({ signal }, 'collector stopping');
    server.close().then(
      () => {
        logger.info('collector stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'collector failed to stop cleanly');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // Logged after the handlers exist, so a supervisor that signals on this line gets a clean stop.
  logger.info({ url: server.url, databasePath: server.storage.path }, 'collector listening');
}

main().catch((error: unknown) => {
  process.stderr.write(`Collector failed to start: ${(error as Error).message ?? String(error)}\n`);
  process.exit(1);
});
