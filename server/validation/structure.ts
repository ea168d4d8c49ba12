import { getDataType } from '@medplum/core';
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { fhirPathName } from '../fhir/json.js';
import { FhirError } from '../fhir/outcome.js';
import { isResourceType, loadBaseDefinitions } from './registry.js';

/** Past this many, a body is broken enough: the outcome stays readable and the walk stops. */
const MAX_ISSUES = 20;

/** The JSON type of each FHIR primitive (R4 json.html#primitive); every other primitive is a string. */
const JSON_TYPE: Record<string, 'boolean' | 'number'> = {
  boolean: 'boolean',
  integer: 'number',
  decimal: 'number',
  positiveInt: 'number',
  unsignedInt: 'number',
};

/**
 * What no FHIR string may hold (R4 datatypes.html#string): control characters other than tab,
 * CR and LF, and halves of a surrogate pair, which are no Unicode character.
 */
const BAD_CHARACTER = /[\u0000-\u0008\u000B\u000C\u000E-\u001F]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** The quick test first: most strings have neither control characters nor surrogates. */
const MAYBE_BAD = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uD800-\uDFFF]/;

const ID = /^[A-Za-z0-9\-.]{1,64}$/;
/** A dateTime with a time ends with its time zone (R4 datatypes.html#dateTime). */
const TIME_ZONE = /(Z|[+-]\d\d:\d\d)$/;
const ENTITY = /&([A-Za-z][A-Za-z0-9]*);/g;
const XML_ENTITIES = new Set(['lt', 'gt', 'amp', 'quot', 'apos']);

