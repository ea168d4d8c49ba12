import type { Encounter, Resource } from '@medplum/fhirtypes';
import express, { type Request, type RequestHandler, type Response } from 'express';
import { clientMetadata } from '../auth/clients.js';
import { LAUNCH_SECONDS } from '../auth/launch.js';
import { restrictionsFor, unrestricted } from '../access/restrictions.js';
import type { AuthServer } from '../auth/service.js';
import { hasAdminScope } from '../auth/scopes.js';
import { OAuthError, type Access, type LaunchContext } from '../auth/tokens.js';
import type { UserRow } from '../auth/users.js';
import { parseLocalReference } from '../fhir/ids.js';
import type { ServerContext } from '../interactions/context.js';
import { exists, forRequest, readAs } from './fhir-lookup.js';

export interface AdminDeps {
  auth: AuthServer;
  lookup: ServerContext;
}

const json = express.json({ limit: '64kb' });
const badRequest = (why: string) => new OAuthError(400, 'invalid_request', why);

/** Runs a JSON endpoint for a bearer token that `may` accept; faults answered as OAuth errors. */
function guardedEndpoint(
  auth: AuthServer,
  may: (access: Access) => boolean,
  handle: (req: Request, res: Response, access: Access) => Promise<void>,
): RequestHandler {
  return async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    try {
      const header = req.get('authorization');
      if (!header?.startsWith('Bearer ')) throw new OAuthError(401, 'invalid_token', 'A bearer token is required');
      const access = await auth.tokens.verify(header.slice(7).trim());
      if (!may(access)) throw new OAuthError(403, 'insufficient_scope', 'The token does not allow this');
      await handle(req, res, access);
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      if (err.status === 401) res.setHeader('WWW-Authenticate', `Bearer realm="maillage", error="${err.error}"`);
      res.status(err.status).json({ error: err.error, error_description: err.description });
    }
  };
}

const isAdmin = (a: Access) => hasAdminScope(a.scope);
/** Practice software launching an app must be able to read the patients it launches with. */
const mayLaunch = (a: Access) => unrestricted(restrictionsFor(a, 'Patient', 'r'));

const userView = (u: UserRow) => ({ id: u.id, practitioner: `Practitioner/${u.practitionerId}`, username: u.username, active: u.active });

/**
 * /auth/launch, where practice software mints EHR launch handles, and /auth/admin, the
 * administration of clients, users and signing keys (for tokens with the `admin` scope).
 */
