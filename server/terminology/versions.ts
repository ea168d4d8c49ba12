/**
 * Orders the versions of a code system or value set: their numbers compared one by one, so that
 * `1.3.0` < `1.10.0` and the ANS timestamps (`20240531120000`) come after the old `1.3.0` labels.
 * Undefined (no version) comes before any version.
 */
export function compareVersions(a: string | undefined, b: string | undefined): number {
  const x = numbers(a);
  const y = numbers(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? -1) - (y[i] ?? -1);
    if (d !== 0) return Math.sign(d);
  }
  return (a ?? '').localeCompare(b ?? '');
}

const numbers = (v: string | undefined) => (v ?? '').split(/\D+/).filter(Boolean).map(Number);

/** The newest of some versioned items. */
export function newest<T extends { version?: string }>(items: T[]): T | undefined {
  return items.reduce<T | undefined>((best, item) => (!best || compareVersions(item.version, best.version) > 0 ? item : best), undefined);
}
