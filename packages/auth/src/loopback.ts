import { lookup } from 'node:dns/promises';
import { isIPv4, isIPv6 } from 'node:net';

/** True for an IP address only this machine can reach: 127.0.0.0/8 or ::1 (0.0.0.0 and :: are every interface). */
export function isLoopbackIp(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '');
  if (isIPv4(bare)) return bare.startsWith('127.');
  if (!isIPv6(bare)) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  if (mapped?.[1]) return isLoopbackIp(mapped[1]);
  return bare === '::1' || /^(0{1,4}:){7}0{0,3}1$/.test(bare);
}

/**
 * True for a name or address that only reaches this machine, decided by the text alone:
 * `localhost`, an IPv4 literal in 127/8, `::1`. No DNS: a Host header is never resolved.
 */
export function isLoopback(host: string): boolean {
  return host.replace(/^\[|\]$/g, '').toLowerCase() === 'localhost' || isLoopbackIp(host);
}

/**
 * Whether a listen address only reaches this machine, decided by what it resolves to: every
 * address must be loopback. `127.evil` is a name like any other, `0.0.0.0` is every interface,
 * and a name that does not resolve is not loopback.
 */
export async function resolvesToLoopback(host: string): Promise<boolean> {
  const bare = host.replace(/^\[|\]$/g, '');
  if (isIPv4(bare) || isIPv6(bare)) return isLoopbackIp(bare);
  try {
    const addresses = await lookup(bare, { all: true, verbatim: true });
    return addresses.length > 0 && addresses.every((entry) => isLoopbackIp(entry.address));
  } catch {
    return false;
  }
}

/**
 * Whether a Host header (`name[:port]`) names this machine by a loopback name. A page served by
 * `evil.example` that rebinds its name to 127.0.0.1 still sends `Host: evil.example`: refusing it
 * keeps open loopback reads away from browsers on other origins. Any port is accepted (an ssh
 * tunnel changes it; the name is what rebinding cannot fake).
 */
export function hostHeaderIsLoopback(host: string | undefined): boolean {
  if (host === undefined) return true; // HTTP/1.0 without Host: no browser sends that.
  const match = /^(\[[^\]]+\]|[^:]+)(?::\d{1,5})?$/.exec(host);
  return match?.[1] !== undefined && isLoopback(match[1]);
}
