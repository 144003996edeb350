import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { DrillRun } from '@spillway/api';
import { ConfigError } from '@spillway/config';
import { type DrillFile, type DrillProgress, type DrillReport, formatDrillReport, parseDrill } from '@spillway/drill';
import { z } from 'zod';
import { CliError } from '../load-config.js';
import type { ApiClient } from './api-client.js';
import { type ClientOptions, clientContext } from './connection.js';
import type { Output } from './output.js';

export interface DrillRunOptions extends ClientOptions {
  /** Run on this machine on a fresh simulated fleet even if an API is configured. */
  readonly local?: boolean;
}

/** Exit code of a drill that ran but did not pass (failed expectations, aborted, rolled back). */
export const DRILL_FAILED_EXIT_CODE = 1;

/**
 * `spillway drill run FILE`: a simulated drill runs here, on a fresh simulated fleet with the
 * three services in this process; a live one (or any drill with --api / $SPILLWAY_API) runs on
 * that server. Progress goes to stderr, the report to stdout; exit 0 only when it passed.
 */
export async function drillRun(file: string, options: DrillRunOptions): Promise<void> {
  const text = await readDrillText(file);
  const drill = parseLocally(text, file);
  const remote = !options.local && (options.api !== undefined || process.env.SPILLWAY_API || drill.mode === 'live');
  const { output } = clientContext(options);
  const report = remote ? await runRemotely(text, drill, options) : await runHere(drill, output);
  if (output.json) output.writeJson(report);
  else output.out(formatDrillReport(report));
  // The answer is out: end here rather than wait on anything grpc-js-xds may still hold (see
  // probes/xds-release.ts). Writes to a pipe or a file are synchronous on Linux, nothing is lost.
  process.exit(report.outcome === 'passed' ? 0 : DRILL_FAILED_EXIT_CODE);
}

async function runHere(drill: DrillFile, output: Output): Promise<DrillReport> {
  output.note(`drill "${drill.name}": starting the simulated fleet and the three services in this process`);
  const { runDrillLocally } = await import('../commands/drill-local.js');
  return runDrillLocally(drill, { onProgress: progressPrinter(output) });
}

async function runRemotely(text: string, drill: DrillFile, options: DrillRunOptions): Promise<DrillReport> {
  const { api, output } = clientContext(options);
  const started = await api.postText('/v1/drills', text, 'application/yaml', DrillRun);
  output.note(`drill "${drill.name}" (${drill.mode}) started on ${api.baseUrl} as ${started.id}`);
  const print = progressPrinter(output);
  // Ctrl-C aborts the drill on the server (it rolls back at once), then prints its report.
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    output.note(`aborting ${started.id}…`);
    api.post(`/v1/drills/${started.id}/abort`, {}, z.unknown()).catch(() => undefined);
  };
  process.on('SIGINT', onSignal);
  try {
    return await followDrill(api, started.id, print, drill.durationSeconds);
  } finally {
    process.off('SIGINT', onSignal);
  }
}

async function followDrill(
  api: ApiClient,
  id: string,
  print: (progress: DrillProgress) => void,
  durationSeconds: number,
): Promise<DrillReport> {
  // Generous: probes may take 30 s to start and a rollback some seconds; the server's deadline rules.
  const deadline = Date.now() + (durationSeconds + 120) * 1000;
  for (;;) {
    const view = await api.get(`/v1/drills/${id}`, DrillRun);
    print(view.progress);
    if (view.state === 'done') {
      if (!view.report) throw new CliError(`drill ${id} ended without a report (see the server's log)`);
      return view.report;
    }
    if (Date.now() > deadline) throw new CliError(`drill ${id} still running after its deadline; abort it`, 3);
    await sleep(500);
  }
}

/** Prints a progress line when something happened, and otherwise every 5 s. */
export function progressPrinter(output: Output): (progress: DrillProgress) => void {
  let last = '';
  let lastAt = -Infinity;
  return (progress) => {
    if (progress.last === last && progress.elapsedSeconds - lastAt < 5) return;
    last = progress.last;
    lastAt = progress.elapsedSeconds;
    output.note(
      `[${progress.elapsedSeconds.toFixed(1).padStart(5)}s/${progress.durationSeconds}s] ${progress.phase}: ${progress.last}` +
        `  (${progress.requests} requests, ${progress.failed} failed)`,
    );
  };
}

/** Parses here first, so errors name this file's lines. */
function parseLocally(text: string, file: string): DrillFile {
  try {
    return parseDrill(text, file);
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(`invalid drill\n${error.message}`, 2);
    throw error;
  }
}

async function readDrillText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`, 2);
  }
}
