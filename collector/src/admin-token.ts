import { dirname, join } from 'node:path';
import { readOrCreateSecret } from './secret-file.js';

/** Name of the file, next to the DuckDB file, that stores the generated admin token. */
export const ADMIN_TOKEN_FILE = 'admin-token';

/** Token returned by `ensureAdminToken`, with its file and whether this call created it. */
export interface AdminTokenResult {
  token: string;
  path: string;
  isCreated: boolean;
  /** Whether users other than the file's owner may read or write the file. */
  isShared: boolean;
}

/**
 * Reads the admin token stored next to the DuckDB file, or creates one.
 *
 * A new token is 32 random bytes in base64url, written with mode 0600 and
 * printed once through `print` (stdout by default, never the logger) so the
 * operator can copy it. Later calls read the file and print nothing.
 */
export async function ensureAdminToken(
  databasePath: string,
  print: (text: string) => void = (text) => process.stdout.write(text),
): Promise<AdminTokenResult> {
  const path = join(dirname(databasePath), ADMIN_TOKEN_FILE);
  const { secret: token, isCreated, isShared } = await readOrCreateSecret(path, 'admin token');

  if (isCreated) print(`Generated admin token (stored in ${path}, shown only once):\n${token}\n`);
  return { token, path, isCreated, isShared };
}
