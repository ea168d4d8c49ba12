/*
 * PostgreSQL's COPY text format (https://www.postgresql.org/docs/current/sql-copy.html, "Text
 * Format"): one line per row, columns separated by tabs, NULL as \N, and backslash, newline,
 * carriage return and tab escaped with a backslash. Arrays are written as their literal.
 */

const ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
const SPECIAL = /[\\\n\r\t]/g;

/** A text[] literal: every element quoted, its quotes and backslashes escaped. */
const arrayLiteral = (list: unknown[]) =>
  `{${list.map((x) => (x === null || x === undefined ? 'NULL' : `"${String(x).replace(/[\\"]/g, '\\$&')}"`)).join(',')}}`;

/** One value as COPY reads it. */
export function copyValue(value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  const text = value instanceof Date ? value.toISOString() : Array.isArray(value) ? arrayLiteral(value) : String(value);
  return text.replace(SPECIAL, (c) => ESCAPES[c]);
}

/** One row, its line end included. */
export const copyRow = (values: unknown[]): string => `${values.map(copyValue).join('\t')}\n`;
