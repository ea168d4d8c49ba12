import type { SearchRewrite } from '../interactions/search-hooks.js';

/**
 * What a search for free slots (`status=free`, the SAS platform's and the régulateur's) no longer
 * offers, whatever it asks for: a slot that has begun (`start=ge<now>` is added), and a slot its
 * publisher has not written again for `refresh` milliseconds (`_lastUpdated=ge<now - refresh>`).
 * Practice software refreshes its slots by publishing them again (a transaction of PUTs, even
 * unchanged: each write is a new version, with a new meta.lastUpdated); one that stops publishing
 * (software switched off, subscription ended) stops having its slots offered. A slot withdrawn
 * (deleted, or `busy-unavailable`, `entered-in-error`) is not free, so not offered either. Other
 * searches (the practice's own, `status=busy`) see every slot. Both bounds are on columns every
 * Slot is indexed by, and are shown in the self link.
 */
export const withoutStaleSlots: SearchRewrite = ({ slotRefresh: refresh }, type, query) => {
  if (type !== 'Slot') return query;
  const statuses = query.getAll('status');
  if (!statuses.length || !statuses.every((s) => s.split(',').every((v) => v === 'free' || v.endsWith('|free')))) return query;
  const out = new URLSearchParams(query);
  const now = Date.now();
  out.append('start', `ge${new Date(now).toISOString()}`);
  if (refresh) out.append('_lastUpdated', `ge${refreshedSince(refresh, now)}`);
  return out;
};

/** The time from which a slot written counts as refreshed. */
export const refreshedSince = (refresh: number, now = Date.now()) => new Date(now - refresh).toISOString();
