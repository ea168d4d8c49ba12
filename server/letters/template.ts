import { MAILLAGE_CANONICAL } from '../fhir/maillage.js';

/*
 * The pôle's recall letter (courrier type de relance): a text the pôle edits, kept as a Library
 * (content text/plain) of canonical RECALL_TEMPLATE_URL, with {{placeholders}} filled per patient.
 * Pure, shared with the coordination app, whose editor lists the placeholders and checks a text.
 */

/** The canonical of the pôle's recall letter template (Library.url). */
export const RECALL_TEMPLATE_URL = `${MAILLAGE_CANONICAL}/Library/courrier-de-relance`;

/** What a template may name, and what each is, as the editor shows it. */
export const PLACEHOLDERS = {
  civilite: 'Madame, Monsieur, ou « Madame, Monsieur » quand le sexe n’est pas connu',
  patient: 'prénom et nom du patient',
  prenom: 'prénom du patient',
  nom: 'nom du patient',
  protocole: 'protocole suivi',
  activite: 'activité à réaliser (consultation, examen, vaccination…)',
  echeance: 'date prévue de l’activité',
  professionnel: 'nom du professionnel qui imprime',
  profession: 'sa profession',
  structure: 'sa structure',
  telephone: 'téléphone de la structure',
  date: 'date du jour',
} as const;

export type LetterFields = Record<keyof typeof PLACEHOLDERS, string>;

/** Used until the pôle saves its own. */
export const DEFAULT_TEMPLATE = `Objet : rappel de votre suivi — {{activite}}

{{civilite}},

Dans le cadre de votre suivi « {{protocole}} », l’étape suivante est : {{activite}}. Elle est prévue pour le {{echeance}}.

Nous vous invitons à prendre rendez-vous dès que possible, en appelant le {{telephone}}.

Si ce suivi a déjà été fait, merci de ne pas tenir compte de ce courrier et de nous le signaler.

Je vous prie d’agréer, {{civilite}}, l’expression de mes salutations distinguées.`;

const PLACEHOLDER = /\{\{\s*([^{}\s]*)\s*\}\}/g;

/** The placeholders a template names that are not known (a typo the pôle should see before printing). */
export function unknownPlaceholders(template: string): string[] {
  const unknown = [...template.matchAll(PLACEHOLDER)].map((m) => m[1]).filter((name) => !(name in PLACEHOLDERS));
  return [...new Set(unknown)];
}

/** The template with each placeholder replaced by its field. */
export const fillTemplate = (template: string, fields: LetterFields): string =>
  template.replace(PLACEHOLDER, (whole, name: string) => (name in PLACEHOLDERS ? fields[name as keyof LetterFields] : whole));
