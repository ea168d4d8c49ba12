import type { CommunicationRequest, Encounter, Resource, Subscription } from '@medplum/fhirtypes';
import type { Queryable } from '../../store/db.js';
import type { StoredVersion } from '../../store/resources.js';
import { acceptDeclaration, declarationOf, encounterEvent, isEventDeclaration } from './declarations.js';
import { acceptNdeSubscription, isNdeSubscription } from './subscriptions.js';

/**
 * What the NdE volet asks of a write, whichever interaction makes it (interactions/write.ts
 * persist): an event declaration filed under the record's Patient, an nde-subscription's criteria
 * completed from its extensions, and a stay's admission or discharge declared (`declare` writes
 * the declaration in the same transaction). Returns the resource to store.
 */
export async function ndeBeforeWrite(
  tx: Queryable,
  fhirBase: string,
  target: { type: string; id: string },
  previous: StoredVersion | undefined,
  resource: Resource | null,
  declare: (declaration: CommunicationRequest) => Promise<unknown>,
): Promise<Resource | null> {
  if (resource?.resourceType === 'CommunicationRequest' && isEventDeclaration(resource)) return acceptDeclaration(tx, fhirBase, resource);
  if (resource?.resourceType === 'Subscription' && isNdeSubscription(resource)) return acceptNdeSubscription(tx, fhirBase, resource as Subscription);
  if (resource?.resourceType === 'Encounter') {
    const before = previous?.content && !previous.deleted ? (JSON.parse(previous.content) as Encounter) : undefined;
    const code = encounterEvent(before, resource);
    if (code) await declare(declarationOf(resource, target.id, code));
  }
  return resource;
}
