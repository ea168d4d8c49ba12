import { PATIENT_DATA } from './patient-data.js';
import { call } from './smart.js';

/**
 * The access matrix (issue #21): an outsider to a patient's équipe de soins reaches nothing of
 * that patient by any path. On the demo pôle, with the access rules on:
 *
 * - `anne`, the pharmacist (user token), is an outsider to `victim-x`, a patient whose record the
 *   MSP holds and whose team is Dr Morvan's;
 * - `anne`'s patient-confined token (launched on her own patient `own-anne`) is an outsider to
 *   `victim-o2`, another patient of hers: the scope confines it to the patient in context.
 *
 * Each victim has one resource of every type of the Patient compartment, plus resources naming it
 * absolutely, by version, through a conditional reference and through a transaction's urn:uuid, a
 * resource moved from it to the outsider's patient, a deleted one, one naming it beside the
 * outsider's patient, and the Provenance and AuditEvents of all those writes. Every cell is one
 * way to reach them; it passes when the outsider's reply reveals none of them (no resource, no id,
 * no count, no included entry, no history entry, no audit event naming the patient), and it is a
 * cell only if the same request reveals them to someone who may see them (the control), so that
 * it can fail. Writes are tried as the outsider too, and must leave nothing linking them to the
 * patient. Cells are independent and run concurrently; writes after every read.
 */

export const MSP = 'msp-val-de-lys';
export const ROLE = {
  anne: 'role-anne-lemoine-pharmacie-place',
  claire: 'role-claire-morvan-msp-val-de-lys',
  lucie: 'role-lucie-tanguy-ch-lysmont',
};
export const OWN = 'own-anne';
export const APP = 'matrix-app';
export const SCOPE = 'openid fhirUser launch/patient patient/*.cruds user/*.cruds';
/** The types also tried through every other path (forms of search, bundles, operations). */
export const REPRESENTATIVE = [
  'Observation',
  'Condition',
  'Encounter',
  'CareTeam',
  'Consent',
  'Provenance',
  'Group',
  'Appointment',
  'DocumentReference',
  'Task',
];
/** Patients, each the target of one attack that would link the outsider to it: a success stays local. */
export const LINK_VICTIMS = [
  'ct-absolute',
  'ct-versioned',
  'ct-conditional',
  'ct-uuid',
  'ct-conditional-update',
  'co-absolute',
  'co-versioned',
  'co-conditional',
  'co-uuid',
  'role-created',
  'role-moved',
  'break-glass',
  'launch',
];

export type Actor = 'operator' | 'anne' | 'annePatient' | 'claire' | 'lucie' | 'pharmacySystem';
/** A backend client acting for the pharmacy: an outsider to the MSP's patients as a system client. */
export const PHARMACY_CLIENT = { id: 'lgc-pharmacie', organization: 'pharmacie-place' };

/** One outsider and the patient they must not reach; the insider is one who may (the control). */
interface Pair {
  label: string;
  outsider: Actor;
  /**
   * How the trail names the outsider as an agent: their own requests that name no patient are
   * theirs to see (a system client's, with its structure's roles).
   */
  agents: string[];
  insider: Actor;
  /** The victim's key: its patient is `victim-<key>`, its resources `victim-<key>-…`. */
  victim: string;
  /** Whoever writes a resource about the victim as a user, for Provenance by agent. */
  writer: Actor;
  /**
   * Whether the victim has a resource naming it beside the outsider's own patient. Only for an
   * outsider to the équipe: such a resource is in the compartment of the patient a confined token
   * is launched on, and SMART's patient scopes grant that compartment.
   */
  mixed: boolean;
}
export const PAIRS: Pair[] = [
  { label: 'outsider', outsider: 'anne', agents: [`PractitionerRole/${ROLE.anne}`], insider: 'operator', victim: 'x', writer: 'claire', mixed: true },
  {
    label: 'outsider system client',
    outsider: 'pharmacySystem',
    agents: [PHARMACY_CLIENT.id, `PractitionerRole/${ROLE.anne}`],
    insider: 'operator',
    victim: 'x',
    writer: 'claire',
    mixed: true,
  },
  {
    label: 'patient-confined token',
    outsider: 'annePatient',
    agents: [`PractitionerRole/${ROLE.anne}`],
    insider: 'anne',
    victim: 'o2',
    writer: 'anne',
    mixed: false,
  },
];

/** Each victim once, with what its (first) pair says of it. */
const VICTIMS = [...new Map(PAIRS.map((p) => [p.victim, p])).values()];

export interface Env {
  origin: string;
  base: string;
  tokens: Record<Actor, string>;
  /** Before the victims' data was written: histories and searches since then hold only it. */
  since: string;
  /** An AuditEvent naming each victim, as the insider finds it. */
  auditEvent: Record<string, string>;
  /** A user's token acting in a role (for a role an attack created). */
  login?: (username: string, role: string) => Promise<string>;
}

interface Request {
  method: string;
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
}
type Reply = Awaited<ReturnType<typeof call>>;

