import type { Address, CarePlan, HumanName, Organization, Patient, PlanDefinition, Practitioner, PractitionerRole } from '@medplum/fhirtypes';
import { codeText, professionLabel } from '../fhir/profession.js';
import type { LetterFields } from './template.js';

/** Who signs the letters: the professional printing them, in the role and structure they act for. */
export interface Sender {
  name: string;
  profession: string;
  structure: string;
  address: string[];
  city: string;
  phone: string;
}

/** One recall: a patient, and the activity of their protocol that is due. */
export interface Recall {
  patient: Patient;
  plan: CarePlan;
  activity: number;
  protocol?: PlanDefinition;
}

/** One letter, ready to lay out or to merge: the recipient's block and the fields of its text. */
export interface Letter {
  patientId: string;
  recipient: string[];
  address: { lines: string[]; postalCode: string; city: string };
  fields: LetterFields;
}

const LONG_DATE = new Intl.DateTimeFormat('fr-FR', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'Europe/Paris' });
/** A date (a day, or an instant in Paris) as a letter writes it: 7 décembre 2026. */
export const longDate = (value: string | Date) =>
  LONG_DATE.format(typeof value === 'string' && value.length === 10 ? new Date(`${value}T12:00:00Z`) : new Date(value));

const nameOf = (names: HumanName[] | undefined) => names?.find((n) => n.use === 'usual') ?? names?.find((n) => n.use === 'official') ?? names?.[0];

/** Where a letter goes: the home address, else the first one. */
const postal = (addresses: Address[] | undefined) => addresses?.find((a) => a.use === 'home') ?? addresses?.find((a) => a.use !== 'old') ?? addresses?.[0];

/** The sender of the letters from the user's role, person and structure (none: the pôle's coordination, unnamed). */
export function senderOf(role: PractitionerRole | undefined, person: Practitioner | undefined, organization: Organization | undefined): Sender {
  const n = nameOf(person?.name);
  const address = postal(organization?.address);
  return {
    name: n ? [n.prefix?.join(' '), n.given?.join(' '), n.family].filter(Boolean).join(' ') : 'L’équipe de coordination',
    profession: professionLabel(role, person?.gender),
    structure: organization?.name ?? '',
    address: [...(address?.line ?? []), [address?.postalCode, address?.city].filter(Boolean).join(' ')].filter(Boolean),
    city: address?.city ?? '',
    phone: organization?.telecom?.find((t) => t.system === 'phone')?.value ?? role?.telecom?.find((t) => t.system === 'phone')?.value ?? '',
  };
}

/** The letter of one recall, signed by `sender`, dated `today`. */
export function letterOf(recall: Recall, sender: Sender, today: Date): Letter {
  const { patient, plan } = recall;
  const n = nameOf(patient.name);
  const given = n?.given?.join(' ') ?? '';
  const family = n?.family ?? '';
  const civility = patient.gender === 'female' ? 'Madame' : patient.gender === 'male' ? 'Monsieur' : 'Madame, Monsieur';
  const detail = plan.activity?.[recall.activity]?.detail;
  const due = detail?.scheduledPeriod?.start ?? detail?.scheduledString ?? '';
  const address = postal(patient.address);
  const lines = address?.line ?? [];
  const town = { postalCode: address?.postalCode ?? '', city: address?.city ?? '' };
  const whom = [patient.gender === 'female' ? 'Madame' : patient.gender === 'male' ? 'Monsieur' : '', given, family].filter(Boolean).join(' ');
  return {
    patientId: patient.id as string,
    recipient: [whom, ...lines, [town.postalCode, town.city].filter(Boolean).join(' ')].filter(Boolean),
    address: { lines, ...town },
    fields: {
      civilite: civility,
      patient: [given, family].filter(Boolean).join(' '),
      prenom: given,
      nom: family,
      protocole: recall.protocol?.title ?? recall.protocol?.name ?? plan.title ?? '',
      activite: detail?.description ?? codeText(detail?.code),
      echeance: /^\d{4}-\d{2}-\d{2}/.test(due) ? longDate(due.slice(0, 10)) : due,
      professionnel: sender.name,
      profession: sender.profession,
      structure: sender.structure,
      telephone: sender.phone,
      date: longDate(today),
    },
  };
}
