import type { HealthcareService, Location, Organization, PractitionerRole, Resource, Schedule, Slot } from '@medplum/fhirtypes';
import type { Pole } from './pole.js';

const ACT = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
const R66 = 'https://mos.esante.gouv.fr/NOS/TRE_R66-CategorieEtablissement/FHIR/TRE-R66-CategorieEtablissement';
const R314 = 'https://mos.esante.gouv.fr/NOS/TRE_R314-TypeCreneau/FHIR/TRE-R314-TypeCreneau';
const SERVICE_TYPE_REFERENCE = 'http://hl7.org/fhir/5.0/StructureDefinition/extension-Slot.serviceType';

/** Consultation hours (UTC): mornings and afternoons, 20-minute slots. */
const HOURS = [8, 9, 10, 13, 14, 15, 16];
const MINUTES = [0, 20, 40];
const DAYS = 3;

/**
 * The agendas of the pôle's general practitioners, as their practice software would publish them
 * to the CPTS: a cabinet Location per structure, a Schedule per role (the role, the professional
 * and the cabinet as actors, so that a slot is found by commune or postal code), and 20-minute
 * Slots from `today` over three days, about a third already busy, one in five by teleconsultation
 * (serviceType VR, else AMB), each offered to the SAS through the CPTS's "soins non programmés"
 * HealthcareService (the SAS IG's serviceType extension). Deterministic for a given day.
 */
export function demoAgendas(pole: Pole, today: Date): Resource[] {
  const service: HealthcareService = {
    resourceType: 'HealthcareService',
    id: `snp-${pole.cpts}`,
    active: true,
    providedBy: { reference: `Organization/${pole.cpts}` },
    name: 'Soins non programmés',
  };
  const out: Resource[] = [service];
  const locations = new Set<string>();
  const roles = new Map(pole.roles.map((r) => [r.id as string, r]));
  const orgs = new Map(pole.organizations.map((o) => [o.id as string, o]));
  for (const [i, roleId] of [...pole.gps, ...pole.satelliteGps].entries()) {
    const role = roles.get(roleId) as PractitionerRole;
    const orgId = role.organization?.reference?.split('/')[1] as string;
    const locationId = `cabinet-${orgId}`;
    if (!locations.has(locationId)) {
      locations.add(locationId);
      out.push(cabinet(locationId, orgs.get(orgId) as Organization));
    }
    const schedule: Schedule = {
      resourceType: 'Schedule',
      id: `agenda-${roleId}`.slice(0, 64),
      active: true,
      actor: [{ reference: `PractitionerRole/${roleId}` }, role.practitioner as { reference: string }, { reference: `Location/${locationId}` }],
      ...(role.specialty ? { specialty: role.specialty } : {}),
      comment: `Agenda de ${role.practitioner?.display ?? roleId}`,
    };
    out.push(schedule);
    let n = 0;
    for (let d = 0; d < DAYS; d++) {
      for (const h of HOURS) {
        for (const m of MINUTES) {
          n++;
          const start = new Date(today.getTime() + d * 86_400_000 + (h * 60 + m) * 60_000);
          const tele = (n + i) % 5 === 0;
          out.push(slotOf(`slot-${i}-${d}-${h * 100 + m}`, schedule, role, start, (n * 7 + i * 3) % 3 === 0 ? 'busy' : 'free', tele, service.id as string));
        }
      }
    }
  }
  return out;
}

function cabinet(id: string, org: Organization): Location {
  return {
    resourceType: 'Location',
    id,
    status: 'active',
    name: org.name,
    managingOrganization: { reference: `Organization/${org.id}` },
    address: org.address?.[0],
  };
}

function slotOf(id: string, schedule: Schedule, role: PractitionerRole, start: Date, status: Slot['status'], tele: boolean, serviceId: string): Slot {
  return {
    resourceType: 'Slot',
    id,
    meta: {
      security: [
        { system: R314, code: 'PUBLIC' },
        { system: R314, code: 'CPTS' },
      ],
    },
    schedule: { reference: `Schedule/${schedule.id}` },
    status,
    start: start.toISOString().replace('.000Z', 'Z'),
    end: new Date(start.getTime() + 20 * 60_000).toISOString().replace('.000Z', 'Z'),
    serviceType: [
      { coding: [{ system: ACT, code: tele ? 'VR' : 'AMB' }] },
      { extension: [{ url: SERVICE_TYPE_REFERENCE, valueReference: { reference: `HealthcareService/${serviceId}` } }], coding: [{ system: R66, code: '604' }] },
    ],
    ...(role.specialty ? { specialty: role.specialty } : {}),
    appointmentType: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0276', code: 'ROUTINE' }] },
  };
}
