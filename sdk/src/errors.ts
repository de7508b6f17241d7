/** Error the SDK throws for a bad option or call, and emits for failed deliveries. */
export class ProcessSessionsError extends Error {
  /** Stable code: `invalid_option`, `invalid_argument`, or the collector's error code. */
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'ProcessSessionsError';
    this.code = code;
  }
}
