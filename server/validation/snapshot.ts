import type { ElementDefinition, StructureDefinition } from '@medplum/fhirtypes';

/** Finds a StructureDefinition by canonical (`url` or `url|version`), with its snapshot. */
export type SnapshotSource = (canonical: string) => StructureDefinition | undefined;

export interface SnapshotResult {
  elements: ElementDefinition[];
  /** What could not be applied: differential elements with nowhere to go, types not found. */
  issues: string[];
}

/** Bump when the output changes: cached snapshots of an older generator are then made anew. */
export const SNAPSHOT_GENERATOR_VERSION = 4;

const EXTENSION_SLICING = {
  discriminator: [{ type: 'value' as const, path: 'url' }],
  description: 'Extensions are always sliced by (at least) url',
  rules: 'open' as const,
};

/**
 * The snapshot of a StructureDefinition that carries only a differential, the way the IG
 * Publisher builds it (profiling.html#snapshot): the base's snapshot, with each differential
 * element merged into the element it constrains. Children of complex types are brought in from
 * the type's definition (or the profile the element names) only where the differential reaches
 * into them; a slice starts as a copy of its sliced element (with the children constrained there),
 * placed after the previous slices.
 */
export function generateSnapshot(sd: StructureDefinition, source: SnapshotSource): SnapshotResult {
  const base = sd.baseDefinition ? source(sd.baseDefinition) : undefined;
  if (!base?.snapshot?.element?.length) throw new Error(`The base definition ${sd.baseDefinition ?? '(none)'} of ${sd.url} is not known`);
  const generator = new Generator(sd, base, source);
  const diffIds = (sd.differential?.element ?? []).map((d) => d.id ?? derivedId(d));
  (sd.differential?.element ?? []).forEach((diff, i) => generator.apply(diff, diffIds[i], diffIds));
  return { elements: generator.elements, issues: generator.issues };
}

class Generator {
  readonly elements: ElementDefinition[];
  readonly issues: string[] = [];
  /** Index of element ids, rebuilt after each insertion (snapshots are a few hundred elements). */
  private index = new Map<string, number>();
  /** Each element as the base (or the type brought in) defined it, before the differential: slices start from it. */
  private readonly original = new Map<string, ElementDefinition>();

  constructor(
    private readonly sd: StructureDefinition,
    base: StructureDefinition,
    private readonly source: SnapshotSource,
  ) {
    const from = base.type as string;
    const to = sd.type as string;
    this.elements = (base.snapshot?.element ?? []).map((e) => {
      const copy = withBase(clone(e));
      // A specialisation (a logical model, a new type) renames the root; a constraint keeps it.
      if (from !== to) rename(copy, from, to, from, to);
      // A profile's content references name the definition they point into.
      if (copy.contentReference?.startsWith('#')) copy.contentReference = `${typeCanonical(base.type as string)}${copy.contentReference}`;
      return copy;
    });
    this.remember(this.elements);
    this.reindex();
  }

  apply(diff: ElementDefinition, id: string, diffIds: string[]): void {
    const at = this.index.get(id) ?? this.materialize(id, diff);
    if (at === undefined) {
      this.issues.push(`${this.sd.url}: the differential element ${id} matches no element of the base`);
      return;
    }
    const element = this.elements[at];
    if (diff.slicing && !id.includes('.')) {
      this.issues.push(`${this.sd.url}: the profile has slicing at the root ('${id}'), which is illegal`);
      return;
    }
    this.checkChoicePath(element, diff);
    this.checkFixed(element, diff);
    merge(element, diff, this.sd.url as string);
    // A slicing with neither discriminator nor slices says nothing a validator can use: the IG
    // Publisher leaves it out of the snapshot.
    const sliced = (d: string) => d.startsWith(`${id}:`);
    if (element.slicing && !element.slicing.discriminator?.length && !diffIds.some(sliced) && ![...this.index.keys()].some(sliced)) delete element.slicing;
    const profiled = diff.type?.length === 1 && diff.type[0].profile?.length ? diff.type[0] : undefined;
    // An element named without its children keeps those its base brought in, unless it is sliced.
    this.pruneSliced(id, diffIds);
    if (!profiled || !element.sliceName) return;
    const reachesInto = (e: string) => diffIds.some((d) => d.startsWith(`${e}.`));
    if (profiled.code === 'Extension') {
      this.adoptExtensionDefinition(element, diff);
    } else if (reachesInto(id) || reachesInto(unslicedId(id))) {
      // A slice typed with a profile of a datatype shows that profile's elements when the
      // differential reaches into it or into its sliced element (whose children it shares).
      this.expand(at);
    }
  }

