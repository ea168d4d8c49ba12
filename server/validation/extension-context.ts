import type { StructureDefinition } from '@medplum/fhirtypes';
import type { Registry } from './canonicals.js';
import { childFor, elementTree, type ElementNode } from './element-tree.js';
import { structureDefinition } from './structures.js';

const BASE = 'http://hl7.org/fhir/StructureDefinition/';

/**
 * Where a value of the instance stands in the definitions: the ways its element can be named
 * (`Patient.name.family`, `HumanName.family`), its type, and the URL of the extension it is in.
 * Built while walking down from the resource, as the context of an extension is checked against it.
 */
export interface Place {
  names: string[];
  type?: string;
  node?: ElementNode;
  /** The tree of the resource the place is in (content references point into it). */
  root?: ElementNode;
  extensionUrl?: string;
}

export function resourcePlace(registry: Registry, resourceType: string): Place {
  const root = typeRoot(registry, resourceType);
  return { names: [resourceType], type: resourceType, node: root, root };
}

/** The place of the property `key` of a value at `place` (a resource inside starts anew). */
export function childPlace(registry: Registry, place: Place, key: string, value: unknown): Place {
  const resourceType = (value as { resourceType?: unknown } | null)?.resourceType;
  if (typeof resourceType === 'string' && key !== 'extension' && key !== 'modifierExtension') return resourcePlace(registry, resourceType);
  const match = place.node ? childFor(place.node, key) : undefined;
  const name = match?.child.name ?? key;
  const names = place.names.map((n) => `${n}.${name}`);
  const reference = match?.child.ed.contentReference;
  if (reference) {
    // `OperationDefinition.parameter.part` is an `OperationDefinition.parameter`.
    const target = reference.slice(reference.indexOf('#') + 1);
    return { names: [...names, target], type: 'BackboneElement', node: nodeAt(place.root, target), root: place.root, extensionUrl: place.extensionUrl };
  }
  const type = match?.type ?? (match?.child.ed.type?.length === 1 ? (match.child.ed.type[0].code as string) : undefined);
  // A datatype's children are in its own definition; a backbone element's under it.
  if (type && type !== 'BackboneElement' && type !== 'Element') {
    const node = typeRoot(registry, type);
    return { names: [...names, type], type, node, root: node, extensionUrl: place.extensionUrl };
  }
  return { names, type, node: match?.child, root: place.root, extensionUrl: place.extensionUrl };
}

function nodeAt(root: ElementNode | undefined, path: string): ElementNode | undefined {
  let node = root;
  for (const name of path.split('.').slice(1)) node = node?.children.find((c) => c.name === name);
  return node;
}

/** Whether an extension definition's context admits it at a place (StructureDefinition.context, R4). */
export function contextAllows(registry: Registry, sd: StructureDefinition, place: Place): boolean {
  if (!sd.context?.length) return true;
  // The FHIRPath types of primitives' own values (Resource.id) take any element's extensions.
  if (!place.type || place.type.startsWith('http://hl7.org/fhirpath/')) return true;
  const types = ancestry(registry, place.type);
  // R5's names for the resources with a url, which HL7's validator reads in R4 definitions too.
  if (place.node && place.node === place.root && place.node.children.some((c) => c.name === 'url')) types.push('CanonicalResource', 'MetadataResource');
  return sd.context.some((c) => {
    const expression = c.expression as string;
    if (c.type === 'fhirpath') return true;
    if (c.type === 'extension') return place.extensionUrl === expression || (place.type === 'Extension' && expression === 'Extension');
    return expression === 'Element' || place.names.includes(expression) || types.includes(expression);
  });
}

/** A type and those it derives from (Age, Quantity, Element, Base; Patient, DomainResource, Resource). */
function ancestry(registry: Registry, type: string): string[] {
  const out: string[] = [];
  let sd = structureDefinition(registry, BASE + type);
  for (let guard = 0; sd && guard < 10; guard++) {
    out.push(sd.type as string);
    if (!sd.baseDefinition) break;
    sd = structureDefinition(registry, sd.baseDefinition);
  }
  if (out.length === 0) out.push(type);
  out.push('Base');
  return out;
}

function typeRoot(registry: Registry, type: string): ElementNode | undefined {
  const sd = structureDefinition(registry, BASE + type);
  return sd?.snapshot?.element?.length ? elementTree(sd) : undefined;
}
