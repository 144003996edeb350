import { NomadCluster } from '@spillway/config';
import { FakeNomadApi } from '@spillway/test/fakes/nomad-api';
import { fixtureJson } from '@spillway/test/fixtures';
import { waitFor } from '@spillway/test/support/wait';
import axios from 'axios';
import { afterEach, describe, expect, it } from 'vitest';
import type { BlockingTuning } from '../src/blocking/index.js';
import { NomadSource } from '../src/nomad/index.js';
import { capturingLogger, LoggingSink, TEST_TUNING } from './consul-support.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startFake(options: { token?: string } = {}): Promise<FakeNomadApi> {
  const fake = await FakeNomadApi.start(options);
  cleanups.push(() => fake.close());
  return fake;
}

function startSource(
  fake: FakeNomadApi,
  options: { config?: Record<string, unknown>; tuning?: BlockingTuning; env?: NodeJS.ProcessEnv } = {},
) {
  const config = NomadCluster.parse({
    name: 'nomad-lab',
    kind: 'nomad',
    environment: 'onprem',
    region: 'us-east',
    address: fake.url,
    namespace: { default: 'apps' },
    ...options.config,
  });
  const { logger, warnings } = capturingLogger();
  const tuning = options.tuning ?? { ...TEST_TUNING, perPage: 2 };
  const source = new NomadSource(config, { logger, env: options.env ?? {}, tuning });
  const sink = new LoggingSink();
  cleanups.push(() => source.stop());
  void source.start(sink);
  return { source, sink, warnings };
}

const synced = (sink: LoggingSink) => waitFor(() => sink.replaceAllCount === 1, { message: 'initial replaceAll' });

const FIXTURE_ALLOCS = ['177160af-26f6-619f-9c9f-5e46d1104395', 'ba731da0-6df9-9858-ef23-806e9758a899'];

describe('FakeNomadApi fidelity', () => {
  it('answers /v1/services and /v1/service/:name in the docs shapes, paginated and blocking', async () => {
    const fake = await startFake();
    fake.register({ allocId: FIXTURE_ALLOCS[0], port: 29702 });
    fake.register({ allocId: FIXTURE_ALLOCS[1], port: 27232 });
    const list = await axios.get(`${fake.url}/v1/services`);
    expect(list.data).toEqual(fixtureJson('nomad-services-list.docs.json'));
    expect(list.headers['x-nomad-knownleader']).toBe('true');

    const withoutIndexes = (items: Array<Record<string, unknown>>) =>
      items.map(({ CreateIndex: _c, ModifyIndex: _m, ...rest }) => rest);
    const read = await axios.get(`${fake.url}/v1/service/example-cache-redis`);
    expect(withoutIndexes(read.data)).toEqual(withoutIndexes(fixtureJson('nomad-service-read.docs.json')));

    const page1 = await axios.get(`${fake.url}/v1/service/example-cache-redis?per_page=1`);
    expect(page1.data).toHaveLength(1);
    const token = page1.headers['x-nomad-nexttoken'];
    expect(token).toBe(read.data[1].ID);
    const page2 = await axios.get(`${fake.url}/v1/service/example-cache-redis?per_page=1&next_token=${token}`);
    expect(page2.data).toEqual([read.data[1]]);
    expect(page2.headers['x-nomad-nexttoken']).toBeUndefined();

    const index = Number(read.headers['x-nomad-index']);
    const blocked = axios.get(`${fake.url}/v1/services?index=${index}&wait=5m`);
    await waitFor(() => fake.requests.length === 5, { message: 'blocked request' });
    fake.register({ service: 'api', port: 7000 });
    expect(Number((await blocked).headers['x-nomad-index'])).toBe(index + 1);
  });
});

