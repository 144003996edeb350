/** Where a local client reaches a server listening on `address` (a wildcard host means loopback). */
export function loopbackFor(address: string): string {
  const host = address.slice(0, address.lastIndexOf(':')).replace(/^\[(.*)\]$/, '$1');
  if (host === '' || host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
