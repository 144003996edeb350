import { readFile } from 'node:fs/promises';
import { type Document, isCollection, isNode, Lexer, LineCounter, parseDocument, visit } from 'yaml';
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
 * What a YAML text may cost: files and request bodies can come from outsiders, and the parser
 * recurses on nesting and expands aliases. Past a limit the text is refused, located.
 */
export interface YamlLimits {
  /** Bytes of UTF-8 text read at most. */
  readonly maxBytes: number;
  /** Collections (flow or block) nested in each other at most. */
  readonly maxDepth: number;
  /** The `yaml` library's guard against alias bombs ("billion laughs"). */
  readonly maxAliasCount: number;
}

export const DEFAULT_YAML_LIMITS: YamlLimits = { maxBytes: 1024 * 1024, maxDepth: 64, maxAliasCount: 100 };

/**
 * Parses YAML text and validates it with `schema` (configs, drill files). Throws ConfigError
 * with every problem located at `file:line:col: field.path`, also when the text is past `limits`.
 */
export function parseYamlWith<Schema extends z.ZodType>(
  schema: Schema,
  text: string,
  file: string,
  limits: Partial<YamlLimits> = {},
): z.output<Schema> {
  const { maxBytes, maxDepth, maxAliasCount } = { ...DEFAULT_YAML_LIMITS, ...limits };
  const lines = new LineCounter();
  const refuse = (offset: number, message: string): never => {
    const at = positionOf(text, offset);
    throw new ConfigError(file, [{ path: '', message, line: at.line, column: at.col }]);
  };
  const overSize = offsetPastBytes(text, maxBytes);
  if (overSize !== undefined) refuse(overSize, `YAML larger than ${maxBytes} bytes`);
  // Before parsing: the parser recurses once per flow level, and deep flow text stalls it.
  const tooDeep = offsetPastFlowDepth(text, maxDepth);
  if (tooDeep !== undefined) refuse(tooDeep, `YAML nested deeper than ${maxDepth} levels`);
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
  const deepNode = offsetPastBlockDepth(document, maxDepth);
  if (deepNode !== undefined) refuse(deepNode, `YAML nested deeper than ${maxDepth} levels`);
  let raw: unknown;
  try {
    raw = document.toJS({ maxAliasCount }) ?? {};
  } catch (error) {
    if (!(error instanceof ReferenceError)) throw error;
    refuse(firstAliasOffset(document), `too many alias expansions (more than ${maxAliasCount}): ${error.message}`);
  }
  const result = schema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(
      file,
      result.error.issues.map((issue) => locate(issue, document, lines)),
    );
  }
  return result.data;
}

/** The offset of the first character past `maxBytes` bytes of UTF-8, if the text is longer. */
function offsetPastBytes(text: string, maxBytes: number): number | undefined {
  // A character is at most 3 UTF-8 bytes per UTF-16 unit: short texts need no counting.
  if (text.length * 3 <= maxBytes || Buffer.byteLength(text, 'utf8') <= maxBytes) return undefined;
  return Buffer.from(text, 'utf8').subarray(0, maxBytes).toString('utf8').length;
}

/** Tokens the lexer emits that are not in the text: document start, scalar, flow end. */
const LEXER_MARKERS = new Set(['\u0002', '\u0018', '\u001f']);

/** The offset of the first `[` or `{` that opens a flow collection deeper than `maxDepth`. */
function offsetPastFlowDepth(text: string, maxDepth: number): number | undefined {
  // The lexer is iterative and knows quotes, comments and plain scalars: `x[5m]` is no nesting.
  let offset = 0;
  let depth = 0;
  for (const token of new Lexer().lex(text)) {
    if (LEXER_MARKERS.has(token)) continue;
    if (token === '[' || token === '{') {
      depth++;
      if (depth > maxDepth) return offset;
    } else if (token === ']' || token === '}') depth = Math.max(0, depth - 1);
    offset += token.length;
  }
  return undefined;
}

/** The offset of the first collection (block or flow) nested deeper than `maxDepth`. */
function offsetPastBlockDepth(document: Document, maxDepth: number): number | undefined {
  let found: number | undefined;
  visit(document, {
    Collection(_key, node, path) {
      const depth = path.filter((ancestor) => isCollection(ancestor)).length + 1;
      if (depth <= maxDepth) return undefined;
      found = node.range?.[0] ?? 0;
      return visit.BREAK;
    },
  });
  return found;
}

function firstAliasOffset(document: Document): number {
  let found = 0;
  visit(document, {
    Alias(_key, node) {
      found = node.range?.[0] ?? 0;
      return visit.BREAK;
    },
  });
  return found;
}

/** Line and column (1-based) of `offset` in `text`, counted without parsing it. */
function positionOf(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, col: offset - before.lastIndexOf('\n') };
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
