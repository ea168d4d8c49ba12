import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';
import { freePort } from './harness.js';

/** A professional as Pro Santé Connect describes them (claims of DOMAIN.md §2.3). */
export interface PscAccount {
  idnps: string;
  given: string;
  family: string;
  /** Each activity is a situation d'exercice: a structure and a role. */
  activities: { siret?: string; finess?: string; raisonSociale: string }[];
}

export interface PscStub {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The account the next login authenticates (the stub skips the card or e-CPS step). */
  account?: PscAccount;
  /** The acr the next login gets (PSC: eidas1). */
  acr: string;
  /** The parameters of the last authorization request the stub received. */
  lastAuthorization?: URLSearchParams;
  close(): Promise<void>;
}

const CLAIMS = ['SubjectNameID', 'preferred_username', 'given_name', 'family_name', 'SubjectRole', 'SubjectRefPro', 'Secteur_Activite', 'otherIds'];

/**
 * `oidc-provider` playing Pro Santé Connect: the discovery document under PSC's non-standard name
 * as well, authorization at `/auth` as PSC's, scopes `openid scope_all`, acr `eidas1`, PSC's
 * claims in the id_token and userinfo. Logins complete at once for `stub.account`.
 */
export async function startPscStub(redirectUri: string): Promise<PscStub> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const stub = { issuer, clientId: 'maillage-test', clientSecret: 'psc-stub-secret-for-tests', acr: 'eidas1' } as PscStub;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: stub.clientId,
        client_secret: stub.clientSecret,
        redirect_uris: [redirectUri],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    jwks: { keys: [{ ...(await exportJWK(privateKey)), kid: 'psc-stub', alg: 'RS256', use: 'sig' }] },
    cookies: { keys: ['psc-stub-cookie-key'] },
    scopes: ['openid', 'scope_all'],
    claims: { openid: ['sub'], scope_all: CLAIMS },
    acrValues: ['eidas1', 'eidas0'],
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: false } },
    pkce: { required: () => true },
    findAccount: (_ctx: unknown, sub: string) => {
      const a = stub.account;
      if (!a || sub !== `f:${a.idnps}:ANS`) return undefined;
      return {
        accountId: sub,
        claims: () => ({
          sub,
          SubjectNameID: a.idnps,
          preferred_username: a.idnps,
          given_name: a.given,
          family_name: a.family,
          SubjectRole: ['10^1.2.250.1.213.1.1.5.5'],
          Secteur_Activite: 'SA07^1.2.250.1.71.4.2.4',
          otherIds: [{ identifiant: a.idnps.slice(1), origine: 'RPPS', qualite: 1 }],
          SubjectRefPro: {
            codeCivilite: 'DR',
            exercices: [
              {
                codeProfession: '10',
                codeCategorieProfessionnelle: 'C',
                nomDexercice: a.family,
                prenomDexercice: a.given,
                activities: a.activities.map((act) => ({
                  codeModeExercice: 'L',
                  numeroSiretSite: act.siret ?? '',
                  numeroFinessSite: act.finess ?? '',
                  raisonSocialeSite: act.raisonSociale,
                })),
              },
            ],
          },
        }),
      };
    },
  });
  const callback = provider.callback();
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', issuer);
    if (url.pathname.endsWith('/.well-known/wallet-openid-configuration')) req.url = req.url?.replace('wallet-openid-configuration', 'openid-configuration');
    if (url.pathname.endsWith('/auth')) stub.lastAuthorization = url.searchParams;
    if (url.pathname.includes('/interaction/')) return void completeLogin(provider, stub, req, res).catch((err: Error) => res.writeHead(500).end(err.message));
    callback(req, res);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  stub.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return stub;
}

/** The login and consent a professional would go through with their CPS card, done at once. */
async function completeLogin(provider: Provider, stub: PscStub, req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) {
  const details = await provider.interactionDetails(req, res);
  if (!stub.account) return provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'no account' });
  const accountId = `f:${stub.account.idnps}:ANS`;
  const grant = new provider.Grant({ accountId, clientId: details.params.client_id as string });
  grant.addOIDCScope(String(details.params.scope));
  grant.addOIDCClaims(CLAIMS);
  await provider.interactionFinished(req, res, {
    login: { accountId, acr: stub.acr, amr: ['hwk'] },
    consent: { grantId: await grant.save() },
  });
}
