import { describe, expect, it } from 'vitest';
import { DATABASES, useServer } from '../../tests/harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type Entry = {
  fullUrl: string;
  resource?: { id: string; meta: { versionId: string } };
  request: { method: string; url: string };
  response: { status: string; etag: string };
};

describe.each(DATABASES)('history on %s', (kind) => {
  const t = useServer(kind);
  const task = (id: string, status: string) => ({ resourceType: 'Task', id, status, intent: 'order' });

  it('lists an instance newest first with request and response of each version', async () => {
    await t.api.put('Task/t1', task('t1', 'requested'));
    await t.api.put('Task/t1', task('t1', 'accepted'));
    await t.api.delete('Task/t1');
    const res = await t.api.get('Task/t1/_history');
    expect(res.status).toBe(200);
    expect(res.body.type).toBe('history');
    expect(res.body.total).toBe(3);
    const entries: Entry[] = res.body.entry;
    expect(entries.map((e) => [e.request.method, e.response.status, e.response.etag])).toEqual([
      ['DELETE', '204 No Content', 'W/"3"'],
      ['PUT', '200 OK', 'W/"2"'],
      ['PUT', '201 Created', 'W/"1"'],
    ]);
    expect(entries[1].fullUrl).toBe(`${t.server.base}/Task/t1`);
    expect(entries[1].resource?.meta.versionId).toBe('2');
    expect((await t.api.get('Task/never/_history')).status).toBe(404);
  });

  it('filters type and system history with _since', async () => {
    await sleep(5);
    const since = new Date().toISOString();
    await sleep(5);
    await t.api.put('Task/t2', task('t2', 'requested'));
    await t.api.put('Goal/g1', {
      resourceType: 'Goal',
      id: 'g1',
      lifecycleStatus: 'active',
      description: { text: 'Marcher' },
      subject: { reference: 'Patient/p' },
    });
    const typeHistory = await t.api.get(`Task/_history?_since=${encodeURIComponent(since)}`);
    expect(typeHistory.body.entry.map((e: Entry) => e.resource?.id)).toEqual(['t2']);
    const systemHistory = await t.api.get(`_history?_since=${encodeURIComponent(since)}`);
    expect(systemHistory.body.entry.map((e: Entry) => e.resource?.id)).toEqual(['g1', 't2']);
  });

  it('gives with _at the versions current at that time', async () => {
    await t.api.put('Task/t3', task('t3', 'requested'));
    await sleep(20);
    const between = new Date().toISOString();
    await sleep(20);
    await t.api.put('Task/t3', task('t3', 'accepted'));
    const res = await t.api.get(`Task/t3/_history?_at=${encodeURIComponent(between)}`);
    expect(res.body.entry.map((e: Entry) => e.resource?.meta.versionId)).toEqual(['1']);
    const now = await t.api.get(`Task/t3/_history?_at=${encodeURIComponent(new Date().toISOString())}`);
    expect(now.body.entry.map((e: Entry) => e.resource?.meta.versionId)).toEqual(['2']);
  });

  it('pages with _count and next/previous links that do not shift when new versions arrive', async () => {
    for (let i = 0; i < 7; i++) await t.api.put('Task/t4', task('t4', i % 2 ? 'accepted' : 'requested'));
    const first = await t.api.get('Task/t4/_history?_count=3');
    expect(first.body.entry).toHaveLength(3);
    const seen = first.body.entry.map((e: Entry) => e.response.etag);
    // writes after the first page must not shift later pages
    await t.api.put('Task/t4', task('t4', 'completed'));
    let next = first.body.link.find((l: { relation: string }) => l.relation === 'next')?.url;
    let page = first;
    while (next) {
      page = await t.api.get(next);
      seen.push(...page.body.entry.map((e: Entry) => e.response.etag));
      next = page.body.link.find((l: { relation: string }) => l.relation === 'next')?.url;
    }
    expect(seen).toEqual(['W/"7"', 'W/"6"', 'W/"5"', 'W/"4"', 'W/"3"', 'W/"2"', 'W/"1"']);
    const previous = page.body.link.find((l: { relation: string }) => l.relation === 'previous')?.url;
    expect((await t.api.get(previous)).body.entry.map((e: Entry) => e.response.etag)).toEqual(['W/"4"', 'W/"3"', 'W/"2"']);
  });

  it('refuses malformed paging and time parameters with 400', async () => {
    expect((await t.api.get('Task/_history?_count=-1')).status).toBe(400);
    expect((await t.api.get('Task/_history?_since=yesterday')).status).toBe(400);
    expect((await t.api.get('_history?_at=2020-13')).status).toBe(400);
  });
});
