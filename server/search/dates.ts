/**
 * FHIR date, dateTime and instant values as the closed range of instants they cover, to the
 * millisecond: "1950" covers all of 1950, "1950-06-01" that day (UTC when no zone is given, as
 * FHIR leaves the zone of a date to the server), "…T10:00:00+02:00" that second.
 */
const DATE_RE = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

export interface DateRange {
  low: Date;
  high: Date;
}

export function dateRange(value: string): DateRange | undefined {
  const m = DATE_RE.exec(value.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, tz] = m;
  const year = Number(y);
  const range = (low: number, next: number): DateRange | undefined =>
    Number.isNaN(low) || Number.isNaN(next) ? undefined : { low: new Date(low), high: new Date(next - 1) };
  if (!mo) return range(Date.UTC(year, 0, 1), Date.UTC(year + 1, 0, 1));
  const month = Number(mo) - 1;
  if (month > 11) return undefined;
  if (!d) return range(Date.UTC(year, month, 1), Date.UTC(year, month + 1, 1));
  const day = Number(d);
  if (day < 1 || day > new Date(Date.UTC(year, month + 1, 0)).getUTCDate()) return undefined;
  if (!h) return range(Date.UTC(year, month, day), Date.UTC(year, month, day + 1));
  const ms = frac ? `.${frac.slice(0, 3).padEnd(3, '0')}` : '';
  const low = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s ?? '00'}${ms}${tz ?? 'Z'}`);
  const step = frac ? 1 : s ? 1000 : 60_000;
  return range(low, low + step);
}
