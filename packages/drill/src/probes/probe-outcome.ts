import { isIP } from 'node:net';
import { status as GrpcStatus } from '@grpc/grpc-js';

/**
 * Whether a probe RPC counts as a success: OK, or UNIMPLEMENTED, which still proves that a
 * server was reached (a live drill may call `/grpc.health.v1.Health/Check` on services that
 * do not implement it). Everything else (UNAVAILABLE, DEADLINE_EXCEEDED, …) is a failure.
 */
export function isProbeSuccess(code: number): boolean {
  return code === GrpcStatus.OK || code === GrpcStatus.UNIMPLEMENTED;
}

/**
 * Normalises what grpc-js `call.getPeer()` returns to `ip:port` (`[ip]:port` for IPv6), or
 * undefined when no endpoint was picked. Before a pick, grpc-js answers with the channel
 * target (`xds:///NAME.NS`) or `unknown`; after it, with the subchannel address, which is
 * already `127.0.0.1:PORT` or `[::1]:PORT`.
 */
export function normalisePeer(peer: string | undefined): string | undefined {
  if (!peer) return undefined;
  const colon = peer.lastIndexOf(':');
  if (colon <= 0) return undefined;
  const port = Number(peer.slice(colon + 1));
  if (!/^\d+$/.test(peer.slice(colon + 1)) || port < 1 || port > 65535) return undefined;
  const host = peer.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  const kind = isIP(host);
  if (kind === 4) return `${host}:${port}`;
  if (kind === 6) return `[${host}]:${port}`;
  return undefined;
}
