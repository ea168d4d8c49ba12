import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CodeSystem, CodeSystemConcept, ValueSet, ValueSetComposeInclude } from '@medplum/fhirtypes';
import { PACKAGE_ROOT } from '../package-root.js';

/**
 * The NOS code systems and value sets of `terminology/nos/`, kept there in a compact form (one
 * TSV file each, see terminology/README.md), turned into CodeSystem and ValueSet resources with
 * the official canonical URLs, ids and versions of the ANS.
 */

const NOS_BASE = 'https://mos.esante.gouv.fr/NOS/';
const PUBLISHER = "Agence du Numérique en Santé (ANS) - 2-10 Rue d'Oradour-sur-Glane, 75015 Paris";
/** meta.source of what Maillage installs from its own files, followed by the file name and a hash of its text. */
export const BUNDLED_SOURCE = 'maillage:terminology/nos/';

/** The canonical URL of a NOS table: TRE_R38-SpecialiteOrdinale, JDV_J106-EnsembleProfession-RASS, or a URL as is. */
const nosUrl = (table: string) => (table.includes('://') ? table : `${NOS_BASE}${table}/FHIR/${table.replace('_', '-')}`);

interface CompactFile {
  table: string;
  header: Map<string, string>;
  columns: string[];
  rows: Record<string, string>[];
  hash: string;
}

function parseCompact(file: string, text: string): CompactFile {
  const header = new Map<string, string>();
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const comments = lines.filter((l) => l.startsWith('#'));
  for (const c of comments) {
    const m = /^#\s*([a-z]+):\s*(.*)$/.exec(c);
    if (m && !header.has(m[1])) header.set(m[1], m[2].trim());
  }
  const [head, ...data] = lines.filter((l) => !l.startsWith('#'));
  const columns = head.split('\t');
  const rows = data.map((l) => {
    const cells = l.split('\t');
    return Object.fromEntries(columns.map((c, i) => [c, (cells[i] ?? '').trim()]));
  });
  return { table: file.replace(/\.tsv$/, ''), header, columns, rows, hash: createHash('sha256').update(text).digest('hex').slice(0, 16) };
}

function codeSystem(f: CompactFile): CodeSystem {
  const hierarchical = f.rows.some((r) => r.parent);
  const concept = f.rows.map((r): CodeSystemConcept => {
    const property = [
      ...(r.status ? [{ code: 'status', valueCode: r.status }] : []),
      ...(r.parent ? r.parent.split('|').map((p) => ({ code: 'parent', valueCode: p.trim() })) : []),
    ];
    const also = r.also ? r.also.split(' | ').filter(Boolean) : [];
    return {
      code: r.code,
      ...(r.display ? { display: r.display } : {}),
      ...(also.length ? { designation: also.map((value) => ({ language: 'fr-FR', value })) } : {}),
      ...(property.length ? { property } : {}),
    };
  });
  return {
    resourceType: 'CodeSystem',
    ...common(f),
    caseSensitive: false,
    ...(hierarchical ? { hierarchyMeaning: 'is-a' } : {}),
    content: (f.header.get('content') ?? 'complete') as CodeSystem['content'],
    property: [
      { code: 'status', uri: 'http://hl7.org/fhir/concept-properties#status', type: 'code' },
      ...(hierarchical ? [{ code: 'parent', uri: 'http://hl7.org/fhir/concept-properties#parent', type: 'code' as const }] : []),
    ],
    count: concept.length,
    concept,
  };
}

function valueSet(f: CompactFile): ValueSet {
  const include: ValueSetComposeInclude[] = [];
  for (const r of f.rows) {
    const system = nosUrl(r.system);
    let last = include[include.length - 1];
    if (last?.system !== system) include.push((last = { system, concept: [] }));
    last.concept?.push({ code: r.code, ...(r.display ? { display: r.display } : {}) });
  }
  return { resourceType: 'ValueSet', ...common(f), compose: { include } };
}

function common(f: CompactFile) {
  const version = f.header.get('version');
  const description = f.header.get('description');
  return {
    id: f.table.replace('_', '-'),
    meta: { source: `${BUNDLED_SOURCE}${f.table}.tsv#${f.hash}` },
    language: 'fr-FR',
    url: nosUrl(f.table),
    ...(version ? { version } : {}),
    name: f.table.replace(/-/g, '_'),
    status: 'active' as const,
    publisher: PUBLISHER,
    ...(description ? { description } : {}),
    jurisdiction: [{ coding: [{ system: 'urn:iso:std:iso:3166', code: 'FRA' }] }],
  };
}

/** Every resource of the folder, code systems first. */
export function bundledTerminology(): (CodeSystem | ValueSet)[] {
  const dir = join(PACKAGE_ROOT, 'terminology', 'nos');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.tsv'))
    .sort()
    .map((f) => parseCompact(f, readFileSync(join(dir, f), 'utf8')));
  return [...files.filter((f) => f.columns.includes('system') === false).map(codeSystem), ...files.filter((f) => f.columns.includes('system')).map(valueSet)];
}
