import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import type { Database, Queryable } from '../store/db.js';
import { deleteRetiredSigningKeys, insertSigningKey, listSigningKeys, retireSigningKeys, updatePrivateKey } from '../store/signing-keys.js';
import type { KeyEncryption } from './key-encryption.js';

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
    /** The private keys are stored encrypted under it. */
    private readonly encryption: KeyEncryption,
    private readonly overlapSeconds = 2 * 3600,
  ) {}

  /**
   * Loads the keys, generating the first one at first start. Keys stored plain (before encryption
   * at rest) or under an older key encryption key are encrypted under the current one.
   */
  async init(): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [KEY_LOCK]);
      const rows = await listSigningKeys(tx);
      for (const row of rows) {
        if (this.encryption.isCurrent(row.privateJwk)) continue;
        const jwk = await this.encryption.decrypt(row.privateJwk, `Signing key ${row.kid}`);
        await updatePrivateKey(tx, row.kid, await this.encryption.encrypt(jwk));
      }
      if (!rows.some((k) => !k.retiredAt)) await this.addKey(tx);
    });
    await this.reload();
  }

  /** Rotates when the signing key is older than `maxAgeDays` (or always, with 0); drops keys past their overlap. */
  async rotate(maxAgeDays = 0): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [KEY_LOCK]);
      const newest = (await listSigningKeys(tx)).find((k) => !k.retiredAt);
      if (!newest || Date.now() - newest.createdAt.getTime() >= maxAgeDays * 86_400_000) {
        await retireSigningKeys(tx, await this.addKey(tx));
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
    if (newest) {
      const jwk = JSON.parse(await this.encryption.decrypt(newest.privateJwk, `Signing key ${newest.kid}`)) as JWK;
      this.signing = { kid: newest.kid, key: (await importJWK(jwk, ALG)) as CryptoKey };
    }
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

  private async addKey(tx: Queryable): Promise<string> {
    const { privateKey, publicKey } = await generateKeyPair(ALG, { extractable: true });
    const kid = randomUUID();
    const pub = { ...(await exportJWK(publicKey)), kid, alg: ALG, use: 'sig' };
    const sealed = await this.encryption.encrypt(JSON.stringify({ ...(await exportJWK(privateKey)), kid, alg: ALG }));
    await insertSigningKey(tx, kid, sealed, JSON.stringify(pub));
    return kid;
  }
}
