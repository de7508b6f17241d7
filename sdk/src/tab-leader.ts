import { listen } from './listen.js';
import { appKey, local, readJson, writeJson } from './web-storage.js';

/** How often the fallback lease is renewed or claimed, in ms. */
const LEASE_RENEW_MS = 2000;
/**
 * The fallback lease ends when its holder stops renewing for this long, in ms.
 * NOTE: a leader killed without `pagehide` is replaced only after this long, more than one
 * heartbeat interval when the policy sets heartbeats under 6 s.
 */
const LEASE_TTL_MS = 6000;

interface Lease {
  owner: string;
  expiresAt: number;
}

/** Elects one leader tab per app; call the returned function to resign and stop. */
export function electLeader(
  appId: string,
  instanceId: string,
  onChange: (isLeader: boolean) => void,
): () => void {
  const name = appKey(appId, 'leader');
  const { locks } = navigator;

  return locks ? lockLeader(locks, name, onChange) : leaseLeader(name, instanceId, onChange);
}

/** Holds a Web Lock while leading; the browser passes it on when this tab closes. */
function lockLeader(locks: LockManager, name: string, onChange: (isLeader: boolean) => void) {
  const abort = new AbortController();
  let release: (() => void) | undefined;

  locks
    .request(name, { signal: abort.signal }, () => {
      onChange(true);

      return new Promise<void>((resolve) => (release = resolve));
    })
    .catch(() => {
      // Aborted before this tab became leader.
    });

  return () => {
    abort.abort();
    if (!release) return;
    onChange(false);
    release();
    release = undefined;
  };
}

/**
 * Without Web Locks, leads through a lease in localStorage. A `storage` event reaches the
 * other tabs at once when the lease is released or taken, so a tab takes over as soon as
 * the leader resigns, and within LEASE_TTL_MS when it stops without resigning. Two tabs
 * that claim at the same moment both see the later write and the earlier one steps down.
 */
function leaseLeader(name: string, instanceId: string, onChange: (isLeader: boolean) => void) {
  let isLeader = false;

  const renew = () => {
    const lease = readJson<Lease>(local, name);
    const now = Date.now();
    const canLead = !lease || lease.owner === instanceId || lease.expiresAt <= now;

    if (canLead) writeJson(local, name, { owner: instanceId, expiresAt: now + LEASE_TTL_MS });
    if (canLead !== isLeader) onChange((isLeader = canLead));
  };
  const onStorage = (event: StorageEvent) => {
    if (event.key === name) renew();
  };
  const timer = setInterval(renew, LEASE_RENEW_MS);
  const stopListening = listen(window, 'storage', onStorage);
  renew();

  return () => {
    clearInterval(timer);
    stopListening();
    if (readJson<Lease>(local, name)?.owner === instanceId) writeJson(local, name, undefined);
    if (isLeader) onChange((isLeader = false));
  };
}
