import type { IngestErrorInput } from './admin-store.js';

/** Pending errors beyond this are dropped and counted, so a flood cannot grow memory. */
const MAX_PENDING = 1000;

/** Delay between the first buffered error and the write, in ms. */
const FLUSH_DELAY_MS = 1000;

/**
 * Buffers rejected ingest requests and writes them in one transaction a
 * second, because a misconfigured site can send a rejected request on every
 * page view. `flush` writes at once; readers call it first to see the latest.
 */
export class IngestErrorBuffer {
  readonly #write: (errors: IngestErrorInput[]) => Promise<void>;
  readonly #onError: (error: unknown, dropped: number) => void;
  #pending: IngestErrorInput[] = [];
  #dropped = 0;
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();

  /**
   * `write` stores a group of errors; `onError` receives a failed write, or
   * the number of errors dropped because the buffer was full.
   */
  constructor(
    write: (errors: IngestErrorInput[]) => Promise<void>,
    onError: (error: unknown, dropped: number) => void,
  ) {
    this.#write = write;
    this.#onError = onError;
  }

  /** Buffers one error and schedules a write. */
  add(error: IngestErrorInput): void {
    if (this.#pending.length >= MAX_PENDING) {
      this.#dropped += 1;
      return;
    }
    this.#pending.push(error);
    if (this.#timer === undefined) {
      this.#timer = setTimeout(() => void this.flush(), FLUSH_DELAY_MS);
      this.#timer.unref();
    }
  }

  /** Writes every buffered error now and resolves when they are stored. */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const errors = this.#pending;
    const dropped = this.#dropped;
    this.#pending = [];
    this.#dropped = 0;

    this.#flushing = this.#flushing.then(async () => {
      if (dropped > 0) this.#onError(undefined, dropped);
      if (errors.length === 0) return;
      try {
        await this.#write(errors);
      } catch (error) {
        this.#onError(error, errors.length);
      }
    });
    return this.#flushing;
  }
}
