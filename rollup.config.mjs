import { nodeResolve } from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';
import dts from 'rollup-plugin-dts';
import esbuild from 'rollup-plugin-esbuild';

/**
 * ES2022, because the bundled ky 1.9.1 already uses class fields, so an older target would
 * not widen browser support.
 */
const typescript = () => esbuild({ target: 'es2022', tsconfig: 'tsconfig.json' });

/**
 * Property names the script-tag build shortens. Each is used only between the SDK's own
 * modules: never on the wire, in localStorage, IndexedDB or tab messages, in the public API,
 * nor by ky or idb-keyval. Names that are also DOM properties stay long, because terser
 * reserves those. The built-bundle test in sdk/src/bundle-smoke.test.ts checks the result.
 */
const INTERNAL_PROPERTIES = [
  'acceptedSessionId',
  'activity',
  'cleanups',
  'drain',
  'dropSession',
  'emitter',
  'firstAt',
  'flushAll',
  'flushOnExit',
  'handle',
  'heartbeat',
  'instanceId',
  'intervalMs',
  'isRetryable',
  'lastBroadcastAt',
  'lastUrl',
  'notePush',
  'onCount',
  'onDismiss',
  'onIdle',
  'onInput',
  'onResult',
  'onWarning',
  'onWindow',
  'peekBatch',
  'recover',
  'retryAfterMs',
  'takeAll',
  'timer',
  'touch',
];

/** Terser options of the script-tag build. The `_` pattern matches ky's private members. */
const minify = {
  ecma: 2020,
  module: true,
  toplevel: true,
  compress: { passes: 3, unsafe_arrows: true, pure_getters: true },
  mangle: { properties: { regex: new RegExp(`^(?:_\\w+|${INTERNAL_PROPERTIES.join('|')})$`) } },
  format: { comments: false },
};

/** Builds the SDK: ky and idb-keyval are bundled, so the package has no runtime dependencies. */
export default [
  {
    input: 'sdk/src/script-tag.ts',
    output: { file: 'sdk/dist/process-sessions.iife.js', format: 'iife', plugins: [terser(minify)] },
    plugins: [nodeResolve({ browser: true }), typescript()],
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
