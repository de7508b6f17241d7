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

/** Throws a ProcessSessionsError with `code`, such as `invalid_option`, and `message`. */
export function raise(code: string, message: string): never {
  throw new ProcessSessionsError(code, message);
}

/** Formats a rejected value for an error message: as JSON, cut at 80 characters. */
export function describeValue(value: unknown): string {
  let text: string;
  try {
    text = typeof value === 'bigint' ? `${value}n` : String(JSON.stringify(value));
  } catch {
    // A circular object or one with a BigInt inside cannot be serialized.
    text = Object.prototype.toString.call(value);
  }

  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

/** Formats the error message of an invalid value: "`name` must `requirement`, received `value`". */
export function describeInvalid(name: string, requirement: string, value: unknown): string {
  return `${name} must ${requirement}, received ${describeValue(value)}`;
}
