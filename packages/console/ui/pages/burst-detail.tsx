import { useRef, useState } from 'preact/hooks';
import { api } from '../api.js';
import { ShareChart } from '../components/share-chart.js';
import { clock, percent } from '../format.js';
import { usePoll, useSubmission } from '../hooks.js';
import type { BurstRow } from './bursts.js';

interface Burst extends BurstRow {
  path?: number[];
  expiresAt?: string | null;
  appliedShare?: number;
  capacity?: {
    share: number;
    replicas: { requested: number | null; ready: number };
    nodes: { requested: number | null; ready: number };
    cloudReadyEndpoints: number;
  };
  abort?: { reason: string; actor: string; at: string } | null;
  measured?: Measured | null;
  measuredError?: string;
  /** The running cost for a policy with prices (docs/burst-controller.md#cost-guard). */
  cost?: { total: number; hourly: number; currency: string; perBurstBudget: number | null } | null;
  /** The forecast the controller decided with (predictive policies; docs/burst-controller.md#predictive-pre-warming). */
  forecast?: Forecast | null;
  prewarm?: { startedAt: string; crossingAt: string; shiftedAt: string | null; forecast: string } | null;
  history: AuditRow[];
}

interface Forecast {
  observedRps: number;
  peakRps: number;
  capacityRps: number;
  horizonSeconds: number;
  leadTimeSeconds: number;
  leadTimeLearned: boolean;
  crossingAt: string | null;
  warm: { share: number; replicas: number; nodes: number } | null;
}

/** The share the clients report over LRS, next to the published one (GET /v1/bursts/{id}). */
interface Measured {
  share: number | null;
  requests: number;
  windowSeconds: number;
  published: number;
  verdict: string;
  detail: string;
  at: string;
}

/** A measured share the page saw, at its time (the API gives the share now, not its history). */
interface MeasuredSample {
  t: number;
  share: number;
}

const MAX_SAMPLES = 3600;

interface AuditRow {
  at: string;
  actor: string;
  kind: string;
  message: string;
}

interface Timeline {
  points: { at: string; phase: string; share: number }[];
  phases: { phase: string; since: string; until: string | null; reason: string }[];
  truncated: boolean;
}

/** One burst: where it is, what it waits on, its share over time, its audit trail; abort. */
export function BurstDetail(props: { id: string }) {
  const path = `/v1/bursts/${encodeURIComponent(props.id)}`;
  const burst = usePoll<Burst>(path, 1000);
  const timeline = usePoll<Timeline>(`${path}/timeline`, 1000);
  const data = burst.data;
  const [abortSent, setAbortSent] = useState(false);
  const samples = useRef<MeasuredSample[]>([]);
  const measured = data?.measured;
  if (measured && measured.share !== null) {
    const t = Date.parse(measured.at) / 1000;
    const last = samples.current.at(-1);
    if (!last || t > last.t) samples.current = [...samples.current, { t, share: measured.share }].slice(-MAX_SAMPLES);
  }
  return (
    <>
      <p>
        <a href="#/bursts">All bursts</a>
      </p>
      <h1>Burst {props.id}</h1>
      {burst.error ? <p role="alert">{burst.error}</p> : null}
      {data ? (
        <>
          <dl class="summary">
            <dt>Service</dt>
            <dd>{data.service}</dd>
            <dt>Phase</dt>
            <dd data-testid="burst-phase">{data.phase ?? (data.active ? 'active' : 'ended')}</dd>
            <dt>Committed share</dt>
            <dd>
              {percent(data.share)} of {percent(data.targetShare)} (steps {data.path?.map(percent).join(' → ') ?? '–'})
            </dd>
            <dt>Router holds</dt>
            <dd>{percent(data.appliedShare)}</dd>
            <dt>Measured (LRS)</dt>
            <dd>{measuredText(data)}</dd>
            <dt>Cost</dt>
            <dd data-testid="burst-cost">{costText(data)}</dd>
            <dt>Forecast</dt>
            <dd data-testid="burst-forecast">{forecastText(data)}</dd>
            <dt>Warm capacity</dt>
            <dd data-testid="burst-warm">{warmText(data)}</dd>
            <dt>Waiting on</dt>
            <dd>{data.waitingOn ?? 'nothing'}</dd>
            <dt>Capacity requested / ready</dt>
            <dd>
              {data.capacity
                ? `for ${percent(data.capacity.share)}: replicas ${data.capacity.replicas.requested ?? '–'} / ${data.capacity.replicas.ready}, ` +
                  `nodes ${data.capacity.nodes.requested ?? '–'} / ${data.capacity.nodes.ready}, ` +
                  `${data.capacity.cloudReadyEndpoints} cloud endpoint(s) ready`
                : '–'}
            </dd>
            <dt>Origin</dt>
            <dd>
              {data.origin ?? '–'} by {data.actor ?? '–'}: {data.reason ?? ''}
            </dd>
            <dt>Expires</dt>
            <dd>{data.expiresAt ? clock(data.expiresAt) : 'no'}</dd>
            {data.abort ? (
              <>
                <dt>Aborted</dt>
                <dd>
                  at {clock(data.abort.at)} by {data.abort.actor}: {data.abort.reason}
                </dd>
              </>
            ) : null}
          </dl>
          {data.active || abortSent ? (
            <AbortForm
              path={path}
              sent={abortSent}
              onDone={() => {
                setAbortSent(true);
                burst.refresh();
              }}
            />
          ) : null}
        </>
      ) : null}
      {timeline.data ? <BurstTimelineView timeline={timeline.data} measured={samples.current} /> : null}
      {data ? <AuditTrail entries={data.history} /> : null}
    </>
  );
}

