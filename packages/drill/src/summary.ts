import type { DrillAction } from './drill-file.js';
import type { DrillReport, ExpectationResult } from './evaluate.js';

const MARK: Record<ExpectationResult['status'], string> = { passed: 'PASS', failed: 'FAIL', 'not-applicable': 'n/a ' };

/** The report for people: what happened, how fast, and each expectation. */
export function formatDrillReport(report: DrillReport): string {
  const { requests } = report;
  const lines = [
    `Drill "${report.drill.name}" (${report.drill.mode}) on ${report.drill.service}: ${report.outcome.toUpperCase()}`,
    `  ran ${report.ranSeconds.toFixed(1)} s, ended: ${report.end}${report.error ? ` (${report.error})` : ''}`,
    `  probe requests ${requests.total}, failed ${requests.failed}` +
      (requests.errorRatio === null ? '' : ` (${(requests.errorRatio * 100).toFixed(2)} %)`) +
      `, answered on-prem ${requests.answeredBy.onprem}, cloud ${requests.answeredBy.cloud}` +
      (requests.skipped > 0 ? `, ${requests.skipped} sends skipped (too many in flight)` : ''),
    '',
    '  timeline',
    ...report.entries.map(
      (entry) =>
        `    #${entry.index + 1} ${describeAction(entry.action).padEnd(34)} ${entry.atSeconds.toFixed(1).padStart(6)}s → ${entry.untilSeconds.toFixed(1).padStart(6)}s` +
        `  detect ${seconds(entry.detectSeconds)}  failover ${seconds(entry.failoverSeconds)}` +
        `  failed ${entry.failedRequests}/${entry.requests}${entry.error ? `  ERROR ${entry.error}` : ''}` +
        answeredLine(entry.answeredBy),
    ),
    '',
    '  share over time (published / measured cloud share, failed requests)',
    ...shareLines(report),
    ...reportedLoadLines(report),
    ...costLines(report),
    '',
    '  expectations',
    ...report.expectations.map(
      (result) => `    ${MARK[result.status]} ${result.name} ${result.expected}: ${result.detail}`,
    ),
  ];
  if (report.expectations.length === 0) lines.push('    (none)');
  return lines.join('\n');
}

/** What the bursts during the run cost, when the policy has prices. */
function costLines(report: DrillReport): string[] {
  const cost = report.cost;
  if (!cost) return [];
  const money = (amount: number) => `${amount.toFixed(2)} ${cost.currency}`;
  return [
    '',
    `  cost of the bursts during the run: ${money(cost.total)}`,
    ...cost.bursts.map((burst) => `    ${burst.id}  ${money(burst.total)}`),
  ];
}

/** What the clients reported over LRS during the run, when the router measures it. */
function reportedLoadLines(report: DrillReport): string[] {
  const load = report.reportedLoad;
  if (!load) return [];
  const requests = load.localities.reduce((sum, locality) => sum + locality.requests, 0);
  const share = load.cloudShare === null ? '-' : load.cloudShare.toFixed(2);
  return [
    '',
    `  reported by the clients (LRS, last ${load.windowSeconds} s): cloud share ${share} over ${requests} requests`,
    ...load.localities.map(
      (l) =>
        `    ${`${l.region}/${l.zone}`.padEnd(28)} ${l.environment.padEnd(7)} ${l.requests} requests, ${l.errors} errors`,
    ),
  ];
}

export function describeAction(action: DrillAction): string {
  switch (action.kind) {
    case 'zone-down':
      return `zone ${action.zone} down`;
    case 'site-down':
      return `site ${action.site} down`;
    case 'region-down':
      return `region ${action.region} down`;
    case 'latency':
      return `latency +${action.extraSeconds}s${action.site || action.zone ? ` in ${[action.site, action.zone].filter(Boolean).join('/')}` : ''}`;
    case 'registry-down':
      return `registry of ${action.site} down`;
    case 'router-restart':
      return `router restart (${action.downSeconds}s down)`;
    case 'drain':
      return `drain ${[action.cluster, action.region, action.zone].filter(Boolean).join('/')}`;
    case 'force-share':
      return `force cloud share ${action.share}`;
    case 'wrong-trust-bundle':
      return `wrong trust bundle in ${action.region}`;
  }
}

/** At most 12 lines: every n-th bucket plus every bucket with failures. */
function shareLines(report: DrillReport): string[] {
  const every = Math.max(1, Math.ceil(report.share.length / 12));
  return report.share
    .filter((bucket, i) => i % every === 0 || bucket.failed > 0)
    .slice(0, 24)
    .map(
      (bucket) =>
        `    ${bucket.t.toFixed(0).padStart(5)}s  ${bucket.publishedShare.toFixed(2)} / ${
          bucket.measuredCloudShare === null ? '  - ' : bucket.measuredCloudShare.toFixed(2)
        }  ${bucket.failed > 0 ? `${bucket.failed} failed of ${bucket.requests}` : `${bucket.requests} ok`}`,
    );
}

/** `answered by dc1/dc1-b 470, us-east-1/us-east-1a 10`, busiest first. */
function answeredLine(answeredBy: Readonly<Record<string, number>> | undefined): string {
  const places = Object.entries(answeredBy ?? {}).sort(([, a], [, b]) => b - a);
  if (places.length === 0) return '';
  return `\n${' '.repeat(8)}answered by ${places.map(([place, count]) => `${place} ${count}`).join(', ')}`;
}

function seconds(value: number | null): string {
  return value === null ? '   -  ' : `${value.toFixed(2).padStart(5)}s`;
}
