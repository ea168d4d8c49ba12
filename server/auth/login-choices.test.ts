import { describe, expect, it } from 'vitest';
import { encounterChoices, patientChoices, roleChoices } from './login-choices.js';

describe('the choices of the login pages', () => {
  it('names each active role by what and where, the organisation from the search’s includes', () => {
    expect(
      roleChoices([
        { resourceType: 'PractitionerRole', id: 'r-1', code: [{ text: 'Médecin généraliste' }], organization: { reference: 'Organization/msp' } },
        { resourceType: 'PractitionerRole', id: 'r-2', specialty: [{ coding: [{ display: 'Gériatrie' }] }], organization: { display: 'EHPAD du Lac' } },
        { resourceType: 'PractitionerRole', id: 'r-3', active: false, code: [{ text: 'Ancien poste' }] },
        { resourceType: 'PractitionerRole', id: 'r-4' },
        { resourceType: 'Organization', id: 'msp', name: 'MSP des Tilleuls' },
      ]),
    ).toEqual([
      { id: 'r-1', label: 'Médecin généraliste — MSP des Tilleuls' },
      { id: 'r-2', label: 'Gériatrie — EHPAD du Lac' },
      { id: 'r-4', label: 'Rôle' },
    ]);
  });

  it('names patients with their birth date in French', () => {
    expect(
      patientChoices([
        { resourceType: 'Patient', id: 'p-1', name: [{ prefix: ['Mme'], given: ['Jeanne', 'Marie'], family: 'Durand' }], birthDate: '1940-02-03' },
        { resourceType: 'Patient', id: 'p-2', name: [{ text: 'Louis Petit' }], birthDate: '1951' },
        { resourceType: 'Patient', id: 'p-3' },
      ]),
    ).toEqual([
      { id: 'p-1', label: 'Mme Jeanne Marie Durand, né(e) le 03/02/1940' },
      { id: 'p-2', label: 'Louis Petit, né(e) le 1951' },
      { id: 'p-3', label: 'p-3' },
    ]);
  });

  it('names encounters by type, day and place', () => {
    expect(
      encounterChoices([
        {
          resourceType: 'Encounter',
          id: 'e-1',
          status: 'finished',
          class: { code: 'AMB' },
          type: [{ text: 'Consultation' }],
          period: { start: '2026-03-02T10:00:00Z' },
          serviceProvider: { display: 'MSP' },
        },
        { resourceType: 'Encounter', id: 'e-2', status: 'in-progress', class: { code: 'IMP', display: 'Hospitalisation' } },
        { resourceType: 'Encounter', id: 'e-3', status: 'planned', class: {} },
      ]),
    ).toEqual([
      { id: 'e-1', label: 'Consultation, le 02/03/2026, MSP' },
      { id: 'e-2', label: 'Hospitalisation' },
      { id: 'e-3', label: 'Rencontre' },
    ]);
  });
});
