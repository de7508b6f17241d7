/**
 * Ingest benchmark: 50 connections posting 20-event batches to the collector
 * (writing to a DuckDB file in a temp folder) and, in the same run, to a bare
 * node:http + JSON.parse server. Both servers run as child processes on
 * 127.0.0.1 and every load stops by itself after its duration.
 */
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
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
  /** CPU time per request, in µs, when /proc can be read (Linux). */
  cpu: RequestCpu | null;
}

/** CPU time per request of a server and of the load generator, in µs. */
export interface RequestCpu {
  /** The server's main thread, which runs its JavaScript. */
  serverMainUs: number;
  /** The server's other threads: DuckDB, libuv's pool, V8's helpers. */
  serverOtherUs: number;
  /** This process, which runs autocannon. */
  loadGeneratorUs: number;
}

/** CPU time a process used so far, in µs: its main thread and its other threads. */
interface ProcessCpu {
  mainUs: number;
  otherUs: number;
}

/** Linux reports thread CPU time in clock ticks of 1/100 s (USER_HZ). */
const US_PER_CLOCK_TICK = 10_000;

/** Reads the CPU time of each thread of `pid` from /proc, or returns null where /proc is missing. */
async function readProcessCpu(pid: number): Promise<ProcessCpu | null> {
  const cpu = { mainUs: 0, otherUs: 0 };
  let threads: string[];
  try {
    threads = await readdir(`/proc/${pid}/task`);
  } catch {
    return null;
  }
  for (const thread of threads) {
    const stat = await readFile(`/proc/${pid}/task/${thread}/stat`, 'utf8').catch(() => '');
    // Fields after the command name, which may contain spaces: utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const us = (Number(fields[11]) + Number(fields[12])) * US_PER_CLOCK_TICK || 0;
    if (thread === String(pid)) cpu.mainUs += us;
    else cpu.otherUs += us;
  }
  return cpu;
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

/** Runs autocannon against `url` of the server process `pid` with unique bodies per request. */
async function runLoad(
  name: string,
  url: string,
  pid: number,
  load: IngestLoad,
): Promise<IngestResult> {
  const sessionIds = Array.from({ length: load.sessions }, () => randomUUID());
  const serverBefore = await readProcessCpu(pid);
  const loadGeneratorBefore = process.cpuUsage();
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
  const loadGenerator = process.cpuUsage(loadGeneratorBefore);
  const serverAfter = await readProcessCpu(pid);
  const requestsPerSecond = result.requests.average;
  const requests = Math.max(1, result.requests.total);
  const cpu =
    serverBefore && serverAfter
      ? {
          serverMainUs: (serverAfter.mainUs - serverBefore.mainUs) / requests,
          serverOtherUs: (serverAfter.otherUs - serverBefore.otherUs) / requests,
          loadGeneratorUs: (loadGenerator.user + loadGenerator.system) / requests,
        }
      : null;

  return {
    name,
    requestsPerSecond,
    eventsPerSecond: requestsPerSecond * load.eventsPerBatch,
    p99LatencyMs: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    cpu,
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
  const rawResult = await runLoad(
    'node:http + JSON.parse',
    `http://127.0.0.1:${rawPort}/`,
    raw.pid!,
    load,
  );
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
      collector.pid!,
      load,
    );
    return [rawResult, collectorResult];
  } finally {
    await stopChild(collector);
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Share of the raw server's rate the collector aims at. */
export const RATIO_GOAL = 0.4;

/**
 * Prints each server's rate and CPU per request, and the collector/raw ratio.
 * Then prints two limits on `cores` cores: the collector's highest rate at its
 * measured CPU cost, and the CPU per request it may use to reach `RATIO_GOAL`.
 * The highest rate is bound by its main thread or by all cores, which it
 * shares with the load generator, whichever binds first.
 */
export function printIngest(
  results: readonly IngestResult[],
  cores: number,
  log: (line: string) => void = console.log,
): void {
  for (const result of results) {
    log(
      `  ${result.name.padEnd(24)} ${Math.round(result.eventsPerSecond).toString().padStart(8)} events/s` +
        `  p99 ${result.p99LatencyMs} ms  non-2xx ${result.non2xx}  errors ${result.errors}`,
    );
    if (result.cpu) {
      const { serverMainUs, serverOtherUs, loadGeneratorUs } = result.cpu;
      log(
        `  ${''.padEnd(24)} CPU per request: main thread ${serverMainUs.toFixed(0)} µs, ` +
          `other threads ${serverOtherUs.toFixed(0)} µs, load generator ${loadGeneratorUs.toFixed(0)} µs`,
      );
    }
  }
  const [raw, collector] = results;
  if (!raw || !collector) return;
  log(`  ratio collector/raw: ${(collector.eventsPerSecond / raw.eventsPerSecond).toFixed(3)}`);
  if (!collector.cpu) return;

  const { serverMainUs, serverOtherUs, loadGeneratorUs } = collector.cpu;
  const eventsPerRequest = collector.eventsPerSecond / Math.max(1, collector.requestsPerSecond);
  const ceilingRequests = Math.min(
    1e6 / serverMainUs,
    (cores * 1e6) / (serverMainUs + serverOtherUs + loadGeneratorUs),
  );
  const goalRequests = (RATIO_GOAL * raw.eventsPerSecond) / eventsPerRequest;
  const allowedUs = (cores * 1e6) / goalRequests - loadGeneratorUs;
  log(
    `  CPU ceiling of the collector on ${cores} cores at this cost: ` +
      `${Math.round(ceilingRequests * eventsPerRequest)} events/s`,
  );
  log(
    `  ratio ${RATIO_GOAL} needs ${Math.round(goalRequests * eventsPerRequest)} events/s: ` +
      `at most ${allowedUs.toFixed(0)} µs of collector CPU per request (all threads), ` +
      `now ${(serverMainUs + serverOtherUs).toFixed(0)} µs`,
  );
}
