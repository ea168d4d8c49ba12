import {
  capitalize,
  evalFhirPathTyped,
  fhirTypeToJsType,
  getDataType,
  getTypedPropertyValue,
  HTTP_HL7_ORG,
  isEmpty,
  isPrimitiveType,
  isReference,
  isResource,
  parseFhirPath,
  toTypedValue,
  UCUM,
  validationRegexes,
  type FhirPathAtom,
  type InternalSchemaElement,
  type InternalTypeSchema,
  type TypedValue,
} from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';

/*
 * Whether @medplum/core's validateResource (4.5) would find nothing at all in a resource, told at
 * a fraction of its cost: it visits every element of every type's schema, present or not (an
 * Extension's 50 `value[x]` types each time), where this walk visits the properties the JSON has.
 * It follows the validator's checks in its own terms (its property getter, its FHIRPath engine
 * and cache-free parse of the same invariants, its regular expressions) and answers `false` at
 * the first thing the validator would report, or anything it does not follow (slicing, fixed
 * values and patterns, nulls): the validator then runs, for its exact
 * issues. Most writes are clean, and pay for this walk only.
 * Guarded by tests/validator-shortcut.test.ts (examples and fuzzed resources: never a vouch the
 * validator contradicts); when @medplum/core changes, also `bench/write-path.ts --check`.
 */

/** The validator's own list (validation.ts `skippedConstraintKeys`). */
const SKIPPED_CONSTRAINTS = new Set(['ele-1', 'dom-3', 'org-1', 'sdf-19']);

/**
 * Per type schema: its element key by each JSON property name that may hold it (`valueString`,
 * `_birthDate`), the keys of its required elements, and whether it has nested keys (a profile's
 * `a.b`, which this walk does not follow).
 */
interface Keys {
  byName: Map<string, string>;
  required: string[];
  nested: boolean;
}
const schemaKeys = new WeakMap<InternalTypeSchema, Keys>();
function keysOf(schema: InternalTypeSchema): Keys {
  let keys = schemaKeys.get(schema);
  if (keys) return keys;
  keys = { byName: new Map(), required: [], nested: false };
  for (const [key, element] of Object.entries(schema.elements)) {
    if (element.min > 0) keys.required.push(key);
    if (key.includes('.')) keys.nested = true;
    // The getter reads the JSON by the last segment of the element's path, the choice resolved by each type.
    const last = element.path.slice(element.path.lastIndexOf('.') + 1);
    for (const { code } of element.type ?? []) {
      const name = last.replace('[x]', capitalize(code));
      keys.byName.set(name, key);
      keys.byName.set(`_${name}`, key);
    }
  }
  schemaKeys.set(schema, keys);
  return keys;
}

const parsed = new Map<string, FhirPathAtom>();
function atomOf(expression: string): FhirPathAtom {
  let atom = parsed.get(expression);
  if (!atom) parsed.set(expression, (atom = parseFhirPath(expression)));
  return atom;
}

const ucum = toTypedValue(UCUM);
const hl7Base = `${HTTP_HL7_ORG}/fhir/StructureDefinition/`;
const medplumBase = 'https://medplum.com/fhir/StructureDefinition/';

class Unclean extends Error {}
const unclean = (): never => {
  throw new Unclean();
};

class CleanWalk {
  private readonly resources: Resource[] = [];
  constructor(private readonly root: TypedValue) {}

  run(): void {
    const schema = getDataType(this.root.type);
    if (isResource(this.root.value)) this.resources.push(this.root.value);
    this.constraints(this.root, schema.constraints);
    this.object(this.root, schema);
  }

  private object(typed: TypedValue, schema: InternalTypeSchema): void {
    const value = typed.value as Record<string, unknown>;
    const resource = isResource(value);
    if (resource) this.resources.push(value);
    const keys = keysOf(schema);
    if (keys.nested) unclean();
    const present = new Set<string>();
    for (const name of Object.keys(value)) {
      const v = value[name];
      if (v === null) unclean();
      if (Array.isArray(v)) for (const item of v) if (item === null || item === undefined) unclean();
      const key = keys.byName.get(name);
      if (key !== undefined) present.add(key);
    }
    for (const key of keys.required) if (!present.has(key)) unclean();
    for (const key of present) this.property(typed, key, schema.elements[key]);
    this.additionalProperties(typed, value, schema.elements);
    if (resource) this.resources.pop();
  }

  private property(parent: TypedValue, key: string, element: InternalSchemaElement): void {
    const found = getTypedPropertyValue(parent, key);
    if (found === undefined) {
      if (element.min > 0) unclean();
      return;
    }
    if (element.slicing || element.pattern || element.fixed || Array.isArray(found) !== !!element.isArray) unclean();
    const values = Array.isArray(found) ? found : [found];
    if (values.length < element.min || values.length > element.max) unclean();
    for (const v of values) {
      this.constraints(v, element.constraints);
      if (v.type === 'Reference') this.referenceType(v, element);
      if (isPrimitiveType(v.type)) this.primitive(v);
      else if (isEmpty(v.value)) unclean();
    }
    for (const v of values) if (!isPrimitiveType(v.type)) this.object(v, getDataType(v.type));
  }

