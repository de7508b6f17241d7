/**
 * Adds `listener` for `type` events of `target` and returns the function that removes it,
 * with the same `options`.
 */
export function listen<E extends Event>(
  target: EventTarget,
  type: string,
  listener: (event: E) => void,
  options?: AddEventListenerOptions,
): () => void {
  target.addEventListener(type, listener as EventListener, options);

  return () => target.removeEventListener(type, listener as EventListener, options);
}
