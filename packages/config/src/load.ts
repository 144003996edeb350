import { readFile } from 'node:fs/promises';
import { type Document, isNode, LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError, type ConfigProblem, formatPath } from './errors.js';
import { SpillwayConfig } from './schema.js';

/** Reads, parses and validates a config file. Throws ConfigError naming file, field and line. */
export async function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): Promise<SpillwayConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(file, [{ path: '', message: `cannot read the file: ${(error as Error).message}` }]);
  }
  return parseConfig(text, file, env);
}

/** Parses YAML text as a Spillway config; `file` is only used in error messages. */
export function parseConfig(text: string, file: string, env: NodeJS.ProcessEnv = process.env): SpillwayConfig {
  return applyEnvOverrides(parseYamlWith(SpillwayConfig, text, file), env);
}

/**
 * Parses YAML text and validates it with `schema` (configs, drill files). Throws ConfigError
 * with every problem located at `file:line:col: field.path`.
 */
export function parseYamlWith<Schema extends z.ZodType>(schema: Schema, text: string, file: string): z.output<Schema> {
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new ConfigError(
      file,
      document.errors.map((error) => {
        const at = lines.linePos(error.pos[0]);
        return { path: '', message: `invalid YAML: ${firstLine(error.message)}`, line: at.line, column: at.col };
      }),
    );
  }
  const raw: unknown = document.toJS() ?? {};
  const result = schema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(
      file,
      result.error.issues.map((issue) => locate(issue, document, lines)),
    );
  }
  return result.data;
}

/** Validates an already-built object (the embedded default, tests). */
export function buildConfig(raw: unknown, source = '<built-in>'): SpillwayConfig {
  const result = SpillwayConfig.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(
      source,
      result.error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message })),
    );
  }
  return result.data;
}

/**
 * Deployment-specific values that should not be edited into a shared file.
 * SPILLWAY_REDIS_URL, SPILLWAY_HTTP_LISTEN and SPILLWAY_XDS_LISTEN win over the file.
 */
export function applyEnvOverrides(config: SpillwayConfig, env: NodeJS.ProcessEnv): SpillwayConfig {
  const redis = env.SPILLWAY_REDIS_URL || config.redis;
  return {
    ...config,
    ...(redis ? { redis } : {}),
    listen: {
      http: env.SPILLWAY_HTTP_LISTEN || config.listen.http,
      xds: env.SPILLWAY_XDS_LISTEN || config.listen.xds,
    },
  };
}

function locate(issue: z.core.$ZodIssue, document: Document, lines: LineCounter): ConfigProblem {
  const path = formatPath(issue.path);
  const message = describe(issue);
  // Point at the deepest node that exists: a missing field is reported at its parent.
  for (let depth = issue.path.length; depth >= 0; depth--) {
    const node = document.getIn(issue.path.slice(0, depth) as (string | number)[], true);
    if (isNode(node) && node.range) {
      const at = lines.linePos(node.range[0]);
      return { path, message, line: at.line, column: at.col };
    }
  }
  return { path, message };
}

function describe(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys')
    return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  if (issue.code === 'invalid_union')
    return issue.message.replace(/^Invalid discriminator value\. Expected/, 'expected one of');
  return issue.message;
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}
