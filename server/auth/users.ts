import { randomUUID } from 'node:crypto';
import type { Database } from '../store/db.js';
import { findUser, insertUser, listUsers, updateUser, type UserRow } from '../store/app-users.js';
import { DUMMY_HASH, hashPassword, verifyPassword } from './passwords.js';

export type { UserRow };

const MIN_PASSWORD = 12;

function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD) throw new Error(`The password must have at least ${MIN_PASSWORD} characters`);
}

/** The people who may log in: each is a Practitioner; local passwords are optional. */
export class UserService {
  constructor(private readonly db: Database) {}

  /** The active user with this username and password; the same work is done for an unknown name. */
  async passwordLogin(username: string, password: string): Promise<UserRow | undefined> {
    const user = await findUser(this.db, 'username', username);
    const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
    return ok && user?.active ? user : undefined;
  }

  /** The active user who is this Practitioner (a login through the OpenID Connect provider). */
  async byPractitioner(practitionerId: string): Promise<UserRow | undefined> {
    const user = await findUser(this.db, 'practitioner_id', practitionerId);
    return user?.active ? user : undefined;
  }

  find(id: string): Promise<UserRow | undefined> {
    return findUser(this.db, 'id', id);
  }

  list(): Promise<UserRow[]> {
    return listUsers(this.db);
  }

  /** Enrols a Practitioner (whose existence the caller checked); throws with the reason when refused. */
  async create(u: { practitionerId: string; username?: string; password?: string }): Promise<UserRow> {
    if (u.password !== undefined) checkPassword(u.password);
    if ((u.username === undefined) !== (u.password === undefined)) throw new Error('username and password go together');
    if (await findUser(this.db, 'practitioner_id', u.practitionerId)) throw new Error(`Practitioner/${u.practitionerId} is already a user`);
    if (u.username && (await findUser(this.db, 'username', u.username))) throw new Error(`username ${u.username} is taken`);
    const row: UserRow = {
      id: randomUUID(),
      practitionerId: u.practitionerId,
      username: u.username ?? null,
      passwordHash: u.password !== undefined ? await hashPassword(u.password) : null,
      active: true,
    };
    await insertUser(this.db, row);
    return row;
  }

  async update(id: string, change: { password?: string; active?: boolean }): Promise<UserRow | undefined> {
    const user = await findUser(this.db, 'id', id);
    if (!user) return undefined;
    if (change.password !== undefined) {
      if (!user.username) throw new Error('This user has no username: a password cannot be set');
      checkPassword(change.password);
      user.passwordHash = await hashPassword(change.password);
    }
    if (change.active !== undefined) user.active = change.active;
    await updateUser(this.db, user);
    return user;
  }
}
