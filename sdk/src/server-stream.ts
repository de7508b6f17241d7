import type { SessionState } from '../../shared/src/index.js';

/**
 * Opens `GET {endpoint}/v1/sessions/:id/stream` and passes each `state` event to `onState`;
 * returns the function that closes it. EventSource reconnects by itself after network
 * failures. Without EventSource this does nothing and replies to batches carry the state.
 */
export function openServerStream(
  endpoint: string,
  sessionId: string,
  onState: (state: SessionState) => void,
): () => void {
  if (typeof EventSource !== 'function') return () => {};

  const source = new EventSource(`${endpoint}/v1/sessions/${encodeURIComponent(sessionId)}/stream`);
  source.addEventListener('state', (event) => {
    try {
      const state = JSON.parse((event as MessageEvent<string>).data) as SessionState;

      if (state?.id === sessionId) onState(state);
    } catch {
      // A malformed message is ignored; the next one or the next reply carries the state.
    }
  });

  return () => source.close();
}
