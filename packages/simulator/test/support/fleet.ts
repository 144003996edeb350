import { CatalogStore } from '@spillway/catalog';
import type { Endpoint } from '@spillway/model';
import { afterEach } from 'vitest';
import { type FleetOptions, SimulatedFleet } from '../../src/fleet.js';
import type { ScenarioInput } from '../../src/scenario.js';

const running: SimulatedFleet[] = [];
const catalogs: CatalogStore[] = [];

/** Every test's fleets and catalogs are stopped after it, whatever happened. */
afterEach(async () => {
  for (const catalog of catalogs.splice(0)) catalog.close();
  await Promise.all(running.splice(0).map((fleet) => fleet.stop()));
});

export async function startFleet(scenario: ScenarioInput, options: FleetOptions = {}): Promise<SimulatedFleet> {
  const fleet = await SimulatedFleet.start(scenario, options);
  running.push(fleet);
  return fleet;
}

/** A real CatalogStore fed by the fleet's sources, as the federation attaches them. */
export async function attachCatalog(fleet: SimulatedFleet, staleAfterMs = 60_000): Promise<CatalogStore> {
  const catalog = new CatalogStore({ staleAfterMs });
  catalogs.push(catalog);
  for (const source of fleet.sources) {
    const { name, kind, environment, region } = source;
    await source.start(catalog.attach({ name, kind, environment, region }));
  }
  return catalog;
}

export function endpointsOf(catalog: CatalogStore, service: string): readonly Endpoint[] {
  return catalog.current().services.get(service)?.endpoints ?? [];
}