describe('NomadSource', () => {
  it('initial sync: every namespace, every page, zone from the datacenter, Nomad labels', async () => {
    const fake = await startFake();
    for (let i = 0; i < 5; i++)
      fake.register({ service: 'web', address: '10.0.0.1', port: 8000 + i, datacenter: i < 3 ? 'dc1' : 'dc2' });
    fake.register({
      service: 'Billing',
      namespace: 'payments',
      address: '10.0.1.1',
      port: 9000,
      jobId: 'billing',
      nodeId: 'n-1',
      allocId: 'a-1',
    });
    fake.register({ service: 'bad.name', address: '10.0.2.1', port: 9999 });
    const { sink, warnings } = startSource(fake);
    await synced(sink);

    expect(sink.summary('web.apps')).toEqual([0, 1, 2, 3, 4].map((i) => `10.0.0.1:${8000 + i} healthy`));
    expect(
      sink.view
        .get('web.apps')!
        .map((e) => e.locality.zone)
        .sort(),
    ).toEqual(['dc1', 'dc1', 'dc1', 'dc2', 'dc2']);
    expect(sink.view.get('billing.payments')).toEqual([
      {
        address: '10.0.1.1',
        port: 9000,
        cluster: 'nomad-lab',
        environment: 'onprem',
        locality: { region: 'us-east', zone: 'dc1', subZone: '' },
        health: 'healthy',
        weight: 1,
        labels: { 'nomad.alloc': 'a-1', 'nomad.job': 'billing', 'nomad.node': 'n-1' },
      },
    ]);
    expect([...sink.view.keys()].sort()).toEqual(['billing.payments', 'web.apps']);
    expect(warnings.some((w) => w.includes('"bad.name"'))).toBe(true);

    // per_page=2 over 5 registrations: one blocking first page, two next_token pages.
    const reads = fake.requestsTo('/v1/service/web');
    expect(reads.map((r) => [r.query.index, r.query.next_token === undefined])).toEqual([
      ['0', true],
      [undefined, false],
      [undefined, false],
      ...reads.slice(3).map((r) => [r.query.index, r.query.next_token === undefined]),
    ]);
    expect(reads.every((r) => r.query.per_page === '2' && r.query.namespace === 'default')).toBe(true);
    expect(fake.requestsTo('/v1/services').every((r) => r.query.namespace === '*')).toBe(true);
    expect(fake.requestsTo('/v1/service/Billing')[0]?.query.namespace).toBe('payments');
  });

  it('a registration change wakes the watch; a write elsewhere is only alive()', async () => {
    const fake = await startFake();
    const first = fake.register({ service: 'web', address: '10.0.0.1', port: 8000 });
    fake.register({ service: 'db', address: '10.0.0.9', port: 5432 });
    const { sink } = startSource(fake);
    await synced(sink);

    const second = fake.register({ service: 'web', address: '10.0.0.2', port: 8000 });
    await waitFor(() => sink.summary('web.apps').length === 2, { message: 'second web' });
    // Nomad wakes every watcher on any write (one table index): db answered, unchanged → alive.
    await waitFor(() => sink.aliveCount > 0, { message: 'db alive' });
    expect(sink.replaced).toEqual([['web.apps']]);

    fake.deregister(first);
    await waitFor(() => sink.summary('web.apps').length === 1, { message: 'first gone' });
    fake.deregister(second);
    await waitFor(() => !sink.view.has('web.apps'), { message: 'web gone' });
    expect(sink.summary('db.apps')).toEqual(['10.0.0.9:5432 healthy']);
    expect(sink.replaceAllCount).toBe(1);
  });

  it('reads only the configured Nomad namespace and maps it', async () => {
    const fake = await startFake();
    fake.register({ service: 'web', namespace: 'payments', address: '10.0.0.1', port: 8000 });
    fake.register({ service: 'web', namespace: 'default', address: '10.0.0.2', port: 8000 });
    const { sink } = startSource(fake, { config: { nomadNamespace: 'payments' } });
    await synced(sink);
    expect([...sink.view.keys()]).toEqual(['web.payments']);
    expect(fake.requests.every((r) => r.query.namespace === 'payments')).toBe(true);
  });

  it('sends index=0 after the index goes backwards, then keeps the view right', async () => {
    const fake = await startFake();
    fake.register({ service: 'web', address: '10.0.0.1', port: 8000 });
    const { sink } = startSource(fake);
    await synced(sink);
    await waitFor(
      () => fake.requestsTo('/v1/services').length === 2 && fake.requestsTo('/v1/service/web').length === 2,
      {
        message: 'both watches blocked',
      },
    );
    fake.resetIndex(1);
    await waitFor(
      () =>
        fake
          .requestsTo('/v1/services')
          .slice(1)
          .some((r) => r.index === 0),
      { message: 'list reset' },
    );
    await waitFor(
      () =>
        fake
          .requestsTo('/v1/service/web')
          .slice(1)
          .some((r) => r.index === 0),
      { message: 'read reset' },
    );
    fake.register({ service: 'web', address: '10.0.0.2', port: 8000 });
    await waitFor(() => sink.summary('web.apps').length === 2, { message: 'change after reset' });
    expect(sink.failures).toEqual([]);
  });

  it('reports 500s and garbage, keeps the last good view, and recovers', async () => {
    const fake = await startFake();
    fake.register({ service: 'web', address: '10.0.0.1', port: 8000 });
    const { sink } = startSource(fake);
    await synced(sink);
    const view = structuredClone(sink.view);
    fake.failNext(1, 500, '/v1/service/web');
    fake.garbageNext(1, '/v1/services');
    fake.touch();
    await waitFor(() => sink.failures.length === 2, { message: 'two failures' });
    const messages = sink.failures.map((f) => f.message).sort();
    expect(messages[0]).toMatch(/^nomad-lab: GET \/v1\/service\/web\?namespace=default: HTTP 500: rpc error/);
    expect(messages[1]).toMatch(/^nomad-lab: GET \/v1\/services: response is not JSON/);
    expect(sink.view).toEqual(view);
    fake.register({ service: 'web', address: '10.0.0.2', port: 8000 });
    await waitFor(() => sink.summary('web.apps').length === 2, { message: 'recovered' });
  });

  it('sends X-Nomad-Token from the environment; a wrong one is a clear failure', async () => {
    const fake = await startFake({ token: 'n0mad' });
    fake.register({ service: 'web', address: '10.0.0.1', port: 8000 });
    const { sink } = startSource(fake, { config: { tokenEnv: 'NOMAD_TOKEN' }, env: { NOMAD_TOKEN: 'n0mad' } });
    await synced(sink);
    expect(fake.requests.every((r) => r.token === 'n0mad')).toBe(true);
    const denied = startSource(fake, { config: { tokenEnv: 'NOMAD_TOKEN' }, env: {} });
    await waitFor(() => denied.sink.failures.length > 0, { message: 'denied' });
    expect(denied.sink.failures[0]?.message).toBe('nomad-lab: GET /v1/services: HTTP 403: Permission denied');
  });
});
