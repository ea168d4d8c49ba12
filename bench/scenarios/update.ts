import type { Scenario } from '../harness/scenario.js';
import { pick } from '../harness/scenario.js';

const SAMPLE = 5000;

/** PUT Patient/[id] with a new phone number: an identity update as practice software sends it. */
const update: Scenario = {
  name: 'update',
  title: 'update: PUT Patient/[id] (new phone number) of a stored patient at random',
  ceiling: true,
  async prepare({ db }) {
    const { rows } = await db.query<{ id: string; content: string }>(
      `SELECT id, content FROM resource WHERE type = 'Patient' AND NOT deleted ORDER BY random() LIMIT ${SAMPLE}`,
    );
    const updates = rows.map((r, i) => {
      const { meta: _meta, ...patient } = JSON.parse(r.content) as Record<string, unknown>;
      const telecom = [{ system: 'phone', value: `06${String(i).padStart(8, '0')}` }];
      return { path: `/fhir/Patient/${r.id}`, body: JSON.stringify({ ...patient, telecom }) };
    });
    return [
      {
        method: 'PUT',
        headers: { 'content-type': 'application/fhir+json' },
        setupRequest: (req) => ({ ...req, ...pick(updates) }),
      },
    ];
  },
};

export default update;
