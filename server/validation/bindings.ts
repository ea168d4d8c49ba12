import { capitalize, getAllDataTypes, isCoding, isObject, tryGetDataType, type InternalSchemaElement } from '@medplum/core';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { expandValueSets, type Expansion } from './valuesets.js';

/**
 * The check of REQUIRED bindings of the base R4 definitions, which @medplum/core's validator does
 * not do. The bound value sets are expanded once per process; each element type's fields are
 * compiled once, on first use. A resource is then checked in one walk of its JSON: datatypes
 * (Identifier.use, ContactPoint.system, ...), extensions and contained resources included.
 * Extensible and preferred bindings are not checked, nor value sets that cannot be expanded locally.
 */

/** The base R4 definitions bind required value sets to `code` and CodeableConcept elements only. */
type BoundType = 'code' | 'CodeableConcept';
const BOUND_TYPES = new Set<string>(['code', 'CodeableConcept']);

interface Binding {
  type: BoundType;
  valueSet: string;
  expansion: Expansion;
}

/** What the walk needs to know of a JSON property: its FHIR type and the binding to check, if any. */
interface Field {
  type: string;
  binding?: Binding;
}

let expansions: Map<string, Expansion> | undefined;
const fieldsByType = new Map<string, Map<string, Field>>();

/** Expands the value sets of every required binding; call once the base definitions are indexed. */
export function loadBindings(): void {
  if (expansions) return;
  const urls = new Set<string>();
  for (const schema of Object.values(getAllDataTypes())) {
    for (const element of Object.values(schema.elements)) {
      if (element.binding?.strength === 'required' && element.binding.valueSet) urls.add(unversioned(element.binding.valueSet));
    }
  }
  expansions = expandValueSets(urls);
}

/** The errors of a resource's codes against the required bindings of its base definition. */
export function checkBindings(resource: Resource): OperationOutcomeIssue[] {
  loadBindings();
  const issues: OperationOutcomeIssue[] = [];
  walk(resource as unknown as Record<string, unknown>, resource.resourceType, resource.resourceType, issues);
  return issues;
}

function walk(value: Record<string, unknown>, type: string, path: string, issues: OperationOutcomeIssue[]): void {
  const fields = fieldsOf(type);
  if (!fields) return;
  for (const [key, content] of Object.entries(value)) {
    const field = fields.get(key);
    if (!field) continue;
    const items: unknown[] = Array.isArray(content) ? content : [content];
    items.forEach((item, i) => {
      const at = Array.isArray(content) ? `${path}.${key}[${i}]` : `${path}.${key}`;
      if (field.binding && !conforms(item, field.binding)) issues.push(fault(at, item, field.binding));
      if (!isObject(item)) return;
      const itemType = field.type === 'Resource' ? item.resourceType : field.type;
      // Complex types and resources start with a capital; primitives (code, string, ...) do not.
      if (typeof itemType === 'string' && /^[A-Z]/.test(itemType)) walk(item, itemType, at, issues);
    });
  }
}

/** Whether a value is in the bound value set. Values of the wrong JSON shape are the validator's to report. */
function conforms(value: unknown, binding: Binding): boolean {
  if (binding.type === 'code') return typeof value !== 'string' || binding.expansion.codes.has(value);
  // A required CodeableConcept needs one coding from the value set; the others may be translations.
  // One with text only has nothing to check here.
  const codings = isObject(value) && Array.isArray(value.coding) ? value.coding.filter(isCoding) : [];
  return codings.length === 0 || codings.some((c) => binding.expansion.codings.has(`${c.system}|${c.code}`));
}

function fault(path: string, value: unknown, binding: Binding): OperationOutcomeIssue {
  const what = binding.type === 'code' ? `The code '${String(value)}' is not` : 'None of the codings is';
  return {
    severity: 'error',
    code: 'code-invalid',
    details: { text: `${what} in the required value set ${binding.valueSet}` },
    expression: [path],
  };
}

/** The fields of an element type by JSON property name; choice elements get one per type (valueCode, ...). */
function fieldsOf(type: string): Map<string, Field> | undefined {
  let fields = fieldsByType.get(type);
  if (fields) return fields;
  const schema = tryGetDataType(type);
  if (!schema?.elements) return undefined;
  fields = new Map();
  for (const [name, element] of Object.entries(schema.elements)) {
    if (name.endsWith('[x]')) {
      for (const { code } of element.type) fields.set(name.slice(0, -3) + capitalize(code), field(element, code));
    } else if (element.type.length) {
      fields.set(name, field(element, element.type[0].code));
    }
  }
  fieldsByType.set(type, fields);
  return fields;
}

function field(element: InternalSchemaElement, type: string): Field {
  const bound = element.binding?.strength === 'required' && BOUND_TYPES.has(type) ? element.binding.valueSet : undefined;
  const valueSet = bound && unversioned(bound);
  const expansion = valueSet && expansions?.get(valueSet);
  return valueSet && expansion ? { type, binding: { type: type as BoundType, valueSet, expansion } } : { type };
}

function unversioned(canonical: string): string {
  return canonical.split('|')[0];
}