  private constraints(value: TypedValue, constraints: InternalTypeSchema['constraints']): void {
    for (const constraint of constraints ?? []) {
      if (constraint.severity !== 'error' || SKIPPED_CONSTRAINTS.has(constraint.key)) continue;
      const variables: Record<string, TypedValue> = { '%context': value, '%ucum': ucum };
      if (this.resources.length) variables['%resource'] = toTypedValue(this.resources[this.resources.length - 1]);
      if (isResource(this.root.value)) variables['%rootResource'] = this.root;
      const result = evalFhirPathTyped(atomOf(constraint.expression), [value], variables);
      if (result.length !== 1 || result[0].value !== true) unclean();
    }
  }

  /** The validator warns of a reference to a type none of the element's target profiles names. */
  private referenceType(value: TypedValue, element: InternalSchemaElement): void {
    const reference = value.value;
    if (!isReference(reference) || reference.reference.startsWith('#')) return;
    const type = reference.reference.includes('?') ? reference.reference.split('?')[0] : reference.reference.split('/')[0];
    if (!type) return;
    const targets = element.type.find((t) => t.code === 'Reference')?.targetProfile;
    if (!targets) return;
    for (const target of targets) {
      if (target === `${hl7Base}Resource` || target === `${hl7Base}${type}` || target === `${medplumBase}${type}`) return;
      if (!target.startsWith(hl7Base) && !target.startsWith(medplumBase)) return;
    }
    unclean();
  }

  private primitive(typed: TypedValue): void {
    const { type, value } = typed;
    // A primitive with extensions is an object (a String with `id`, `extension`): its value, then its extensions as an Element.
    if (typeof value === 'object' && value !== null) {
      const primitive = value.valueOf();
      const keys = new Set(primitive === value ? [] : Object.keys(primitive));
      const extensions = Object.entries(value).filter(([k]) => !keys.has(k));
      if (primitive !== value) this.primitive({ type, value: primitive });
      if (extensions.length) this.object({ type: 'Element', value: Object.fromEntries(extensions) }, getDataType('Element'));
      return;
    }
    if (!(type in fhirTypeToJsType)) unclean();
    const expected = fhirTypeToJsType[type as keyof typeof fhirTypeToJsType];
    if (typeof value !== expected) unclean();
    if (typeof value === 'string') {
      if (!value.trim() || value.length > 1024 * 1024) unclean();
      const regex = validationRegexes[type];
      if (regex && !regex.exec(value)) unclean();
    } else if (typeof value === 'number') {
      if (!Number.isFinite(value)) unclean();
      if ((type === 'integer' || type === 'positiveInt' || type === 'unsignedInt') && !Number.isInteger(value)) unclean();
      if ((type === 'positiveInt' && value <= 0) || (type === 'unsignedInt' && value < 0)) unclean();
    }
  }

  /** Properties of no element, and two choices of one element (`valueString` beside `valueCode`), as the validator finds them. */
  private additionalProperties(parent: TypedValue, value: Record<string, unknown>, elements: Record<string, InternalSchemaElement>): void {
    const choices = new Map<string, string>();
    for (const key of Object.keys(value)) {
      if (key === 'resourceType') continue;
      const choice = choiceOf(parent, key, elements);
      if (choice) {
        const sibling = choice.startsWith('_') ? [choice.slice(1), key.slice(1)] : [`_${choice}`, `_${key}`];
        if (choices.has(choice) || (choices.has(sibling[0]) && choices.get(sibling[0]) !== sibling[1])) unclean();
        choices.set(choice, key);
        continue;
      }
      if (!(key in elements) && !(key.startsWith('_') && key.slice(1) in elements)) unclean();
    }
  }
}

/** The validator's `isChoiceOfType`: the `name[x]` element a property such as `valueString` is a choice of. */
function choiceOf(parent: TypedValue, key: string, elements: Record<string, InternalSchemaElement>): string | undefined {
  const prefix = key.startsWith('_') ? '_' : '';
  let test = '';
  for (const part of (prefix ? key.slice(1) : key).split(/(?=[A-Z])/g)) {
    test += part;
    if (elements[`${test}[x]`]) return getTypedPropertyValue(parent, test) ? `${prefix}${test}[x]` : undefined;
  }
  return undefined;
}

/**
 * True when @medplum/core's validateResource would report no issue on the resource; false when it
 * would, or may (it must then be run).
 */
export function medplumFindsNothing(resource: Resource): boolean {
  try {
    new CleanWalk(toTypedValue(resource)).run();
    return true;
  } catch {
    return false;
  }
}
