import type { ComponentChildren } from 'preact';

/** A column after the first: its header, the cell for a row, and the cell's tooltip if any. */
export interface RunListColumn<T> {
  readonly header: string;
  readonly cell: (row: T) => ComponentChildren;
  readonly title?: (row: T) => string;
}

export interface RunListProps<T extends { id: string }> {
  /** The section's heading and its element id (the section is labelled by it). */
  readonly heading: string;
  readonly headingId: string;
  /** Said when the list is empty. */
  readonly empty: string;
  /** The polled list: undefined until the first answer; the error of the last poll, if any. */
  readonly rows: readonly T[] | undefined;
  readonly error: string | undefined;
  /** The first column: the row's id, linking to its page. */
  readonly idHeader: string;
  readonly href: (row: T) => string;
  readonly columns: readonly RunListColumn<T>[];
}

/** The list of bursts or drills: a table whose rows are headed by a link to each one's page. */
export function RunList<T extends { id: string }>(props: RunListProps<T>) {
  const { rows } = props;
  return (
    <section aria-labelledby={props.headingId}>
      <h2 id={props.headingId}>{props.heading}</h2>
      {props.error ? <p role="alert">{props.error}</p> : null}
      {rows && rows.length === 0 ? <p>{props.empty}</p> : null}
      {rows && rows.length > 0 ? (
        <table>
          <thead>
            <tr>
              <th scope="col">{props.idHeader}</th>
              {props.columns.map((column) => (
                <th key={column.header} scope="col">
                  {column.header}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.id}>
                <th scope="row">
                  <a href={props.href(row)}>{row.id}</a>
                </th>
                {props.columns.map((column) => (
                  <td key={column.header} title={column.title?.(row)}>
                    {column.cell(row)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}
