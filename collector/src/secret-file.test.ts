import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readOrCreateSecret } from './secret-file.js';

describe('readOrCreateSecret', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'secret-file-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('secret created once then reread', async () => {
    const path = join(dir, 'keys', 'erasure-key');

    const first = await readOrCreateSecret(path, 'erasure key');
    const second = await readOrCreateSecret(path, 'erasure key');

    expect(first.isCreated).toBe(true);
    expect(first.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(first.isShared).toBe(false);
    expect(second).toEqual({ secret: first.secret, isCreated: false, isShared: false });
  });

  it('surrounding whitespace ignored', async () => {
    const path = join(dir, 'erasure-key');
    await writeFile(path, '  0123456789abcdefghij \n\n', { mode: 0o600 });

    const result = await readOrCreateSecret(path, 'erasure key');

    expect(result).toEqual({ secret: '0123456789abcdefghij', isCreated: false, isShared: false });
  });

  it.each([0o640, 0o604, 0o620])('file of mode %o flagged as shared', async (mode) => {
    const path = join(dir, 'erasure-key');
    await writeFile(path, '0123456789abcdefghij\n');
    await chmod(path, mode);

    const result = await readOrCreateSecret(path, 'erasure key');

    expect(result).toEqual({ secret: '0123456789abcdefghij', isCreated: false, isShared: true });
  });

  it('empty file rejected', async () => {
    const path = join(dir, 'erasure-key');
    await writeFile(path, '');

    await expect(readOrCreateSecret(path, 'erasure key')).rejects.toThrow(
      `erasure key file ${path} must contain at least 16 characters`,
    );
  });

  it('unreadable path named in error', async () => {
    const path = join(dir, 'erasure-key');
    await mkdir(path);

    const reading = readOrCreateSecret(path, 'erasure key');

    await expect(reading).rejects.toThrow(`Cannot read the erasure key file ${path}`);
    await expect(readOrCreateSecret(path, 'erasure key')).rejects.toThrow(/EISDIR/);
  });
});
