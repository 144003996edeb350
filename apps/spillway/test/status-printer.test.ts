import { describe, expect, it } from 'vitest';
import { CatalogSummaryPrinter, StatusPrinter } from '../src/status-printer.js';

const line = (clock: string, share: string, phase: string) =>
  `[sim ${clock}] checkout.shop   600 rps  p99 0.13s  errors  0.1%  cloud share ${share}  cloud endpoints 6  burst ${phase}`;

describe('StatusPrinter', () => {
  it('prints a line when its content changes, not when only the simulated clock moves', () => {
    const printer = new StatusPrinter(30_000);
    expect(printer.next([line('00:02:00', '0.00', 'idle')], 0)).toHaveLength(1);
    expect(printer.next([line('00:04:00', '0.00', 'idle')], 2_000)).toEqual([]);
    expect(printer.next([line('00:06:00', '0.10', 'shifting')], 4_000)).toEqual([line('00:06:00', '0.10', 'shifting')]);
    expect(printer.next([line('00:08:00', '0.10', 'shifting')], 6_000)).toEqual([]);
  });

  it('repeats the current lines after the heartbeat interval without output, and not before', () => {
    const printer = new StatusPrinter(30_000);
    printer.next([line('00:02:00', '0.50', 'holding')], 1_000);
    expect(printer.next([line('00:30:00', '0.50', 'holding')], 30_999)).toEqual([]);
    expect(printer.next([line('00:32:00', '0.50', 'holding')], 31_000)).toEqual([line('00:32:00', '0.50', 'holding')]);
    expect(printer.next([line('00:34:00', '0.50', 'holding')], 33_000)).toEqual([]);
  });

  it('tracks each service on its own', () => {
    const printer = new StatusPrinter(30_000);
    const cart =
      '[sim 00:02:00] cart.shop       100 rps  p99 0.05s  errors  0.0%  cloud share 0.00  cloud endpoints 0  burst idle';
    printer.next([line('00:02:00', '0.00', 'idle'), cart], 0);
    expect(printer.next([line('00:04:00', '0.10', 'shifting'), cart.replace('00:02:00', '00:04:00')], 2_000)).toEqual([
      line('00:04:00', '0.10', 'shifting'),
    ]);
  });
});

describe('CatalogSummaryPrinter', () => {
  it('prints a summary when what it says changes, not when only the catalog version moves', () => {
    const printer = new CatalogSummaryPrinter();
    const summary = (version: number, healthy: number) =>
      `catalog v${version}: 1 service(s)\n  echo.demo                    onprem/lab/lab-a ${healthy}/3`;
    expect(printer.next(summary(1, 3))).toBe(summary(1, 3));
    expect(printer.next(summary(2, 3))).toBeUndefined();
    expect(printer.next(summary(3, 2))).toBe(summary(3, 2));
  });
});
