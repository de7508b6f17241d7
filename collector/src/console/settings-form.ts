import { SESSION_LIMIT_BEHAVIORS, SETTING_RANGES } from '../policy/setting-ranges.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

/** The settings the console edits, as the API names them. */
export interface EditableSettings {
  enabled: boolean;
  idleTimeoutMs: number;
  absoluteTimeoutMs: number;
  maxSessionsPerUser: number | null;
  sessionLimitBehavior: (typeof SESSION_LIMIT_BEHAVIORS)[number];
}

/** The settings form as the browser sends it: every field a string, in form units. */
export interface SettingsFormValues {
  enabled: boolean;
  idleTimeoutMinutes: string;
  absoluteTimeoutHours: string;
  maxSessionsPerUser: string;
  sessionLimitBehavior: string;
}

/** Names of the form fields. */
export type SettingsField = keyof SettingsFormValues;

/** A validation message for one form field. */
export interface FieldError {
  field: SettingsField;
  message: string;
}

/** Form field that shows an API validation issue on each setting. */
export const FIELD_OF_SETTING: Record<string, SettingsField> = {
  enabled: 'enabled',
  idleTimeoutMs: 'idleTimeoutMinutes',
  // The form has no warning field, and the warning must end before the idle timeout.
  warningMs: 'idleTimeoutMinutes',
  absoluteTimeoutMs: 'absoluteTimeoutHours',
  maxSessionsPerUser: 'maxSessionsPerUser',
  sessionLimitBehavior: 'sessionLimitBehavior',
};

/** Formats stored settings as form values. */
export function toFormValues(settings: EditableSettings): SettingsFormValues {
  return {
    enabled: settings.enabled,
    idleTimeoutMinutes: String(settings.idleTimeoutMs / MINUTE_MS),
    absoluteTimeoutHours: String(settings.absoluteTimeoutMs / HOUR_MS),
    maxSessionsPerUser:
      settings.maxSessionsPerUser === null ? '' : String(settings.maxSessionsPerUser),
    sessionLimitBehavior: settings.sessionLimitBehavior,
  };
}

/** Reads the form values out of a parsed form body; a missing checkbox means off. */
export function readForm(form: Record<string, unknown>): SettingsFormValues {
  const text = (name: string) =>
    typeof form[name] === 'string' ? (form[name] as string).trim() : '';
  return {
    enabled: form.enabled === 'on',
    idleTimeoutMinutes: text('idleTimeoutMinutes'),
    absoluteTimeoutHours: text('absoluteTimeoutHours'),
    maxSessionsPerUser: text('maxSessionsPerUser'),
    sessionLimitBehavior: text('sessionLimitBehavior'),
  };
}

/** Parses a duration in `unitMs` units into whole ms within the setting's range. */
function parseDuration(
  raw: string,
  field: SettingsField,
  range: { min: number; max: number },
  unitMs: number,
  unit: string,
): number | FieldError {
  const value = Number(raw);
  const ms = Math.round(value * unitMs);
  // Shown to 4 decimals, inside the range, because 1 s is not a whole number of minutes.
  const min = Math.ceil((range.min / unitMs) * 1e4) / 1e4;
  const max = Math.floor((range.max / unitMs) * 1e4) / 1e4;
  if (raw === '' || !Number.isFinite(value) || ms < range.min || ms > range.max) {
    return {
      field,
      message: `Enter a number of ${unit} from ${min} to ${max}, received "${raw}".`,
    };
  }
  return ms;
}

/**
 * Validates form values and converts them to a settings update, or returns
 * every field error. `warningMs` is the saved idle warning, which the form does
 * not edit and which the idle timeout must exceed.
 */
export function toSettingsPatch(
  values: SettingsFormValues,
  warningMs?: number,
): EditableSettings | FieldError[] {
  const errors: FieldError[] = [];
  const idle = parseDuration(
    values.idleTimeoutMinutes,
    'idleTimeoutMinutes',
    SETTING_RANGES.idleTimeoutMs,
    MINUTE_MS,
    'minutes',
  );
  if (typeof idle !== 'number') {
    errors.push(idle);
  } else if (warningMs !== undefined && idle <= warningMs) {
    const minutes = Math.round((warningMs / MINUTE_MS) * 1e4) / 1e4;
    const warning = `${minutes} ${minutes === 1 ? 'minute' : 'minutes'}`;
    errors.push({
      field: 'idleTimeoutMinutes',
      message:
        `Enter more than ${warning}: the idle warning (WARNING_MS) comes that long before the timeout; ` +
        `received "${values.idleTimeoutMinutes}".`,
    });
  }
  const absolute = parseDuration(
    values.absoluteTimeoutHours,
    'absoluteTimeoutHours',
    SETTING_RANGES.absoluteTimeoutMs,
    HOUR_MS,
    'hours',
  );
  if (typeof absolute !== 'number') errors.push(absolute);

  let maxSessionsPerUser: number | null = null;
  if (values.maxSessionsPerUser !== '') {
    const { min, max } = SETTING_RANGES.maxSessionsPerUser;
    const value = Number(values.maxSessionsPerUser);
    if (!Number.isInteger(value) || value < min || value > max) {
      const message = `Enter a whole number from ${min} to ${max}, or leave it empty for no limit; received "${values.maxSessionsPerUser}".`;
      errors.push({ field: 'maxSessionsPerUser', message });
    }
    maxSessionsPerUser = value;
  }

  const behavior = SESSION_LIMIT_BEHAVIORS.find((name) => name === values.sessionLimitBehavior);
  if (!behavior) {
    errors.push({ field: 'sessionLimitBehavior', message: `Choose ${SESSION_LIMIT_BEHAVIORS.join(' or ')}.` });
  }
  // The type checks repeat what `errors` records, so that TypeScript narrows the values.
  if (typeof idle !== 'number' || typeof absolute !== 'number' || !behavior || errors.length > 0) {
    return errors;
  }
  return {
    enabled: values.enabled,
    idleTimeoutMs: idle,
    absoluteTimeoutMs: absolute,
    maxSessionsPerUser,
    sessionLimitBehavior: behavior,
  };
}
