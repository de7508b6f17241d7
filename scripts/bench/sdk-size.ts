import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';

/** Path of the script-tag build that `npm run build` writes. */
export const SCRIPT_TAG_BUILD = new URL('../../sdk/dist/process-sessions.iife.js', import.meta.url);

/** Raw and gzipped (level 9) size of the script-tag build, in bytes. */
export async function measureSdkSize(): Promise<{ rawBytes: number; gzipBytes: number }> {
  const source = await readFile(SCRIPT_TAG_BUILD);
  return { rawBytes: source.length, gzipBytes: gzipSync(source, { level: 9 }).length };
}
