import type { ResolvedOptions } from './options.js';
import { appKey, local, readJson, session, writeJson } from './web-storage.js';

/** The localStorage key of the user's stored choice, "in" or "out", for app `appId`. */
export const choiceKey = (appId: string) => appKey(appId, 'consent');

/**
 * Tells whether this page may track: the user's stored choice decides when there is one.
 * Otherwise tracking needs `hasConsent` and no respected Do Not Track or Global Privacy
 * Control signal. Reading storage stores nothing, so it is allowed before consent.
 */
export function isTrackingAllowed(options: ResolvedOptions, hasConsent: boolean): boolean {
  const choice = readJson<string>(local, choiceKey(options.appId));
  const browser = navigator as Navigator & { globalPrivacyControl?: boolean };

  if (choice) return choice === 'in';

  return (
    hasConsent &&
    !(options.respectDoNotTrack && browser.doNotTrack === '1') &&
    !(options.respectGlobalPrivacyControl && browser.globalPrivacyControl === true)
  );
}

/** Deletes the ids and state the SDK keeps in web storage for app `appId`, except the choice. */
export function forgetStoredIds(appId: string): void {
  for (const name of ['session', 'client', 'backoff', 'leader', 'policy']) writeJson(local, appKey(appId, name), undefined);
  writeJson(session, appKey(appId, 'tab'), undefined);
}
