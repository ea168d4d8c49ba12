import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseExact } from '../../server/fhir/exact-json.js';
import { DATABASES, useServer } from '../harness.js';

/**
 * Every example of the R4 specification (npm `hl7.fhir.r4.examples`, 5306 files, all with an id)
 * is PUT with its own id (update-as-create), then read back: it must be unchanged apart from
 * meta.versionId and meta.lastUpdated, which the server sets (meta.profile, tag, ... stay).
 *
 * The server refuses these examples, each for a fault of the example itself (checked by hand
 * against the R4 specification); the test fails if any other example is refused, or one of these
 * accepted, or refused for another fault (the `expression` of its first error).
 *
 * The examples are dealt round-robin into shards, one test file each (shard-N.test.ts), so that
 * the two test workers share them rather than one running them all at the end of a run.
 */
const REFUSED: Record<string, { expression?: string; status?: number; why: string }> = {
  // Not a fault of theirs: the audit trail is written by the server only (server/routes.ts).
  ...Object.fromEntries(
    ['', '-disclosure', '-error', '-login', '-logout', '-media', '-pixQuery', '-rest', '-search'].map((name) => [
      `AuditEvent-example${name}.json`,
      { status: 405, expression: undefined, why: 'AuditEvents are never written through the API' },
    ]),
  ),
  'Bundle-dataelements.json': {
    expression: 'Bundle',
    why: 'bdl-7: 7 fullUrls appear 2 or 3 times (http://hl7.org/fhir/StructureDefinition/de-Quantity.value, ...)',
  },
  'Bundle-v2-valuesets.json': {
    expression: 'Bundle.entry[814].resource.concept[74].code',
    why: 'holds CodeSystem v2-0550, whose codes break the code datatype (see CodeSystem-v2-0550.json)',
  },
  'CodeSystem-v2-0550.json': {
    expression: 'CodeSystem.concept[74].code',
    why: 'codes that end in a no-break space (mojibake: "CHEST\u00c2\u00a0", "KIDN\u00c2\u00a0", "\u00c2\u00a0") or are one ("\u00a0"); a code has no leading or trailing whitespace',
  },
  'ImplementationGuide-fhir.json': {
    expression: 'ImplementationGuide.name',
    why: 'no name and no status, both 1..1',
  },
  'ig-r4.json': {
    expression: 'ImplementationGuide.name',
    why: 'the same ImplementationGuide/fhir as ImplementationGuide-fhir.json: no name and no status, both 1..1',
  },
  'Questionnaire-qs1.json': {
    expression: 'Questionnaire.item[0].item[0].linkId',
    why: 'nested items without linkId, which is 1..1',
  },
  'SearchParameter-questionnaireresponse-extensions-QuestionnaireResponse-item-subject.json': {
    expression: 'SearchParameter.id',
    why: 'its id has 65 characters; an id has at most 64',
  },
  ...Object.fromEntries(
    ['author', 'effective', 'end', 'keyword', 'workflow'].flatMap((code) =>
      ['codesystem-extensions-CodeSystem', 'valueset-extensions-ValueSet'].map((prefix) => [
        `SearchParameter-${prefix}-${code}.json`,
        { expression: 'SearchParameter.base', why: 'no base, which is 1..*' },
      ]),
    ),
  ),
  ...Object.fromEntries(
    ['Definition', 'Event', 'FiveWs', 'Request'].map((name) => [
      `StructureDefinition-${name}.json`,
      {
        expression: 'StructureDefinition',
        why: 'sdf-4: a logical model that is not abstract and has no baseDefinition',
      },
    ]),
  ),
};

const require = createRequire(import.meta.url);
const EXAMPLES_DIR = dirname(require.resolve('hl7.fhir.r4.examples/package.json'));
const FILES = readdirSync(EXAMPLES_DIR)
  .filter((f) => f.endsWith('.json') && f !== 'package.json')
  .sort();
const PARALLEL = 8;

