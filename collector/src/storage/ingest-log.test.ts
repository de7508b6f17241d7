import {
  appendFile,
  type FileHandle,
  mkdtemp,
  open as openFile,
  readdir,
  readFile,
  rm,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import { IngestLog } from './ingest-log.js';
import { LiveEventIndex } from './live-event-index.js';
import { runMigrations } from './migrations.js';
import { StorageBacklogError, StorageLoadError, WriteQueue } from './write-queue.js';
import { ingestLogPath, openStorage, type Storage } from './index.js';
import { eventRowFixture, sessionRowFixture } from './test-fixtures.js';
import { formatGroup, GROUP_LINE_PREFIX, WriteStatements } from './write-statements.js';

describe('ingest log', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ingest-log-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('append returns segment number', async () => {
    const { log } = await IngestLog.open(dir, 41, GROUP_LINE_PREFIX);

    const first = await log.append('{"id":"a"}\n');
    const second = await log.append('{"id":"b"}\n');
    const rotated = await log.rotate();
    const third = await log.append('{"id":"c"}\n');
    await log.close();

    expect([first, second, third]).toEqual([42, 42, 43]);
    expect(rotated.map((segment) => [segment.seq, segment.bytes])).toEqual([[42, 22]]);
    expect(await readFile(rotated[0]!.path, 'utf8')).toBe('{"id":"a"}\n{"id":"b"}\n');
  });

  it('rotate waits for a write', async () => {
    const { log } = await IngestLog.open(dir, 0, GROUP_LINE_PREFIX);
    await log.append('{"id":"first"}\n');

    const appending = log.append(`${'{"id":"x"}\n'.repeat(10_000)}`);
    const rotated = await log.rotate();
    await appending;

    const text = await readFile(rotated[0]!.path, 'utf8');
    expect(text.split('\n').filter(Boolean)).toHaveLength(10_001);
  });

  it('open cuts an incomplete group', async () => {
    const path = join(dir, '000000000007.ndjson');
    const complete = `{"id":"e1"}\n${GROUP_LINE_PREFIX}"sessions":[],"audit":[]}\n`;
    await writeFile(path, `${complete}{"id":"e2"}\n{"id":"e3"`);

    const { log, segments } = await IngestLog.open(dir, 0, GROUP_LINE_PREFIX);
    await log.close();

    expect(segments.map((segment) => segment.seq)).toEqual([7]);
    expect(segments[0]!.groupLines).toEqual([`${GROUP_LINE_PREFIX}"sessions":[],"audit":[]}`]);
    expect(segments[0]!.cutBytes).toBe('{"id":"e2"}\n{"id":"e3"'.length);
    expect(await readFile(path, 'utf8')).toBe(complete);
  });

  it('open moves unloadable lines aside', async () => {
    const path = join(dir, '000000000008.ndjson');
    const group = `${GROUP_LINE_PREFIX}"sessions":[],"audit":[]}`;
    await writeFile(path, `{"id":"e1"}\n{"id":\u0000}\n${group}\n{"id":"e2"}\n${group}\n`);
    const isLoadable = (line: string) => !line.includes('\u0000');

    const { log, segments } = await IngestLog.open(dir, 0, GROUP_LINE_PREFIX, isLoadable);
    await log.close();

    expect(segments[0]!.rejectedLines).toBe(1);
    expect(segments[0]!.rejectedPath).toBe(`${path}.rejected`);
    expect(segments[0]!.groupLines).toEqual([group, group]);
    expect(await readFile(`${path}.rejected`, 'utf8')).toBe('{"id":\u0000}\n');
    expect(await readFile(path, 'utf8')).toBe(`{"id":"e1"}\n${group}\n{"id":"e2"}\n${group}\n`);
    expect((await readdir(dir)).sort()).toEqual(['000000000008.ndjson', '000000000008.ndjson.rejected']);
  });

  it('open moves repeated event lines aside', async () => {
    const path = join(dir, '000000000010.ndjson');
    const group = `${GROUP_LINE_PREFIX}"sessions":[],"audit":[]}`;
    await writeFile(path, `{"id":"e1"}\n{"id":"e2"}\n${group}\n{"id":"e1"}\n{"id":"e3"}\n${group}\n`);

    const { log, segments } = await IngestLog.open(dir, 0, GROUP_LINE_PREFIX);
    await log.close();

    expect(segments[0]!.rejectedLines).toBe(1);
    expect(segments[0]!.groupLines).toEqual([group, group]);
    expect(await readFile(`${path}.rejected`, 'utf8')).toBe('{"id":"e1"}\n');
    expect(await readFile(path, 'utf8')).toBe(
      `{"id":"e1"}\n{"id":"e2"}\n${group}\n{"id":"e3"}\n${group}\n`,
    );
  });

  it('open rejects lines of invalid UTF-8', async () => {
    const path = join(dir, '000000000009.ndjson');
    const group = `${GROUP_LINE_PREFIX}"sessions":[],"audit":[]}`;
    // A byte 0xff inside a JSON string, which JSON.parse of the decoded text would accept.
    const damaged = Buffer.concat([
      Buffer.from('{"id":"e'),
      Buffer.from([0xff]),
      Buffer.from('"}\n'),
    ]);
    const torn = Buffer.from('{"id":"e3"');
    await writeFile(
      path,
      Buffer.concat([Buffer.from(`{"id":"e1"}\n`), damaged, Buffer.from(`${group}\n`), torn]),
    );

    const { log, segments } = await IngestLog.open(dir, 0, GROUP_LINE_PREFIX);
    await log.close();

    expect(segments[0]!.rejectedLines).toBe(1);
    expect(segments[0]!.cutBytes).toBe(torn.length);
    expect(segments[0]!.groupLines).toEqual([group]);
    expect(await readFile(`${path}.rejected`)).toEqual(damaged);
    expect(await readFile(path, 'utf8')).toBe(`{"id":"e1"}\n${group}\n`);
  });

  it('open cuts exactly after multibyte text', async () => {
    const path = join(dir, '000000000010.ndjson');
    const group = `${GROUP_LINE_PREFIX}"sessions":[],"audit":[]}`;
    const complete = `{"id":"e1","title":"Zoë 山田 🚀"}\n${group}\n`;
    await writeFile(path, `${complete}{"id":"ü`);

    const { log, segments } = await IngestLog.open(dir, 0, GROUP_LINE_PREFIX);
    await log.close();

    expect(segments[0]!.rejectedLines).toBe(0);
    expect(segments[0]!.cutBytes).toBe(Buffer.byteLength('{"id":"ü'));
    expect(await readFile(path, 'utf8')).toBe(complete);
  });

  it('open deletes unfinished replacements', async () => {
    await writeFile(join(dir, '000000000004.ndjson.tmp'), '{"id":"half"}\n');
    await writeFile(join(dir, '000000000004.ndjson.rejected'), '{"id":\n');

    const { log } = await IngestLog.open(dir, 0, GROUP_LINE_PREFIX);
    await log.close();

    expect(await readdir(dir)).toEqual(['000000000004.ndjson.rejected']);
  });

  it('segments sort by number', async () => {
    await writeFile(join(dir, '1000000000000.ndjson'), '');
    await writeFile(join(dir, '999999999999.ndjson'), '');

    const { log, segments } = await IngestLog.open(dir, 0, GROUP_LINE_PREFIX);
    const next = await log.append('{"id":"a"}\n');
    await log.close();

    expect(segments.map((segment) => segment.seq)).toEqual([999_999_999_999, 1_000_000_000_000]);
    expect(next).toBe(1_000_000_000_001);
  });

  it('segment number too large', async () => {
    const path = join(dir, `${2 ** 53 + 1}.ndjson`);
    await writeFile(path, '');

    await expect(IngestLog.open(dir, 0, GROUP_LINE_PREFIX)).rejects.toThrow(
      `Ingest log file ${path} has a number above ${2 ** 50}`,
    );
  });

  it('open deletes loaded segments', async () => {
    await writeFile(join(dir, '000000000003.ndjson'), '');
    await writeFile(join(dir, '000000000004.ndjson'), '');

    const { log, segments } = await IngestLog.open(dir, 3, GROUP_LINE_PREFIX);
    const next = await log.append('{"id":"a"}\n');
    await log.close();

    expect(segments.map((segment) => segment.seq)).toEqual([4]);
    expect((await readdir(dir)).sort()).toEqual(['000000000004.ndjson', '000000000005.ndjson']);
    expect(next).toBe(5);
  });
});