/** Primitive type codes start in lower case; `id` and `url` of some elements are FHIRPath's System.String. */
const primitiveTypes = new Map<string, boolean>();
function isPrimitive(type: string): boolean {
  let primitive = primitiveTypes.get(type);
  if (primitive === undefined) primitiveTypes.set(type, (primitive = /^[a-z]/.test(type) || type.startsWith('http://hl7.org/fhirpath/System.')));
  return primitive;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A JSON property of a type: whether it repeats, and the type of its value (for a choice, the one its name gives: `valueQuantity`). */
interface Property {
  repeats: boolean;
  type: string;
}

const propertyMaps = new Map<string, Map<string, Property>>();

/** The JSON properties of a type by name, from its definition in @medplum/core's schema (built once a type). */
function propertiesOf(type: string): Map<string, Property> {
  let map = propertyMaps.get(type);
  if (map) return map;
  map = new Map();
  for (const [name, element] of Object.entries(getDataType(type).elements)) {
    const repeats = !!element.isArray;
    if (!name.endsWith('[x]')) map.set(name, { repeats, type: element.type[0]?.code });
    else for (const { code } of element.type) map.set(name.slice(0, -3) + code.charAt(0).toUpperCase() + code.slice(1), { repeats, type: code });
  }
  propertyMaps.set(type, map);
  return map;
}

/**
 * The faults of a resource's JSON against R4's JSON representation (json.html), found by its
 * element definitions before anything else walks it: every property an element of its type (so
 * no `__proto__`), arrays exactly where the element repeats, primitives of the JSON type their
 * FHIR type takes, no empty string, array or object, no null but in a primitive array beside its
 * `_name` sibling, no control character in a string; and the rules of single values R4 states
 * in prose: resource ids, dateTimes with a time zone, Attachment sizes, XHTML entities. Each
 * issue gives the FHIRPath of the fault.
 * The input comes from a bounded parse (fhir/json.ts): the walk recurses.
 */
export function structureIssues(resource: unknown): OperationOutcomeIssue[] {
  loadBaseDefinitions();
  const walk = new StructureWalk();
  walk.resource(resource, undefined);
  return walk.issues;
}

class StructureWalk {
  readonly issues: OperationOutcomeIssue[] = [];

  /** `value`: a fault of one value (an id, a dateTime, ...) after which the resource can still be walked. */
  private report(path: string, diagnostics: string, code: 'structure' | 'value' = 'structure'): void {
    if (this.issues.length < MAX_ISSUES) this.issues.push({ severity: 'error', code, diagnostics: `${path}: ${diagnostics}`, expression: [path] });
  }

  private get full(): boolean {
    return this.issues.length >= MAX_ISSUES;
  }

  resource(value: unknown, path: string | undefined): void {
    if (!isObject(value)) return this.report(path ?? '$this', `A resource is a JSON object, not ${describe(value)}`);
    const resourceType = value.resourceType;
    if (typeof resourceType !== 'string' || !isResourceType(resourceType)) {
      const what = resourceType === undefined ? 'no resourceType' : `an unknown resourceType (${String(resourceType)})`;
      return this.report(path ? `${path}.resourceType` : 'resourceType', `A resource has the resourceType of an R4 resource: this one has ${what}`);
    }
    this.object(value, resourceType, path ?? resourceType, true);
  }

  private object(value: Record<string, unknown>, type: string, path: string, resource: boolean): void {
    const keys = Object.keys(value);
    if (!keys.length) this.report(path, `An empty object is no ${type}: leave the element out`);
    if (resource) this.resourceId(value, path);
    else if (type === 'Attachment') this.attachmentSize(value, path);
    else if (type === 'Narrative' && typeof value.div === 'string') this.xhtmlEntities(value.div, `${path}.div`);
    const properties = propertiesOf(type);
    for (const key of keys) {
      if (this.full) return;
      if (resource && key === 'resourceType') continue;
      const primitiveSibling = key.charCodeAt(0) === 95; // `_name`
      const name = primitiveSibling ? key.slice(1) : key;
      const property = properties.get(name);
      if (!property || (primitiveSibling && !isPrimitive(property.type))) {
        this.report(`${path}.${fhirPathName(key)}`, `${key} is not an element of ${type}`);
        continue;
      }
      const at = `${path}.${name}`;
      if (primitiveSibling) this.primitiveElements(value[key], property.repeats, value[name], at);
      else if (property.repeats) this.array(value[key], property.type, value[`_${key}`], at, name);
      else if (Array.isArray(value[key])) this.report(at, `${name} does not repeat: its value is not an array`);
      else this.value(value[key], property.type, at);
    }
  }

  private array(items: unknown, type: string, siblings: unknown, path: string, name: string): void {
    if (!Array.isArray(items)) return this.report(path, `${name} repeats: its value is an array`);
    if (!items.length) return this.report(path, 'An empty array is no value: leave the element out');
    for (let i = 0; i < items.length && !this.full; i++) {
      // A primitive array keeps a null in the place of an item that only has extensions (json.html#primitive):
      // beside its `_name` array, whether a place has either is for primitiveElements to say.
      if (items[i] === null && Array.isArray(siblings) && isPrimitive(type)) continue;
      this.value(items[i], type, `${path}[${i}]`);
    }
  }

  /** `_name`: the id and extensions of primitive values (an array of them beside a primitive array). */
  private primitiveElements(value: unknown, repeats: boolean, primitives: unknown, path: string): void {
    if (!repeats) return this.value(value, 'Element', path);
    if (!Array.isArray(value)) return this.report(path, 'The extensions of a repeating primitive are an array, beside its values');
    if (!value.length) return this.report(path, 'An empty array is no value: leave the element out');
    const values = Array.isArray(primitives) ? primitives : [];
    const name = path.slice(path.lastIndexOf('.') + 1);
    // The two arrays go in step, each place with a value, extensions or both: a place with
    // neither is the fault; else arrays of different lengths are.
    let placeFault = false;
    for (let i = 0; i < Math.max(value.length, values.length) && !this.full; i++) {
      if (value[i] === null || value[i] === undefined) {
        if (values[i] === null || values[i] === undefined) {
          placeFault = true;
          this.report(path, `The JSON array for '${name}' is invalid at index ${i}: it must have a value or extensions there`);
        }
        continue;
      }
      this.value(value[i], 'Element', `${path}[${i}]`);
    }
    if (!placeFault && Array.isArray(primitives) && primitives.length !== value.length) {
      this.report(path, `The extensions of a repeating primitive come one per value: ${value.length} for ${primitives.length} values`);
    }
  }

  /** R4 datatypes.html#id: 1 to 64 letters, digits, `-` and `.`; resource.html#id: no extensions on Resource.id. */
  private resourceId(value: Record<string, unknown>, path: string): void {
    const id = value.id;
    if (typeof id === 'string' && !ID.test(id)) {
      this.report(`${path}.id`, `Invalid Resource id: ${id.length > 64 ? `Too long (${id.length} chars)` : `Invalid Characters ('${id}')`}`, 'value');
    }
    if ('_id' in value) this.report(`${path}.id`, 'Extensions are not allowed on Resource.id', 'value');
  }

  /** The size an Attachment states is that of its data (datatypes.html#Attachment: "the number of bytes of data"). */
  private attachmentSize(value: Record<string, unknown>, path: string): void {
    if (typeof value.data !== 'string' || typeof value.size !== 'number') return;
    const actual = Buffer.from(value.data, 'base64').length;
    if (actual !== value.size) this.report(`${path}.size`, `Stated Attachment Size ${value.size} does not match actual attachment size ${actual}`, 'value');
  }

  /** XHTML is XML: no entities but XML's own five and character references (narrative.html#xhtml). */
  private xhtmlEntities(div: string, path: string): void {
    for (const [, entity] of div.matchAll(ENTITY)) {
      if (!XML_ENTITIES.has(entity)) return this.report(path, `Invalid entity in the XHTML ('&${entity};')`, 'value');
    }
  }

  private value(value: unknown, type: string, path: string): void {
    if (value === null)
      return this.report(path, 'null is no value: leave the element out (null only holds a place in a primitive array beside its extensions)');
    // `Resource`, or a resource type itself (Bundle.entry.response.outcome is an OperationOutcome).
    if (type === 'Resource' || isResourceType(type)) return this.resource(value, path);
    if (!isPrimitive(type)) {
      if (!isObject(value)) return this.report(path, `A value of type ${type} is a JSON object, not ${describe(value)}`);
      return this.object(value, type, path, false);
    }
    const jsonType = JSON_TYPE[type] ?? 'string';
    if (typeof value !== jsonType) return this.report(path, `A value of type ${type} is a JSON ${jsonType}, not ${describe(value)}`);
    if (typeof value === 'number' && !Number.isFinite(value)) return this.report(path, `${type} out of range`);
    if (typeof value !== 'string') return;
    if (value === '') return this.report(path, 'An empty string is no value: leave the element out');
    if (type === 'dateTime' && value.length > 10 && !TIME_ZONE.test(value)) return this.report(path, 'If a date has a time, it must have a timezone', 'value');
    const bad = MAYBE_BAD.test(value) && BAD_CHARACTER.exec(value);
    if (bad)
      this.report(path, `A FHIR string may not hold the character U+${bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} (at ${bad.index})`);
  }
}

/** Throws a 400 listing the structural faults of a resource, if it has any. */
export function checkStructure(resource: unknown): void {
  const issues = structureIssues(resource);
  if (issues.length) throw new FhirError(400, { resourceType: 'OperationOutcome', issue: issues });
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : `a ${typeof value} (${JSON.stringify(value).slice(0, 40)})`;
}
