import type { StructureDefinition } from '@medplum/fhirtypes';
import type { Database } from '../store/db.js';
import { registryOf } from './registry-sync.js';

/** The profiles of resources the registry holds, by resource type (CapabilityStatement.rest.resource.supportedProfile). */
export function supportedProfiles(db: Database): Map<string, string[]> {
  const byType = new Map<string, string[]>();
  for (const sd of registryOf(db).held<StructureDefinition>('StructureDefinition')) {
    if (sd.kind !== 'resource' || sd.derivation !== 'constraint' || !sd.url || !sd.type) continue;
    const canonical = sd.version ? `${sd.url}|${sd.version}` : sd.url;
    byType.set(sd.type, [...(byType.get(sd.type) ?? []), canonical]);
  }
  return byType;
}
