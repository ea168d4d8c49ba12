import { randomBytes } from 'node:crypto';
import type { UserService } from '../../server/auth/users.js';
import type { DemoCredential } from '../../server/main.js';

/** One demo professional per role a pôle's app is tried with; their passwords are never in the repo. */
export const DEMO_USERS = [
  { username: 'aurelie', practitionerId: 'pr-aurelie-legall', role: 'coordinatrice de la MSP' },
  { username: 'claire', practitionerId: 'pr-claire-morvan', role: 'médecin généraliste' },
  { username: 'elodie', practitionerId: 'pr-elodie-guerin', role: 'infirmière' },
  { username: 'anne', practitionerId: 'pr-anne-lemoine', role: 'pharmacienne' },
  { username: 'lucie', practitionerId: 'pr-lucie-tanguy', role: 'infirmière de sortie, CH de Lysmont' },
] as const;

/**
 * Gives each demo professional a login with a new random password (creating the user when
 * missing): at the first start on the demo pôle, and again on `maillage user demo`. The
 * passwords are returned to be shown once; only their scrypt hashes are kept.
 */
export async function resetDemoUsers(users: UserService): Promise<DemoCredential[]> {
  const existing = await users.list();
  const out: DemoCredential[] = [];
  for (const u of DEMO_USERS) {
    const password = randomBytes(12).toString('base64url');
    const found = existing.find((e) => e.practitionerId === u.practitionerId);
    if (found?.username === u.username) await users.update(found.id, { password, active: true });
    else if (!found) await users.create({ practitionerId: u.practitionerId, username: u.username, password });
    else throw new Error(`Practitioner/${u.practitionerId} is already the user ${found.username ?? found.id}: not a demo login`);
    out.push({ username: u.username, password, role: u.role });
  }
  return out;
}

/** The logins as a table for the console. */
export function formatDemoCredentials(creds: DemoCredential[]): string {
  const width = Math.max(...creds.map((c) => c.username.length));
  return [
    'Demo logins of the Val-de-Lys pôle (passwords shown once; `npx maillage user demo` gives new ones), at /app/:',
    ...creds.map((c) => `  ${c.username.padEnd(width)}  ${c.password}  ${c.role}`),
  ].join('\n');
}
