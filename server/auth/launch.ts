import { randomBytes } from 'node:crypto';
import type { Database } from '../store/db.js';
import { consumeLaunchContext, insertLaunchContext } from '../store/oauth-state.js';
import { digest } from './grants.js';
import type { LaunchContext } from './tokens.js';

export const LAUNCH_SECONDS = 300;

/**
 * EHR launch handles: practice software mints one for the context it launches an app in (patient,
 * encounter, fhirContext), passes it as `launch`, and the app's authorization uses it once.
 */
export class LaunchService {
  constructor(private readonly db: Database) {}

  async mint(context: LaunchContext, clientId?: string): Promise<string> {
    const handle = randomBytes(24).toString('base64url');
    await insertLaunchContext(this.db, digest(handle), clientId, context, new Date(Date.now() + LAUNCH_SECONDS * 1000));
    return handle;
  }

  /** The context of a handle, used up; undefined if unknown, expired, used, or minted for another client. */
  async use(handle: string, clientId: string): Promise<LaunchContext | undefined> {
    const found = await consumeLaunchContext<LaunchContext>(this.db, digest(handle));
    if (!found || (found.clientId && found.clientId !== clientId)) return undefined;
    return found.context;
  }
}
