import { nodeResolve } from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';
import dts from 'rollup-plugin-dts';
import esbuild from 'rollup-plugin-esbuild';

/** Builds the SDK: ky and idb-keyval are bundled, so the package has no runtime dependencies. */
const typescript = () => esbuild({ target: 'es2020', tsconfig: 'tsconfig.json' });

export default [
  {
    input: 'sdk/src/script-tag.ts',
    output: {
      file: 'sdk/dist/process-sessions.iife.js',
      format: 'iife',
      plugins: [terser({ ecma: 2020, compress: { passes: 3 }, format: { comments: false } })],
    },
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
