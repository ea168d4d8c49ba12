import type { Organization, PlanDefinition, Practitioner, PractitionerRole, Reference } from '@medplum/fhirtypes';
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import { SYSTEM } from '../../../server/fhir/vocabulary.js';
import { batchAnswers, batchOf, matches, ResourceIndex } from '../fhir/bundle.js';
import { contact, parisToday, personName, professionLabel } from '../fhir/format.js';
import type { Session } from '../smart.js';

/** Who is using the app, in which role and structure, and the pôle's shared references. */
export interface Me {
  session: Session;
  role: Reference<PractitionerRole>;
  roleLabel: string;
  name: string;
  organization?: Organization;
  /** The user's professional email (their role's, else their own): where the alerts they ask for go. */
  email?: string;
  /** The pôle's coordination structures (MSP, CPTS, DAC) and the user's own: whose requests the worklist shows. */
  structures: Organization[];
  protocols: PlanDefinition[];
  today: Date;
}

export const MeContext = createContext<Me | undefined>(undefined);

export function useMe(): Me {
  const me = useContext(MeContext);
  if (!me) throw new Error('useMe outside the app');
  return me;
}

const POLE_TYPES = ['msp', 'cpts', 'dac'].map((c) => `${SYSTEM.coordination}|${c}`).join(',');

/** One batch at start: the user's role with person and structure, the protocols, the pôle's structures. */
export async function loadMe(session: Session): Promise<Me> {
  const roleId = session.role.split('/')[1] ?? '';
  const reply = await session.fhir.post(
    '',
    batchOf([
      `PractitionerRole?_id=${encodeURIComponent(roleId)}&_include=PractitionerRole:practitioner&_include=PractitionerRole:organization`,
      'PlanDefinition?status=active&_count=100',
      `Organization?type=${encodeURIComponent(POLE_TYPES)}&_count=50`,
    ]),
  );
  const [roles, protocols, structures] = batchAnswers(reply).map((a) => (a.ok ? a.bundle : undefined));
  const index = new ResourceIndex(roles);
  const role = matches(roles, 'PractitionerRole')[0] as PractitionerRole | undefined;
  const person = index.get('Practitioner', role?.practitioner ?? session.user) as Practitioner | undefined;
  const organization = index.get('Organization', role?.organization);
  const pole = matches(structures, 'Organization');
  const email = contact(role?.telecom, 'email') ?? contact(person?.telecom, 'email');
  return {
    session,
    role: { reference: session.role, display: person ? personName(person.name) : undefined },
    roleLabel: professionLabel(role, person?.gender),
    name: person ? personName(person.name) : session.user,
    ...(organization ? { organization } : {}),
    ...(email ? { email } : {}),
    structures: [...(organization ? [organization] : []), ...pole.filter((o) => o.id !== organization?.id)],
    protocols: matches(protocols, 'PlanDefinition'),
    today: parisToday(new Date()),
  };
}
