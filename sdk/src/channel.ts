import type { SessionEndReason, SessionRecord } from './session-store.js';

/** A message between tabs of one app on the `ps:<appId>` BroadcastChannel. */
export type TabMessage =
  | { t: 'hello'; tab: string; since: number; from: string }
  | { t: 'here' | 'ping' | 'bye'; tab: string; since?: number; from: string }
  | { t: 'act'; id: string; at: number; from: string }
  | { t: 'session'; record: SessionRecord; from: string }
  | { t: 'end'; id: string; reason: SessionEndReason; from: string }
  | { t: 'sent'; ids: string[]; from: string };

/** Removes `from` from each member of a message union. */
type WithoutSender<M> = M extends TabMessage ? Omit<M, 'from'> : never;

/** A tab message as a tracker posts it: the channel adds `from`. */
export type OutgoingTabMessage = WithoutSender<TabMessage>;

/** Sends and receives tab messages; every message carries the sender's instance id `from`. */
export interface TabChannel {
  /** Posts to every other tracker of the app, in this tab or another, from this instance. */
  post(message: OutgoingTabMessage): void;
  /** Closes the channel; posting afterwards does nothing. */
  close(): void;
}

/**
 * Opens the app's channel for the tracker `instanceId`. Without BroadcastChannel (old Safari)
 * the tab works alone: it still shares the session through localStorage but counts only itself.
 */
export function openChannel(
  appId: string,
  instanceId: string,
  onMessage: (message: TabMessage) => void,
): TabChannel {
  if (typeof BroadcastChannel !== 'function') return { post() {}, close() {} };

  const channel = new BroadcastChannel(`ps:${appId}`);
  let isOpen = true;
  channel.onmessage = (event: MessageEvent<TabMessage>) => {
    if (isOpen && event.data && typeof event.data.t === 'string') onMessage(event.data);
  };

  return {
    post(message) {
      if (isOpen) channel.postMessage({ ...message, from: instanceId });
    },
    close() {
      isOpen = false;
      channel.close();
    },
  };
}
