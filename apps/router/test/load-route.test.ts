import { LOAD_WINDOW_MAX_SECONDS } from '@spillway/api';
import { MeasuredLoad } from '@spillway/model';
import { waitFor } from '@spillway/test/support/wait';
import { LOAD_RETENTION_SECONDS } from '@spillway/xds';
import { endpoint, InMemoryCatalog } from '@spillway/xds/test-support/in-memory-catalog';
import { LrsTestClient, localityStats } from '@spillway/xds/test-support/lrs-test-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningRouter } from '../src/index.js';
import { startLoopbackRouter } from './support/loopback-router.js';

const zoneA = { region: 'dc1', zone: 'a' };
const cloudA = { region: 'us-east-1', zone: 'us-east-1a' };

describe('GET /v1/load', () => {
  let router: RunningRouter | undefined;
  const clients: LrsTestClient[] = [];

  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await router?.stop();
    router = undefined;
  });

  async function start(loadReporting: boolean) {
    const catalog = new InMemoryCatalog();
    catalog.setService({
      name: 'cart',
      namespace: 'shop',
      endpoints: [endpoint('10.0.0.1', 8080, zoneA), endpoint('10.1.0.1', 8080, cloudA)],
    });
    router = await startLoopbackRouter({
      catalog,
      ...(loadReporting ? { loadReporting: { intervalSeconds: 1 } } : {}),
    });
    return { router, base: `http://127.0.0.1:${router.httpPort}` };
  }

  it('accepts a window as long as the router keeps reports (the API contract says so)', () => {
    expect(LOAD_WINDOW_MAX_SECONDS).toBe(LOAD_RETENTION_SECONDS);
  });

  it('answers what the clients reported, per locality, with the measured cloud share', async () => {
    const { router: running, base } = await start(true);
    const client = new LrsTestClient(running.xdsPort);
    clients.push(client);
    client.send({ node: { id: 'n1', locality: zoneA }, cluster_stats: [] });
    client.send({
      cluster_stats: [
        {
          cluster_name: 'cart.shop',
          upstream_locality_stats: [localityStats(zoneA, 69, 1), localityStats(cloudA, 30)],
        },
      ],
    });
    const load = await waitFor(
      async () => {
        const body = MeasuredLoad.parse(
          await (await fetch(`${base}/v1/load?service=cart.shop&windowSeconds=30`)).json(),
        );
        return body.localities.length === 2 ? body : undefined;
      },
      { message: 'the report in /v1/load' },
    );
    expect(load).toEqual({
      service: 'cart.shop',
      windowSeconds: 30,
      localities: [
        { region: 'dc1', zone: 'a', environment: 'onprem', requests: 70, errors: 1 },
        { region: 'us-east-1', zone: 'us-east-1a', environment: 'cloud', requests: 30, errors: 0 },
      ],
      cloudShare: 0.3,
    });
  });

  it('names the bad field, and says when a service is unknown or reporting is off', async () => {
    const { base } = await start(true);
    const problem = async (query: string) => {
      const response = await fetch(`${base}/v1/load?${query}`);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      return { status: response.status, detail: ((await response.json()) as { detail: string }).detail };
    };
    expect(await problem('service=cart.shop&windowSeconds=601')).toMatchObject({
      status: 400,
      detail: expect.stringContaining('windowSeconds'),
    });
    expect(await problem('service=cart')).toMatchObject({ status: 400, detail: expect.stringContaining('service') });
    expect(await problem('service=nope.shop')).toMatchObject({
      status: 404,
      detail: expect.stringContaining('nope.shop'),
    });
    const empty = await fetch(`${base}/v1/load?service=cart.shop`);
    expect(await empty.json()).toEqual({ service: 'cart.shop', windowSeconds: 60, localities: [], cloudShare: null });
    await router?.stop();
    const off = await start(false);
    const response = await fetch(`${off.base}/v1/load?service=cart.shop`);
    expect(response.status).toBe(404);
    expect(JSON.stringify(await response.json())).toContain('loadReporting');
  });
});
