import { escapeUnprintable } from '@spillway/model';

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

const line = (text: string) => (text.endsWith('\n') ? text : `${text}\n`);

/** Colours only on a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function useColour(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv): boolean {
  return stream.isTTY === true && !env.NO_COLOR && env.TERM !== 'dumb';
}

const BOLD_ON = '\u001b[1m';
const BOLD_OFF = '\u001b[22m';

/**
 * What `out` and `note` print: lines of text with every control character escaped (values from
 * the server end up in them), except the bold sequences `bold` itself made.
 */
function printable(text: string): string {
  return text
    .split(BOLD_ON)
    .map((part) =>
      part
        .split(BOLD_OFF)
        .map((text) => escapeUnprintable(text, { multiline: true }))
        .join(BOLD_OFF),
    )
    .join(BOLD_ON);
}

export function createOutput(
  json: boolean,
  streams: OutputStreams = { stdout: process.stdout, stderr: process.stderr, env: process.env },
): Output {
  const colour = useColour(streams.stdout, streams.env);
  return {
    json,
    out: (text) => streams.stdout.write(line(printable(text))),
    note: (text) => streams.stderr.write(line(printable(text))),
    bold: (text) => (colour ? `${BOLD_ON}${text}${BOLD_OFF}` : text),
    writeJson: (value) => streams.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
  };
}
