import type {
  Binary,
  Bundle,
  CarePlan,
  Library,
  Organization,
  Parameters,
  ParametersParameter,
  Patient,
  PlanDefinition,
  Practitioner,
  PractitionerRole,
  Resource,
} from '@medplum/fhirtypes';
import { restrictionsFor, unrestricted } from '../access/restrictions.js';
import { badRequest, fail, notFound, unprocessable } from '../fhir/outcome.js';
import { bodyOf, type Context, type FhirRequest, type FhirResponse } from '../interactions/context.js';
import { search } from '../interactions/search.js';
import { lettersCsv } from './csv.js';
import { letterOf, senderOf, type Recall } from './letter.js';
import { lettersPdf } from './pdf.js';
import { DEFAULT_TEMPLATE, RECALL_TEMPLATE_URL, unknownPlaceholders } from './template.js';

/** At most this many letters in one printing: a pôle's month of recalls, not its whole file. */
export const MAX_RECALLS = 500;
const OPEN = new Set(['not-started', 'scheduled', 'in-progress', 'on-hold']);

type Format = 'pdf' | 'csv';
const MEDIA: Record<Format, string> = { pdf: 'application/pdf', csv: 'text/csv; charset=utf-8' };

/**
 * `POST [base]/CarePlan/$recall-letters` (Parameters: `recall` with parts `plan` (Reference to a
 * CarePlan) and `activity` (its index in CarePlan.activity), repeated; `format` pdf (default) or
 * csv; `template`, a Library, else the pôle's of url RECALL_TEMPLATE_URL, else the default): the
 * pôle's recall letters (courriers de relance), one per activity due, signed by the user printing
 * them, as a Binary (a PDF to print, or a mail-merge CSV).
 *
 * Server-side so that what is printed is what the rules let the user see, read under the
 * équipe-de-soins rules, and so that the trail records each printing: who printed which letters
 * for which patients (the route's AuditEvent names the patients and the plans and template versions).
 */
export async function recallLettersOperation(ctx: Context, req: FhirRequest): Promise<FhirResponse> {
  const access = ctx.access;
  for (const type of ['CarePlan', 'Patient']) {
    if (access && !unrestricted(restrictionsFor(access, type, 'r'))) {
      throw fail(403, 'forbidden', `Recall letters need a scope reading ${type} without patient or filter restriction`);
    }
  }
  const { asked, format, templateId } = inputOf(req);
  const run = async (c: Context, type: string, query: string) =>
    bodyOf(await search(c, { method: 'GET', path: [type], query: new URLSearchParams(query), prefer: {} }, type)) as Bundle;
  const resources = <T extends Resource>(bundle: Bundle, type: T['resourceType']) =>
    (bundle.entry ?? []).map((e) => e.resource).filter((r): r is T => r?.resourceType === type);

  const ids = [...new Set(asked.map((a) => a.plan))];
  const plans = new Map(resources<CarePlan>(await run(ctx, 'CarePlan', `_id=${ids.join(',')}&_count=${ids.length}`), 'CarePlan').map((p) => [p.id, p]));
  const hidden = ids.filter((id) => !plans.has(id));
  if (hidden.length) {
    // What exists outside the user's équipe is refused as such; what does not exist is told.
    const existing = resources<CarePlan>(await run({ ...ctx, access: undefined }, 'CarePlan', `_id=${hidden.join(',')}&_elements=id`), 'CarePlan');
    if (existing.length) throw fail(403, 'forbidden', `CarePlan/${existing[0].id} is outside your équipe de soins`);
    throw notFound(`CarePlan/${hidden[0]} is not known`);
  }
  const subjects = [...new Set([...plans.values()].map((p) => /^Patient\/([^/]+)$/.exec(p.subject?.reference ?? '')?.[1] ?? ''))];
  if (subjects.includes('')) throw unprocessable('A recall letter is for a CarePlan whose subject is a Patient');
  const patients = new Map(
    resources<Patient>(await run(ctx, 'Patient', `_id=${subjects.join(',')}&_count=${subjects.length}`), 'Patient').map((p) => [p.id, p]),
  );
  const unseen = subjects.find((id) => !patients.has(id));
  if (unseen) throw fail(403, 'forbidden', `Patient/${unseen} is outside your équipe de soins`);

  const protocols = resources<PlanDefinition>(await run(ctx, 'PlanDefinition', '_count=200'), 'PlanDefinition');
  const recalls: Recall[] = asked.map(({ plan: id, activity }) => {
    const plan = plans.get(id) as CarePlan;
    const detail = plan.activity?.[activity]?.detail;
    if (!detail) throw unprocessable(`CarePlan/${id} has no activity ${activity} with a detail`);
    if (!OPEN.has(detail.status)) throw unprocessable(`Activity ${activity} of CarePlan/${id} is ${detail.status}: there is nothing to recall`);
    const canonicals = (plan.instantiatesCanonical ?? []).map((c) => c.split('|')[0]);
    const protocol = protocols.find((p) => p.url && canonicals.includes(p.url));
    return { patient: patients.get(plan.subject?.reference?.split('/')[1]) as Patient, plan, activity, ...(protocol ? { protocol } : {}) };
  });

  const template = await templateOf(ctx, templateId, run);
  const text = template ? templateText(template) : DEFAULT_TEMPLATE;
  const unknown = unknownPlaceholders(text);
  if (unknown.length) throw unprocessable(`The letter template names unknown placeholders: ${unknown.map((u) => `{{${u}}}`).join(', ')}`);

  const sender = await senderFor(ctx, run);
  const today = new Date();
  const letters = recalls.map((r) => letterOf(r, sender, today));
  const content =
    format === 'pdf' ? await lettersPdf(letters, sender, text, `Courriers de relance — ${sender.structure}`) : Buffer.from(lettersCsv(letters), 'utf8');
  const binary: Binary = { resourceType: 'Binary', contentType: MEDIA[format], data: content.toString('base64') };
  const version = (r: Resource) => `${r.resourceType}/${r.id}${r.meta?.versionId ? `/_history/${r.meta.versionId}` : ''}`;
  return {
    status: 200,
    resource: binary,
    disclosed: {
      patients: [...new Set(letters.map((l) => l.patientId))],
      resources: [...[...plans.values()].map(version), ...(template ? [version(template)] : [])],
      query: `format=${format}&letters=${letters.length}`,
    },
  };
}

