import type { Queryable } from './db.js';

/** Clients registered through the admin API; `metadata` is their registration as JSON. */
export async function findClientMetadata(q: Queryable, clientId: string): Promise<Record<string, unknown> | undefined> {
  const rows = await q.query<{ metadata: Record<string, unknown> }>('SELECT metadata FROM oauth_client WHERE client_id = $1', [clientId]);
  return rows[0]?.metadata;
}

export async function listClientMetadata(q: Queryable): Promise<Record<string, unknown>[]> {
  return (await q.query<{ metadata: Record<string, unknown> }>('SELECT metadata FROM oauth_client ORDER BY created_at')).map((r) => r.metadata);
}

/** Inserts a client; false when the id is taken. */
export async function insertClientMetadata(q: Queryable, clientId: string, metadata: unknown): Promise<boolean> {
  const rows = await q.query('INSERT INTO oauth_client (client_id, metadata) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1', [
    clientId,
    JSON.stringify(metadata),
  ]);
  return rows.length === 1;
}

export async function deleteClientMetadata(q: Queryable, clientId: string): Promise<boolean> {
  return (await q.query('DELETE FROM oauth_client WHERE client_id = $1 RETURNING 1', [clientId])).length === 1;
}
