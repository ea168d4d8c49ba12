import type { Appointment, Bundle, CarePlan, Encounter, Parameters, Patient, Resource, Subscription, Task } from '@medplum/fhirtypes';
import { matches, ResourceIndex, saveTransaction } from './bundle.js';
import { codeText, patientName } from './format.js';
import type { Fhir } from './http.js';

/**
 * The pôle's events, live: one websocket Subscription per kind of resource the coordinator
 * follows, owned by her (the server sends her only what her équipe de soins lets her see). R4's
 * websocket channel says `ping [id]` and nothing else: on each ping the app asks what changed
 * since the last change it saw (the server's `lastUpdated`, never the browser's clock).
 */
export const LIVE_TYPES = ['Encounter', 'Task', 'CarePlan', 'Appointment'] as const;
export type LiveType = (typeof LIVE_TYPES)[number];

/** Marks the app's subscriptions with their user: each user has one per type, found again at the next start. */
const TAG = 'https://fhir.maillage.fr/CodeSystem/coordination-app-subscription';
const REASON = 'Fil des évènements du pôle (application de coordination)';
/** A subscription the app no longer renews (its user stopped using it) stops by itself. */
const LIFETIME_MS = 12 * 3600_000;

export interface LiveEvent {
  key: string;
  type: LiveType;
  at: string;
  what: string;
  patient?: { id: string; name: string };
}

const PATIENT_OF: Record<LiveType, string> = {
  Encounter: 'Encounter:subject',
  Task: 'Task:patient',
  CarePlan: 'CarePlan:subject',
  Appointment: 'Appointment:patient',
};

const ENCOUNTER: Record<string, string> = { planned: 'prévu', 'in-progress': 'admission (en cours)', finished: 'sortie', cancelled: 'annulé' };
const TASK: Record<string, string> = {
  requested: 'demandée',
  ready: 'à faire',
  'in-progress': 'en cours',
  completed: 'terminée',
  cancelled: 'annulée',
  rejected: 'refusée',
};
const APPOINTMENT: Record<string, string> = { booked: 'pris', cancelled: 'annulé', fulfilled: 'honoré', noshow: 'non honoré', proposed: 'proposé' };

/** What happened, in a coordinator's words. */
export function describe(r: Resource): string {
  const created = r.meta?.versionId === '1';
  switch (r.resourceType) {
    case 'Encounter': {
      const e = r as Encounter;
      const kind = ['IMP', 'ACUTE', 'NONAC'].includes(e.class?.code ?? '') ? 'Séjour hospitalier' : 'Rencontre';
      return `${kind} : ${ENCOUNTER[e.status] ?? e.status}`;
    }
    case 'Task': {
      const t = r as Task;
      return `Tâche ${created ? 'créée' : 'mise à jour'} : ${t.description ?? codeText(t.code)} (${TASK[t.status] ?? t.status})`;
    }
    case 'CarePlan': {
      const c = r as CarePlan;
      return `${c.title ?? 'Plan de soins'} ${created ? 'créé' : 'révisé'}`;
    }
    case 'Appointment': {
      const a = r as Appointment;
      const when = a.start ? ` le ${new Date(a.start).toLocaleString('fr-FR', { dateStyle: 'short', timeStyle: 'short', timeZone: 'Europe/Paris' })}` : '';
      return `Rendez-vous ${APPOINTMENT[a.status] ?? a.status}${when}`;
    }
    default:
      return r.resourceType;
  }
}

const patientRef = (r: Resource) =>
  ((r as Task).for ?? (r as Encounter).subject ?? (r as Appointment).participant?.find((p) => p.actor?.reference?.startsWith('Patient/'))?.actor)?.reference;

/** The events a search of changes found, oldest first. */
export function eventsOf(type: LiveType, bundle: Bundle): LiveEvent[] {
  const index = new ResourceIndex(bundle);
  return matches(bundle, type).map((r) => {
    const ref = patientRef(r);
    const patient = index.get('Patient', ref) as Patient | undefined;
    return {
      key: `${type}/${r.id}/${r.meta?.versionId}`,
      type,
      at: r.meta?.lastUpdated ?? '',
      what: describe(r),
      ...(ref ? { patient: { id: ref.split('/')[1], name: patient ? patientName(patient.name) : 'patient' } } : {}),
    };
  });
}

