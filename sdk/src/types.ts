import type { ProcessSessionsError } from './errors.js';
import type { SessionEndReason } from './session-store.js';

/**
 * State of this tab's tracker. `idle` and `terminated` mean the session is over and the next
 * input starts a new one, unless the end reason is `logout`, `evicted`, `disabled` or
 * `session_limit`. `stopped` means `end()` or `stop()` was called. `off` means nothing is
 * stored or sent: consent is required and not granted yet, the user opted out, or the
 * browser sends a Do Not Track or Global Privacy Control signal the options respect.
 */
export type TrackerState = 'active' | 'warning' | 'idle' | 'terminated' | 'stopped' | 'off';

/** A snapshot of the tracker, returned by `getState()`. */
export interface TrackerSnapshot {
  /** The session this tab belongs to, or the one that just ended. */
  sessionId: string | null;
  /** This tab's id; null while `off`, because creating one would store it. */
  tabId: string | null;
  state: TrackerState;
  /** Open tabs of the app in this browser profile, this one included. */
  tabs: number;
  /** True in the one tab that sends heartbeats and keeps the collector's stream open for all tabs. */
  isLeader: boolean;
  endReason: SessionEndReason | null;
  /** When the session goes idle without further input, in epoch ms; null once it ended otherwise. */
  idleDeadline: number | null;
  /** The latest input in any tab of the session, in epoch ms. */
  lastActivityAt: number | null;
  userId: string | null;
  /** Custom events this tab dropped because their JSON is over 60 KiB. */
  droppedEvents: number;
}

/** Payloads of the events `on()` subscribes to, by event name. */
export interface TrackerEvents {
  /** A session began in this tab (`isNew`) or the tab joined one another tab began. */
  start: { sessionId: string; isNew: boolean };
  /** The user is active again after a warning, an idle session or a start; `idleMs` after idle. */
  active: { sessionId: string; idleMs?: number };
  /** Sent each second before the idle deadline; `idleAt` is that deadline in epoch ms. */
  warning: { sessionId: string; remainingMs: number; idleAt: number };
  /** No input in any tab for the idle timeout; the next input starts a new session. */
  idle: { sessionId: string; idleAt: number };
  /** The collector or another tab ended the session. */
  terminated: { sessionId: string; reason: SessionEndReason };
  /** The number of open tabs changed. */
  tabs: { tabs: number };
  /**
   * A delivery failed for good, the collector rejected the session, or it
   * stored a batch without some of its events (the code of the first, such as
   * `session_limit` for a tab over `maxTabs`).
   */
  error: ProcessSessionsError;
}

/** Custom event properties: at most 32 keys with strings of up to 1024 characters, numbers, booleans or null. */
export type TrackProps = Record<string, string | number | boolean | null>;

/** Attributes of a user that `identify()` may add. */
export interface UserTraits {
  /** The user's group, 1 to 128 characters, which the collector can match a session policy by. */
  group?: string;
}

/** A running tracker, returned by `init()`. */
export interface ProcessSessions {
  /** Subscribes to `name` and returns the function that unsubscribes. */
  on<K extends keyof TrackerEvents>(name: K, listener: (payload: TrackerEvents[K]) => void): () => void;
  /**
   * Queues a custom event in the current session. It is dropped while no session is running,
   * and dropped and counted in `droppedEvents`, with an `error` event, when its JSON is over 60 KiB.
   */
  track(name: string, props?: TrackProps): void;
  /**
   * Attaches `userId`, and the group of `traits`, to this session and the batches of every
   * tab. Without it the SDK sends no user id, only random session, tab and client ids.
   */
  identify(userId: string, traits?: UserTraits): void;
  /** Ends the session for every tab with reason `logout`, sends what is queued, and stops. */
  end(): Promise<void>;
  /** Stops this tab's tracker without ending the session, sending what is queued by beacon. */
  stop(): void;
  getState(): TrackerSnapshot;
  /** Starts tracking under `consent: 'required'`; Do Not Track and Global Privacy Control, when respected, still apply. */
  grantConsent(): void;
  /**
   * Stops tracking in every tab of the app and stores the choice in localStorage, so later
   * pages track nothing either. Deletes the stored ids and the undelivered events, and sends nothing more.
   */
  optOut(): void;
  /** Stores the user's consent in localStorage, overriding `consent`, Do Not Track and Global Privacy Control, and starts tracking. */
  optIn(): void;
}
