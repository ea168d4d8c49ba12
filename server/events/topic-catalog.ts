import type { Basic, Bundle, Extension } from '@medplum/fhirtypes';
import { notFound } from '../fhir/outcome.js';
import type { Context, FhirRequest, FhirResponse } from '../interactions/context.js';
import { TOPICS, type Topic } from './topics.js';

/**
 * The topic catalog served as resources, read-only, at /fhir/SubscriptionTopic: R4 has no
 * SubscriptionTopic, so each is a Basic (code `SubscriptionTopic`) carrying the R5 elements as
 * cross-version extensions, as the backport represents R4 topics. Public, as /metadata: it
 * describes the server, no one's data.
 */
const R5 = 'http://hl7.org/fhir/5.0/StructureDefinition/extension-SubscriptionTopic';
const INTERACTIONS = ['create', 'update', 'delete'];

export function topicAsBasic(t: Topic): Basic {
  const extension: Extension[] = [
    { url: `${R5}.url`, valueUri: t.url },
    { url: `${R5}.title`, valueString: t.title },
    { url: `${R5}.status`, valueCode: 'active' },
    { url: `${R5}.description`, valueMarkdown: t.description },
    {
      url: `${R5}.resourceTrigger`,
      extension: [
        { url: 'description', valueMarkdown: t.description },
        { url: 'resource', valueUri: `http://hl7.org/fhir/StructureDefinition/${t.resource}` },
        // A timed topic fires on no interaction: time raises it.
        ...(t.timed ? [] : INTERACTIONS.map((code) => ({ url: 'supportedInteraction', valueCode: code }))),
      ],
    },
    ...Object.entries(t.filters).map(([name, f]) => ({
      url: `${R5}.canFilterBy`,
      extension: [
        { url: 'description', valueMarkdown: f.description },
        { url: 'resource', valueUri: `http://hl7.org/fhir/StructureDefinition/${t.resource}` },
        { url: 'filterParameter', valueString: name },
      ],
    })),
    {
      url: `${R5}.notificationShape`,
      extension: [{ url: 'resource', valueUri: `http://hl7.org/fhir/StructureDefinition/${t.resource}` }],
    },
  ];
  return {
    resourceType: 'Basic',
    id: t.code,
    code: { coding: [{ system: 'http://hl7.org/fhir/fhir-types', code: 'SubscriptionTopic' }] },
    extension,
  };
}

export function topicCatalog(ctx: Context, req: FhirRequest): FhirResponse {
  const url = req.query.get('url');
  const shown = TOPICS.filter((t) => !url || t.url === url || t.aliases?.includes(url));
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'searchset',
    total: shown.length,
    entry: shown.map((t) => ({ fullUrl: `${ctx.fhirBase}/SubscriptionTopic/${t.code}`, resource: topicAsBasic(t), search: { mode: 'match' } })),
  };
  return { status: 200, resource: bundle };
}

export function topicEntry(code: string): FhirResponse {
  const topic = TOPICS.find((t) => t.code === code);
  if (!topic) throw notFound(`SubscriptionTopic/${code} is not a topic of this server`);
  return { status: 200, resource: topicAsBasic(topic) };
}
