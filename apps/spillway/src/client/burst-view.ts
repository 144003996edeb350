import { formatAge, formatShare, orDash } from './format.js';
import type { Burst, BurstDetail } from './schemas.js';
import { type Column, formatFields, formatTable } from './table.js';

/** `0.10 → 0.30`: where the burst's share is and where it is going. */
export function shareText(burst: Burst): string {
  return `${formatShare(burst.share)} → ${formatShare(burst.targetShare)}`;
}

/** The phase as people read it: an ended burst says whether it was aborted. */
export function phaseText(burst: Burst): string {
  if (burst.active) return burst.phase;
  return burst.abort ? 'ended (aborted)' : 'ended';
}

export const BURST_PROGRESS_COLUMNS: readonly Column[] = [
  { header: 'SERVICE' },
  { header: 'PHASE' },
  { header: 'SHARE → TARGET' },
  { header: 'WAITING ON' },
  { header: 'STARTED' },
  { header: 'ID' },
];

export function burstRows(bursts: readonly Burst[], now: number): string[][] {
  return bursts.map((burst) => [
    burst.service,
    phaseText(burst),
    shareText(burst),
    orDash(burst.waitingOn),
    formatAge(burst.createdAt, now),
    burst.id,
  ]);
}

const LIST_COLUMNS: readonly Column[] = [
  { header: 'ID' },
  { header: 'SERVICE' },
  { header: 'PHASE' },
  { header: 'SHARE → TARGET' },
  { header: 'WAITING ON' },
  { header: 'STARTED' },
  { header: 'BY' },
  { header: 'REASON' },
];

export function burstListTable(bursts: readonly Burst[], now: number): string {
  return formatTable(
    LIST_COLUMNS,
    bursts.map((burst) => [
      burst.id,
      burst.service,
      phaseText(burst),
      shareText(burst),
      orDash(burst.waitingOn),
      formatAge(burst.createdAt, now),
      orDash(burst.actor),
      orDash(burst.reason),
    ]),
  );
}

function abortText(burst: Burst): string {
  return burst.abort ? `by ${burst.abort.actor} at ${burst.abort.at}: ${burst.abort.reason}` : '-';
}

/** `burst show`: the record's fields, then its history (oldest first) as a table. */
export function burstDetailText(burst: BurstDetail, now: number, bold: (text: string) => string): string {
  const fields = formatFields([
    ['id', burst.id],
    ['service', burst.service],
    ['phase', phaseText(burst)],
    ['share', shareText(burst)],
    ['measured', measuredText(burst)],
    ['cost', costText(burst)],
    ['forecast', forecastText(burst)],
    ['warm', warmText(burst)],
    ['waiting on', orDash(burst.waitingOn)],
    ['origin', orDash(burst.origin)],
    ['by', orDash(burst.actor)],
    ['reason', orDash(burst.reason)],
    ['started', `${burst.createdAt} (${formatAge(burst.createdAt, now)})`],
    ['updated', `${burst.updatedAt} (${formatAge(burst.updatedAt, now)})`],
    ['expires', burst.expiresAt ? `${burst.expiresAt} (${formatAge(burst.expiresAt, now)})` : 'never'],
    ['aborted', abortText(burst)],
  ]);
  const history = burst.history.length
    ? formatTable(
        [{ header: 'TIME' }, { header: 'ACTOR' }, { header: 'KIND' }, { header: 'MESSAGE' }],
        burst.history.map((entry) => [entry.at, entry.actor, kindText(entry), entry.message]),
        { indent: '  ' },
      )
    : '  (no history)';
  return `${fields}\n\n${bold('History')}\n${history}`;
}

/**
 * `0.28 (published 0.30, 1204 requests in 60 s): follows`: what the clients report next to what
 * the router publishes; `-` for an ended burst or when load is not measured.
 */
export function measuredText(burst: BurstDetail): string {
  if (burst.measuredError) return `unknown: ${burst.measuredError}`;
  const measured = burst.measured;
  if (!measured) return '-';
  const share = measured.share === null ? 'no reports' : formatShare(measured.share);
  return `${share} (published ${formatShare(measured.published)}, ${measured.requests} requests in ${measured.windowSeconds} s): ${measured.verdict}`;
}

/** `1.24 USD (2.40 USD/h now, budget 5.00 USD)`; `-` for a policy without prices. */
export function costText(burst: Burst): string {
  const cost = burst.cost;
  if (!cost) return '-';
  const money = (amount: number) => `${amount.toFixed(2)} ${cost.currency}`;
  const budget = cost.perBurstBudget === null ? '' : `, budget ${money(cost.perBurstBudget)}`;
  return `${money(cost.total)} (${money(cost.hourly)}/h now${budget})`;
}

/**
 * `912 rps now, peak 1380 rps within 600 s, on-prem 900 rps: crosses at T (lead time 120 s,
 * learned)`: the forecast the controller decided with; `-` for a policy without prediction.
 */
export function forecastText(burst: Burst): string {
  const forecast = burst.forecast;
  if (!forecast) return '-';
  const rps = (value: number) => `${Math.round(value)} rps`;
  const crossing = forecast.crossingAt ? `crosses at ${forecast.crossingAt}` : 'no crossing within the lead time';
  const lead = `lead time ${Math.round(forecast.leadTimeSeconds)} s, ${forecast.leadTimeLearned ? 'learned' : 'default'}`;
  return (
    `${rps(forecast.observedRps)} now, peak ${rps(forecast.peakRps)} within ${forecast.horizonSeconds} s, ` +
    `on-prem ${rps(forecast.capacityRps)}: ${crossing} (${lead})`
  );
}

/**
 * `share 0.50 (20 replicas, 2 nodes) for the forecast peak; warming since T, no traffic moved`:
 * the capacity the forecast calls for and, for a burst that began warm, what became of it.
 */
export function warmText(burst: Burst): string {
  const warm = burst.forecast?.warm;
  const wanted = warm
    ? `share ${formatShare(warm.share)} (${warm.replicas} replicas, ${warm.nodes} nodes) for the forecast peak`
    : burst.forecast
      ? 'none: the forecast peak fits on-prem'
      : '';
  const prewarm = burst.prewarm;
  const began = prewarm
    ? `warmed since ${prewarm.startedAt}, ${prewarm.shiftedAt ? `traffic moved at ${prewarm.shiftedAt}` : 'no traffic moved'}`
    : '';
  return [wanted, began].filter(Boolean).join('; ') || '-';
}

/** `decision/step` for a controller decision, the audit kind otherwise. */
function kindText(entry: BurstDetail['history'][number]): string {
  const decision = entry.details?.decision;
  return typeof decision === 'string' ? `${entry.kind}/${decision}` : entry.kind;
}

/** One progress line for `--wait`, e.g. `  4s  echo.demo  scaling-out  share 0.00 → 0.30  waiting on: …`. */
export function progressLine(burst: Burst, elapsed: string): string {
  const waiting = burst.waitingOn ? `  waiting on: ${burst.waitingOn}` : '';
  return `  ${elapsed.padStart(6)}  ${burst.service}  ${phaseText(burst)}  share ${shareText(burst)}${waiting}`;
}
