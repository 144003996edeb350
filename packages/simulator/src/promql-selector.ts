/**
 * The one PromQL form the simulator answers: an instant vector selector,
 * `metric_name{label="value", other=~"re.*"}`, with the four matchers. Anything else (functions,
 * operators, range vectors) is not parsed: the server answers it with bad_data, so a policy
 * written for the simulator fails loudly rather than reading nonsense.
 */

export type MatchOp = '=' | '!=' | '=~' | '!~';

export interface LabelMatcher {
  readonly name: string;
  readonly op: MatchOp;
  readonly value: string;
}

export interface Selector {
  readonly metric: string;
  readonly matchers: readonly LabelMatcher[];
}

const METRIC = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const OPERATOR = /^(=~|!~|!=|=)/;

export class SelectorSyntaxError extends Error {
  override readonly name = 'SelectorSyntaxError';
}

/** Parses a selector; throws SelectorSyntaxError with the position of the first problem. */
export function parseSelector(query: string): Selector {
  const cursor = new Cursor(query.trim());
  const metric = cursor.take(METRIC, 'a metric name');
  const matchers: LabelMatcher[] = [];
  if (cursor.eat('{')) {
    while (!cursor.eat('}')) {
      const name = cursor.take(LABEL, 'a label name');
      const op = cursor.take(OPERATOR, 'a label matcher (=, !=, =~, !~)') as MatchOp;
      const value = cursor.quoted();
      if (op === '=~' || op === '!~') checkRegex(value);
      matchers.push({ name, op, value });
      if (!cursor.eat(',') && !cursor.peek('}')) cursor.fail('"," or "}"');
    }
  }
  if (!cursor.done()) cursor.fail('the end of the query (the simulator answers plain selectors only)');
  return { metric, matchers };
}

/** Prometheus rejects a bad regex when it parses the query, not when it matches. */
function checkRegex(pattern: string): void {
  try {
    new RegExp(`^(?:${pattern})$`);
  } catch (error) {
    throw new SelectorSyntaxError(`error parsing regexp: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Does a series with these labels (including `__name__`) match every matcher? Absent labels are "". */
export function matches(matchers: readonly LabelMatcher[], labels: Readonly<Record<string, string>>): boolean {
  return matchers.every((matcher) => matchOne(matcher, labels[matcher.name] ?? ''));
}

function matchOne(matcher: LabelMatcher, value: string): boolean {
  switch (matcher.op) {
    case '=':
      return value === matcher.value;
    case '!=':
      return value !== matcher.value;
    case '=~':
      return new RegExp(`^(?:${matcher.value})$`).test(value);
    case '!~':
      return !new RegExp(`^(?:${matcher.value})$`).test(value);
  }
}

class Cursor {
  private at = 0;

  constructor(private readonly text: string) {}

  done(): boolean {
    this.skipSpace();
    return this.at >= this.text.length;
  }

  peek(literal: string): boolean {
    this.skipSpace();
    return this.text.startsWith(literal, this.at);
  }

  eat(literal: string): boolean {
    if (!this.peek(literal)) return false;
    this.at += literal.length;
    return true;
  }

  take(pattern: RegExp, what: string): string {
    this.skipSpace();
    const found = pattern.exec(this.text.slice(this.at));
    if (!found) this.fail(what);
    this.at += found[0].length;
    return found[0];
  }

  /** A double- or single-quoted string with PromQL's backslash escapes. */
  quoted(): string {
    this.skipSpace();
    const quote = this.text[this.at];
    if (quote !== '"' && quote !== "'") this.fail('a quoted label value');
    let value = '';
    for (let i = this.at + 1; i < this.text.length; i++) {
      const char = this.text[i];
      if (char === quote) {
        this.at = i + 1;
        return value;
      }
      if (char === '\\') {
        i++;
        const escaped = this.text[i] ?? '';
        value += escaped === 'n' ? '\n' : escaped === 't' ? '\t' : escaped;
      } else {
        value += char;
      }
    }
    return this.fail('a closing quote');
  }

  fail(expected: string): never {
    throw new SelectorSyntaxError(`parse error at char ${this.at + 1}: expected ${expected}`);
  }

  private skipSpace(): void {
    while (this.at < this.text.length && /\s/.test(this.text[this.at] ?? '')) this.at++;
  }
}
