/**
 * The équipe-de-soins rules (DOMAIN.md §4.2) as two PL/pgSQL functions that access/visibility.ts
 * calls: for one patient, and as a principal's whole list. Being functions, their statements are
 * planned once per connection; written inline in every search, they were planned again with each
 * statement, which cost more than running them.
 *
 * `actors` are what the principal is (a PractitionerRole, its practitioner and organisation, or an
 * organisation and its roles); `holders` the organisations that hold their patients' records;
 * `glass` the key of the principal's break-glass accesses (null: none); `opposition` false reads
 * past the patient's oppositions (their Consents stay readable, so that they can be withdrawn).
 *
 * A patient is visible when linked to one of the actors (active participant of an active CareTeam,
 * médecin traitant, consent to share, or record held by one of the holders) and not objecting,
 * globally (which spares their médecin traitant) or to one of the actors; or when a break-glass
 * access of the principal is in force.
 */
export const statements = [
  `CREATE FUNCTION patient_visible(patient text, actors text[], holders text[], glass text, opposition boolean)
   RETURNS boolean LANGUAGE plpgsql STABLE AS $$
   BEGIN
     IF glass IS NOT NULL AND EXISTS (SELECT 1 FROM break_glass b WHERE b.patient = patient_visible.patient AND b.actor = glass AND b.until > now()) THEN
       RETURN true;
     END IF;
     IF NOT EXISTS (
       SELECT 1 FROM care_link l WHERE l.patient = patient_visible.patient AND l.actor = ANY(actors) AND l.start <= now() AND l.until > now()
          AND (l.kind IN ('member', 'pcp', 'permit') OR (l.kind = 'holder' AND l.actor = ANY(holders)))
     ) THEN
       RETURN false;
     END IF;
     RETURN NOT opposition OR NOT EXISTS (
       SELECT 1 FROM care_link d WHERE d.patient = patient_visible.patient AND d.kind = 'deny' AND d.start <= now() AND d.until > now()
          AND (d.actor = ANY(actors) OR (d.actor = '*' AND NOT EXISTS (
            SELECT 1 FROM care_link t WHERE t.patient = d.patient AND t.kind = 'pcp' AND t.actor = ANY(actors) AND t.start <= now() AND t.until > now())))
     );
   END $$`,
  `CREATE FUNCTION visible_patients(actors text[], holders text[], glass text, opposition boolean)
   RETURNS SETOF text LANGUAGE plpgsql STABLE AS $$
   BEGIN
     RETURN QUERY
       SELECT l.patient FROM care_link l WHERE l.actor = ANY(actors) AND l.start <= now() AND l.until > now()
          AND (l.kind IN ('member', 'pcp', 'permit') OR (l.kind = 'holder' AND l.actor = ANY(holders)))
       EXCEPT
       -- By actor ('*' being one), so that the actor index finds them, not a scan of every opposition.
       SELECT d.patient FROM care_link d WHERE opposition AND d.kind = 'deny' AND d.actor = ANY(actors || '*'::text) AND d.start <= now() AND d.until > now()
          AND (d.actor <> '*' OR NOT EXISTS (
            SELECT 1 FROM care_link t WHERE t.patient = d.patient AND t.kind = 'pcp' AND t.actor = ANY(actors) AND t.start <= now() AND t.until > now()))
       UNION
       SELECT b.patient FROM break_glass b WHERE b.actor = glass AND b.until > now();
   END $$`,
];
