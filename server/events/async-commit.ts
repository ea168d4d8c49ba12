/**
 * A CTE that makes the statement's transaction commit without waiting for the disk
 * (`synchronous_commit = off` for it alone), for delivery's bookkeeping: the matcher's queueing,
 * leases, event numbers, marks of what was delivered. Waiting for the WAL's flush at each of them
 * was most of a notification's time. What it risks is only a crash of PostgreSQL itself losing
 * the last such commits (a fraction of a second, never out of order: the WAL keeps a prefix), after
 * which the events are queued, numbered and sent again as before: at least once, in order, as a
 * crash of the server process already allows. Referenced in a FROM, so that it is evaluated.
 */
export const ASYNC_COMMIT = `async_commit AS (SELECT set_config('synchronous_commit', 'off', true))`;