/** What a reply reveals of a victim: a list of findings, empty when nothing. */
type Judge = (reply: Reply, env: Env) => string[];

export interface Cell {
  name: string;
  /** The outsider's try: what it reached (must be nothing). */
  attempt: (env: Env) => Promise<string[]>;
  /** The same path taken by one who may: what it reached (must be something), when a control applies. */
  control?: (env: Env) => Promise<string[]>;
}

const patientId = (victim: string) => `victim-${victim}`;
const resourceId = (victim: string, type: string) => `victim-${victim}-${type.toLowerCase()}`;
const identifier = (victim: string) => `urn:matrix|${victim}`;

const send = (env: Env, who: Actor, r: Request) =>
  call(r.method, r.path.startsWith('http') ? r.path : `${env.base}/${r.path}`, env.tokens[who], r.body, r.headers);

/**
 * Everything in a reply that names the victim (its token `victim-<key>` in a resource, an entry's
 * URL or a location), but OperationOutcomes (a refusal names what was asked) and the outsider's
 * own audit events that name no patient (a refused request is its caller's to see). `targeted`:
 * the request asked for the victim's data only, so any count is a finding too.
 */
function reveals(reply: Reply, victim: string, outsiderAgents: string[], targeted: boolean): string[] {
  const token = patientId(victim);
  const found = new Set<string>();
  const visit = (r: any) => {
    if (!r || typeof r !== 'object') return;
    // A refusal names what was asked; the lists that point at the victim's data are everyone's to see.
    if (r.resourceType === 'OperationOutcome' || (r.resourceType === 'List' && String(r.id).startsWith('pointer-'))) return;
    if (r.resourceType === 'Bundle') {
      if (targeted && typeof r.total === 'number' && r.total > 0) found.add(`total ${r.total}`);
      for (const e of r.entry ?? []) {
        if (e.response && !String(e.response.status).startsWith('2')) continue;
        for (const url of [e.fullUrl, e.request?.url, e.response?.location])
          if (typeof url === 'string' && url.includes(token) && e.resource?.resourceType !== 'OperationOutcome') found.add(url);
        visit(e.resource);
      }
      return;
    }
    if (r.resourceType === 'AuditEvent') {
      const namesPatient = (r.entity ?? []).some((e: any) => e.role?.code === '1' && e.what?.reference === `Patient/${token}`);
      const own = (r.agent ?? []).some((a: any) => outsiderAgents.includes(a.who?.reference) || outsiderAgents.includes(a.who?.identifier?.value));
      if (!namesPatient && own) return;
    }
    if (JSON.stringify(r).includes(token)) found.add(`${r.resourceType}/${r.id}${r.meta?.versionId ? ` version ${r.meta.versionId}` : ''}`);
  };
  if (reply.status < 300) visit(reply.body);
  return [...found].sort();
}

/** A success where only a refusal reveals nothing (an operation's answer, a launch handle). */
const answered: Judge = (reply) => (reply.status < 300 ? [`answered ${reply.status}`] : []);

/** A read cell: the request as the outsider reveals nothing; as the insider, something. */
function readCell(pair: Pair, what: string, request: (env: Env) => Request, opts: { targeted?: boolean; judge?: Judge; control?: boolean } = {}): Cell {
  const judge: Judge = opts.judge ?? ((reply) => reveals(reply, pair.victim, pair.agents, opts.targeted ?? true));
  return {
    name: `${pair.label} ${pair.outsider} reaches ${what} of patient ${patientId(pair.victim)}`,
    attempt: async (env) => judge(await send(env, pair.outsider, request(env)), env),
    control: opts.control === false ? undefined : async (env) => judge(await send(env, pair.insider, request(env)), env),
  };
}

