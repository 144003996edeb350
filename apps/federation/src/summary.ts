import type { CatalogSnapshot } from '@spillway/model';

/** A short human view of the catalog, printed by the process as it changes. */
export function formatCatalogSummary(snapshot: CatalogSnapshot): string {
  const lines = [`catalog v${snapshot.version}: ${snapshot.services.size} service(s)`];
  for (const [key, service] of [...snapshot.services].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const byZone = new Map<string, { healthy: number; total: number }>();
    for (const endpoint of service.endpoints) {
      const zone = `${endpoint.environment}/${endpoint.locality.region}/${endpoint.locality.zone || '-'}`;
      const counts = byZone.get(zone) ?? { healthy: 0, total: 0 };
      counts.total++;
      if (endpoint.health === 'healthy') counts.healthy++;
      byZone.set(zone, counts);
    }
    const zones = [...byZone].map(([zone, c]) => `${zone} ${c.healthy}/${c.total}`).join('  ');
    lines.push(`  ${key.padEnd(28)} ${zones}`);
  }
  for (const source of snapshot.sources) {
    if (source.state !== 'live')
      lines.push(`  ! source ${source.name} is ${source.state}${source.lastError ? `: ${source.lastError}` : ''}`);
  }
  return lines.join('\n');
}
