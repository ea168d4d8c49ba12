import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maillage } from './cli.js';
import { spawnServer, TEST_KEY_ENCRYPTION_KEY, type ServerProcess } from './harness.js';
import { call, OPERATOR, operatorToken, writeLabGatewayClientsFile } from './smart.js';

/** A database URL on TEST_DATABASE_URL's server, as the role of the guide. */
function urlAs(role: string, password: string, database: string): string {
  const url = new URL(process.env.TEST_DATABASE_URL as string);
  url.username = role;
  url.password = password;
  url.pathname = `/${database}`;
  return url.toString();
}

async function admin(sql: string[]): Promise<void> {
  const c = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  await c.connect();
  try {
    for (const s of sql) await c.query(s);
  } finally {
    await c.end();
  }
}

// docs/deploy.md, its steps marked ✔, in order, on an empty PostgreSQL database and with the
// production settings: each step is what an operator types, in a process of its own.
describe.runIf(process.env.TEST_DATABASE_URL)('the deployment guide (docs/deploy.md) on an empty PostgreSQL', () => {
  const suffix = randomBytes(4).toString('hex');
  const role = `maillage_${suffix}`;
  const password = randomBytes(12).toString('hex');
  const databases = [`maillage_${suffix}`, `maillage_${suffix}_restored`];
  const url = urlAs(role, password, databases[0]);
  const folder = mkdtempSync(join(tmpdir(), 'maillage-deploy-'));
  const servers: ServerProcess[] = [];
  const appSecret = 'the-lab-gateway-secret';
  let env: Record<string, string>;

  beforeAll(async () => {
    // §1: the role and its database (no superuser).
    await admin([`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`, `CREATE DATABASE ${databases[0]} OWNER ${role} ENCODING 'UTF8' TEMPLATE template0`]);
    const clientsFile = join(folder, 'clients.json');
    writeLabGatewayClientsFile(clientsFile, appSecret);
    // §3: the production settings. SEED is left unset (the empty string is unset), as an operator would.
    env = {
      SEED: '',
      AUTH: 'on',
      DATABASE_URL: url,
      BASE_URL: 'https://dossier.pole.example',
      TRUST_PROXY: 'loopback',
      KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY,
      RECORD_HOLDERS: 'org-msp',
      CLIENT_ORGANIZATIONS: 'lab-gateway=org-msp',
      CLIENTS_FILE: clientsFile,
      BOOTSTRAP_CLIENT_ID: OPERATOR.bootstrapClientId,
      BOOTSTRAP_CLIENT_SECRET: OPERATOR.bootstrapClientSecret,
      PASSWORD_LOGIN: 'off',
      AUDIT_RETENTION_DAYS: '1095',
    };
  });
  afterAll(async () => {
    for (const s of servers) s.child.kill('SIGTERM');
    await Promise.all(servers.map((s) => s.exited));
    await admin([...databases.map((d) => `DROP DATABASE IF EXISTS ${d} WITH (FORCE)`), `DROP ROLE IF EXISTS ${role}`]);
    rmSync(folder, { recursive: true, force: true });
  });

  it('§2 creates the schema with maillage migrate, then finds it up to date', async () => {
    const first = await maillage(['migrate'], env);
    expect(first.stderr).toBe('');
    expect(first.stdout).toMatch(/^Applied migrations 1, 2, /);
    expect((await maillage(['migrate'], env)).stdout).toBe('Schema is up to date\n');
  });

  it('§3–4 serves an empty pôle: no demo, no demo login, the clients of the file, the public origin', async () => {
    const server = await spawnServer(env);
    servers.push(server);
    const origin = server.url;
    const token = await operatorToken(origin);
    for (const type of ['Patient', 'Organization', 'Practitioner', 'CareTeam']) {
      const found = await call('GET', `${origin}/fhir/${type}?_summary=count`, token);
      expect([type, found.status, found.body.total]).toEqual([type, 200, 0]);
    }
    expect((await call('GET', `${origin}/auth/admin/users`, token)).body).toEqual([]);
    const clients = (await call('GET', `${origin}/auth/admin/clients`, token)).body.map((c: { client_id: string }) => c.client_id);
    expect(clients).toEqual(expect.arrayContaining(['lab-gateway', OPERATOR.bootstrapClientId]));
    // The public origin names the FHIR base, behind the proxy's https.
    const metadata = await call('GET', `${origin}/fhir/.well-known/smart-configuration`, token);
    expect(metadata.body.token_endpoint).toBe('https://dossier.pole.example/auth/token');
    expect(server.child.exitCode).toBeNull();
  });

  it('§4 enrols a professional of the directory for Pro Santé Connect with maillage user add while the servers run', async () => {
    const origin = servers[0].url;
    const token = await operatorToken(origin);
    const practitioner = {
      resourceType: 'Practitioner',
      id: 'pr-infirmiere',
      identifier: [{ system: 'urn:oid:1.2.250.1.71.4.2.1', value: '810100000001' }],
      name: [{ family: 'Martin', given: ['Claire'] }],
    };
    expect((await call('PUT', `${origin}/fhir/Practitioner/pr-infirmiere`, token, practitioner)).status).toBe(201);
    const added = await maillage(['user', 'add', '--practitioner', 'pr-infirmiere'], env);
    expect(added.stderr).toBe('');
    expect(added.stdout).toMatch(/is Practitioner\/pr-infirmiere\n$/);
    const listed = await maillage(['user', 'list'], env);
    expect(listed.stdout.split('\n')[0]).toBe('id\tpractitioner\tlogin\tstatus');
    expect(listed.stdout).toMatch(/\tPractitioner\/pr-infirmiere\t-\tactive\n$/);
    // The running server sees the user the command added (one database).
    const users = (await call('GET', `${origin}/auth/admin/users`, token)).body;
    expect(users).toHaveLength(1);
  });

  it('§5 restores a backup into a new database, which a server serves as it was', async () => {
    const origin = servers[0].url;
    const token = await operatorToken(origin);
    const patient = { resourceType: 'Patient', id: 'p-restore', name: [{ family: 'Restauré', given: ['Paul'] }], birthDate: '1950-01-02' };
    expect((await call('PUT', `${origin}/fhir/Patient/p-restore`, token, patient)).status).toBe(201);
    const dump = join(folder, 'maillage.dump');
    execFileSync('pg_dump', ['--format=custom', `--file=${dump}`, url]);
    await admin([`CREATE DATABASE ${databases[1]} OWNER ${role} ENCODING 'UTF8' TEMPLATE template0`]);
    execFileSync('pg_restore', ['--no-owner', `--role=${role}`, `--dbname=${urlAs(role, password, databases[1])}`, dump]);
    expect(readFileSync(dump).length).toBeGreaterThan(0);

    const restored = await spawnServer({ ...env, DATABASE_URL: urlAs(role, password, databases[1]) });
    servers.push(restored);
    const again = await operatorToken(restored.url);
    const read = await call('GET', `${restored.url}/fhir/Patient/p-restore`, again);
    expect(read.status).toBe(200);
    expect(read.body.name[0].family).toBe('Restauré');
    // The audit trail came with it: the write above is there.
    const audit = await call('GET', `${restored.url}/fhir/AuditEvent?entity=Patient/p-restore`, again);
    expect(audit.body.total ?? audit.body.entry?.length).toBeGreaterThan(0);
    // Its users and signing keys too: the restored server accepts a token of the first (same key).
    expect((await call('GET', `${restored.url}/fhir/Patient/p-restore`, token)).status).toBe(200);
  });
});
