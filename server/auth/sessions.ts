import { randomBytes } from 'node:crypto';
import type { Database } from '../store/db.js';
import { deleteLoginSession, readLoginSession, writeLoginSession } from '../store/oauth-state.js';
import type { AuthorizationRequest } from './authorization.js';
import { digest } from './grants.js';

const SESSION_SECONDS = 15 * 60;

/** Where an interactive authorization stands, between its pages. */
export interface LoginState {
  /** Echoed by every form of the session's pages (with SameSite cookies, against cross-site posts). */
  csrf: string;
  request: AuthorizationRequest;
  user?: { id: string; practitionerId: string; authTime: number; acr?: string };
  /** The PractitionerRole id the user acts in, once chosen. */
  role?: string;
  /** The patient picked, while the encounter is being picked. */
  patient?: string;
  /** The login under way at the OpenID Connect provider. */
  oidc?: { state: string; nonce: string; verifier: string };
}

/**
 * Login sessions, in the database (any process may serve the next page), keyed by a digest of
 * the random id the browser holds in a cookie. They last 15 minutes from the authorization request.
 */
export class LoginSessions {
  constructor(private readonly db: Database) {}

  async start(request: AuthorizationRequest): Promise<{ id: string; state: LoginState }> {
    const id = randomBytes(32).toString('base64url');
    const state: LoginState = { csrf: randomBytes(24).toString('base64url'), request };
    await writeLoginSession(this.db, digest(id), state, new Date(Date.now() + SESSION_SECONDS * 1000));
    return { id, state };
  }

  get(id: string): Promise<LoginState | undefined> {
    return readLoginSession<LoginState>(this.db, digest(id));
  }

  async save(id: string, state: LoginState): Promise<void> {
    await writeLoginSession(this.db, digest(id), state, new Date(Date.now() + SESSION_SECONDS * 1000));
  }

  async end(id: string): Promise<void> {
    await deleteLoginSession(this.db, digest(id));
  }
}

export const SESSION_MAX_AGE = SESSION_SECONDS;
