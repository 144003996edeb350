import { InMemoryTrafficPolicyStore } from '@spillway/policy-store';
import { waitFor } from '@spillway/test/support/wait';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
  type ClientNode,
  DeltaStream,
  type DiscoveryResponseMessage,
  type EncodedResource,
  type ResourceSource,
  SotwStream,
  type StreamObserver,
  ViewCache,
} from '../src/index.js';
import { AdsTestClient } from './support/ads-test-client.js';
import { endpoint, InMemoryCatalog } from './support/in-memory-catalog.js';
import { startTestXdsServer, type TestXdsServer } from './support/test-server.js';

const zoneA = { region: 'dc1', zone: 'a' };
const node = { id: 'scope-1', cluster: 'test', locality: { region: 'dc1', zone: 'a', sub_zone: '' } };
const names = Array.from({ length: 40 }, (_, i) => `svc-${i}.demo`);
const service = (i: number, health: 'healthy' | 'unhealthy' = 'healthy') => ({
  name: `svc-${i}`,
  namespace: 'demo',
  endpoints: [endpoint(`10.0.${i}.1`, 8080, zoneA, { health }), endpoint(`10.0.${i}.2`, 8080, zoneA)],
});
const quiet: StreamObserver = { onResponse: () => {}, onAck: () => {}, onNack: () => {} };

/** The real view cache, counting the resources streams look up. */
class CountingSource implements ResourceSource {
  lookups = 0;
  constructor(private readonly cache: ViewCache) {}
  names(typeUrl: string) {
    return this.cache.names(typeUrl);
  }
  resource(typeUrl: string, name: string, client: ClientNode): EncodedResource | undefined {
    this.lookups++;
    return this.cache.resource(typeUrl, name, client);
  }
  watch(typeUrl: string, client: ClientNode, onChange: (changed: ReadonlySet<string>) => void) {
    return this.cache.watch(typeUrl, client, onChange);
  }
}

describe('a change costs the streams that watch it and the resources that changed', () => {
  it('looks up only the changed assignment, only for its watchers, and versions it as a full recount would', () => {
    const catalog = new InMemoryCatalog();
    for (let i = 0; i < names.length; i++) catalog.setService(service(i));
    const cache = new ViewCache(catalog, new InMemoryTrafficPolicyStore());
    cache.start();
    const source = new CountingSource(cache);
    const sotw = (watched: readonly string[]) => {
      const sent: DiscoveryResponseMessage[] = [];
      const stream = new SotwStream(source, (response) => sent.push(response), quiet);
      stream.handleRequest({
        node: { ...node, user_agent_name: '', client_features: [], metadata: null },
        version_info: '',
        resource_names: watched,
        type_url: CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
        response_nonce: '',
      });
      return { stream, sent };
    };
    const all = sotw(names);
    const twin = sotw(names);
    const elsewhere = sotw(names.slice(20));
    const delta = new DeltaStream(source, () => {}, quiet);
    delta.handleRequest({
      node: { ...node, user_agent_name: '', client_features: [], metadata: null },
      type_url: CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
      resource_names_subscribe: names,
      resource_names_unsubscribe: [],
      initial_resource_versions: {},
      response_nonce: '',
    });
    expect(all.sent[0]!.resources).toHaveLength(40);

    source.lookups = 0;
    catalog.setService(service(3, 'unhealthy'));
    // svc-3 has three watchers (two SotW, one Delta): three lookups, not 3 × 40 or one per stream.
    expect(source.lookups).toBe(3);
    expect(all.sent).toHaveLength(2);
    expect(all.sent[1]!.resources).toHaveLength(1);
    expect(elsewhere.sent).toHaveLength(1);

    // A fresh stream with the same subscription gets, counted from scratch, the same version.
    const fresh = sotw(names);
    expect(fresh.sent[0]!.version_info).toBe(all.sent[1]!.version_info);
    expect(twin.sent[1]!.version_info).toBe(all.sent[1]!.version_info);
    for (const { stream } of [all, twin, elsewhere, fresh]) stream.close();
    delta.close();
    expect(cache.watches).toBe(0);
    expect(cache.assignmentViews).toBe(0);
    cache.stop();
  });
});

describe('the view cache keeps only views that clients use', () => {
  let router: TestXdsServer | undefined;
  const clients: { close(): void }[] = [];

  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await router?.server.stop();
  });

  const connect = async (zone: string, id: string) => {
    const client = AdsTestClient.sotw(router!.port);
    clients.push(client);
    client.send({
      node: { id, locality: { region: 'dc1', zone, sub_zone: '' } },
      type_url: CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
      resource_names: ['svc-1.demo'],
    });
    await client.next();
    return client;
  };

  it('drops a view when its last client leaves, and shares one while any client still uses it', async () => {
    router = await startTestXdsServer();
    router.catalog.setService(service(1));
    await connect('a', 'stays-in-a');
    const b = await connect('b', 'leaves-b');
    const encoded = router.server.encodes;

    b.close();
    await waitFor(() => router!.server.clients().length === 1, { message: 'the zone-b client to leave' });
    // Zone b's view went with its only client: a new zone-b client needs it encoded again…
    await connect('b', 'returns-b');
    expect(router.server.encodes).toBe(encoded + 1);
    // …while zone a's view, still in use, is shared with the next zone-a client.
    await connect('a', 'joins-a');
    expect(router.server.encodes).toBe(encoded + 1);
  });
});
