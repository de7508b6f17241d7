/** Parsers of single environment variables, used by `loadConfig`. */
import { z } from 'zod';
import { DEFAULT_DURATIONS_MS, SETTING_RANGES } from './policy/setting-ranges.js';

/** Parses a whole number of milliseconds from an environment string within [min, max]. */
export function durationMs(name: string, fallback: number, min: number, max: number) {
  const range = `an integer from ${min} to ${max} (milliseconds)`;
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw.trim() === '') return fallback;
      const value = Number(raw.trim());
      if (!/^\d+$/.test(raw.trim()) || value < min || value > max) {
        ctx.addIssue({ code: 'custom', message: `${name} must be ${range}, received "${raw}"` });
        return z.NEVER;
      }
      return value;
    });
}

/** Parses a session duration setting within its `SETTING_RANGES` entry. */
export function setting(name: string, key: keyof typeof DEFAULT_DURATIONS_MS) {
  const { min, max } = SETTING_RANGES[key];
  return durationMs(name, DEFAULT_DURATIONS_MS[key], min, max);
}

/** Parses an optional whole-number limit; unset or empty means no limit (null). */
export function optionalLimit(name: string, key: 'maxSessionsPerUser' | 'maxTabs') {
  const { min, max } = SETTING_RANGES[key];
  return z
    .string()
    .optional()
    .transform((raw, ctx): number | null => {
      if (raw === undefined || raw.trim() === '') return null;
      const value = Number(raw.trim());
      if (!/^\d+$/.test(raw.trim()) || value < min || value > max) {
        ctx.addIssue({
          code: 'custom',
          message: `${name} must be an integer from ${min} to ${max}, or empty for no limit, received "${raw}"`,
        });
        return z.NEVER;
      }
      return value;
    });
}

/** Parses a whole number within [min, max] from an environment string; unset or empty is `fallback`. */
export function wholeNumber(name: string, fallback: number, min: number, max: number) {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw.trim() === '') return fallback;
      const value = Number(raw.trim());
      if (!/^\d+$/.test(raw.trim()) || value < min || value > max) {
        ctx.addIssue({
          code: 'custom',
          message: `${name} must be an integer from ${min} to ${max}, received "${raw}"`,
        });
        return z.NEVER;
      }
      return value;
    });
}
