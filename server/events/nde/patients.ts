import type { Patient, Reference } from '@medplum/fhirtypes';
import { unprocessable } from '../../fhir/outcome.js';
import { executeSearch } from '../../search/execute.js';
import { parseSearch } from '../../search/parse.js';
import type { Queryable } from '../../store/db.js';
import { STORAGES } from '../../stores/by-type.js';

/**
 * The Patient of the pôle's record that an NdE message's contained patient is: the one holding
 * its identifiers (INS first in practice; any system|value given). NdE carries patients
 * `contained`; Maillage files each event under the record's Patient, whose équipe de soins and
 * oppositions then govern who hears of it. None or several: the message is refused (422).
 */
export async function recordPatientOf(tx: Queryable, fhirBase: string, contained: Patient): Promise<string> {
  const identifiers = (contained.identifier ?? []).filter((i) => i.system && i.value);
  if (!identifiers.length)
    throw unprocessable('The contained Patient needs an identifier (system and value, e.g. its INS) to be found in the record', ['subject']);
  const found = new Set<string>();
  for (const i of identifiers) {
    const query = new URLSearchParams({ identifier: `${i.system}|${i.value}`, _count: '2' });
    const { matches } = await executeSearch(tx, parseSearch(['Patient'], query, true, STORAGES), fhirBase, null);
    for (const m of matches) found.add(m.id);
  }
  if (!found.size) throw unprocessable('No Patient of the pôle holds the identifiers of the contained Patient', ['subject']);
  if (found.size > 1) throw unprocessable(`The contained Patient's identifiers name several Patients of the pôle (${[...found].join(', ')})`, ['subject']);
  return [...found][0];
}

/** A reference to a Patient of the record (`Patient/x`), or undefined for anything else. */
export const recordPatientReference = (ref: Reference | undefined): string | undefined =>
  /^Patient\/[A-Za-z0-9\-.]{1,64}$/.test(ref?.reference ?? '') ? ref?.reference : undefined;
