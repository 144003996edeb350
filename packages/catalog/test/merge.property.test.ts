import { endpointId, type Service, type ServiceKey } from '@spillway/model';
import { ManualClock } from '@spillway/test/support/manual-clock';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CatalogStore } from '../src/catalog-store.js';
import { mergeCatalog, type SourceView } from '../src/merge.js';
import { type Operation, operationArb, SOURCES, viewArb } from './arbitraries.js';

const GRACE_MS = 30_000;

function newStore(clock: ManualClock) {
  const store = new CatalogStore({ staleAfterMs: GRACE_MS, now: clock.now, setTimer: clock.setTimer });
  const sinks = new Map(
    SOURCES.map((name) => [
      name as string,
      store.attach({ name, kind: 'static', environment: 'onprem', region: 'r1' }),
    ]),
  );
  return { store, sinks };
}

/** Lets the store's coalesced flush run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function plain(services: ReadonlyMap<ServiceKey, Service>): Record<string, Service> {
  return Object.fromEntries([...services].sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** The model: each source's view and liveness, replayed by hand. */
function replay(operations: readonly Operation[]): SourceView[] {
  const views = new Map<string, Map<ServiceKey, Service['endpoints']>>(SOURCES.map((s) => [s, new Map()]));
  const failingSince = new Map<string, number | null>(SOURCES.map((s) => [s, null]));
  let now = 0;
  for (const op of operations) {
    if (op.kind === 'advance') {
      now += op.ms;
      continue;
    }
    const view = views.get(op.source)!;
    if (op.kind === 'failed') {
      if (failingSince.get(op.source) === null) failingSince.set(op.source, now);
      continue;
    }
    failingSince.set(op.source, null);
    if (op.kind === 'replaceAll') view.clear();
    for (const [key, endpoints] of op.kind === 'alive' ? [] : op.services) {
      if (endpoints.length === 0) view.delete(key);
      else view.set(key, endpoints);
    }
  }
  return SOURCES.map((source) => {
    const since = failingSince.get(source);
    const state = since === null || since === undefined ? 'live' : now - since >= GRACE_MS ? 'stale' : 'failing';
    return { source, state, services: views.get(source)! };
  });
}

async function apply(operations: readonly Operation[]) {
  const clock = new ManualClock();
  const { store, sinks } = newStore(clock);
  for (const [index, op] of operations.entries()) {
    if (op.kind === 'advance') clock.advance(op.ms);
    else if (op.kind === 'failed') sinks.get(op.source)!.failed(new Error('poll failed'));
    else if (op.kind === 'alive') sinks.get(op.source)!.alive();
    else if (op.kind === 'replaceAll') sinks.get(op.source)!.replaceAll(op.services);
    else sinks.get(op.source)!.replaceServices(op.services);
    // Settle after every other report, so some reports are coalesced into one version.
    if (index % 2 === 1) await settle();
  }
  await settle();
  return store;
}

describe('catalog merge (properties)', () => {
  it('the incremental store always equals the pure merge of the sources it was told about', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(operationArb, { maxLength: 30 }), async (operations) => {
        const store = await apply(operations);
        expect(plain(store.current().services)).toEqual(plain(mergeCatalog(replay(operations))));
        store.close();
      }),
      { numRuns: 150 },
    );
  });

  it('the order in which sources report does not change the catalog', async () => {
    const views = fc.tuple(...SOURCES.map((source) => viewArb(source)));
    await fc.assert(
      fc.asyncProperty(views, fc.array(fc.nat(), { minLength: SOURCES.length }), async (perSource, seeds) => {
        const reports: Operation[] = SOURCES.map((source, i) => ({
          kind: 'replaceAll',
          source,
          services: perSource[i]!,
        }));
        const shuffled = [...reports].sort((a, b) => seedOf(a, seeds) - seedOf(b, seeds));
        const [first, second] = [await apply(reports), await apply(shuffled)];
        expect(plain(second.current().services)).toEqual(plain(first.current().services));
        first.close();
        second.close();
      }),
      { numRuns: 100 },
    );
  });

  it('no endpoint is lost or duplicated: each address:port reported for a service appears exactly once', () => {
    fc.assert(
      fc.property(fc.tuple(...SOURCES.map((source) => viewArb(source))), (perSource) => {
        const views: SourceView[] = SOURCES.map((source, i) => ({ source, state: 'live', services: perSource[i]! }));
        const merged = mergeCatalog(views);
        for (const key of new Set(views.flatMap((view) => [...view.services.keys()]))) {
          const reported = new Set(views.flatMap((view) => (view.services.get(key) ?? []).map(endpointId)));
          const served = (merged.get(key)?.endpoints ?? []).map(endpointId);
          expect(served.length).toBe(new Set(served).size);
          expect(new Set(served)).toEqual(reported);
        }
      }),
      { numRuns: 300 },
    );
  });
});

function seedOf(op: Operation, seeds: number[]): number {
  return op.kind === 'advance' ? 0 : (seeds[SOURCES.indexOf(op.source as (typeof SOURCES)[number])] ?? 0);
}