export function adminRouter(d: AdminDeps): express.Router {
  const router = express.Router();
  const refOf = (value: unknown, type: string): string => {
    const ref = typeof value === 'string' ? parseLocalReference(value.includes('/') ? value : `${type}/${value}`, d.lookup.fhirBase) : undefined;
    if (!ref || ref.type !== type) throw badRequest(`${type} must be an id or ${type}/[id]`);
    return ref.id;
  };

  // What a launch names, the caller must be able to read, by the same rules as a FHIR read.
  const readable = async (req: Request, access: Access, type: string, id: string): Promise<Resource> => {
    const { status, resource } = await readAs(forRequest(d.lookup, req), req.log, type, id, access);
    if (status === 403) throw new OAuthError(403, 'access_denied', `${type}/${id} is outside your équipe de soins or your token's scopes`);
    if (status !== 200 || !resource) throw badRequest(`${type}/${id} does not exist`);
    return resource;
  };

  router.post(
    '/launch',
    json,
    guardedEndpoint(d.auth, mayLaunch, async (req, res, access) => {
      const body = (req.body ?? {}) as Record<string, unknown>;
      const context: LaunchContext = { patient: refOf(body.patient, 'Patient') };
      await readable(req, access, 'Patient', context.patient as string);
      if (body.encounter !== undefined) {
        context.encounter = refOf(body.encounter, 'Encounter');
        const encounter = (await readable(req, access, 'Encounter', context.encounter)) as Encounter;
        if (encounter.subject?.reference !== `Patient/${context.patient}`)
          throw badRequest(`Encounter/${context.encounter} is not Patient/${context.patient}'s`);
      }
      if (body.fhirContext !== undefined) {
        if (!Array.isArray(body.fhirContext) || !body.fhirContext.every((c) => typeof c?.reference === 'string')) {
          throw badRequest('fhirContext must be a list of {reference}');
        }
        context.fhirContext = (body.fhirContext as { reference: string; role?: string }[]).map((c) => ({
          reference: c.reference,
          ...(typeof c.role === 'string' ? { role: c.role } : {}),
        }));
        // Ours must be readable too; a reference to another server is not ours to check.
        for (const c of context.fhirContext) {
          const ref = parseLocalReference(c.reference as string, d.auth.fhirBase);
          if (ref) await readable(req, access, ref.type, ref.id);
        }
      }
      if (typeof body.need_patient_banner === 'boolean') context.need_patient_banner = body.need_patient_banner;
      if (typeof body.smart_style_url === 'string') context.smart_style_url = body.smart_style_url;
      const clientId = typeof body.client_id === 'string' ? body.client_id : undefined;
      if (clientId && !(await d.auth.clients.find(clientId))) throw badRequest(`Unknown client_id ${clientId}`);
      res.status(201).json({ launch: await d.auth.launches.mint(context, clientId), expires_in: LAUNCH_SECONDS });
    }),
  );

  router.get(
    '/admin/clients',
    guardedEndpoint(d.auth, isAdmin, async (_req, res) => {
      res.json((await d.auth.clients.list()).map(clientMetadata));
    }),
  );
  router.post(
    '/admin/clients',
    json,
    guardedEndpoint(d.auth, isAdmin, async (req, res) => {
      try {
        const { client, secret } = await d.auth.clients.register((req.body ?? {}) as Record<string, unknown>);
        res.status(201).json({ ...clientMetadata(client), ...(secret ? { client_secret: secret } : {}) });
      } catch (err) {
        throw new OAuthError(400, 'invalid_client_metadata', (err as Error).message);
      }
    }),
  );
  router.delete(
    '/admin/clients/:id',
    guardedEndpoint(d.auth, isAdmin, async (req, res) => {
      res.status((await d.auth.clients.remove(String(req.params.id))) ? 204 : 404).end();
    }),
  );

  router.get(
    '/admin/users',
    guardedEndpoint(d.auth, isAdmin, async (_req, res) => {
      res.json((await d.auth.users.list()).map(userView));
    }),
  );
  router.post(
    '/admin/users',
    json,
    guardedEndpoint(d.auth, isAdmin, async (req, res) => {
      const body = (req.body ?? {}) as Record<string, unknown>;
      const practitionerId = refOf(body.practitioner, 'Practitioner');
      if (!(await exists(d.lookup, req.log, 'Practitioner', practitionerId))) throw badRequest(`Practitioner/${practitionerId} does not exist`);
      const str = (k: string) => (typeof body[k] === 'string' ? (body[k] as string) : undefined);
      try {
        res.status(201).json(userView(await d.auth.users.create({ practitionerId, username: str('username'), password: str('password') })));
      } catch (err) {
        throw badRequest((err as Error).message);
      }
    }),
  );
  router.patch(
    '/admin/users/:id',
    json,
    guardedEndpoint(d.auth, isAdmin, async (req, res) => {
      const body = (req.body ?? {}) as Record<string, unknown>;
      let user: Awaited<ReturnType<typeof d.auth.users.update>>;
      try {
        user = await d.auth.users.update(String(req.params.id), {
          password: typeof body.password === 'string' ? body.password : undefined,
          active: typeof body.active === 'boolean' ? body.active : undefined,
        });
      } catch (err) {
        throw badRequest((err as Error).message);
      }
      if (!user) throw new OAuthError(404, 'not_found', 'No such user');
      res.json(userView(user));
    }),
  );

  router.post(
    '/admin/keys/rotate',
    guardedEndpoint(d.auth, isAdmin, async (_req, res) => {
      await d.auth.keys.rotate();
      res.json(d.auth.keys.jwks());
    }),
  );
  return router;
}
