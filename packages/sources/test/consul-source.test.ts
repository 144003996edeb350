import { setTimeout as sleep } from 'node:timers/promises';
import { ConsulCluster } from '@spillway/config';
import { FakeConsulApi } from '@spillway/test/fakes/consul-api';
import { fixtureJson } from '@spillway/test/fixtures';
import { waitFor } from '@spillway/test/support/wait';
import axios from 'axios';
import { afterEach, describe, expect, it } from 'vitest';
import type { BlockingTuning } from '../src/blocking/index.js';
import { ConsulSource } from '../src/consul/index.js';
import { capturingLogger, LoggingSink, TEST_TUNING } from './consul-support.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startFake(options: { token?: string } = {}): Promise<FakeConsulApi> {
  const fake = await FakeConsulApi.start(options);
  cleanups.push(() => fake.close());
  return fake;
}

function startSource(
  fake: FakeConsulApi,
  options: { config?: Record<string, unknown>; tuning?: BlockingTuning; env?: NodeJS.ProcessEnv } = {},
) {
  const config = ConsulCluster.parse({
    name: 'consul-lab',
    kind: 'consul',
    environment: 'onprem',
    region: 'eu-west',
    address: fake.url,
    namespace: { default: 'apps', fromMeta: 'k8s-namespace' },
    ...options.config,
  });
  const { logger, warnings } = capturingLogger();
  const source = new ConsulSource(config, { logger, env: options.env ?? {}, tuning: options.tuning ?? TEST_TUNING });
  const sink = new LoggingSink();
  cleanups.push(() => source.stop());
  void source.start(sink);
  return { source, sink, warnings };
}

const synced = (sink: LoggingSink) => waitFor(() => sink.replaceAllCount === 1, { message: 'initial replaceAll' });

/** A typical lab: one passing web instance on node-a, one on node-b. */
function registerWeb(fake: FakeConsulApi): { a: string; b: string } {
  const a = fake.register({
    service: 'web',
    id: 'web-a',
    node: 'node-a',
    nodeAddress: '10.0.0.1',
    address: '',
    port: 8080,
  });
  const b = fake.register({
    service: 'web',
    id: 'web-b',
    node: 'node-b',
    nodeAddress: '10.0.0.2',
    port: 8080,
    address: '10.0.1.2',
  });
  return { a, b };
}

describe('FakeConsulApi fidelity', () => {
  it('answers /v1/health/service with the docs sample, and blocks on ?index', async () => {
    const fake = await startFake();
    fake.register({ id: 'redis' });
    const health = await axios.get(`${fake.url}/v1/health/service/redis`);
    expect(health.data).toEqual(fixtureJson('consul-health-service.docs.json'));
    expect(health.headers['x-consul-knownleader']).toBe('true');
    expect(health.headers['x-consul-lastcontact']).toBe('0');
    const index = Number(health.headers['x-consul-index']);
    expect(index).toBeGreaterThan(0);
    const catalog = await axios.get(`${fake.url}/v1/catalog/services`);
    expect(catalog.data).toEqual({ redis: ['primary'] });

    const blocked = axios.get(`${fake.url}/v1/health/service/redis?index=${index}&wait=5m`);
    await waitFor(() => fake.requests.length === 3, { message: 'blocked request' });
    fake.setCheck('redis', 'critical');
    const woken = await blocked;
    expect(Number(woken.headers['x-consul-index'])).toBeGreaterThan(index);
    expect(woken.data[0].Checks[0].Status).toBe('critical');
    const timedOut = await axios.get(`${fake.url}/v1/catalog/services?index=${fake.index}&wait=100ms`);
    expect(timedOut.data).toEqual({ redis: ['primary'] });
  });
});

