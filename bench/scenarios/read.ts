import type { Scenario } from '../harness/scenario.js';
import { pick } from '../harness/scenario.js';

/** GET [type]/[id] of a resource drawn at random from the whole data set. */
const read: Scenario = {
  name: 'read',
  title: 'read by id: GET [type]/[id], any stored resource at random',
  ceiling: true,
  async prepare({ db }) {
    const { rows } = await db.query<{ path: string }>(`SELECT '/fhir/' || type || '/' || id AS path FROM resource WHERE NOT deleted`);
    const paths = rows.map((r) => r.path);
    return [{ method: 'GET', setupRequest: (req) => ({ ...req, path: pick(paths) }) }];
  },
};

export default read;
