import { capitalize, isObject, tryGetDataType, type InternalTypeSchema } from '@medplum/core';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4';

/**
 * The invariants of the R4 datatypes themselves (per-1 on every Period, ref-1 on every Reference,
 * qty-3, att-1, ...), which @medplum/core's validator does not evaluate: it checks the constraints
 * of each element and of the resource, not those of the element's type. They are evaluated with
 * HL7's FHIRPath engine (the `fhirpath` package), compiled once per invariant, as the Java
 * reference validator does: an invariant holds only when its expression gives `true` (an empty
 * result, e.g. `start <= end` between a date and a dateTime of the same day, is a failure).
 * ele-1 and ext-1 are the structure check's (structure.ts).
 */

interface Invariant {
  key: string;
  human: string;
  evaluate: (value: unknown, env: Record<string, unknown>) => unknown[];
  /**
   * When the invariant holds on an element that has none of the properties its expression names,
   * those names (JSON property prefixes: `fixed` for fixedString): a value without any is not
   * evaluated. Most eld-* invariants are about properties few elements have.
   */
  onlyWith?: string[];
}

/** Left to the structure check, which says more precisely what is wrong. */
const SKIPPED = new Set(['ele-1', 'ext-1']);

/**
 * Invariants whose R4 expression gives nothing, in HL7's JavaScript engine, where the Java engine
 * gives true: ref-1 on a reference without `reference` (Java's startsWith() on nothing is false).
 */
const EMPTY_HOLDS = new Set(['ref-1']);

/**
 * matches() on the whole string, as R4's FHIRPath (N1) and the Java engine read it: eld-19's
 * pattern would otherwise find a legal part in any path. trace() prints nothing.
 */
const patterns = new Map<string, RegExp>();
const OPTIONS = {
  traceFn: () => undefined,
  userInvocationTable: {
    matches: {
      fn: (inputs: unknown[], regex: string) => {
        if (inputs.length !== 1 || typeof inputs[0] !== 'string' || typeof regex !== 'string') return [];
        let re = patterns.get(regex);
        if (!re) {
          try {
            re = new RegExp(`^(?:${regex})$`, 's');
          } catch {
            return [];
          }
          patterns.set(regex, re);
        }
        return [re.test(inputs[0])];
      },
      arity: { 1: ['String'] },
    },
  },
};

const has = (v: Record<string, unknown>, name: string) => v[name] !== undefined || v[`_${name}`] !== undefined;

/**
 * The invariants on every Reference, Period, Quantity, ContactPoint and Attachment, by hand: what
 * their R4 expression (the key names the very text) gives, at a fraction of an interpreter's cost
 * on every write. Any other text of these keys (a profile's) goes to the FHIRPath engine.
 */
const NATIVE: Record<string, (v: Record<string, unknown>, root: Resource) => unknown[]> = {
  "ref-1|reference.startsWith('#').not() or (reference.substring(1).trace('url') in %rootResource.contained.id.trace('ids'))": (v, root) => {
    if (typeof v.reference !== 'string' || !v.reference.startsWith('#')) return [true];
    const contained = (root as { contained?: { id?: string }[] }).contained ?? [];
    return [contained.some((r) => r?.id === (v.reference as string).slice(1))];
  },
  'per-1|start.hasValue().not() or end.hasValue().not() or (start <= end)': (v) => {
    if (typeof v.start !== 'string' || typeof v.end !== 'string') return [true];
    const order = compareDateTimes(v.start, v.end);
    return order === undefined ? [] : [order <= 0];
  },
  'qty-3|code.empty() or system.exists()': (v) => [!has(v, 'code') || has(v, 'system')],
  'cpt-2|value.empty() or system.exists()': (v) => [!has(v, 'value') || has(v, 'system')],
  'att-1|data.empty() or contentType.exists()': (v) => [!has(v, 'data') || has(v, 'contentType')],
};

/**
 * FHIRPath's comparison of two dates or dateTimes: by instant when both have a time; else on
 * their common precision, nothing (undefined) when equal there but of different precisions.
 */
function compareDateTimes(a: string, b: string): number | undefined {
  if (a.length > 10 && b.length > 10) {
    const d = Date.parse(a) - Date.parse(b);
    return Number.isNaN(d) ? undefined : d;
  }
  const n = Math.min(a.length, b.length, 10);
  const x = a.slice(0, n);
  const y = b.slice(0, n);
  if (x !== y) return x < y ? -1 : 1;
  return a.length === b.length ? 0 : undefined;
}

const invariantsByType = new Map<string, Invariant[]>();
/** Element types by JSON property name, per type (choice elements once per type: valueQuantity). */
const fieldsByType = new Map<string, Map<string, string> | undefined>();

