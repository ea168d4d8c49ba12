/*
 * A worker thread of an import (prepare-pool.ts): it parses, checks and indexes lines as the
 * importing process would, with the profiles and SearchParameters that process had in force when
 * it started the thread.
 */
import { workerData } from 'node:worker_threads';
import { setLoadedSearchParameters } from '../search/parameters.js';
import { Registry } from '../validation/canonicals.js';
import { loadBaseDefinitions } from '../validation/registry.js';
import { prepareLine, type Prepared } from './import-write.js';
import type { PreparationSetup, Line } from './prepare-pool.js';

const setup = workerData as PreparationSetup;
loadBaseDefinitions();
setLoadedSearchParameters(setup.searchParameters);
const registry = new Registry();
for (const h of setup.held) registry.hold(h.key, h.versionId, h.resource);
const profiles = { registry, policy: setup.policy };

/** The lines prepared, each a Prepared or the reason it cannot go in. */
export default function prepare(lines: Line[]): (Prepared | string)[] {
  return lines.map(([n, text]) => prepareLine(text, n, setup.options, profiles));
}
