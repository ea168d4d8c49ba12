import type { OperationOutcomeIssue, Questionnaire, QuestionnaireItem, QuestionnaireResponse, QuestionnaireResponseItem, Resource } from '@medplum/fhirtypes';
import type { Registry } from './canonicals.js';

const MAX_DECIMAL_PLACES = 'http://hl7.org/fhir/StructureDefinition/maxDecimalPlaces';

/**
 * A QuestionnaireResponse against the Questionnaire it answers (contained, or held by canonical),
 * as HL7's validator checks it: every item's linkId is one of the Questionnaire's, and a decimal
 * answer has no more decimal places than the item's maxDecimalPlaces. A Questionnaire that is
 * not at hand is not checked against.
 */
export function checkQuestionnaireResponse(registry: Registry, resource: Resource): OperationOutcomeIssue[] {
  if (resource.resourceType !== 'QuestionnaireResponse') return [];
  const response = resource as QuestionnaireResponse;
  const canonical = response.questionnaire;
  if (typeof canonical !== 'string') return [];
  const questionnaire = canonical.startsWith('#')
    ? (response.contained?.find((r) => r.resourceType === 'Questionnaire' && r.id === canonical.slice(1)) as Questionnaire | undefined)
    : registry.resolve<Questionnaire>('Questionnaire', canonical)?.resource;
  if (!questionnaire) return [];
  const byLinkId = new Map<string, QuestionnaireItem>();
  const index = (items: QuestionnaireItem[] | undefined): void => {
    for (const item of items ?? []) {
      if (typeof item.linkId === 'string') byLinkId.set(item.linkId, item);
      index(item.item);
    }
  };
  index(questionnaire.item);
  const issues: OperationOutcomeIssue[] = [];
  const walk = (items: QuestionnaireResponseItem[] | undefined, path: string): void => {
    (items ?? []).forEach((item, i) => {
      const at = `${path}.item[${i}]`;
      const defined = typeof item.linkId === 'string' ? byLinkId.get(item.linkId) : undefined;
      if (!defined) {
        issues.push(error(at, `LinkId '${item.linkId}' not found in questionnaire`));
        return;
      }
      const places = defined.extension?.find((e) => e.url === MAX_DECIMAL_PLACES)?.valueInteger;
      (item.answer ?? []).forEach((answer, j) => {
        const value = answer.valueDecimal ?? answer.valueQuantity?.value;
        if (typeof places === 'number' && typeof value === 'number' && decimalPlaces(value) > places) {
          issues.push(error(`${at}.answer[${j}]`, `The value ${value} has too many decimal places (limit = ${places})`));
        }
        walk(answer.item, `${at}.answer[${j}]`);
      });
      walk(item.item, at);
    });
  };
  walk(response.item, 'QuestionnaireResponse');
  return issues;
}

function decimalPlaces(value: number): number {
  const text = String(value);
  const dot = text.indexOf('.');
  return dot < 0 || text.includes('e') ? 0 : text.length - dot - 1;
}

function error(path: string, text: string): OperationOutcomeIssue {
  return { severity: 'error', code: 'structure', details: { text }, expression: [path] };
}
