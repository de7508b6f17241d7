/**
 * Creates a random id of 26 base-32 characters (130 bits) from `crypto.getRandomValues`,
 * which, unlike `crypto.randomUUID`, also works outside secure contexts.
 */
export function createId(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(26)), (byte) => (byte & 31).toString(32)).join('');
}
