import { waitFor } from '@spillway/test/support/wait';
import { describe, expect, it } from 'vitest';
import { defaultScenario } from '../src/default-scenario.js';
import { attachCatalog, endpointsOf, startFleet } from './support/fleet.js';

describe('simulated registry sources', () => {
  it('report the default scenario into a real CatalogStore, one source per site', async () => {
    const fleet = await startFleet(defaultScenario());
    expect(fleet.sources.map((source) => [source.name, source.kind, source.environment])).toEqual([
      ['dc1', 'kubernetes', 'onprem'],
      ['dc2', 'nomad', 'onprem'],
      ['us-east-1', 'eks', 'cloud'],
    ]);
    const catalog = await attachCatalog(fleet);
    await waitFor(() => catalog.allSourcesSynced() && catalog.current().services.size === 3, {
      message: 'three services from three synced sources',
    });

    const checkout = endpointsOf(catalog, 'checkout.shop');
    expect(checkout).toHaveLength(6);
    expect(checkout.every((endpoint) => endpoint.health === 'healthy' && endpoint.environment === 'onprem')).toBe(true);
    expect(checkout.filter((endpoint) => endpoint.locality.zone === 'dc1-a')).toHaveLength(3);
    expect(checkout.filter((endpoint) => endpoint.locality.zone === 'dc1-b')).toHaveLength(3);
    expect(new Set(checkout.map((endpoint) => endpoint.locality.region))).toEqual(new Set(['dc1']));

    const cart = endpointsOf(catalog, 'cart.shop');
    expect(cart.map((endpoint) => endpoint.cluster).sort()).toEqual(['dc1', 'dc1', 'dc1', 'dc1', 'dc2', 'dc2']);
    const search = endpointsOf(catalog, 'search.catalog');
    expect(
      search
        .filter((endpoint) => endpoint.environment === 'cloud')
        .map((e) => e.locality.zone)
        .sort(),
    ).toEqual(['us-east-1a', 'us-east-1b']);
    expect(catalog.sourceStatuses().map((status) => status.state)).toEqual(['live', 'live', 'live']);
  });

  it('a registry that stops answering reports failed(), keeps its endpoints, and relists on recovery', async () => {
    const fleet = await startFleet(defaultScenario(), { heartbeatMs: 50 });
    const catalog = await attachCatalog(fleet);
    const state = (name: string) => catalog.sourceStatuses().find((status) => status.name === name)?.state;
    await waitFor(() => state('dc2') === 'live', { message: 'dc2 live' });

    fleet.inject({ kind: 'registry-down', site: 'dc2' });
    await waitFor(() => state('dc2') === 'failing', { message: 'dc2 failing' });
    const status = catalog.sourceStatuses().find((source) => source.name === 'dc2');
    expect(status?.lastError).toMatch(/nomad registry of dc2 is not answering/);
    // Inside the grace period the catalog keeps what the source said last.
    expect(endpointsOf(catalog, 'cart.shop').filter((endpoint) => endpoint.cluster === 'dc2')).toHaveLength(2);

    fleet.recover({ kind: 'registry-down', site: 'dc2' });
    await waitFor(() => state('dc2') === 'live', { message: 'dc2 live again' });
  });
});
