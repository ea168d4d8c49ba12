import { describe, expect, it } from 'vitest';
import { DATABASES, withDatabase } from '../../tests/harness.js';
import { FhirError } from '../fhir/outcome.js';
import { parseSearch } from '../search/parse.js';
import { migrate } from '../store/migrate.js';
import { STORAGES, storeFor } from '../stores/by-type.js';
import type { AccessRecord } from './event.js';
import { TRAIL_TYPE, writeTrail } from './trail.js';

const record: AccessRecord = {
  actor: { clientId: 'lgc' },
  interaction: 'read',
  resources: [],
  patients: ['p1'],
  started: new Date('2026-11-24T10:00:00.000Z'),
  status: 200,
  site: 'http://x/fhir',
};

/** Seven events: five recorded at the same instant (ordered by id), one before, one after. */
const AT = new Date('2026-11-24T10:00:01.000Z');
const id = (n: number) => `0193a1b2-c3d4-7e5f-8a9b-00000000000${n}`;
const EVENTS = [
  { id: id(1), recorded: new Date(AT.getTime() - 1000), record },
  ...[5, 3, 2, 4, 6].map((n) => ({ id: id(n), recorded: AT, record })),
  { id: id(7), recorded: new Date(AT.getTime() + 1000), record },
];

/** A search of the trail, parsed as the stores have it parsed. */
const request = (query: string) => parseSearch([TRAIL_TYPE], new URLSearchParams(query), true, STORAGES);

describe.each(DATABASES)('the search of the audit trail on %s', (kind) => {
  it('pages by keyset in time then id order, both ways, through events recorded at the same instant', async () => {
    await withDatabase(kind, async (db) => {
      await migrate(db);
      await writeTrail(db, EVENTS);
      const store = storeFor(TRAIL_TYPE);
      for (const sort of ['date', '-date']) {
        const desc = sort === '-date';
        const expected = [1, 2, 3, 4, 5, 6, 7].map(id);
        if (desc) expected.reverse();
        // Forward to the end, each page counted.
        const pages: string[][] = [];
        const cursors: (string | undefined)[] = [];
        let cursor: string | undefined;
        do {
          const result = await store.search(db, request(`_sort=${sort}&_count=2&_total=accurate${cursor ? `&_cursor=${cursor}` : ''}`), 'http://x/fhir', null);
          expect(result.total).toBe(7);
          pages.push(result.matches.map((m) => m.id));
          cursors.push(result.previous);
          cursor = result.next;
        } while (cursor);
        expect(pages.flat()).toEqual(expected);
        expect(pages.map((p) => p.length)).toEqual([2, 2, 2, 1]);
        // And back from the last page: each previous page as it was.
        let back = cursors[cursors.length - 1];
        for (let i = pages.length - 2; i >= 0; i--) {
          const result = await store.search(db, request(`_sort=${sort}&_count=2&_cursor=${back}`), 'http://x/fhir', null);
          expect(result.matches.map((m) => m.id)).toEqual(pages[i]);
          back = result.previous;
        }
        expect(back).toBeUndefined();
      }
      // A first page holding every match gives its total without counting.
      expect((await store.search(db, request('_count=10'), 'http://x/fhir', null)).total).toBe(7);
    });
  });

  it('refuses a forged cursor with a 400', async () => {
    await withDatabase(kind, async (db) => {
      await migrate(db);
      const forged = (c: unknown) => Buffer.from(JSON.stringify(c)).toString('base64url');
      for (const cursor of [
        'abc',
        forged({ d: 'next', v: ['not a date', id(1)] }),
        forged({ d: 'next', v: [AT.toISOString(), 'not-a-uuid'] }),
        forged({ d: 'next', v: [AT.toISOString()] }),
      ]) {
        const err = await storeFor(TRAIL_TYPE)
          .search(db, request(`_cursor=${cursor}`), 'http://x/fhir', null)
          .catch((e: unknown) => e);
        expect(err, cursor).toBeInstanceOf(FhirError);
        expect((err as FhirError).status).toBe(400);
      }
    });
  });
});