  /** `value[x]` may be named by one of its types (`valueQuantity`), by no other name (`valueBla`). */
  private checkChoicePath(element: ElementDefinition, diff: ElementDefinition): void {
    const path = element.path as string;
    if (!path.endsWith('[x]') || !diff.path || diff.path === path) return;
    const stem = path.slice(0, -3);
    const suffix = diff.path.startsWith(stem) ? diff.path.slice(stem.length) : '';
    const types = (diff.type ?? element.type ?? []).map((t) => t.code as string);
    if (types.some((code) => code.charAt(0).toUpperCase() + code.slice(1) === suffix)) return;
    this.issues.push(`${this.sd.url}: the path must be '${path}' not '${diff.path}' when the type list is not constrained to that type`);
  }

  /** A profile cannot change a value its base fixes (an extension's url among them). */
  private checkFixed(element: ElementDefinition, diff: ElementDefinition): void {
    const key = Object.keys(diff).find((k) => /^fixed[A-Z]/.test(k));
    if (!key) return;
    const base = Object.entries(element).find(([k]) => /^fixed[A-Z]/.test(k));
    const value = (diff as unknown as Record<string, unknown>)[key];
    if (!base || JSON.stringify(base[1]) === JSON.stringify(value)) return;
    this.issues.push(`${this.sd.url}: ${element.path} is fixed to ${JSON.stringify(base[1])} in the base, not ${JSON.stringify(value)}`);
  }

  /**
   * Like the IG Publisher: when the differential names a sliced element (or one of its slices) but
   * none of the sliced element's own children, the snapshot keeps none of the children its base
   * brought in under the sliced element (its slices keep theirs).
   */
  private pruneSliced(id: string, diffIds: string[]): void {
    const slicedId = unslicedId(id);
    const at = this.index.get(slicedId);
    if (at === undefined || !isDatatype(this.elements[at])) return;
    // Sliced means with slices: a slicing without any (a bare `rules`) changes nothing here.
    if (diffIds.some((d) => d.startsWith(`${slicedId}.`))) return;
    const isSlice = (d: string) => d.startsWith(`${slicedId}:`);
    if (!diffIds.some(isSlice) && ![...this.index.keys()].some(isSlice)) return;
    this.prune(at);
  }

  private prune(at: number): void {
    const kids = this.descendants(at).length;
    if (!kids) return;
    this.elements.splice(at + 1, kids);
    this.reindex();
  }

  private remember(elements: ElementDefinition[]): void {
    for (const e of elements) this.original.set(e.id as string, clone(e));
  }

  private reindex(): void {
    this.index = new Map(this.elements.map((e, i) => [e.id as string, i]));
  }

  /** Creates the element an id names: a new slice, or a child of a complex type brought in. */
  private materialize(id: string, diff: ElementDefinition): number | undefined {
    const { parent, last } = splitId(id);
    const colon = last.indexOf(':');
    if (colon > 0) {
      const slice = last.slice(colon + 1);
      const resliced = slice.lastIndexOf('/');
      const sliced = (parent ? `${parent}.` : '') + (resliced > 0 ? `${last.slice(0, colon)}:${slice.slice(0, resliced)}` : last.slice(0, colon));
      const slicedAt = this.index.get(sliced) ?? this.materialize(sliced, diff);
      if (slicedAt === undefined) return undefined;
      // Bringing in a profiled type may have brought the slice in with it.
      return this.index.get(id) ?? this.addSlice(slicedAt, id, slice);
    }
    if (!parent) return undefined;
    const parentAt = this.index.get(parent) ?? this.materialize(parent, diff);
    if (parentAt === undefined) return undefined;
    this.expand(parentAt);
    return this.index.get(id) ?? this.choiceRename(parent, last);
  }

  /** `Observation.valueQuantity` in a differential means `Observation.value[x]` as a Quantity. */
  private choiceRename(parent: string, name: string): number | undefined {
    for (let i = name.length - 1; i > 0; i--) {
      if (!/[A-Z]/.test(name[i])) continue;
      const at = this.index.get(`${parent}.${name.slice(0, i)}[x]`);
      if (at !== undefined) return at;
    }
    return undefined;
  }

  private addSlice(slicedAt: number, id: string, sliceName: string): number {
    const sliced = this.elements[slicedAt];
    const slicedId = sliced.id as string;
    if (!sliced.slicing && /\.(extension|modifierExtension)$/.test(sliced.path as string)) sliced.slicing = clone(EXTENSION_SLICING);
    let end = slicedAt + 1;
    while (end < this.elements.length && isWithin(this.elements[end].id as string, slicedId)) end++;
    // A slice starts from the element as the base defined it, not as this profile constrains it.
    const slice = clone(this.original.get(slicedId) ?? sliced);
    delete slice.slicing;
    slice.id = id;
    slice.sliceName = sliceName;
    this.elements.splice(end, 0, slice);
    this.reindex();
    return end;
  }

