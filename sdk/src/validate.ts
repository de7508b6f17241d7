import { describeValue, raise } from './errors.js';
import type { TrackProps } from './types.js';

/** Control characters (C0, DEL, C1), which the collector rejects in names and ids. */
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

/** Returns `value` when it is text of 1 to `max` characters without control characters. */
export function validateText(name: string, value: unknown, max: number): string {
  if (typeof value !== 'string' || !value || value.length > max || CONTROL_CHARACTERS.test(value)) {
    invalid(`${name} must be 1 to ${max} characters without control characters, received ${describeValue(value)}`);
  }

  return value;
}

/** Returns `props` when the collector accepts it: see `TrackProps`. */
export function validateProps(props: unknown): TrackProps | undefined {
  if (props === undefined) return undefined;

  const keys = typeof props === 'object' && props !== null && !Array.isArray(props) ? Object.keys(props) : undefined;
  if (!keys || keys.length > 32) {
    invalid(`props must be an object with at most 32 keys, received ${keys ? `${keys.length} keys` : describeValue(props)}`);
  }

  for (const [key, value] of Object.entries(props as TrackProps)) {
    if (!key || key.length > 64) invalid(`props keys must be 1 to 64 characters, received ${describeValue(key)}`);

    const isValid =
      value === null ||
      typeof value === 'boolean' ||
      (typeof value === 'number' && Number.isFinite(value)) ||
      (typeof value === 'string' && value.length <= 1024);
    if (!isValid) {
      invalid(`props.${key} must be a string of up to 1024 characters, a finite number, a boolean or null, received ${describeValue(value)}`);
    }
  }

  return props as TrackProps;
}

function invalid(message: string): never {
  raise('invalid_argument', message);
}
