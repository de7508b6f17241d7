import { constants } from 'node:fs';
import {
  access,
  type FileHandle,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  truncate,
} from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** A closed segment of the ingest log, ready to load into DuckDB. */
export interface LogSegment {
  /** Sequence number, the order in which segments load. */
  seq: number;
  path: string;
  /**
   * Bytes acknowledged. A failed write may have left more in the file, which
   * `prepare` cuts. Undefined for a segment found at start-up, already cut.
   */
  bytes?: number;
}

/** A segment found at start-up, with the group lines of its complete groups. */
export interface RecoveredSegment extends LogSegment {
  groupLines: string[];
  /** Bytes cut from its end: the lines of a group a crash interrupted. */
  cutBytes: number;
  /** Lines moved to `rejectedPath` because they cannot load, such as lines damaged on disk. */
  rejectedLines: number;
  /** The file the rejected lines were moved to, when there were any. */
  rejectedPath?: string;
}

/**
 * Highest segment number accepted, far below 2^53, so that the numbers after
 * it stay exact integers.
 */
const MAX_SEQ = 2 ** 50;

/** The segment appends go to. */
interface OpenSegment {
  seq: number;
  handle: FileHandle;
  /** Bytes acknowledged, the offset where the next write starts. */
  bytes: number;
  /** The write in progress, settled either way. */
  writing: Promise<void>;
}

const SEGMENT_PATTERN = /^(\d+)\.ndjson$/;
/** A segment's replacement that a crash left before renaming it over the segment. */
const REPLACEMENT_PATTERN = /^\d+\.ndjson\.tmp$/;

/**
 * An append-only log of write groups in newline-delimited JSON, next to the
 * database file. The write queue appends each group and calls `fdatasync`
 * before it replies, so a reply never depends on a DuckDB commit, which
 * costs far more than a file sync. The queue loads closed segments into
 * DuckDB in bulk and then deletes them. At start-up it loads what a crash
 * left behind.
 */
export class IngestLog {
  readonly #dir: string;
  #nextSeq: number;
  #current: OpenSegment | undefined;
  /** Segments a failed write closed to appends, waiting for the next rotation. */
  #retired: OpenSegment[] = [];
  /** Opening of the next segment, shared by appends that start while it opens. */
  #opening: Promise<OpenSegment> | undefined;

  private constructor(dir: string, nextSeq: number) {
    this.#dir = dir;
    this.#nextSeq = nextSeq;
  }

  /**
   * Opens the log folder, creating it when missing, and returns the
   * segments to load, in order. Segments up to `lastLoadedSeq` were loaded
   * by an earlier run that stopped before deleting them, so they are deleted.
   * Each other segment is cut after its last line that starts with
   * `groupLinePrefix`, which removes a group a crash interrupted before its reply.
   * Lines that are not UTF-8 or fail `isLoadable`, and repeats of an earlier
   * event line of the segment, move to a `.rejected` file beside the segment,
   * so that one damaged line does not stop the other lines from loading.
   */
  static async open(
    dir: string,
    lastLoadedSeq: number,
    groupLinePrefix: string,
    isLoadable: (line: string) => boolean = () => true,
  ): Promise<{ log: IngestLog; segments: RecoveredSegment[] }> {
    let names: string[];
    try {
      await mkdir(dir, { recursive: true });
      await access(dir, constants.R_OK | constants.W_OK);
      await syncFolder(dirname(dir)).catch(() => {});
      names = await readdir(dir);
    } catch (error) {
      const message = `Cannot use the ingest log folder ${dir}; it must be a writable folder`;
      throw new Error(`${message}: ${(error as Error).message}`, { cause: error });
    }

    for (const name of names.filter((entry) => REPLACEMENT_PATTERN.test(entry))) {
      await rm(join(dir, name), { force: true });
    }
    const found = names
      .map((name) => ({ name, match: SEGMENT_PATTERN.exec(name) }))
      .filter((entry) => entry.match !== null)
      .map((entry) => ({ seq: Number(entry.match![1]), path: join(dir, entry.name) }))
      .sort((a, b) => a.seq - b.seq);
    const segments: RecoveredSegment[] = [];
    let maxSeq = lastLoadedSeq;
    for (const { seq, path } of found) {
      if (seq > MAX_SEQ) {
        throw new Error(
          `Ingest log file ${path} has a number above ${MAX_SEQ}, which no collector writes; ` +
            'move it out of the folder to start',
        );
      }
      maxSeq = Math.max(maxSeq, seq);
      if (seq <= lastLoadedSeq) {
        await rm(path, { force: true });
        continue;
      }
      segments.push({ seq, path, ...(await readGroupLines(path, groupLinePrefix, isLoadable)) });
    }
    return { log: new IngestLog(dir, maxSeq + 1), segments };
  }

