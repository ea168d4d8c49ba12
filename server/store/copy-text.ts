/*
 * PostgreSQL's COPY text format (https://www.postgresql.org/docs/current/sql-copy.html, "Text
 * Format"): one line per row, columns separated by tabs, NULL as \N, and backslash, newline,
 * carriage return and tab escaped with a backslash. Arrays are written as their literal.
 */

const ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
const SPECIAL = /[\\\n\r\t]/g;
/** The same test, stateless: most values hold none, and a test costs less than a replace. */
const HAS_SPECIAL = /[\\\n\r\t]/;

/** A text[] literal: every element quoted, its quotes and backslashes escaped. */
const arrayLiteral = (list: unknown[]) =>
  `{${list.map((x) => (x === null || x === undefined ? 'NULL' : `"${String(x).replace(/[\\"]/g, '\\$&')}"`)).join(',')}}`;

/** One value as COPY reads it. */
export function copyValue(value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  if (typeof value === 'number') return String(value);
  const text = typeof value === 'string' ? value : value instanceof Date ? value.toISOString() : Array.isArray(value) ? arrayLiteral(value) : String(value);
  return HAS_SPECIAL.test(text) ? text.replace(SPECIAL, (c) => ESCAPES[c]) : text;
}

/** One row, its line end included (a loop: a bulk write makes millions of them). */
export function copyRow(values: unknown[]): string {
  let line = copyValue(values[0]);
  for (let i = 1; i < values.length; i++) line += `\t${copyValue(values[i])}`;
  return `${line}\n`;
}
