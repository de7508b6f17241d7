import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 may let the old generation grow past the heap that survived the
 * last full garbage collection before it runs the next one, in percent.
 */
export const HEAP_GROWING_PERCENT = 50;

const FLAG = '--heap-growing-percent';

/**
 * Sets V8's `--heap-growing-percent` to `HEAP_GROWING_PERCENT` unless the node
 * command line already sets it, and returns whether it did.
 *
 * Without the flag, V8 in Node 20 let the old space of the collector under
 * steady ingest grow to about four times the heap that survived each full
 * collection (measured with scripts/bench/soak.ts). Resident memory then rose
 * by about four times the size of every entry the write caches added. Set after
 * start-up, the flag still took effect in the same measurement.
 */
export function limitHeapGrowth(execArgv: readonly string[] = process.execArgv): boolean {
  const isSetByCommandLine = execArgv.some((arg) => arg === FLAG || arg.startsWith(`${FLAG}=`));
  if (isSetByCommandLine) return false;

  setFlagsFromString(`${FLAG}=${HEAP_GROWING_PERCENT}`);
  return true;
}
