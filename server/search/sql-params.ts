/** Collects bind parameters while SQL text is built: every value goes through a placeholder. */
export class SqlParams {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** The condition that a type column is one of `types`. */
export const typeIs = (column: string, types: string[], p: SqlParams) =>
  types.length === 1 ? `${column} = ${p.add(types[0])}` : `${column} = ANY(${p.add(types)}::text[])`;
