/**
 * Ingest benchmark: 50 connections posting 20-event batches to the collector
 * (writing to a DuckDB file in a temp folder) and, in the same run, to a bare
 * node:http + JSON.parse server. Both servers run as child processes on
 * 127.0.0.1 and every load stops by itself after its duration.
 */
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One server's figures under load. */
export interface IngestResult {
  name: string;
  requestsPerSecond: number;
  eventsPerSecond: number;
  p99LatencyMs: number;
  non2xx: number;
  errors: number;
}

/** Load shape of one run. */
export interface IngestLoad {
  connections: number;
  eventsPerBatch: number;
  durationSeconds: number;
  sessions: number;
}

/** The load the benchmark is specified with. */
export const DEFAULT_LOAD: IngestLoad = {
  connections: 50,
  eventsPerBatch: 20,
  durationSeconds: 10,
  sessions: 1000,
};

const repoRoot = new URL('../../', import.meta.url).pathname;

/** Finds a free TCP port on 127.0.0.1. */
export async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/** Polls `url` until it answers 200 or `timeoutMs` passes. */
export async function waitForHttp(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
}

/** Builds one batch body with fresh event ids, for a session picked at random. */
function createBatchBody(sessionIds: string[], eventsPerBatch: number): string {
  const sessionId = sessionIds[Math.floor(Math.random() * sessionIds.length)]!;
  const now = Date.now();
  const events = Array.from({ length: eventsPerBatch }, (_, index) => ({
    id: randomUUID(),
    type: 'activity',
    ts: now - (eventsPerBatch - index),
    data: { kind: 'pointer', count: 1 + (index % 5) },
  }));

  return JSON.stringify({
    v: 1,
    appId: 'bench',
    sessionId,
    tabId: `tab-${sessionId}`,
    clientId: `client-${sessionId}`,
    userId: `user-${sessionId.slice(0, 6)}`,
    events,
  });
}

/** Runs autocannon against `url` with unique bodies per request. */
async function runLoad(name: string, url: string, load: IngestLoad): Promise<IngestResult> {
  const sessionIds = Array.from({ length: load.sessions }, () => randomUUID());
  const result = await autocannon({
    url,
    method: 'POST',
    connections: load.connections,
    duration: load.durationSeconds,
    headers: { 'content-type': 'text/plain;charset=UTF-8' },
    requests: [
      {
        setupRequest: (request) => ({
          ...request,
          body: createBatchBody(sessionIds, load.eventsPerBatch),
        }),
      },
    ],
  });
  const requestsPerSecond = result.requests.average;

  return {
    name,
    requestsPerSecond,
    eventsPerSecond: requestsPerSecond * load.eventsPerBatch,
    p99LatencyMs: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

/** Starts a child process and resolves once `healthUrl` answers. */
export async function startChild(
  args: string[],
  env: NodeJS.ProcessEnv,
  healthUrl: string,
): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitForHttp(healthUrl);
  return child;
}

/** Stops a child with SIGTERM and waits for it to exit. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** Measures the bare server, then the collector, under the same load. */
export async function benchIngest(load: IngestLoad = DEFAULT_LOAD): Promise<IngestResult[]> {
  const rawPort = await findFreePort();
  const raw = await startChild(
    ['scripts/bench/raw-server.mjs'],
    { PORT: String(rawPort) },
    `http://127.0.0.1:${rawPort}/`,
  );
  const rawResult = await runLoad('node:http + JSON.parse', `http://127.0.0.1:${rawPort}/`, load);
  await stopChild(raw);

  const dataDir = await mkdtemp(join(tmpdir(), 'ps-bench-'));
  const port = await findFreePort();
  const collector = await startChild(
    ['--import', 'tsx', 'collector/src/main.ts'],
    {
      PORT: String(port),
      DATABASE_PATH: join(dataDir, 'bench.duckdb'),
      ADMIN_TOKEN: randomUUID(),
      LOG_LEVEL: 'warn',
      // Measure the collector, not its rate limits, which would reject a fast load from one app with 429.
      RATE_LIMIT_PER_IP: '0',
      RATE_LIMIT_PER_APP: '0',
    },
    `http://127.0.0.1:${port}/healthz`,
  );
  try {
    const collectorResult = await runLoad(
      'collector (DuckDB)',
      `http://127.0.0.1:${port}/v1/events`,
      load,
    );
    return [rawResult, collectorResult];
  } finally {
    await stopChild(collector);
    await rm(dataDir, { recursive: true, force: true });
  }
}
