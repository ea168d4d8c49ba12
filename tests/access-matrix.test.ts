import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  APP,
  MSP,
  OWN,
  PAIRS,
  PHARMACY_CLIENT,
  prepare,
  readCells,
  ROLE,
  runAll,
  SCOPE,
  writeCells,
  type Actor,
  type Cell,
  type Env,
  type Outcome,
} from './access-matrix.js';
import { DATABASES, useServer } from './harness.js';
import { APP_REDIRECT, operatorToken, OPERATOR, postForm, registerApp, userToken } from './smart.js';

/** One test per cell: the control first (the cell can fail), then nothing reached. */
function cellTests(cells: Cell[], results: () => Map<string, Promise<Outcome>>): void {
  const names = cells.map((c) => c.name);
  if (new Set(names).size !== names.length) throw new Error(`duplicate cells: ${names.filter((n, i) => names.indexOf(n) !== i)}`);
  for (const cell of cells) {
    it(cell.name, async () => {
      const { reached, control } = await (results().get(cell.name) as Promise<Outcome>);
      if (control) expect(control, 'the control: one who may, or the same write by the operator, reaches it this way').not.toEqual([]);
      expect(reached).toEqual([]);
    });
  }
}

describe.each(DATABASES)('the access matrix on %s', (kind) => {
  const t = useServer(kind, {
    auth: true,
    seed: 'demo',
    ...OPERATOR,
    accessRules: { recordHolders: [MSP], clientOrganizations: { [PHARMACY_CLIENT.id]: PHARMACY_CLIENT.organization }, breakGlassMinutes: 60 },
  });
  let env: Env;

  beforeAll(async () => {
    const origin = t.server.url;
    const password = (username: string) => t.server.demoLogins?.find((l) => l.username === username)?.password as string;
    await registerApp(origin, {
      client_id: APP,
      token_endpoint_auth_method: 'none',
      redirect_uris: [APP_REDIRECT],
      grant_types: ['authorization_code'],
      scope: SCOPE,
    });
    const login = (username: string, role: string, patient?: string) =>
      userToken(origin, {
        clientId: APP,
        scope: patient ? 'launch/patient patient/*.cruds' : 'openid fhirUser user/*.cruds',
        username,
        password: password(username),
        role,
        patient,
      });
    const tokens = {
      operator: await operatorToken(origin),
      anne: await login('anne', ROLE.anne),
      claire: await login('claire', ROLE.claire),
      lucie: await login('lucie', ROLE.lucie),
    } as Record<Actor, string>;
    const pharmacy = await registerApp(origin, { client_id: PHARMACY_CLIENT.id, grant_types: ['client_credentials'], scope: 'system/*.cruds' });
    tokens.pharmacySystem = (
      await postForm(`${origin}/auth/token`, { grant_type: 'client_credentials', client_id: PHARMACY_CLIENT.id, client_secret: pharmacy.client_secret })
    ).body.access_token;
    const partial = { origin, base: t.server.base, tokens };
    const prepared = await prepare(partial);
    // The patient in context must be one of hers, so the token is taken once her patient exists.
    tokens.annePatient = await login('anne', ROLE.anne, OWN);
    env = { ...partial, ...prepared, login: (username, role) => login(username, role) };
  });

  // Every read first: a write that got through could open a path a read cell then takes.
  for (const [part, cells] of [
    ['reads', PAIRS.flatMap(readCells)],
    ['writes', writeCells()],
  ] as const) {
    describe(part, () => {
      let results: Map<string, Promise<Outcome>>;
      beforeAll(() => {
        results = runAll(cells, env, 6);
      });
      afterAll(async () => {
        await Promise.allSettled(results.values());
      });
      cellTests(cells, () => results);
    });
  }
});
