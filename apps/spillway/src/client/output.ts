/** Where a client command writes: results on stdout, progress on stderr. */
export interface Output {
  readonly json: boolean;
  /** A result for the reader (a table, an id, a summary). */
  out(text: string): void;
  /** Progress and notes for a person; never part of the result. */
  note(text: string): void;
  /** Bold on a colour terminal, the text itself otherwise. */
  bold(text: string): string;
  /** The result as JSON (--json): one document, nothing else on stdout. */
  writeJson(value: unknown): void;
}

export interface OutputStreams {
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
  readonly env: NodeJS.ProcessEnv;
}

/** Colours only on a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function useColour(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv): boolean {
  return stream.isTTY === true && !env.NO_COLOR && env.TERM !== 'dumb';
}

export function createOutput(
  json: boolean,
  streams: OutputStreams = { stdout: process.stdout, stderr: process.stderr, env: process.env },
): Output {
  const colour = useColour(streams.stdout, streams.env);
  return {
    json,
    out: (text) => streams.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    note: (text) => streams.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
    bold: (text) => (colour ? `\u001b[1m${text}\u001b[22m` : text),
    writeJson: (value) => streams.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
  };
}
