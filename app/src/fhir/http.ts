import type { Bundle, OperationOutcome, Resource } from '@medplum/fhirtypes';

/** A FHIR call that failed, with a message a coordinator understands. */
export class FhirError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly outcome?: OperationOutcome,
  ) {
    super(message);
  }
  /** Someone else wrote the resource since it was read (If-Match refused). */
  get conflict(): boolean {
    return this.status === 409 || this.status === 412;
  }
}

/** What each HTTP status means to the person using the app. */
export function frenchMessage(status: number): string {
  if (status === 0) return 'Le serveur ne répond pas : vérifiez votre connexion puis réessayez.';
  if (status === 401) return 'Votre session a expiré : relancez l’application pour vous reconnecter.';
  if (status === 403) return 'Vous n’avez pas accès à ces informations (équipe de soins ou opposition du patient).';
  if (status === 404 || status === 410) return 'Cette information n’existe pas ou plus.';
  if (status === 409 || status === 412) return 'Quelqu’un d’autre a modifié ces données pendant votre saisie : rien n’a été écrasé.';
  if (status === 400 || status === 422) return 'Le serveur a refusé ces données : vérifiez le formulaire.';
  if (status === 501) return 'Cette fonction n’est pas encore disponible sur ce serveur.';
  return 'Le serveur a rencontré une erreur : réessayez dans un instant.';
}

export interface FhirReply<T> {
  status: number;
  body: T;
}

/** The app's FHIR REST client: the base URL, a bearer token, JSON in and out. */
export interface Fhir {
  base: string;
  get<T extends Resource = Bundle>(path: string): Promise<T>;
  post<T extends Resource = Bundle>(path: string, body: Resource): Promise<T>;
}

/** Makes a client on `base` whose every call first asks `token()` (which refreshes when needed). */
export function createFhir(base: string, token: () => Promise<string>): Fhir {
  const call = async <T>(method: string, path: string, body?: Resource): Promise<T> => {
    let res: Response;
    try {
      res = await fetch(path.startsWith('http') ? path : `${base}/${path}`, {
        method,
        headers: {
          accept: 'application/fhir+json',
          authorization: `Bearer ${await token()}`,
          ...(body ? { 'content-type': 'application/fhir+json' } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
      });
    } catch {
      throw new FhirError(0, frenchMessage(0));
    }
    const text = await res.text();
    const json = text ? (JSON.parse(text) as T) : (undefined as T);
    if (!res.ok) throw new FhirError(res.status, frenchMessage(res.status), json as OperationOutcome);
    return json;
  };
  return {
    base,
    get: (path) => call('GET', path),
    post: (path, body) => call('POST', path, body),
  };
}
