/**
 * Memory soak: runs the collector as a child process on 127.0.0.1, measures
 * its maximum ingest rate, then loads it at half that rate for a fixed time
 * while sampling its resident memory (VmRSS) every 10 s. Prints the samples
 * and the growth from the first minute to the last. Every load stops by
 * itself after its duration.
 *
 * Run alone: `npx tsx scripts/bench/soak.ts [minutes] [DuckDB memory limit] [events/s]`
 * (defaults 10, 256MB and half the maximum rate).
 */
import autocannon from 'autocannon';
import { randomUUID } from 'node:crypto';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findFreePort, startChild, stopChild } from './ingest.js';

const MINUTE_MS = 60_000;

/** Options of `runSoak`. */
export interface SoakOptions {
  /** Length of the soak, 1 min to 24 h. @default 600000 (10 min) */
  durationMs?: number;
  /** Interval between RSS samples, 1 s to 1 min. @default 10000 */
  sampleIntervalMs?: number;
  /** Load rate in events per second. When left out, half the rate measured first. */
  eventsPerSecond?: number;
  /** Length of the maximum-rate measurement, 5 to 60 s. @default 10 */
  maxRateSeconds?: number;
  /**
   * `DUCKDB_MEMORY_LIMIT` of the collector, or null for DuckDB's default of
   * 80% of physical memory, under which its block cache grows with the data.
   * @default "256MB"
   */
  duckdbMemoryLimit?: string | null;
  /** Prints each sample as it is taken. @default console.log */
  log?: (line: string) => void;
}

/** One RSS sample of the collector process. */
export interface RssSample {
  /** Time since the soak load started, in ms. */
  atMs: number;
  rssBytes: number;
}

/** Figures of one soak. */
export interface SoakResult {
  /** Maximum rate measured before the soak, or null when `eventsPerSecond` was given. */
  maxEventsPerSecond: number | null;
  /** Rate the soak aimed at. */
  targetEventsPerSecond: number;
  /** Rate the soak reached, from the requests autocannon completed. */
  achievedEventsPerSecond: number;
  non2xx: number;
  samples: RssSample[];
  /** Median RSS of the samples in the first minute. */
  firstMinuteRssBytes: number;
  /** Median RSS of the samples in the last minute. */
  lastMinuteRssBytes: number;
  /** Growth from the first minute to the last, in percent. */
  growthPercent: number;
}

/**
 * Shape of the load: the connections of the throughput benchmark, so that
 * group-commit latency cannot hold the capped rate below its target. Each session ends after `batchesPerSession` batches and a
 * new one takes its place, as sessions of real users end. The pool is small
 * enough that the set of live sessions, and so the live event key, reaches
 * its steady size within the first minute at 1,000 events/s or more.
 */
const SOAK_LOAD = { connections: 50, eventsPerBatch: 20, sessions: 250, batchesPerSession: 10 };

/** One slot of the session pool: the session in it and the batches it sent. */
interface SessionSlot {
  id: string;
  batches: number;
}

/**
 * Returns a function that builds the next batch body for a session picked at
 * random. A session's last batch ends with a `session_end` event, and a new
 * session replaces it in the pool.
 */
function createBodySource(): () => string {
  const pool: SessionSlot[] = Array.from({ length: SOAK_LOAD.sessions }, () => ({
    id: randomUUID(),
    batches: 0,
  }));

  return () => {
    const slot = pool[Math.floor(Math.random() * pool.length)]!;
    const sessionId = slot.id;
    slot.batches += 1;
    const isLast = slot.batches >= SOAK_LOAD.batchesPerSession;
    if (isLast) Object.assign(slot, { id: randomUUID(), batches: 0 });

    const now = Date.now();
    const events: object[] = Array.from({ length: SOAK_LOAD.eventsPerBatch }, (_, index) => ({
      id: randomUUID(),
      type: 'activity',
      ts: now - SOAK_LOAD.eventsPerBatch + index,
      data: { kind: 'pointer', count: 1 + (index % 5) },
    }));
    if (isLast) events.push({ id: randomUUID(), type: 'session_end', ts: now, data: { reason: 'logout' } });
    return JSON.stringify({
      v: 1,
      appId: 'soak',
      sessionId,
      tabId: `tab-${sessionId}`,
      clientId: `client-${sessionId}`,
      events,
    });
  };
}

