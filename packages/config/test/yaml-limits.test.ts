import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, parseConfig, parseYamlWith } from '../src/index.js';

/** The classic "billion laughs": nine levels of nine aliases, 9^9 strings once expanded. */
export function billionLaughs(): string {
  const lines = ['lol0: &lol0 "lol"'];
  for (let level = 1; level <= 9; level++) {
    lines.push(
      `lol${level}: &lol${level} [${Array(9)
        .fill(`*lol${level - 1}`)
        .join(', ')}]`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function problems(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split('\n');
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('YAML limits: hostile files are a located ConfigError, not a crash or a stalled loop', () => {
  it('an alias bomb is refused at the first alias, with file:line:col', () => {
    expect(problems(() => parseConfig(billionLaughs(), 'bomb.yaml'))).toEqual([
      expect.stringMatching(/^bomb\.yaml:2:14: too many alias expansions \(more than 100\)/),
    ]);
  });

  it('flow collections nested deeper than the limit are refused before parsing, at the bracket that crosses it', () => {
    const deep = `x: ${'['.repeat(120_000)}${']'.repeat(120_000)}\n`;
    expect(problems(() => parseConfig(deep, 'deep.yaml'))).toEqual([
      'deep.yaml:1:68: YAML nested deeper than 64 levels',
    ]);
    const maps = `x: ${'{a: '.repeat(40_000)}1${'}'.repeat(40_000)}\n`;
    expect(problems(() => parseConfig(maps, 'maps.yaml'))[0]).toMatch(
      /^maps\.yaml:1:\d+: YAML nested deeper than 64 levels$/,
    );
  });

  it('block collections nested deeper than the limit are refused too', () => {
    const deep = Array.from({ length: 100 }, (_, level) => `${' '.repeat(level)}a:`).join('\n');
    expect(problems(() => parseConfig(deep, 'block.yaml'))).toEqual([
      expect.stringMatching(/^block\.yaml:65:\d+: YAML nested deeper than 64 levels$/),
    ]);
  });

  it('text over the size limit is refused without parsing, at the line where it crosses the limit', () => {
    const line = `# ${'x'.repeat(1021)}\n`;
    const big = line.repeat(2048);
    expect(problems(() => parseYamlWith(z.unknown(), big, 'big.yaml', { maxBytes: 1024 * 1024 }))).toEqual([
      'big.yaml:1025:1: YAML larger than 1048576 bytes',
    ]);
  });

  it('ordinary brackets in plain and quoted scalars are not nesting', () => {
    const text = `a: sum(rate(x[5m])) by (le)\nb: "${'['.repeat(100)}"\nc: '${'{'.repeat(100)}'\n# ${'['.repeat(100)}\n`;
    expect(parseYamlWith(z.record(z.string(), z.string()), text, 'ok.yaml')).toMatchObject({
      a: 'sum(rate(x[5m])) by (le)',
    });
  });
});
