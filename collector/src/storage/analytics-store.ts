import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
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

/**
 * Report queries over the `sessions` table, on a connection of their own, so
 * a long report never delays the reads of the ingest path. Every number it
 * returns is a JS number.
 */
export class AnalyticsStore {
  readonly #connection: DuckDBConnection;
  /** Recent bucketings by range, kind and time zone, because a report needs one several times. */
  readonly #bucketings = new Map<string, Bucketing>();

  private constructor(connection: DuckDBConnection) {
    this.#connection = connection;
  }

  /** Opens the store's connection on `instance`. */
  static async open(instance: DuckDBInstance): Promise<AnalyticsStore> {
    return new AnalyticsStore(await instance.connect());
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
    return readSessionCounts(this.#connection, query, this.#bucketing(query, query.interval));
  }

  /** Computes duration, engaged and idle time per bucket. */
  durations(query: ReportQuery): Promise<Series<DurationStats>> {
    return readDurations(this.#connection, query, this.#bucketing(query, query.interval));
  }

  /** Counts bounces among ended sessions per bucket. */
  bounces(query: ReportQuery): Promise<Series<BounceStats>> {
    return readBounces(this.#connection, query, this.#bucketing(query, query.interval));
  }

  /** Counts sessions by end reason per bucket. */
  endReasons(query: ReportQuery): Promise<Series<EndReasonCounts>> {
    return readEndReasons(this.#connection, query, this.#bucketing(query, query.interval));
  }

  /** Computes the live session count per bucket and its peak. */
  concurrency(query: ReportQuery): Promise<Concurrency> {
    return readConcurrency(this.#connection, query, this.#bucketing(query, query.interval));
  }

  /** Computes sessions per user per day and per week. */
  frequency(query: ReportQuery): Promise<Frequency> {
    return readFrequency(this.#connection, query);
  }

  /** Computes interactions by kind and page views per session. */
  interactions(query: ReportQuery): Promise<InteractionStats> {
    return readInteractions(this.#connection, query);
  }

  /** Computes the distribution of the maximum tabs open at once per session. */
  tabs(query: ReportQuery): Promise<Distribution> {
    return readTabs(this.#connection, query);
  }

  /** Lists the ids of the sessions that have not ended. */
  async listLiveIds(): Promise<string[]> {
    const reader = await this.#connection.runAndReadAll(
      'SELECT id FROM sessions WHERE ended_at IS NULL',
    );
    return reader.getRowObjectsJS().map((row) => String(row.id));
  }

  /** Closes the connection. */
  close(): void {
    this.#connection.closeSync();
  }
}