/** Reads the resident set size of a process from /proc (Linux only), in bytes. */
export async function readRssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!match) throw new Error(`VmRSS missing from /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/** Runs autocannon against `url` for `seconds`, with a cap in requests per second when given. */
async function load(url: string, seconds: number, requestsPerSecond?: number) {
  const nextBody = createBodySource();
  return autocannon({
    url,
    method: 'POST',
    connections: SOAK_LOAD.connections,
    duration: seconds,
    ...(requestsPerSecond === undefined ? {} : { overallRate: requestsPerSecond }),
    headers: { 'content-type': 'text/plain;charset=UTF-8' },
    requests: [
      {
        setupRequest: (request) => ({
          ...request,
          body: nextBody(),
        }),
      },
    ],
  });
}

/** Samples the RSS of `pid` every `intervalMs` until `stop` is called. */
function sampleRss(pid: number, intervalMs: number, log: (line: string) => void) {
  const samples: RssSample[] = [];
  const startedAt = Date.now();
  const take = async () => {
    const sample = { atMs: Date.now() - startedAt, rssBytes: await readRssBytes(pid) };
    samples.push(sample);
    log(`  ${(sample.atMs / 1000).toFixed(0).padStart(5)} s  RSS ${mebibytes(sample.rssBytes)} MiB`);
  };
  const timer = setInterval(() => void take(), intervalMs);
  void take();
  return {
    samples,
    stop: async () => {
      clearInterval(timer);
      await take();
    },
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function mebibytes(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(1);
}

/** Returns the median RSS of the first and of the last minute of samples, and the growth. */
export function summarizeRss(samples: RssSample[]) {
  const end = samples.at(-1)?.atMs ?? 0;
  const first = samples.filter((sample) => sample.atMs <= MINUTE_MS).map((s) => s.rssBytes);
  const last = samples.filter((sample) => sample.atMs >= end - MINUTE_MS).map((s) => s.rssBytes);
  const firstMinuteRssBytes = median(first);
  const lastMinuteRssBytes = median(last);
  const growthPercent = ((lastMinuteRssBytes - firstMinuteRssBytes) / firstMinuteRssBytes) * 100;
  return { firstMinuteRssBytes, lastMinuteRssBytes, growthPercent };
}

function validateSoak(
  options: SoakOptions,
): Required<Omit<SoakOptions, 'eventsPerSecond' | 'duckdbMemoryLimit'>> {
  const durationMs = options.durationMs ?? 10 * MINUTE_MS;
  const sampleIntervalMs = options.sampleIntervalMs ?? 10_000;
  const maxRateSeconds = options.maxRateSeconds ?? 10;
  if (!Number.isInteger(durationMs) || durationMs < MINUTE_MS || durationMs > 24 * 60 * MINUTE_MS) {
    throw new Error(`durationMs must be an integer from 60000 to 86400000, received ${durationMs}`);
  }
  if (!Number.isInteger(sampleIntervalMs) || sampleIntervalMs < 1000 || sampleIntervalMs > MINUTE_MS) {
    throw new Error(`sampleIntervalMs must be an integer from 1000 to 60000, received ${sampleIntervalMs}`);
  }
  if (!Number.isInteger(maxRateSeconds) || maxRateSeconds < 5 || maxRateSeconds > 60) {
    throw new Error(`maxRateSeconds must be an integer from 5 to 60, received ${maxRateSeconds}`);
  }
  const rate = options.eventsPerSecond;
  if (rate !== undefined && !(Number.isFinite(rate) && rate >= SOAK_LOAD.eventsPerBatch)) {
    throw new Error(`eventsPerSecond must be at least ${SOAK_LOAD.eventsPerBatch}, received ${rate}`);
  }
  return { durationMs, sampleIntervalMs, maxRateSeconds, log: options.log ?? console.log };
}

/**
 * Starts the collector on a DuckDB file in a temp folder, measures its
 * maximum rate (unless `eventsPerSecond` is given), then loads it at half
 * that rate for `durationMs` while sampling its RSS. Stops the collector
 * and deletes the folder afterwards.
 */
export async function runSoak(options: SoakOptions = {}): Promise<SoakResult> {
  const { durationMs, sampleIntervalMs, maxRateSeconds, log } = validateSoak(options);
  const memoryLimit = options.duckdbMemoryLimit === undefined ? '256MB' : options.duckdbMemoryLimit;
  const dataDir = await mkdtemp(join(tmpdir(), 'ps-soak-'));
  const port = await findFreePort();
  const collector = await startChild(
    ['--import', 'tsx', 'collector/src/main.ts'],
    {
      PORT: String(port),
      DATABASE_PATH: join(dataDir, 'soak.duckdb'),
      ADMIN_TOKEN: randomUUID(),
      LOG_LEVEL: 'warn',
      // Measure the collector, not its rate limits, which would reject a fast load from one app with 429.
      RATE_LIMIT_PER_IP: '0',
      RATE_LIMIT_PER_APP: '0',
      DUCKDB_MEMORY_LIMIT: memoryLimit ?? '',
      // The malloc arena cap that `npm start` sets, unless the caller's environment sets one.
      MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2',
    },
    `http://127.0.0.1:${port}/healthz`,
  );
  const url = `http://127.0.0.1:${port}/v1/events`;
  log(`DuckDB memory limit: ${memoryLimit ?? 'default (80% of physical memory)'}`);

  try {
    let maxEventsPerSecond: number | null = null;
    if (options.eventsPerSecond === undefined) {
      const burst = await load(url, maxRateSeconds);
      maxEventsPerSecond = burst.requests.average * SOAK_LOAD.eventsPerBatch;
      log(`max rate: ${Math.round(maxEventsPerSecond)} events/s over ${maxRateSeconds} s`);
    }
    const targetEventsPerSecond = options.eventsPerSecond ?? maxEventsPerSecond! / 2;
    const requestsPerSecond = Math.max(1, Math.round(targetEventsPerSecond / SOAK_LOAD.eventsPerBatch));
    log(`soak: ${requestsPerSecond * SOAK_LOAD.eventsPerBatch} events/s for ${durationMs / 1000} s`);

    const sampler = sampleRss(collector.pid!, sampleIntervalMs, log);
    const result = await load(url, Math.round(durationMs / 1000), requestsPerSecond);
    await sampler.stop();

    const achieved = (result.requests.total * SOAK_LOAD.eventsPerBatch) / (durationMs / 1000);
    return {
      maxEventsPerSecond,
      targetEventsPerSecond,
      achievedEventsPerSecond: achieved,
      non2xx: result.non2xx,
      samples: sampler.samples,
      ...summarizeRss(sampler.samples),
    };
  } finally {
    await stopChild(collector);
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Prints the summary lines of a soak. */
export function printSoak(result: SoakResult, log: (line: string) => void = console.log): void {
  log(
    `soak: ${Math.round(result.achievedEventsPerSecond)} events/s reached ` +
      `(target ${Math.round(result.targetEventsPerSecond)}), non-2xx ${result.non2xx}`,
  );
  log(
    `RSS first minute ${mebibytes(result.firstMinuteRssBytes)} MiB, last minute ` +
      `${mebibytes(result.lastMinuteRssBytes)} MiB, growth ${result.growthPercent.toFixed(1)}%`,
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const minutes = Number(process.argv[2] ?? 10);
  const duckdbMemoryLimit = process.argv[3];
  const eventsPerSecond = process.argv[4] === undefined ? undefined : Number(process.argv[4]);
  printSoak(
    await runSoak({
      durationMs: Math.round(minutes * MINUTE_MS),
      ...(duckdbMemoryLimit === undefined ? {} : { duckdbMemoryLimit }),
      ...(eventsPerSecond === undefined ? {} : { eventsPerSecond }),
    }),
  );
}
