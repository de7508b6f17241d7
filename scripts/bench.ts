/**
 * Prints the benchmark figures recorded in BENCHMARKS.md: the SDK's script-tag
 * size and the collector's ingest throughput next to a bare node:http server.
 * Every load targets 127.0.0.1 and stops by itself.
 */
import os from 'node:os';
import { benchIngest, DEFAULT_LOAD, printIngest } from './bench/ingest.js';
import { measureLoadCost, printLoadCost } from './bench/load-cost.js';
import { measureSdkMainThread } from './bench/sdk-main-thread.js';
import { measureSdkSize } from './bench/sdk-size.js';
import { benchReports, printReportBench } from './bench/reports.js';
import { benchTermination } from './bench/termination.js';

function printMachine(): void {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(`machine: ${os.cpus().length} x ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`);
  console.log(`node ${process.version}, ${os.type()} ${os.release()}, ${new Date().toISOString()}`);
}

async function main(): Promise<void> {
  printMachine();

  const size = await measureSdkSize();
  console.log(
    `\nSDK script tag: ${size.rawBytes} B minified, ${size.gzipBytes} B gzipped ` +
      `(${(size.gzipBytes / 1024).toFixed(2)} KiB)`,
  );

  const mainThread = await measureSdkMainThread();
  console.log(
    `SDK main-thread cost in Chromium over ${mainThread.load.durationMs / 1000} s of input ` +
      `(${mainThread.pointerMoves} pointer moves, ${mainThread.keyPresses} key presses): ` +
      `${mainThread.addedScriptMs.toFixed(0)} ms of script added, ` +
      `${mainThread.addedScriptMsPerSecond.toFixed(2)} ms per second`,
  );

  const load = DEFAULT_LOAD;
  console.log(
    `\ningest: ${load.connections} connections, ${load.eventsPerBatch}-event batches, ` +
      `${load.durationSeconds} s each`,
  );
  printIngest(await benchIngest(load), os.availableParallelism());
  printLoadCost(await measureLoadCost());

  console.log('\ntermination reaching 3 tabs in Chromium, 5 rounds:');
  for (const round of await benchTermination(5)) {
    console.log(`  tabs ${round.tabMs.join(', ')} ms, slowest ${round.maxMs} ms`);
  }

  // Seeding 10 million events takes about two minutes on 2 cores.
  const reportEvents = Number(process.env.BENCH_REPORT_EVENTS ?? 10_000_000);
  console.log('');
  printReportBench(await benchReports({ events: reportEvents }));
}

await main();
