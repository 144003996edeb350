import { RemoteMeasuredLoad } from '@spillway/controller';
import type { RunningRouter } from '@spillway/router';
import { startLoopbackRouter } from '@spillway/router/test-support/loopback-router';
import { waitFor } from '@spillway/test/support/wait';
import { endpoint, InMemoryCatalog } from '@spillway/xds/test-support/in-memory-catalog';
import { LrsTestClient, localityStats } from '@spillway/xds/test-support/lrs-test-client';
import { afterEach, describe, expect, it } from 'vitest';

/** `spillway controller --router URL` reads the measured load from a router process over HTTP. */
describe('RemoteMeasuredLoad (the controller reading a router over HTTP)', () => {
  const routers: RunningRouter[] = [];
  const clients: LrsTestClient[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    for (const router of routers.splice(0)) await router.stop();
  });

  const start = async (loadReporting: boolean) => {
    const catalog = new InMemoryCatalog();
    catalog.setService({
      name: 'cart',
      namespace: 'shop',
      endpoints: [
        endpoint('10.0.0.1', 8080, { region: 'dc1', zone: 'a' }),
        endpoint('10.1.0.1', 8080, { region: 'us-east-1', zone: 'b' }),
      ],
    });
    const router = await startLoopbackRouter({
      catalog,
      ...(loadReporting ? { loadReporting: { intervalSeconds: 1 } } : {}),
    });
    routers.push(router);
    return router;
  };

  it('reads what the router measured, and fails with the reason when the router cannot say', async () => {
    const router = await start(true);
    const client = new LrsTestClient(router.xdsPort);
    clients.push(client);
    client.send({ node: { id: 'n', locality: { region: 'dc1', zone: 'a' } }, cluster_stats: [] });
    client.send({
      cluster_stats: [
        {
          cluster_name: 'cart.shop',
          upstream_locality_stats: [
            localityStats({ region: 'dc1', zone: 'a' }, 75),
            localityStats({ region: 'us-east-1', zone: 'b' }, 25),
          ],
        },
      ],
    });
    const remote = new RemoteMeasuredLoad(`http://127.0.0.1:${router.httpPort}`);
    const load = await waitFor(
      async () => {
        const answer = await remote.measuredLoad('cart.shop', 30);
        return answer.cloudShare !== null ? answer : undefined;
      },
      { message: 'the report over HTTP' },
    );
    expect(load).toMatchObject({ service: 'cart.shop', windowSeconds: 30, cloudShare: 0.25 });

    const off = await start(false);
    await expect(
      new RemoteMeasuredLoad(`http://127.0.0.1:${off.httpPort}`).measuredLoad('cart.shop', 30),
    ).rejects.toThrow(/404/);
  });
});
