import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compactDecrypt, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair } from 'jose';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { DATABASES, freshPostgresDatabase, freePort, pgliteFrom, startTestServer, type TestServer } from '../../tests/harness.js';
import { operatorToken, OPERATOR } from '../../tests/smart.js';
import { loadConfig } from '../config.js';
import { startServer } from '../main.js';
import { openPostgres, type Database } from '../store/db.js';
import { migrate } from '../store/migrate.js';
import { insertSigningKey } from '../store/signing-keys.js';
import { GENERATED_KEY_FILE, parseKey } from './key-encryption.js';

const key = (byte: number) => Buffer.alloc(32, byte).toString('base64');
const [K1, K2, K3] = [key(11), key(12), key(13)];
const rows = (db: Database) => db.query<{ kid: string; private_jwk: string }>('SELECT kid, private_jwk FROM signing_key ORDER BY created_at');

/** The private JWK of a stored row, decrypted with `k`; throws if it is not a JWE under `k`. */
async function opened(stored: string, k: string): Promise<Record<string, unknown>> {
  return JSON.parse(new TextDecoder().decode((await compactDecrypt(stored, parseKey(k))).plaintext)) as Record<string, unknown>;
}

/** The signing keys at rest, per database: encrypted, re-encrypted at rotation, plain ones sealed at the first start with a key. */
describe.each(DATABASES)('token signing keys encrypted at rest on %s', (kind) => {
  const dir = mkdtempSync(join(tmpdir(), 'maillage-keys-'));
  let pgDatabase: Awaited<ReturnType<typeof freshPostgresDatabase>> | undefined;
  const started: TestServer[] = [];
  afterAll(async () => {
    for (const s of started) await s.close();
    await pgDatabase?.drop();
    rmSync(dir, { recursive: true, force: true });
  });
  // One database across restarts: a PostgreSQL database of the test's own, or PGlite in a folder.
  const where = async () => {
    if (kind === 'postgres') return { databaseUrl: (pgDatabase ??= await freshPostgresDatabase('migrated')).url };
    return { dataDir: join(dir, 'db') };
  };
  // The same origin at every start: tokens are bound to it.
  let port: number | undefined;
  const start = async (keys: string[] | undefined) => {
    port ??= await freePort();
    const address = { port, origin: `http://127.0.0.1:${port}` };
    const server = await startTestServer('pglite', { auth: true, ...OPERATOR, ...address, ...(await where()), keyEncryptionKeys: keys });
    started.push(server);
    return server;
  };
  const stop = async (server: TestServer) => {
    await server.close();
    started.splice(started.indexOf(server), 1);
  };

  it('seals keys stored plain at the first start with a key, re-encrypts them at a rotation, and refuses a key it does not have', async () => {
    // A database from before encryption at rest: its signing key stored as a plain JWK.
    const place = await where();
    const db = place.databaseUrl ? openPostgres(place.databaseUrl, 1) : await pgliteFrom('migrated', place.dataDir);
    await migrate(db);
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const kid = 'plain-before';
    await insertSigningKey(
      db,
      kid,
      JSON.stringify({ ...(await exportJWK(privateKey)), kid, alg: 'RS256' }),
      JSON.stringify({ ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' }),
    );
    await db.close();

    let server = await start([K1]);
    const [sealed] = await rows(server.db);
    expect(sealed.kid).toBe(kid);
    expect(sealed.private_jwk).not.toContain('"d"');
    expect(decodeProtectedHeader(sealed.private_jwk)).toMatchObject({ alg: 'dir', enc: 'A256GCM' });
    expect(await opened(sealed.private_jwk, K1)).toMatchObject({ kid, d: expect.any(String) });
    // The key signs as before.
    const token = await operatorToken(server.url);
    expect(decodeProtectedHeader(token).kid).toBe(kid);
    await stop(server);

    // Rotation: K2 first, K1 still decrypts; at start the keys are encrypted under K2.
    server = await start([K2, K1]);
    const [resealed] = await rows(server.db);
    expect(await opened(resealed.private_jwk, K2)).toMatchObject({ kid });
    await expect(opened(resealed.private_jwk, K1)).rejects.toThrow();
    const reply = await fetch(`${server.base}/Patient`, { headers: { authorization: `Bearer ${token}` } });
    expect(reply.status).toBe(200);
    await stop(server);

    // K1 can go; a key that encrypts none of them cannot start the server.
    server = await start([K2]);
    expect(decodeJwt(await operatorToken(server.url)).iss).toBe(`${server.url}/auth`);
    await stop(server);
    await expect(start([K3])).rejects.toThrow(/KEY_ENCRYPTION_KEY/);
  }, 300_000);
});

describe('a key encryption key at start', () => {
  it('with DATABASE_URL and AUTH on, none given: the server refuses to start, naming the setting', async () => {
    const config = { ...loadConfig({ DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', LOG_LEVEL: 'silent' }), port: await freePort() };
    await expect(startServer(config, pino({ level: 'silent' }))).rejects.toThrow(/KEY_ENCRYPTION_KEY/);
  });

  it('on the embedded database, none given: one generated into DATA_DIR (mode 0600), said in the log, kept, and decrypting once a key is given', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'maillage-kek-'));
    const logs: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => logs.push(line) });
    const config = async (env: Record<string, string> = {}) => ({
      ...loadConfig({ DATA_DIR: dataDir, SEED: 'none', TERMINOLOGY: 'none', ...env }),
      port: await freePort(),
    });
    try {
      // The first start's database is opened from the empty one the global setup made (initdb costs seconds).
      let server = await startServer(await config(), logger, { database: await pgliteFrom('empty', dataDir) });
      const file = join(dataDir, GENERATED_KEY_FILE);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(logs.some((l) => l.includes(GENERATED_KEY_FILE) && JSON.parse(l).level === 40)).toBe(true);
      const generated = readFileSync(file, 'utf8').trim();
      const [first] = await rows(server.db);
      expect(await opened(first.private_jwk, generated)).toMatchObject({ kid: first.kid });
      await server.close();

      // The same key at the next start; then the operator's, under which the keys are sealed anew.
      server = await startServer(await config(), logger);
      expect((await rows(server.db))[0].private_jwk).toBe(first.private_jwk);
      await server.close();
      server = await startServer(await config({ KEY_ENCRYPTION_KEY: K1 }), logger);
      expect(await opened((await rows(server.db))[0].private_jwk, K1)).toMatchObject({ kid: first.kid });
      await server.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 300_000);
});
