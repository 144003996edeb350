import { z } from 'zod';

/**
 * Characters a terminal or a JSON reader must never receive raw from a free-text field:
 * C0 controls (ESC starts terminal escape sequences), DEL, C1 controls (CSI, OSC as single
 * code points), and lone UTF-16 surrogates (no UTF-8 encoding exists, so jq and friends
 * refuse the JSON that carries them).
 */
const UNPRINTABLE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this finds.
  /[\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this finds.
const UNPRINTABLE_BUT_LINES =
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export interface PrintableOptions {
  /** Allow newlines and tabs (a multi-line description); every other control is still refused. */
  readonly multiline?: boolean;
}

/** Where `text` holds a character no free-text field may hold, described; undefined when clean. */
export function findUnprintable(text: string, options: PrintableOptions = {}): string | undefined {
  const match = (options.multiline ? UNPRINTABLE_BUT_LINES : UNPRINTABLE).exec(text);
  if (!match) return undefined;
  const code = match[0].charCodeAt(0);
  const what = code >= 0xd800 && code <= 0xdfff ? 'a lone surrogate' : 'a control character';
  return `${what} U+${code.toString(16).toUpperCase().padStart(4, '0')} at position ${match.index}`;
}

/**
 * A string an API accepts in a free-text field that is stored and shown again (reasons, drill
 * names, labels): no control characters, no lone surrogates. The issue names the character,
 * zod's path names the field.
 */
export function printableText(options: PrintableOptions = {}) {
  return z.string().check((context) => {
    const found = findUnprintable(context.value, options);
    if (found)
      context.issues.push({ code: 'custom', message: `must be printable text: ${found}`, input: context.value });
  });
}

/** The common case: one line of printable text. */
export const PrintableText = printableText();
