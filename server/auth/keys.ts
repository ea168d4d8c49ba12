import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import type { Database, Queryable } from '../store/db.js';
import { deleteRetiredSigningKeys, insertSigningKey, listSigningKeys, retireSigningKeys } from '../store/signing-keys.js';

const ALG = 'RS256';
// Any constant: it serialises key generation and rotation between processes.
const KEY_LOCK = 4_271_829;

/**
 * The RS256 keys tokens are signed with, shared by every process through the database: the newest
 * active key signs, every key not yet deleted verifies. A kid this process has not seen (a key
 * another process just created) triggers one reload.
 *
 * Rotation overlaps: a new key signs at once, the retired one stays in the JWKS and keeps
 * verifying for `overlapSeconds` (longer than any token lives), then is deleted.
 */
export class KeyStore {
  private signing?: { kid: string; key: CryptoKey };
  private verifying = new Map<string, CryptoKey>();
  private publicJwks: JWK[] = [];
  private reloadedAt = 0;

  constructor(
    private readonly db: Database,
    private readonly overlapSeconds = 2 * 3600,
  ) {}

  /** Loads the keys, generating the first one at first start. */
  async init(): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [KEY_LOCK]);
      if (!(await listSigningKeys(tx)).some((k) => !k.retiredAt)) await addKey(tx);
    });
    await this.reload();
  }

  /** Rotates when the signing key is older than `maxAgeDays` (or always, with 0); drops keys past their overlap. */
  async rotate(maxAgeDays = 0): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [KEY_LOCK]);
      const newest = (await listSigningKeys(tx)).find((k) => !k.retiredAt);
      if (!newest || Date.now() - newest.createdAt.getTime() >= maxAgeDays * 86_400_000) {
        await retireSigningKeys(tx, await addKey(tx));
      }
      await deleteRetiredSigningKeys(tx, this.overlapSeconds);
    });
    await this.reload();
  }

  async reload(): Promise<void> {
    this.reloadedAt = Date.now();
    const rows = await listSigningKeys(this.db);
    const verifying = new Map<string, CryptoKey>();
    for (const row of rows) verifying.set(row.kid, (await importJWK(JSON.parse(row.publicJwk) as JWK, ALG)) as CryptoKey);
    const newest = rows.find((r) => !r.retiredAt);
    if (newest) this.signing = { kid: newest.kid, key: (await importJWK(JSON.parse(newest.privateJwk) as JWK, ALG)) as CryptoKey };
    this.verifying = verifying;
    this.publicJwks = rows.map((r) => JSON.parse(r.publicJwk) as JWK);
  }

  signingKey(): { kid: string; key: CryptoKey; alg: string } {
    if (!this.signing) throw new Error('KeyStore not initialised');
    return { ...this.signing, alg: ALG };
  }

  async verificationKey(kid: string | undefined): Promise<CryptoKey | undefined> {
    if (!kid) return undefined;
    // At most one reload a second: tokens with made-up kids must not each cost a query.
    if (!this.verifying.has(kid) && Date.now() - this.reloadedAt > 1000) await this.reload();
    return this.verifying.get(kid);
  }

  /** The public keys, for /auth/jwks. */
  jwks(): { keys: JWK[] } {
    return { keys: this.publicJwks };
  }
}

async function addKey(tx: Queryable): Promise<string> {
  const { privateKey, publicKey } = await generateKeyPair(ALG, { extractable: true });
  const kid = randomUUID();
  const pub = { ...(await exportJWK(publicKey)), kid, alg: ALG, use: 'sig' };
  await insertSigningKey(tx, kid, JSON.stringify({ ...(await exportJWK(privateKey)), kid, alg: ALG }), JSON.stringify(pub));
  return kid;
}
