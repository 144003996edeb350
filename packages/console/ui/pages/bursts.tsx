import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { RunList, type RunListColumn } from '../components/run-list.js';
import { clock, percent } from '../format.js';
import { usePoll, useSubmission } from '../hooks.js';
import { servesPage } from '../pages-served.js';

export interface BurstRow {
  id: string;
  service: string;
  active: boolean;
  phase?: string;
  origin?: string;
  share?: number;
  targetShare?: number;
  createdAt: string;
  updatedAt: string;
  reason?: string;
  actor?: string;
  waitingOn?: string | null;
}

const BURST_COLUMNS: readonly RunListColumn<BurstRow>[] = [
  { header: 'Service', cell: (burst) => burst.service },
  { header: 'Phase', cell: (burst) => burst.phase ?? (burst.active ? 'active' : 'ended') },
  { header: 'Share', cell: (burst) => percent(burst.share) },
  { header: 'Target', cell: (burst) => percent(burst.targetShare) },
  { header: 'Origin', cell: (burst) => burst.origin ?? '–' },
  { header: 'Started', cell: (burst) => clock(burst.createdAt), title: (burst) => burst.createdAt },
  { header: 'Waiting on', cell: (burst) => burst.waitingOn ?? '–' },
];

/** The burst list (newest first) and the form that starts a manual burst. */
export function BurstsPage() {
  const bursts = usePoll<{ bursts: BurstRow[] }>('/v1/bursts?limit=50', 1000);
  return (
    <>
      <h1>Bursts</h1>
      <StartBurstForm onStarted={(id) => (location.hash = `#/bursts/${encodeURIComponent(id)}`)} />
      <Forecasts />
      <RunList
        heading="Recent bursts"
        headingId="burst-list"
        empty="No bursts yet."
        rows={bursts.data?.bursts}
        error={bursts.error}
        idHeader="Burst"
        href={(burst) => `#/bursts/${encodeURIComponent(burst.id)}`}
        columns={BURST_COLUMNS}
      />
    </>
  );
}

/** A predictive policy's latest forecast (`GET /v1/burst-policies`), idle or bursting. */
interface PolicyForecast {
  service: string;
  observedRps: number;
  peakRps: number;
  capacityRps: number;
  horizonSeconds: number;
  leadTimeSeconds: number;
  crossingAt: string | null;
  warm: { share: number; replicas: number; nodes: number } | null;
}

/** What the predictive policies expect: shown before any burst, so warming is seen coming. */
function Forecasts() {
  const policies = usePoll<{ forecasts?: PolicyForecast[] }>('/v1/burst-policies', 2000);
  const forecasts = policies.data?.forecasts ?? [];
  if (forecasts.length === 0) return null;
  const rps = (value: number) => `${Math.round(value)} rps`;
  return (
    <section aria-labelledby="forecast-list">
      <h2 id="forecast-list">Forecasts</h2>
      <table data-testid="forecasts">
        <thead>
          <tr>
            <th scope="col">Service</th>
            <th scope="col">Now</th>
            <th scope="col">Peak ahead</th>
            <th scope="col">On-prem capacity</th>
            <th scope="col">Crossing</th>
            <th scope="col">Warm capacity for the peak</th>
          </tr>
        </thead>
        <tbody>
          {forecasts.map((forecast) => (
            <tr key={forecast.service}>
              <th scope="row">{forecast.service}</th>
              <td>{rps(forecast.observedRps)}</td>
              <td>
                {rps(forecast.peakRps)} within {forecast.horizonSeconds} s
              </td>
              <td>{rps(forecast.capacityRps)}</td>
              <td title={forecast.crossingAt ?? undefined}>
                {forecast.crossingAt
                  ? `${clock(forecast.crossingAt)} (lead time ${Math.round(forecast.leadTimeSeconds)} s)`
                  : 'none within the lead time'}
              </td>
              <td>
                {forecast.warm
                  ? `${percent(forecast.warm.share)}: ${forecast.warm.replicas} replicas, ${forecast.warm.nodes} nodes`
                  : 'none'}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** Service, share and reason are required, as `POST /v1/bursts` requires them. */
function StartBurstForm(props: { onStarted: (id: string) => void }) {
  // Service names to pick from, where this process has the catalog (not `spillway controller`).
  const services = usePoll<{ services: { key: string }[] }>(servesPage('fleet') ? '/v1/services' : null, 0);
  const [service, setService] = useState('');
  const [share, setShare] = useState('0.3');
  const [reason, setReason] = useState('');
  const [steps, setSteps] = useState('');
  const { busy, error, submit } = useSubmission(async () => {
    const started = await api<{ id: string }>('/v1/bursts', {
      method: 'POST',
      body: {
        service: service.trim(),
        share: Number(share),
        reason: reason.trim(),
        ...(steps.trim() ? { steps: parseSteps(steps) } : {}),
      },
    });
    props.onStarted(started.id);
  });
  return (
    <section aria-labelledby="start-burst">
      <h2 id="start-burst">Start a burst</h2>
      <form class="fields" onSubmit={submit}>
        <label for="burst-service">Service (NAME.NS)</label>
        <input
          id="burst-service"
          required
          list="known-services"
          pattern="[a-z0-9_\-]+\.[a-z0-9_\-]+"
          value={service}
          onInput={(event) => setService(event.currentTarget.value)}
        />
        <datalist id="known-services">
          {(services.data?.services ?? []).map((entry) => (
            <option key={entry.key} value={entry.key} />
          ))}
        </datalist>
        <label for="burst-share">Cloud share (0.01 to 1)</label>
        <input
          id="burst-share"
          type="number"
          required
          min="0.01"
          max="1"
          step="0.01"
          value={share}
          onInput={(event) => setShare(event.currentTarget.value)}
        />
        <label for="burst-reason">Reason (goes to the audit log)</label>
        <input
          id="burst-reason"
          required
          maxLength={500}
          value={reason}
          onInput={(event) => setReason(event.currentTarget.value)}
        />
        <label for="burst-steps">Steps below it (optional, e.g. 0.1, 0.2)</label>
        <input
          id="burst-steps"
          inputMode="decimal"
          pattern="\s*[0-9.]+(\s*,\s*[0-9.]+)*\s*"
          value={steps}
          onInput={(event) => setSteps(event.currentTarget.value)}
        />
        <div>
          <button type="submit" disabled={busy}>
            Start burst
          </button>
        </div>
      </form>
      {error ? <p role="alert">{error}</p> : null}
    </section>
  );
}

/** `0.1, 0.2` → [0.1, 0.2]; the server checks them (ascending, each a share). */
function parseSteps(text: string): number[] {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map(Number);
}