/** Every read path, for one pair. */
export function readCells(pair: Pair): Cell[] {
  const v = pair.victim;
  const patient = patientId(v);
  const cells: Cell[] = [];
  const add = (what: string, request: (env: Env) => Request, opts?: Parameters<typeof readCell>[3]) => cells.push(readCell(pair, what, request, opts));
  const get = (path: string) => () => ({ method: 'GET', path });

  // The patient itself.
  add('Patient via read', get(`Patient/${patient}`));
  add('Patient via vread', get(`Patient/${patient}/_history/1`));
  add('Patient via instance history', get(`Patient/${patient}/_history`));
  add('Patient via search by _id', get(`Patient?_id=${patient}&_total=accurate`));
  add('Patient via search by identifier (a conditional reference’s criteria)', get(`Patient?identifier=${identifier(v)}&_total=accurate`));
  add('Patient via search by name', get(`Patient?name=Victime-${v}&_total=accurate`));
  add('Patient via _summary=count', get(`Patient?identifier=${identifier(v)}&_summary=count`));
  add('Patient via _has on an Observation', get(`Patient?_has:Observation:subject:_id=${resourceId(v, 'Observation')}&_total=accurate`));
  add('any of its data via _include from a visible List', get(`List?_id=pointer-${v}&_include=List:item`), { targeted: false });
  add('any of its data via _include:iterate from a visible List', get(`List?_id=pointer-${v}&_include=List:item&_include:iterate=*`), { targeted: false });
  add('Patient via batch GET', () => ({
    method: 'POST',
    path: '',
    body: batch('batch', [
      { method: 'GET', url: `Patient/${patient}` },
      { method: 'GET', url: `Patient?identifier=${identifier(v)}` },
    ]),
  }));
  add('Patient via transaction GET', () => ({ method: 'POST', path: '', body: batch('transaction', [{ method: 'GET', url: `Patient/${patient}` }]) }));
  add('Patient via $validate on the instance', get(`Patient/${patient}/$validate`), { judge: answered });
  add('Patient via $everything', get(`Patient/${patient}/$everything`), { judge: answered, control: false });

  for (const { type, param } of PATIENT_DATA) {
    const id = resourceId(v, type);
    add(`${type} via read`, get(`${type}/${id}`));
    add(`${type} via vread of a version naming the patient`, get(`${type}/${id}/_history/1`));
    add(`${type} via instance history`, get(`${type}/${id}/_history`));
    add(`${type} via search by ${param}`, get(`${type}?${param}=Patient/${patient}&_total=accurate`));
    add(`${type} via compartment search`, get(`Patient/${patient}/${type}?_total=accurate`));
    add(`${type} via Provenance of its write`, get(`Provenance?target=${type}/${id}&_total=accurate`));
    if (type !== 'Provenance') add(`${type} via _has`, get(`Patient?_has:${type}:${param}:_id=${id}&_total=accurate`));
    if (!REPRESENTATIVE.includes(type)) continue;
    add(`${type} via search by _id`, get(`${type}?_id=${id}&_total=accurate`));
    add(`${type} via search by ${param} as an absolute URL`, (env) => ({
      method: 'GET',
      path: `${type}?${param}=${encodeURIComponent(`${env.base}/Patient/${patient}`)}&_total=accurate`,
    }));
    add(`${type} via chain ${param}:Patient.identifier`, get(`${type}?${param}:Patient.identifier=${identifier(v)}&_total=accurate`));
    add(`${type} via chain ${param}:Patient.name`, get(`${type}?${param}:Patient.name=Victime-${v}&_total=accurate`));
    add(`${type} via _summary=count`, get(`${type}?${param}=Patient/${patient}&_summary=count`));
    add(`${type} via POST _search`, () => ({
      method: 'POST',
      path: `${type}/_search`,
      body: `${param}=Patient/${patient}&_total=accurate`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    }));
    add(`${type} via system search`, get(`?_type=${type}&_id=${id}&_total=accurate`));
    add(`${type} via type history`, (env) => ({ method: 'GET', path: `${type}/_history?_since=${encodeURIComponent(env.since)}&_count=1000` }), {
      targeted: false,
    });
    add(`${type} via _revinclude from the patient`, get(`Patient?_id=${patient}&_revinclude=${type}:${param}`));
    add(`${type} via _revinclude of its Provenance`, get(`${type}?_id=${id}&_revinclude=Provenance:target`));
    add(`${type} via batch GETs`, () => ({
      method: 'POST',
      path: '',
      body: batch('batch', [
        { method: 'GET', url: `${type}/${id}` },
        { method: 'GET', url: `${type}?${param}=Patient/${patient}` },
        { method: 'GET', url: `${type}/${id}/_history/1` },
      ]),
    }));
    add(`${type} via transaction GET`, () => ({ method: 'POST', path: '', body: batch('transaction', [{ method: 'GET', url: `${type}/${id}` }]) }));
    add(`${type} via GET $validate on the instance`, get(`${type}/${id}/$validate`), { judge: answered });
    add(`${type} via POST $validate on the instance`, () => ({ method: 'POST', path: `${type}/${id}/$validate`, body: { resourceType: 'Parameters' } }), {
      judge: answered,
    });
  }

  // The ways to name the patient in stored data, each on an Observation of its own.
  for (const form of FORMS) {
    const id = `${patient}-${form}`;
    add(`Observation naming it ${form} via read`, get(`Observation/${id}`));
    add(`Observation naming it ${form} via vread`, get(`Observation/${id}/_history/1`));
    add(`Observation naming it ${form} via instance history`, get(`Observation/${id}/_history`));
    add(`Observation naming it ${form} via search by _id`, get(`Observation?_id=${id}&_total=accurate`));
    add(`Observation naming it ${form} via search by subject`, get(`Observation?subject=Patient/${patient}&_id=${id}&_total=accurate`));
    add(`Observation naming it ${form} via compartment search`, get(`Patient/${patient}/Observation?_id=${id}&_total=accurate`));
  }

  // Lists whose counts must hold only what they show (a history's entries are all shown, a search's matches).
  const counted: Judge = (reply) => {
    const entries: any[] = reply.body?.entry ?? [];
    const shown = reply.body?.type === 'history' ? entries.length : entries.filter((e) => e.search?.mode === 'match').length;
    const total = reply.body?.total;
    return [...reveals(reply, v, pair.agents, false), ...(typeof total === 'number' && total !== shown ? [`total ${total} for ${shown} shown`] : [])];
  };

  // Versions: one moved from the victim to the outsider's patient, one deleted.
  add('Observation via vread of its version before it moved to a patient the outsider sees', get(`Observation/moved-from-${v}/_history/1`));
  // Its new version is the outsider's: shown and counted alone.
  add('Observation via instance history of one moved to a patient the outsider sees', get(`Observation/moved-from-${v}/_history`), { judge: counted });
  add(
    'Observation via type history of one moved to a patient the outsider sees',
    (env) => get(`Observation/_history?_since=${encodeURIComponent(env.since)}&_count=1000`)(),
    { targeted: false },
  );
  add('a deleted Observation via instance history', get(`Observation/${patient}-deleted/_history`));
  add('a deleted Observation via vread', get(`Observation/${patient}-deleted/_history/1`));
  add('anything via system history', (env) => get(`_history?_since=${encodeURIComponent(env.since)}&_count=1000`)(), { targeted: false });

  // A resource naming the victim beside the outsider's patient is seen by neither alone.
  if (pair.mixed)
    add(
      'an Observation naming it beside a visible patient via search of the visible patient',
      get(`Observation?subject=Patient/${OWN}&_id=${patient}-mixed&_total=accurate`),
    );
  if (pair.mixed)
    add(
      'an Observation naming it beside a visible patient via _revinclude of the visible patient',
      get(`Patient?_id=${OWN}&_revinclude=Observation:subject&_revinclude=*`),
      { targeted: false },
    );
  if (pair.mixed)
    add(
      'an Observation naming it beside a visible patient via compartment search of the visible patient',
      get(`Patient/${OWN}/Observation?_id=${patient}-mixed&_total=accurate`),
    );

  // Broad searches: their counts hold only what they show.
  add('its Observations via the total of a search by text', get(`Observation?code:text=poids&_total=accurate&_count=1000`), { judge: counted });
  add(
    'its data via the total of a system search',
    (env) => get(`?_type=Patient,Observation,Condition&_lastUpdated=ge${encodeURIComponent(env.since)}&_total=accurate&_count=1000`)(),
    { judge: counted },
  );

  // The directory is open; what it did for the victim is not.
  add(
    'the Observations its performer made, via _has on the directory',
    get(`Practitioner?_id=pr-claire-morvan&_has:Observation:performer:subject=Patient/${patient}&_total=accurate`),
  );
  add(
    'Provenance of others’ writes, via search by agent',
    () => ({ method: 'GET', path: `Provenance?agent=PractitionerRole/${ROLE[pair.writer as 'claire' | 'anne']}&_count=1000` }),
    { targeted: false },
  );
  add(
    'Provenance of others’ writes, via search since the data was written',
    (env) => get(`Provenance?_lastUpdated=ge${encodeURIComponent(env.since)}&_count=1000`)(),
    { targeted: false },
  );

  // The audit trail.
  add('AuditEvent via search by patient', get(`AuditEvent?patient=Patient/${patient}&_total=accurate`));
  add('AuditEvent via search by entity', get(`AuditEvent?entity=Observation/${resourceId(v, 'Observation')}&_total=accurate`), { targeted: false });
  add('AuditEvent via compartment search', get(`Patient/${patient}/AuditEvent?_total=accurate`));
  add('AuditEvent via search since the data was written', (env) => get(`AuditEvent?date=ge${encodeURIComponent(env.since)}&_count=1000`)(), {
    targeted: false,
  });
  add('AuditEvent via read', (env) => get(`AuditEvent/${env.auditEvent[v]}`)());
  add('AuditEvent via vread', (env) => get(`AuditEvent/${env.auditEvent[v]}/_history/1`)());
  add('AuditEvent via instance history', (env) => get(`AuditEvent/${env.auditEvent[v]}/_history`)());
  add('AuditEvent via _include of its patient', get(`AuditEvent?patient=Patient/${patient}&_include=AuditEvent:patient`));
  return cells;
}

