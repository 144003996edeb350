import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { RunList, type RunListColumn } from '../components/run-list.js';
import { clock } from '../format.js';
import { usePoll, useSubmission } from '../hooks.js';

export interface DrillView {
  id: string;
  name: string;
  mode: 'simulated' | 'live';
  service: string;
  state: 'running' | 'done';
  startedAt: string;
  actor: string;
  progress: {
    phase: string;
    elapsedSeconds: number;
    durationSeconds: number;
    requests: number;
    failed: number;
    last: string;
  };
}

interface ShippedDrill {
  file: string;
  yaml: string;
}

const DRILL_COLUMNS: readonly RunListColumn<DrillView>[] = [
  { header: 'Name', cell: (drill) => drill.name },
  { header: 'Mode', cell: (drill) => drill.mode },
  { header: 'Service', cell: (drill) => drill.service },
  {
    header: 'State',
    cell: (drill) => (drill.state === 'running' ? `${drill.progress.phase} ${drill.progress.elapsedSeconds}s` : 'done'),
  },
  { header: 'Started', cell: (drill) => clock(drill.startedAt), title: (drill) => drill.startedAt },
];

/** Run a shipped or pasted drill; the drills this server ran, newest first. */
export function DrillsPage() {
  const drills = usePoll<{ drills: (DrillView & { outcome?: string })[] }>('/v1/drills?limit=50', 1000);
  return (
    <>
      <h1>Drills</h1>
      <RunDrillForm onStarted={(id) => (location.hash = `#/drills/${encodeURIComponent(id)}`)} />
      <RunList
        heading="Drills run here"
        headingId="drill-list"
        empty="No drills yet."
        rows={drills.data?.drills}
        error={drills.error}
        idHeader="Drill"
        href={(drill) => `#/drills/${encodeURIComponent(drill.id)}`}
        columns={DRILL_COLUMNS}
      />
    </>
  );
}

/** The drill file as text: picked from the shipped ones (infra/drills) or pasted; its mode switchable. */
function RunDrillForm(props: { onStarted: (id: string) => void }) {
  const [shipped, setShipped] = useState<ShippedDrill[]>([]);
  const [text, setText] = useState('');
  const [shippedError, setShippedError] = useState<string | undefined>(undefined);
  useEffect(() => {
    api<{ drills: ShippedDrill[] }>('/ui/assets/shipped-drills.json').then(
      (answer) => setShipped(answer.drills),
      (failure: Error) => setShippedError(failure.message),
    );
  }, []);
  const mode = /^mode:\s*(\w+)/m.exec(text)?.[1] ?? 'simulated';
  const setMode = (next: string) =>
    setText((current) =>
      /^mode:/m.test(current) ? current.replace(/^mode:.*$/m, `mode: ${next}`) : `mode: ${next}\n${current}`,
    );
  const submission = useSubmission(async () => {
    setShippedError(undefined);
    const started = await api<{ id: string }>('/v1/drills', { method: 'POST', body: text });
    props.onStarted(started.id);
  });
  const { busy, submit } = submission;
  const error = submission.error ?? shippedError;
  return (
    <section aria-labelledby="run-drill">
      <h2 id="run-drill">Run a drill</h2>
      <form class="fields" onSubmit={submit}>
        <label for="drill-shipped">Shipped drill</label>
        <select
          id="drill-shipped"
          onChange={(event) => {
            const chosen = shipped.find((drill) => drill.file === event.currentTarget.value);
            if (chosen) setText(chosen.yaml);
          }}
        >
          <option value="">(paste your own below)</option>
          {shipped.map((drill) => (
            <option key={drill.file} value={drill.file}>
              {drill.file}
            </option>
          ))}
        </select>
        <label for="drill-yaml">Drill file (YAML)</label>
        <textarea
          id="drill-yaml"
          required
          rows={14}
          spellcheck={false}
          value={text}
          onInput={(event) => setText(event.currentTarget.value)}
        />
        <fieldset>
          <legend>Mode</legend>
          {['simulated', 'live'].map((option) => (
            <label key={option} class="inline">
              <input
                type="radio"
                name="drill-mode"
                value={option}
                checked={mode === option}
                onChange={() => setMode(option)}
              />
              {option}
            </label>
          ))}
        </fieldset>
        <div>
          <button type="submit" disabled={busy || !text.trim()}>
            Run drill
          </button>
        </div>
      </form>
      {error ? <p role="alert">{error}</p> : null}
    </section>
  );
}
