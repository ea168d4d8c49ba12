import type { Queryable } from './db.js';

/** What a user (or nobody, for a backend) granted a client; codes and refresh tokens point to it. */
export interface GrantRow {
  id: string;
  clientId: string;
  userId: string | null;
  scope: string;
  context: Record<string, unknown>;
  expiresAt: Date;
}

const GRANT = 'g.id, g.client_id AS "clientId", g.user_id AS "userId", g.scope, g.context, g.expires_at AS "expiresAt"';

export async function insertGrant(q: Queryable, g: GrantRow): Promise<void> {
  await q.query('INSERT INTO oauth_grant (id, client_id, user_id, scope, context, expires_at) VALUES ($1, $2, $3, $4, $5, $6)', [
    g.id,
    g.clientId,
    g.userId,
    g.scope,
    JSON.stringify(g.context),
    g.expiresAt,
  ]);
}

export interface CodeRow {
  grant: GrantRow;
  redirectUri: string;
  codeChallenge: string;
  nonce: string | null;
  expiresAt: Date;
}

export async function insertCode(q: Queryable, hash: string, c: Omit<CodeRow, 'grant'> & { grantId: string }): Promise<void> {
  await q.query('INSERT INTO oauth_code (code_hash, grant_id, redirect_uri, code_challenge, nonce, expires_at) VALUES ($1, $2, $3, $4, $5, $6)', [
    hash,
    c.grantId,
    c.redirectUri,
    c.codeChallenge,
    c.nonce,
    c.expiresAt,
  ]);
}

/**
 * Marks a code used and returns it with its grant; `reused` when it had been used before (the
 * caller then revokes the grant), nothing for an unknown code.
 */
export async function consumeCode(q: Queryable, hash: string): Promise<(CodeRow & { reused: boolean }) | undefined> {
  const rows = await q.query<GrantRow & { redirectUri: string; codeChallenge: string; nonce: string | null; codeExpiresAt: Date }>(
    `SELECT ${GRANT}, c.redirect_uri AS "redirectUri", c.code_challenge AS "codeChallenge", c.nonce, c.expires_at AS "codeExpiresAt"
       FROM oauth_code c JOIN oauth_grant g ON g.id = c.grant_id WHERE c.code_hash = $1`,
    [hash],
  );
  if (!rows[0]) return undefined;
  const marked = await q.query('UPDATE oauth_code SET used_at = now() WHERE code_hash = $1 AND used_at IS NULL RETURNING 1', [hash]);
  const { redirectUri, codeChallenge, nonce, codeExpiresAt, ...grant } = rows[0];
  return { grant, redirectUri, codeChallenge, nonce, expiresAt: codeExpiresAt, reused: marked.length === 0 };
}

export async function insertRefreshToken(q: Queryable, hash: string, grantId: string, expiresAt: Date): Promise<void> {
  await q.query('INSERT INTO refresh_token (token_hash, grant_id, expires_at) VALUES ($1, $2, $3)', [hash, grantId, expiresAt]);
}

/** A refresh token's grant and state, without changing it. */
export async function findRefreshToken(q: Queryable, hash: string): Promise<{ grant: GrantRow; expiresAt: Date; used: boolean } | undefined> {
  const rows = await q.query<GrantRow & { tokenExpiresAt: Date; used: boolean }>(
    `SELECT ${GRANT}, r.expires_at AS "tokenExpiresAt", r.used_at IS NOT NULL AS used
       FROM refresh_token r JOIN oauth_grant g ON g.id = r.grant_id WHERE r.token_hash = $1`,
    [hash],
  );
  if (!rows[0]) return undefined;
  const { tokenExpiresAt, used, ...grant } = rows[0];
  return { grant, expiresAt: tokenExpiresAt, used };
}

/** Marks a refresh token used; false when another request used it first. */
export async function useRefreshToken(q: Queryable, hash: string): Promise<boolean> {
  const rows = await q.query('UPDATE refresh_token SET used_at = now() WHERE token_hash = $1 AND used_at IS NULL RETURNING 1', [hash]);
  return rows.length === 1;
}

/** Records a revoked token id (jti) or grant id until `expiresAt`, when nothing it covers is valid anyway. */
export async function revoke(q: Queryable, id: string, expiresAt: Date): Promise<void> {
  await q.query('INSERT INTO revocation (id, expires_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING', [id, expiresAt]);
}

/** Whether any of the ids (a token's jti, its grant) is revoked, as the database says now. */
export async function anyRevoked(q: Queryable, ids: string[]): Promise<boolean> {
  const rows = await q.query('SELECT 1 FROM revocation WHERE id = ANY($1::text[]) LIMIT 1', [ids]);
  return rows.length > 0;
}

/** The ids revoked and not yet expired. */
export async function listRevoked(q: Queryable): Promise<string[]> {
  return (await q.query<{ id: string }>('SELECT id FROM revocation WHERE expires_at > now()')).map((r) => r.id);
}
