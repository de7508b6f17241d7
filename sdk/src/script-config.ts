import { describeValue, raise } from './errors.js';
import { init } from './index.js';
import type { ProcessSessionsOptions } from './options.js';
import type { ProcessSessions } from './types.js';

declare global {
  interface Window {
    /** The tracker the SDK's script tag started. */
    processSessions?: ProcessSessions;
  }
}

/** The data attribute of the script tag that sets each option. */
export const SCRIPT_ATTRIBUTES = {
  endpoint: 'data-endpoint',
  appId: 'data-app',
  idleTimeoutMs: 'data-idle-timeout-ms',
  warningMs: 'data-warning-ms',
  heartbeatMs: 'data-heartbeat-ms',
  flushIntervalMs: 'data-flush-interval-ms',
  debug: 'data-debug',
} as const;

const NUMBER_OPTIONS = ['idleTimeoutMs', 'warningMs', 'heartbeatMs', 'flushIntervalMs'] as const;

/**
 * Reads the options of the SDK's script tag. The endpoint defaults to the origin of the
 * script's `src`; `data-debug` is on when present, unless it is "false".
 */
export function readScriptOptions(script: HTMLScriptElement): ProcessSessionsOptions {
  const read = (name: keyof typeof SCRIPT_ATTRIBUTES) => script.getAttribute(SCRIPT_ATTRIBUTES[name]);
  const debug = read('debug');
  const options: ProcessSessionsOptions = {
    endpoint: read('endpoint') ?? (script.src ? new URL(script.src, location.href).origin : ''),
    appId: read('appId') ?? '',
    debug: debug !== null && debug !== 'false',
  };

  for (const name of NUMBER_OPTIONS) {
    const text = read(name);

    if (text === null) continue;
    if (!/^\d+$/.test(text.trim())) {
      raise('invalid_option', `${SCRIPT_ATTRIBUTES[name]} must be a whole number of ms, received ${describeValue(text)}`);
    }
    options[name] = Number(text);
  }

  return options;
}

/** Rewrites an option error to name the data attribute, which is what the page author wrote. */
function nameAttribute(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const option = message.match(/^(\w+) /)?.[1] as keyof typeof SCRIPT_ATTRIBUTES | undefined;

  return option && option in SCRIPT_ATTRIBUTES ? message.replace(option, SCRIPT_ATTRIBUTES[option]) : message;
}

/** Starts the tracker configured by `script`; logs once with console.error and returns undefined on failure. */
export function startFromScript(script: HTMLOrSVGScriptElement | null): ProcessSessions | undefined {
  if (!(script instanceof HTMLScriptElement)) {
    console.error('[process-sessions] script tag not found: load the SDK with a classic <script src> tag');
    return undefined;
  }

  try {
    window.processSessions = init(readScriptOptions(script));

    return window.processSessions;
  } catch (error) {
    console.error(`[process-sessions] not started: ${nameAttribute(error)}`);
    return undefined;
  }
}
