import type { Bundle, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';

/**
 * The entry of a Bundle a reference names (bundle.html#references): by fullUrl, absolute or
 * `urn:uuid:`, or a relative `Type/id` against the fullUrls (an entry's server base) or, without
 * them, the entry's type and id. Versions (`/_history/n`) are not told apart here.
 */
export function resolveInBundle(bundle: Bundle, reference: string): Resource | undefined {
  const plain = reference.replace(/\/_history\/[^/]+$/, '');
  const entries = Array.isArray(bundle.entry) ? bundle.entry : [];
  const relative = /^[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/.test(plain);
  for (const entry of entries) {
    const resource = entry?.resource;
    if (!resource) continue;
    if (entry.fullUrl === plain) return resource;
    if (relative && (entry.fullUrl ? entry.fullUrl.endsWith(`/${plain}`) : `${resource.resourceType}/${resource.id}` === plain)) return resource;
  }
  return undefined;
}

/** Bundles whose references to their own server's resources are expected among their entries. */
const SELF_CONTAINED = new Set(['document', 'message', 'collection']);

/**
 * References inside a Bundle, as HL7's validator checks them: one that names several entries
 * (the same resource twice, no version to choose) is ambiguous; in a document, message or
 * collection, a relative one on the server base of the entries must lead to one of them; a
 * document's section entries must each lead to exactly one (documents.html).
 */
export function checkBundleReferences(bundle: Bundle): OperationOutcomeIssue[] {
  const entries = (Array.isArray(bundle.entry) ? bundle.entry : []).filter((e) => e?.resource);
  const issues: OperationOutcomeIssue[] = [];
  const bases = new Set(entries.map((e) => serverBase(e.fullUrl, e.resource as Resource)).filter((b): b is string => !!b));
  entries.forEach((entry, i) => {
    const from = serverBase(entry.fullUrl, entry.resource as Resource);
    const found = (reference: string) => matches(entries, reference, from);
    eachReference(entry.resource, `Bundle.entry[${i}].resource`, (reference, path) => {
      if (reference.startsWith('#') || !/^[A-Z][A-Za-z]+\/[^/]+(\/_history\/[^/]+)?$/.test(reference)) return;
      const n = found(reference).length;
      if (n > 1) issues.push(fault(path, `Multiple matches in the bundle for the reference ${reference}`));
      // A versioned one may name a version the Bundle does not hold (a document's section entries are checked below).
      else if (n === 0 && from && bases.has(from) && SELF_CONTAINED.has(bundle.type as string) && !reference.includes('/_history/'))
        issues.push(fault(path, `Bundled reference not found within the bundle: ${reference}`));
    });
    if (bundle.type !== 'document' || entry.resource?.resourceType !== 'Composition') return;
    sectionEntries((entry.resource as { section?: unknown }).section, `Bundle.entry[${i}].resource.section`, (reference, path) => {
      const n = found(reference).length;
      if (n === 0) issues.push(fault(path, `Can't find '${reference}' in the bundle (section entry)`));
      else if (n > 1) issues.push(fault(path, `Found ${n} matches for '${reference}' in the bundle (section entry)`));
    });
  });
  return issues;
}

/** The entries a relative reference names from an entry of the server base `from`, its version told apart. */
function matches(entries: NonNullable<Bundle['entry']>, reference: string, from: string | undefined): NonNullable<Bundle['entry']> {
  const [, type, id, version] = /^([^/]+)\/([^/]+)(?:\/_history\/(.+))?$/.exec(reference) ?? [];
  return entries.filter((e) => {
    const r = e.resource as Resource;
    // Entries without a RESTful fullUrl (urn:uuid:) are found by their type and id.
    const same = (from && e.fullUrl === `${from}${type}/${id}`) || (r.resourceType === type && r.id === id && (!from || !serverBase(e.fullUrl, r)));
    return same && (!version || r.meta?.versionId === version);
  });
}

/** The server base of an entry (`http://x/fhir/` of `http://x/fhir/Patient/1`), when its fullUrl is a RESTful one. */
function serverBase(fullUrl: string | undefined, resource: Resource): string | undefined {
  const suffix = `${resource.resourceType}/${resource.id}`;
  return fullUrl?.endsWith(suffix) && /^https?:/.test(fullUrl) ? fullUrl.slice(0, -suffix.length) : undefined;
}

function eachReference(value: unknown, path: string, visit: (reference: string, path: string) => void): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => eachReference(v, `${path}[${i}]`, visit));
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const object = value as Record<string, unknown>;
  // A resource inside (contained, a nested Bundle's entries) has its own context.
  if (typeof object.resourceType === 'string' && path.includes('.contained')) return;
  if (typeof object.reference === 'string') visit(object.reference, path);
  for (const [key, content] of Object.entries(object)) if (typeof content === 'object' && key !== 'contained') eachReference(content, `${path}.${key}`, visit);
}

function sectionEntries(sections: unknown, path: string, visit: (reference: string, path: string) => void): void {
  if (!Array.isArray(sections)) return;
  sections.forEach((section, i) => {
    const at = `${path}[${i}]`;
    const entries = (section as { entry?: unknown })?.entry;
    if (Array.isArray(entries))
      entries.forEach((e, j) => {
        const reference = (e as { reference?: unknown })?.reference;
        if (typeof reference === 'string' && !reference.startsWith('#')) visit(reference, `${at}.entry[${j}]`);
      });
    sectionEntries((section as { section?: unknown })?.section, `${at}.section`, visit);
  });
}

function fault(path: string, text: string): OperationOutcomeIssue {
  return { severity: 'error', code: 'not-found', details: { text }, expression: [path] };
}