function invariantsOf(type: string, schema: InternalTypeSchema): Invariant[] {
  let list = invariantsByType.get(type);
  if (list) return list;
  list = [];
  for (const c of schema.constraints ?? []) {
    if (c.severity !== 'error' || SKIPPED.has(c.key) || !c.expression) continue;
    const compiled = fhirpath.compile({ base: type, expression: c.expression } as unknown as string, r4, OPTIONS as Parameters<typeof fhirpath.compile>[2]);
    const native = NATIVE[`${c.key}|${c.expression}`];
    const evaluate = native
      ? (value: unknown, env: Record<string, unknown>) => native(value as Record<string, unknown>, env.rootResource as Resource)
      : (value: unknown, env: Record<string, unknown>) => compiled(value, env) as unknown[];
    const names = Object.keys(schema.elements)
      .map((n) => n.replace('[x]', ''))
      .filter((n) => new RegExp(`\\b${n}\\b`).test(c.expression));
    let holdsOnNothing = false;
    try {
      const r = evaluate({}, {});
      holdsOnNothing = r.length === 1 && r[0] === true;
    } catch {}
    list.push({
      key: c.key,
      human: c.description ?? c.expression,
      evaluate,
      onlyWith: holdsOnNothing && !/%|resolve\(/.test(c.expression) ? names : undefined,
    });
  }
  invariantsByType.set(type, list);
  return list;
}

function fieldsOf(type: string): Map<string, string> | undefined {
  if (fieldsByType.has(type)) return fieldsByType.get(type);
  const schema = tryGetDataType(type);
  let fields: Map<string, string> | undefined;
  if (schema?.elements) {
    fields = new Map();
    for (const [name, element] of Object.entries(schema.elements)) {
      if (name.endsWith('[x]')) for (const { code } of element.type) fields.set(name.slice(0, -3) + capitalize(code), code);
      else if (element.type.length) fields.set(name, element.type[0].code);
    }
  }
  fieldsByType.set(type, fields);
  return fields;
}

/** The errors of a resource's datatypes against their own invariants, each with its key, its text and where. */
export function checkDatatypeInvariants(resource: Resource): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  walk(resource as unknown as Record<string, unknown>, resource.resourceType, resource.resourceType, resource, issues, true);
  return issues;
}

function walk(value: Record<string, unknown>, type: string, path: string, root: Resource, issues: OperationOutcomeIssue[], isResource: boolean): void {
  const fields = fieldsOf(type);
  if (!fields) return;
  if (!isResource) {
    const schema = tryGetDataType(type);
    // Backbone elements have a schema of their own too: their constraints are the resource's, checked by @medplum/core.
    if (schema?.kind === 'complex-type') for (const inv of invariantsOf(type, schema)) check(inv, value, path, root, issues);
  }
  for (const [key, content] of Object.entries(value)) {
    const fieldType = fields.get(key);
    if (!fieldType || /^[a-z]/.test(fieldType)) continue;
    // A snapshot is what tools generate from the differential, checked where it is written: its
    // hundreds of elements would cost a StructureDefinition a second of FHIRPath.
    if (key === 'snapshot' && type === 'StructureDefinition') continue;
    const items: unknown[] = Array.isArray(content) ? content : [content];
    items.forEach((item, i) => {
      if (!isObject(item)) return;
      const at = Array.isArray(content) ? `${path}.${key}[${i}]` : `${path}.${key}`;
      if (fieldType === 'Resource' || typeof item.resourceType === 'string') {
        if (typeof item.resourceType !== 'string') return;
        // A contained resource is resolved within its container; any other is its own root.
        walk(item, item.resourceType, at, key === 'contained' ? root : (item as unknown as Resource), issues, true);
      } else walk(item, fieldType, at, root, issues, false);
    });
  }
}

function check(inv: Invariant, value: Record<string, unknown>, path: string, root: Resource, issues: OperationOutcomeIssue[]): void {
  if (inv.onlyWith && !Object.keys(value).some((k) => inv.onlyWith?.some((n) => k.startsWith(n) || k.startsWith(`_${n}`)))) return;
  let result: unknown[];
  try {
    result = inv.evaluate(value, { resource: root, rootResource: root });
  } catch {
    return;
  }
  if (result.length === 1 && result[0] === true) return;
  if (!result.length && EMPTY_HOLDS.has(inv.key)) return;
  issues.push({
    severity: 'error',
    code: 'invariant',
    details: { text: `Constraint failed: ${inv.key}: '${inv.human}'` },
    diagnostics: inv.key,
    expression: [path],
  });
}
