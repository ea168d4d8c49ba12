import type { ValueSet } from '@medplum/fhirtypes';
import type { Scenario } from '../harness/scenario.js';
import { pick } from '../harness/scenario.js';

/**
 * GET ValueSet/$expand?url=…&filter=…&count=20: the type-ahead of the app's pick-lists, on the NOS
 * value sets Maillage installs (professions J106, fonctions and rôles J108, ...), with the first
 * two to five letters of a word of a display, as a user types them.
 */
const expand: Scenario = {
  name: 'expand',
  title: 'type-ahead: GET ValueSet/$expand?url&filter (2 to 5 letters of a display word)&count=20, NOS value sets',
  ceiling: false,
  async prepare({ db }) {
    const { rows } = await db.query<{ content: string }>(`SELECT content FROM resource WHERE type = 'ValueSet' AND id LIKE 'JDV-%' AND NOT deleted`);
    const paths: string[] = [];
    for (const vs of rows.map((r) => JSON.parse(r.content) as ValueSet)) {
      const words = (vs.compose?.include ?? []).flatMap((i) => (i.concept ?? []).flatMap((c) => (c.display ?? '').split(/[^\p{L}]+/u)));
      for (const word of words.filter((w) => w.length >= 2)) {
        const prefix = word.slice(0, 2 + Math.floor(Math.random() * 4));
        paths.push(`/fhir/ValueSet/$expand?url=${encodeURIComponent(vs.url as string)}&filter=${encodeURIComponent(prefix)}&count=20`);
      }
    }
    if (!paths.length) throw new Error('No NOS value set in the database: start Maillage with TERMINOLOGY=nos');
    return [{ method: 'GET', setupRequest: (req) => ({ ...req, path: pick(paths) }) }];
  },
};

export default expand;
