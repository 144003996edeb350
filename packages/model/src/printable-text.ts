import { z } from 'zod';

/**
 * Characters a terminal or a JSON reader must never receive raw from a free-text field:
 * C0 controls (ESC starts terminal escape sequences), DEL, C1 controls (CSI, OSC as single
 * code points), and lone UTF-16 surrogates (no UTF-8 encoding exists, so jq and friends
 * refuse the JSON that carries them).
 */
const LONE_SURROGATE = '[\\ud800-\\udbff](?![\\udc00-\\udfff])|(?<![\\ud800-\\udbff])[\\udc00-\\udfff]';
const UNPRINTABLE = new RegExp(`[\\u0000-\\u001f\\u007f-\\u009f]|${LONE_SURROGATE}`, 'g');
/** As UNPRINTABLE, newline and tab excepted. */
const UNPRINTABLE_BUT_LINES = new RegExp(`[\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f]|${LONE_SURROGATE}`, 'g');

export interface PrintableOptions {
  /** Allow newlines and tabs (multi-line text); every other control is still unprintable. */
  readonly multiline?: boolean;
}

function pattern(options: PrintableOptions): RegExp {
  const found = options.multiline ? UNPRINTABLE_BUT_LINES : UNPRINTABLE;
  found.lastIndex = 0;
  return found;
}

/** Where `text` holds a character no free-text field may hold, described; undefined when clean. */
export function findUnprintable(text: string, options: PrintableOptions = {}): string | undefined {
  const match = pattern(options).exec(text);
  if (!match) return undefined;
  const code = match[0].charCodeAt(0);
  const what = code >= 0xd800 && code <= 0xdfff ? 'a lone surrogate' : 'a control character';
  return `${what} U+${code.toString(16).toUpperCase().padStart(4, '0')} at position ${match.index}`;
}

/**
 * `text` with every unprintable character written as an escape a developer would type: `\x1b`
 * for ESC, `\ud83d` for a lone surrogate. For showing text that may predate the checks.
 */
export function escapeUnprintable(text: string, options: PrintableOptions = {}): string {
  return text.replace(pattern(options), (character) => {
    const code = character.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16)}`;
  });
}

/**
 * A string an API accepts in a free-text field that is stored and shown again (reasons, drill
 * names, labels): no control characters, no lone surrogates. The issue names the character,
 * zod's path names the field.
 */
export function printableText(options: PrintableOptions = {}) {
  return z.string().check((context) => {
    const found = findUnprintable(context.value, options);
    if (found) {
      context.issues.push({ code: 'custom', message: `must be printable text: ${found}`, input: context.value });
    }
  });
}

/** The common case: one line of printable text. */
export const PrintableText = printableText();
