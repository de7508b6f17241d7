import type { TabMessage } from './channel.js';
import { createId } from './ids.js';
import type { TrackerContext } from './tracker-context.js';
import { appKey, readOrCreateId, session, writeJson } from './web-storage.js';

/** Interval of the presence `ping` each tab posts, in ms. */
const PING_MS = 20_000;
/**
 * A tab that posted nothing for this long counts as closed, in ms. Chrome 88 and later
 * run interval timers of pages hidden over 5 minutes once a minute, so this spans two
 * missed pings (developer.chrome.com/blog/timer-throttling-in-chrome-88).
 */
const PRESENCE_TTL_MS = 130_000;

/** Tracks this tab's id and which other tabs of the app are open. */
export interface TabRegistry {
  /** This tab's id: kept in sessionStorage across reloads, replaced in a duplicated tab. */
  readonly tabId: string;
  /** Open tabs of the app, this one included. */
  count(): number;
  /** Announces this tab and starts the presence ping. */
  start(): void;
  /** Handles a message from another tracker. */
  handle(message: TabMessage): void;
  /** Posts `bye` and stops the ping; `start()` announces the tab again. */
  stop(): void;
}

/**
 * Creates the registry of the tracker `ctx`. It emits `tabs` when the number of open tabs
 * changes, also when a tab stopped pinging without `bye`.
 */
export function createTabRegistry(ctx: Pick<TrackerContext, 'options' | 'instanceId' | 'channel' | 'emitter'>): TabRegistry {
  const { channel, instanceId } = ctx;
  const key = appKey(ctx.options.appId, 'tab');
  const others = new Map<string, number>();
  let tabId = readOrCreateId(session, key, createId);
  let timer: ReturnType<typeof setInterval> | undefined;
  let lastCount = 1;
  const since = Date.now();

  // Every presence message carries `since`, although only `hello` needs it.
  const post = (t: 'hello' | 'here' | 'ping' | 'bye') => channel.post({ t, tab: tabId, since });
  const rename = () => {
    tabId = createId();
    writeJson(session, key, tabId);
    post('hello');
  };
  const report = () => {
    if (others.size + 1 !== lastCount) ctx.emitter.emit('tabs', { tabs: (lastCount = others.size + 1) });
  };
  const prune = () => {
    const now = Date.now();

    for (const [id, expiresAt] of others) if (expiresAt <= now) others.delete(id);
    report();
  };

  return {
    get tabId() {
      return tabId;
    },
    count: () => others.size + 1,
    start() {
      post('hello');
      timer ??= setInterval(() => {
        post('ping');
        prune();
      }, PING_MS);
    },
    handle(message) {
      if (!('tab' in message)) return;
      if (message.t === 'bye') {
        others.delete(message.tab);
        report();
        return;
      }
      if (message.tab === tabId) {
        // A duplicated tab starts with a copy of the original's sessionStorage, so two
        // trackers can hold one id. The older keeps it and the newer picks a new one.
        if (message.t === 'hello') {
          const isOlder = since < message.since || (since === message.since && instanceId < message.from);
          if (isOlder) post('here');
          else rename();
          return;
        }
        if (message.t !== 'here') return;
        rename();
      }
      others.set(message.tab, Date.now() + PRESENCE_TTL_MS);
      if (message.t === 'hello') post('here');
      report();
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
      post('bye');
    },
  };
}
