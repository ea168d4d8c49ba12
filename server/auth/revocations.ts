import type { Queryable } from '../store/db.js';
import { listRevoked, revoke } from '../store/oauth-grants.js';

/** How stale this process's copy of the revocation list may be: how late another process's revocation bites here. */
const FRESH_MS = 1000;

/**
 * Revoked token and grant ids, kept in memory and reloaded from the database at most once a
 * second, so that checking a token costs no query. A revocation made by this process applies
 * at once; one made by another process, within a second. The list stays short: entries go
 * when the tokens they cover would have expired anyway.
 */
export class Revocations {
  private ids = new Set<string>();
  /** This process's own revocations, kept across reloads (a reload may have read before them). */
  private readonly own = new Map<string, number>();
  private loadedAt = 0;
  private loading?: Promise<void>;

  constructor(private readonly db: Queryable) {}

  async anyRevoked(ids: string[]): Promise<boolean> {
    if (Date.now() - this.loadedAt > FRESH_MS) {
      this.loading ??= this.load().finally(() => (this.loading = undefined));
      await this.loading;
    }
    return ids.some((id) => this.ids.has(id));
  }

  async revoke(id: string, expiresAt: Date): Promise<void> {
    await revoke(this.db, id, expiresAt);
    this.own.set(id, expiresAt.getTime());
    this.ids.add(id);
  }

  private async load(): Promise<void> {
    const started = Date.now();
    const ids = new Set(await listRevoked(this.db));
    for (const [id, expires] of this.own) {
      if (expires < started) this.own.delete(id);
      else ids.add(id);
    }
    this.ids = ids;
    this.loadedAt = started;
  }
}
