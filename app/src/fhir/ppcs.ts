import type { Bundle, BundleEntry, CarePlan, CarePlanActivity, CareTeam, Goal, Patient, Reference, Resource } from '@medplum/fhirtypes';
import { COORDINATION, SYSTEM } from '../../../server/fhir/vocabulary.js';
import { versionTag } from './bundle.js';
import { codeText } from './format.js';

export const PLAN_STATUS: Record<string, string> = {
  draft: 'Brouillon',
  active: 'Actif',
  'on-hold': 'Suspendu',
  revoked: 'Arrêté',
  completed: 'Terminé',
  'entered-in-error': 'Saisie erronée',
  unknown: 'Inconnu',
};
export const ACTIVITY_STATUS: Record<string, string> = {
  'not-started': 'Non commencée',
  scheduled: 'Programmée',
  'in-progress': 'En cours',
  'on-hold': 'Suspendue',
  completed: 'Réalisée',
  cancelled: 'Annulée',
  stopped: 'Arrêtée',
  unknown: 'Inconnue',
  'entered-in-error': 'Saisie erronée',
};
export const ACHIEVEMENT: Record<string, string> = {
  'in-progress': 'En cours',
  improving: 'En amélioration',
  worsening: 'En dégradation',
  'no-change': 'Sans évolution',
  achieved: 'Atteint',
  sustaining: 'Maintenu',
  'not-achieved': 'Non atteint',
  'no-progress': 'Sans progrès',
  'not-attainable': 'Inatteignable',
};

export const isPpcs = (p: CarePlan) => !!p.category?.some((c) => c.coding?.some((x) => x.system === SYSTEM.coordination && x.code === 'ppcs'));

/** What the PPCS form edits. Goals and activities keep their place; a goal keeps its id once written. */
export interface PpcsForm {
  title: string;
  status: CarePlan['status'];
  start: string;
  referent?: string;
  problems: string[];
  goals: { id?: string; text: string; due?: string; achievement: string }[];
  activities: { description: string; performer?: string; start?: string; end?: string; status: string }[];
}

/** What the form shows of a goal: what a revision compares to know whether it changed. */
const goalFields = (g: Goal | undefined) => ({
  text: g?.description?.text ?? codeText(g?.description) ?? '',
  due: g?.target?.[0]?.dueDate,
  achievement: g?.achievementStatus?.coding?.[0]?.code ?? 'in-progress',
});

export function ppcsForm(plan: CarePlan | undefined, goals: Goal[], today: string, patientLabel: string): PpcsForm {
  if (!plan) return { title: `PPCS — ${patientLabel}`, status: 'draft', start: today, problems: [], goals: [], activities: [] };
  const goalOf = (ref: Reference) => goals.find((g) => `Goal/${g.id}` === ref.reference);
  return {
    title: plan.title ?? '',
    status: plan.status,
    start: plan.period?.start?.slice(0, 10) ?? today,
    referent: plan.author?.reference,
    problems: plan.addresses?.map((a) => a.reference ?? '').filter(Boolean) ?? [],
    goals: (plan.goal ?? []).map((ref) => {
      const g = goalOf(ref);
      return { id: g?.id, ...goalFields(g) };
    }),
    activities: (plan.activity ?? []).map((a) => ({
      description: a.detail?.description ?? codeText(a.detail?.code),
      performer: a.detail?.performer?.[0]?.reference,
      start: a.detail?.scheduledPeriod?.start?.slice(0, 10),
      end: a.detail?.scheduledPeriod?.end?.slice(0, 10),
      status: a.detail?.status ?? 'not-started',
    })),
  };
}

export interface PpcsContext {
  patient: Reference<Patient>;
  careTeam?: Reference<CareTeam>;
  /** The plan and goals as read: revisions are written If-Match their versions. */
  plan?: CarePlan;
  goals: Goal[];
  /** Display names of the references a form may name (référent, performers, problems). */
  labels: Map<string, string>;
}

const ref = <T extends Resource>(reference: string, labels: Map<string, string>): Reference<T> => ({
  reference,
  ...(labels.get(reference) ? { display: labels.get(reference) } : {}),
});
const achievementConcept = (code: string) => ({
  coding: [{ system: 'http://terminology.hl7.org/CodeSystem/goal-achievement', code }],
  text: ACHIEVEMENT[code] ?? code,
});

/**
 * The transaction that creates or revises a PPCS: the CarePlan and its goals, each written
 * If-Match the version the form was filled from, so that a concurrent revision is refused
 * (412) rather than overwritten. New goals are created in the same transaction.
 */
export function ppcsTransaction(form: PpcsForm, c: PpcsContext): Bundle {
  const entries: BundleEntry[] = [];
  const goalRefs: Reference<Goal>[] = [];
  for (const g of form.goals) {
    const before = g.id ? c.goals.find((x) => x.id === g.id) : undefined;
    if (before) {
      goalRefs.push({ reference: `Goal/${before.id}` });
      // Only the goals the form changed are written (each If-Match the version read).
      if (JSON.stringify(goalFields(before)) === JSON.stringify({ text: g.text, due: g.due, achievement: g.achievement })) continue;
    }
    const goal: Goal = {
      ...before,
      resourceType: 'Goal',
      lifecycleStatus: before?.lifecycleStatus ?? 'active',
      achievementStatus: achievementConcept(g.achievement),
      description: { text: g.text },
      subject: c.patient,
      target: g.due ? [{ dueDate: g.due }] : undefined,
    };
    if (before) {
      entries.push({ resource: goal, request: { method: 'PUT', url: `Goal/${before.id}`, ifMatch: versionTag(before) } });
    } else {
      const fullUrl = `urn:uuid:${crypto.randomUUID()}`;
      goalRefs.push({ reference: fullUrl });
      entries.push({ fullUrl, resource: goal, request: { method: 'POST', url: 'Goal' } });
    }
  }
  const activity: CarePlanActivity[] = form.activities.map((a) => ({
    detail: {
      status: a.status as NonNullable<CarePlanActivity['detail']>['status'],
      description: a.description,
      code: { text: a.description },
      ...(a.start || a.end ? { scheduledPeriod: { ...(a.start ? { start: a.start } : {}), ...(a.end ? { end: a.end } : {}) } } : {}),
      ...(a.performer ? { performer: [ref(a.performer, c.labels)] } : {}),
    },
  }));
  const plan: CarePlan = {
    ...c.plan,
    resourceType: 'CarePlan',
    status: form.status,
    intent: 'plan',
    category: [COORDINATION.ppcs],
    title: form.title,
    subject: c.patient,
    period: { ...c.plan?.period, start: form.start },
    ...(form.referent ? { author: ref(form.referent, c.labels) } : { author: undefined }),
    ...(c.careTeam ? { careTeam: [c.careTeam] } : {}),
    addresses: form.problems.map((p) => ref(p, c.labels)),
    goal: goalRefs,
    activity,
  };
  if (!c.plan) plan.created = new Date().toISOString();
  entries.push(
    c.plan
      ? { resource: plan, request: { method: 'PUT', url: `CarePlan/${c.plan.id}`, ifMatch: versionTag(c.plan) } }
      : { fullUrl: `urn:uuid:${crypto.randomUUID()}`, resource: plan, request: { method: 'POST', url: 'CarePlan' } },
  );
  return { resourceType: 'Bundle', type: 'transaction', entry: entries };
}
