import type { ContactPoint, HumanName, Reference } from '@medplum/fhirtypes';

/** "Dr Claire Morvan" from FHIR names: the usual or official one, else the first. */
export function personName(names: HumanName[] | undefined): string {
  const n = names?.find((x) => x.use === 'usual') ?? names?.find((x) => x.use === 'official') ?? names?.[0];
  if (!n) return '';
  return [n.prefix?.join(' '), n.given?.join(' '), n.family].filter(Boolean).join(' ') || n.text || '';
}

/** A patient's name as the French record writes it: family name first, in capitals. */
export function patientName(names: HumanName[] | undefined): string {
  const n = names?.find((x) => x.use === 'official') ?? names?.[0];
  if (!n) return 'Patient sans nom';
  return [n.family?.toUpperCase(), n.given?.join(' ')].filter(Boolean).join(' ') || n.text || 'Patient sans nom';
}

export { codeText, professionLabel } from '../../../server/fhir/profession.js';

export const refText = (r: Reference | undefined) => r?.display ?? r?.reference ?? '';

/** A text as an attachment's base64 data (UTF-8), and back. */
export const textToBase64 = (text: string) => btoa(String.fromCharCode(...new TextEncoder().encode(text)));
export const base64ToText = (data: string) => new TextDecoder().decode(Uint8Array.from(atob(data), (c) => c.charCodeAt(0)));

const DATE = new Intl.DateTimeFormat('fr-FR', { day: '2-digit', month: '2-digit', year: 'numeric', timeZone: 'UTC' });
const DATE_TIME = new Intl.DateTimeFormat('fr-FR', { dateStyle: 'short', timeStyle: 'short', timeZone: 'Europe/Paris' });

/** 2026-03-04 as 04/03/2026; a dateTime with its hour (Paris time). */
export function frenchDate(value: string | undefined): string {
  if (!value) return '';
  if (/^\d{4}$/.test(value) || /^\d{4}-\d{2}$/.test(value)) return value.split('-').reverse().join('/');
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return value;
  return value.length > 10 ? DATE_TIME.format(d) : DATE.format(d);
}

/** Whole days from `today` to `value` (negative: in the past). */
export function daysFrom(today: Date, value: string): number {
  const day = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate());
  const d = new Date(value.slice(0, 10));
  return Math.round((d.getTime() - day) / 86_400_000);
}

/** Age in whole years on `today`. */
export function age(birthDate: string | undefined, today: Date): number | undefined {
  if (!birthDate || birthDate.length < 10) return undefined;
  const [y, m, d] = birthDate.split('-').map(Number);
  let years = today.getUTCFullYear() - y;
  if (today.getUTCMonth() + 1 < m || (today.getUTCMonth() + 1 === m && today.getUTCDate() < d)) years--;
  return years;
}

/** YYYY-MM-DD of the day `days` after `today` (UTC). */
export const isoDay = (today: Date, days = 0) => new Date(today.getTime() + days * 86_400_000).toISOString().slice(0, 10);

export const contact = (telecom: ContactPoint[] | undefined, system: ContactPoint['system']) => telecom?.find((t) => t.system === system)?.value;

/** The pôle's time zone: its days and hours, whatever the browser's zone. */
const PARIS = 'Europe/Paris';
const PARIS_PARTS = new Intl.DateTimeFormat('en-GB', {
  timeZone: PARIS,
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

/** Paris's wall clock at `instant`, read as if it were UTC (so that getUTC… give Paris's date and hour). */
function parisWallClock(instant: Date): number {
  const part = (type: string) => Number(PARIS_PARTS.formatToParts(instant).find((p) => p.type === type)?.value);
  return Date.UTC(part('year'), part('month') - 1, part('day'), part('hour'), part('minute'), part('second'));
}

/**
 * Today in Paris, as midnight UTC of Paris's date: what daysFrom, age and isoDay count from, so
 * that "today" turns at midnight in Paris, not in London nor in the browser's zone.
 */
export const parisToday = (now: Date) => new Date(`${new Date(parisWallClock(now)).toISOString().slice(0, 10)}T00:00:00Z`);

/** The instant of a time typed for Paris (date YYYY-MM-DD, time HH:MM), whatever the browser's zone. */
export function parisInstant(date: string, time: string): string {
  const typed = Date.parse(`${date}T${time}:00Z`);
  // The offset at the typed time, then again at the instant found (a change of hour in between).
  let instant = typed - (parisWallClock(new Date(typed)) - typed);
  instant = typed - (parisWallClock(new Date(instant)) - instant);
  return new Date(instant).toISOString();
}

/** The date (YYYY-MM-DD) and time (HH:MM) an instant shows on a Paris clock: what a form edits. */
export function parisDateTime(instant: string): { date: string; time: string } {
  const wall = new Date(parisWallClock(new Date(instant))).toISOString();
  return { date: wall.slice(0, 10), time: wall.slice(11, 16) };
}

/** A label in lines of about `width` characters, cut between words: a chart's long labels wrap, never truncated. */
export function labelLines(label: string, width = 30): string[] {
  const lines: string[] = [];
  for (const word of label.split(/\s+/).filter(Boolean)) {
    const last = lines.at(-1);
    if (last !== undefined && `${last} ${word}`.length <= width) lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  return lines.length ? lines : [''];
}
