/**
 * The équipe-de-soins rules are checked per patient or for a principal's whole list
 * (access/visibility.ts): the links of one patient, and those of one actor, with their periods in
 * the index (index-only scans); the break-glass accesses of one patient.
 */
export const statements = [
  `DROP INDEX care_link_actor`,
  `CREATE INDEX care_link_actor ON care_link (actor, kind, patient) INCLUDE (start, until)`,
  `DROP INDEX care_link_patient`,
  `CREATE INDEX care_link_check ON care_link (patient, kind, actor) INCLUDE (start, until)`,
  `CREATE INDEX break_glass_patient ON break_glass (patient, actor, until)`,
];
