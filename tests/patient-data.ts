/**
 * One small valid resource of every type of the Patient compartment (the types the équipe-de-soins
 * rules govern), naming a patient through the search parameter `param`, the first of the
 * compartment's parameters for that type. AuditEvent is not among them: the server writes the
 * trail itself. Each resource is built from the reference it must carry, so that a test can name
 * the patient relatively, absolutely, by version or by a transaction's urn:uuid.
 */
export interface PatientDataType {
  type: string;
  /** The search parameter through which the resource is in the patient's compartment. */
  param: string;
  build: (patient: { reference: string }) => Record<string, unknown>;
}

const code = (text: string) => ({ text });
const ref = (reference: string) => ({ reference });
const ORG = ref('Organization/msp-val-de-lys');
const PRACTITIONER = ref('Practitioner/pr-claire-morvan');
const DAY = '2026-01-15';

export const PATIENT_DATA: PatientDataType[] = [
  { type: 'Account', param: 'subject', build: (p) => ({ status: 'active', subject: [p] }) },
  { type: 'AdverseEvent', param: 'subject', build: (p) => ({ actuality: 'actual', subject: p }) },
  {
    type: 'AllergyIntolerance',
    param: 'patient',
    build: (p) => ({
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] },
      patient: p,
      code: code('pénicilline'),
    }),
  },
  { type: 'Appointment', param: 'actor', build: (p) => ({ status: 'proposed', participant: [{ actor: p, status: 'accepted' }] }) },
  { type: 'AppointmentResponse', param: 'actor', build: (p) => ({ appointment: ref('Appointment/none'), participantStatus: 'accepted', actor: p }) },
  { type: 'Basic', param: 'patient', build: (p) => ({ code: code('note'), subject: p }) },
  { type: 'BodyStructure', param: 'patient', build: (p) => ({ patient: p }) },
  { type: 'CarePlan', param: 'patient', build: (p) => ({ status: 'active', intent: 'plan', subject: p }) },
  // No participant: a team naming nobody gives nobody access.
  { type: 'CareTeam', param: 'patient', build: (p) => ({ status: 'active', subject: p }) },
  { type: 'ChargeItem', param: 'subject', build: (p) => ({ status: 'billable', code: code('acte'), subject: p }) },
  {
    type: 'Claim',
    param: 'patient',
    build: (p) => ({
      status: 'active',
      type: code('professional'),
      use: 'claim',
      patient: p,
      created: DAY,
      provider: ORG,
      priority: code('normal'),
      insurance: [{ sequence: 1, focal: true, coverage: ref('Coverage/none') }],
    }),
  },
  {
    type: 'ClaimResponse',
    param: 'patient',
    build: (p) => ({ status: 'active', type: code('professional'), use: 'claim', patient: p, created: DAY, insurer: ORG, outcome: 'complete' }),
  },
  { type: 'ClinicalImpression', param: 'subject', build: (p) => ({ status: 'completed', subject: p }) },
  { type: 'Communication', param: 'subject', build: (p) => ({ status: 'completed', subject: p }) },
  { type: 'CommunicationRequest', param: 'subject', build: (p) => ({ status: 'active', subject: p }) },
  {
    type: 'Composition',
    param: 'subject',
    build: (p) => ({ status: 'final', type: code('lettre'), date: DAY, author: [PRACTITIONER], title: 'Lettre', subject: p }),
  },
  { type: 'Condition', param: 'patient', build: (p) => ({ subject: p, code: code('diabète') }) },
  // No provision: neither an opposition nor a share.
  {
    type: 'Consent',
    param: 'patient',
    build: (p) => ({ status: 'active', scope: code('privacy'), category: [code('note')], policyRule: code('note'), patient: p }),
  },
  { type: 'Coverage', param: 'beneficiary', build: (p) => ({ status: 'active', beneficiary: p, payor: [ORG] }) },
  {
    type: 'CoverageEligibilityRequest',
    param: 'patient',
    build: (p) => ({ status: 'active', purpose: ['validation'], patient: p, created: DAY, insurer: ORG }),
  },
  {
    type: 'CoverageEligibilityResponse',
    param: 'patient',
    build: (p) => ({
      status: 'active',
      purpose: ['validation'],
      patient: p,
      created: DAY,
      request: ref('CoverageEligibilityRequest/none'),
      outcome: 'complete',
      insurer: ORG,
    }),
  },
  { type: 'DetectedIssue', param: 'patient', build: (p) => ({ status: 'final', patient: p }) },
  { type: 'DeviceRequest', param: 'subject', build: (p) => ({ status: 'active', intent: 'order', codeCodeableConcept: code('lit médicalisé'), subject: p }) },
  { type: 'DeviceUseStatement', param: 'subject', build: (p) => ({ status: 'active', subject: p, device: ref('Device/none') }) },
  { type: 'DiagnosticReport', param: 'subject', build: (p) => ({ status: 'final', code: code('bilan'), subject: p }) },
  { type: 'DocumentManifest', param: 'subject', build: (p) => ({ status: 'current', content: [ref('DocumentReference/none')], subject: p }) },
  {
    type: 'DocumentReference',
    param: 'subject',
    build: (p) => ({ status: 'current', content: [{ attachment: { contentType: 'text/plain', data: 'c2VjcmV0' } }], subject: p }),
  },
  { type: 'Encounter', param: 'subject', build: (p) => ({ status: 'finished', class: { code: 'AMB' }, subject: p }) },
  { type: 'EnrollmentRequest', param: 'subject', build: (p) => ({ status: 'active', candidate: p }) },
  { type: 'EpisodeOfCare', param: 'patient', build: (p) => ({ status: 'active', patient: p }) },
  {
    type: 'ExplanationOfBenefit',
    param: 'patient',
    build: (p) => ({
      status: 'active',
      type: code('professional'),
      use: 'claim',
      patient: p,
      created: DAY,
      insurer: ORG,
      provider: ORG,
      outcome: 'complete',
      insurance: [{ focal: true, coverage: ref('Coverage/none') }],
    }),
  },
  { type: 'FamilyMemberHistory', param: 'patient', build: (p) => ({ status: 'completed', patient: p, relationship: code('mère') }) },
  { type: 'Flag', param: 'patient', build: (p) => ({ status: 'active', code: code('chute'), subject: p }) },
  { type: 'Goal', param: 'patient', build: (p) => ({ lifecycleStatus: 'active', description: code('marcher'), subject: p }) },
  { type: 'Group', param: 'member', build: (p) => ({ type: 'person', actual: true, member: [{ entity: p }] }) },
  { type: 'ImagingStudy', param: 'patient', build: (p) => ({ status: 'available', subject: p }) },
  { type: 'Immunization', param: 'patient', build: (p) => ({ status: 'completed', vaccineCode: code('grippe'), patient: p, occurrenceDateTime: DAY }) },
  {
    type: 'ImmunizationEvaluation',
    param: 'patient',
    build: (p) => ({ status: 'completed', patient: p, targetDisease: code('grippe'), immunizationEvent: ref('Immunization/none'), doseStatus: code('valid') }),
  },
  {
    type: 'ImmunizationRecommendation',
    param: 'patient',
    build: (p) => ({ patient: p, date: DAY, recommendation: [{ forecastStatus: code('due'), vaccineCode: [code('grippe')] }] }),
  },
  { type: 'Invoice', param: 'subject', build: (p) => ({ status: 'issued', subject: p }) },
  { type: 'List', param: 'subject', build: (p) => ({ status: 'current', mode: 'working', subject: p }) },
  {
    type: 'MeasureReport',
    param: 'patient',
    build: (p) => ({ status: 'complete', type: 'individual', measure: 'http://example.org/Measure/m', period: { start: DAY }, subject: p }),
  },
  { type: 'Media', param: 'subject', build: (p) => ({ status: 'completed', content: { contentType: 'image/png' }, subject: p }) },
  {
    type: 'MedicationAdministration',
    param: 'patient',
    build: (p) => ({ status: 'completed', medicationCodeableConcept: code('paracétamol'), subject: p, effectiveDateTime: DAY }),
  },
  { type: 'MedicationDispense', param: 'patient', build: (p) => ({ status: 'completed', medicationCodeableConcept: code('paracétamol'), subject: p }) },
  {
    type: 'MedicationRequest',
    param: 'subject',
    build: (p) => ({ status: 'active', intent: 'order', medicationCodeableConcept: code('paracétamol'), subject: p }),
  },
  { type: 'MedicationStatement', param: 'subject', build: (p) => ({ status: 'active', medicationCodeableConcept: code('paracétamol'), subject: p }) },
  { type: 'MolecularSequence', param: 'patient', build: (p) => ({ coordinateSystem: 0, patient: p }) },
  { type: 'NutritionOrder', param: 'patient', build: (p) => ({ status: 'active', intent: 'order', patient: p, dateTime: DAY }) },
  { type: 'Observation', param: 'subject', build: (p) => ({ status: 'final', code: code('tension'), subject: p, performer: [PRACTITIONER] }) },
  { type: 'Person', param: 'patient', build: (p) => ({ link: [{ target: p }] }) },
  { type: 'Procedure', param: 'patient', build: (p) => ({ status: 'completed', subject: p }) },
  { type: 'Provenance', param: 'patient', build: (p) => ({ target: [p], recorded: `${DAY}T10:00:00Z`, agent: [{ who: PRACTITIONER }] }) },
  { type: 'QuestionnaireResponse', param: 'subject', build: (p) => ({ status: 'completed', subject: p }) },
  { type: 'RelatedPerson', param: 'patient', build: (p) => ({ patient: p }) },
  { type: 'RequestGroup', param: 'subject', build: (p) => ({ status: 'active', intent: 'plan', subject: p }) },
  { type: 'ResearchSubject', param: 'individual', build: (p) => ({ status: 'on-study', study: ref('ResearchStudy/none'), individual: p }) },
  { type: 'RiskAssessment', param: 'subject', build: (p) => ({ status: 'final', subject: p }) },
  { type: 'Schedule', param: 'actor', build: (p) => ({ actor: [p] }) },
  { type: 'ServiceRequest', param: 'subject', build: (p) => ({ status: 'active', intent: 'order', subject: p }) },
  { type: 'Specimen', param: 'subject', build: (p) => ({ subject: p }) },
  { type: 'SupplyDelivery', param: 'patient', build: (p) => ({ patient: p }) },
  { type: 'SupplyRequest', param: 'subject', build: (p) => ({ quantity: { value: 1 }, itemCodeableConcept: code('pansements'), deliverTo: p }) },
  { type: 'Task', param: 'patient', build: (p) => ({ status: 'requested', intent: 'order', for: p }) },
  {
    type: 'VisionPrescription',
    param: 'patient',
    build: (p) => ({
      status: 'active',
      created: DAY,
      patient: p,
      dateWritten: DAY,
      prescriber: PRACTITIONER,
      lensSpecification: [{ product: code('lens'), eye: 'right' }],
    }),
  },
];
