import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { escapeUnprintable, findUnprintable, PrintableText, printableText } from '../src/index.js';

describe('printable text', () => {
  it('refuses terminal escapes, other controls and lone surrogates, naming the field and the character', () => {
    const Body = z.object({ reason: PrintableText });
    for (const [reason, found] of [
      ['ok \u001b]0;owned\u0007', 'a control character U+001B at position 3'],
      ['two\nlines', 'a control character U+000A at position 3'],
      ['c1 \u009b2J', 'a control character U+009B at position 3'],
      ['del\u007f', 'a control character U+007F at position 3'],
      ['half \ud83d', 'a lone surrogate U+D83D at position 5'],
      ['\ude00 low', 'a lone surrogate U+DE00 at position 0'],
    ]) {
      const result = Body.safeParse({ reason });
      expect(result.success).toBe(false);
      expect(result.error?.issues[0]).toMatchObject({ path: ['reason'], message: `must be printable text: ${found}` });
    }
  });

  it('accepts any printable Unicode, including pairs of surrogates (emoji)', () => {
    for (const text of ['game day: checkout surge', 'Umleitung für Köln', '負荷試験 🚀', '']) {
      expect(findUnprintable(text)).toBeUndefined();
      expect(PrintableText.parse(text)).toBe(text);
    }
  });

  it('multi-line text allows newlines and tabs, nothing else', () => {
    const Description = printableText({ multiline: true });
    expect(Description.parse('first line\n\tsecond\n')).toBe('first line\n\tsecond\n');
    expect(Description.safeParse('line\r\n').success).toBe(false);
    expect(Description.safeParse('bell\u0007').success).toBe(false);
  });
});

describe('escapeUnprintable', () => {
  it('writes each unprintable character as an escape and leaves the rest alone', () => {
    expect(escapeUnprintable('a\u001b[2Jb\u009b \ud83d \ud83d\ude80')).toBe('a\\x1b[2Jb\\x9b \\ud83d \ud83d\ude80');
    expect(escapeUnprintable('one\ntwo\r')).toBe('one\\x0atwo\\x0d');
    expect(escapeUnprintable('one\n\ttwo\r', { multiline: true })).toBe('one\n\ttwo\\x0d');
  });
});