/** How stored data may name a patient besides `Patient/[id]`: each on an Observation of its own. */
const FORMS = ['absolute', 'versioned', 'conditional', 'uuid'] as const;

const batch = (type: 'batch' | 'transaction', requests: (Record<string, unknown> & { resource?: unknown; fullUrl?: string })[]) => ({
  resourceType: 'Bundle',
  type,
  entry: requests.map(({ resource, fullUrl, ...request }) => ({ ...(fullUrl ? { fullUrl } : {}), ...(resource ? { resource } : {}), request })),
});

/** One victim's data, as written by the operator: the patient in the insider's équipe, one resource of every type, the other forms. */
function victimData(victim: string, team: { member: string; holder?: string }): Record<string, any>[] {
  const patient = patientId(victim);
  const subject = { reference: `Patient/${patient}` };
  return [
    { resourceType: 'Patient', id: patient, identifier: [{ system: 'urn:matrix', value: victim }], name: [{ family: `Victime-${victim}` }] },
    {
      resourceType: 'CareTeam',
      id: `team-${patient}`,
      status: 'active',
      subject,
      ...(team.holder ? { managingOrganization: [{ reference: `Organization/${team.holder}` }] } : {}),
      participant: [{ member: { reference: `PractitionerRole/${team.member}` }, period: { start: '2020-01-01' } }],
    },
  ];
}

