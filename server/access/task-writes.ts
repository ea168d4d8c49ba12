import type { Task } from '@medplum/fhirtypes';
import { fail } from '../fhir/outcome.js';
import { parseLocalReference } from '../fhir/ids.js';
import type { StoredVersion } from '../store/resources.js';
import type { Visibility } from './visibility.js';

/**
 * A request addressed to a structure (a Task whose owner is an Organization: the DAC's or the
 * MSP coordinator's inbox, DOMAIN.md §A.2) is taken on or passed on by that structure only: the
 * owner it names changes (or the Task is deleted) only by the hand of one of its members (a role
 * there or in one of its services, or a system client acting for it); its requester may still
 * update it otherwise (cancel it, say). Those the rules do not concern (the whole pôle's clients,
 * AUTH off) are not checked.
 */
export function checkTaskOwnerChange(v: Visibility, fhirBase: string, previous: StoredVersion | undefined, next: Task | null): void {
  if (!previous?.content || previous.deleted) return;
  const before = (JSON.parse(previous.content) as Task).owner?.reference;
  const inbox = before ? parseLocalReference(before, fhirBase) : undefined;
  if (inbox?.type !== 'Organization') return;
  const after = next?.owner?.reference ? parseLocalReference(next.owner.reference, fhirBase) : undefined;
  if (after?.type === inbox.type && after.id === inbox.id) return;
  if (!v.actors?.includes(`Organization/${inbox.id}`)) {
    throw fail(403, 'forbidden', `Task/${previous.id} is addressed to Organization/${inbox.id}: only its members take it on or pass it on`);
  }
}