  /** Brings in the children of an element that has none yet in the snapshot. */
  private expand(at: number): void {
    const element = this.elements[at];
    const id = element.id as string;
    if (this.elements[at + 1] && (this.elements[at + 1].id as string).startsWith(`${id}.`)) return;
    const children = this.childrenOf(element);
    if (!children) return;
    this.remember(children);
    this.elements.splice(at + 1, 0, ...children);
    this.reindex();
  }

  private childrenOf(element: ElementDefinition): ElementDefinition[] | undefined {
    const id = element.id as string;
    const slicedId = unslicedId(id);
    // A slice typed with a profile of its own shows that profile's elements, with what this
    // differential says of the sliced element's children (as the IG Publisher does).
    if (slicedId !== id && this.ownProfile(element, slicedId)) {
      const kids = this.typeChildren(element);
      for (const kid of kids ?? []) this.applySlicedDiff(kid, slicedId, id);
      return kids;
    }
    // Else a slice starts with the children its sliced element has in this profile.
    if (slicedId !== id) {
      const from = this.index.get(slicedId);
      const kids = from === undefined ? [] : this.descendants(from);
      if (kids.length) return kids.map((k) => rename(clone(k), slicedId, id, this.elements[from as number].path as string, element.path as string));
    }
    if (element.contentReference) {
      // The element referred to as the base defines it: this profile's constraints on it (a
      // `parameter` sliced by name) are not those of its recursions (`parameter.part`).
      const target = element.contentReference.slice(element.contentReference.indexOf('#') + 1);
      if (!this.original.has(target)) return undefined;
      const kids = [...this.original.values()].filter((e) => (e.id as string).startsWith(`${target}.`));
      return kids.map((k) => rename(clone(k), target, id, target, element.path as string));
    }
    return this.typeChildren(element);
  }

  /** Whether a slice names a type profile other than its sliced element's. */
  private ownProfile(slice: ElementDefinition, slicedId: string): boolean {
    const profile = singleProfile(slice);
    const at = this.index.get(slicedId);
    return !!profile && (at === undefined || singleProfile(this.elements[at]) !== profile);
  }

  /** Merges into a slice's child what the differential says of the same child of the sliced element. */
  private applySlicedDiff(kid: ElementDefinition, slicedId: string, sliceId: string): void {
    const ofSliced = slicedId + (kid.id as string).slice(sliceId.length);
    const diff = this.sd.differential?.element?.find((d) => (d.id ?? derivedId(d)) === ofSliced);
    if (diff) merge(kid, diff, this.sd.url as string);
  }

  /** The children an element's type (or the profile it names) defines. */
  private typeChildren(element: ElementDefinition): ElementDefinition[] | undefined {
    const id = element.id as string;
    const types = element.type ?? [];
    if (types.length !== 1) {
      this.issues.push(`${this.sd.url}: ${id} has ${types.length} types: its children cannot be constrained`);
      return undefined;
    }
    const [type] = types;
    const canonical = type.profile?.[0] ?? typeCanonical(type.code as string);
    const definition = this.source(canonical);
    const root = definition?.snapshot?.element?.[0];
    if (!definition || !root) {
      this.issues.push(`${this.sd.url}: the type ${canonical} of ${id} is not known`);
      return undefined;
    }
    return (definition.snapshot?.element ?? [])
      .slice(1)
      .map((k) => rename(withBase(clone(k)), root.id as string, id, root.path as string, element.path as string));
  }

  private descendants(at: number): ElementDefinition[] {
    const id = this.elements[at].id as string;
    const out: ElementDefinition[] = [];
    for (let i = at + 1; i < this.elements.length && (this.elements[i].id as string).startsWith(`${id}.`); i++) {
      out.push(this.elements[i]);
    }
    return out;
  }

  /**
   * A slice typed with an extension profile reads as that extension: its short text, definition
   * and comment come from the extension's root element, unless the differential says otherwise.
   */
  private adoptExtensionDefinition(element: ElementDefinition, diff: ElementDefinition): void {
    const type = element.type?.[0];
    if (element.type?.length !== 1 || type?.code !== 'Extension' || !type.profile?.length) return;
    const root = this.source(type.profile[0])?.snapshot?.element?.[0];
    if (!root) {
      this.issues.push(`${this.sd.url}: the extension ${type.profile[0]} of ${element.id} is not known`);
      return;
    }
    for (const key of ['short', 'definition', 'comment', 'isModifier', 'isModifierReason'] as const) {
      if (diff[key] === undefined && root[key] !== undefined) (element as unknown as Record<string, unknown>)[key] = root[key];
    }
  }
}

