import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Name of the file, next to the DuckDB file, that stores the generated admin token. */
export const ADMIN_TOKEN_FILE = 'admin-token';

/** Token returned by `ensureAdminToken`, with its file and whether this call created it. */
export interface AdminTokenResult {
  token: string;
  path: string;
  isCreated: boolean;
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

  const stored = await readToken(path);
  if (stored !== undefined) return { token: stored, path, isCreated: false };

  const token = randomBytes(32).toString('base64url');
  await mkdir(dirname(path), { recursive: true });
  try {
    // `wx` fails when another process created the file first; its token wins.
    await writeFile(path, `${token}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const winner = await readToken(path);
    if (winner === undefined) throw error;
    return { token: winner, path, isCreated: false };
  }

  print(`Generated admin token (stored in ${path}, shown only once):\n${token}\n`);
  return { token, path, isCreated: true };
}

async function readToken(path: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }

  const token = text.trim();
  if (token.length < 16) {
    throw new Error(
      `admin token file ${path} must contain at least 16 characters; delete it to generate a new token`,
    );
  }
  return token;
}
