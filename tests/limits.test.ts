import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { client, DATABASES, freshPostgresDatabase, spawnServer, useServer, type ServerProcess } from './harness.js';

/**
 * Issue #21: no single caller able to stall the server. Every request limit is refused with a
 * 4xx naming its setting; on PostgreSQL, a statement too long is cancelled (503), an abandoned
 * request's statement is cancelled at once, a full pool answers 503 after a bounded wait, and
 * backends terminated under writes cost those writes a 503, never the process.
 */
const refusal = (res: { status: number; body: any }) => ({
  status: res.status,
  code: res.body?.issue?.[0]?.code,
  text: res.body?.issue?.[0]?.diagnostics as string,
});

describe.each(DATABASES)('request limits on %s', (kind) => {
  const t = useServer(kind);

  beforeAll(async () => {
    await t.api.put('Organization/org', { resourceType: 'Organization', id: 'org', name: 'Org' });
    await t.api.put('Patient/p', { resourceType: 'Patient', id: 'p', name: [{ family: 'Durand' }], managingOrganization: { reference: 'Organization/org' } });
    await t.api.put('Observation/o', { resourceType: 'Observation', id: 'o', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/p' } });
  });

  it('refuses each limit with a 4xx naming it and its setting', async () => {
    const params = (n: number, name = (i: number) => `p${i}`) => Array.from({ length: n }, (_, i) => `${name(i)}=x`).join('&');
    const cases: [string, number, string, string][] = [
      [`Patient?${params(41)}`, 400, 'too-costly', 'SEARCH_MAX_PARAMETERS'],
      [`Patient?${Array.from({ length: 11 }, (_, i) => `name=a${i}`).join('&')}`, 400, 'too-costly', 'SEARCH_MAX_REPEATS'],
      [`Patient?name=${Array.from({ length: 101 }, (_, i) => `a${i}`).join(',')}`, 400, 'too-costly', 'SEARCH_MAX_VALUES'],
      [`Patient?name=${'a'.repeat(1025)}`, 400, 'too-long', 'SEARCH_MAX_VALUE_LENGTH'],
      ['Observation?subject:Patient.organization.partof.partof.partof.name=x', 400, 'too-costly', 'SEARCH_MAX_DEPTH'],
      [
        `Patient?${Array.from({ length: 6 }, () => '_include=Patient:organization,Patient:general-practitioner').join('&')}`,
        400,
        'too-costly',
        'SEARCH_MAX_INCLUDES',
      ],
      ['Patient?_sort=name,family,given,birthdate,gender,_id', 400, 'too-costly', 'SEARCH_MAX_SORT_KEYS'],
    ];
    for (const [path, status, code, setting] of cases) {
      const res = refusal(await t.api.get(path));
      expect(res, path.slice(0, 80)).toMatchObject({ status, code });
      expect(res.text).toContain(setting);
    }
    // Within the limits, the same shapes are served.
    expect((await t.api.get('Observation?subject:Patient.organization.name=Org')).body.entry).toHaveLength(1);
    expect((await t.api.get(`Patient?${Array.from({ length: 10 }, () => 'name=dur').join('&')}`)).status).toBe(200);
    expect((await t.api.get('Patient?_sort=family,-birthdate,_id')).status).toBe(200);
    // A larger _count is lowered to the limit, as R4 allows.
    expect((await t.api.get('Patient?_count=100000')).status).toBe(200);
    for (const type of ['batch', 'transaction']) {
      const entry = Array.from({ length: 10_001 }, () => ({ request: { method: 'GET', url: 'Patient/p' } }));
      const res = refusal(await t.api.post('', { resourceType: 'Bundle', type, entry }));
      expect(res).toMatchObject({ status: 413, code: 'too-costly' });
      expect(res.text).toContain('BUNDLE_MAX_ENTRIES');
    }
  });

  it('answers a deeply nested _has with a 400 at once, and a shallow one as before', async () => {
    const nested = `Patient?${'_has:Observation:subject:'.repeat(1)}${'_has:Observation:subject:'.repeat(23)}code=x`;
    const started = Date.now();
    const res = refusal(await t.api.get(nested));
    expect(Date.now() - started).toBeLessThan(500);
    expect(res).toMatchObject({ status: 400, code: 'too-costly' });
    expect(res.text).toContain('SEARCH_MAX_DEPTH');
    const shallow = await t.api.get('Organization?_has:Patient:organization:_has:Observation:subject:status=final');
    expect(shallow.body.entry.map((e: any) => e.resource.id)).toEqual(['org']);
  });

  it('refuses a SearchParameter whose regular expression may backtrack without end (ReDoS)', async () => {
    const param = (expression: string) => ({
      resourceType: 'SearchParameter',
      url: 'https://example.org/sp/redos',
      name: 'redos',
      status: 'active',
      code: 'redos',
      base: ['Patient'],
      type: 'token',
      description: 'x',
      expression,
    });
    const res = refusal(await t.api.post('SearchParameter', param("Patient.name.where(family.matches('^(a+)+$')).family")));
    expect(res).toMatchObject({ status: 400, code: 'too-costly' });
    expect(res.text).toMatch(/SearchParameter\.expression.*matches.*\^\(a\+\)\+\$/);
    expect(refusal(await t.api.post('SearchParameter', param('Patient.name.where(family.matches(%pattern)).family')))).toMatchObject({ status: 400 });
    // A Patient write stays quick: nothing of the kind is in force.
    const started = Date.now();
    expect((await t.api.post('Patient', { resourceType: 'Patient', name: [{ family: `${'a'.repeat(40)}!` }] })).status).toBe(201);
    expect(Date.now() - started).toBeLessThan(2000);
    expect((await t.api.post('SearchParameter', param("Patient.name.where(family.matches('^[A-Z][a-z]+$')).family"))).status).toBe(201);
  });

  it('refuses unsupported modifiers and malformed values (400), ignores unknown parameters unless strict', async () => {
    for (const bad of [
      'Patient?name:foo=x',
      'Patient?birthdate:exact=2000-01-01',
      'Patient?birthdate=pas-une-date',
      'Patient?_count=abc',
      'RiskAssessment?probability=abc',
      'Patient?birthdate=xx2000',
    ]) {
      const res = await t.api.get(bad);
      expect(res.status, bad).toBe(400);
      expect(res.body.resourceType).toBe('OperationOutcome');
    }
    const lenient = await t.api.get('Patient?inconnu=x');
    expect(lenient.status).toBe(200);
    expect(lenient.body.entry.find((e: any) => e.search.mode === 'outcome').resource.issue[0].diagnostics).toContain('inconnu');
    expect((await t.api.get('Patient?inconnu=x', { prefer: 'handling=strict' })).status).toBe(400);
  });
});

describe.runIf(DATABASES.includes('postgres'))('database faults on PostgreSQL', () => {
  const TIMEOUT = 3000;
  let db: Awaited<ReturnType<typeof freshPostgresDatabase>>;
  let server: ServerProcess;
  let api: ReturnType<typeof client>;
  /** A connection of the test's own, to hold locks and watch the server's backends. */
  let admin: pg.Client;

  beforeAll(async () => {
    db = await freshPostgresDatabase('loaded');
    // The time events' scan (at start, then hourly here) reads the resource table: not during the tests' locks.
    server = await spawnServer({
      DATABASE_URL: db.url,
      DATABASE_POOL_SIZE: '4',
      STATEMENT_TIMEOUT: String(TIMEOUT),
      DATABASE_CONNECTION_WAIT: '1000',
      TIME_EVENTS_SECONDS: '3600',
    });
    api = client(`${server.url}/fhir`);
    admin = new pg.Client(db.url);
    admin.on('error', () => undefined);
    await admin.connect();
    expect((await api.put('Patient/p', { resourceType: 'Patient', id: 'p' })).status).toBe(201);
  }, 120_000);

  afterAll(async () => {
    await admin?.end().catch(() => undefined);
    server?.child.kill();
    await server?.exited;
    await db?.drop();
  });

  /** Runs fn while the resource table is locked: every statement reading it waits. */
  const whileLocked = async <T>(fn: () => Promise<T>): Promise<T> => {
    await admin.query('BEGIN');
    await admin.query('LOCK TABLE resource IN ACCESS EXCLUSIVE MODE');
    try {
      return await fn();
    } finally {
      await admin.query('ROLLBACK');
    }
  };
  const waiting = async () =>
    (
      await admin.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
      )
    ).rows[0].n;
  const until = async (cond: () => Promise<boolean>, ms: number) => {
    for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 20))) if (await cond()) return true;
    return false;
  };

  it('cancels a statement that outlives STATEMENT_TIMEOUT: 503, and serves on', async () => {
    const res = await whileLocked(() => api.get('Patient/p'));
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBeTruthy();
    expect(res.body.issue[0]).toMatchObject({ code: 'timeout' });
    expect(res.body.issue[0].diagnostics).toContain('STATEMENT_TIMEOUT');
    expect((await api.get('Patient/p')).status).toBe(200);
  });

  it("cancels an abandoned request's statement at once", async () => {
    await whileLocked(async () => {
      const abandoned = new AbortController();
      const request = fetch(`${server.url}/fhir/Patient?_id=p`, { signal: abandoned.signal }).catch(() => undefined);
      expect(await until(async () => (await waiting()) === 1, 1000)).toBe(true);
      const aborted = Date.now();
      abandoned.abort();
      await request;
      // Well before the statement timeout would have ended it.
      expect(await until(async () => (await waiting()) === 0, 1000)).toBe(true);
      expect(Date.now() - aborted).toBeLessThan(TIMEOUT / 2);
    });
    expect((await api.get('Patient/p')).status).toBe(200);
  });

  it('answers 503 with Retry-After when no connection frees up within DATABASE_CONNECTION_WAIT', async () => {
    const replies = await whileLocked(async () => {
      const blocked = Array.from({ length: 4 }, () => api.get('Patient/p'));
      await until(async () => (await waiting()) === 4, 1000);
      const started = Date.now();
      const queued = await api.get('Patient/p');
      expect(Date.now() - started).toBeLessThan(TIMEOUT - 500);
      return [queued, ...(await Promise.all(blocked))];
    });
    expect(replies[0].status).toBe(503);
    expect(replies[0].headers.get('retry-after')).toBeTruthy();
    expect(replies[0].body.issue[0].diagnostics).toContain('DATABASE_CONNECTION_WAIT');
    expect((await api.get('Patient/p')).status).toBe(200);
  });

  it('survives its backends terminated under a burst of writes: 503s, no lost acknowledged write, then serves', async () => {
    const kill = () => admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`);
    const write = (i: number) =>
      api.put(`Patient/b${i}`, { resourceType: 'Patient', id: `b${i}`, name: [{ family: `Burst${i}` }] }).catch(() => ({ status: 0 }));
    const writes: Promise<{ status: number }>[] = [];
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 8; i++) writes.push(write(round * 8 + i));
      await new Promise((r) => setTimeout(r, 15));
      await kill();
    }
    const statuses = (await Promise.all(writes)).map((r) => r.status);
    expect(server.child.exitCode).toBeNull();
    for (const s of statuses) expect([200, 201, 503]).toContain(s);
    expect(statuses).toContain(503);
    for (const [i, s] of statuses.entries()) if (s === 200 || s === 201) expect((await api.get(`Patient/b${i}`)).status, `b${i}`).toBe(200);
    expect((await api.put('Patient/after', { resourceType: 'Patient', id: 'after' })).status).toBe(201);
    expect((await api.get('Patient?_count=100')).status).toBe(200);
  });
});
