import { local, readJson, writeJson } from './web-storage.js';

/** How often the fallback lease is renewed or claimed, in ms. */
const LEASE_RENEW_MS = 2000;
/** The fallback lease ends when its holder stops renewing for this long, in ms. */
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
  const name = `ps:${appId}:leader`;
  const locks = typeof navigator === 'undefined' ? undefined : navigator.locks;

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
    if (release) onChange(false);
    release?.();
  };
}

/**
 * Without Web Locks, leads through a lease in localStorage. Two tabs that claim at the
 * same moment can both lead until the next renewal, when the one overwritten steps down.
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
  const timer = setInterval(renew, LEASE_RENEW_MS);
  renew();

  return () => {
    clearInterval(timer);
    if (readJson<Lease>(local, name)?.owner === instanceId) writeJson(local, name, undefined);
    if (isLeader) onChange((isLeader = false));
  };
}
