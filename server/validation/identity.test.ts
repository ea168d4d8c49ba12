import { describe, expect, it } from 'vitest';
import { DATABASES, useServer } from '../../tests/harness.js';
import { nirKey, SYSTEMS } from '../fhir/french-ids.js';

const RELIABILITY = 'https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-identity-reliability';
const NIR = '2840763220345';
const patient = (status: string, system: string, value: string) => ({
  resourceType: 'Patient',
  extension: [
    {
      url: RELIABILITY,
      extension: [{ url: 'identityStatus', valueCoding: { system: 'https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0445', code: status } }],
    },
  ],
  identifier: [{ use: 'official', system, value }],
  name: [{ family: 'DUPONT', given: ['Marie'] }],
});

describe.each(DATABASES)('identity vigilance on %s', (kind) => {
  describe('in production', () => {
    const t = useServer(kind, { testIdentities: false });

    it('takes an INS only on a validated identity, with its NIR key', async () => {
      expect((await t.api.post('Patient', patient('VALI', SYSTEMS.insNir, NIR + nirKey(NIR)))).status).toBe(201);
      const provisional = await t.api.post('Patient', patient('PROV', SYSTEMS.insNir, NIR + nirKey(NIR)));
      expect(provisional.status).toBe(400);
      expect(provisional.body.issue[0].expression).toEqual(['Patient.identifier[0]']);
      // The key, with the other French identifiers (validation/french.ts).
      expect((await t.api.post('Patient', patient('VALI', SYSTEMS.insNir, `${NIR}00`))).status).toBe(422);
      // Another identifier needs no validated identity.
      expect((await t.api.post('Patient', patient('PROV', 'urn:oid:1.2.250.1.999.1.1', '42'))).status).toBe(201);
      const created = await t.api.post('Patient', { resourceType: 'Patient', name: [{ family: 'MARTIN' }] });
      const patched = await t.api.patch(`Patient/${created.body.id}`, [
        { op: 'add', path: '/identifier', value: [{ system: SYSTEMS.insNir, value: NIR + nirKey(NIR) }] },
      ]);
      expect(patched.status).toBe(400);
    });

    it('refuses the test and demo INS OIDs', async () => {
      for (const system of [SYSTEMS.insNirTest, SYSTEMS.insNirDemo]) {
        const res = await t.api.post('Patient', patient('VALI', system, NIR + nirKey(NIR)));
        expect(res.status).toBe(400);
        expect(res.body.issue[0].diagnostics).toMatch(/test or demo INS/);
      }
    });
  });

  describe('in a test or demo configuration', () => {
    const t = useServer(kind, { testIdentities: true });
    it('takes the demo INS OID', async () => {
      expect((await t.api.post('Patient', patient('VALI', SYSTEMS.insNirDemo, NIR + nirKey(NIR)))).status).toBe(201);
    });
  });
});
