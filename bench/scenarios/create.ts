import type { Scenario } from '../harness/scenario.js';
import { pick } from '../harness/scenario.js';

const SAMPLE = 5000;

/**
 * POST Observation: a vital sign or lab result for an existing patient, the write practice
 * software sends most. Bodies are stored Observations without id and meta.
 */
const create: Scenario = {
  name: 'create',
  title: 'create: POST Observation (vital sign or lab result of a stored patient)',
  ceiling: true,
  async prepare({ db }) {
    const { rows } = await db.query<{ content: string }>(
      `SELECT content FROM resource WHERE type = 'Observation' AND NOT deleted ORDER BY random() LIMIT ${SAMPLE}`,
    );
    const bodies = rows.map((r) => {
      const { id: _id, meta: _meta, ...observation } = JSON.parse(r.content) as Record<string, unknown>;
      return JSON.stringify(observation);
    });
    return [
      {
        method: 'POST',
        path: '/fhir/Observation',
        headers: { 'content-type': 'application/fhir+json' },
        setupRequest: (req) => ({ ...req, body: pick(bodies) }),
      },
    ];
  },
};

export default create;