/** Stays after the burst ends when it was aborted here, so its confirmation stays readable. */
function AbortForm(props: { path: string; sent: boolean; onDone: () => void }) {
  const [reason, setReason] = useState('');
  const sent = props.sent;
  const { error, submit } = useSubmission(async () => {
    await api(`${props.path}/abort`, {
      method: 'POST',
      body: reason.trim() ? { reason: reason.trim() } : {},
    });
    props.onDone();
  });
  return (
    <form class="fields" onSubmit={submit} aria-labelledby="abort-heading">
      <h2 id="abort-heading">Abort</h2>
      <label for="abort-reason">Reason (optional)</label>
      <input
        id="abort-reason"
        maxLength={500}
        value={reason}
        onInput={(event) => setReason(event.currentTarget.value)}
      />
      <div>
        <button type="submit" class="danger" disabled={sent}>
          Abort burst
        </button>
      </div>
      {sent ? <p role="status">Abort requested: the controller drains the burst.</p> : null}
      {error ? <p role="alert">{error}</p> : null}
    </form>
  );
}

/** `1.24 USD so far, 2.40 USD/h now, budget 5.00 USD`; says so for a policy without prices. */
function costText(burst: Burst): string {
  const cost = burst.cost;
  if (!cost) return 'not priced (the policy has no cost)';
  const money = (amount: number) => `${amount.toFixed(2)} ${cost.currency}`;
  const budget = cost.perBurstBudget === null ? '' : `, budget ${money(cost.perBurstBudget)}`;
  return `${money(cost.total)} so far, ${money(cost.hourly)}/h now${budget}`;
}

/** `912 rps now, peak 1380 rps within 600 s against 900 rps on-prem; crossing at …, lead time 120 s (learned)`. */
function forecastText(burst: Burst): string {
  const forecast = burst.forecast;
  if (!forecast) return 'none (the policy is not predictive, or no forecast could be made)';
  const rps = (value: number) => `${Math.round(value)} rps`;
  const crossing = forecast.crossingAt
    ? `crossing at ${clock(forecast.crossingAt)}`
    : 'no crossing within the lead time';
  return (
    `${rps(forecast.observedRps)} now, peak ${rps(forecast.peakRps)} within ${forecast.horizonSeconds} s ` +
    `against ${rps(forecast.capacityRps)} on-prem; ${crossing}, lead time ${Math.round(forecast.leadTimeSeconds)} s ` +
    `(${forecast.leadTimeLearned ? 'learned' : 'default'})`
  );
}

