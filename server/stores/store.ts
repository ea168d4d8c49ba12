import type { CapabilityStatementRestResource } from '@medplum/fhirtypes';
import type { SearchResult } from '../search/execute.js';
import type { SearchParam } from '../search/parameters.js';
import type { SearchRequest, SearchSupport } from '../search/parse.js';
import type { Visibility } from '../access/visibility.js';
import type { Queryable } from '../store/db.js';
import type { HistoryEntry, HistoryQuery, StoredVersion, VersionCondition } from '../store/resources.js';

/**
 * One kind of storage the FHIR interactions read: the resource tables, or a type kept apart in
 * its own (the audit trail: audit/trail-store.ts). Chosen by type where a request meets it
 * (storeFor), so that no interaction asks which one it reads. `visibility` is whom the
 * équipe-de-soins rules show what to (null: no rule applies).
 */
export interface Store {
  /** The types it holds, when kept apart; undefined: the resource tables, every other type. */
  types?: string[];
  /** Why its types are searched on their own (never with other types, nor by their _has or _revinclude), when they are kept apart. */
  apart?: string;
  /** Why the API writes none of its types (405), when it writes none. */
  readOnly?: string;
  /**
   * Whether each version is judged on its own, on the patients it names (vread and history:
   * versionRules); else a resource has one version, judged as a read of it is.
   */
  judgesVersions: boolean;

  /** The current version (or tombstone). */
  read(q: Queryable, type: string, id: string): Promise<StoredVersion | undefined>;
  /** The current version (undefined: none), and whether the rules let `visibility` see it: one statement, as every read by id runs it. */
  readIfVisible(q: Queryable, type: string, id: string, visibility: Visibility | null): Promise<(StoredVersion & { visible: boolean }) | undefined>;
  /** The ids among `ids` of the live resources the rules let `visibility` see. */
  visibleIds(q: Queryable, type: string, ids: string[], visibility: Visibility | null): Promise<string[]>;
  /** One version (or tombstone), and whether it meets `visible`. */
  version(q: Queryable, type: string, id: string, version: number, visible?: VersionCondition): Promise<(HistoryEntry & { visible: boolean }) | undefined>;
  /** Whether `type/id` ever existed (undefined: never), and then whether some version of it meets `visible`. */
  someVersionVisible(q: Queryable, type: string, id: string, visible?: VersionCondition): Promise<boolean | undefined>;
  /**
   * History newest first: each version meets `visible` where versions are judged on their own,
   * else each resource is one `visibility` may see.
   */
  history(q: Queryable, h: HistoryQuery & { visibility: Visibility | null }): Promise<{ entries: HistoryEntry[]; total?: number }>;
  search(q: Queryable, req: SearchRequest, fhirBase: string, visibility: Visibility | null): Promise<SearchResult>;
  /** What it cannot search on that the engine parses (parseSearch asks it); undefined: all of it. */
  searchSupport?: SearchSupport;
  /** Whether /metadata lists `param` among those its types are searched on. */
  searches(param: SearchParam): boolean;
  /** Its types' entry in /metadata, from the one a type of the resource tables gets. */
  describe(resource: CapabilityStatementRestResource): CapabilityStatementRestResource;
}
