import { COORDINATION_APP_CLIENT_ID } from '../fhir/maillage.js';
import { clientFromMetadata, type OAuthClient } from './clients.js';

/**
 * The registration of the coordinators' SMART app served at /app/, present by default so that
 * `npm start` and a browser on /app/ work: a public client (PKCE, no secret), its redirect URI on
 * our own origin. Undefined when that origin cannot be a redirect URI (plain http off the
 * loopback), which the caller reports.
 */
export function coordinationClient(origin: string): OAuthClient | undefined {
  try {
    return clientFromMetadata({
      client_id: COORDINATION_APP_CLIENT_ID,
      client_name: 'Maillage — coordination des parcours',
      token_endpoint_auth_method: 'none',
      redirect_uris: [`${origin}/app/`],
      scope: 'openid fhirUser launch launch/patient online_access user/*.cruds',
    });
  } catch {
    return undefined;
  }
}
