import type { Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../store/db.js';
import type { NewVersion, StoredVersion } from '../store/resources.js';
import type { Context } from './context.js';

/*
 * What other capabilities do when a resource is written, whichever interaction (or package, or
 * the server's own work) writes it: the write path (write.ts, persist) runs each hook of one
 * list, set by the composition root (routes.ts), so that it imports none of them.
 */

/** What the write path runs with. */
export type WriteContext = Pick<Context, 'fhirBase' | 'testIdentities' | 'checkWrite' | 'written' | 'access' | 'slotRefresh'>;

/** One write, as its hooks see it. */
export interface HookedWrite {
  tx: Queryable;
  ctx: WriteContext;
  target: { type: string; id: string };
  /** The current version, read FOR UPDATE in `tx`; undefined for a new resource. */
  previous: StoredVersion | undefined;
  /** Writes another resource in the same transaction, through the same path (its hooks included), as the server's own work. */
  write(target: { type: string; id: string }, resource: Resource | null, method: NewVersion['method'], previous?: StoredVersion): Promise<unknown>;
}

export interface WriteHook {
  /** Before the version is built: the resource to store instead of `resource` (itself when unchanged). Throws to refuse. */
  prepare?(w: HookedWrite, resource: Resource | null): Promise<Resource | null> | Resource | null;
  /**
   * Once the version is built and the caller's right to write it checked, before it is stored:
   * checks and writes of its own. `resource` as prepared, `stored` with the server's meta.
   */
  check?(w: HookedWrite, resource: Resource | null, stored: Resource | null): Promise<void>;
  /** Once stored, in the same transaction; `prepared`: the resource as this hook's `prepare` was given it. */
  stored?(w: HookedWrite, stored: Resource | null, prepared: Resource | null): Promise<void>;
}

let hooks: readonly WriteHook[] = [];

/** The hooks every write runs, in this order (the composition root sets them once). */
export function setWriteHooks(list: readonly WriteHook[]): void {
  hooks = list;
}

export const writeHooks = (): readonly WriteHook[] => hooks;
