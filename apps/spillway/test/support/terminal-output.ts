import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { contentOf, HEARTBEAT_MS } from '../../src/status-printer.js';

export interface TimedLine {
  readonly atMs: number;
  readonly line: string;
}

/** Every complete line `stream` writes, with the wall time it arrived. */
export function recordLines(stream: Readable): TimedLine[] {
  const lines: TimedLine[] = [];
  let partial = '';
  stream.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) lines.push({ atMs: performance.now(), line });
  });
  return lines;
}

const README = fileURLToPath(new URL('../../../../README.md', import.meta.url));
const HEADLINE = 'Spillway (embedded): the simulated fleet';
/** `[sim 00:04:20] checkout.shop   600 rps  p99 2.00s  errors 10.1%  cloud share 0.10  cloud endpoints 3  burst shifting` */
export const STATUS_LINE =
  /^\[sim \d\d:\d\d:\d\d\] \S+ +\d+ rps {2}p99 \d+\.\d\ds {2}errors +\d+\.\d% {2}cloud share \d\.\d\d {2}cloud endpoints \d+ {2}burst [a-z-]+$/;

/** The lines of README.md's sample of what `npm start` prints. */
export function readmeStartSample(): string[] {
  const blocks = readFileSync(README, 'utf8').split('```');
  const sample = blocks.find((block) => block.includes(HEADLINE));
  if (!sample) throw new Error(`README.md has no code block with '${HEADLINE}'`);
  return sample.split('\n').filter((line) => line.trim() !== '' && line.trim() !== '…');
}

/** A line with its addresses, paths, token and numbers made generic: what its format is. */
function shapeOf(line: string): string {
  return line
    .replace(/https?:\/\/[^\s/]+/g, 'URL')
    .replace(/\b(?:\d{1,3}\.){3}\d{1,3}:\d+/g, 'ADDR')
    .replace(/(?:~|\/)\S*\/current\.log/g, 'LOGFILE')
    .replace(/auth {5}.*/, 'auth')
    .replace(/\d+(?:\.\d+)?/g, 'N')
    .replace(/ +/g, ' ');
}

/**
 * What a person sees in the terminal of `spillway up`: the banner, then status lines, no JSON,
 * a line printed again with nothing changed only as a heartbeat (after HEARTBEAT_MS of quiet),
 * and the README's sample in the same format.
 */
export function expectQuietTerminal(stdout: readonly TimedLine[]): void {
  const json = stdout.filter(({ line }) => line.trimStart().startsWith('{'));
  expect(json, 'JSON lines on stdout').toEqual([]);

  const status = stdout.filter(({ line }) => line.startsWith('[sim '));
  expect(status.length).toBeGreaterThan(0);
  for (const { line } of status) expect(line).toMatch(STATUS_LINE);
  const last = new Map<string, TimedLine>();
  for (const entry of status) {
    const subject = contentOf(entry.line).split(' ', 1)[0]!;
    const previous = last.get(subject);
    // An unchanged line comes only as the heartbeat; the margin is for pipe delays, not timing.
    if (previous && contentOf(previous.line) === contentOf(entry.line)) {
      expect(entry.atMs - previous.atMs, `'${entry.line}' repeated unchanged`).toBeGreaterThan(HEARTBEAT_MS / 2);
    }
    last.set(subject, entry);
  }

  const sample = readmeStartSample();
  const banner = stdout.slice(
    0,
    stdout.findIndex(({ line }) => line.startsWith('[sim ')),
  );
  expect(sample.filter((line) => !line.startsWith('[sim ')).map(shapeOf)).toEqual(
    banner.map(({ line }) => shapeOf(line)),
  );
  const printedShapes = new Set(status.map(({ line }) => shapeOf(line)));
  for (const line of sample.filter((l) => l.startsWith('[sim '))) {
    expect(line).toMatch(STATUS_LINE);
    expect(printedShapes, `README line '${line}' has no printed counterpart`).toContain(shapeOf(line));
  }
}
