import { ProcessSessionsError } from './errors.js';
import { createInstance } from './instance.js';
import { OPTION_NAMES, resolveOptions, type ProcessSessionsOptions } from './options.js';
import type { ProcessSessions } from './types.js';

declare global {
  interface Window {
    /** The tracker the SDK's script tag started. */
    processSessions?: ProcessSessions;
  }
}

/**
 * Returns the data attribute of the script tag that sets option `name`: `data-app` for
 * `appId`, else `data-` and the name in kebab case, such as `data-idle-timeout-ms`.
 */
export function attributeOf(name: string): string {
  return name === 'appId' ? 'data-app' : `data-${name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
}

/**
 * Reads the options of the SDK's script tag from the data attributes that name one. The
 * endpoint defaults to the origin of the script's `src`. An empty attribute, as in
 * `data-debug`, and "true" turn a flag on, "false" off. Text that is not a whole number
 * stays text, for `init()` to report.
 */
export function readScriptOptions(script: HTMLScriptElement): ProcessSessionsOptions {
  const options: Record<string, unknown> = { endpoint: script.src && new URL(script.src, location.href).origin };

  for (const name of OPTION_NAMES) {
    const text = script.getAttribute(attributeOf(name));

    if (text !== null) options[name] = name === 'appId' ? text : parseAttribute(text);
  }

  return options as unknown as ProcessSessionsOptions;
}

function parseAttribute(text: string): unknown {
  if (text === '' || text === 'true') return true;
  if (text === 'false') return false;

  return /^\d+$/.test(text) ? Number(text) : text;
}

/** Rewrites the option names in an option error to the data attributes the page author wrote. */
function nameAttributes(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);

  if (!(error instanceof ProcessSessionsError && error.code === 'invalid_option')) return message;

  return message.replace(/(^|; )(\w+)/g, (_, separator: string, name: string) => separator + attributeOf(name));
}

/**
 * Starts the tracker configured by `script`. On failure it logs once with console.error,
 * the only output of the SDK without `debug`, because a script tag has no caller to throw to.
 */
export function startFromScript(script: HTMLOrSVGScriptElement | null): ProcessSessions | undefined {
  if (!(script instanceof HTMLScriptElement)) {
    console.error('[process-sessions] not started: load the SDK with a classic <script src> tag');
    return undefined;
  }

  try {
    // init() would also check for a browser window, which a script tag always runs in.
    window.processSessions = createInstance(resolveOptions(readScriptOptions(script)));

    return window.processSessions;
  } catch (error) {
    console.error(`[process-sessions] not started: ${nameAttributes(error)}`);
    return undefined;
  }
}
