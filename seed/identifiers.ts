import type { Identifier } from '@medplum/fhirtypes';
import { luhnKey, nirKey, SYSTEMS } from '../server/fhir/french-ids.js';

const type = (code: string, display: string) => ({ coding: [{ system: SYSTEMS.identifierType, code, display }] });

/** RPPS and IDNPS (8 + RPPS) of a professional, from a 10-digit payload; the key is computed. */
export function professionalIds(payload10: string): Identifier[] {
  const rpps = payload10 + luhnKey(payload10);
  return [
    { use: 'official', type: type('IDNPS', 'Identifiant National de Professionnel de Santé'), system: SYSTEMS.idnps, value: `8${rpps}` },
    { use: 'official', type: type('RPPS', 'N° RPPS'), system: SYSTEMS.rpps, value: rpps },
  ];
}

/** FINESS (EJ or EG) and IDNST (1 + FINESS) of a structure, from an 8-digit payload. */
export function structureIds(payload8: string, kind: 'FINEJ' | 'FINEG'): Identifier[] {
  const finess = payload8 + luhnKey(payload8);
  return [
    { use: 'official', type: type('IDNST', 'Identifiant National de Structure'), system: SYSTEMS.idnst, value: `1${finess}` },
    {
      use: 'official',
      type: type(kind, kind === 'FINEJ' ? 'FINESS d’entité juridique' : 'FINESS d’entité géographique'),
      system: SYSTEMS.finess,
      value: finess,
    },
  ];
}

/** SIRET (for structures without FINESS, such as associations: DAC, CPTS), from a 13-digit payload. */
export function siretIds(payload13: string): Identifier[] {
  const siret = payload13 + luhnKey(payload13);
  return [
    { use: 'official', type: type('IDNST', 'Identifiant National de Structure'), system: SYSTEMS.idnst, value: `3${siret}` },
    { use: 'official', type: type('SIRET', 'N° SIRET'), system: SYSTEMS.sirene, value: siret },
  ];
}

/**
 * An INS on the DEMO OID (INS-NIR-DEMO, never a production INS): the demo identities are fictional,
 * so they must not carry the real INS-NIR system.
 */
export function demoIns(nir13: string): Identifier {
  return {
    use: 'official',
    type: type('INS-NIR-DEMO', 'NIR de démonstration'),
    system: SYSTEMS.insNirDemo,
    value: nir13 + nirKey(nir13),
  };
}
