/**
 * The key a client address is counted under. IPv4 addresses count one by one; IPv6 addresses by
 * their /64, the block one customer line usually gets, since a client can pick any address of it.
 */
import { isIPv6 } from 'node:net';

export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  const withoutZone = address.split('%', 1)[0]!;
  if (!isIPv6(withoutZone)) return address;
  return `${ipv6Groups(withoutZone).slice(0, 4).join(':')}::/64`;
}

/** The eight hexadecimal groups of an IPv6 address (`2001:db8::1` → 2001 db8 0 0 0 0 0 1). */
function ipv6Groups(address: string): string[] {
  // The URL parser writes IPv6 hosts in canonical form: lower case, embedded IPv4 as hex groups.
  const canonical = new URL(`http://[${address}]`).hostname.slice(1, -1);
  const [head = '', tail] = canonical.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  return [...left, ...Array.from({ length: 8 - left.length - right.length }, () => '0'), ...right];
}
