/**
 * Makes happy-dom's `sendBeacon` keep a failed send to itself, as browsers do:
 * a page never learns whether a queued beacon arrived. happy-dom 21 leaves
 * the rejection of the fetch behind it unhandled, so a beacon still in flight
 * when a test's server closes failed the run with ECONNRESET. Test files
 * that run in Node's environment have no Navigator and are left alone.
 */
if (typeof Navigator !== 'undefined') {
  Object.defineProperty(Navigator.prototype, 'sendBeacon', {
    configurable: true,
    writable: true,
    value(url: string | URL, data?: BodyInit | null): boolean {
      window.fetch(url, { method: 'POST', body: data ?? null }).catch(() => {});
      return true;
    },
  });
}
