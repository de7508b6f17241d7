import type { SessionState } from '../../shared/src/index.js';

/** First wait before the stream is opened again after an error, in ms. It doubles after each error. */
export const STREAM_RETRY_MS = 1000;
/** Upper bound of the wait before the stream is opened again, in ms. */
export const MAX_STREAM_RETRY_MS = 60_000;

/**
 * Opens `GET {endpoint}/v1/sessions/:id/stream`, passes each `state` event to `onState`, and
 * returns the function that closes it. After an error the stream is closed and opened again,
 * 1 s later and then twice as long each time up to 60 s, until a state arrives. This
 * covers both errors: EventSource gives up for good on a non-200 reply such as a 404, and
 * after a dropped connection it would retry at its own fixed pace. Without EventSource this
 * does nothing and replies to batches carry the state.
 */
export function openServerStream(
  endpoint: string,
  sessionId: string,
  onState: (state: SessionState) => void,
): () => void {
  if (typeof EventSource !== 'function') return () => {};

  const url = `${endpoint}/v1/sessions/${encodeURIComponent(sessionId)}/stream`;
  let source: EventSource | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let errors = 0;

  const onMessage = (event: MessageEvent<string>) => {
    try {
      const state = JSON.parse(event.data) as SessionState;

      errors = 0;
      if (state?.id === sessionId) onState(state);
    } catch {
      // A malformed message is ignored; the next one or the next reply carries the state.
    }
  };
  const open = () => {
    source = new EventSource(url);
    source.onerror = () => {
      source?.close();
      timer = setTimeout(open, Math.min(STREAM_RETRY_MS * 2 ** errors++, MAX_STREAM_RETRY_MS));
    };
    source.addEventListener('state', onMessage);
  };
  open();

  return () => {
    clearTimeout(timer);
    source?.close();
  };
}
