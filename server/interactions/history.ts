import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { badRequest, notFound } from '../fhir/outcome.js';
import { dateRange } from '../search/dates.js';
import type { HistoryEntry, HistoryQuery } from '../store/resources.js';
import { storeFor } from '../stores/by-type.js';
import { reader, type Context, type FhirRequest, type FhirResponse } from './context.js';
import { visibilityOf } from '../access/principal.js';
import { versionRules } from '../access/versions.js';
import { hiddenFromCaller } from '../access/visibility.js';
import { link } from './bundle-links.js';
import { parseExact } from '../fhir/exact-json.js';

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
  const page = { since, at, before, count: count + 1, offset };
  const { entries, total } = await versionsPage(ctx, type, id, page);

  const url = `${ctx.fhirBase}/${[type, id, '_history'].filter(Boolean).join('/')}`;
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

type Page = Pick<HistoryQuery, 'since' | 'at' | 'before' | 'count' | 'offset'>;

/**
 * A resource's, a type's or the system's versions (the system's are the resource tables'): each
 * one listed or counted must be one the caller may see, on the patients it names (versionRules).
 * A resource none of whose versions they may see is outside their équipe (403), as for a read.
 * Where a resource has one version, it was judged by the guard as a read (an instance's history),
 * or the type's lists the resources the caller may see.
 */
async function versionsPage(ctx: Context, type: string | undefined, id: string | undefined, page: Page): Promise<{ entries: HistoryEntry[]; total?: number }> {
  const store = storeFor(type);
  const visible = store.judgesVersions ? await versionRules(ctx, type, id ? 'r' : 's', id ? 'probe' : 'set') : undefined;
  const visibility = store.judgesVersions || id ? null : await visibilityOf(ctx);
  if (type && id) {
    const seen = await store.someVersionVisible(reader(ctx), type, id, visible);
    if (seen === undefined) throw notFound(`${type}/${id} is not known`);
    if (!seen) throw hiddenFromCaller(type, `${type}/${id}`);
  }
  return store.history(reader(ctx), { type, id, ...page, visible, visibility });
}

function historyEntry(ctx: Context, e: HistoryEntry): BundleEntry {
  const instanceUrl = `${e.type}/${e.id}`;
  const status = e.method === 'DELETE' ? '204 No Content' : e.version === 1 ? '201 Created' : '200 OK';
  return {
    fullUrl: `${ctx.fhirBase}/${instanceUrl}`,
    ...(e.content ? { resource: parseExact(e.content) as Resource } : {}),
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
