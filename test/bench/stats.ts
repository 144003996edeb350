/** Percentile of a sample (nearest-rank), in the sample's unit. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export function ms(nanoseconds: bigint | number): number {
  return Number(nanoseconds) / 1e6;
}

export function fmt(value: number, digits = 3): string {
  return value.toFixed(digits);
}

/** Forces a full GC when node runs with --expose-gc; heap figures are meaningless otherwise. */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc for heap figures');
  gc();
  gc();
}
