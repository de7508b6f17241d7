import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const mainPath = new URL('./main.ts', import.meta.url).pathname;

interface ChildResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs main.ts; once `readyText` appears on stdout, sends SIGTERM. Always ends within 20 s. */
function runMain(env: NodeJS.ProcessEnv, readyText?: string): Promise<ChildResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', mainPath], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const result: ChildResult = { code: null, stdout: '', stderr: '' };
    const killTimer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    let isSignalled = false;

    child.stdout.on('data', (chunk: Buffer) => {
      result.stdout += chunk.toString();
      // One signal only: a second one makes main.ts exit at once with code 1.
      if (readyText && !isSignalled && result.stdout.includes(readyText)) {
        isSignalled = true;
        child.kill('SIGTERM');
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (result.stderr += chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(killTimer);
      result.code = code;
      resolve(result);
    });
  });
}

describe('main', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'collector-main-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('main stops cleanly on SIGTERM', async () => {
    const databasePath = join(dir, 'db', 'collector.duckdb');

    const result = await runMain({ PORT: '0', DATABASE_PATH: databasePath, LOG_LEVEL: 'info' }, 'collector listening');

    const token = (await readFile(join(dir, 'db', 'admin-token'), 'utf8')).trim();
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Generated admin token (stored in ${join(dir, 'db', 'admin-token')}`);
    expect(result.stdout).toContain(token);
    expect(result.stdout).toMatch(/"msg":"collector listening"/);
    expect(result.stdout).toMatch(/"msg":"collector stopped"/);
    expect(result.stdout.split(token)).toHaveLength(2);
  });

  it('main rejects bad config', async () => {
    const result = await runMain({ PORT: '99999', DATABASE_PATH: join(dir, 'x.duckdb') });

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Invalid collector configuration: PORT must be an integer from 0 to 65535');
  });
});
