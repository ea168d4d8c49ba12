import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { installPackage } from '../server/packages/install.js';
import { DATABASES, useServer } from './harness.js';

/**
 * HL7's validator test cases (FHIR/fhir-test-cases, 123 R4 JSON cases kept in ../shared/validator-cases
 * with the counts of errors the Java reference validator gives; SOURCES.md there says how they were
 * chosen). Each case's supporting resources are written first, then the instance is POSTed to
 * [type]/$validate (with its `profile` when it has one) and the errors of the answer counted.
 * The verdict (valid or not) must agree on every case; the count must be the reference's on every
 * case but those of DEBATABLE, each with the reason its reference count is not R4's.
 */
const CASES_DIR = process.env.VALIDATOR_CASES ?? join(import.meta.dirname, '../../../shared/validator-cases');

interface Supporting {
  file: string;
  resourceType: string;
  url: string;
  id: string;
  baseInvalid?: string;
}

interface Case {
  name: string;
  module: string;
  instance: string;
  resourceType: string;
  profile?: string;
  supporting: Supporting[];
  expected: { errors: number; errorIssues: string[] };
}

/** Cases whose reference count is not what R4 says, with the reason: the verdict must still agree. */
const DEBATABLE: Record<string, { errors: number; why: string }> = {};

const read = (file: string): Resource => JSON.parse(readFileSync(join(CASES_DIR, file), 'utf8').replace(/^\uFEFF/, '')) as Resource;
const CASES = (JSON.parse(readFileSync(join(CASES_DIR, 'cases.json'), 'utf8')) as { cases: Case[] }).cases;

describe.each(DATABASES)('HL7 validator cases on %s', (kind) => {
  const t = useServer(kind);

  it('$validate agrees with the Java reference validator: every verdict, and the error counts', { timeout: 120_000 }, async () => {
    const rows: { name: string; expected: number; got: number; issues: string[] }[] = [];
    for (const c of CASES) {
      for (const s of c.supporting) {
        const resource = { ...read(s.file), id: s.id };
        const put = await t.api.put(`${s.resourceType}/${s.id}`, resource);
        if (put.status >= 300) {
          // Supporting resources that are not valid themselves (baseInvalid: a profile without
          // name or status): a package brings them in as it is, unvalidated.
          const pkg = { manifest: { name: `validator-cases.${s.id}`, version: '0.0.0' }, resources: [resource], examples: [] };
          await installPackage(t.server.db, t.server.base, t.server.logger, pkg, {});
        }
      }
      const instance = read(c.instance);
      const query = c.profile ? `?profile=${encodeURIComponent(c.profile)}` : '';
      const answer = await t.api.post(`${c.resourceType}/$validate${query}`, instance);
      const errors = (answer.body?.issue ?? []).filter((i: { severity: string }) => i.severity === 'error' || i.severity === 'fatal');
      rows.push({
        name: c.name,
        expected: c.expected.errors,
        got: answer.status === 200 ? errors.length : -answer.status,
        issues: errors.map(
          (i: { expression?: string[]; details?: { text?: string }; diagnostics?: string }) => `${i.expression?.[0]}: ${i.details?.text ?? i.diagnostics}`,
        ),
      });
      for (const s of c.supporting) await t.api.delete(`${s.resourceType}/${s.id}`);
    }
    if (process.env.VALIDATOR_CASES_REPORT) writeFileSync(process.env.VALIDATOR_CASES_REPORT, JSON.stringify(rows, null, 1));
    const verdictWrong = rows.filter((r) => r.got < 0 || r.expected > 0 !== r.got > 0).map((r) => r.name);
    const countWrong = rows.filter((r) => r.got !== (DEBATABLE[r.name]?.errors ?? r.expected)).map((r) => r.name);
    expect(verdictWrong).toEqual([]);
    expect(countWrong).toEqual([]);
  });
});
