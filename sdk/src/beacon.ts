import type { BatchInput } from '../../shared/src/index.js';
import { MAX_BEACON_BYTES } from '../../shared/src/constants.js';
import { BATCH_CONTENT_TYPE, byteLength, postBody } from './transport.js';

/**
 * Splits `batch` into JSON bodies of at most `maxBytes` bytes each, keeping event order.
 * An event that alone exceeds the limit is passed to `onTooLarge` and left out.
 */
export function splitBatch(
  batch: BatchInput,
  maxBytes: number,
  onTooLarge: (event: BatchInput['events'][number]) => void,
): string[] {
  const baseBytes = byteLength(JSON.stringify({ ...batch, events: [] }));
  const bodies: string[] = [];
  let chunk: BatchInput['events'] = [];
  let chunkBytes = baseBytes;

  for (const event of batch.events) {
    const eventBytes = byteLength(JSON.stringify(event));

    if (baseBytes + eventBytes > maxBytes) {
      onTooLarge(event);
      continue;
    }
    // After the first event, each one also adds a comma to the array.
    if (chunk.length && chunkBytes + 1 + eventBytes > maxBytes) {
      bodies.push(JSON.stringify({ ...batch, events: chunk }));
      chunk = [];
      chunkBytes = baseBytes;
    }
    chunkBytes += eventBytes + (chunk.length ? 1 : 0);
    chunk.push(event);
  }
  if (chunk.length) bodies.push(JSON.stringify({ ...batch, events: chunk }));

  return bodies;
}

/**
 * Sends `batch` while the page goes away: each body under 64 KiB with `sendBeacon`, or with
 * a keepalive POST when the browser refuses the beacon. Neither reports the reply here, so
 * the events stay stored until a later send gets a 2xx.
 */
export function sendBeacons(endpoint: string, batch: BatchInput, onTooLarge: (event: unknown) => void) {
  for (const body of splitBatch(batch, MAX_BEACON_BYTES, onTooLarge)) {
    const isQueued =
      typeof navigator.sendBeacon === 'function' &&
      navigator.sendBeacon(`${endpoint}/v1/events`, new Blob([body], { type: BATCH_CONTENT_TYPE }));

    // The keepalive quota is shared with queued beacons, so this can fail too.
    if (!isQueued) void postBody(endpoint, body, true);
  }
}
