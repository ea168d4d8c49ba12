/** Test data of the terminology tests: NOS canonicals and a small code system with a hierarchy. */
export const NOS = (table: string) => `https://mos.esante.gouv.fr/NOS/${table}/FHIR/${table.replace('_', '-')}`;
export const ROLES = 'http://maillage.test/CodeSystem/roles';

/** soignant > médecin > (généraliste, cardiologue by a parent property), infirmier; aidant apart. English designations. */
export const roles = {
  resourceType: 'CodeSystem',
  id: 'test-roles',
  url: ROLES,
  version: '1',
  status: 'active',
  content: 'complete',
  hierarchyMeaning: 'is-a',
  property: [
    { code: 'parent', uri: 'http://hl7.org/fhir/concept-properties#parent', type: 'code' },
    { code: 'secteur', type: 'string' },
  ],
  concept: [
    {
      code: 'soignant',
      display: 'Soignant',
      designation: [{ language: 'en', value: 'Carer' }],
      concept: [
        {
          code: 'medecin',
          display: 'Médecin',
          designation: [{ language: 'en', value: 'Physician' }],
          property: [{ code: 'secteur', valueString: 'ville' }],
          concept: [{ code: 'generaliste', display: 'Médecin généraliste', property: [{ code: 'secteur', valueString: 'ville' }] }],
        },
        { code: 'infirmier', display: 'Infirmier', property: [{ code: 'secteur', valueString: 'hôpital' }] },
      ],
    },
    { code: 'cardiologue', display: 'Cardiologue', property: [{ code: 'parent', valueCode: 'medecin' }] },
    { code: 'aidant', display: 'Aidant familial' },
  ],
};
