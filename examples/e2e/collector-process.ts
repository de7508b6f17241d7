import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { findFreePort, waitForHttp } from '../../scripts/bench/ingest.js';

const repoRoot = new URL('../../', import.meta.url).pathname;

/** The collector's `main.ts` running as a child process on 127.0.0.1. */
export interface CollectorProcess {
  url: string;
  child: ChildProcess;
  /** Output the process wrote to stdout and stderr so far. */
  output(): string;
  /** Sends `signal` and resolves with the exit code once the process exits. */
  stop(signal: NodeJS.Signals): Promise<number | null>;
}

/** Starts `collector/src/main.ts` with `env` and waits for `/healthz`. */
export async function startCollectorProcess(env: Record<string, string>): Promise<CollectorProcess> {
  const port = await findFreePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'collector/src/main.ts'], {
    cwd: repoRoot,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const url = `http://127.0.0.1:${port}`;

  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`exited with code ${code} before answering /healthz`);
  });
  try {
    await Promise.race([waitForHttp(`${url}/healthz`, 30_000), exited]);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`collector did not start: ${(error as Error).message}\n${output}`);
  }
  exited.catch(() => {});

  return {
    url,
    child,
    output: () => output,
    async stop(signal) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = once(child, 'exit');
      child.kill(signal);
      const [code] = await exited;
      return code as number | null;
    },
  };
}