/** The recalls asked for, the format, the template named. */
function inputOf(req: FhirRequest): { asked: { plan: string; activity: number }[]; format: Format; templateId?: string } {
  const body = req.body as Parameters | undefined;
  if (req.method !== 'POST' || body?.resourceType !== 'Parameters') {
    throw badRequest('$recall-letters takes a Parameters body (POST) naming each recall: parameter recall, parts plan and activity');
  }
  const params = (body.parameter ?? []).filter((p): p is ParametersParameter => !!p && typeof p === 'object');
  const one = (name: string) => {
    const found = params.filter((p) => p.name === name);
    if (found.length > 1) throw badRequest(`Parameter ${name} is given more than once`);
    return found[0];
  };
  const format = one('format')?.valueCode ?? 'pdf';
  if (format !== 'pdf' && format !== 'csv') throw badRequest(`Parameter format must be pdf or csv: ${format}`);
  const templateRef = one('template')?.valueReference?.reference;
  const templateId = templateRef === undefined ? undefined : /^Library\/([A-Za-z0-9\-.]{1,64})$/.exec(templateRef)?.[1];
  if (templateRef !== undefined && !templateId) throw badRequest(`Parameter template must reference a Library: ${templateRef}`);
  const asked = params
    .filter((p) => p.name === 'recall')
    .map((p, i) => {
      const plan = /^CarePlan\/([A-Za-z0-9\-.]{1,64})$/.exec(p.part?.find((x) => x.name === 'plan')?.valueReference?.reference ?? '')?.[1];
      const activity = p.part?.find((x) => x.name === 'activity')?.valueInteger;
      if (!plan || activity === undefined || !Number.isInteger(activity) || activity < 0) {
        throw badRequest(`recall ${i + 1} needs parts plan (a CarePlan reference) and activity (an index, from 0)`);
      }
      return { plan, activity };
    });
  if (!asked.length) throw badRequest('No recall asked: give at least one parameter recall');
  if (asked.length > MAX_RECALLS) throw badRequest(`At most ${MAX_RECALLS} letters at once (${asked.length} asked)`);
  return { asked, format, ...(templateId ? { templateId } : {}) };
}

type Run = (c: Context, type: string, query: string) => Promise<Bundle>;

/** The template named, else the pôle's latest active one, else none (the default text). */
async function templateOf(ctx: Context, id: string | undefined, run: Run): Promise<Library | undefined> {
  const query = id ? `_id=${id}` : `url=${encodeURIComponent(RECALL_TEMPLATE_URL)}&status=active&_sort=-_lastUpdated&_count=1`;
  const found = (await run(ctx, 'Library', query)).entry?.[0]?.resource as Library | undefined;
  if (id && !found) throw notFound(`Library/${id} is not known`);
  return found;
}

/** A template's text: its first text/plain content. */
function templateText(library: Library): string {
  const content = library.content?.find((c) => (c.contentType ?? '').startsWith('text/plain') && c.data);
  if (!content?.data) throw unprocessable(`Library/${library.id} has no text/plain content to print from`);
  return Buffer.from(content.data, 'base64').toString('utf8');
}

/** The user printing, from the role the token acts in (none: the pôle's coordination, unnamed). */
async function senderFor(ctx: Context, run: Run) {
  const role = ctx.access?.role;
  if (!role) return senderOf(undefined, undefined, undefined);
  const bundle = await run(ctx, 'PractitionerRole', `_id=${role}&_include=PractitionerRole:practitioner&_include=PractitionerRole:organization`);
  const all = (bundle.entry ?? []).map((e) => e.resource);
  const practitionerRole = all.find((r): r is PractitionerRole => r?.resourceType === 'PractitionerRole');
  const ref = (r: { reference?: string } | undefined) => r?.reference?.split('/').slice(-2).join('/');
  const person = all.find((r): r is Practitioner => r?.resourceType === 'Practitioner' && `Practitioner/${r.id}` === ref(practitionerRole?.practitioner));
  const organization = all.find((r): r is Organization => r?.resourceType === 'Organization' && `Organization/${r.id}` === ref(practitionerRole?.organization));
  return senderOf(practitionerRole, person, organization);
}
