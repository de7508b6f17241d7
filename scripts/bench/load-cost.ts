/**
 * DuckDB load cost: writes ingest log segments shaped like the ingest
 * benchmark's load and loads them into a DuckDB file in a temp folder with the
 * collector's own `loadLog`. Prints the CPU time of the process (all threads)
 * per event. Nothing else runs in the process during a load, so the figure is
 * what storing an event in DuckDB costs, apart from receiving, checking and
 * logging it.
 *
 * Run alone: `npx tsx scripts/bench/load-cost.ts [events per load] [loads]`
 * (defaults 40000, the events of one 0.5 s load at 80,000 events/s, and 12).
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runMigrations } from '../../collector/src/storage/migrations.js';
import type { EventRow, SessionRow } from '../../collector/src/storage/rows.js';
import { sessionRowFixture } from '../../collector/src/storage/test-fixtures.js';
import { formatGroup, WriteStatements } from '../../collector/src/storage/write-statements.js';

/** Options of `measureLoadCost`. */
export interface LoadCostOptions {
  /** Events in each loaded segment. @default 40000 */
  eventsPerLoad?: number;
  /** Loads measured, after two unmeasured ones that warm DuckDB up. @default 12 */
  loads?: number;
  /** Sessions the events spread over, as in the ingest benchmark. @default 1000 */
  sessions?: number;
  /** Events a write group holds: one batch. @default 20 */
  eventsPerGroup?: number;
}

/** Figures of `measureLoadCost`. */
export interface LoadCost {
  eventsPerLoad: number;
  loads: number;
  /** CPU time of all threads per event, in µs. */
  cpuUsPerEvent: number;
  /** Wall time per event, in µs. */
  wallUsPerEvent: number;
}

const WARM_UP_LOADS = 2;

/** Writes one segment of `eventsPerLoad` events to `path` and returns the rows of its sessions. */
async function writeSegment(
  path: string,
  sessionIds: readonly string[],
  options: Required<LoadCostOptions>,
): Promise<SessionRow[]> {
  const now = Date.now();
  const sessions = new Map<string, SessionRow>();
  const parts: string[] = [];

  for (let written = 0; written < options.eventsPerLoad; written += options.eventsPerGroup) {
    const sessionId = sessionIds[Math.floor(Math.random() * sessionIds.length)]!;
    const events: EventRow[] = Array.from({ length: options.eventsPerGroup }, (_, index) => ({
      id: randomUUID(),
      sessionId,
      tabId: `tab-${sessionId}`,
      appId: 'bench',
      type: 'activity',
      clientTs: now + index,
      ts: now + index,
      receivedAt: now,
      data: `{"kind":"pointer","count":${1 + (index % 5)}}`,
    }));
    const session = sessionRowFixture({ id: sessionId, appId: 'bench', startedAt: now, updatedAt: now });
    sessions.set(sessionId, session);
    parts.push(formatGroup(events, { sessions: [session], audit: [] }));
  }
  await writeFile(path, parts.join(''));
  return [...sessions.values()];
}

/**
 * Loads segments into a fresh DuckDB file with `WriteStatements.loadLog`.
 * Returns the CPU and wall time per event of the measured loads.
 */
export async function measureLoadCost(options: LoadCostOptions = {}): Promise<LoadCost> {
  const settings: Required<LoadCostOptions> = {
    eventsPerLoad: options.eventsPerLoad ?? 40_000,
    loads: options.loads ?? 12,
    sessions: options.sessions ?? 1000,
    eventsPerGroup: options.eventsPerGroup ?? 20,
  };
  const dataDir = await mkdtemp(join(tmpdir(), 'ps-load-cost-'));
  const instance = await DuckDBInstance.create(join(dataDir, 'load.duckdb'));
  try {
    const writer = await instance.connect();
    await runMigrations(writer);
    const statements = await WriteStatements.create(writer, await instance.connect());
    const sessionIds = Array.from({ length: settings.sessions }, () => randomUUID());
    let cpuUs = 0;
    let wallMs = 0;

    for (let seq = 1; seq <= WARM_UP_LOADS + settings.loads; seq += 1) {
      const path = join(dataDir, `${seq}.ndjson`);
      const sessions = await writeSegment(path, sessionIds, settings);
      const cpuBefore = process.cpuUsage();
      const startedAt = performance.now();

      await statements.loadLog([{ seq, path }], { sessions, audit: [] });

      if (seq > WARM_UP_LOADS) {
        const cpu = process.cpuUsage(cpuBefore);
        cpuUs += cpu.user + cpu.system;
        wallMs += performance.now() - startedAt;
      }
    }
    const events = settings.eventsPerLoad * settings.loads;
    return {
      eventsPerLoad: settings.eventsPerLoad,
      loads: settings.loads,
      cpuUsPerEvent: cpuUs / events,
      wallUsPerEvent: (wallMs * 1000) / events,
    };
  } finally {
    instance.closeSync();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Prints the figures of `measureLoadCost`. */
export function printLoadCost(cost: LoadCost, log: (line: string) => void = console.log): void {
  log(
    `DuckDB load, ${cost.loads} loads of ${cost.eventsPerLoad} events: ` +
      `${cost.cpuUsPerEvent.toFixed(2)} µs CPU and ${cost.wallUsPerEvent.toFixed(2)} µs wall per event`,
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const eventsPerLoad = process.argv[2] === undefined ? undefined : Number(process.argv[2]);
  const loads = process.argv[3] === undefined ? undefined : Number(process.argv[3]);
  printLoadCost(
    await measureLoadCost({
      ...(eventsPerLoad === undefined ? {} : { eventsPerLoad }),
      ...(loads === undefined ? {} : { loads }),
    }),
  );
}
