import { UcumLhcUtils } from '@lhncbc/ucum-lhc';
import { evalFhirPathTyped, toTypedValue, type TypedValue } from '@medplum/core';
import type { Bundle, ElementDefinition, OperationOutcomeIssue, Resource, StructureDefinition } from '@medplum/fhirtypes';
import type { Registry } from './canonicals.js';
import { valueSetCodes } from './codes.js';
import { childFor, deepEqual, elementTree, matchesPattern, type ElementNode } from './element-tree.js';
import { resolveInBundle } from './bundle-references.js';
import { withResolvedReferences } from './resolvable.js';
import { matchingSlice } from './slicing.js';
import { structureDefinition, type Substitution } from './structures.js';

/** A reference whose target must conform to a profile: checked against the store afterwards. */
export interface ReferenceCheck {
  path: string;
  reference: string;
  targetProfiles: string[];
}

/** What a profile walk finds. */
export interface ProfileFindings {
  issues: OperationOutcomeIssue[];
  references: ReferenceCheck[];
  substitutions: Substitution[];
}

const BASE = 'http://hl7.org/fhir/StructureDefinition/';

/**
 * Validates a resource against a profile's snapshot: cardinalities, types, fixed and pattern
 * values, slices (by value, pattern, type, profile, exists), bindings of the profile (through
 * the registry's value sets), the profile's invariants, the profiles its elements' types name
 * (extensions, datatype profiles, contained resources), and collects reference targets to check.
 * What the base definition says is @medplum/core's and validateBase's to check.
 */
export function walkProfile(registry: Registry, resource: Resource, sd: StructureDefinition, findings: ProfileFindings): void {
  const bundle = resource.resourceType === 'Bundle' ? (resource as Bundle) : undefined;
  new Walker(registry, resource, findings, bundle).node(elementTree(sd), resource, resource.resourceType, resource.resourceType);
}

/** Validates one value (an extension, a datatype) against a profile's snapshot. */
export function walkValue(
  registry: Registry,
  resource: Resource,
  sd: StructureDefinition,
  value: unknown,
  path: string,
  findings: ProfileFindings,
  bundle?: Bundle,
): void {
  new Walker(registry, resource, findings, bundle).node(elementTree(sd), value, path, sd.type as string);
}

/** Whether a value has no error against a profile (for profile discriminators). */
function conforms(registry: Registry, canonical: string, value: unknown, bundle?: Bundle): boolean {
  const sd = structureDefinition(registry, canonical);
  if (typeof value !== 'object' || value === null) return false;
  // A profile not held cannot be checked: a resource that claims it is taken at its word (its
  // meta.profile is reported as unknown by the enforcement policy), as a slice by profile of a
  // Bundle's entries needs (the SAS Bundle's slices on FR Core 1.1.0 profiles no registry serves).
  if (!sd) return ((value as Resource).meta?.profile ?? []).some((p) => p.split('|')[0] === canonical.split('|')[0]);
  // The walk does not look at resourceType: a resource of another type than the profile's never conforms.
  const resourceType = (value as Resource).resourceType;
  if (typeof resourceType === 'string' && sd.type !== resourceType && sd.type !== 'Resource' && sd.type !== 'DomainResource') return false;
  const findings: ProfileFindings = { issues: [], references: [], substitutions: [] };
  walkValue(registry, value as Resource, sd as StructureDefinition, value, sd.type as string, findings, bundle);
  return !findings.issues.some((i) => i.severity === 'error');
}

class Walker {
  /** Profiles being applied at a path, so that recursive definitions end. */
  private readonly active = new Set<string>();

  constructor(
    private readonly registry: Registry,
    private readonly resource: Resource,
    private readonly findings: ProfileFindings,
    /** The Bundle the value is in: references to its entries are followed there. */
    private readonly bundle?: Bundle,
  ) {}

  private issue(severity: OperationOutcomeIssue['severity'], code: OperationOutcomeIssue['code'], path: string, text: string): void {
    this.findings.issues.push({ severity, code, details: { text }, expression: [path] });
  }

