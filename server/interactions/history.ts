import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { badRequest } from '../fhir/outcome.js';
import { dateRange } from '../search/dates.js';
import { readHistory, type HistoryEntry } from '../store/resources.js';
import { reader, type Context, type FhirRequest, type FhirResponse } from './context.js';
import { trailHistory } from '../search/trail.js';
import { historyAccessSql } from '../search/visibility.js';
import { visibilityOf } from './access.js';
import { link } from './bundle-links.js';

const DEFAULT_COUNT = 20;
const MAX_COUNT = 1000;

/** GET [type]/[id]/_history, [type]/_history and /_history, newest first, paged. */
export async function history(ctx: Context, req: FhirRequest, type?: string, id?: string): Promise<FhirResponse> {
  const q = req.query;
  const count = Math.min(intParam(q, '_count') ?? DEFAULT_COUNT, MAX_COUNT);
  const offset = intParam(q, '_offset') ?? 0;
  const since = q.get('_since') ? instant(q.get('_since') as string, '_since') : undefined;
  const atValue = q.get('_at');
  const at = atValue ? dateRange(atValue) : undefined;
  if (atValue && !at) throw badRequest(`Invalid _at: ${atValue}`);
  // The first page fixes the upper bound; later pages carry it so that new writes never shift them.
  const before = q.get('_before') ? instant(q.get('_before') as string, '_before') : new Date();
  // An instance's history was allowed as a whole (access.ts); a type's or the system's shows what the caller may see.
  const visibility = id ? null : await visibilityOf(ctx);
  const visible = visibility ? (alias: string, add: (value: unknown) => string) => historyAccessSql(visibility, alias, type, { add }) : undefined;
  // The audit trail is kept apart (migration 016): /_history does not list it.
  const { entries, total } =
    type === 'AuditEvent'
      ? await trailHistory(reader(ctx), { id, since, at, before, count: count + 1, offset, visibility })
      : await readHistory(reader(ctx), { type, id, since, at, before, count: count + 1, offset, visible });

  const url = `${ctx.baseUrl}/${[type, id, '_history'].filter(Boolean).join('/')}`;
  const kept: [string, string][] = [];
  if (since) kept.push(['_since', q.get('_since') as string]);
  if (atValue) kept.push(['_at', atValue]);
  kept.push(['_count', String(count)], ['_before', before.toISOString()]);
  const links = [link('self', url, [...kept, ['_offset', String(offset)]])];
  if (entries.length > count) links.push(link('next', url, [...kept, ['_offset', String(offset + count)]]));
  if (offset > 0) links.push(link('previous', url, [...kept, ['_offset', String(Math.max(0, offset - count))]]));

  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'history',
    ...(total !== undefined ? { total } : {}),
    link: links,
    entry: entries.slice(0, count).map((e) => historyEntry(ctx, e)),
  };
  return { status: 200, resource: bundle };
}

function historyEntry(ctx: Context, e: HistoryEntry): BundleEntry {
  const instanceUrl = `${e.type}/${e.id}`;
  const status = e.method === 'DELETE' ? '204 No Content' : e.version === 1 ? '201 Created' : '200 OK';
  return {
    fullUrl: `${ctx.baseUrl}/${instanceUrl}`,
    ...(e.content ? { resource: JSON.parse(e.content) as Resource } : {}),
    request: { method: e.method as 'POST', url: e.method === 'POST' ? e.type : instanceUrl },
    response: { status, etag: `W/"${e.version}"`, lastModified: e.lastUpdated.toISOString() },
  };
}

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  if (!/^\d+$/.test(v)) throw badRequest(`${name} must be a non-negative integer: ${v}`);
  return Number(v);
}

function instant(value: string, name: string): Date {
  const r = dateRange(value);
  if (!r) throw badRequest(`Invalid ${name}: ${value}`);
  return r.low;
}
