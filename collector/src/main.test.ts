import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const mainPath = new URL('./main.ts', import.meta.url).pathname;

interface ChildResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs main.ts; once `readyText` appears on stdout, sends `signals` at once. Always ends within 20 s. */
function runMain(
  env: NodeJS.ProcessEnv,
  readyText?: string,
  signals: NodeJS.Signals[] = ['SIGTERM'],
  withoutCapabilities = false,
): Promise<ChildResult> {
  return new Promise((resolve) => {
    const command = [process.execPath, '--import', 'tsx', mainPath];
    // With an empty bounding set, a process of root gets no capabilities, so file modes bind it.
    if (withoutCapabilities) command.unshift('setpriv', '--bounding-set=-all', '--');
    const child = spawn(command[0]!, command.slice(1), {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const result: ChildResult = { code: null, stdout: '', stderr: '' };
    const killTimer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    let isSignalled = false;

    child.stdout.on('data', (chunk: Buffer) => {
      result.stdout += chunk.toString();
      // A signal more than 1 s after the first makes main.ts exit at once with code 1.
      if (readyText && !isSignalled && result.stdout.includes(readyText)) {
        isSignalled = true;
        for (const signal of signals) child.kill(signal);
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

/** A main.ts process left running, with the port it listens on. */
interface RunningMain {
  port: number;
  /** Sends SIGTERM and resolves with its exit code. */
  stop(): Promise<number | null>;
}

/** Starts main.ts and resolves once it listens. Fails after 20 s. */
function startMain(env: NodeJS.ProcessEnv): Promise<RunningMain> {
  const child = spawn(process.execPath, ['--import', 'tsx', mainPath], {
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const stop = () => {
    child.kill('SIGTERM');
    return exited;
  };
  return new Promise((resolve, reject) => {
    const failTimer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('main.ts did not listen within 20 s'));
    }, 20_000);
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /"url":"http:\/\/[^"]+:(\d+)"[^\n]*"msg":"collector listening"/.exec(stdout);
      if (match) {
        clearTimeout(failTimer);
        resolve({ port: Number(match[1]), stop });
      }
    });
    child.stderr.resume();
    void exited.then((code) => {
      clearTimeout(failTimer);
      reject(new Error(`main.ts exited with ${code} before it listened`));
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

  it('Ctrl-C under npm start stops cleanly', async () => {
    const databasePath = join(dir, 'db', 'collector.duckdb');
    const env = { PORT: '0', DATABASE_PATH: databasePath, LOG_LEVEL: 'info' };

    // The terminal signals node, and npm forwards the same SIGINT.
    const result = await runMain(env, 'collector listening', ['SIGINT', 'SIGINT']);

    expect(result.code).toBe(0);
    expect(result.stdout).toContain('collector stopped');
    expect(result.stdout).not.toContain('second signal');
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

  it('main creates private files', async () => {
    const databasePath = join(dir, 'db', 'collector.duckdb');

    const result = await runMain(
      { PORT: '0', DATABASE_PATH: databasePath, LOG_LEVEL: 'info', ADMIN_TOKEN: 'a'.repeat(32) },
      'collector listening',
    );

    expect(result.code).toBe(0);
    const names = await readdir(join(dir, 'db'));
    expect(names).toEqual(expect.arrayContaining(['collector.duckdb', 'collector.duckdb.ingest', 'erasure-key']));
    for (const name of ['', ...names]) {
      const { mode } = await stat(join(dir, 'db', name));
      expect({ name, mode: (mode & 0o777).toString(8) }).toEqual({
        name,
        mode: name === '' || name.endsWith('.ingest') ? '700' : '600',
      });
    }
  });

  it('main warns of a shared admin token file', async () => {
    const databasePath = join(dir, 'collector.duckdb');
    const tokenPath = join(dir, 'admin-token');
    await writeFile(tokenPath, `${'t'.repeat(40)}\n`, { mode: 0o644 });

    const result = await runMain({ PORT: '0', DATABASE_PATH: databasePath, LOG_LEVEL: 'info' }, 'collector listening');

    expect(result.code).toBe(0);
    const warning = result.stdout.split('\n').find((line) => line.includes('chmod 600'));
    expect(JSON.parse(warning ?? '{}')).toMatchObject({ level: 40, path: tokenPath });
    expect(result.stdout).not.toContain('t'.repeat(40));
  });

  it('second main fails on the lock without creating a token file', async () => {
    const databasePath = join(dir, 'collector.duckdb');
    const first = await startMain({ PORT: '0', DATABASE_PATH: databasePath, ADMIN_TOKEN: 'a'.repeat(32) });

    try {
      const second = await runMain({ PORT: '0', DATABASE_PATH: databasePath, LOG_LEVEL: 'info' });

      expect(second.code).toBe(1);
      expect(second.stderr).toContain(`Another collector holds ${databasePath}`);
      expect(second.stdout).not.toContain('Generated admin token');
      expect(await readdir(dir)).not.toContain('admin-token');
    } finally {
      expect(await first.stop()).toBe(0);
    }
  });

  it('port in use named in the start error', async () => {
    const first = await startMain({ PORT: '0', DATABASE_PATH: join(dir, 'first.duckdb'), ADMIN_TOKEN: 'a'.repeat(32) });

    try {
      const second = await runMain({
        PORT: String(first.port),
        DATABASE_PATH: join(dir, 'second', 'collector.duckdb'),
        LOG_LEVEL: 'info',
      });

      expect(second.code).toBe(1);
      expect(second.stderr).toContain(`PORT ${first.port} is in use on HOST 127.0.0.1`);
      expect(second.stdout).not.toContain('Generated admin token');
      expect(await readdir(dir)).not.toContain('second');
    } finally {
      expect(await first.stop()).toBe(0);
    }
  });

  it('read-only database folder rejected at start', async () => {
    const folder = join(dir, 'db');
    const databasePath = join(folder, 'collector.duckdb');
    const env = { PORT: '0', DATABASE_PATH: databasePath, ADMIN_TOKEN: 'a'.repeat(32), LOG_LEVEL: 'info' };
    expect((await runMain(env, 'collector listening')).code).toBe(0);
    await chmod(folder, 0o555);

    // Root writes to any folder unless it runs without capabilities, which setpriv arranges.
    const result = await runMain(env, 'collector listening', ['SIGTERM'], process.getuid?.() === 0);
    await chmod(folder, 0o700);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`Cannot open the database at DATABASE_PATH ${databasePath}`);
    expect(result.stderr).toContain(`The folder ${folder} is not writable`);
  });

  it('database folder under a file named', async () => {
    await writeFile(join(dir, 'file'), 'not a folder');
    const databasePath = join(dir, 'file', 'collector.duckdb');

    const result = await runMain({ PORT: '0', DATABASE_PATH: databasePath, ADMIN_TOKEN: 'a'.repeat(32) });

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`Cannot create the folder ${join(dir, 'file')} for the database file`);
  });

  it('main rejects bad config', async () => {
    const result = await runMain({ PORT: '99999', DATABASE_PATH: join(dir, 'x.duckdb') });

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Invalid collector configuration: PORT must be an integer from 0 to 65535');
  });
});
