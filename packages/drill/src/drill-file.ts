import { readFile } from 'node:fs/promises';
import { DrillFile, type TimelineEntry } from '@spillway/api';
import { ConfigError, parseYamlWith } from '@spillway/config';

export {
  DrillAction,
  DrillExpectations,
  DrillFile,
  DrillMode,
  SIMULATED_ONLY,
  TimelineEntry,
} from '@spillway/api';

/** Parses a drill from YAML (or JSON) text; errors name `file:line:col: field: reason`. */
export function parseDrill(text: string, file: string): DrillFile {
  return parseYamlWith(DrillFile, text, file);
}

export async function loadDrillFile(file: string): Promise<DrillFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(file, [{ path: '', message: `cannot read the file: ${(error as Error).message}` }]);
  }
  return parseDrill(text, file);
}

/** The deadline in seconds after the start, defaults applied. */
export function drillDeadlineSeconds(drill: DrillFile): number {
  return drill.deadlineSeconds ?? drill.durationSeconds + 30;
}

/** The entry's end in seconds after the start (the drill's end when it has no forSeconds). */
export function entryEndSeconds(drill: DrillFile, entry: TimelineEntry): number {
  return Math.min(drill.durationSeconds, entry.atSeconds + (entry.forSeconds ?? Number.POSITIVE_INFINITY));
}