  /** One value against an element (and what its types' profiles say). */
  node(node: ElementNode, value: unknown, path: string, type: string | undefined): void {
    const ed = node.ed;
    if (node.expected?.kind === 'fixed') this.fixed(value, node.expected.value, path, ed.id as string);
    else if (node.expected && !matchesPattern(value, node.expected.value))
      this.issue('error', 'value', path, `The value must match ${JSON.stringify(node.expected.value)} (${ed.id})`);
    this.binding(ed, value, path, type);
    this.range(ed, value, path);
    this.constraints(ed, value, path, type);
    this.typeProfiles(ed, value, path, type);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) this.children(node, value as Record<string, unknown>, path);
  }

  /** A fixed value, property by property as HL7's validator reports it: what differs, what is missing, what is there beyond it. */
  private fixed(value: unknown, expected: unknown, path: string, id: string): void {
    if (deepEqual(value, expected)) return;
    const isObject = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);
    if (!isObject(value) || !isObject(expected)) {
      this.issue('error', 'value', path, `The value must be ${JSON.stringify(expected)} (${id})`);
      return;
    }
    const actual = value as Record<string, unknown>;
    const wanted = expected as Record<string, unknown>;
    for (const key of new Set([...Object.keys(wanted), ...Object.keys(actual)])) {
      if (key.startsWith('_') || deepEqual(actual[key], wanted[key])) continue;
      if (!(key in wanted))
        this.issue('error', 'value', `${path}.${key}`, `The element ${key} is present in the instance but not allowed in the fixed value of ${id}`);
      else if (!(key in actual)) this.issue('error', 'value', `${path}.${key}`, `The element ${key} of the fixed value of ${id} is missing`);
      else this.fixed(actual[key], wanted[key], `${path}.${key}`, id);
    }
  }

  private children(node: ElementNode, object: Record<string, unknown>, path: string): void {
    const found = new Map<ElementNode, { value: unknown; path: string; type?: string; extensionsOnly?: boolean }[]>();
    for (const [key, content] of Object.entries(object)) {
      // A primitive may be there by its extensions alone (`_valueString` without `valueString`).
      const primitiveOnly = key.startsWith('_') && !(key.slice(1) in object);
      if ((key.startsWith('_') && !primitiveOnly) || key === 'resourceType') continue;
      const name = primitiveOnly ? key.slice(1) : key;
      const match = childFor(node, name);
      if (!match) continue;
      const items = Array.isArray(content) ? content : [content];
      const list = found.get(match.child) ?? [];
      items.forEach((value, i) =>
        list.push({ value, path: Array.isArray(content) ? `${path}.${name}[${i}]` : `${path}.${name}`, type: match.type, extensionsOnly: primitiveOnly }),
      );
      found.set(match.child, list);
    }
    for (const child of node.children) {
      const items = found.get(child) ?? [];
      this.cardinality(child.ed, items.length, `${path}.${child.name.replace('[x]', '')}`, child.ed.id as string);
      for (const item of items) {
        if (item.extensionsOnly) continue;
        if (item.type && child.ed.type?.length && !child.ed.type.some((t) => t.code === item.type)) {
          this.issue('error', 'structure', item.path, `The type ${item.type} is not allowed here by the profile (${child.ed.id})`);
          continue;
        }
        this.node(child, item.value, item.path, item.type ?? child.ed.type?.[0]?.code);
      }
      if (child.slices.length) this.slices(child, items, `${path}.${child.name}`);
    }
  }

  private slices(sliced: ElementNode, items: { value: unknown; path: string; type?: string }[], path: string): void {
    const counts = new Map<ElementNode, number>(sliced.slices.map((s) => [s, 0]));
    const closed = sliced.ed.slicing?.rules === 'closed';
    for (const item of items) {
      const slice = matchingSlice(this.registry, sliced, item.value, item.type, (canonical, v) => conforms(this.registry, canonical, v, this.bundle));
      if (!slice) {
        if (closed) this.issue('error', 'structure', item.path, `The value matches none of the slices of ${sliced.ed.id}, which is closed`);
        continue;
      }
      counts.set(slice, (counts.get(slice) ?? 0) + 1);
      this.node(slice, item.value, item.path, item.type ?? slice.ed.type?.[0]?.code);
    }
    for (const [slice, count] of counts) this.cardinality(slice.ed, count, path, slice.ed.id as string, slice.ed.sliceName);
  }

  /** minValue[x] and maxValue[x]: numbers, dates and times, Quantities (UCUM units converted) (and, as HL7's tools allow, a Duration from now). */
  private range(ed: ElementDefinition, value: unknown, path: string): void {
    for (const [key, bound] of Object.entries(ed)) {
      const min = key.startsWith('minValue');
      if (!min && !key.startsWith('maxValue')) continue;
      const order = compareToBound(value, key.slice(8), bound, min);
      if (order === undefined || (min ? order >= 0 : order <= 0)) continue;
      const what = typeof value === 'string' ? 'date/time value' : 'value';
      const shown =
        typeof bound === 'object'
          ? `${(bound as { value?: number }).value} ${(bound as { code?: string; unit?: string }).code ?? (bound as { unit?: string }).unit ?? ''}`.trim()
          : bound;
      this.issue(
        'error',
        'value',
        path,
        `The ${what} is ${min ? 'less than the permitted minimum' : 'greater than the permitted maximum'} value of ${shown}${key.endsWith('Duration') ? (min ? ' before now' : ' after now') : ''} (${ed.id})`,
      );
    }
  }

  private cardinality(ed: ElementDefinition, count: number, path: string, id: string, sliceName?: string): void {
    const min = ed.min ?? 0;
    const max = ed.max === '*' || ed.max === undefined ? Infinity : Number(ed.max);
    if (count >= min && count <= max) return;
    const what = sliceName ? `the slice '${sliceName}' (${id})` : id;
    const expected = `${min}..${max === Infinity ? '*' : max}`;
    this.issue('error', count < min ? 'required' : 'structure', path, `${count} value(s) for ${what}, the profile allows ${expected}`);
  }

  private binding(ed: ElementDefinition, value: unknown, path: string, type: string | undefined): void {
    const binding = ed.binding;
    if (!binding?.valueSet || (binding.strength !== 'required' && binding.strength !== 'extensible')) return;
    const codes = valueSetCodes(this.registry, binding.valueSet);
    if (!codes) return;
    let ok: boolean;
    if (typeof value === 'string') ok = codes.codes.has(value);
    else if (type === 'CodeableConcept') {
      const codings = Array.isArray((value as { coding?: unknown })?.coding) ? (value as { coding: { system?: string; code?: string }[] }).coding : [];
      if (!codings.length) return;
      ok = codings.some((c) => codes.codings.has(`${c.system}|${c.code}`));
    } else if (type === 'Coding' || type === 'Quantity') {
      const c = value as { system?: string; code?: string };
      if (c?.code === undefined) return;
      ok = codes.codings.has(`${c.system}|${c.code}`);
    } else return;
    if (ok) return;
    const severity = binding.strength === 'required' ? 'error' : 'warning';
    this.issue(severity, 'code-invalid', path, `The code is not in the ${binding.strength} value set ${binding.valueSet} (${ed.id})`);
  }

  private resolvable?: Resource;

  private resolvableRoot(): Resource {
    this.resolvable ??= withResolvedReferences(this.resource);
    return this.resolvable;
  }

  /** The profile's own invariants: those of the base specification are validateBase's. */
  private constraints(ed: ElementDefinition, value: unknown, path: string, type: string | undefined): void {
    for (const c of ed.constraint ?? []) {
      if (!c.expression || c.source?.startsWith(BASE) || (!c.source && /^[a-z]{2,5}-\d+$/.test(c.key as string))) continue;
      // resolve() needs the targets at hand: a root whose references carry them (resolvable.ts).
      const root = c.expression.includes('resolve()') ? this.resolvableRoot() : this.resource;
      const context: TypedValue = path === this.resource.resourceType ? toTypedValue(root) : { type: type ?? 'Element', value };
      let result: TypedValue[];
      try {
        result = evalFhirPathTyped(c.expression, [context], { '%resource': toTypedValue(root), '%rootResource': toTypedValue(root) });
      } catch (err) {
        this.issue('warning', 'invariant', path, `The invariant ${c.key} could not be evaluated: ${(err as Error).message}`);
        continue;
      }
      if (result.length === 0 || (result.length === 1 && result[0].value === true)) continue;
      const severity = c.severity === 'warning' ? 'warning' : 'error';
      this.issue(severity, 'invariant', path, `${c.key}: ${c.human ?? c.expression}`);
    }
  }

  /** The profiles an element's type names, and reference target profiles to check afterwards. */
  private typeProfiles(ed: ElementDefinition, value: unknown, path: string, type: string | undefined): void {
    for (const t of ed.type ?? []) {
      if (type && t.code !== type && t.code !== 'Resource') continue;
      if (t.code === 'Reference' && t.targetProfile?.some((p) => !p.startsWith(BASE))) {
        const reference = (value as { reference?: unknown })?.reference;
        const target = typeof reference === 'string' && this.bundle ? resolveInBundle(this.bundle, reference) : undefined;
        if (target) this.bundleTarget(target, reference as string, t.targetProfile, path);
        else if (typeof reference === 'string') this.findings.references.push({ path, reference, targetProfiles: t.targetProfile });
      }
      // An extension slice is checked by URL in the walk of extensions.
      if (t.code === 'Extension') continue;
      if ((t.profile?.length ?? 0) > 1) this.applyAnyProfile(t.profile as string[], value, path);
      else for (const profile of t.profile ?? []) this.applyProfile(profile, value, path);
    }
  }

  /** A reference to an entry of the Bundle: the entry must conform to one of the target profiles of its type. */
  private bundleTarget(target: Resource, reference: string, targetProfiles: string[], path: string): void {
    const key = `${reference} ${targetProfiles.join(' ')}`;
    if (this.active.has(key)) return;
    const candidates = targetProfiles.filter((p) => structureDefinition(this.registry, p)?.type === target.resourceType);
    if (!candidates.length) return;
    this.active.add(key);
    try {
      if (candidates.some((p) => conforms(this.registry, p, target, this.bundle))) return;
    } finally {
      this.active.delete(key);
    }
    this.issue('error', 'invalid', path, `${reference} does not conform to ${candidates.join(' or ')}, which this reference requires`);
  }

  /** Several profiles on one type: the value must conform to one of them (ElementDefinition.type.profile). */
  private applyAnyProfile(profiles: string[], value: unknown, path: string): void {
    const outcomes = profiles.map((profile) => {
      const findings: ProfileFindings = { issues: [], references: [], substitutions: this.findings.substitutions };
      const walker = new Walker(this.registry, this.resource, findings, this.bundle);
      for (const key of this.active) walker.active.add(key);
      walker.applyProfile(profile, value, path);
      return findings;
    });
    const chosen = outcomes.find((f) => !f.issues.some((i) => i.severity === 'error' || i.severity === 'fatal'));
    for (const findings of chosen ? [chosen] : outcomes) {
      this.findings.issues.push(...findings.issues);
      this.findings.references.push(...findings.references);
    }
  }

  private applyProfile(canonical: string, value: unknown, path: string): void {
    const key = `${canonical} ${path}`;
    if (this.active.has(key)) return;
    const sd = structureDefinition(this.registry, canonical, this.findings.substitutions);
    if (!sd) {
      this.issue('warning', 'not-found', path, `The profile ${canonical} is not known: the value is not checked against it`);
      return;
    }
    this.active.add(key);
    try {
      this.node(elementTree(sd), value, path, sd.type as string);
    } finally {
      this.active.delete(key);
    }
  }
}

