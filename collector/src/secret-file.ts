import { randomBytes } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** A secret read from its file, and whether this call created the file. */
export interface SecretFile {
  secret: string;
  isCreated: boolean;
  /**
   * Whether users other than the file's owner may read or write the file,
   * which its creator never allows. A mounted secret, such as a Kubernetes
   * secret volume, is often readable by all users by default.
   */
  isShared: boolean;
}

/**
 * Log message for a file of secrets or personal data that users other than
 * its owner may read or write, such as one `SecretFile.isShared` flags.
 */
export const SHARED_FILE_WARNING =
  'file with secrets or personal data is readable or writable by other users; run chmod 600 on it';

/** Shortest secret a file may contain, in characters. */
const MIN_SECRET_LENGTH = 16;

/**
 * Reads the secret stored at `path`, or creates the file (and its folder)
 * with 32 random bytes in base64url, mode 0600. `name` names the secret in
 * errors, such as "admin token".
 */
export async function readOrCreateSecret(path: string, name: string): Promise<SecretFile> {
  const stored = await readSecret(path, name);
  if (stored !== undefined) return { secret: stored, isCreated: false, isShared: await isShared(path) };

  const secret = randomBytes(32).toString('base64url');
  await mkdir(dirname(path), { recursive: true });
  try {
    // `wx` fails when another process created the file first; its secret wins.
    await writeFile(path, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const winner = await readSecret(path, name);
    if (winner === undefined) throw error;
    return { secret: winner, isCreated: false, isShared: await isShared(path) };
  }
  return { secret, isCreated: true, isShared: false };
}

/** Returns whether users other than the file's owner may read or write it. */
export async function isShared(path: string): Promise<boolean> {
  const { mode } = await stat(path);
  return (mode & 0o077) !== 0;
}

async function readSecret(path: string, name: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    const message = `Cannot read the ${name} file ${path}; it must be a readable file`;
    throw new Error(`${message}: ${(error as Error).message}`, { cause: error });
  }

  const secret = text.trim();
  if (secret.length < MIN_SECRET_LENGTH) {
    throw new Error(
      `${name} file ${path} must contain at least ${MIN_SECRET_LENGTH} characters; ` +
        `delete it to generate a new ${name}`,
    );
  }
  return secret;
}
