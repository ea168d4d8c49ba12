import type { CodeableConcept } from '@medplum/fhirtypes';
import { SYSTEM } from './vocabulary.js';

/* How a professional is named by what they do: shared by the app and the letters the server prints. */

export const codeText = (c: CodeableConcept | undefined) => c?.text ?? c?.coding?.find((x) => x.display)?.display ?? c?.coding?.[0]?.code ?? '';

/** Feminine forms of the professions of TRE_R48 (and fonctions of TRE_R21) that have one. */
const FEMININE: Record<string, string> = {
  Infirmier: 'Infirmière',
  Pharmacien: 'Pharmacienne',
  'Masseur-Kinésithérapeute': 'Masseuse-kinésithérapeute',
  Chirurgien: 'Chirurgienne',
  'Chirurgien-Dentiste': 'Chirurgienne-dentiste',
  Orthophoniste: 'Orthophoniste',
  Diététicien: 'Diététicienne',
  'Pédicure-Podologue': 'Pédicure-podologue',
  Psychologue: 'Psychologue',
};

/**
 * What a PractitionerRole does, as a colleague would say it: the profession (TRE_R48) rather than
 * the practice mode ("Titulaire de cabinet"), then the specialties; in the feminine for a woman.
 */
export function professionLabel(role: { code?: CodeableConcept[]; specialty?: CodeableConcept[] } | undefined, gender: string | undefined): string {
  if (!role) return '';
  const codes = role.code ?? [];
  const profession = codes.find((c) => c.coding?.some((k) => k.system === SYSTEM.profession)) ?? codes[0];
  const said = (c: CodeableConcept) => {
    const text = codeText(c) ?? '';
    return gender === 'female' ? (FEMININE[text] ?? text) : text;
  };
  return [...(profession ? [profession] : []), ...(role.specialty ?? [])].map(said).filter(Boolean).join(', ');
}