describe('ConsulSource', () => {
  it('initial sync maps health, weights, namespace, zone, address and labels', async () => {
    const fake = await startFake();
    registerWeb(fake);
    fake.register({
      service: 'web',
      id: 'web-warn',
      node: 'node-c',
      port: 8081,
      address: '10.0.1.3',
      status: 'warning',
      weights: { Passing: 10, Warning: 3 },
    });
    fake.register({
      service: 'web',
      id: 'web-crit',
      node: 'node-c',
      port: 8082,
      address: '10.0.1.3',
      status: 'critical',
    });
    const maint = fake.register({ service: 'web', id: 'web-maint', node: 'node-c', port: 8083, address: '10.0.1.3' });
    fake.setMaintenance(maint, true);
    fake.register({
      service: 'web',
      id: 'web-heavy',
      node: 'node-c',
      port: 8084,
      address: '10.0.1.3',
      weights: { Passing: 500, Warning: 1 },
    });
    fake.register({
      service: 'web',
      id: 'web-noweights',
      node: 'node-c',
      port: 8085,
      address: '10.0.1.3',
      weights: null,
    });
    fake.register({
      service: 'Billing',
      id: 'billing-1',
      node: 'node-d',
      nodeMeta: { zone: 'rack-7' },
      port: 9000,
      meta: { 'k8s-namespace': 'payments' },
    });
    fake.register({
      service: 'billing',
      id: 'billing-2',
      node: 'node-d',
      port: 9001,
      meta: { zone: 'rack-9', 'k8s-namespace': 'payments' },
    });
    fake.register({ service: 'web api', id: 'bad', node: 'node-d', port: 1 });

    const { sink, warnings } = startSource(fake);
    await synced(sink);

    expect(sink.summary('web.apps')).toEqual([
      '10.0.0.1:8080 healthy',
      '10.0.1.2:8080 healthy',
      '10.0.1.3:8081 healthy',
      '10.0.1.3:8082 unhealthy',
      '10.0.1.3:8083 draining',
      '10.0.1.3:8084 healthy',
      '10.0.1.3:8085 healthy',
    ]);
    const web = new Map(sink.view.get('web.apps')!.map((e) => [e.labels['consul.service-id'], e]));
    expect(web.get('web-a')).toMatchObject({
      address: '10.0.0.1', // Service.Address '' → Node.Address
      weight: 10, // the docs sample's Weights.Passing
      cluster: 'consul-lab',
      environment: 'onprem',
      locality: { region: 'eu-west', zone: 'dc1', subZone: '' },
      labels: { 'consul.node': 'node-a', 'consul.service-id': 'web-a' },
    });
    expect(web.get('web-warn')?.weight).toBe(3);
    expect(web.get('web-heavy')?.weight).toBe(128);
    expect(web.get('web-noweights')?.weight).toBe(1);
    // `Billing` and `billing` are two Consul services feeding one Spillway service.
    expect(sink.summary('billing.payments')).toEqual(['10.1.10.12:9000 healthy', '10.1.10.12:9001 healthy']);
    const zones = sink.view
      .get('billing.payments')!
      .map((e) => e.locality.zone)
      .sort();
    expect(zones).toEqual(['rack-7', 'rack-9']); // node meta, then service meta winning over it
    expect([...sink.view.keys()].sort()).toEqual(['billing.payments', 'web.apps']);
    expect(warnings.some((w) => w.includes('"web api"'))).toBe(true);
    expect(fake.requestsTo('/v1/health/service/web%20api')).toEqual([]);
    expect(sink.replaceAllCount).toBe(1);
    expect(sink.failures).toEqual([]);
  });

  it('a change wakes the blocking query and only the changed service is reported', async () => {
    const fake = await startFake();
    const { a } = registerWeb(fake);
    fake.register({ service: 'db', id: 'db-1', node: 'node-a', port: 5432 });
    const { sink } = startSource(fake);
    await synced(sink);

    // wait is 30s: an answer within waitFor's deadline proves the query was woken.
    fake.setCheck(a, 'critical');
    await waitFor(() => sink.summary('web.apps').includes('10.0.0.1:8080 unhealthy'), { message: 'web-a unhealthy' });
    expect(sink.replaced).toEqual([['web.apps']]);
    fake.setCheck(a, 'warning');
    await waitFor(() => sink.summary('web.apps').includes('10.0.0.1:8080 healthy'), { message: 'web-a back' });
    expect(sink.view.get('web.apps')!.find((e) => e.port === 8080 && e.address === '10.0.0.1')?.weight).toBe(1);
    // Node maintenance drains every service on the node.
    fake.setNodeCheck('node-a', 'critical', '_node_maintenance');
    await waitFor(
      () =>
        sink.summary('db.apps')[0]?.endsWith('draining') && sink.summary('web.apps').includes('10.0.0.1:8080 draining'),
      { message: 'db and web-a drained' },
    );
  });

  it('an index bump without a change is reported as alive, not as an update', async () => {
    const fake = await startFake();
    registerWeb(fake);
    const { sink } = startSource(fake);
    await synced(sink);
    const updates = sink.updates;
    fake.touch('web');
    fake.touch();
    await waitFor(() => sink.aliveCount >= 2, { message: 'alive twice' });
    expect(sink.updates).toBe(updates);
  });

  it('adds a new service and removes one that disappears', async () => {
    const fake = await startFake();
    registerWeb(fake);
    const { sink } = startSource(fake);
    await synced(sink);
    const api = fake.register({ service: 'api', id: 'api-1', node: 'node-a', port: 7000 });
    await waitFor(() => sink.summary('api.apps').length === 1, { message: 'api added' });
    expect(sink.summary('api.apps')).toEqual(['10.1.10.12:7000 healthy']);
    fake.deregister(api);
    await waitFor(() => !sink.view.has('api.apps'), { message: 'api removed' });
    expect(sink.replaced.at(-1)).toEqual(['api.apps']);
    expect(sink.summary('web.apps')).toHaveLength(2);
    expect(sink.replaceAllCount).toBe(1);
  });

  it('sends index=0 after the index goes backwards, then keeps the view right', async () => {
    const fake = await startFake();
    registerWeb(fake);
    const { sink } = startSource(fake);
    await synced(sink);
    // Both watchers blocked (a query arriving after the reset with a higher index would wait out `wait`).
    await waitFor(() => fake.requestsTo('/v1/catalog/services').length === 2, { message: 'catalog blocked' });
    await waitFor(() => fake.requestsTo('/v1/health/service/web').length === 2, { message: 'health blocked' });
    const before = fake.requestsTo('/v1/catalog/services').length;
    fake.resetIndex(1);
    await waitFor(
      () =>
        fake
          .requestsTo('/v1/catalog/services')
          .slice(before)
          .some((r) => r.index === 0),
      { message: 'catalog re-read with index=0' },
    );
    await waitFor(
      () =>
        fake
          .requestsTo('/v1/health/service/web')
          .slice(1)
          .some((r) => r.index === 0),
      {
        message: 'health re-read with index=0',
      },
    );
    fake.register({ service: 'web', id: 'web-c', node: 'node-c', address: '10.0.1.3', port: 8080 });
    await waitFor(() => sink.summary('web.apps').length === 3, { message: 'new instance after reset' });
    expect(sink.failures).toEqual([]);
    // After an answer the client never sends an index ≤ 0 except right after a reset.
    const sent = fake.requestsTo('/v1/catalog/services').map((r) => r.index);
    expect(sent.filter((index) => index === 0)).toHaveLength(2);
  });

  it('never sends an index below 1 after the first answer when Consul answers index 0', async () => {
    const fake = await startFake();
    registerWeb(fake);
    fake.answerIndexZero = true;
    fake.answerImmediately = true;
    const { sink } = startSource(fake);
    await synced(sink);
    await waitFor(() => fake.requestsTo('/v1/catalog/services').length >= 6, { message: 'six catalog reads' });
    const sent = fake.requestsTo('/v1/catalog/services').map((r) => r.index);
    // The first read is non-blocking (0); every later one carries 1, not 0 and 1 in turn.
    expect(sent[0]).toBe(0);
    expect(sent.slice(1).filter((index) => index !== 1)).toEqual([]);
  });

  it('does not hammer a server that answers instantly with an unchanged index', async () => {
    const fake = await startFake();
    registerWeb(fake);
    fake.answerImmediately = true;
    const tuning = { ...TEST_TUNING, rateLimit: { burst: 2, intervalMs: 100 } };
    const { sink } = startSource(fake, { tuning });
    await synced(sink);
    const before = fake.requests.length;
    const started = performance.now();
    await sleep(1_000); // a measurement window, not a synchronisation
    const elapsed = performance.now() - started;
    const sent = fake.requests.length - before;
    // Two watchers (catalog, web), each ≤ one request per 100 ms plus its burst and one in flight;
    // an unthrottled loop sends thousands in a second.
    expect(sent).toBeLessThanOrEqual(2 * (Math.ceil(elapsed / 100) + 3));
    expect(sent).toBeGreaterThan(2);
    expect(sink.aliveCount).toBeGreaterThan(0);
    expect(sink.updates).toBe(1);
  });

  it('reports 500s and garbage, keeps the last good view, and recovers', async () => {
    const fake = await startFake();
    const { a } = registerWeb(fake);
    const { sink } = startSource(fake);
    await synced(sink);
    const view = structuredClone(sink.view);

    fake.failNext(2, 500, '/v1/health/service/web');
    fake.touch('web');
    await waitFor(() => sink.failures.length >= 2, { message: 'two failures' });
    expect(sink.failures[0]?.message).toMatch(/^consul-lab: GET \/v1\/health\/service\/web: HTTP 500: rpc error/);
    expect(sink.failures[0]?.name).toBe('SourceError');
    expect(sink.view).toEqual(view);

    fake.garbageNext(1, '/v1/catalog/services');
    fake.touch();
    await waitFor(() => sink.failures.length === 3, { message: 'garbage reported' });
    expect(sink.failures[2]?.message).toMatch(/^consul-lab: GET \/v1\/catalog\/services: response is not JSON/);
    expect(sink.view).toEqual(view);

    fake.setCheck(a, 'critical');
    await waitFor(() => sink.summary('web.apps').includes('10.0.0.1:8080 unhealthy'), { message: 'recovered' });
  });

  it('rejects a wrong-shaped body and a missing or bad X-Consul-Index, keeping the view', async () => {
    const fake = await startFake();
    const { a } = registerWeb(fake);
    const { sink } = startSource(fake);
    await synced(sink);
    const view = structuredClone(sink.view);
    fake.malformedNext(
      { body: [{ Node: { Node: 'n' }, Service: { ID: 'x', Service: 'web', Port: '80' } }] },
      '/v1/health',
    );
    fake.touch('web');
    await waitFor(() => sink.failures.length === 1, { message: 'shape failure' });
    expect(sink.failures[0]?.message).toMatch(
      /^consul-lab: GET \/v1\/health\/service\/web: unexpected response shape \(\[0\]\.Node\.Address: .*\[0\]\.Service\.Port: /,
    );
    fake.malformedNext({ index: null }, '/v1/catalog');
    fake.touch();
    await waitFor(() => sink.failures.length === 2, { message: 'missing index' });
    expect(sink.failures[1]?.message).toBe(
      'consul-lab: GET /v1/catalog/services: X-Consul-Index header is missing or not an integer (got null)',
    );
    fake.malformedNext({ index: 'abc' }, '/v1/catalog');
    fake.touch();
    await waitFor(() => sink.failures.length === 3, { message: 'bad index' });
    expect(sink.failures[2]?.message).toContain('(got "abc")');
    expect(sink.view).toEqual(view);
    fake.setCheck(a, 'critical');
    await waitFor(() => sink.summary('web.apps').includes('10.0.0.1:8080 unhealthy'), { message: 'recovered' });
  });

  it('times out a server that holds answers too long, then recovers', async () => {
    const fake = await startFake();
    const { a } = registerWeb(fake);
    const tuning = { ...TEST_TUNING, waitMs: 300, timeoutGraceMs: 200 };
    const { sink } = startSource(fake, { tuning });
    await synced(sink);
    fake.delayMs = 5_000;
    await waitFor(() => sink.failures.length > 0, { message: 'timeout reported' });
    expect(sink.failures[0]?.message).toMatch(
      /^consul-lab: GET \/v1\/(catalog\/services|health\/service\/web): timed out after 519 ms$/,
    );
    expect(sink.summary('web.apps')).toHaveLength(2);
    fake.delayMs = 0;
    fake.setCheck(a, 'critical');
    await waitFor(() => sink.summary('web.apps').includes('10.0.0.1:8080 unhealthy'), { message: 'recovered' });
  });

  it('sends the token from the environment and the datacenter; a wrong token is a clear failure', async () => {
    const fake = await startFake({ token: 's3cret' });
    registerWeb(fake);
    const { sink } = startSource(fake, {
      config: { tokenEnv: 'CONSUL_HTTP_TOKEN', datacenter: 'dc1' },
      env: { CONSUL_HTTP_TOKEN: 's3cret' },
    });
    await synced(sink);
    expect(fake.requests.every((r) => r.token === 's3cret' && r.query.dc === 'dc1')).toBe(true);

    const denied = startSource(fake, {
      config: { tokenEnv: 'CONSUL_HTTP_TOKEN' },
      env: { CONSUL_HTTP_TOKEN: 'wrong' },
    });
    await waitFor(() => denied.sink.failures.length > 0, { message: 'denied' });
    expect(denied.sink.failures[0]?.message).toBe('consul-lab: GET /v1/catalog/services: HTTP 403: ACL not found');
    expect(denied.sink.replaceAllCount).toBe(0);
  });

  it('stop() returns promptly while queries are blocked', async () => {
    const fake = await startFake();
    registerWeb(fake);
    const { source, sink } = startSource(fake);
    await synced(sink);
    const started = performance.now();
    await source.stop();
    // The queries block for 30 s; well under that means stop() aborted them (generous for a busy machine).
    expect(performance.now() - started).toBeLessThan(10_000);
  });
});