interface Example {
  resourceType: string;
  id: string;
  status?: string;
  meta?: Record<string, unknown>;
}

/** A resource without the meta fields the server sets; meta goes when nothing else is left in it. */
function withoutServerMeta(resource: Example): Example {
  const { versionId: _v, lastUpdated: _l, ...meta } = resource.meta ?? {};
  const { meta: _m, ...rest } = resource;
  return Object.keys(meta).length ? { ...rest, meta } : rest;
}

/** The examples the server changes as the specification says it must, and what it reads back as. */
const CHANGED_BY_SERVER: Record<string, { why: string; readBack: (example: Example) => Example }> = {
  'Subscription-example.json': {
    why: 'a requested Subscription is activated by the server that accepts it (R4 subscription.html, server/events/)',
    readBack: (example) => ({ ...example, status: 'active' }),
  },
};

export const SHARDS = 4;

// A listed example missing from the package would otherwise be dropped by every shard unseen.
const unlisted = Object.keys(REFUSED).filter((file) => !FILES.includes(file));
if (unlisted.length) throw new Error(`listed as refused but not in the package: ${unlisted.join(', ')}`);

/** Declares the test of shard `shard` (1…SHARDS) of the examples, on every test database. */
export function describeExamples(shard: number): void {
  const files = FILES.filter((_, i) => i % SHARDS === shard - 1);
  const expected = Object.entries(REFUSED).filter(([file]) => files.includes(file));
  describe.each(DATABASES)(`the R4 examples, shard ${shard} of ${SHARDS}, on %s`, (kind) => {
    examplesTest(kind, files, Object.fromEntries(expected));
  });
}

function examplesTest(kind: (typeof DATABASES)[number], files: string[], refusedAsExpected: typeof REFUSED): void {
  const t = useServer(kind);

  it('are stored and read back unchanged apart from meta, except the listed faulty ones', { timeout: 480_000 }, async () => {
    // The test client shares the server's event loop, which validating the largest bundles (34 MB)
    // blocks for seconds: the keep-alive timer would then close sockets with a request pending.
    t.server.server.keepAliveTimeout = 0;
    const refused: Record<string, { status: number; expression?: string }> = {};
    const changed: string[] = [];
    const check = async (file: string) => {
      // Sent and compared as written: a decimal's precision is part of it (1.0 is not 1, R4
      // datatypes.html#decimal). parseExact keeps the text of each decimal a number would change,
      // where deep equality sees it; lossless-json on every text cost this test a third of its time.
      const source = readFileSync(`${EXAMPLES_DIR}/${file}`, 'utf8');
      const example = parseExact(source) as Example;
      const written = await t.api.put(`${example.resourceType}/${example.id}`, source);
      if (written.status !== 201) {
        const issue = written.body?.issue?.find((i: { severity: string }) => i.severity === 'error');
        refused[file] = { status: written.status, expression: issue?.expression?.[0] };
        return;
      }
      const read = await fetch(`${t.server.base}/${example.resourceType}/${example.id}`);
      const body = read.ok ? (parseExact(await read.text()) as Example) : undefined;
      const expected = CHANGED_BY_SERVER[file]?.readBack(example) ?? example;
      if (!body || !isDeepStrictEqual(withoutServerMeta(body), withoutServerMeta(expected))) {
        // The status tells a read that failed (503 under load) from a resource changed on its way through.
        changed.push(`${file} (${read.status})`);
      }
    };
    const queue = [...files];
    await Promise.all(
      Array.from({ length: PARALLEL }, async () => {
        for (let file = queue.shift(); file; file = queue.shift()) await check(file);
      }),
    );
    expect(FILES.length).toBeGreaterThan(5000);
    expect(changed).toEqual([]);
    expect(refused).toEqual(
      Object.fromEntries(Object.entries(refusedAsExpected).map(([file, { expression, status }]) => [file, { status: status ?? 400, expression }])),
    );
  });
}
