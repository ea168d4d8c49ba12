/**
 * Topic-based subscriptions (R4 Backport IG, events/topics.ts).
 *
 * `topic_subscription`: what the server keeps of a Subscription whose criteria is a topic: the
 * topic, how many events were notified since it started (the backport's
 * eventsSinceSubscriptionStart: each notified event takes the next number, at delivery, so that
 * the numbers the subscriber sees have no gaps), its heartbeat period and when it last heard from
 * us, and whether a handshake is owed (a rest-hook subscription written `requested`), with the
 * lease of the process making it (another takes it over once it ran out).
 * `subscription_event.event_number`: that number, kept with the queued event ($events replays by it).
 *
 * `time_event_raised`: the time-based events already raised (a Task past its due date, a care
 * plan activity falling due), so that each is raised once, whichever process finds it.
 */
export const statements = [
  `CREATE TABLE topic_subscription (
     id text PRIMARY KEY,
     topic text NOT NULL,
     notified bigint NOT NULL DEFAULT 0,
     heartbeat_seconds integer,
     last_sent timestamptz NOT NULL DEFAULT now(),
     handshake_due boolean NOT NULL DEFAULT false,
     handshake_until timestamptz
   )`,
  `CREATE INDEX topic_subscription_handshake ON topic_subscription (id) WHERE handshake_due`,
  `ALTER TABLE subscription_event ADD COLUMN event_number bigint`,
  `CREATE UNIQUE INDEX subscription_event_number ON subscription_event (subscription, event_number) WHERE event_number IS NOT NULL`,
  `CREATE TABLE time_event_raised (
     topic text NOT NULL,
     type text NOT NULL,
     id text NOT NULL,
     due text NOT NULL,
     raised timestamptz NOT NULL DEFAULT now(),
     PRIMARY KEY (topic, type, id, due)
   )`,
];
