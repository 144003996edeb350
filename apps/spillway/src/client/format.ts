import { MIN_MANUAL_SHARE } from '@spillway/burst';
import { InvalidArgumentError } from 'commander';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
type Unit = keyof typeof UNIT_MS;

/** `500ms`, `30s`, `10m`, `1h30m`, `2d` → milliseconds; anything else is a usage error. */
export function parseDuration(text: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)];
  const whole = parts.map((part) => part[0]).join('');
  if (parts.length === 0 || whole !== text.trim()) {
    throw new InvalidArgumentError('expected a duration such as 90s, 10m or 1h30m');
  }
  return parts.reduce((total, part) => total + Number(part[1]) * UNIT_MS[part[2] as Unit], 0);
}

/** A cloud share in (0, 1], as `--share` takes it. */
export function parseShare(text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < MIN_MANUAL_SHARE || value > 1) {
    throw new InvalidArgumentError(`expected a share in [${MIN_MANUAL_SHARE}, 1], e.g. 0.3`);
  }
  return value;
}

/** `0.1,0.2,0.3` → ascending shares. */
export function parseSteps(text: string): number[] {
  const steps = text.split(',').map((part) => parseShare(part.trim()));
  if (steps.some((step, index) => index > 0 && step <= (steps[index - 1] ?? 0))) {
    throw new InvalidArgumentError('steps must be strictly ascending, e.g. 0.1,0.2,0.3');
  }
  return steps;
}

export function parseLimit(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > 100_000) {
    throw new InvalidArgumentError('expected a whole number from 1 to 100000');
  }
  return value;
}

/** A share as the controller writes it in its audit log: two decimals. */
export function formatShare(share: number): string {
  return share.toFixed(2);
}

/** 950 ms → `950ms`, 75 s → `1m15s`, 2 h → `2h`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return seconds % 60 ? `${minutes}m${seconds % 60}s` : `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 ? `${hours}h${minutes % 60}m` : `${hours}h`;
  return `${Math.floor(hours / 24)}d`;
}

/** An ISO time relative to `now`: `12s ago`, `in 5m`, `-` when absent. */
export function formatAge(iso: string | null | undefined, now: number): string {
  if (!iso) return '-';
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return iso;
  const delta = now - at;
  return delta >= 0 ? `${formatDuration(delta)} ago` : `in ${formatDuration(-delta)}`;
}

/** `-` for an empty value, so a table never has a blank cell that looks like a misalignment. */
export function orDash(value: string | number | null | undefined): string {
  return value === null || value === undefined || value === '' ? '-' : String(value);
}
