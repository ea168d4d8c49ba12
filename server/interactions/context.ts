import type { Resource } from '@medplum/fhirtypes';
import type { AccessRecord } from '../audit/event.js';
import type { Logger } from 'pino';
import type { AccessRules } from '../access/rules.js';
import type { Access } from '../auth/tokens.js';
import type { Database, Queryable } from '../store/db.js';
import type { StoredVersion } from '../store/resources.js';
import { parseExact } from '../fhir/exact-json.js';

/** What every interaction runs with: the database, and the transaction a Bundle may have open. */
export interface Context {
  db: Database;
  /** Set while a transaction Bundle runs: every interaction then joins it instead of opening one. */
  tx?: Queryable;
  /** The public origin, e.g. http://localhost:8080: the authorization server's endpoints are under it. */
  origin: string;
  /** The FHIR base, e.g. http://localhost:8080/fhir: what fullUrls, Locations and references name. */
  fhirBase: string;
  log: Logger;
  /** Whether tokens are required (AUTH=on); /metadata then advertises the OAuth endpoints. */
  authEnabled: boolean;
  /** What the caller's access token allows; absent only when the server runs with AUTH=off. */
  access?: Access;
  /** The caller's network address, as the trail records it (the client agent's `network.address`). */
  address?: string;
  /** The équipe-de-soins rules' configuration (none configured: no record holder, no system client's patient). */
  rules?: AccessRules;
  /** Where accesses are traced (AUTH=on). */
  audit?: AuditSink;
  /** Whether INS on the test and demo OIDs are accepted (a test or demo configuration). */
  testIdentities?: boolean;
  /**
   * What the caller may write, checked by the write path (write.ts, persist) on each version as it
   * will be stored (references resolved, a patch applied) against the current one: set by the
   * guard (access/guard.ts) for the write it lets through. Throws to refuse.
   */
  checkWrite?: (tx: Queryable, previous: StoredVersion | undefined, next: Resource | null) => Promise<void>;
  /** How deep the JSON of a body may nest (MAX_JSON_DEPTH; absent: its default), a JSON Patch in a Bundle's Binary included. */
  maxJsonDepth?: number;
  /**
   * Resolves once every server process has heard the writes committed so far (events/feed.ts
   * barrier): run before the response to a write of what processes cache. Absent: no change feed.
   */
  heardEverywhere?: () => Promise<void>;
  /** Milliseconds after which a Slot not written again is stale: not offered, not booked (absent: never). */
  slotRefresh?: number;
  /** The types the request wrote, as persist writes them (shared by the entries of a Bundle). */
  written?: Set<string>;
}

/** What every request of this server runs with before its caller is known (and the server's own work with). */
export type ServerContext = Omit<Context, 'log' | 'access'>;

/** Takes the records of accesses that wrote nothing, to store them soon after (see audit/log.ts). */
export interface AuditSink {
  queue(record: AccessRecord): void;
  /** Stores what is queued; resolves once it is. */
  flush(): Promise<void>;
  /** Runs a traced interaction: closing waits for it, and for its record. */
  during<T>(fn: () => Promise<T>): Promise<T>;
}

export interface Prefer {
  return?: 'minimal' | 'representation' | 'OperationOutcome';
  handling?: 'strict' | 'lenient';
}

/** A FHIR interaction request, whether it came over HTTP or as a Bundle entry. */
export interface FhirRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path segments under the base, decoded: ['Patient', '123', '_history', '2'] */
  path: string[];
  query: URLSearchParams;
  ifMatch?: string;
  ifNoneMatch?: string;
  ifModifiedSince?: string;
  ifNoneExist?: string;
  /** The id a created resource gets: set by a transaction, which rewrites references to it beforehand. */
  assignedId?: string;
  prefer: Prefer;
  contentType?: string;
  body?: unknown;
}

export interface FhirResponse {
  status: number;
  /** The body: a resource, a Bundle or an OperationOutcome. */
  resource?: Resource;
  /** The body already serialised (a stored resource read as is); wins over `resource`. */
  raw?: string;
  version?: number;
  lastUpdated?: Date;
  location?: string;
  /**
   * What an operation's output disclosed, for the audit trail, where its body does not say it in
   * FHIR references (recall letters rendered as a PDF): the patients, the versions read, what was made.
   */
  disclosed?: { patients: string[]; resources: string[]; query?: string };
}

/** A response's body as a resource, parsed from its text when it was sent as such. */
export function bodyOf(res: FhirResponse): Resource | undefined {
  return res.raw !== undefined ? (parseExact(res.raw) as Resource) : res.resource;
}

/** Runs fn in the Bundle's transaction when there is one, else in a new database transaction. */
export function inTransaction<T>(ctx: Context, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  return ctx.tx ? fn(ctx.tx) : ctx.db.transaction(fn);
}

/** The connection to read with: the Bundle's transaction (to see its own writes) or the pool. */
export function reader(ctx: Context): Queryable {
  return ctx.tx ?? ctx.db;
}
