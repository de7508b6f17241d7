// @vitest-environment node
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const SDK_DIR = resolve(import.meta.dirname, '..');
const REPO_DIR = resolve(SDK_DIR, '..');
const hasBuild = existsSync(join(SDK_DIR, 'dist/index.js'));
/** Each npm or tsc run must finish within this long, in ms. */
const COMMAND_TIMEOUT_MS = 60_000;

/** Runs `command` in `cwd` without network access to a registry, and returns its output. */
function run(command: string, args: string[], cwd: string): string {
  return execFileSync(command, args, {
    cwd,
    encoding: 'utf8',
    timeout: COMMAND_TIMEOUT_MS,
    env: { ...process.env, npm_config_offline: 'true', npm_config_update_notifier: 'false' },
  });
}

/**
 * Packs the SDK the way `npm publish` would and installs the tarball in a new project, so
 * the `exports` map, the files list and the types are checked as a user receives them.
 * Skipped until `npm run build` wrote sdk/dist.
 */
describe.skipIf(!hasBuild)('npm package', { timeout: COMMAND_TIMEOUT_MS }, () => {
  let workDir: string;
  let projectDir: string;

  beforeAll(() => {
    workDir = mkdtempSync(join(tmpdir(), 'ps-sdk-pack-'));
    projectDir = join(workDir, 'project');

    run('npm', ['pack', '--pack-destination', workDir, '--silent'], SDK_DIR);
    const [tarball] = readdirSync(workDir).filter((name) => name.endsWith('.tgz'));
    mkdirSync(projectDir);
    writeFileSync(join(projectDir, 'package.json'), JSON.stringify({ name: 'pack-check', private: true, type: 'module' }));
    run('npm', ['install', '--offline', '--no-audit', '--no-fund', join(workDir, tarball!)], projectDir);
  }, 3 * COMMAND_TIMEOUT_MS);

  afterAll(() => {
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('packs only built files', () => {
    const installed = join(projectDir, 'node_modules/@process-sessions/sdk');

    expect(readdirSync(installed).sort()).toEqual(['dist', 'package.json']);
    expect(readdirSync(join(installed, 'dist')).sort()).toEqual(['index.d.ts', 'index.js', 'index.js.map', 'process-sessions.iife.js']);
  });

  it('imports ESM entry', () => {
    const script = "const sdk = await import('@process-sessions/sdk'); console.log(JSON.stringify(Object.keys(sdk).sort()));";
    const output = run('node', ['--input-type=module', '-e', script], projectDir);

    expect(JSON.parse(output)).toEqual(['ProcessSessionsError', 'init']);
  });

  it('resolves types through exports', () => {
    writeFileSync(
      join(projectDir, 'check.ts'),
      [
        "import { init, type ProcessSessions, type TrackerSnapshot } from '@process-sessions/sdk';",
        "const start: (options: { endpoint: string; appId: string }) => ProcessSessions = init;",
        "const isLeader: TrackerSnapshot['isLeader'] = false;",
        'export { start, isLeader };',
      ].join('\n'),
    );
    writeFileSync(
      join(projectDir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, lib: ['ES2022', 'DOM'], types: [] },
        files: ['check.ts'],
      }),
    );

    // A type error makes tsc exit non-zero, which throws here with its output.
    expect(run('node', [join(REPO_DIR, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], projectDir)).toBe('');
  });

  it('exports script-tag build', () => {
    const script = "import { createRequire } from 'node:module'; console.log(createRequire(import.meta.url).resolve('@process-sessions/sdk/script-tag'));";
    const output = run('node', ['--input-type=module', '-e', script], projectDir).trim();

    expect(output.endsWith('node_modules/@process-sessions/sdk/dist/process-sessions.iife.js')).toBe(true);
  });
});