const observation = (id: string, subject: string, extra: Record<string, unknown> = {}) => ({
  resourceType: 'Observation',
  id,
  status: 'final',
  code: { text: 'poids' },
  subject: { reference: subject },
  ...extra,
});

/** Writes the victims' data as the operator (and one resource each by a user); returns the time before. */
export async function prepare(env: Omit<Env, 'since' | 'auditEvent'>): Promise<Pick<Env, 'since' | 'auditEvent'>> {
  const as = (who: Actor, r: Request) => send(env as Env, who, r);
  const ok = async (what: string, reply: Promise<Reply>) => {
    const r = await reply;
    if (r.status >= 300) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body).slice(0, 500)}`);
    return r;
  };
  const put = (r: Record<string, any>) => ({ method: 'PUT', url: `${r.resourceType}/${r.id}`, resource: r });
  const since = new Date(Date.now() - 1000).toISOString();

  // The outsider's own patient, and the patients only attacks may link them to.
  const first: Record<string, any>[] = [
    { resourceType: 'Patient', id: OWN, name: [{ family: 'Patiente-d-Anne' }] },
    {
      resourceType: 'CareTeam',
      id: `team-${OWN}`,
      status: 'active',
      subject: { reference: `Patient/${OWN}` },
      participant: [{ member: { reference: `PractitionerRole/${ROLE.anne}` } }],
    },
  ];
  for (const l of LINK_VICTIMS) first.push(...victimData(l, { member: ROLE.claire, holder: MSP }));
  for (const pair of VICTIMS) {
    const v = pair.victim;
    const patient = patientId(v);
    first.push(...victimData(v, pair.victim === 'x' ? { member: ROLE.claire, holder: MSP } : { member: ROLE.anne }));
    for (const d of PATIENT_DATA) first.push({ resourceType: d.type, id: resourceId(v, d.type), ...d.build({ reference: `Patient/${patient}` }) });
    first.push(observation(`${patient}-absolute`, `${env.base}/Patient/${patient}`));
    first.push(observation(`${patient}-versioned`, `Patient/${patient}/_history/1`));
    first.push(observation(`moved-from-${v}`, `Patient/${patient}`));
    first.push(observation(`${patient}-deleted`, `Patient/${patient}`));
    if (pair.mixed) first.push(observation(`${patient}-mixed`, `Patient/${OWN}`, { performer: [{ reference: `Patient/${patient}` }] }));
  }
  await ok('the victims', as('operator', { method: 'POST', path: '', body: batch('transaction', first.map(put)) }));

  // Named through the transaction's means, once the patients exist; then the versions.
  const second = VICTIMS.flatMap((pair) => {
    const patient = patientId(pair.victim);
    const uuid = `urn:uuid:6f1f0c52-0000-4000-8000-00000000000${VICTIMS.indexOf(pair)}`;
    return [
      { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${identifier(pair.victim)}`, fullUrl: uuid, resource: { resourceType: 'Patient' } },
      put(observation(`${patient}-uuid`, uuid)),
      put(observation(`${patient}-conditional`, `Patient?identifier=${identifier(pair.victim)}`)),
      put(observation(`moved-from-${pair.victim}`, `Patient/${OWN}`)),
      { method: 'DELETE', url: `Observation/${patient}-deleted` },
      // A list everyone sees, naming the victim's data: what it includes must still be visible.
      put({
        resourceType: 'List',
        id: `pointer-${pair.victim}`,
        status: 'current',
        mode: 'working',
        entry: [`Patient/${patient}`, ...PATIENT_DATA.map((d) => `${d.type}/${resourceId(pair.victim, d.type)}`)].map((reference) => ({ item: { reference } })),
      }),
    ];
  });
  await ok('the forms and versions', as('operator', { method: 'POST', path: '', body: batch('transaction', second) }));
  for (const pair of VICTIMS) {
    const id = `${patientId(pair.victim)}-by-user`;
    await ok(
      `written by ${pair.writer}`,
      as(pair.writer, { method: 'PUT', path: `Observation/${id}`, body: observation(id, `Patient/${patientId(pair.victim)}`) }),
    );
  }
  const auditEvent: Record<string, string> = {};
  for (const pair of VICTIMS) {
    const found = await ok('an audit event', as('operator', { method: 'GET', path: `AuditEvent?patient=Patient/${patientId(pair.victim)}&_count=1` }));
    auditEvent[pair.victim] = found.body.entry[0].resource.id;
  }
  return { since, auditEvent };
}

export interface Outcome {
  reached: string[];
  control?: string[];
}

