/**
 * A Slot that has begun is no longer offered: a search for free slots (`status=free`, the SAS
 * platform's and the régulateur's) only finds slots that start from now on, whatever range of
 * `start` it asks for, so that practice software that never withdraws its past slots does not
 * have them offered. Other searches (the practice's own, `status=busy`) see every slot. (On
 * `start`, which every Slot is indexed by: the demo pôle is written before Maillage's own
 * SearchParameters are loaded.)
 */
export function withoutStaleSlots(type: string | undefined, query: URLSearchParams): URLSearchParams {
  if (type !== 'Slot') return query;
  const statuses = query.getAll('status');
  if (!statuses.length || !statuses.every((s) => s.split(',').every((v) => v === 'free' || v.endsWith('|free')))) return query;
  const out = new URLSearchParams(query);
  out.append('start', `ge${new Date().toISOString()}`);
  return out;
}
