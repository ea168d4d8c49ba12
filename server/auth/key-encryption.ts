import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { compactDecrypt, CompactEncrypt, decodeProtectedHeader } from 'jose';
import type { Config } from '../config.js';

/** The file a server on the embedded database keeps the key it generated in, in DATA_DIR beside the database's own files. */
export const GENERATED_KEY_FILE = 'key-encryption-key';
const SETTING = 'KEY_ENCRYPTION_KEY (or KEY_ENCRYPTION_KEY_FILE)';

/** A key given as 32 bytes in base64 (`openssl rand -base64 32`), base64url or hex. */
export function parseKey(text: string, where = SETTING): Uint8Array {
  const t = text.trim();
  const bytes = /^[0-9a-f]{64}$/i.test(t) ? Buffer.from(t, 'hex') : /^[A-Za-z0-9+/_-]{43}=?$/.test(t) ? Buffer.from(t, 'base64url') : undefined;
  if (bytes?.length !== 32) throw new Error(`${where}: a key is 32 bytes in base64 or hex (openssl rand -base64 32)`);
  return new Uint8Array(bytes);
}

/** A key's id in the JWE header: a digest, so that the key itself is never written anywhere. */
const kidOf = (key: Uint8Array) => createHash('sha256').update(key).digest('base64url').slice(0, 16);

/**
 * Encryption at rest of the token signing keys' private parts: a compact JWE (`dir`, A256GCM)
 * under the operator's key, whose id is in its header. The first key encrypts; the others (the
 * previous ones, in a rotation) still decrypt.
 */
export class KeyEncryption {
  private readonly keys = new Map<string, Uint8Array>();
  private readonly current: string;

  constructor(keys: Uint8Array[]) {
    if (!keys.length) throw new Error('KeyEncryption needs a key');
    for (const key of keys) if (!this.keys.has(kidOf(key))) this.keys.set(kidOf(key), key);
    this.current = kidOf(keys[0]);
  }

  encrypt(text: string): Promise<string> {
    return new CompactEncrypt(new TextEncoder().encode(text))
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: this.current })
      .encrypt(this.keys.get(this.current) as Uint8Array);
  }

  /** Whether `stored` is encrypted under the current key (else it is plain, or under an older key). */
  isCurrent(stored: string): boolean {
    return !isPlain(stored) && decodeProtectedHeader(stored).kid === this.current;
  }

  /** The text of `stored`: decrypted, or as it is when it was stored plain (before encryption at rest). */
  async decrypt(stored: string, what: string): Promise<string> {
    if (isPlain(stored)) return stored;
    const key = this.keys.get(String(decodeProtectedHeader(stored).kid));
    if (!key) throw new Error(`${what} is encrypted under a key that ${SETTING} does not hold`);
    return new TextDecoder().decode((await compactDecrypt(stored, key)).plaintext);
  }
}

/** A JWK stored before encryption at rest is JSON; a compact JWE is not. */
const isPlain = (stored: string) => stored.trimStart().startsWith('{');

/**
 * The key encryption in force for an authorization server: the operator's keys (a key this
 * server generated before still decrypts); with none given, on the embedded database, a key
 * generated once into DATA_DIR (or kept in memory with a throw-away database). A shared database
 * (DATABASE_URL) needs the operator's key: a key on one machine's disk would not do for the others.
 */
export function keyEncryptionFor(config: Config, logger: Logger): KeyEncryption {
  const embedded = !config.databaseUrl;
  const inMemory = config.dataDir.startsWith('memory://');
  const file = embedded && !inMemory ? join(config.dataDir, GENERATED_KEY_FILE) : undefined;
  const generated = file && existsSync(file) ? parseKey(readFileSync(file, 'utf8'), file) : undefined;
  if (config.keyEncryptionKeys?.length) {
    const keys = config.keyEncryptionKeys.map((k) => parseKey(k));
    if (generated) logger.info({ file }, 'The key encryption key generated before still decrypts: delete its file once the keys are re-encrypted.');
    return new KeyEncryption(generated ? [...keys, generated] : keys);
  }
  if (!embedded) {
    throw new Error(
      `AUTH is on with DATABASE_URL: set ${SETTING} to a key of 32 random bytes (openssl rand -base64 32). It encrypts the token signing keys held in the database.`,
    );
  }
  if (!file) return new KeyEncryption([randomBytes(32)]);
  if (generated) return new KeyEncryption([generated]);
  mkdirSync(config.dataDir, { recursive: true });
  const key = randomBytes(32);
  writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  logger.warn(
    { file },
    'Generated the key that encrypts the token signing keys at rest, in this file (mode 0600): keep it out of the database backups, or give your own with KEY_ENCRYPTION_KEY.',
  );
  return new KeyEncryption([key]);
}
