import { realpath, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

/** DuckDB settings of the instance on a lock file, which never holds data. */
const LOCK_INSTANCE_CONFIG = { threads: '1', memory_limit: '16MB' };

/**
 * Returns the lock file of a database file: its path with `.lock` appended.
 * The collector holds it from open to close, and so also while it reopens
 * the database file, when DuckDB's own lock on that file is released.
 */
export function lockFilePath(databasePath: string): string {
  return `${resolve(databasePath)}.lock`;
}

/**
 * Returns the absolute path of a database file with symbolic links resolved,
 * also when the file does not exist yet, so that every path of one file
 * names one lock file. NOTE: two hard links to one file still name two.
 */
export async function canonicalPath(path: string): Promise<string> {
  const absolute = resolve(path);
  try {
    return await realpath(absolute);
  } catch {
    return join(await realpath(dirname(absolute)), basename(absolute));
  }
}

/**
 * Opens the lock file of a database file as a DuckDB file of its own, whose
 * lock DuckDB holds until the process closes it or ends. A lock file that
 * DuckDB cannot read, such as one a crash left half written while DuckDB
 * created it, is replaced, and `onReplaced` receives its path.
 */
export async function lockDatabase(
  path: string,
  onReplaced?: (lockPath: string) => void,
): Promise<DuckDBInstance> {
  try {
    return await openLockFile(path);
  } catch (error) {
    if (!isDamagedFile(error)) throw error;
  }

  // DuckDB locks a file before it reads it, so no process holds the damaged
  // one. Holding the database file makes sure that no other collector
  // replaces the lock file at the same time.
  const database = await openDatabase(path);
  try {
    // A collector that held the database file before may have replaced it.
    try {
      return await openLockFile(path);
    } catch (error) {
      if (!isDamagedFile(error)) throw error;
    }

    const lockPath = lockFilePath(path);
    const replacement = `${lockPath}.${process.pid}.tmp`;
    await rm(replacement, { force: true });
    (await DuckDBInstance.create(replacement, LOCK_INSTANCE_CONFIG)).closeSync();
    await rename(replacement, lockPath);
    const lock = await openLockFile(path);
    onReplaced?.(lockPath);
    return lock;
  } finally {
    database.closeSync();
  }
}

/** Opens a database file, turning DuckDB's lock conflict into `lockError`. */
export async function openDatabase(path: string, memoryLimit?: string): Promise<DuckDBInstance> {
  try {
    return await DuckDBInstance.create(path, memoryLimit ? { memory_limit: memoryLimit } : {});
  } catch (error) {
    if (isLockConflict(error)) throw lockError(path, error);
    throw error;
  }
}

/** Returns whether DuckDB failed to open a file because another process holds its lock. */
export function isLockConflict(error: unknown): error is Error {
  return error instanceof Error && /could not set lock/i.test(error.message);
}

/** Returns the error of an open that another collector's lock on `path` prevented. */
export function lockError(path: string, cause?: Error): Error {
  return new Error(
    `Another collector holds ${path}; stop it or set DATABASE_PATH to another file`,
    cause ? { cause } : undefined,
  );
}

async function openLockFile(path: string): Promise<DuckDBInstance> {
  try {
    return await DuckDBInstance.create(lockFilePath(path), LOCK_INSTANCE_CONFIG);
  } catch (error) {
    if (isLockConflict(error)) throw lockError(path, error);
    throw error;
  }
}

/**
 * Returns whether DuckDB could not read a file as a database because it is
 * empty, too short or not a DuckDB file (messages of DuckDB 1.5).
 */
function isDamagedFile(error: unknown): boolean {
  return (
    error instanceof Error &&
    /not a valid DuckDB database file|could not read enough bytes/i.test(error.message)
  );
}