/** Starts every cell, `limit` at a time; each test awaits its own cell's outcome. */
export function runAll(cells: Cell[], env: Env, limit: number): Map<string, Promise<Outcome>> {
  const settle = new Map<string, { resolve: (o: Outcome) => void; reject: (e: unknown) => void }>();
  const out = new Map<string, Promise<Outcome>>();
  for (const cell of cells) {
    const p = new Promise<Outcome>((resolve, reject) => settle.set(cell.name, { resolve, reject }));
    p.catch(() => undefined); // reported by the cell's test
    out.set(cell.name, p);
  }
  let next = 0;
  const worker = async () => {
    while (next < cells.length) {
      const cell = cells[next++];
      const s = settle.get(cell.name) as { resolve: (o: Outcome) => void; reject: (e: unknown) => void };
      try {
        const reached = await cell.attempt(env);
        s.resolve({ reached, control: cell.control ? await cell.control(env) : undefined });
      } catch (err) {
        s.reject(err);
      }
    }
  };
  for (let i = 0; i < limit; i++) void worker();
  return out;
}

/** The writes a successful reply made: each entry's location with a 2xx, or the reply's own. */
function written(reply: Reply): string[] {
  if (reply.status >= 300) return [];
  const body = reply.body;
  if (body?.resourceType === 'Bundle' && /-response$/.test(body.type)) {
    return (body.entry ?? []).flatMap((e: any) => (String(e.response?.status).startsWith('2') && e.response?.location ? [e.response.location] : []));
  }
  const location = reply.headers.get('location');
  return [location ?? `${reply.status} ${body?.resourceType ?? ''}`];
}

/** The resources a reply wrote that name the victim, as the operator reads them back. */
async function writtenNaming(env: Env, reply: Reply, victim: string): Promise<string[]> {
  const found: string[] = [];
  for (const location of written(reply)) {
    if (!location.startsWith('http')) {
      found.push(location);
      continue;
    }
    const back = await send(env, 'operator', { method: 'GET', path: location });
    if (JSON.stringify(back.body).includes(patientId(victim))) found.push(`wrote ${location.slice(env.base.length + 1)}`);
  }
  return found;
}

/** Whether `who` reads the victim's Patient resource now. */
async function readsPatient(env: Env, who: Actor, victim: string): Promise<string[]> {
  const reply = await send(env, who, { method: 'GET', path: `Patient/${patientId(victim)}` });
  return reply.status === 200 ? [`then reads Patient/${patientId(victim)}`] : [];
}

/** Whether a resource of the victim is gone (the operator reads it). */
async function deleted(env: Env, path: string): Promise<string[]> {
  return (await send(env, 'operator', { method: 'GET', path })).status === 410 ? [`deleted ${path}`] : [];
}

/** A write cell: the outsider's write, judged by what it did; the control, the same write by the operator. */
function writeCell(
  what: string,
  request: (env: Env) => Request,
  judge: (env: Env, reply: Reply) => Promise<string[]>,
  opts: { who?: Actor; control?: boolean } = {},
): Cell {
  const who = opts.who ?? 'anne';
  return {
    name: `${who === 'annePatient' ? 'patient-confined token anne' : `outsider ${who}`} ${what}`,
    attempt: async (env) => judge(env, await send(env, who, request(env))),
    control: opts.control === false ? undefined : async (env) => judge(env, await send(env, 'operator', request(env))),
  };
}

const careTeam = (subject: string) => ({
  resourceType: 'CareTeam',
  status: 'active',
  subject: { reference: subject },
  participant: [{ member: { reference: `PractitionerRole/${ROLE.anne}` }, period: { start: '2020-01-01' } }],
});
const consent = (patient: string) => ({
  resourceType: 'Consent',
  status: 'active',
  scope: { text: 'privacy' },
  category: [{ text: 'partage' }],
  policyRule: { text: 'partage' },
  patient: { reference: patient },
  provision: { type: 'permit', actor: [{ role: { text: 'recipient' }, reference: { reference: `PractitionerRole/${ROLE.anne}` } }] },
});

