import type { z } from 'zod';
import { CorruptStateError } from './errors.js';

/**
 * Parses one stored JSON text and validates it against `schema`; a bad entry becomes a
 * CorruptStateError naming where it lives, never a bare SyntaxError from deep inside a loop.
 */
export function parseStored<S>(schema: z.ZodType<S>, raw: string, key: string, field: string): S {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    throw new CorruptStateError(key, field, `not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new CorruptStateError(key, field, issues.join('; '));
  }
  return result.data;
}

/** Serialises a value for storage; refuses what JSON cannot carry faithfully. */
export function toStored(value: unknown, what: string): string {
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError(`${what} is not JSON-serialisable`);
  return text;
}
