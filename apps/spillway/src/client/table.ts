import { escapeUnprintable } from '@spillway/model';

export type Align = 'left' | 'right';

export interface Column {
  readonly header: string;
  readonly align?: Align;
}

export interface TableOptions {
  /** Prefix of every line, e.g. two spaces under a section title. */
  readonly indent?: string;
  /** Wraps the header row's cells (bold on a terminal); applied after padding. */
  readonly styleHeader?: (text: string) => string;
}

/** SGR escape sequences (colours, bold): they take no columns. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: ESC is exactly what this matches.
const ANSI = /\u001b\[[0-9;]*m/g;

/** Columns a string takes on a terminal: escape sequences take none, each code point one. */
export function visibleWidth(text: string): number {
  return [...text.replace(ANSI, '')].length;
}

function pad(text: string, width: number, align: Align): string {
  const fill = ' '.repeat(Math.max(0, width - visibleWidth(text)));
  return align === 'right' ? fill + text : text + fill;
}

/**
 * One line per cell row (newlines and tabs inside a cell would break the alignment), and no
 * other control character reaches the terminal: cells hold what the server sent.
 */
function clean(cell: string): string {
  return escapeUnprintable(cell.replace(/[\r\n\t]+/g, ' '));
}

/**
 * A plain-text table: columns separated by two spaces, each as wide as its widest cell, no
 * trailing spaces. Returns the lines (header first) without a final newline.
 */
export function formatTable(
  columns: readonly Column[],
  rows: readonly (readonly string[])[],
  options: TableOptions = {},
): string {
  const cells = rows.map((row) => columns.map((_, index) => clean(row[index] ?? '')));
  const widths = columns.map((column, index) =>
    Math.max(visibleWidth(column.header), ...cells.map((row) => visibleWidth(row[index] ?? ''))),
  );
  const line = (row: readonly string[], style: (text: string) => string = (text) => text) =>
    (options.indent ?? '') +
    row
      .map((cell, index) => {
        const last = index === row.length - 1;
        const align = columns[index]?.align ?? 'left';
        const padded = last && align === 'left' ? cell : pad(cell, widths[index] ?? 0, align);
        return style(padded);
      })
      .join('  ')
      .trimEnd();
  const header = line(
    columns.map((column) => column.header),
    options.styleHeader,
  );
  return [header, ...cells.map((row) => line(row))].join('\n');
}

/** `key  value` lines with the keys padded to one width, for a record's details. */
export function formatFields(fields: readonly (readonly [string, string])[], indent = ''): string {
  const width = Math.max(0, ...fields.map(([key]) => visibleWidth(key)));
  return fields.map(([key, value]) => `${indent}${pad(key, width, 'left')}  ${clean(value)}`.trimEnd()).join('\n');
}
