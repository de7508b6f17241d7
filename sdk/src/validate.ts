import { describeInvalid, raise } from './errors.js';
import type { TrackProps } from './types.js';

/** Control characters (C0, DEL, C1), which the collector rejects in names and ids. */
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

/** Returns `value` when it is text of 1 to `max` characters without control characters. */
export function validateText(name: string, value: unknown, max: number): string {
  if (typeof value !== 'string' || !value || value.length > max || CONTROL_CHARACTERS.test(value)) {
    invalid(name, `be 1 to ${max} characters without control characters`, value);
  }

  return value;
}

/** Returns `props` when the collector accepts it: see `TrackProps`. */
export function validateProps(props: unknown): TrackProps | undefined {
  if (props === undefined) return undefined;

  const isObject = typeof props === 'object' && props !== null && !Array.isArray(props);
  const entries = isObject ? Object.entries(props) : [];
  if (!isObject || entries.length > 32) {
    invalid('props', 'be an object with at most 32 keys', props);
  }
  for (const [key, value] of entries) {
    const isValid =
      key &&
      key.length <= 64 &&
      (value === null ||
        typeof value === 'boolean' ||
        Number.isFinite(value) ||
        (typeof value === 'string' && value.length <= 1024));

    if (!isValid) {
      invalid(
        `props.${key}`,
        'have a key of 1 to 64 characters and a string of up to 1024 characters, a finite number, a boolean or null',
        value,
      );
    }
  }

  return props as TrackProps;
}

function invalid(name: string, requirement: string, value: unknown): never {
  raise('invalid_argument', describeInvalid(name, requirement, value));
}
