import type { Queryable } from './db.js';

export interface SigningKeyRow {
  kid: string;
  /** The private JWK, encrypted (a compact JWE, auth/key-encryption.ts); plain JSON in a database from before. */
  privateJwk: string;
  publicJwk: string;
  createdAt: Date;
  retiredAt: Date | null;
}

const COLUMNS = 'kid, private_jwk AS "privateJwk", public_jwk AS "publicJwk", created_at AS "createdAt", retired_at AS "retiredAt"';

export function listSigningKeys(q: Queryable): Promise<SigningKeyRow[]> {
  return q.query<SigningKeyRow>(`SELECT ${COLUMNS} FROM signing_key ORDER BY created_at DESC`);
}

export async function insertSigningKey(q: Queryable, kid: string, privateJwk: string, publicJwk: string): Promise<void> {
  await q.query('INSERT INTO signing_key (kid, private_jwk, public_jwk) VALUES ($1, $2, $3)', [kid, privateJwk, publicJwk]);
}

/** Retires every active key but `keep`: they stop signing and keep verifying for a while. */
export async function retireSigningKeys(q: Queryable, keep: string): Promise<void> {
  await q.query('UPDATE signing_key SET retired_at = now() WHERE retired_at IS NULL AND kid <> $1', [keep]);
}

/** Deletes keys retired more than `seconds` ago: no token they signed is still valid. */
export async function deleteRetiredSigningKeys(q: Queryable, seconds: number): Promise<void> {
  await q.query(`DELETE FROM signing_key WHERE retired_at < now() - make_interval(secs => $1)`, [seconds]);
}

/** Replaces a key's stored private part (encrypted anew). */
export async function updatePrivateKey(q: Queryable, kid: string, privateJwk: string): Promise<void> {
  await q.query('UPDATE signing_key SET private_jwk = $2 WHERE kid = $1', [kid, privateJwk]);
}
