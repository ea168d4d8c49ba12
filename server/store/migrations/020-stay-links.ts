/**
 * The stays (Encounters) link their patient to the structure that holds their record, their
 * `serviceProvider` (access/care-links.ts, stayLinks): a `holder` link while the stay is planned
 * or under way, and 30 days after its end. The links of the Encounters already stored are built
 * here, as stayLinks builds them (relative references, which is what Maillage writes).
 */
const END = `coalesce(c->'period'->>'end', c->'period'->>'start')`;

export const statements = [
  `INSERT INTO care_link (rid, patient, kind, actor, start, until)
   SELECT r.rid, split_part(c->'subject'->>'reference', '/', 2), 'holder', c->'serviceProvider'->>'reference', '-infinity',
          CASE WHEN c->>'status' = 'finished'
               THEN (${END})::timestamptz + interval '1 day' * (length(${END}) = 10)::int + interval '30 days'
               ELSE 'infinity' END
     FROM resource r, LATERAL (SELECT r.content::jsonb AS c) j
    WHERE r.type = 'Encounter' AND NOT r.deleted
      AND c->'subject'->>'reference' LIKE 'Patient/%' AND c->'serviceProvider'->>'reference' LIKE 'Organization/%'
      AND (c->>'status' IN ('planned', 'arrived', 'triaged', 'in-progress', 'onleave') OR (c->>'status' = 'finished' AND ${END} IS NOT NULL))`,
];
