/**
 * Report latency benchmark. It seeds a DuckDB file in a temp folder with
 * synthetic sessions (scripts/seed-demo.ts). Then it calls every report
 * endpoint of the collector app in process, one request at a time, and
 * records the median and 90th percentile latency of each. The default scale
 * is the one the reports are specified for: 10 million events in 500,000
 * sessions over 30 days.
 *
 * Run alone: npx tsx scripts/bench/reports.ts [--events N] [--database path] [--runs N]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { createCollector } from '../../collector/src/app.js';
import { loadConfig } from '../../collector/src/config.js';
import { openStorage } from '../../collector/src/storage/index.js';
import { seedDemo, type SeedProgress } from '../seed-demo.js';

const DAY_MS = 86_400_000;
const BENCH_TOKEN = 'bench-admin-token-0123456789';

/** Options of `benchReports`. */
export interface ReportBenchOptions {
  /** Existing database to measure; when missing, a temp one is seeded with `events`. */
  databasePath?: string;
  /** Events to seed into the temp database. @default 10000000 */
  events?: number;
  /** Timed requests per endpoint, after one warm-up request. @default 15 */
  runs?: number;
  /** Called after each seed chunk. */
  onSeedProgress?: (progress: SeedProgress) => void;
}

/** Latency of one endpoint. */
export interface EndpointLatency {
  /** Path and query, relative to the 30-day range. */
  endpoint: string;
  medianMs: number;
  p90Ms: number;
  maxMs: number;
}

/** Figures of one benchmark run. */
export interface ReportBenchResult {
  sessions: number;
  events: number;
  /** Seconds spent seeding, or null when an existing database was measured. */
  seedSeconds: number | null;
  latencies: EndpointLatency[];
}

/** Endpoints measured, each over the last 30 days. */
const ENDPOINTS = [
  'sessions',
  'sessions?interval=hour',
  'sessions?timeZone=America/New_York',
  'duration',
  'duration?appId=shop-web&userGroup=customers',
  'bounce',
  'end-reasons',
  'concurrency',
  'concurrency?interval=hour',
  'frequency',
  'interactions',
  'tabs',
];

function percentile(sorted: number[], share: number): number {
  const index = Math.min(sorted.length - 1, Math.ceil(share * sorted.length) - 1);
  return Math.round(sorted[Math.max(0, index)]! * 10) / 10;
}

async function countRows(databasePath: string): Promise<{ sessions: number; events: number }> {
  const instance = await DuckDBInstance.create(databasePath);
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(
      'SELECT (SELECT count(*) FROM sessions) AS sessions, (SELECT count(*) FROM events) AS events',
    );
    const row = reader.getRowObjectsJS()[0] ?? {};
    return { sessions: Number(row.sessions), events: Number(row.events) };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Seeds (unless given a database) and measures every report endpoint. */
export async function benchReports(options: ReportBenchOptions = {}): Promise<ReportBenchResult> {
  const runs = options.runs ?? 15;
  const dir = options.databasePath ? undefined : await mkdtemp(join(tmpdir(), 'bench-reports-'));
  const databasePath = options.databasePath ?? join(dir!, 'reports.duckdb');

  try {
    let seedSeconds: number | null = null;
    if (dir) {
      const seeded = await seedDemo({
        databasePath,
        events: options.events ?? 10_000_000,
        ...(options.onSeedProgress ? { onProgress: options.onSeedProgress } : {}),
      });
      seedSeconds = Math.round(seeded.elapsedMs / 100) / 10;
    }
    const counts = await countRows(databasePath);
    const latencies = await measureEndpoints(databasePath, runs);
    return { ...counts, seedSeconds, latencies };
  } finally {
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}

async function measureEndpoints(databasePath: string, runs: number): Promise<EndpointLatency[]> {
  const storage = await openStorage(databasePath);
  const config = loadConfig({
    DATABASE_PATH: databasePath,
    ADMIN_TOKEN: BENCH_TOKEN,
    LOG_LEVEL: 'silent',
  });
  const app = createCollector({ storage, config });
  const to = Date.now();
  const range = `from=${to - 30 * DAY_MS}&to=${to}`;

  try {
    const latencies: EndpointLatency[] = [];
    for (const endpoint of ENDPOINTS) {
      const separator = endpoint.includes('?') ? '&' : '?';
      const url = `/v1/analytics/${endpoint}${separator}${range}`;
      const timings: number[] = [];
      for (let run = 0; run <= runs; run += 1) {
        const started = performance.now();
        const response = await app.request(url, {
          headers: { authorization: `Bearer ${BENCH_TOKEN}` },
        });
        await response.arrayBuffer();
        if (response.status !== 200)
          throw new Error(`${url} returned status ${response.status}, expected 200`);
        // The first request warms the caches and is not timed.
        if (run > 0) timings.push(performance.now() - started);
      }
      timings.sort((a, b) => a - b);
      latencies.push({
        endpoint,
        medianMs: percentile(timings, 0.5),
        p90Ms: percentile(timings, 0.9),
        maxMs: percentile(timings, 1),
      });
    }
    return latencies;
  } finally {
    await storage.close();
  }
}

/** Prints a result as the lines BENCHMARKS.md records. */
export function printReportBench(result: ReportBenchResult): void {
  const seeded = result.seedSeconds === null ? '' : `, seeded in ${result.seedSeconds} s`;
  console.log(`reports: ${result.events} events in ${result.sessions} sessions${seeded}`);
  for (const latency of result.latencies) {
    console.log(
      `  ${latency.endpoint.padEnd(46)} median ${String(latency.medianMs).padStart(6)} ms` +
        `  p90 ${String(latency.p90Ms).padStart(6)} ms  max ${String(latency.maxMs).padStart(6)} ms`,
    );
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '10000000' },
      database: { type: 'string' },
      runs: { type: 'string', default: '15' },
    },
  });
  const result = await benchReports({
    events: Number(values.events),
    runs: Number(values.runs),
    ...(values.database ? { databasePath: values.database } : {}),
    onSeedProgress: (progress) =>
      process.stderr.write(
        `\rseeding: ${progress.events} events, ${progress.sessions}/${progress.totalSessions} sessions`,
      ),
  });
  process.stderr.write('\n');
  printReportBench(result);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main();
}
