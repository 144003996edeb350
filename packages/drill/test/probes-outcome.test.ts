import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { isProbeSuccess, normalisePeer } from '../src/probes/probe-outcome.js';
import { probeBootstrap, probeNodeId } from '../src/probes/xds-probe-channel.js';

describe('probe outcomes', () => {
  it('counts OK and UNIMPLEMENTED as reaching a server, everything else as a failure', () => {
    expect(isProbeSuccess(status.OK)).toBe(true);
    expect(isProbeSuccess(status.UNIMPLEMENTED)).toBe(true);
    for (const code of [status.UNAVAILABLE, status.DEADLINE_EXCEEDED, status.CANCELLED, status.INTERNAL]) {
      expect(isProbeSuccess(code)).toBe(false);
    }
  });

  it('normalises peers to ip:port and drops what is not an endpoint', () => {
    expect(normalisePeer('127.0.0.1:50051')).toBe('127.0.0.1:50051');
    expect(normalisePeer('[::1]:50051')).toBe('[::1]:50051');
    expect(normalisePeer('::1:50051')).toBe('[::1]:50051');
    // Before a pick grpc-js answers with the channel target, or "unknown".
    expect(normalisePeer('xds:///echo.demo')).toBeUndefined();
    expect(normalisePeer('unknown')).toBeUndefined();
    expect(normalisePeer('localhost:50051')).toBeUndefined();
    expect(normalisePeer('127.0.0.1:0')).toBeUndefined();
    expect(normalisePeer('127.0.0.1:')).toBeUndefined();
    expect(normalisePeer(undefined)).toBeUndefined();
  });

  it('gives every probe client its own node id and locality', () => {
    const id = probeNodeId('drill', 1);
    expect(id).toMatch(/^drill-1-[0-9a-f]{8}$/);
    expect(probeNodeId('drill', 1)).not.toBe(id);
    expect(probeBootstrap('127.0.0.1:18000', { id, locality: { region: 'dc1', zone: 'b' } })).toEqual({
      xds_servers: [
        { server_uri: '127.0.0.1:18000', channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] },
      ],
      node: { id, cluster: 'spillway-drill', locality: { region: 'dc1', zone: 'b' } },
    });
  });
});
