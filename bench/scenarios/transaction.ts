import type { Resource } from '@medplum/fhirtypes';
import { generateTerritory, PATIENTS_PER_POLE } from '../../seed/territory.js';
import type { Scenario } from '../harness/scenario.js';

/**
 * Transaction ingest: Bundles of `size` entries (PUT [type]/[id]) of whole patient pathways, as a
 * practice software or a hospital sends them: patient, encounters, conditions, observations,
 * cercle de soins, PPCS, tasks, consents. The pathways are those the data set's own generator
 * makes for its first patients, so their references to the pôle's structures and professionals
 * hold; each request renames its patients (`<seed>-pat-` → `<seed>-tx<n>-pat-`) so that every
 * request creates new resources. The ceiling inserts the same rows with one multi-row INSERT per
 * table in one transaction (bench/ceiling.ts).
 */
/** Distinct Bundles per size, cycled (their patients renamed per request). */
const BUNDLES = 20;

function transaction(size: number): Scenario {
  return {
    name: `transaction-${size}`,
    title: `transaction ingest: POST Bundle of ${size} entries (whole patient pathways, PUT [type]/[id]), Prefer: return=minimal`,
    ceiling: true,
    entries: size,
    // As many as `maillage seed` writes at once on PostgreSQL.
    connections: 4,
    async prepare({ seed }) {
      const bodies = bundles(seed, size);
      const from = new RegExp(`s${seed}-pat-`, 'g');
      let n = 0;
      // Short: a generated id with the tag stays within FHIR's 64 characters.
      const run = (Date.now() % 36 ** 4).toString(36);
      return [
        {
          method: 'POST',
          path: '/fhir',
          headers: { 'content-type': 'application/fhir+json', prefer: 'return=minimal' },
          setupRequest: (req) => ({ ...req, body: bodies[n % bodies.length].replace(from, `s${seed}-tx${run}${n++}-pat-`) }),
        },
      ];
    },
  };
}

/**
 * Transaction Bundles of exactly `size` entries, cut from the pathways in order: a pathway cut at a
 * Bundle's end leaves references to resources of the next one, which FHIR allows (no server checks
 * that a reference resolves) and which the next Bundle fills.
 */
function bundles(seed: number, size: number): string[] {
  const out: string[] = [];
  const entries: Resource[] = [];
  for (const group of generateTerritory({ patients: PATIENTS_PER_POLE, seed, today: new Date() })) {
    if (group[0]?.resourceType !== 'Patient') continue;
    entries.push(...group);
    while (entries.length >= size && out.length < BUNDLES) out.push(bundle(entries.splice(0, size)));
    if (out.length === BUNDLES) break;
  }
  if (!out.length) throw new Error(`transaction-${size}: the generator made fewer than ${size} resources`);
  return out;
}

function bundle(resources: Resource[]): string {
  return JSON.stringify({
    resourceType: 'Bundle',
    type: 'transaction',
    entry: resources.map((resource) => ({
      resource,
      request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` },
    })),
  });
}

export default [transaction(100), transaction(1000)];