const DURATION_UNITS: Record<string, (d: Date, n: number) => void> = {
  a: (d, n) => d.setUTCFullYear(d.getUTCFullYear() + n),
  mo: (d, n) => d.setUTCMonth(d.getUTCMonth() + n),
  wk: (d, n) => d.setUTCDate(d.getUTCDate() + 7 * n),
  d: (d, n) => d.setUTCDate(d.getUTCDate() + n),
  h: (d, n) => d.setUTCHours(d.getUTCHours() + n),
  min: (d, n) => d.setUTCMinutes(d.getUTCMinutes() + n),
};

/**
 * How a value compares with a minValue/maxValue of the type `boundType`: negative when below,
 * undefined when they cannot be compared (other kinds, other units). Dates and times are compared
 * on their common precision (ISO 8601 strings sort as their instants do within one zone).
 */
function compareToBound(value: unknown, boundType: string, bound: unknown, min: boolean): number | undefined {
  if (typeof value === 'number' && typeof bound === 'number') return value - bound;
  if (typeof value === 'string' && typeof bound === 'string') {
    const n = Math.min(value.length, bound.length);
    return value.slice(0, n) < bound.slice(0, n) ? -1 : value.slice(0, n) > bound.slice(0, n) ? 1 : 0;
  }
  const q = bound as { value?: number; code?: string; unit?: string; system?: string };
  if (boundType === 'Duration' && typeof value === 'string' && typeof q?.value === 'number') {
    // minValue is that long before now, maxValue that long after.
    const shift = DURATION_UNITS[q.code ?? q.unit ?? ''];
    if (!shift) return undefined;
    const limit = new Date();
    shift(limit, min ? -q.value : q.value);
    return compareToBound(value, 'dateTime', limit.toISOString(), min);
  }
  const v = value as { value?: number; code?: string; unit?: string; system?: string };
  if (typeof v?.value !== 'number' || typeof q?.value !== 'number') return undefined;
  if ((v.code ?? v.unit) === (q.code ?? q.unit) && (!v.system || !q.system || v.system === q.system)) return v.value - q.value;
  // Other UCUM units of one dimension (g against kg) are compared after conversion, as HL7's validator does.
  if (v.system !== UCUM || q.system !== UCUM || !v.code || !q.code) return undefined;
  const converted = UcumLhcUtils.getInstance().convertUnitTo(v.code, v.value, q.code);
  return converted.status === 'succeeded' && typeof converted.toVal === 'number' ? converted.toVal - q.value : undefined;
}

const UCUM = 'http://unitsofmeasure.org';