/** Every write the outsider may try on the victim `x`, and the attacks that would link them to a patient. */
export function writeCells(): Cell[] {
  const v = 'x';
  const patient = patientId(v);
  const cells: Cell[] = [];
  const naming = (env: Env, reply: Reply) => writtenNaming(env, reply, v);
  const success = async (_env: Env, reply: Reply) => written(reply);
  const byType = new Map(PATIENT_DATA.map((d) => [d.type, d]));
  const build = (type: string, reference: string) => ({ resourceType: type, ...(byType.get(type) as (typeof PATIENT_DATA)[number]).build({ reference }) });

  for (const type of REPRESENTATIVE.filter((t) => t !== 'CareTeam' && t !== 'Consent')) {
    cell(`creates ${type} naming patient ${patient} relatively`, () => ({ method: 'POST', path: type, body: build(type, `Patient/${patient}`) }));
    cell(`creates ${type} naming patient ${patient} by absolute URL`, (env) => ({
      method: 'POST',
      path: type,
      body: build(type, `${env.base}/Patient/${patient}`),
    }));
    cell(`creates ${type} naming patient ${patient} by version`, () => ({ method: 'POST', path: type, body: build(type, `Patient/${patient}/_history/1`) }));
  }
  function cell(what: string, request: (env: Env) => Request, judge: (env: Env, reply: Reply) => Promise<string[]> = naming) {
    cells.push(writeCell(what, request, judge));
  }
  const uuid = 'urn:uuid:0c1d2e3f-0000-4000-8000-000000000001';
  cell(`creates Observation naming patient ${patient} by a conditional reference in a transaction`, () => ({
    method: 'POST',
    path: '',
    body: batch('transaction', [{ method: 'POST', url: 'Observation', resource: build('Observation', `Patient?identifier=${identifier(v)}`) }]),
  }));
  cell(`creates Observation naming patient ${patient} by urn:uuid of a conditional create in a transaction`, () => ({
    method: 'POST',
    path: '',
    body: batch('transaction', [
      { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${identifier(v)}`, fullUrl: uuid, resource: { resourceType: 'Patient' } },
      { method: 'POST', url: 'Observation', resource: build('Observation', uuid) },
    ]),
  }));
  cell(`moves an Observation of a patient she sees to patient ${patient}`, () => ({
    method: 'PUT',
    path: `Observation/moved-from-${v}`,
    body: observation(`moved-from-${v}`, `Patient/${patient}`),
  }));
  cell(`updates Condition of patient ${patient}`, () => ({
    method: 'PUT',
    path: `Condition/${resourceId(v, 'Condition')}`,
    body: { ...build('Condition', `Patient/${patient}`), id: resourceId(v, 'Condition') },
  }));
  cell(
    `patches Encounter of patient ${patient}`,
    () => ({
      method: 'PATCH',
      path: `Encounter/${resourceId(v, 'Encounter')}`,
      body: [{ op: 'replace', path: '/status', value: 'cancelled' }],
      headers: { 'content-type': 'application/json-patch+json' },
    }),
    success,
  );
  cell(
    `deletes Flag of patient ${patient}`,
    () => ({ method: 'DELETE', path: `Flag/${resourceId(v, 'Flag')}` }),
    (env) => deleted(env, `Flag/${resourceId(v, 'Flag')}`),
  );
  cell(`conditionally updates Goal of patient ${patient}`, () => ({
    method: 'PUT',
    path: `Goal?_id=${resourceId(v, 'Goal')}`,
    body: build('Goal', `Patient/${patient}`),
  }));
  cell(`conditionally creates Task of patient ${patient} (If-None-Exist matching hers)`, () => ({
    method: 'POST',
    path: 'Task',
    body: build('Task', `Patient/${patient}`),
    headers: { 'if-none-exist': `_id=${resourceId(v, 'Task')}` },
  }));
  cell(
    `conditionally patches Basic of patient ${patient}`,
    () => ({
      method: 'PATCH',
      path: `Basic?_id=${resourceId(v, 'Basic')}`,
      body: [{ op: 'replace', path: '/code/text', value: 'changed' }],
      headers: { 'content-type': 'application/json-patch+json' },
    }),
    success,
  );
  cell(
    `conditionally deletes Specimen of patient ${patient}`,
    () => ({ method: 'DELETE', path: `Specimen?_id=${resourceId(v, 'Specimen')}` }),
    (env) => deleted(env, `Specimen/${resourceId(v, 'Specimen')}`),
  );
  cell(
    `writes in a batch to patient ${patient} (create, update, delete)`,
    () => ({
      method: 'POST',
      path: '',
      body: batch('batch', [
        { method: 'POST', url: 'Observation', resource: build('Observation', `Patient/${patient}`) },
        {
          method: 'PUT',
          url: `Procedure/${resourceId(v, 'Procedure')}`,
          resource: { ...build('Procedure', `Patient/${patient}`), id: resourceId(v, 'Procedure') },
        },
        { method: 'DELETE', url: `Media/${resourceId(v, 'Media')}` },
      ]),
    }),
    success,
  );
  cell(
    `writes in a transaction to patient ${patient} (create, update)`,
    () => ({
      method: 'POST',
      path: '',
      body: batch('transaction', [
        { method: 'POST', url: 'Observation', resource: build('Observation', `Patient/${patient}`) },
        {
          method: 'PUT',
          url: `Immunization/${resourceId(v, 'Immunization')}`,
          resource: { ...build('Immunization', `Patient/${patient}`), id: resourceId(v, 'Immunization') },
        },
      ]),
    }),
    success,
  );

  // Attacks that would put the outsider in a patient's équipe: each on a patient of its own.
  const link = (key: string, what: string, request: (env: Env, l: string) => Request) =>
    cells.push(
      writeCell(
        `${what} naming patient ${patientId(key)}, then reads her`,
        (env) => request(env, patientId(key)),
        async (env, reply) => [...(await writtenNaming(env, reply, key)), ...(await readsPatient(env, 'anne', key))],
      ),
    );
  const tx = (entries: Parameters<typeof batch>[1]) => ({ method: 'POST', path: '', body: batch('transaction', entries) });
  link('ct-absolute', 'writes a CareTeam with herself in it by absolute URL', (env, l) => ({
    method: 'POST',
    path: 'CareTeam',
    body: careTeam(`${env.base}/Patient/${l}`),
  }));
  link('ct-versioned', 'writes a CareTeam with herself in it by version', (_env, l) => ({
    method: 'POST',
    path: 'CareTeam',
    body: careTeam(`Patient/${l}/_history/1`),
  }));
  link('ct-conditional', 'writes a CareTeam with herself in it by a conditional reference', () =>
    tx([{ method: 'POST', url: 'CareTeam', resource: careTeam(`Patient?identifier=${identifier('ct-conditional')}`) }]),
  );
  link('ct-uuid', 'writes a CareTeam with herself in it by urn:uuid of a conditional create', () =>
    tx([
      { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${identifier('ct-uuid')}`, fullUrl: uuid, resource: { resourceType: 'Patient' } },
      { method: 'POST', url: 'CareTeam', resource: careTeam(uuid) },
    ]),
  );
  link('ct-conditional-update', 'writes a CareTeam with herself in it by conditional update', (_env, l) => ({
    method: 'PUT',
    path: `CareTeam?subject=Patient/${l}`,
    body: careTeam(`Patient/${l}`),
  }));
  link('co-absolute', 'writes a Consent sharing with her by absolute URL', (env, l) => ({
    method: 'POST',
    path: 'Consent',
    body: consent(`${env.base}/Patient/${l}`),
  }));
  link('co-versioned', 'writes a Consent sharing with her by version', (_env, l) => ({
    method: 'POST',
    path: 'Consent',
    body: consent(`Patient/${l}/_history/1`),
  }));
  link('co-conditional', 'writes a Consent sharing with her by a conditional reference', () =>
    tx([{ method: 'POST', url: 'Consent', resource: consent(`Patient?identifier=${identifier('co-conditional')}`) }]),
  );
  link('co-uuid', 'writes a Consent sharing with her by urn:uuid of a conditional create', () =>
    tx([
      { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${identifier('co-uuid')}`, fullUrl: uuid, resource: { resourceType: 'Patient' } },
      { method: 'POST', url: 'Consent', resource: consent(uuid) },
    ]),
  );
  cells.push(
    writeCell(
      `creates a PractitionerRole of her own at the record-holding MSP, then reads its patient ${patientId('role-created')}`,
      () => ({
        method: 'POST',
        path: 'PractitionerRole',
        body: {
          resourceType: 'PractitionerRole',
          active: true,
          practitioner: { reference: 'Practitioner/pr-anne-lemoine' },
          organization: { reference: `Organization/${MSP}` },
        },
      }),
      async (env, reply) => {
        const made = written(reply);
        const role = reply.headers.get('location')?.split('/')[5];
        if (!made.length || !role || !env.login) return made;
        const token = await env.login('anne', role);
        const read = await call('GET', `${env.base}/Patient/${patientId('role-created')}`, token);
        return [...made, ...(read.status === 200 ? [`then reads Patient/${patientId('role-created')} acting in it`] : [])];
      },
    ),
  );
  cells.push({
    name: `outsider lucie moves her PractitionerRole to the record-holding MSP, then reads its patient ${patientId('role-moved')}`,
    attempt: async (env) => {
      const role = (await send(env, 'operator', { method: 'GET', path: `PractitionerRole/${ROLE.lucie}` })).body;
      const reply = await send(env, 'lucie', {
        method: 'PUT',
        path: `PractitionerRole/${ROLE.lucie}`,
        body: { ...role, organization: { reference: `Organization/${MSP}` } },
      });
      return [...written(reply), ...(await readsPatient(env, 'lucie', 'role-moved'))];
    },
  });
  cells.push({
    name: `patient-confined token anne breaks the glass of patient ${patientId('break-glass')}, then reads her`,
    attempt: async (env) => {
      const reply = await send(env, 'annePatient', {
        method: 'POST',
        path: `Patient/${patientId('break-glass')}/$break-glass`,
        body: { resourceType: 'Parameters', parameter: [{ name: 'reason', valueString: 'urgence' }] },
      });
      return [...written(reply), ...(await readsPatient(env, 'anne', 'break-glass'))];
    },
  });
  const launch =
    (patient: string) =>
    (env: Env): Request => ({ method: 'POST', path: `${env.origin}/auth/launch`, body: { patient } });
  cells.push(writeCell(`mints an EHR launch of patient ${patientId('launch')}`, launch(patientId('launch')), async (_env, reply) => answered(reply, _env)));
  cells.push(
    writeCell(`mints an EHR launch of patient ${patientId('o2')}`, launch(patientId('o2')), async (_env, reply) => answered(reply, _env), {
      who: 'annePatient',
    }),
  );
  return cells;
}
