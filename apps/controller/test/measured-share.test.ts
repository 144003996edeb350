import { waitFor } from '@spillway/test/support/wait';
import { LrsTestClient, localityStats } from '@spillway/xds/test-support/lrs-test-client';
import { afterEach, describe, expect, it } from 'vitest';
import { api, type Json, postBurst, startHarness } from './controller-harness.js';

let harness: Awaited<ReturnType<typeof startHarness>> | undefined;
let client: LrsTestClient | undefined;
let reporting: NodeJS.Timeout | undefined;
afterEach(async () => {
  clearInterval(reporting);
  client?.close();
  await harness?.stop();
  harness = undefined;
});

const onprem = { region: 'dc1', zone: 'a' };
const cloud = { region: 'us-west-2', zone: 'a' };

/**
 * A client that reports over real LRS to the router: at first it ignores the locality weights
 * (everything on-prem, as an old proxy would), later it follows them. The controller must see
 * the divergence (audit, metric, burst status), hold the next step, and step once it follows.
 */
describe('measured share during a burst', () => {
  it('flags a divergence, holds the step until the clients follow, then steps on', async () => {
    harness = await startHarness(
      { measuredShare: { tolerance: 0.05, windowSeconds: 5, minRequests: 10, holdSteps: true } },
      { loadReports: true },
    );
    const { url } = harness;
    client = new LrsTestClient(harness.xdsPort);
    client.send({ node: { id: 'old-proxy', locality: onprem }, cluster_stats: [] });
    let cloudPerReport = 0;
    const report = () =>
      client?.send({
        cluster_stats: [
          {
            cluster_name: 'checkout.shop',
            upstream_locality_stats: [
              localityStats(onprem, 100 - cloudPerReport),
              ...(cloudPerReport > 0 ? [localityStats(cloud, cloudPerReport)] : []),
            ],
          },
        ],
      });
    reporting = setInterval(report, 200);
    // The burst starts once the router has the client's reports: the controller has evidence from its first step.
    await waitFor(
      async () => ((await harness?.measuredLoad?.measuredLoad('checkout.shop', 5))?.localities.length ?? 0) > 0,
      { message: 'the first load report' },
    );

    const started = await postBurst(url, { share: 0.3, steps: [0.1, 0.3], reason: 'measured share test' });
    const id = started.body.id as string;
    const burst = async (): Promise<Json> => (await api(url, 'GET', `/v1/bursts/${id}`)).body;

    const diverging = await waitFor(
      async () => {
        const body = await burst();
        return body.measured?.verdict === 'diverges' ? body : undefined;
      },
      { timeoutMs: 30_000, message: 'the divergence in the burst status' },
    );
    expect(diverging.measured).toMatchObject({ share: 0, published: 0.1, windowSeconds: 5 });
    expect(diverging.share).toBe(0.1);
    await waitFor(async () => (await burst()).waitingOn?.startsWith('the measured cloud share to follow: measured 0'), {
      message: 'the step held for the measured share',
    });
    const audit = async () =>
      ((await api(url, 'GET', `/v1/audit?burstId=${id}`)).body.entries as { message: string }[]).map((e) => e.message);
    await waitFor(async () => (await audit()).some((m) => m.startsWith('measured cloud share diverges: measured 0 ')), {
      message: 'the divergence audited',
    });
    const metrics = await harness.registry.metrics();
    expect(metrics).toContain('spillway_burst_share_diverging{service="checkout.shop"} 1');
    expect(metrics).toContain('spillway_burst_share_divergences_total{service="checkout.shop"} 1');
    expect(harness.traffic.get('checkout.shop')?.cloudShare).toBe(0.1);

    // The clients now follow the published 0.10: once the window holds only such reports, the step goes on.
    cloudPerReport = 10;
    await waitFor(() => harness?.traffic.get('checkout.shop')?.cloudShare === 0.3, {
      timeoutMs: 30_000,
      message: 'the next step once the measured share follows',
    });
    expect(await audit()).toContainEqual(
      expect.stringMatching(/^measured cloud share follows again: measured 0\.\d+ over 5 s/),
    );
  }, 60_000);
});
