import type { Organization, PractitionerRole, Reference } from '@medplum/fhirtypes';

export interface Commune {
  city: string;
  postalCode: string;
  /** INSEE code (5 characters), used as birthplace and in the NIR. */
  insee: string;
}

/**
 * A pôle de santé as the pathway generator sees it: which roles and structures play which part.
 * The demo builds one by hand (seed/demo/territory.ts); the territory generator builds many.
 */
export interface Pole {
  communes: Commune[];
  /** Patients living in this commune have a médecin traitant of the satellite practice. */
  satelliteCommune: number;
  msp: string;
  satellite: string;
  cpts: string;
  dac: string;
  gps: string[];
  satelliteGps: string[];
  nurses: string[];
  physios: string[];
  pharmacists: string[];
  ssiadNurse: string;
  coordinator: string;
  dacCoordinator: string;
  dischargeNurse: string;
  hospital: { service: string; doctor: string }[];
  organizations: Organization[];
  roles: PractitionerRole[];
}

/** References with their display, for the organisations and roles of a pôle. */
export function references(pole: Pick<Pole, 'organizations' | 'roles'>) {
  const orgs = new Map(pole.organizations.map((o) => [o.id as string, o]));
  const roles = new Map(pole.roles.map((r) => [r.id as string, r]));
  return {
    org(id: string): Reference<Organization> {
      const o = orgs.get(id);
      if (!o) throw new Error(`No organisation ${id} in this pôle`);
      return { reference: `Organization/${id}`, display: o.name };
    },
    role(id: string): Reference<PractitionerRole> {
      const r = roles.get(id);
      if (!r) throw new Error(`No role ${id} in this pôle`);
      return { reference: `PractitionerRole/${id}`, display: r.practitioner?.display };
    },
  };
}
