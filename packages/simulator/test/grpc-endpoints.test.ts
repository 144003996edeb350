import { waitFor } from '@spillway/test/support/wait';
import { describe, expect, it } from 'vitest';
import { defaultScenario } from '../src/default-scenario.js';
import { askIdentity, parseIdentity } from '../src/identity-server.js';
import { attachCatalog, endpointsOf, startFleet } from './support/fleet.js';

describe('simulated endpoints', () => {
  it('are real gRPC servers answering with their cluster, zone and endpoint name', async () => {
    const fleet = await startFleet(defaultScenario());
    const endpoints = fleet.status().endpoints;
    expect(endpoints).toHaveLength(6 + 6 + 4);
    const answers = await Promise.all(endpoints.map((endpoint) => askIdentity(endpoint.address, endpoint.port)));
    endpoints.forEach((endpoint, index) => {
      expect(answers[index]).toBe(endpoint.identity);
      expect(parseIdentity(answers[index] ?? '')).toEqual({
        cluster: endpoint.site,
        zone: endpoint.zone,
        endpoint: endpoint.name,
      });
    });
    expect(new Set(endpoints.map((endpoint) => endpoint.port)).size).toBe(endpoints.length);
  });

  it('zone-down: the endpoints of the zone turn unhealthy and stop answering; recovery brings them back on the same ports', async () => {
    const fleet = await startFleet(defaultScenario());
    const catalog = await attachCatalog(fleet);
    await waitFor(() => endpointsOf(catalog, 'checkout.shop').length === 6, { message: 'checkout in the catalog' });
    const inZone = fleet.status().endpoints.filter((endpoint) => endpoint.zone === 'dc1-a');
    const elsewhere = fleet
      .status()
      .endpoints.filter((endpoint) => endpoint.site === 'dc1' && endpoint.zone === 'dc1-b');
    expect(inZone).toHaveLength(5);

    fleet.inject({ kind: 'zone-down', zone: 'dc1-a' });
    await waitFor(
      () =>
        endpointsOf(catalog, 'checkout.shop').filter(
          (endpoint) => endpoint.locality.zone === 'dc1-a' && endpoint.health === 'unhealthy',
        ).length === 3,
      { message: 'dc1-a checkout endpoints unhealthy in the catalog' },
    );
    for (const endpoint of inZone) await expect(askIdentity(endpoint.address, endpoint.port, 2_000)).rejects.toThrow();
    for (const endpoint of elsewhere)
      expect(await askIdentity(endpoint.address, endpoint.port)).toBe(endpoint.identity);
    const checkout = fleet.status().services.find((service) => service.service === 'checkout.shop');
    expect(checkout?.healthyEndpoints).toEqual({ onprem: 3, cloud: 0 });

    fleet.recover({ kind: 'zone-down', zone: 'dc1-a' });
    await waitFor(() => endpointsOf(catalog, 'checkout.shop').every((endpoint) => endpoint.health === 'healthy'), {
      message: 'dc1-a healthy again',
    });
    for (const endpoint of inZone) expect(await askIdentity(endpoint.address, endpoint.port)).toBe(endpoint.identity);
  });

  it('site-down and latency faults reach the servers too; unknown targets are refused', async () => {
    const fleet = await startFleet(defaultScenario());
    const dc2 = fleet.status().endpoints.filter((endpoint) => endpoint.site === 'dc2');
    fleet.inject({ kind: 'site-down', site: 'dc2' });
    await waitFor(
      () =>
        fleet
          .status()
          .endpoints.filter((e) => e.site === 'dc2')
          .every((e) => !e.listening),
      {
        message: 'dc2 servers stopped',
      },
    );
    for (const endpoint of dc2) await expect(askIdentity(endpoint.address, endpoint.port, 2_000)).rejects.toThrow();
    fleet.recover({ kind: 'site-down', site: 'dc2' });
    await waitFor(
      () =>
        fleet
          .status()
          .endpoints.filter((e) => e.site === 'dc2')
          .every((e) => e.listening),
      {
        message: 'dc2 servers back',
      },
    );

    const [slow] = fleet.status().endpoints.filter((endpoint) => endpoint.zone === 'dc1-b');
    if (!slow) throw new Error('no dc1-b endpoint');
    fleet.inject({ kind: 'latency', zone: 'dc1-b', extraSeconds: 0.3 });
    const started = Date.now();
    expect(await askIdentity(slow.address, slow.port)).toBe(slow.identity);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);

    expect(() => fleet.inject({ kind: 'zone-down', zone: 'nowhere' })).toThrow(/no zone "nowhere"/);
  });
});
