import {
  applyEnvOverrides,
  ConfigError,
  embeddedDefaultConfig,
  loadConfigFile,
  type SpillwayConfig,
} from '@spillway/config';

/**
 * The config file's content, or the embedded default when no file is given; the environment
 * overrides (SPILLWAY_REDIS_URL, SPILLWAY_HTTP_LISTEN, SPILLWAY_XDS_LISTEN) apply to both.
 */
export async function loadConfigOrDefault(file: string | undefined): Promise<SpillwayConfig> {
  return file ? loadConfigFile(file) : applyEnvOverrides(embeddedDefaultConfig(), process.env);
}

/** A CLI failure: one line (or one line per config problem) and an exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export function describeFailure(error: unknown): { message: string; exitCode: number } {
  if (error instanceof ConfigError) return { message: `invalid config\n${error.message}`, exitCode: 2 };
  if (error instanceof CliError) return { message: error.message, exitCode: error.exitCode };
  return { message: error instanceof Error ? error.message : String(error), exitCode: 1 };
}
