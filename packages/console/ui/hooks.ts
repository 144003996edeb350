import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from './api.js';

export interface Polled<T> {
  readonly data: T | undefined;
  readonly error: string | undefined;
  /** Reads again now (after a mutation). */
  refresh(): void;
}

/** GET `path` now and every `intervalMs` while mounted; the last good answer stays on an error. */
export function usePoll<T>(path: string | null, intervalMs: number): Polled<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [tick, setTick] = useState(0);
  const pathRef = useRef(path);
  pathRef.current = path;
  useEffect(() => {
    if (!path) return undefined;
    const abort = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const read = async () => {
      try {
        const answer = await api<T>(path, { signal: abort.signal });
        if (pathRef.current === path) {
          setData(answer);
          setError(undefined);
        }
      } catch (failure) {
        if (abort.signal.aborted) return;
        setError((failure as Error).message);
      }
      if (!abort.signal.aborted && intervalMs > 0) timer = setTimeout(read, intervalMs);
    };
    void read();
    return () => {
      abort.abort();
      clearTimeout(timer);
    };
  }, [path, intervalMs, tick]);
  return { data, error, refresh: () => setTick((n) => n + 1) };
}

/** The part of location.hash after `#/`, split on `/` (the console's only routing). */
export function useRoute(): string[] {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const update = () => setHash(location.hash);
    addEventListener('hashchange', update);
    return () => removeEventListener('hashchange', update);
  }, []);
  return hash
    .replace(/^#\/?/, '')
    .split('/')
    .filter(Boolean)
    .map((part) => decodeURIComponent(part));
}

export interface Submission {
  readonly busy: boolean;
  readonly error: string | undefined;
  /** The form's onSubmit: runs the action, busy meanwhile; its failure's message becomes `error`. */
  submit(event: Event): Promise<void>;
}

/** A form that sends one request on submit and says why it failed. */
export function useSubmission(action: () => Promise<void>): Submission {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await action();
    } catch (failure) {
      setError((failure as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, submit };
}