type FileHandleWrite = (
  this: unknown,
  buffer: Buffer,
  offset: number,
  length: number,
  position: number,
) => ReturnType<FileHandle['write']>;

describe('storage with ingest log', () => {
  let dir: string;
  let path: string;
  let storage: Storage | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ingest-recovery-'));
    path = join(dir, 'collector.duckdb');
  });

  afterEach(async () => {
    await storage?.close();
    storage = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  /** Writes a segment as a crashed process would have left it: complete groups, then a torn one. */
  async function leaveSegment(seq: number, text: string): Promise<string> {
    const segmentPath = join(ingestLogPath(path), `${String(seq).padStart(12, '0')}.ndjson`);
    await appendFile(segmentPath, text);
    return segmentPath;
  }

  it('crash leftovers load at open', async () => {
    await (await openStorage(path)).close();
    const session = sessionRowFixture({ id: 'session-crash', eventCount: 2 });
    const events = ['event-crash-1', 'event-crash-2'].map((id) =>
      eventRowFixture({ id, sessionId: session.id }),
    );
    const torn = eventRowFixture({ id: 'event-torn', sessionId: session.id });
    const segmentPath = await leaveSegment(
      1,
      formatGroup(events, { sessions: [session], audit: [] }) + JSON.stringify(torn),
    );

    const recovered: unknown[] = [];
    storage = await openStorage(path, { onLogRecovered: (segments) => recovered.push(...segments) });

    expect(recovered).toEqual([
      { path: segmentPath, groups: 1, cutBytes: JSON.stringify(torn).length, rejectedLines: 0 },
    ]);
    expect(await storage.getSession(session.id)).toEqual(session);
    const stored = await storage.listEvents(session.id);
    expect(stored.map((row) => row.id)).toEqual(['event-crash-1', 'event-crash-2']);
    await expect(readFile(segmentPath)).rejects.toThrow(/ENOENT/);
    const isDuplicate = await storage.transact({
      sessionIds: [],
      eventIds: ['event-crash-1'],
      apply: (view) => view.hasEvent(session.id, 'event-crash-1'),
    });
    expect(isDuplicate).toBe(true);
  });

  it('loaded segment not loaded twice', async () => {
    const first = await openStorage(path);
    await first.transact({
      sessionIds: [],
      eventIds: ['event-once'],
      apply: (view) => view.addEvent(eventRowFixture({ id: 'event-once' })),
    });
    await first.close();
    // Segment 1 was loaded and deleted; a crash before the delete would leave it.
    const event = eventRowFixture({ id: 'event-once' });
    const segmentPath = await leaveSegment(1, formatGroup([event], { sessions: [], audit: [] }));

    storage = await openStorage(path);

    expect(await storage.listEvents(event.sessionId)).toHaveLength(1);
    await expect(readFile(segmentPath)).rejects.toThrow(/ENOENT/);
  });

  it('damaged lines move aside at open', async () => {
    await (await openStorage(path)).close();
    const session = sessionRowFixture({ id: 'session-damaged', eventCount: 2 });
    const events = ['event-kept-1', 'event-kept-2'].map((id) =>
      eventRowFixture({ id, sessionId: session.id }),
    );
    const damagedEvent = JSON.stringify(eventRowFixture({ id: 'event-damaged' })).slice(0, 40);
    const damagedGroup = `${GROUP_LINE_PREFIX}"sessions":[{"id":}]}`;
    const wrongType = JSON.stringify({ ...eventRowFixture({ id: 'event-wrong' }), ts: 'soon' });
    // A sound event line of the group whose group line is damaged.
    const orphan = JSON.stringify(eventRowFixture({ id: 'event-orphan', sessionId: 'session-orphan' }));
    const segmentPath = await leaveSegment(
      1,
      `${damagedEvent}\n${formatGroup(events.slice(0, 1), { sessions: [], audit: [] })}` +
        `${wrongType}\n${orphan}\n${damagedGroup}\n` +
        formatGroup(events.slice(1), { sessions: [session], audit: [] }),
    );

    const recovered: unknown[] = [];
    storage = await openStorage(path, { onLogRecovered: (segments) => recovered.push(...segments) });

    expect(recovered).toEqual([
      {
        path: segmentPath,
        groups: 2,
        cutBytes: 0,
        rejectedLines: 4,
        rejectedPath: `${segmentPath}.rejected`,
      },
    ]);
    const stored = await storage.listEvents(session.id);
    expect(stored.map((row) => row.id)).toEqual(['event-kept-1', 'event-kept-2']);
    expect(await storage.getSession(session.id)).toEqual(session);
    expect(await storage.listEvents('session-orphan')).toEqual([]);
    expect(await readFile(`${segmentPath}.rejected`, 'utf8')).toBe(
      `${damagedEvent}\n${wrongType}\n${orphan}\n${damagedGroup}\n`,
    );
    expect(await readdir(ingestLogPath(path))).not.toContain('000000000001.ndjson');
  });

  it('repeated event line stored once', async () => {
    await (await openStorage(path)).close();
    const session = sessionRowFixture({ id: 'session-repeat', eventCount: 1 });
    const event = eventRowFixture({ id: 'event-repeat', sessionId: session.id });
    const group = formatGroup([event], { sessions: [session], audit: [] });
    const eventLine = `${JSON.stringify(event)}\n`;
    await leaveSegment(1, `${eventLine}${group}`);

    storage = await openStorage(path);

    const stored = await storage.listEvents(session.id);
    expect(stored.map((row) => row.id)).toEqual(['event-repeat']);
  });

  it('event data not JSON moves aside', async () => {
    await (await openStorage(path)).close();
    const session = sessionRowFixture({ id: 'session-data', eventCount: 2 });
    const keptEvent = eventRowFixture({ id: 'event-data-kept', sessionId: session.id });
    // A well-formed line whose data column, JSON text inside a string, was cut.
    const damaged = JSON.stringify({
      ...eventRowFixture({ id: 'event-data-cut', sessionId: session.id }),
      data: '{"kind":',
    });
    const segmentPath = await leaveSegment(
      1,
      `${damaged}\n${formatGroup([keptEvent], { sessions: [session], audit: [] })}`,
    );

    storage = await openStorage(path);

    const stored = await storage.listEvents(session.id);
    expect(stored.map((row) => row.id)).toEqual(['event-data-kept']);
    expect(await readFile(`${segmentPath}.rejected`, 'utf8')).toBe(`${damaged}\n`);
  });

  it('invalid UTF-8 line moves aside at open', async () => {
    await (await openStorage(path)).close();
    const session = sessionRowFixture({ id: 'session-utf8', eventCount: 2 });
    const keptEvent = eventRowFixture({ id: 'event-utf8-kept', sessionId: session.id });
    const damaged = Buffer.from(
      `${JSON.stringify(eventRowFixture({ id: 'event-utf8-bad', sessionId: session.id }))}\n`,
    );
    // Byte 0xff in place of the first letter of the event type, inside a JSON string.
    damaged[damaged.indexOf('"type":"') + '"type":"'.length] = 0xff;
    const group = formatGroup([keptEvent], { sessions: [session], audit: [] });
    const segmentPath = await leaveSegment(1, '');
    await appendFile(segmentPath, Buffer.concat([damaged, Buffer.from(group)]));

    storage = await openStorage(path);

    const stored = await storage.listEvents(session.id);
    expect(stored.map((row) => row.id)).toEqual(['event-utf8-kept']);
    expect(await storage.getSession(session.id)).toEqual(session);
    expect(await readFile(`${segmentPath}.rejected`)).toEqual(damaged);
  });

  it('unloadable segment stops the start', async () => {
    await (await openStorage(path)).close();
    const event = eventRowFixture({ id: 'event-before-unloadable' });
    await leaveSegment(1, formatGroup([event], { sessions: [], audit: [] }));
    // Well-formed, so it stays in the segment, but the session row lacks its required columns.
    const unloadablePath = await leaveSegment(2, `${GROUP_LINE_PREFIX}"sessions":[{"id":"s"}],"audit":[]}\n`);

    await expect(openStorage(path)).rejects.toThrow(
      `Cannot load the ingest log file ${unloadablePath} left by the last run`,
    );
    await expect(openStorage(path)).rejects.toThrow('Move the file out of the folder');

    // The file before the unloadable one was loaded and deleted by the failed start.
    expect(await readdir(ingestLogPath(path))).toEqual(['000000000002.ndjson']);
    await rm(unloadablePath);
    storage = await openStorage(path);
    expect(await storage.listEvents(event.sessionId)).toHaveLength(1);
  });

  it('log path taken by a file', async () => {
    await writeFile(ingestLogPath(path), 'not a folder');

    await expect(openStorage(path)).rejects.toThrow(
      `Cannot use the ingest log folder ${ingestLogPath(path)}; it must be a writable folder`,
    );
  });

  /** Statement methods a test replaces; the others run on the real DuckDB file. */
  type StatementChanges = Partial<
    Pick<WriteStatements, 'loadLiveSessionsOfUsers' | 'loadLog'>
  >;

  /**
   * Opens a write queue on the real database file and log, with some of its
   * statements replaced to force an interleaving or a failure.
   */
  async function openQueue(
    change: (statements: WriteStatements, queue: () => WriteQueue) => StatementChanges,
    options: { maxUnloadedSegments?: number } = {},
  ): Promise<{ queue: WriteQueue; instance: DuckDBInstance }> {
    const instance = await DuckDBInstance.create(path);
    const writer = await instance.connect();
    await runMigrations(writer);
    const statements = await WriteStatements.create(writer, await instance.connect());
    const { log } = await IngestLog.open(ingestLogPath(path), 0, GROUP_LINE_PREFIX);
    let queue: WriteQueue | undefined;
    const changed = {
      loadSessions: (ids: readonly string[]) => statements.loadSessions(ids),
      loadLiveSessionsOfUsers: (ids: readonly string[]) => statements.loadLiveSessionsOfUsers(ids),
      loadLog: statements.loadLog.bind(statements),
      rollback: statements.rollback.bind(statements),
      runInTransaction: statements.runInTransaction.bind(statements),
      close: statements.close.bind(statements),
      ...change(statements, () => queue!),
    } as unknown as WriteStatements;
    queue = new WriteQueue(changed, {
      nextAuditSeq: () => 1,
      log,
      liveEventIds: new LiveEventIndex(),
      ...options,
    });
    return { queue, instance };
  }

  it('user sessions found during a load', async () => {
    // A load that commits after a group read a user's sessions from DuckDB, and before the
    // group looked at the sessions in memory, moves them out of memory in between.
    const { queue, instance } = await openQueue((statements, queueOf) => ({
      loadLiveSessionsOfUsers: async (userIds) => {
        const rows = await statements.loadLiveSessionsOfUsers(userIds);
        await queueOf().sync();
        return rows;
      },
    }));
    const session = sessionRowFixture({ id: 'session-race', userId: 'user-race' });

    await queue.transact({ sessionIds: [], eventIds: [], apply: (view) => view.putSession(session) });
    const found = await queue.transact({
      sessionIds: [],
      eventIds: [],
      userIds: ['user-race'],
      apply: (view) => view.listLiveSessionsOfUser('user-race').map((row) => row.id),
    });
    await queue.close();
    instance.closeSync();

    expect(found).toEqual(['session-race']);
  });

  it('failing loads stop new writes', async () => {
    const { queue, instance } = await openQueue(
      () => ({ loadLog: () => Promise.reject(new Error('disk full')) }),
      { maxUnloadedSegments: 2 },
    );
    const write = (id: string) =>
      queue.transact({
        sessionIds: [],
        eventIds: [id],
        apply: (view) => view.addEvent(eventRowFixture({ id })),
      });

    await write('event-backlog-1');
    await expect(queue.sync()).rejects.toThrow(StorageLoadError);
    await expect(queue.sync()).rejects.toThrow('Loading the ingest log into DuckDB failed: disk full');
    await write('event-backlog-2');
    await expect(queue.sync()).rejects.toThrow('disk full');
    const rejected = write('event-backlog-3');

    await expect(rejected).rejects.toThrow(StorageBacklogError);
    await expect(rejected).rejects.toThrow('2 ingest log files are waiting');
    await expect(queue.close()).rejects.toThrow('disk full');
    instance.closeSync();
    expect((await readdir(ingestLogPath(path))).sort()).toEqual([
      '000000000001.ndjson',
      '000000000002.ndjson',
    ]);
  });

  /** Runs `body` with the file handle's write replaced; the rest of the file code is real. */
  async function withWrite(
    replace: (write: FileHandleWrite) => FileHandleWrite,
    body: () => Promise<void>,
  ): Promise<void> {
    const probe = await openFile(join(dir, 'probe'), 'w');
    const prototype = Object.getPrototypeOf(probe) as { write: FileHandleWrite };
    await probe.close();
    const original = prototype.write;
    prototype.write = replace(original);
    try {
      await body();
    } finally {
      prototype.write = original;
    }
  }

  it('short write finished', async () => {
    storage = await openStorage(path);
    const open = storage;
    let isShort = true;

    await withWrite(
      (write) =>
        function (this: unknown, buffer, offset, length, position) {
          // The kernel may write less than asked, such as on a nearly full disk.
          const part = isShort && length > 100 ? Math.floor(length / 2) : length;
          isShort = false;
          return write.call(this, buffer, offset, part, position);
        },
      async () => {
        await open.transact({
          sessionIds: [],
          eventIds: [],
          apply: (view) => {
            view.putSession(sessionRowFixture({ id: 'session-short' }));
            view.addEvent(eventRowFixture({ id: 'event-short', sessionId: 'session-short' }));
          },
        });
      },
    );

    expect(await open.listEvents('session-short')).toHaveLength(1);
  });

  it('failed write cut before load', async () => {
    storage = await openStorage(path);
    const open = storage;
    const write = (id: string) =>
      open.transact({
        sessionIds: [],
        eventIds: [],
        apply: (view) => {
          view.putSession(sessionRowFixture({ id: `session-${id}` }));
          view.addEvent(eventRowFixture({ id: `event-${id}`, sessionId: `session-${id}` }));
        },
      });
    await write('before');
    let isFailing = true;

    await withWrite(
      (original) =>
        async function (this: unknown, buffer, offset, length, position) {
          if (!isFailing) return original.call(this, buffer, offset, length, position);
          // Part of the group reaches the file before the error, as on a failing disk.
          isFailing = false;
          await original.call(this, buffer, offset, Math.floor(length / 2), position);
          throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
        },
      async () => {
        await expect(write('failed')).rejects.toThrow('EIO');
        await write('after');
      },
    );

    expect(await open.listEvents('session-before')).toHaveLength(1);
    expect(await open.getSession('session-failed')).toBeUndefined();
    expect(await open.listEvents('session-failed')).toEqual([]);
    expect(await open.listEvents('session-after')).toHaveLength(1);
    expect(await readdir(ingestLogPath(path))).toEqual([]);
  });

  it('writes readable before their load', async () => {
    storage = await openStorage(path);
    const session = sessionRowFixture({ id: 'session-fresh', userId: 'user-fresh' });

    await storage.transact({
      sessionIds: [],
      eventIds: [],
      apply: (view) => {
        view.putSession(session);
        view.addEvent(eventRowFixture({ id: 'event-fresh', sessionId: session.id }));
      },
    });

    // Read in the write queue before any load, then from DuckDB, which loads first.
    const sessionsOfUser = await storage.transact({
      sessionIds: [],
      eventIds: [],
      userIds: ['user-fresh'],
      apply: (view) => view.listLiveSessionsOfUser('user-fresh').map((row) => row.id),
    });
    const live = await storage.listLiveSessions({ limit: 10 });

    expect(sessionsOfUser).toEqual([session.id]);
    expect(live.map((row) => row.id)).toEqual([session.id]);
    expect(await storage.listEvents(session.id)).toHaveLength(1);
  });
});
