import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';

const HREF = /<a\b[^>]*\bhref\s*=\s*["']#([^"']*)["'][^>]*>([\s\S]*?)<\/a>/g;
const ANCHOR = /\b(?:name|id)\s*=\s*["']([^"']*)["']/g;

/**
 * The local hyperlinks of a resource's narratives (`href="#x"`) must lead somewhere in it, as
 * HL7's validator checks: an anchor (`name` or `id`) of one of its narratives, or a contained
 * resource's id. In a Bundle, the narratives of all its entries are one document.
 */
export function checkNarrativeLinks(resource: Resource): OperationOutcomeIssue[] {
  const divs: { div: string; path: string }[] = [];
  const targets = new Set<string>();
  collect(resource, resource.resourceType, divs, targets);
  if (!divs.length) return [];
  for (const { div } of divs) for (const m of div.matchAll(ANCHOR)) targets.add(m[1]);
  const issues: OperationOutcomeIssue[] = [];
  for (const { div, path } of divs) {
    for (const m of div.matchAll(HREF)) {
      if (m[1] === '' || targets.has(m[1])) continue;
      const text = m[2].replace(/<[^>]*>/g, '').trim();
      issues.push({
        severity: 'error',
        code: 'value',
        details: { text: `Hyperlink '#${m[1]}' for '${text}' does not resolve to an anchor of the narrative or a contained resource` },
        expression: [path],
      });
    }
  }
  return issues;
}

function collect(value: unknown, path: string, divs: { div: string; path: string }[], targets: Set<string>): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => collect(v, `${path}[${i}]`, divs, targets));
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const object = value as Record<string, unknown>;
  if (typeof object.resourceType === 'string' && typeof object.id === 'string') targets.add(object.id);
  const text = object.text as { div?: unknown } | undefined;
  if (typeof object.resourceType === 'string' && typeof text?.div === 'string') divs.push({ div: text.div, path: `${path}.text.div` });
  for (const [key, content] of Object.entries(object)) if (key !== 'text' && typeof content === 'object') collect(content, `${path}.${key}`, divs, targets);
}