/** The user's subscription of one type: found again (its end pushed back) or created. */
async function subscriptionFor(fhir: Fhir, type: LiveType, user: string): Promise<string> {
  const end = new Date(Date.now() + LIFETIME_MS).toISOString();
  const tag = { system: TAG, code: user };
  const found = matches(
    await fhir.get<Bundle>(`Subscription?_tag=${encodeURIComponent(`${TAG}|${user}`)}&criteria:exact=${type}&type=websocket&status=active&_count=1`),
    'Subscription',
  )[0];
  if (found) {
    await fhir.post('', saveTransaction({ ...found, end }));
    return found.id as string;
  }
  const created = await fhir.post<Subscription>('Subscription', {
    resourceType: 'Subscription',
    meta: { tag: [tag] },
    status: 'requested',
    reason: REASON,
    end,
    criteria: type,
    channel: { type: 'websocket' },
  });
  return created.id as string;
}

export interface LiveFeed {
  close(): void;
}

/**
 * Opens the live feed: subscriptions, binding tokens, one socket bound to each; `onEvents` hears
 * what changed, `onState` whether the feed is connected. The socket is opened again after a drop,
 * with new tokens (they last an hour).
 */
export function openLiveFeed(fhir: Fhir, user: string, onEvents: (events: LiveEvent[]) => void, onState: (connected: boolean) => void): LiveFeed {
  let closed = false;
  let socket: WebSocket | undefined;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let failures = 0;
  const since = new Map<string, string>();
  const bySubscription = new Map<string, LiveType>();
  const running = new Map<LiveType, Promise<void>>();

  const changes = async (type: LiveType) => {
    const after = since.get(type);
    const bundle = await fhir.get<Bundle>(
      `${type}?_sort=${after ? '_lastUpdated' : '-_lastUpdated'}&_count=${after ? 50 : 1}${after ? `&_lastUpdated=gt${encodeURIComponent(after)}&_include=${PATIENT_OF[type]}` : ''}`,
    );
    const events = eventsOf(type, bundle);
    const latest = events
      .map((e) => e.at)
      .sort()
      .at(-1);
    if (latest) since.set(type, latest);
    else if (!after) since.set(type, new Date(0).toISOString());
    return after ? events : [];
  };
  // One search at a time per type: pings in a burst are answered by the search after them.
  const heard = (type: LiveType) => {
    const previous = running.get(type) ?? Promise.resolve();
    const next = previous
      .then(async () => {
        const events = await changes(type);
        if (events.length) onEvents(events);
      })
      .catch(() => undefined);
    running.set(type, next);
  };

  const connect = async () => {
    const ids = await Promise.all(LIVE_TYPES.map((t) => subscriptionFor(fhir, t, user)));
    LIVE_TYPES.forEach((t, i) => bySubscription.set(ids[i], t));
    await Promise.all(LIVE_TYPES.filter((t) => !since.has(t)).map(changes));
    const tokens = await Promise.all(ids.map((id) => fhir.post<Parameters>(`Subscription/${id}/$get-ws-binding-token`, { resourceType: 'Parameters' })));
    const param = (p: Parameters, name: string) => p.parameter?.find((x) => x.name === name);
    if (closed) return;
    const ws = new WebSocket(param(tokens[0], 'websocket-url')?.valueUrl as string);
    socket = ws;
    let bound = 0;
    ws.onopen = () => {
      for (const t of tokens) ws.send(JSON.stringify({ type: 'bind-with-token', payload: { token: param(t, 'token')?.valueString } }));
    };
    ws.onmessage = (m) => {
      const [word, id] = String(m.data).split(' ');
      if (word === 'bound' && ++bound === tokens.length) {
        failures = 0;
        onState(true);
        // What changed while the socket was being opened.
        for (const t of LIVE_TYPES) heard(t);
      }
      const type = bySubscription.get(id);
      if (word === 'ping' && type) heard(type);
    };
    ws.onclose = () => {
      onState(false);
      if (!closed) again();
    };
  };
  const again = () => {
    failures++;
    retry = setTimeout(() => connect().catch(again), Math.min(30_000, 1000 * 2 ** failures));
  };
  connect().catch(again);
  return {
    close() {
      closed = true;
      clearTimeout(retry);
      socket?.close();
    },
  };
}
