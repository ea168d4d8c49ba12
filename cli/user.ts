import type { Command } from 'commander';
import { loadConfig } from '../server/config.js';
import { openDatabase } from '../server/main.js';
import type { Database } from '../server/store/db.js';
import { migrate } from '../server/store/migrate.js';
import { readCurrent } from '../server/store/resources.js';
import { UserService } from '../server/auth/users.js';
import { DEMO_USERS, formatDemoCredentials, resetDemoUsers } from '../seed/demo/users.js';

async function withUsers(fn: (users: UserService, db: Database) => Promise<void>): Promise<void> {
  const db = await openDatabase(loadConfig());
  try {
    await migrate(db);
    await fn(new UserService(db), db);
  } finally {
    await db.close();
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/**
 * `maillage user add|list`: enrols Practitioners as users (the admin API does the same over
 * HTTP). The password comes on standard input, never on the command line (it would show in `ps`).
 */
export function addUserCommands(program: Command): void {
  const user = program.command('user').description('the people who may log in to the authorization server');
  user
    .command('add')
    .description('enrol a Practitioner as a user; with --username, the password is read from standard input')
    .requiredOption('--practitioner <id>', 'the Practitioner id (Pro Santé Connect logins match its IDNPS)')
    .option('--username <name>', 'a local login, for development and the demo')
    .action((opts: { practitioner: string; username?: string }) =>
      withUsers(async (users, db) => {
        const id = opts.practitioner.replace(/^Practitioner\//, '');
        const practitioner = await readCurrent(db, 'Practitioner', id);
        if (!practitioner || practitioner.deleted) throw new Error(`Practitioner/${id} does not exist`);
        const password = opts.username ? await readStdin() : undefined;
        const created = await users.create({ practitionerId: id, username: opts.username, password });
        console.log(`User ${created.id} is Practitioner/${id}${created.username ? `, login ${created.username}` : ''}`);
      }),
    );
  user
    .command('demo')
    .description("gives the demo pôle's users (one per role) new passwords, creating them when missing, and prints them")
    .action(() =>
      withUsers(async (users, db) => {
        for (const u of DEMO_USERS) {
          const found = await readCurrent(db, 'Practitioner', u.practitionerId);
          if (!found || found.deleted) throw new Error(`Practitioner/${u.practitionerId} does not exist: load the demo pôle first (npx maillage seed --demo)`);
        }
        console.log(formatDemoCredentials(await resetDemoUsers(users)));
      }),
    );
  user
    .command('list')
    .description('list the users')
    .action(() =>
      withUsers(async (users) => {
        const all = await users.list();
        if (!all.length) {
          console.log('No user yet: enrol one with maillage user add --practitioner ID [--username NAME]');
          return;
        }
        console.log(['id', 'practitioner', 'login', 'status'].join('\t'));
        for (const u of all) console.log([u.id, `Practitioner/${u.practitionerId}`, u.username ?? '-', u.active ? 'active' : 'disabled'].join('\t'));
      }),
    );
}
