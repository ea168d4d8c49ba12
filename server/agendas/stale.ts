/**
 * A Slot that has ended is never free: a search for free slots (`status=free`, the SAS
 * platform's and the régulateur's) only finds slots whose end is still to come, whatever range
 * of `start` it asks for, so that practice software that never withdraws its past slots does not
 * have them offered. Other searches (the practice's own, `status=busy`) see every slot.
 */
export function withoutStaleSlots(type: string | undefined, query: URLSearchParams): URLSearchParams {
  if (type !== 'Slot') return query;
  const statuses = query.getAll('status');
  if (!statuses.length || !statuses.every((s) => s.split(',').every((v) => v === 'free' || v.endsWith('|free')))) return query;
  const out = new URLSearchParams(query);
  out.append('end', `gt${new Date().toISOString()}`);
  return out;
}
