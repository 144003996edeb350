import { isDeepStrictEqual } from 'node:util';
import type { SpillwayConfig } from './schema.js';

/**
 * Top-level fields a running process takes from a reloaded file. Everything else (listen.*,
 * redis, tls, auth, clusters, …) is read once at start: its change is reported, not applied.
 */
export const LIVE_RELOAD_FIELDS = ['policies'] as const satisfies readonly (keyof SpillwayConfig)[];

export interface ReloadPlan {
  /** Changed fields that apply live. */
  readonly live: readonly string[];
  /** Changed fields that need a restart; the running process keeps the old values. */
  readonly restart: readonly string[];
  /** The config to run with: the running one, with the live fields taken from the file. */
  readonly next: SpillwayConfig;
}

/** What a reloaded file changes, and the config the process runs with afterwards. Pure. */
export function planReload(running: SpillwayConfig, file: SpillwayConfig): ReloadPlan {
  const keys = new Set([...Object.keys(running), ...Object.keys(file)]) as Set<keyof SpillwayConfig>;
  const changed = [...keys].filter((key) => !isDeepStrictEqual(running[key], file[key])).sort();
  const isLive = (key: string) => (LIVE_RELOAD_FIELDS as readonly string[]).includes(key);
  const next = { ...running };
  for (const key of LIVE_RELOAD_FIELDS) Object.assign(next, { [key]: file[key] });
  return { live: changed.filter(isLive), restart: changed.filter((key) => !isLive(key)), next };
}
