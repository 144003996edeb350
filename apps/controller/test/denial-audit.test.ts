import type { Denial } from '@spillway/auth';
import { createMetricsRegistry, silentLogger } from '@spillway/observability';
import { InMemoryAuditLog } from '@spillway/state';
import { waitFor } from '@spillway/test/support/wait';
import { describe, expect, it } from 'vitest';
import { DenialAudit } from '../src/http/denial-audit.js';

const denial = (remoteAddress: string): Denial => ({
  status: 401,
  reason: 'unknown-token',
  remoteAddress,
  method: 'POST',
  route: '/v1/bursts',
  detail: 'the bearer token is not known',
});

describe('DenialAudit', () => {
  it('records a few denials per remote and per minute, then one summary of the rest', async () => {
    let now = Date.UTC(2025, 0, 1, 12, 0, 5);
    const audit = new InMemoryAuditLog({ now: () => now });
    const denials = new DenialAudit(audit, createMetricsRegistry({ defaultMetrics: false }), silentLogger(), {
      perRemotePerMinute: 3,
      perMinute: 5,
      maxRemotes: 4,
      now: () => now,
    });
    const entries = async () => (await audit.page({ classes: ['denial'], limit: 1000 })).entries;
    for (let i = 0; i < 50; i++) denials.onDenied(denial('10.0.0.1'));
    for (let remote = 2; remote < 100; remote++) denials.onDenied(denial(`10.0.0.${remote}`));
    await waitFor(async () => (await entries()).length === 5, { message: '5 entries (the per-minute cap)' });
    expect((await entries()).filter((e) => e.details?.remoteAddress === '10.0.0.1')).toHaveLength(3);
    now += 60_000;
    denials.onDenied(denial('10.0.0.1'));
    const summary = await waitFor(async () => (await entries()).find((e) => e.details?.suppressed !== undefined));
    expect(summary).toMatchObject({ actor: 'spillway', details: { suppressed: 50 + 98 - 5, remotes: 4 } });
    expect(summary.message).toBe('143 more denied requests in the last minute, not recorded one by one');
    denials.stop();
  });
});
