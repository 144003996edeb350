/**
 * A listing's position, handed to clients as an opaque `cursor` string: base64url of a small
 * JSON array. Opaque so the stores may change what is inside; validated on the way back in,
 * because a cursor is client input like any other.
 */
export class InvalidCursorError extends Error {
  override readonly name = 'InvalidCursorError';

  constructor(detail: string) {
    super(`invalid cursor: ${detail}`);
  }
}

/** Longer cursors are refused before decoding: no store ever makes one this long. */
const MAX_CURSOR_LENGTH = 512;

export function encodeCursor(parts: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(parts), 'utf8').toString('base64url');
}

/** The parts of a cursor made by encodeCursor, checked against `kinds` (one `typeof` per part). */
export function decodeCursor(text: string, kinds: readonly ('string' | 'number')[]): (string | number)[] {
  if (text.length === 0 || text.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(text)) {
    throw new InvalidCursorError('not a cursor from this API');
  }
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError('not a cursor from this API');
  }
  const valid =
    Array.isArray(parts) &&
    parts.length === kinds.length &&
    parts.every(
      (part, index) => typeof part === kinds[index] && (typeof part !== 'number' || Number.isSafeInteger(part)),
    );
  if (!valid) throw new InvalidCursorError('not a cursor for this listing');
  return parts as (string | number)[];
}
