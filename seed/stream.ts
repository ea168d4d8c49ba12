import type { Resource } from '@medplum/fhirtypes';
import type { Logger } from 'pino';
import type { Database } from '../server/store/db.js';
import { putAll } from '../server/put-all.js';
import { GENERATED } from './load.js';
import { generateTerritory, type TerritoryOptions } from './territory.js';

/** Resources per database transaction: big enough to amortise the commit, small enough to stream. */
const BATCH = 500;

export interface StreamResult {
  resources: number;
  patients: number;
  seconds: number;
}

/**
 * Streams a generated territory into the database through the server's write path, in
 * transactions of about BATCH resources, several at once on PostgreSQL (PGlite has one connection).
 * Memory stays bounded: at most `concurrency` batches exist at a time.
 */
export async function streamTerritory(
  db: Database,
  origin: string,
  log: Logger,
  options: TerritoryOptions,
  onPatients: (done: number) => void = () => undefined,
): Promise<StreamResult> {
  const concurrency = db.kind === 'postgres' ? 4 : 1;
  const started = Date.now();
  const inFlight = new Set<Promise<void>>();
  let resources = 0;
  let patients = 0;
  let batch: Resource[] = [];
  let batchPatients = 0;
  const flush = async () => {
    const [rows, count] = [batch, batchPatients];
    batch = [];
    batchPatients = 0;
    const write = db
      .transaction((tx) => putAll(db, tx, origin, log, rows, GENERATED))
      .then(() => {
        resources += rows.length;
        patients += count;
        onPatients(patients);
      });
    inFlight.add(write);
    void write.finally(() => inFlight.delete(write));
    if (inFlight.size >= concurrency) await Promise.race(inFlight);
  };
  for (const group of generateTerritory(options)) {
    batch.push(...group);
    if (group[0]?.resourceType === 'Patient') batchPatients++;
    if (batch.length >= BATCH) await flush();
  }
  if (batch.length) await flush();
  await Promise.all(inFlight);
  return { resources, patients, seconds: (Date.now() - started) / 1000 };
}
