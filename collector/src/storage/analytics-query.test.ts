import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { type BucketKind, createBucketing, type ReportQuery } from './analytics-query.js';
import { formatBucket, startOfLocalDate } from './analytics-zoned-time.js';

const HOUR = 3_600_000;

function query(from: number, to: number, timeZone: string): ReportQuery {
  return { from, to, interval: 'day', timeZone, now: to };
}

/** Runs the bucketing's SQL index on each instant in DuckDB and maps it back to a start. */
async function bucketsInDuckDb(q: ReportQuery, kind: BucketKind, instants: number[]) {
  const bucketing = createBucketing(q, kind);
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const list = instants.join(', ');
    const reader = await connection.runAndReadAll(
      `SELECT ${bucketing.indexSql('ms')} AS bucket FROM (SELECT unnest([${list}]::BIGINT[]) AS ms)`,
    );
    return reader.getRowObjectsJS().map((row) => bucketing.startOf(Number(row.bucket)));
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

describe('createBucketing', () => {
  it('day buckets span DST changes', () => {
    // Berlin moves to summer time on 2024-03-31 (23 h) and back on 2024-10-27 (25 h).
    const spring = createBucketing(
      query(Date.UTC(2024, 2, 30), Date.UTC(2024, 3, 2), 'Europe/Berlin'),
      'day',
    );
    const autumn = createBucketing(
      query(Date.UTC(2024, 9, 26), Date.UTC(2024, 9, 28, 12), 'Europe/Berlin'),
      'day',
    );

    expect(spring.starts).toEqual([
      Date.UTC(2024, 2, 29, 23),
      Date.UTC(2024, 2, 30, 23),
      Date.UTC(2024, 2, 31, 22),
      Date.UTC(2024, 3, 1, 22),
    ]);
    expect(autumn.starts.map((start) => formatBucket(start, 'day', 'Europe/Berlin'))).toEqual([
      '2024-10-26',
      '2024-10-27',
      '2024-10-28',
    ]);
    expect(autumn.starts[2]! - autumn.starts[1]!).toBe(25 * HOUR);
  });

  it('hour buckets merge repeated hour', () => {
    const bucketing = createBucketing(
      query(Date.UTC(2024, 9, 26, 22), Date.UTC(2024, 9, 27, 4), 'Europe/Berlin'),
      'hour',
    );

    const labels = bucketing.starts.map((start) => formatBucket(start, 'hour', 'Europe/Berlin'));
    // 02:00 to 03:00 local happens twice that night, and counts as one bucket of two hours.
    expect(labels).toEqual([
      '2024-10-27 00:00',
      '2024-10-27 01:00',
      '2024-10-27 02:00',
      '2024-10-27 03:00',
      '2024-10-27 04:00',
    ]);
    expect(bucketing.starts[3]! - bucketing.starts[2]!).toBe(2 * HOUR);
  });

  it('hour buckets follow half-hour offsets', () => {
    const bucketing = createBucketing(
      query(Date.UTC(2024, 0, 1, 0), Date.UTC(2024, 0, 1, 2), 'Asia/Kolkata'),
      'hour',
    );

    expect(bucketing.starts).toEqual([
      Date.UTC(2023, 11, 31, 23, 30),
      Date.UTC(2024, 0, 1, 0, 30),
      Date.UTC(2024, 0, 1, 1, 30),
    ]);
  });

  it('week buckets start on Monday', () => {
    // 2024-05-01 was a Wednesday.
    const bucketing = createBucketing(
      query(Date.UTC(2024, 4, 1), Date.UTC(2024, 4, 15), 'America/New_York'),
      'week',
    );

    expect(bucketing.starts.map((start) => formatBucket(start, 'day', 'America/New_York'))).toEqual(
      ['2024-04-29', '2024-05-06', '2024-05-13'],
    );
  });

  it('sql index matches js buckets', async () => {
    const q = query(Date.UTC(2024, 9, 26), Date.UTC(2024, 9, 28), 'Europe/Berlin');
    const bucketing = createBucketing(q, 'day');
    const instants = [
      Date.UTC(2024, 9, 26, 0),
      Date.UTC(2024, 9, 26, 21, 59, 59),
      Date.UTC(2024, 9, 26, 22),
      Date.UTC(2024, 9, 27, 0, 30),
      Date.UTC(2024, 9, 27, 1, 30),
      Date.UTC(2024, 9, 27, 22, 59, 59),
      Date.UTC(2024, 9, 27, 23),
    ];

    const starts = await bucketsInDuckDb(q, 'day', instants);

    const [oct26, oct27, oct28] = [
      startOfLocalDate('2024-10-26', 'Europe/Berlin'),
      startOfLocalDate('2024-10-27', 'Europe/Berlin'),
      startOfLocalDate('2024-10-28', 'Europe/Berlin'),
    ];
    expect(bucketing.starts).toEqual([oct26, oct27, oct28]);
    expect(starts).toEqual([oct26, oct26, oct27, oct27, oct27, oct27, oct28]);
    expect(oct28).toBe(Date.UTC(2024, 9, 27, 23));
  });
});
