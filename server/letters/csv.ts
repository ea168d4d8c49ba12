import type { Letter } from './letter.js';

const COLUMNS: [string, (l: Letter) => string][] = [
  ['Civilité', (l) => l.fields.civilite],
  ['Prénom', (l) => l.fields.prenom],
  ['Nom', (l) => l.fields.nom],
  ['Adresse', (l) => l.address.lines[0] ?? ''],
  ['Complément d’adresse', (l) => l.address.lines.slice(1).join(', ')],
  ['Code postal', (l) => l.address.postalCode],
  ['Ville', (l) => l.address.city],
  ['Protocole', (l) => l.fields.protocole],
  ['Activité', (l) => l.fields.activite],
  ['Échéance', (l) => l.fields.echeance],
  ['Professionnel', (l) => l.fields.professionnel],
  ['Structure', (l) => l.fields.structure],
  ['Téléphone', (l) => l.fields.telephone],
];

/**
 * The letters as a mail-merge source, as French spreadsheets and word processors open it:
 * `;` separated, every cell quoted, a BOM for the accents, CRLF lines.
 */
export function lettersCsv(letters: Letter[]): string {
  const cell = (v: string) => `"${v.replace(/"/g, '""')}"`;
  const lines = [COLUMNS.map(([h]) => cell(h)).join(';'), ...letters.map((l) => COLUMNS.map(([, get]) => cell(get(l))).join(';'))];
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}
