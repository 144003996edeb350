import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type CatalogFreshness, type CatalogReader, Service } from '@spillway/model';
import { Counter, type Logger, metricOnce, type Registry } from '@spillway/observability';
import { z } from 'zod';

/**
 * The router's last good catalog on disk. `syncedAt` is when its content last matched the
 * federation's: what its age is counted from when a restarted router serves it.
 * An empty catalog is never saved nor loaded: served, it would tell every client to delete
 * everything, which is what the snapshot is there to prevent.
 */
export const CatalogSnapshotFile = z.strictObject({
  format: z.literal(1),
  savedAt: z.iso.datetime(),
  syncedAt: z.iso.datetime(),
  /** The federation the catalog came from (for the operator; not checked). */
  federation: z.string(),
  services: z.array(Service).min(1, 'a snapshot with no services is never served'),
});
export type CatalogSnapshotFile = z.infer<typeof CatalogSnapshotFile>;

/** Unchanged content is rewritten this often, so the saved `syncedAt` stays near the truth. */
const REFRESH_UNCHANGED_MS = 60_000;

/** A catalog the router follows from a federation: what can be saved, and how current it is. */
export interface FollowedCatalog extends CatalogReader {
  freshness(): CatalogFreshness;
  /** Serves saved `services` until the first sync; false once synced. */
  seed(services: readonly Service[], syncedAt: Date): boolean;
}

/**
 * Loads `path` into `catalog` (before it starts following). Returns one line for readiness and
 * logs: loaded (with its age), missing, or ignored with the reason. A file that does not parse
 * or validate is never served.
 */
export async function seedFromSnapshotFile(catalog: FollowedCatalog, path: string, logger: Logger): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      logger.info({ snapshotFile: path }, 'no catalog snapshot yet: xDS waits for the federation');
      return `no snapshot at ${path} yet`;
    }
    return ignored(path, (error as Error).message, logger);
  }
  let parsed: ReturnType<typeof CatalogSnapshotFile.safeParse>;
  try {
    parsed = CatalogSnapshotFile.safeParse(JSON.parse(text));
  } catch (error) {
    return ignored(path, `not JSON: ${(error as Error).message}`, logger);
  }
  if (!parsed.success) {
    const reason = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'file'}: ${issue.message}`);
    return ignored(path, reason.slice(0, 3).join('; '), logger);
  }
  const { services, syncedAt, federation } = parsed.data;
  if (!catalog.seed(services, new Date(syncedAt))) return `snapshot ${path} not needed: the federation answered first`;
  const ageSeconds = Math.round((Date.now() - Date.parse(syncedAt)) / 1000);
  logger.warn(
    { snapshotFile: path, services: services.length, syncedAt, ageSeconds, federation },
    'serving the catalog snapshot until the federation answers',
  );
  return `snapshot ${path}`;
}

function ignored(path: string, reason: string, logger: Logger): string {
  logger.error({ snapshotFile: path, reason }, 'catalog snapshot ignored: it is not served');
  return `snapshot ${path} ignored (${reason})`;
}

export interface CatalogSnapshotWriterOptions {
  readonly path: string;
  readonly catalog: FollowedCatalog;
  readonly federation: string;
  readonly intervalMs: number;
  readonly logger: Logger;
  readonly registry: Registry;
}

/**
 * Saves the followed catalog every `intervalMs` at most: when its version moved, or (content
 * unchanged, feed followed) once a minute so the saved age stays honest. Only a catalog that
 * came from the federation is saved, never one still served from the snapshot itself. Written to
 * a temporary file, synced, then renamed over the old one: a crash leaves the old or the new.
 */
export class CatalogSnapshotWriter {
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private writtenVersion = -1;
  private writtenSyncedAt = 0;
  private readonly failures: Counter;

  constructor(private readonly options: CatalogSnapshotWriterOptions) {
    this.failures = metricOnce(options.registry, Counter, {
      name: 'spillway_router_snapshot_write_failures_total',
      help: 'Catalog snapshot writes that failed (the previous snapshot file is kept)',
    });
  }

  start(): void {
    this.timer ??= setInterval(() => void this.saveIfDue(), this.options.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and saves once more (a clean shutdown leaves the latest catalog). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.writing;
    await this.saveIfDue();
  }

  /** Saves if due; one write at a time. */
  saveIfDue(): Promise<void> {
    this.writing ??= this.save().finally(() => {
      this.writing = undefined;
    });
    return this.writing;
  }

  private async save(): Promise<void> {
    const { origin, syncedAt: lastSync, live } = this.options.catalog.freshness();
    if (origin !== 'federation' || lastSync === null) return;
    const snapshot = this.options.catalog.current();
    // While the feed is followed, the content matches the federation's now.
    const syncedAt = live ? new Date() : lastSync;
    const changed = snapshot.version !== this.writtenVersion;
    if (!changed && syncedAt.getTime() - this.writtenSyncedAt < REFRESH_UNCHANGED_MS) return;
    if (snapshot.services.size === 0) return;
    const file: CatalogSnapshotFile = {
      format: 1,
      savedAt: new Date().toISOString(),
      syncedAt: syncedAt.toISOString(),
      federation: this.options.federation,
      services: [...snapshot.services.values()],
    };
    try {
      await writeAtomically(this.options.path, JSON.stringify(file));
      this.writtenVersion = snapshot.version;
      this.writtenSyncedAt = syncedAt.getTime();
      this.options.logger.debug({ snapshotFile: this.options.path, services: file.services.length }, 'catalog saved');
    } catch (error) {
      this.failures.inc();
      this.options.logger.warn({ err: error, snapshotFile: this.options.path }, 'catalog snapshot not saved');
    }
  }
}

async function writeAtomically(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    const handle = await open(temporary, 'w', 0o600);
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}
