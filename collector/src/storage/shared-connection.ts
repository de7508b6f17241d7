import type { DuckDBConnection } from '@duckdb/node-api';

/**
 * Lets tasks on the read and admin connections run concurrently until a
 * reopen of the database pauses them. While paused, new tasks wait.
 */
export class ConnectionGate {
  #running = 0;
  #paused: Promise<void> | undefined;
  #onIdle: (() => void) | undefined;

  /** Runs `task` now, or once the gate resumes when it is paused. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    while (this.#paused) await this.#paused;
    this.#running += 1;
    try {
      return await task();
    } finally {
      this.#running -= 1;
      if (this.#running === 0) this.#onIdle?.();
    }
  }

  /**
   * Makes new tasks wait, waits for the running ones to finish and resolves
   * with the function that lets the waiting tasks run. Throws when already paused.
   */
  async pause(): Promise<() => void> {
    if (this.#paused) throw new Error('connection gate is already paused');
    let resume!: () => void;
    this.#paused = new Promise<void>((resolve) => {
      resume = resolve;
    });
    if (this.#running > 0) {
      await new Promise<void>((resolve) => {
        this.#onIdle = resolve;
      });
      this.#onIdle = undefined;
    }
    return () => {
      this.#paused = undefined;
      resume();
    };
  }
}

/**
 * A DuckDB connection whose tasks pass a `ConnectionGate`, so that a reopen
 * of the database can replace it while no task uses it.
 */
export class SharedConnection {
  readonly #gate: ConnectionGate;
  #connection: DuckDBConnection;

  constructor(gate: ConnectionGate, connection: DuckDBConnection) {
    this.#gate = gate;
    this.#connection = connection;
  }

  /** Runs `task` on the current connection once the gate lets it. */
  use<T>(task: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    return this.#gate.run(() => task(this.#connection));
  }

  /** Takes `connection` in place of the current one, which the caller has closed, while the gate is paused. */
  replace(connection: DuckDBConnection): void {
    this.#connection = connection;
  }

  closeSync(): void {
    this.#connection.closeSync();
  }
}
