import { crawlTypedValue, toTypedValue } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { badRequest } from '../fhir/outcome.js';
import type { Queryable } from '../store/db.js';
import { isResourceType } from '../validation/registry.js';
import { validateBase } from '../validation/validate.js';
import type { Context } from './context.js';
import { findSingleMatch } from './conditional.js';
import { checkQueryText } from './query-text.js';

/** Resolves a conditional reference `Type?criteria` to `Type/id`. */
export type ConditionalResolver = (type: string, criteria: string) => Promise<string>;

/** What a link names locally when it names another entry of the Bundle (`Type/id`), else undefined. */
export type LocalLinks = (url: string) => string | undefined;

/** Element types whose values a Bundle's fullUrls are replaced in (R4 bundle.html#references; not canonical). */
const URI_TYPES = new Set(['uri', 'url', 'oid', 'uuid']);
const CONDITIONAL_RE = /^([A-Z][A-Za-z]+)\?(.+)$/;
const NARRATIVE_LINK_RE = /\b(href|src)="([^"]*)"/g;

interface Link {
  holder: Record<string, unknown> | unknown[];
  key: string | number;
  value: string;
  kind: 'reference' | 'uri' | 'xhtml';
}

/**
 * Rewrites, in place, the links of a resource (its extensions and contained resources included):
 * Reference.reference and uri/url/oid/uuid values that name another entry become `Type/id`;
 * conditional references `Type?criteria` are resolved by search; `href` and `src` in the
 * narrative follow the entries too.
 */
export async function rewriteLinks(resource: Resource, local: LocalLinks, resolve: ConditionalResolver): Promise<void> {
  for (const link of findLinks(resource)) {
    let value: string | undefined;
    if (link.kind === 'xhtml') {
      value = link.value.replace(NARRATIVE_LINK_RE, (all, attr: string, url: string) => {
        const target = local(url);
        return target ? `${attr}="${target}"` : all;
      });
    } else {
      value = local(link.value);
      const conditional = link.kind === 'reference' && !value ? CONDITIONAL_RE.exec(link.value) : null;
      if (conditional && isResourceType(conditional[1])) value = await resolve(conditional[1], conditional[2]);
    }
    if (value !== undefined && value !== link.value) (link.holder as Record<string | number, unknown>)[link.key] = value;
  }
}

/** Every place in the resource where a link to another resource may sit, found by its FHIR type. */
function findLinks(resource: Resource): Link[] {
  const links: Link[] = [];
  if (!isResourceType(resource?.resourceType)) return links; // not a resource: the interaction refuses it
  try {
    crawlLinks(resource, links);
  } catch (err) {
    // The crawler trips on malformed content: validation then gives the client its precise 400.
    validateBase(resource);
    throw err;
  }
  return links;
}

function crawlLinks(resource: Resource, links: Link[]): void {
  crawlTypedValue(
    toTypedValue(resource),
    {
      visitProperty(parent, key, _path, values) {
        const holder = parent.value as Record<string, unknown>;
        const raw = holder?.[key];
        values.forEach((typed) => {
          for (const [i, tv] of (Array.isArray(typed) ? typed : [typed]).entries()) {
            if (typeof tv?.value !== 'string') continue;
            const kind =
              parent.type === 'Reference' && key === 'reference' ? 'reference' : URI_TYPES.has(tv.type) ? 'uri' : tv.type === 'xhtml' ? 'xhtml' : undefined;
            if (!kind) continue;
            // Array elements may be null (a primitive with only an extension): find the value's own slot.
            if (Array.isArray(raw)) links.push({ holder: raw, key: raw[i] === tv.value ? i : raw.indexOf(tv.value), value: tv.value, kind });
            else links.push({ holder, key, value: tv.value, kind });
          }
        });
      },
    },
    { skipMissingProperties: true },
  );
}

/**
 * Resolves conditional references by search in `q` (the Bundle's transaction, or the pool for a
 * batch): exactly one match is required (R4 http.html#trules). Answers are remembered: Bundles repeat the same
 * practitioner or organisation on most entries.
 */
export function conditionalResolver(ctx: Context, q: Queryable): ConditionalResolver {
  const known = new Map<string, string>();
  return async (type, criteria) => {
    const key = `${type}?${criteria}`;
    let local = known.get(key);
    if (!local) {
      const params = new URLSearchParams(criteria);
      checkQueryText(params, `The conditional reference ${key}`);
      const match = await findSingleMatch(ctx, q, type, params, false);
      if (!match) throw badRequest(`The conditional reference ${key} matches no resource`);
      local = `${type}/${match.id}`;
      known.set(key, local);
    }
    return local;
  };
}
