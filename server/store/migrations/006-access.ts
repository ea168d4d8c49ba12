/**
 * Équipe-de-soins access rules (DOMAIN.md §4.2).
 *
 * - `care_link`: who is linked to which patient, and from when to when, as the resources that say
 *   so were last written (one set of rows per CareTeam, Consent or Patient, replaced with it):
 *   `member` and `pcp` (médecin traitant) participants of an active CareTeam, `holder` for the
 *   organisation managing the record, `permit` for a consent to share with an actor, `deny` for an
 *   opposition (actor `*`: global). Searches join it to decide what each caller sees.
 * - `break_glass`: emergency accesses, each with its reason and end.
 * - The links of the CareTeams and Consents already stored are built here (relative references,
 *   which is what Maillage writes and the demo holds).
 */
const ACTIVE_PERIOD = (p: string) =>
  `coalesce((${p}->>'start')::timestamptz, '-infinity'), coalesce((${p}->>'end')::timestamptz + interval '1 day' * (length(${p}->>'end') = 10)::int, 'infinity')`;

export const statements = [
  `CREATE TABLE care_link (
     rid bigint NOT NULL,
     patient text NOT NULL,
     kind text NOT NULL,
     actor text NOT NULL,
     start timestamptz NOT NULL,
     until timestamptz NOT NULL
   )`,
  `CREATE INDEX care_link_actor ON care_link (actor, kind, patient)`,
  `CREATE INDEX care_link_patient ON care_link (patient, kind)`,
  `CREATE INDEX care_link_rid ON care_link (rid)`,
  `CREATE TABLE break_glass (
     id text PRIMARY KEY,
     actor text NOT NULL,
     patient text NOT NULL,
     reason text NOT NULL,
     started timestamptz NOT NULL,
     until timestamptz NOT NULL
   )`,
  `CREATE INDEX break_glass_actor ON break_glass (actor, until)`,
  `INSERT INTO care_link (rid, patient, kind, actor, start, until)
   SELECT r.rid, split_part(c->'subject'->>'reference', '/', 2),
          CASE WHEN p->'role' @> '[{"coding":[{"code":"PCP"}]}]' THEN 'pcp' ELSE 'member' END,
          p->'member'->>'reference', ${ACTIVE_PERIOD("p->'period'")}
     FROM resource r, LATERAL (SELECT r.content::jsonb AS c) j, jsonb_array_elements(coalesce(c->'participant', '[]')) p
    WHERE r.type = 'CareTeam' AND NOT r.deleted AND c->>'status' = 'active'
      AND c->'subject'->>'reference' LIKE 'Patient/%' AND p->'member'->>'reference' IS NOT NULL`,
  `INSERT INTO care_link (rid, patient, kind, actor, start, until)
   SELECT r.rid, split_part(c->'subject'->>'reference', '/', 2), 'holder', o->>'reference', ${ACTIVE_PERIOD("c->'period'")}
     FROM resource r, LATERAL (SELECT r.content::jsonb AS c) j, jsonb_array_elements(coalesce(c->'managingOrganization', '[]')) o
    WHERE r.type = 'CareTeam' AND NOT r.deleted AND c->>'status' = 'active'
      AND c->'subject'->>'reference' LIKE 'Patient/%' AND o->>'reference' IS NOT NULL`,
  `INSERT INTO care_link (rid, patient, kind, actor, start, until)
   SELECT r.rid, split_part(c->'patient'->>'reference', '/', 2), d->>'type', coalesce(a->'reference'->>'reference', '*'), ${ACTIVE_PERIOD("d->'period'")}
     FROM resource r, LATERAL (SELECT r.content::jsonb AS c) j,
          LATERAL (SELECT c->'provision' AS d UNION ALL SELECT jsonb_array_elements(coalesce(c->'provision'->'provision', '[]'))) prov(d)
          LEFT JOIN LATERAL jsonb_array_elements(coalesce(d->'actor', '[]')) a ON true
    WHERE r.type = 'Consent' AND NOT r.deleted AND c->>'status' = 'active' AND c->'patient'->>'reference' LIKE 'Patient/%'
      AND ((d->>'type' = 'deny' AND (a IS NOT NULL OR d = c->'provision')) OR (d->>'type' = 'permit' AND a->'reference'->>'reference' IS NOT NULL))`,
];
