import type { DuckDBConnection } from '@duckdb/node-api';
import { type Concurrency, readConcurrency } from './analytics-concurrency.js';
import {
  type Distribution,
  type Frequency,
  type InteractionStats,
  readFrequency,
  readInteractions,
  readTabs,
} from './analytics-distributions.js';
import {
  type BucketKind,
  type Bucketing,
  createBucketing,
  type ReportQuery,
} from './analytics-query.js';
import {
  type BounceStats,
  type DurationStats,
  type EndReasonCounts,
  readBounces,
  readDurations,
  readEndReasons,
  readSessionCounts,
  type Series,
  type SessionCounts,
} from './analytics-series.js';
import type { SharedConnection } from './shared-connection.js';

/**
 * Report queries over the `sessions` table, on a connection of their own, so
 * a long report never delays the reads of the ingest path. Every number it
 * returns is a JS number.
 */
export class AnalyticsStore {
  readonly #connection: SharedConnection;
  readonly #sync: () => Promise<void>;
  /** Recent bucketings by range, kind and time zone, because a report needs one several times. */
  readonly #bucketings = new Map<string, Bucketing>();

  /**
   * Creates the store on its connection. Every query first awaits `sync`,
   * which resolves once the writes acknowledged so far are in DuckDB.
   */
  constructor(connection: SharedConnection, sync: () => Promise<void> = () => Promise.resolve()) {
    this.#connection = connection;
    this.#sync = sync;
  }

  /** Runs a query once the acknowledged writes are in DuckDB. */
  async #read<T>(query: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    await this.#sync();
    return this.#connection.use(query);
  }

  /** Lists the start (epoch ms) of every bucket that overlaps the range. */
  listBuckets(query: ReportQuery): number[] {
    return this.#bucketing(query, query.interval).starts;
  }

  #bucketing(query: ReportQuery, kind: BucketKind): Bucketing {
    const key = `${query.from}|${query.to}|${kind}|${query.timeZone}`;
    let bucketing = this.#bucketings.get(key);
    if (!bucketing) {
      if (this.#bucketings.size >= 32) this.#bucketings.clear();
      bucketing = createBucketing(query, kind);
      this.#bucketings.set(key, bucketing);
    }
    return bucketing;
  }

  /** Counts sessions, unique, new and returning users per bucket. */
  sessionCounts(query: ReportQuery): Promise<Series<SessionCounts>> {
    const bucketing = this.#bucketing(query, query.interval);
    return this.#read((connection) => readSessionCounts(connection, query, bucketing));
  }

  /** Computes duration, engaged and idle time per bucket. */
  durations(query: ReportQuery): Promise<Series<DurationStats>> {
    const bucketing = this.#bucketing(query, query.interval);
    return this.#read((connection) => readDurations(connection, query, bucketing));
  }

  /** Counts bounces among ended sessions per bucket. */
  bounces(query: ReportQuery): Promise<Series<BounceStats>> {
    const bucketing = this.#bucketing(query, query.interval);
    return this.#read((connection) => readBounces(connection, query, bucketing));
  }

  /** Counts sessions by end reason per bucket. */
  endReasons(query: ReportQuery): Promise<Series<EndReasonCounts>> {
    const bucketing = this.#bucketing(query, query.interval);
    return this.#read((connection) => readEndReasons(connection, query, bucketing));
  }

  /** Computes the live session count per bucket and its peak. */
  concurrency(query: ReportQuery): Promise<Concurrency> {
    const bucketing = this.#bucketing(query, query.interval);
    return this.#read((connection) => readConcurrency(connection, query, bucketing));
  }

  /** Computes sessions per user per day and per week. */
  frequency(query: ReportQuery): Promise<Frequency> {
    return this.#read((connection) => readFrequency(connection, query));
  }

  /** Computes interactions by kind and page views per session. */
  interactions(query: ReportQuery): Promise<InteractionStats> {
    return this.#read((connection) => readInteractions(connection, query));
  }

  /** Computes the distribution of the maximum tabs open at once per session. */
  tabs(query: ReportQuery): Promise<Distribution> {
    return this.#read((connection) => readTabs(connection, query));
  }

  /** Lists the ids of the sessions that have not ended. */
  async listLiveIds(): Promise<string[]> {
    const reader = await this.#read((connection) =>
      connection.runAndReadAll('SELECT id FROM sessions WHERE ended_at IS NULL'),
    );
    return reader.getRowObjectsJS().map((row) => String(row.id));
  }
}
