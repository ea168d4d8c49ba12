import type { Queryable } from './db.js';

/** The state of an interactive authorization between its pages; undefined once expired. */
export async function readLoginSession<T>(q: Queryable, idHash: string): Promise<T | undefined> {
  const rows = await q.query<{ state: T }>('SELECT state FROM login_session WHERE id_hash = $1 AND expires_at > now()', [idHash]);
  return rows[0]?.state;
}

export async function writeLoginSession(q: Queryable, idHash: string, state: unknown, expiresAt: Date): Promise<void> {
  await q.query(
    `INSERT INTO login_session (id_hash, state, expires_at) VALUES ($1, $2, $3)
     ON CONFLICT (id_hash) DO UPDATE SET state = excluded.state`,
    [idHash, JSON.stringify(state), expiresAt],
  );
}

export async function deleteLoginSession(q: Queryable, idHash: string): Promise<void> {
  await q.query('DELETE FROM login_session WHERE id_hash = $1', [idHash]);
}

export async function insertLaunchContext(q: Queryable, handleHash: string, clientId: string | undefined, context: unknown, expiresAt: Date): Promise<void> {
  await q.query('INSERT INTO launch_context (handle_hash, client_id, context, expires_at) VALUES ($1, $2, $3, $4)', [
    handleHash,
    clientId ?? null,
    JSON.stringify(context),
    expiresAt,
  ]);
}

/** Uses a launch handle once: its context, if it exists, has not expired and was not used. */
export async function consumeLaunchContext<T>(q: Queryable, handleHash: string): Promise<{ clientId: string | null; context: T } | undefined> {
  const rows = await q.query<{ clientId: string | null; context: T }>(
    `UPDATE launch_context SET used_at = now()
      WHERE handle_hash = $1 AND used_at IS NULL AND expires_at > now()
      RETURNING client_id AS "clientId", context`,
    [handleHash],
  );
  return rows[0];
}

/** Records a client assertion's jti; false if this client had used it already (a replay). */
export async function recordAssertion(q: Queryable, clientId: string, jti: string, expiresAt: Date): Promise<boolean> {
  const rows = await q.query('INSERT INTO client_assertion (client_id, jti, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1', [
    clientId,
    jti,
    expiresAt,
  ]);
  return rows.length === 1;
}

/** Deletes what has expired: sessions, handles, codes, refresh tokens, grants, revocations, assertion ids. */
export async function deleteExpired(q: Queryable): Promise<void> {
  for (const table of ['login_session', 'launch_context', 'refresh_token', 'revocation', 'client_assertion']) {
    await q.query(`DELETE FROM ${table} WHERE expires_at < now()`);
  }
  // Used codes stay while their access tokens live, so that a reused one still revokes them.
  await q.query(`DELETE FROM oauth_code WHERE expires_at < now() - interval '2 hours'`);
  await q.query(`DELETE FROM oauth_grant g WHERE expires_at < now() AND NOT EXISTS (SELECT 1 FROM refresh_token r WHERE r.grant_id = g.id)`);
}
