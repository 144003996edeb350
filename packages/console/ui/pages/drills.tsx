import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { clock } from '../format.js';
import { usePoll } from '../hooks.js';

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

/** Run a shipped or pasted drill; the drills this server ran, newest first. */
export function DrillsPage() {
  const drills = usePoll<{ drills: (DrillView & { outcome?: string })[] }>('/v1/drills?limit=50', 1000);
  return (
    <>
      <h1>Drills</h1>
      <RunDrillForm onStarted={(id) => (location.hash = `#/drills/${encodeURIComponent(id)}`)} />
      <section aria-labelledby="drill-list">
        <h2 id="drill-list">Drills run here</h2>
        {drills.error ? <p role="alert">{drills.error}</p> : null}
        {drills.data && drills.data.drills.length === 0 ? <p>No drills yet.</p> : null}
        {drills.data && drills.data.drills.length > 0 ? (
          <table>
            <thead>
              <tr>
                <th scope="col">Drill</th>
                <th scope="col">Name</th>
                <th scope="col">Mode</th>
                <th scope="col">Service</th>
                <th scope="col">State</th>
                <th scope="col">Started</th>
              </tr>
            </thead>
            <tbody>
              {drills.data.drills.map((drill) => (
                <tr key={drill.id}>
                  <th scope="row">
                    <a href={`#/drills/${encodeURIComponent(drill.id)}`}>{drill.id}</a>
                  </th>
                  <td>{drill.name}</td>
                  <td>{drill.mode}</td>
                  <td>{drill.service}</td>
                  <td>
                    {drill.state === 'running' ? `${drill.progress.phase} ${drill.progress.elapsedSeconds}s` : 'done'}
                  </td>
                  <td title={drill.startedAt}>{clock(drill.startedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </section>
    </>
  );
}

/** The drill file as text: picked from the shipped ones (infra/drills) or pasted; its mode switchable. */
function RunDrillForm(props: { onStarted: (id: string) => void }) {
  const [shipped, setShipped] = useState<ShippedDrill[]>([]);
  const [text, setText] = useState('');
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    api<{ drills: ShippedDrill[] }>('/ui/assets/shipped-drills.json').then(
      (answer) => setShipped(answer.drills),
      (failure: Error) => setError(failure.message),
    );
  }, []);
  const mode = /^mode:\s*(\w+)/m.exec(text)?.[1] ?? 'simulated';
  const setMode = (next: string) =>
    setText((current) =>
      /^mode:/m.test(current) ? current.replace(/^mode:.*$/m, `mode: ${next}`) : `mode: ${next}\n${current}`,
    );
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const started = await api<{ id: string }>('/v1/drills', { method: 'POST', body: text });
      props.onStarted(started.id);
    } catch (failure) {
      setError((failure as Error).message);
    } finally {
      setBusy(false);
    }
  };
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
