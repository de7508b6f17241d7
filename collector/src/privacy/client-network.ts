import { isIPv4, isIPv6 } from 'node:net';

/** Leading 16-bit groups of an IPv6 address that truncation keeps: 3 groups, a /48. */
const IPV6_KEPT_GROUPS = 3;

/**
 * Truncates an IP address so that it names a network, not a host: IPv4 keeps
 * its first three octets (a /24, last octet zeroed) and IPv6 its first 48
 * bits (a /48, the rest zeroed). An IPv4-mapped IPv6 address is treated as
 * the IPv4 address it carries. Returns null for a missing address and for
 * anything that is not an IP address, so a raw value can never pass through.
 */
export function truncateAddress(address: string | undefined): string | null {
  if (address === undefined) return null;
  const withoutZone = address.split('%')[0] ?? '';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(withoutZone)?.[1];
  const candidate = mapped ?? withoutZone;

  if (isIPv4(candidate)) {
    const [a, b, c] = candidate.split('.');
    return `${a}.${b}.${c}.0`;
  }
  if (isIPv6(candidate)) {
    const groups = expandIPv6(candidate).slice(0, IPV6_KEPT_GROUPS);
    return `${groups.join(':')}::`;
  }
  return null;
}

/** Returns the eight 16-bit groups of a valid IPv6 address, in lowercase hex, no leading zeros. */
function expandIPv6(address: string): string[] {
  const [head = '', tail] = address.split('::');
  const toGroups = (part: string) =>
    part === '' ? [] : part.split(':').flatMap(splitEmbeddedIPv4);
  const left = toGroups(head);
  const right = tail === undefined ? [] : toGroups(tail);
  const zeros = Array.from({ length: 8 - left.length - right.length }, () => '0');
  return [...left, ...zeros, ...right].map((group) => Number.parseInt(group, 16).toString(16));
}

/** Turns a trailing dotted IPv4 part such as `192.0.2.1` into its two hex groups. */
function splitEmbeddedIPv4(group: string): string[] {
  if (!group.includes('.')) return [group];
  const [a = 0, b = 0, c = 0, d = 0] = group.split('.').map(Number);
  return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
}
