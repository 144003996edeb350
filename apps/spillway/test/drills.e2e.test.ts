import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DrillReport } from '@spillway/drill';
import { parseDrill } from '@spillway/drill';
import { describe, expect, it } from 'vitest';
import { runCli } from './cli-process.js';

const DRILLS = fileURLToPath(new URL('../../../infra/drills/', import.meta.url));
const simulated = readdirSync(DRILLS)
  .filter((file) => file.endsWith('.yaml'))
  .filter((file) => parseDrill(readFileSync(join(DRILLS, file), 'utf8'), file).mode === 'simulated')
  .sort();

/** `spillway drill run FILE --json`: the report on stdout, progress on stderr. */
async function runShippedDrill(file: string): Promise<{ code: number | null; report: DrillReport; stderr: string }> {
  const result = await runCli(['drill', 'run', join(DRILLS, file), '--json']);
  let report: DrillReport;
  try {
    report = JSON.parse(result.stdout) as DrillReport;
  } catch {
    throw new Error(`no JSON report (exit ${result.code}); stderr:\n${result.stderr}`);
  }
  return { code: result.code, report, stderr: result.stderr };
}

describe('shipped drills, simulated: real grpc-js-xds probes through the router to real gRPC servers', () => {
  it('ships simulated drills for every kind of fault', () => {
    const kinds = new Set(
      simulated.flatMap((file) =>
        parseDrill(readFileSync(join(DRILLS, file), 'utf8'), file).timeline.map((entry) => entry.action.kind),
      ),
    );
    expect([...kinds].sort()).toEqual(
      [
        'latency',
        'region-down',
        'registry-down',
        'router-restart',
        'site-down',
        'wrong-trust-bundle',
        'zone-down',
      ].sort(),
    );
  });

  it.each(simulated)('%s passes', { timeout: 120_000 }, async (file) => {
    const { code, report, stderr } = await runShippedDrill(file);
    const why = `${JSON.stringify(report.expectations, null, 1)}\n${JSON.stringify(report.entries, null, 1)}\n${stderr}`;
    expect(report.outcome, why).toBe('passed');
    expect(code).toBe(0);
    // The probes really ran: on a busy machine at least half of the planned requests.
    const drill = parseDrill(readFileSync(join(DRILLS, file), 'utf8'), file);
    expect(report.requests.total).toBeGreaterThan(drill.probes.ratePerSecond * drill.durationSeconds * 0.5);
    // Each disruptive entry was measured, and traffic came back to where it was after it.
    for (const entry of report.entries) {
      if (['zone-down', 'site-down', 'region-down', 'wrong-trust-bundle'].includes(entry.action.kind)) {
        expect(entry.failoverSeconds, `entry #${entry.index + 1}`).not.toBeNull();
        expect(entry.requests).toBeGreaterThan(0);
      }
      if (entry.action.kind === 'wrong-trust-bundle') {
        // None served by the site with the rogue CA: every answer of the entry came from elsewhere.
        const region = entry.action.region;
        expect(
          Object.keys(entry.answeredBy).filter((place) => place.includes(region)),
          why,
        ).toEqual([]);
        // Before it, the cloud-side clients were served in the cloud over mTLS (the endpoints take nothing else).
        const before = report.share.filter((bucket) => bucket.t < entry.atSeconds && bucket.requests > 0);
        expect(
          before.some((bucket) => (bucket.measuredCloudShare ?? 0) > 0.5),
          why,
        ).toBe(true);
      }
    }
    expect(stderr).toMatch(/applied/);
  });
});