/** Merges a differential element into its snapshot element (profiling.html#snapshot rules). */
function merge(target: ElementDefinition, diff: ElementDefinition, profileUrl: string): void {
  const t = target as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(diff)) {
    if (value === undefined || key === 'id' || key === 'path' || key === 'base' || key === 'extension') continue;
    const choice = /^(fixed|pattern|defaultValue|minValue|maxValue)[A-Z]/.exec(key);
    if (choice) {
      for (const old of Object.keys(t)) if (old.startsWith(choice[1]) && /[A-Z]/.test(old[choice[1].length] ?? '')) delete t[old];
      t[key] = clone(value);
    } else if (key === 'constraint') {
      const constraints = [...(target.constraint ?? [])];
      for (const c of diff.constraint ?? []) {
        const added = { ...clone(c), source: c.source ?? profileUrl };
        const same = constraints.findIndex((old) => old.key === c.key);
        if (same >= 0) constraints[same] = added;
        else constraints.push(added);
      }
      target.constraint = constraints;
    } else if (key === 'condition' || key === 'alias') {
      t[key] = [...new Set([...((t[key] as string[]) ?? []), ...(value as string[])])];
    } else if (key === 'mapping') {
      const seen = new Set((target.mapping ?? []).map((m) => `${m.identity}|${m.map}`));
      target.mapping = [...(target.mapping ?? []), ...(diff.mapping ?? []).filter((m) => !seen.has(`${m.identity}|${m.map}`))];
    } else if (key === 'slicing') {
      target.slicing = mergeSlicing(target.slicing, diff.slicing as NonNullable<ElementDefinition['slicing']>);
    } else if (key === 'binding') {
      t[key] = { ...((t[key] as object) ?? {}), ...clone(value as object) };
    } else {
      t[key] = clone(value);
    }
  }
}

type Slicing = NonNullable<ElementDefinition['slicing']>;
const RULES_STRICTNESS = { open: 0, openAtEnd: 1, closed: 2 } as const;

/**
 * A profile may tighten its base's slicing rules, never loosen them (profiling.html#slicing): like
 * the IG Publisher, an `open` over a `closed` base stays `closed`.
 */
function mergeSlicing(base: Slicing | undefined, diff: Slicing): Slicing {
  const merged = { ...(base ?? {}), ...clone(diff) } as Slicing;
  if (base?.rules && diff.rules && RULES_STRICTNESS[base.rules] > RULES_STRICTNESS[diff.rules]) merged.rules = base.rules;
  return merged;
}

/** The one profile of an element's one type, without its version. */
function singleProfile(e: ElementDefinition): string | undefined {
  return e.type?.length === 1 && e.type[0].profile?.length === 1 ? e.type[0].profile[0].split('|')[0] : undefined;
}

/** Whether an element is of a complex datatype (whose children a profile brings in), not a backbone. */
function isDatatype(e: ElementDefinition): boolean {
  const code = e.type?.length === 1 ? (e.type[0].code as string) : '';
  return /^[A-Z]/.test(code) && code !== 'BackboneElement' && code !== 'Element' && !e.contentReference;
}

/** Gives an element its `base` (where it was first defined) when the definition leaves it out. */
function withBase(e: ElementDefinition): ElementDefinition {
  if (!e.base) e.base = { path: e.path as string, min: e.min ?? 0, max: e.max ?? '*' };
  return e;
}

/** Moves an element from under one id and path to another (a type's children under an element). */
function rename(e: ElementDefinition, fromId: string, toId: string, fromPath: string, toPath: string): ElementDefinition {
  e.id = toId + (e.id as string).slice(fromId.length);
  e.path = toPath + (e.path as string).slice(fromPath.length);
  return e;
}

/** Whether an element id is in the subtree of another, slices of it included. */
function isWithin(id: string, of: string): boolean {
  return id.startsWith(`${of}.`) || id.startsWith(`${of}:`);
}

/** The id without the slice of its last segment: `Patient.identifier:INS` is `Patient.identifier`. */
function unslicedId(id: string): string {
  const { parent, last } = splitId(id);
  const colon = last.indexOf(':');
  if (colon < 0) return id;
  const slice = last.slice(colon + 1);
  const resliced = slice.lastIndexOf('/');
  const name = resliced > 0 ? `${last.slice(0, colon)}:${slice.slice(0, resliced)}` : last.slice(0, colon);
  return (parent ? `${parent}.` : '') + name;
}

/** Splits an element id at its last dot. */
function splitId(id: string): { parent: string; last: string } {
  const dot = id.lastIndexOf('.');
  return dot < 0 ? { parent: '', last: id } : { parent: id.slice(0, dot), last: id.slice(dot + 1) };
}

/** The id a differential element without one has: its path, with its slice name on the last segment. */
function derivedId(e: ElementDefinition): string {
  return e.sliceName ? `${e.path}:${e.sliceName}` : (e.path as string);
}

export function typeCanonical(code: string): string {
  return /^https?:/.test(code) ? code : `http://hl7.org/fhir/StructureDefinition/${code}`;
}

function clone<T>(value: T): T {
  return structuredClone(value);
}
