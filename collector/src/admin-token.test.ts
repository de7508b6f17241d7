import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureAdminToken } from './admin-token.js';

describe('ensureAdminToken', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'admin-token-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('token created once then reread', async () => {
    const printed: string[] = [];
    const databasePath = join(dir, 'data', 'db.duckdb');

    const first = await ensureAdminToken(databasePath, (text) => printed.push(text));
    const second = await ensureAdminToken(databasePath, (text) => printed.push(text));

    expect(first.isCreated).toBe(true);
    expect(first.path).toBe(join(dir, 'data', 'admin-token'));
    expect(first.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(second.isCreated).toBe(false);
    expect(second.token).toBe(first.token);
    expect(printed).toHaveLength(1);
    expect(printed[0]).toContain(first.token);
  });

  it('token file has mode 0600', async () => {
    const result = await ensureAdminToken(join(dir, 'db.duckdb'), () => {});

    const mode = (await stat(result.path)).mode & 0o777;
    expect(mode).toBe(0o600);
  });

  it('token file too short rejected', async () => {
    await writeFile(join(dir, 'admin-token'), 'abc\n');

    await expect(ensureAdminToken(join(dir, 'db.duckdb'), () => {})).rejects.toThrow(
      /must contain at least 16 characters/,
    );
  });
});