  /** Bytes appended to the open segment. */
  get openBytes(): number {
    return this.#current?.bytes ?? 0;
  }

  /**
   * Appends lines (each ending in a newline) to the open segment, waits
   * until they are on disk and returns the segment's sequence number. The
   * caller appends one text at a time. A failed write closes the segment to
   * later appends, which go to a new one, and `prepare` cuts the failed
   * write's bytes before the segment loads.
   */
  async append(text: string): Promise<number> {
    let segment = this.#current;
    // A rotation while the next segment opened closes it again, so open another.
    while (!segment) {
      const opened = await this.#openNext();
      if (opened === this.#current) segment = opened;
    }
    const data = Buffer.from(text, 'utf8');
    const write = (async () => {
      try {
        let offset = 0;
        while (offset < data.length) {
          const position = segment.bytes + offset;
          const length = data.length - offset;
          const { bytesWritten } = await segment.handle.write(data, offset, length, position);
          if (bytesWritten === 0) {
            throw new Error(`Writing ${this.#pathOf(segment.seq)} failed: no byte written at ${position}`);
          }
          offset += bytesWritten;
        }
        await segment.handle.datasync();
        segment.bytes += data.length;
      } catch (error) {
        if (this.#current === segment) this.#current = undefined;
        this.#retired.push(segment);
        throw error;
      }
    })();
    segment.writing = write.catch(() => {});
    await write;
    return segment.seq;
  }

  /**
   * Closes the open segment, once a write in progress on it has finished,
   * and returns it with the segments failed writes closed, in order. Appends
   * that start after the call go to a new segment.
   */
  async rotate(): Promise<LogSegment[]> {
    const segments = [...this.#retired];
    this.#retired = [];
    if (this.#current) segments.push(this.#current);
    this.#current = undefined;

    const closed: LogSegment[] = [];
    for (const segment of segments) {
      await segment.writing;
      // Its acknowledged bytes are synced, so a failed close loses nothing.
      await segment.handle.close().catch(() => {});
      closed.push({ seq: segment.seq, path: this.#pathOf(segment.seq), bytes: segment.bytes });
    }
    return closed;
  }

  /** Cuts what failed writes left after the acknowledged bytes of each segment. */
  async prepare(segments: readonly LogSegment[]): Promise<void> {
    for (const { path, bytes } of segments) {
      if (bytes !== undefined && (await stat(path)).size > bytes) await truncate(path, bytes);
    }
  }

  /** Deletes segments whose rows DuckDB committed. */
  async remove(segments: readonly LogSegment[]): Promise<void> {
    for (const segment of segments) await rm(segment.path, { force: true });
  }

  /** Closes the open segments, leaving their files for the next start. */
  async close(): Promise<void> {
    await this.rotate();
  }

  #openNext(): Promise<OpenSegment> {
    this.#opening ??= this.#openSegment().finally(() => {
      this.#opening = undefined;
    });
    return this.#opening;
  }

  async #openSegment(): Promise<OpenSegment> {
    const seq = this.#nextSeq;
    this.#nextSeq += 1;
    const handle = await open(this.#pathOf(seq), 'wx');
    try {
      // The new file's name is durable only once its folder is synced.
      await syncFolder(this.#dir);
    } catch (error) {
      await handle.close().catch(() => {});
      throw error;
    }
    const segment = { seq, handle, bytes: 0, writing: Promise.resolve() };
    this.#current = segment;
    return segment;
  }

  #pathOf(seq: number): string {
    return join(this.#dir, `${String(seq).padStart(12, '0')}.ndjson`);
  }
}

/** Syncs a folder, which makes the names of files created in it durable. */
async function syncFolder(path: string): Promise<void> {
  const folder = await open(path, 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
}

/** Decoder that throws on bytes that are not UTF-8, such as a line damaged on disk. */
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

const NEWLINE = Buffer.from('\n');

/**
 * Returns the group lines of a segment, and cuts the file after the last
 * one, so the lines of an incomplete group are neither loaded nor followed
 * by later groups. Lines before the cut that are not UTF-8 or fail
 * `isLoadable` are written to `<path>.rejected` as they were on disk, and the
 * segment is replaced by one without them. The file is split and cut by
 * bytes, because decoding bytes that are not UTF-8 changes their length.
 */
async function readGroupLines(
  path: string,
  prefix: string,
  isLoadable: (line: string) => boolean,
): Promise<Omit<RecoveredSegment, keyof LogSegment>> {
  const data = await readFile(path);
  const prefixBytes = Buffer.from(prefix, 'utf8');
  const end = endOfLastGroup(data, prefixBytes);
  const cutBytes = data.length - end;

  const loadable: Buffer[] = [];
  const rejected: Buffer[] = [];
  const groupLines: string[] = [];
  // No two event lines share their session id and event id, so a repeat of one
  // comes from damage or tampering, and loading it would store the event twice.
  const eventLines = new Set<string>();
  // Event lines of the current group wait for its group line, which decides their fate.
  let groupEvents: Buffer[] = [];
  for (const line of splitLines(data.subarray(0, end))) {
    const text = decodeStrict(line);
    const canLoad = text !== undefined && isLoadable(text);
    if (!line.subarray(0, prefixBytes.length).equals(prefixBytes)) {
      const isRepeat = canLoad && eventLines.has(text);
      if (canLoad) eventLines.add(text);
      (canLoad && !isRepeat ? groupEvents : rejected).push(line);
      continue;
    }
    // Without its group line, a group's events would load without their session row,
    // where no export or erasure of its user finds them, so they go aside with it.
    if (canLoad) {
      loadable.push(...groupEvents, line);
      groupLines.push(text);
    } else {
      rejected.push(...groupEvents, line);
    }
    groupEvents = [];
  }

  if (rejected.length === 0) {
    if (cutBytes > 0) await truncate(path, end);
    return { groupLines, cutBytes, rejectedLines: 0 };
  }
  const rejectedPath = `${path}.rejected`;
  await writeSynced(rejectedPath, joinLines(rejected));
  // Written aside and renamed, so a crash leaves either the old segment or the new one.
  await writeSynced(`${path}.tmp`, joinLines(loadable));
  await rename(`${path}.tmp`, path);
  await syncFolder(dirname(path));
  return { groupLines, cutBytes, rejectedLines: rejected.length, rejectedPath };
}

/** Returns the byte offset after the newline of the last line that starts with `prefix`, or 0. */
function endOfLastGroup(data: Buffer, prefix: Buffer): number {
  let end = 0;
  let start = 0;
  for (let newline = data.indexOf(0x0a); newline !== -1; newline = data.indexOf(0x0a, start)) {
    const isGroupLine =
      newline - start >= prefix.length &&
      data.compare(prefix, 0, prefix.length, start, start + prefix.length) === 0;
    if (isGroupLine) end = newline + 1;
    start = newline + 1;
  }
  return end;
}

/** Splits bytes that end in a newline into lines, without the newline bytes. */
function splitLines(data: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  let start = 0;
  for (let newline = data.indexOf(0x0a); newline !== -1; newline = data.indexOf(0x0a, start)) {
    lines.push(data.subarray(start, newline));
    start = newline + 1;
  }
  return lines;
}

/** Returns `bytes` decoded as UTF-8, or undefined when they are not valid UTF-8. */
function decodeStrict(bytes: Buffer): string | undefined {
  try {
    return STRICT_UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Joins lines, each followed by a newline byte. */
function joinLines(lines: readonly Buffer[]): Buffer {
  return Buffer.concat(lines.flatMap((line) => [line, NEWLINE]));
}

/** Writes `data` to a new file at `path`, replacing one there, and syncs it to disk. */
async function writeSynced(path: string, data: Buffer): Promise<void> {
  const handle = await open(path, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
