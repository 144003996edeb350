import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CatalogFreshness, Service } from '@spillway/model';
import { createMetricsRegistry, silentLogger } from '@spillway/observability';
import { endpoint, InMemoryCatalog } from '@spillway/xds/test-support/in-memory-catalog';
import { describe, expect, it } from 'vitest';
import { CatalogSnapshotWriter, type FollowedCatalog, seedFromSnapshotFile } from '../src/index.js';

/** The in-memory catalog with the two things a followed one adds: its freshness and a seed. */
class FollowedInMemoryCatalog extends InMemoryCatalog implements FollowedCatalog {
  state: CatalogFreshness = { origin: 'none', syncedAt: null, live: false };
  seeded: { services: readonly Service[]; syncedAt: Date } | undefined;

  freshness(): CatalogFreshness {
    return this.state;
  }

  seed(services: readonly Service[], syncedAt: Date): boolean {
    if (this.current().version !== 0) return false;
    this.seeded = { services, syncedAt };
    for (const service of services) this.setService(service);
    this.state = { origin: 'snapshot', syncedAt, live: false };
    return true;
  }
}

const echo: Service = {
  name: 'echo',
  namespace: 'demo',
  endpoints: [endpoint('10.0.0.1', 8080, { region: 'lab', zone: 'a' })],
};

async function tempFile(): Promise<{ dir: string; path: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'spillway-snapshot-'));
  return { dir, path: join(dir, 'catalog.json') };
}

function writer(catalog: FollowedCatalog, path: string): CatalogSnapshotWriter {
  return new CatalogSnapshotWriter({
    path,
    catalog,
    federation: 'http://fed:7070',
    intervalMs: 60_000,
    logger: silentLogger(),
    registry: createMetricsRegistry({ defaultMetrics: false }),
  });
}

describe('the catalog snapshot file', () => {
  it('saves only a catalog from the federation, atomically, and a restarted router loads it', async () => {
    const { dir, path } = await tempFile();
    const catalog = new FollowedInMemoryCatalog();
    const saver = writer(catalog, path);
    catalog.setService(echo);
    catalog.state = { origin: 'snapshot', syncedAt: new Date(), live: false };
    await saver.saveIfDue();
    expect(await readdir(dir)).toEqual([]); // a snapshot is never saved over itself

    catalog.state = { origin: 'federation', syncedAt: new Date(), live: true };
    await saver.saveIfDue();
    expect(await readdir(dir)).toEqual(['catalog.json']); // no temporary file left behind

    const restarted = new FollowedInMemoryCatalog();
    expect(await seedFromSnapshotFile(restarted, path, silentLogger())).toBe(`snapshot ${path}`);
    expect(restarted.seeded?.services).toEqual([echo]);
    expect([...restarted.current().services.keys()]).toEqual(['echo.demo']);
  });

  it('never saves an empty catalog', async () => {
    const { dir, path } = await tempFile();
    const catalog = new FollowedInMemoryCatalog();
    catalog.setService(echo);
    catalog.removeService('echo.demo');
    catalog.state = { origin: 'federation', syncedAt: new Date(), live: true };
    await writer(catalog, path).saveIfDue();
    expect(await readdir(dir)).toEqual([]);
  });

  it('ignores a truncated, an invalid and an empty snapshot, and serves none of them', async () => {
    const { path } = await tempFile();
    const catalog = new FollowedInMemoryCatalog();
    catalog.setService(echo);
    catalog.state = { origin: 'federation', syncedAt: new Date(), live: true };
    await writer(catalog, path).saveIfDue();
    const good = await readFile(path, 'utf8');
    const cases: [string, RegExp][] = [
      [good.slice(0, good.length / 2), /ignored \(not JSON: /],
      [JSON.stringify({ ...JSON.parse(good), format: 2 }), /ignored \(format: /],
      [JSON.stringify({ ...JSON.parse(good), services: [] }), /ignored \(services: a snapshot with no services/],
    ];
    for (const [content, note] of cases) {
      await writeFile(path, content);
      const restarted = new FollowedInMemoryCatalog();
      expect(await seedFromSnapshotFile(restarted, path, silentLogger())).toMatch(note);
      expect(restarted.seeded).toBeUndefined();
      expect(restarted.current().version).toBe(0);
    }
    expect(await seedFromSnapshotFile(new FollowedInMemoryCatalog(), `${path}.missing`, silentLogger())).toBe(
      `no snapshot at ${path}.missing yet`,
    );
  });
});
