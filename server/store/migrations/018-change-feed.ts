/**
 * The change feed: one row per committed write of a resource (create, update, patch, delete), in
 * the transaction of the write, with the patients the version concerns (a tombstone, those of the
 * version it deletes). `xid` orders what readers may take: a row is final once its transaction is
 * older than every transaction still running (events/matcher.ts), which a sequence alone
 * cannot say (a lower seq may commit after a higher one). Each statement that appends rows wakes
 * the listening processes with one notification per type written (PostgreSQL folds identical
 * payloads of one transaction into one, delivered at commit).
 *
 * `feed_process`: the server processes listening, so that a write to a cache's types waits until
 * each has heard it (events/feed.ts barrier); `feed_cursor`: how far each durable consumer of the
 * feed has read (the subscriptions' matcher starts at the migration: nothing before is an event).
 *
 * `subscription_state`: what the server keeps of each Subscription besides the resource: whom it
 * belongs to (the client and user that created it, whose rights every notification is judged by at
 * delivery), its event counter, and its delivery state (failures, next attempt, the lease of the
 * process delivering it). `subscription_event`: the durable delivery queue, numbered per
 * subscription without gaps, delivered in that order.
 */
export const statements = [
  `CREATE TABLE change_feed (
     seq bigserial PRIMARY KEY,
     xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
     type text NOT NULL,
     id text NOT NULL,
     version integer NOT NULL,
     interaction text NOT NULL,
     at timestamptz NOT NULL,
     patients text[] NOT NULL
   )`,
  `CREATE INDEX change_feed_xid ON change_feed (xid)`,
  `CREATE FUNCTION change_feed_notify() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     PERFORM pg_notify('maillage_feed', 'change:' || t) FROM (SELECT DISTINCT type AS t FROM appended) s;
     RETURN NULL;
   END $$`,
  `CREATE TRIGGER change_feed_notify AFTER INSERT ON change_feed REFERENCING NEW TABLE AS appended
     FOR EACH STATEMENT EXECUTE FUNCTION change_feed_notify()`,
  `CREATE TABLE feed_process (id text PRIMARY KEY, heartbeat timestamptz NOT NULL)`,
  `CREATE TABLE feed_cursor (name text PRIMARY KEY, horizon xid8 NOT NULL)`,
  `INSERT INTO feed_cursor (name, horizon) VALUES ('subscriptions', pg_snapshot_xmin(pg_current_snapshot()))`,
  // The transactions at or above a cursor's horizon already read: a long transaction holds the
  // horizon back, not the changes committed after it began.
  `CREATE TABLE feed_cursor_seen (name text NOT NULL, xid xid8 NOT NULL, PRIMARY KEY (name, xid))`,
  `CREATE TABLE subscription_state (
     id text PRIMARY KEY,
     owner jsonb,
     events bigint NOT NULL DEFAULT 0,
     failures integer NOT NULL DEFAULT 0,
     next_attempt timestamptz NOT NULL DEFAULT now(),
     lease_owner text,
     lease_until timestamptz,
     error text
   )`,
  `CREATE TABLE subscription_event (
     subscription text NOT NULL,
     number bigint NOT NULL,
     seq bigint NOT NULL,
     type text NOT NULL,
     id text NOT NULL,
     version integer NOT NULL,
     interaction text NOT NULL,
     at timestamptz NOT NULL,
     delivered timestamptz,
     outcome text,
     PRIMARY KEY (subscription, number)
   )`,
  // The tokens a websocket binds to a subscription with ($get-ws-binding-token): their digests only.
  `CREATE TABLE subscription_ws_token (digest text PRIMARY KEY, subscription text NOT NULL, expires timestamptz NOT NULL)`,
  `CREATE INDEX subscription_event_pending ON subscription_event (subscription, number) WHERE delivered IS NULL`,
];
