/**
 * Every version keeps the patients it names (`patients`: its own id for a Patient, else the
 * Patient targets of its Patient compartment parameters; a tombstone, those of the version it
 * deleted), so that the équipe-de-soins rules judge each version of a history, a vread or a
 * deleted resource on its own patients, not on the current row's (which a move to another
 * patient or a delete changes). Written with each version from then on (write.ts); here, filled
 * for what exists: current versions from their index rows (set-based), Patients from their id,
 * older versions from their contents (every Patient reference in them: a superset of their
 * compartment's, so stricter, never looser), tombstones from the version before.
 *
 * The Patient compartment's reference parameters as stored rows, as of this migration
 * (search/compartments.ts compartmentPairs).
 */
const PAIRS: Record<string, string[]> = {
  Account: ['subject'],
  AdverseEvent: ['subject'],
  AllergyIntolerance: ['patient', 'recorder', 'asserter'],
  Appointment: ['actor'],
  AppointmentResponse: ['actor'],
  AuditEvent: ['agent', 'entity'],
  Basic: ['subject', 'author'],
  BodyStructure: ['patient'],
  CarePlan: ['subject', 'performer'],
  CareTeam: ['subject', 'participant'],
  ChargeItem: ['subject'],
  Claim: ['patient', 'payee'],
  ClaimResponse: ['patient'],
  ClinicalImpression: ['subject'],
  Communication: ['subject', 'sender', 'recipient'],
  CommunicationRequest: ['subject', 'sender', 'recipient', 'requester'],
  Composition: ['subject', 'author', 'attester'],
  Condition: ['subject', 'asserter'],
  Consent: ['patient'],
  Coverage: ['policy-holder', 'subscriber', 'beneficiary', 'payor'],
  CoverageEligibilityRequest: ['patient'],
  CoverageEligibilityResponse: ['patient'],
  DetectedIssue: ['patient'],
  DeviceRequest: ['subject', 'performer'],
  DeviceUseStatement: ['subject'],
  DiagnosticReport: ['subject'],
  DocumentManifest: ['subject', 'author', 'recipient'],
  DocumentReference: ['subject', 'author'],
  Encounter: ['subject'],
  EnrollmentRequest: ['subject'],
  EpisodeOfCare: ['patient'],
  ExplanationOfBenefit: ['patient', 'payee'],
  FamilyMemberHistory: ['patient'],
  Flag: ['subject'],
  Goal: ['subject'],
  Group: ['member'],
  ImagingStudy: ['subject'],
  Immunization: ['patient'],
  ImmunizationEvaluation: ['patient'],
  ImmunizationRecommendation: ['patient'],
  Invoice: ['subject', 'recipient'],
  List: ['subject', 'source'],
  MeasureReport: ['subject'],
  Media: ['subject'],
  MedicationAdministration: ['subject', 'performer'],
  MedicationDispense: ['subject', 'receiver'],
  MedicationRequest: ['subject'],
  MedicationStatement: ['subject'],
  MolecularSequence: ['patient'],
  NutritionOrder: ['patient'],
  Observation: ['subject', 'performer'],
  Person: ['link'],
  Procedure: ['subject', 'performer'],
  Provenance: ['target'],
  QuestionnaireResponse: ['subject', 'author'],
  RelatedPerson: ['patient'],
  RequestGroup: ['subject', 'participant'],
  ResearchSubject: ['individual'],
  RiskAssessment: ['subject'],
  Schedule: ['actor'],
  ServiceRequest: ['subject', 'performer'],
  Specimen: ['subject'],
  SupplyDelivery: ['patient'],
  SupplyRequest: ['subject'],
  Task: ['subject', 'focus'],
  VisionPrescription: ['patient'],
};
const pairs = Object.entries(PAIRS)
  .flatMap(([type, params]) => params.map((param) => `('${type}', '${param}')`))
  .join(', ');
const types = Object.keys(PAIRS)
  .map((type) => `'${type}'`)
  .join(', ');

/**
 * A Patient reference in a stored content (JSON as JSON.stringify writes it): relative, absolute,
 * or to a version. The id's length is checked apart: a bounded repetition made the regex four
 * times slower (150 µs a version).
 */
const PATIENT_REFERENCE = `"reference":"(?:[^"]*/)?Patient/([A-Za-z0-9.-]+)(?:/_history/[^"]*)?"`;

export const statements = [
  // A constant default: no table rewrite.
  `ALTER TABLE resource_version ADD COLUMN patients text[] NOT NULL DEFAULT '{}'`,
  `UPDATE resource_version v SET patients = n.patients
     FROM (SELECT s.rid, array_agg(DISTINCT s.target_id ORDER BY s.target_id) AS patients
             FROM sp_reference s
            WHERE (s.type, s.param) IN (VALUES ${pairs}) AND s.target_type = 'Patient' AND s.target_id IS NOT NULL
            GROUP BY s.rid) n
     JOIN resource r ON r.rid = n.rid
    WHERE v.rid = r.rid AND v.version = r.version AND NOT r.deleted`,
  `UPDATE resource_version SET patients = ARRAY[id] WHERE type = 'Patient'`,
  `UPDATE resource_version v
      SET patients = ARRAY(SELECT DISTINCT m[1] FROM regexp_matches(v.content, '${PATIENT_REFERENCE}', 'g') AS m WHERE length(m[1]) <= 64 ORDER BY 1)
     FROM resource r
    WHERE r.rid = v.rid AND v.version < r.version AND v.content IS NOT NULL AND v.type IN (${types})`,
  // Deleting twice writes nothing: the version before a tombstone has content.
  `UPDATE resource_version v SET patients = b.patients
     FROM resource_version b
    WHERE v.content IS NULL AND v.type IN (${types}) AND b.rid = v.rid AND b.version = v.version - 1`,
];
