/**
 * The ceiling: a bare express + pg server doing the database work of read, create and update with
 * the SQL of server/store/resources.ts, and nothing else: no FHIR validation, no search index
 * extraction or index writes, no content negotiation, no logging, no request id, no If-* headers.
 * The harness runs it on the same database, pool size and machine as Maillage, so the ratio of
 * the two is what the FHIR layers cost.
 *
 *   GET  /fhir/:type/:id  SELECT the current row; 404 if none, 410 if deleted, else its content
 *   POST /fhir/:type      JSON.parse, new UUID and meta, then in one transaction: INSERT resource,
 *                         INSERT resource_version; 201 with the body
 *   PUT  /fhir/:type/:id  JSON.parse, then in one transaction: SELECT ... FOR UPDATE, UPDATE
 *                         resource (or INSERT when new), INSERT resource_version; 200/201 with the body
 *   POST /fhir            a transaction Bundle of new resources (PUT entries): JSON.parse, meta, then
 *                         in one transaction one multi-row INSERT into resource and one into
 *                         resource_version; 200 with a transaction-response of statuses and locations
 */
import { randomUUID } from 'node:crypto';
import express, { type Response } from 'express';
import pg from 'pg';

const CURRENT = 'SELECT rid, type, id, version, last_updated AS "lastUpdated", deleted, content FROM resource';

interface Row {
  rid: string;
  version: number;
  lastUpdated: Date;
  deleted: boolean;
  content: string | null;
}

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DATABASE_POOL_SIZE ?? 10) });
const app = express();
app.disable('x-powered-by');
app.disable('etag');

function send(res: Response, status: number, type: string, id: string, version: number, lastUpdated: Date, body: string) {
  res
    .status(status)
    .set({
      'Content-Type': 'application/fhir+json; charset=utf-8',
      ETag: `W/"${version}"`,
      'Last-Modified': lastUpdated.toUTCString(),
      ...(status === 201 ? { Location: `/fhir/${type}/${id}/_history/${version}` } : {}),
    })
    .end(body);
}

app.get('/healthz', (_req, res) => {
  res.json({ status: 'ok' });
});

app.get('/fhir/:type/:id', async (req, res) => {
  const { type, id } = req.params;
  const row = (await pool.query<Row>(`${CURRENT} WHERE type = $1 AND id = $2`, [type, id])).rows[0];
  if (!row) res.status(404).end();
  else if (row.deleted) res.status(410).end();
  else send(res, 200, type, id, row.version, row.lastUpdated, row.content as string);
});

/** Writes the next version of type/id in one transaction, as writeVersion does without the index. */
async function write(type: string, id: string, resource: Record<string, unknown>, method: 'POST' | 'PUT') {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const previous = method === 'PUT' ? (await client.query<Row>(`${CURRENT} WHERE type = $1 AND id = $2 FOR UPDATE`, [type, id])).rows[0] : undefined;
    const version = (previous?.version ?? 0) + 1;
    const lastUpdated = new Date();
    const content = JSON.stringify({ ...resource, id, meta: { versionId: String(version), lastUpdated: lastUpdated.toISOString() } });
    let rid = previous?.rid;
    if (rid) {
      await client.query('UPDATE resource SET version = $2, last_updated = $3, deleted = $4, content = $5 WHERE rid = $1', [
        rid,
        version,
        lastUpdated,
        false,
        content,
      ]);
    } else {
      const inserted = await client.query<{ rid: string }>(
        'INSERT INTO resource (type, id, version, last_updated, deleted, content) VALUES ($1, $2, $3, $4, $5, $6) RETURNING rid',
        [type, id, version, lastUpdated, false, content],
      );
      rid = inserted.rows[0].rid;
    }
    await client.query('INSERT INTO resource_version (rid, version, type, id, last_updated, method, content) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
      rid,
      version,
      type,
      id,
      lastUpdated,
      method,
      content,
    ]);
    await client.query('COMMIT');
    return { status: previous ? 200 : 201, version, lastUpdated, content };
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  } finally {
    client.release();
  }
}

app.post('/fhir/:type', express.text({ type: () => true, limit: '64mb' }), async (req, res) => {
  const { type } = req.params;
  const id = randomUUID();
  const w = await write(type, id, JSON.parse(req.body as string) as Record<string, unknown>, 'POST');
  send(res, w.status, type, id, w.version, w.lastUpdated, w.content);
});

app.put('/fhir/:type/:id', express.text({ type: () => true, limit: '64mb' }), async (req, res) => {
  const { type, id } = req.params;
  const w = await write(type, id, JSON.parse(req.body as string) as Record<string, unknown>, 'PUT');
  send(res, w.status, type, id, w.version, w.lastUpdated, w.content);
});

/** The rows of a transaction of creations, as bare as they come: one INSERT per table of every row at once. */
app.post('/fhir', express.text({ type: () => true, limit: '64mb' }), async (req, res) => {
  const bundle = JSON.parse(req.body as string) as { entry: { resource: Record<string, unknown> & { resourceType: string; id: string } }[] };
  const lastUpdated = new Date();
  const rows = bundle.entry.map(({ resource }) => ({
    type: resource.resourceType,
    id: resource.id,
    content: JSON.stringify({ ...resource, meta: { versionId: '1', lastUpdated: lastUpdated.toISOString() } }),
  }));
  const [types, ids, contents] = [rows.map((r) => r.type), rows.map((r) => r.id), rows.map((r) => r.content)];
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(
      `WITH inserted AS (
         INSERT INTO resource (type, id, version, last_updated, deleted, content)
         SELECT t, i, 1, $4, false, c FROM unnest($1::text[], $2::text[], $3::text[]) AS u (t, i, c) RETURNING rid, type, id, content)
       INSERT INTO resource_version (rid, version, type, id, last_updated, method, content)
       SELECT rid, 1, type, id, $4, 'PUT', content FROM inserted`,
      [types, ids, contents, lastUpdated],
    );
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  } finally {
    client.release();
  }
  res
    .status(200)
    .type('application/fhir+json')
    .json({
      resourceType: 'Bundle',
      type: 'transaction-response',
      entry: rows.map((r) => ({ response: { status: '201 Created', location: `${r.type}/${r.id}/_history/1`, lastModified: lastUpdated.toISOString() } })),
    });
});

const port = Number(process.env.PORT ?? 8081);
app.listen(port, '127.0.0.1', () => console.log(`ceiling listening on http://127.0.0.1:${port}`));
