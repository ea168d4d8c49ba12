import { randomUUID } from 'node:crypto';
import type { Encounter, Subscription } from '@medplum/fhirtypes';
import type { WriteHook } from '../../interactions/write-hooks.js';
import { acceptDeclaration, declarationOf, encounterEvent, isEventDeclaration } from './declarations.js';
import { acceptNdeSubscription, isNdeSubscription } from './subscriptions.js';

/**
 * What the NdE volet asks of a write: an event declaration filed under the record's Patient, an
 * nde-subscription's criteria completed from its extensions, and a stay's admission or discharge
 * declared (the declaration written in the same transaction).
 */
export const ndeWriteHook: WriteHook = {
  async prepare(w, resource) {
    if (resource?.resourceType === 'CommunicationRequest' && isEventDeclaration(resource)) return acceptDeclaration(w.tx, w.ctx.fhirBase, resource);
    if (resource?.resourceType === 'Subscription' && isNdeSubscription(resource)) return acceptNdeSubscription(w.tx, w.ctx.fhirBase, resource as Subscription);
    if (resource?.resourceType === 'Encounter') {
      const before = w.previous?.content && !w.previous.deleted ? (JSON.parse(w.previous.content) as Encounter) : undefined;
      const code = encounterEvent(before, resource);
      if (code) await w.write({ type: 'CommunicationRequest', id: randomUUID() }, declarationOf(resource, w.target.id, code), 'POST');
    }
    return resource;
  },
};
