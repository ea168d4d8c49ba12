import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';

export interface Column<T> {
  header: string;
  cell: (row: T) => ComponentChildren;
  /** Narrow screens hide secondary columns. */
  secondary?: boolean;
}

/** A table paged in the browser: long lists stay readable and fast to render. */
export function PagedTable<T>({
  rows,
  columns,
  caption,
  pageSize = 20,
  rowClass,
}: {
  rows: T[];
  columns: Column<T>[];
  caption: string;
  pageSize?: number;
  rowClass?: (row: T) => string;
}) {
  const [page, setPage] = useState(0);
  const pages = Math.max(1, Math.ceil(rows.length / pageSize));
  useEffect(() => setPage((p) => Math.min(p, pages - 1)), [pages]);
  const shown = rows.slice(page * pageSize, (page + 1) * pageSize);
  return (
    <div class="table-wrap">
      <table>
        <caption>
          {caption} <span class="count">({rows.length})</span>
        </caption>
        <thead>
          <tr>
            {columns.map((c) => (
              <th scope="col" class={c.secondary ? 'secondary' : undefined}>
                {c.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {shown.map((row) => (
            <tr class={rowClass?.(row)}>
              {columns.map((c) => (
                <td class={c.secondary ? 'secondary' : undefined} data-label={c.header}>
                  {c.cell(row)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {pages > 1 && (
        <nav class="pager" aria-label={`Pages : ${caption}`}>
          <button type="button" onClick={() => setPage(page - 1)} disabled={page === 0}>
            Page précédente
          </button>
          <span aria-live="polite">
            Page {page + 1} sur {pages}
          </span>
          <button type="button" onClick={() => setPage(page + 1)} disabled={page >= pages - 1}>
            Page suivante
          </button>
        </nav>
      )}
    </div>
  );
}
