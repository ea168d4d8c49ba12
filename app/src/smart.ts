import type Client from 'fhirclient/lib/Client';
import 'fhirclient/build/fhir-client.pure.min.js';
import { ACTING_AS, COORDINATION_APP_CLIENT_ID } from '../../server/fhir/maillage.js';
import { createFhir, type Fhir } from './fhir/http.js';

const { FHIR } = window;
/** The FHIR base of the server that serves the app: the app is registered with it only. */
export const FHIR_BASE = `${location.origin}/fhir`;
const REDIRECT_URI = `${location.origin}/app/`;
// Pôle-wide work needs user-level access; the launch scopes only bring a starting patient.
const BASE_SCOPE = 'openid fhirUser online_access user/*.cruds';

export type LaunchKind = 'pole' | 'patient';

/** Standalone launch from the app's start page: pôle-wide, or with the server's patient picker. */
export function launchStandalone(kind: LaunchKind): Promise<unknown> {
  return FHIR.oauth2.authorize({
    clientId: COORDINATION_APP_CLIENT_ID,
    iss: FHIR_BASE,
    redirectUri: REDIRECT_URI,
    scope: kind === 'patient' ? `${BASE_SCOPE} launch/patient` : BASE_SCOPE,
  });
}

/** EHR launch: practice software opened /app/launch?iss=…&launch=…; fhirclient reads both from the URL. */
export function launchFromEhr(): Promise<unknown> {
  return FHIR.oauth2.authorize({ clientId: COORDINATION_APP_CLIENT_ID, redirectUri: REDIRECT_URI, scope: `${BASE_SCOPE} launch` });
}

export interface Session {
  fhir: Fhir;
  /** Practitioner/… of the user, and the PractitionerRole they chose to act in. */
  user: string;
  role: string;
  /** The patient of the launch, if any. */
  patient?: string;
  needPatientBanner: boolean;
  logout(): void;
}

/** Whether this page load carries an authorization answer or an earlier session to resume. */
export const hasSession = () => {
  const q = new URLSearchParams(location.search);
  return q.has('code') || q.has('error') || sessionStorage.getItem('SMART_KEY') !== null;
};

/** Completes the launch (code exchange) or resumes it; the FHIR client refreshes its token when needed. */
export async function connect(): Promise<Session> {
  const client: Client = await FHIR.oauth2.ready();
  const token = client.state.tokenResponse ?? {};
  const fhirContext = (token.fhirContext ?? []) as { reference?: string; role?: string }[];
  const role = fhirContext.find((c) => c.role === ACTING_AS)?.reference ?? '';
  const fhir = createFhir(FHIR_BASE, async () => {
    await client.refreshIfNeeded();
    return client.state.tokenResponse?.access_token ?? '';
  });
  return {
    fhir,
    user: client.getFhirUser() ?? '',
    role,
    ...(client.patient.id ? { patient: client.patient.id } : {}),
    needPatientBanner: token.need_patient_banner !== false,
    logout: () => {
      sessionStorage.clear();
      location.assign(`${location.origin}/app/launch`);
    },
  };
}
