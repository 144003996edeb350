import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { ShareChart } from '../components/share-chart.js';
import { clock, percent } from '../format.js';
import { usePoll } from '../hooks.js';
import type { DrillView } from './drills.js';

interface DrillReport {
  outcome: string;
  end: string;
  ranSeconds: number;
  error?: string;
  requests: { total: number; failed: number; errorRatio: number | null; answeredBy: { onprem: number; cloud: number } };
  share: { t: number; requests: number; failed: number; measuredCloudShare: number | null; publishedShare: number }[];
  timeline: { t: number; event: string; entry?: number; detail: string }[];
  expectations: { name: string; expected: number; actual: number | null; status: string; detail: string }[];
}

/** One drill: live progress while it runs, then its report (outcome, expectations, timeline, chart). */
export function DrillDetail(props: { id: string }) {
  const path = `/v1/drills/${encodeURIComponent(props.id)}`;
  const drill = usePoll<DrillView & { report?: DrillReport }>(path, 1000);
  const data = drill.data;
  const report = data?.report;
  return (
    <>
      <p>
        <a href="#/drills">All drills</a>
      </p>
      <h1>Drill {props.id}</h1>
      {drill.error ? <p role="alert">{drill.error}</p> : null}
      {data ? (
        <dl class="summary">
          <dt>Name</dt>
          <dd>{data.name}</dd>
          <dt>Mode</dt>
          <dd>{data.mode}</dd>
          <dt>Service</dt>
          <dd>{data.service}</dd>
          <dt>Started</dt>
          <dd>
            {clock(data.startedAt)} by {data.actor}
          </dd>
        </dl>
      ) : null}
      {data && data.state === 'running' ? <Progress drill={data} path={path} /> : null}
      {report ? <Report report={report} /> : null}
    </>
  );
}

function Progress(props: { drill: DrillView; path: string }) {
  const { progress } = props.drill;
  const [error, setError] = useState<string | undefined>(undefined);
  return (
    <section aria-labelledby="progress-heading">
      <h2 id="progress-heading">Progress</h2>
      <label for="drill-progress">
        {progress.phase}: {progress.elapsedSeconds} of {progress.durationSeconds} s
      </label>
      <progress id="drill-progress" max={progress.durationSeconds} value={progress.elapsedSeconds} />
      <p role="status">
        {progress.requests} requests, {progress.failed} failed; {progress.last}
      </p>
      <button
        type="button"
        class="danger"
        onClick={() =>
          api(`${props.path}/abort`, { method: 'POST' }).catch((failure: Error) => setError(failure.message))
        }
      >
        Abort drill
      </button>
      {error ? <p role="alert">{error}</p> : null}
    </section>
  );
}

function Report(props: { report: DrillReport }) {
  const { report } = props;
  return (
    <section aria-labelledby="report-heading">
      <h2 id="report-heading">Report</h2>
      <p data-testid="drill-outcome" class={`outcome ${report.outcome}`}>
        Outcome: <strong>{report.outcome}</strong> ({report.end}, ran {report.ranSeconds.toFixed(1)} s)
        {report.error ? `: ${report.error}` : ''}
      </p>
      <p>
        {report.requests.total} requests, {report.requests.failed} failed (error ratio{' '}
        {percent(report.requests.errorRatio)}); answered by on-prem {report.requests.answeredBy.onprem}, cloud{' '}
        {report.requests.answeredBy.cloud}
      </p>
      <h3>Expectations</h3>
      <table>
        <thead>
          <tr>
            <th scope="col">Expectation</th>
            <th scope="col">Expected</th>
            <th scope="col">Actual</th>
            <th scope="col">Result</th>
          </tr>
        </thead>
        <tbody>
          {report.expectations.map((expectation) => (
            <tr key={expectation.name}>
              <th scope="row">{expectation.name}</th>
              <td>{expectation.expected}</td>
              <td>{expectation.actual ?? '–'}</td>
              <td title={expectation.detail}>{expectation.status}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Share over time</h3>
      <ShareChart
        title="Cloud share the router published and the share of answers that came from the cloud, per second of the drill"
        relative
        x={report.share.map((bucket) => bucket.t)}
        series={[
          {
            label: 'published share',
            values: report.share.map((b) => b.publishedShare),
            color: '#2463eb',
            stepped: true,
          },
          { label: 'measured share', values: report.share.map((b) => b.measuredCloudShare), color: '#c2410c' },
        ]}
      />
      <h3>Timeline</h3>
      <ol class="phases">
        {report.timeline.map((event, index) => (
          <li key={`${event.t}-${index}`}>
            <strong>{event.t.toFixed(1)} s</strong> {event.event}: {event.detail}
          </li>
        ))}
      </ol>
    </section>
  );
}
