import type { Queryable } from './db.js';

/** A person who may log in: a Practitioner, with a password hash for local logins. */
export interface UserRow {
  id: string;
  practitionerId: string;
  username: string | null;
  passwordHash: string | null;
  active: boolean;
}

const COLUMNS = 'id, practitioner_id AS "practitionerId", username, password_hash AS "passwordHash", active';

export async function insertUser(q: Queryable, u: UserRow): Promise<void> {
  await q.query('INSERT INTO app_user (id, practitioner_id, username, password_hash, active) VALUES ($1, $2, $3, $4, $5)', [
    u.id,
    u.practitionerId,
    u.username,
    u.passwordHash,
    u.active,
  ]);
}

export async function updateUser(q: Queryable, u: UserRow): Promise<void> {
  await q.query('UPDATE app_user SET username = $2, password_hash = $3, active = $4 WHERE id = $1', [u.id, u.username, u.passwordHash, u.active]);
}

export async function findUser(q: Queryable, by: 'id' | 'username' | 'practitioner_id', value: string): Promise<UserRow | undefined> {
  const rows = await q.query<UserRow>(`SELECT ${COLUMNS} FROM app_user WHERE ${by} = $1`, [value]);
  return rows[0];
}

export function listUsers(q: Queryable): Promise<UserRow[]> {
  return q.query<UserRow>(`SELECT ${COLUMNS} FROM app_user ORDER BY created_at`);
}
