import { listen } from './listen.js';

/**
 * Calls `onNavigate` after `history.pushState` and on `popstate`, which is how single-page
 * apps change pages; returns the function that stops watching.
 */
export function watchNavigation(onNavigate: () => void): () => void {
  const original = history.pushState;
  const patched: History['pushState'] = function (this: History, ...args) {
    original.apply(this, args);
    onNavigate();
  };

  history.pushState = patched;
  const stopListening = listen(window, 'popstate', onNavigate);

  return () => {
    // Another script may have wrapped pushState after us; unwrapping then would drop its wrapper.
    if (history.pushState === patched) history.pushState = original;
    stopListening();
  };
}
