import { nodeResolve } from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';
import dts from 'rollup-plugin-dts';
import esbuild from 'rollup-plugin-esbuild';

/**
 * ES2022, because the bundled ky 1.9.1 already uses class fields, so an older target would
 * not widen browser support. `options` adds esbuild settings, such as `minifySyntax`.
 */
const typescript = (options = {}) => esbuild({ target: 'es2022', tsconfig: 'tsconfig.json', ...options });

/**
 * Property names the script-tag build shortens. Each is used only between the SDK's own
 * modules: never on the wire, in localStorage, IndexedDB or tab messages, in the public API,
 * nor by idb-keyval, because the npm build must read what the script-tag build stores and
 * posts. ky uses `options` too, on HTTPError and hook arguments, which only the bundle reads.
 * Terser shortens these names even where a DOM interface has a property of that name, such
 * as `store` or `reset`. So no code in the bundle may use one of them on a DOM or built-in
 * object, and `guardShortNames` fails the build on such a use on a browser global. The
 * built-bundle test in sdk/src/bundle-smoke.test.ts checks the result.
 */
const INTERNAL_PROPERTIES = [
  'activity',
  'channel',
  'check',
  'cleanups',
  'delivery',
  'drain',
  'emit',
  'emitter',
  'firstAt',
  'flush',
  'flushAll',
  'flushOnExit',
  'handle',
  'heartbeat',
  'idle',
  'instanceId',
  'intervalMs',
  'isHidden',
  'isRetryable',
  'isShared',
  'items',
  'lastSharedAt',
  'lastUrl',
  'latestInputAt',
  'log',
  'notePush',
  'onCount',
  'onDismiss',
  'onIdle',
  'onInput',
  'onResult',
  'onSent',
  'onWarning',
  'onWindow',
  'options',
  'own',
  'queue',
  'readAll',
  'refresh',
  'release',
  'remove',
  'reset',
  'resign',
  'retryAfterMs',
  'sessionRecord',
  'store',
  'stream',
  'tabRegistry',
  'timer',
  'timing',
  'touch',
  'trackerState',
  'update',
  'write',
];

/**
 * ky 1.9.1 option, hook and HTTPError property names that the bundle may shorten too,
 * because no code outside the bundle reads them. The SDK passes ky's options as object
 * literals in the same bundle, which terser renames alike. It uses no hooks or progress
 * callbacks. `fetch` and `json` stay long, because ky also reads them on `globalThis` and
 * on a Response.
 */
const KY_PROPERTIES = [
  'abortController',
  'afterResponse',
  'afterStatusCodes',
  'backoffLimit',
  'beforeError',
  'beforeRequest',
  'beforeRetry',
  'defaultRetryOptions',
  'delay',
  'hooks',
  'limit',
  'maxRetryAfter',
  'methods',
  'onDownloadProgress',
  'onUploadProgress',
  'parseJson',
  'percent',
  'prefixUrl',
  'response',
  'retry',
  'retryCount',
  'searchParams',
  'statusCodes',
  'stringifyJson',
  'throwHttpErrors',
  'timeout',
  'totalBytes',
  'transferredBytes',
];

/**
 * Terser options of the script-tag build. The `_` pattern matches ky's private members, and
 * `builtins` lets terser shorten listed names that its list of DOM properties reserves.
 * Three compress passes gzip smaller than five for this bundle, as `npm run size` measured.
 * `unsafe_math` saves about 20 bytes, mostly by writing `Number(x)` as `+x`, which throws on
 * a BigInt. No BigInt reaches a `Number()` call of this build, because its options are parsed
 * from attribute text. Statements kept apart, without `sequences`, gzip 8 bytes smaller than
 * statements joined by commas.
 */
const minify = {
  ecma: 2020,
  module: true,
  toplevel: true,
  compress: { passes: 3, sequences: false, unsafe: true, unsafe_math: true, pure_getters: true, hoist_funs: true },
  mangle: { properties: { builtins: true, regex: new RegExp(`^(?:_\\w+|${[...INTERNAL_PROPERTIES, ...KY_PROPERTIES].join('|')})$`) } },
  format: { comments: false },
};

/** Globals whose members the bundle reads, such as `console.info`, checked by `guardShortNames`. */
const BROWSER_GLOBALS = [
  'console',
  'document',
  'globalThis',
  'history',
  'JSON',
  'location',
  'Math',
  'navigator',
  'Object',
  'window',
];

/**
 * Fails the script-tag build when it reads a shortened name on a browser global, such as
 * `console.log`, because terser would rename that member too and break the call. Members of
 * other DOM objects are not checked.
 */
function guardShortNames() {
  const names = [...INTERNAL_PROPERTIES, ...KY_PROPERTIES].join('|');
  const pattern = new RegExp(`\\b(?:${BROWSER_GLOBALS.join('|')})\\??\\.(${names})\\b`);

  return {
    name: 'guard-short-names',
    renderChunk(code) {
      const match = pattern.exec(code);
      if (match) {
        this.error(`${match[0]} would be renamed: remove '${match[1]}' from INTERNAL_PROPERTIES or KY_PROPERTIES`);
      }

      return null;
    },
  };
}

/** Builds the SDK: ky and idb-keyval are bundled, so the package has no runtime dependencies. */
export default [
  {
    input: 'sdk/src/script-tag.ts',
    output: { file: 'sdk/dist/process-sessions.iife.js', format: 'iife', plugins: [guardShortNames(), terser(minify)] },
    // esbuild's syntax minification before terser gzips smaller, and the npm build stays readable.
    plugins: [nodeResolve({ browser: true }), typescript({ minifySyntax: true })],
  },
  {
    input: 'sdk/src/index.ts',
    output: { file: 'sdk/dist/index.js', format: 'es', sourcemap: true },
    plugins: [nodeResolve({ browser: true }), typescript()],
  },
  {
    input: 'sdk/src/index.ts',
    output: { file: 'sdk/dist/index.d.ts', format: 'es' },
    plugins: [dts({ tsconfig: 'tsconfig.json' })],
  },
];