/** The capacity the forecast peak calls for, and whether this burst began warm. */
function warmText(burst: Burst): string {
  const warm = burst.forecast?.warm;
  const wanted = warm
    ? `for ${percent(warm.share)}: ${warm.replicas} replicas, ${warm.nodes} nodes`
    : burst.forecast
      ? 'none: the forecast peak fits on-prem'
      : '';
  const prewarm = burst.prewarm;
  const began = prewarm
    ? `warmed since ${clock(prewarm.startedAt)}, ${prewarm.shiftedAt ? `traffic moved at ${clock(prewarm.shiftedAt)}` : 'no traffic moved yet'}`
    : '';
  return [wanted, began].filter(Boolean).join('; ') || '–';
}

function measuredText(burst: Burst): string {
  if (burst.measuredError) return `cannot be read: ${burst.measuredError}`;
  const measured = burst.measured;
  if (!measured) return 'not measured (load reporting is off, or the burst has ended)';
  const share = measured.share === null ? 'no reports' : percent(measured.share);
  return `${share} over ${measured.windowSeconds} s (${measured.requests} requests): ${measured.verdict}, ${measured.detail}`;
}

/**
 * Decisions and measured samples on one time axis (uPlot wants aligned series): the committed
 * share holds from one decision to the next; a measured share is known only at its samples.
 */
function chartSeries(points: Timeline['points'], measured: readonly MeasuredSample[]) {
  const decisions = points.map((point) => ({ t: Date.parse(point.at) / 1000, share: point.share }));
  const times = [...new Set([...decisions.map((d) => d.t), ...measured.map((m) => m.t)])].sort((a, b) => a - b);
  const measuredAt = new Map(measured.map((m) => [m.t, m.share]));
  let index = -1;
  const committed = times.map((t) => {
    while (index + 1 < decisions.length && (decisions[index + 1]?.t ?? Number.POSITIVE_INFINITY) <= t) index++;
    return index >= 0 ? (decisions[index]?.share ?? null) : null;
  });
  return { x: times, committed, measured: times.map((t) => measuredAt.get(t) ?? null) };
}

function BurstTimelineView(props: { timeline: Timeline; measured: readonly MeasuredSample[] }) {
  const { points, phases } = props.timeline;
  const series = chartSeries(points, props.measured);
  return (
    <section aria-labelledby="timeline-heading">
      <h2 id="timeline-heading">Share over time</h2>
      <ShareChart
        title="Committed cloud share after each decision, and the measured share seen while this page was open"
        x={series.x}
        series={[
          { label: 'committed share', values: series.committed, color: '#2463eb', stepped: true },
          { label: 'measured share (LRS)', values: series.measured, color: '#c2410c', points: true },
        ]}
      />
      {props.timeline.truncated ? <p>Only the newest decisions are shown.</p> : null}
      <h3>Phases</h3>
      <ol class="phases">
        {phases.map((span) => (
          <li key={span.since}>
            <strong>{span.phase}</strong> from <time dateTime={span.since}>{clock(span.since)}</time>
            {span.until ? (
              <>
                {' '}
                to <time dateTime={span.until}>{clock(span.until)}</time>
              </>
            ) : (
              ' (now)'
            )}
            : {span.reason}
          </li>
        ))}
      </ol>
    </section>
  );
}

function AuditTrail(props: { entries: readonly AuditRow[] }) {
  return (
    <section aria-labelledby="audit-heading">
      <h2 id="audit-heading">Audit trail</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Kind</th>
            <th scope="col">Actor</th>
            <th scope="col">What</th>
          </tr>
        </thead>
        <tbody>
          {props.entries.map((entry, index) => (
            <tr key={`${entry.at}-${index}`}>
              <td title={entry.at}>{clock(entry.at)}</td>
              <td>{entry.kind}</td>
              <td>{entry.actor}</td>
              <td>{entry.message}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
