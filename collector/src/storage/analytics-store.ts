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
import type { ReportQuery } from './analytics-query.js';
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
import { listBucketStarts } from './analytics-zoned-time.js';

/**
 * Report queries over the `sessions` table, on a connection of their own, so
 * a long report never delays the reads of the ingest path. Every number it
 * returns is a JS number.
 */
export class AnalyticsStore {
  readonly #connection: DuckDBConnection;
  #timeZones: Promise<Set<string>> | undefined;

  private constructor(connection: DuckDBConnection) {
    this.#connection = connection;
  }

  /** Opens the store's connection on `instance`. */
  static async open(instance: DuckDBInstance): Promise<AnalyticsStore> {
    return new AnalyticsStore(await instance.connect());
  }

  /** Returns whether DuckDB's time zone database knows `name`, such as `Europe/Berlin`. */
  async isTimeZone(name: string): Promise<boolean> {
    this.#timeZones ??= this.#connection
      .runAndReadAll('SELECT name FROM pg_timezone_names()')
      .then((reader) => new Set(reader.getRowObjectsJS().map((row) => String(row.name))));
    return (await this.#timeZones).has(name);
  }

  /** Lists the start (epoch ms) of every bucket that overlaps the range. */
  listBuckets(query: ReportQuery): number[] {
    return listBucketStarts(query.from, query.to, query.interval, query.timeZone);
  }

  /** Counts sessions, unique, new and returning users per bucket. */
  sessionCounts(query: ReportQuery): Promise<Series<SessionCounts>> {
    return readSessionCounts(this.#connection, query, this.listBuckets(query));
  }

  /** Computes duration, engaged and idle time per bucket. */
  durations(query: ReportQuery): Promise<Series<DurationStats>> {
    return readDurations(this.#connection, query, this.listBuckets(query));
  }

  /** Counts bounces among ended sessions per bucket. */
  bounces(query: ReportQuery): Promise<Series<BounceStats>> {
    return readBounces(this.#connection, query, this.listBuckets(query));
  }

  /** Counts sessions by end reason per bucket. */
  endReasons(query: ReportQuery): Promise<Series<EndReasonCounts>> {
    return readEndReasons(this.#connection, query, this.listBuckets(query));
  }

  /** Computes the live session count per bucket and its peak. */
  concurrency(query: ReportQuery): Promise<Concurrency> {
    return readConcurrency(this.#connection, query, this.listBuckets(query));
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
