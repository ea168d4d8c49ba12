/**
 * The équipe-de-soins check of one patient is now written into each statement (patientSql in
 * access/visibility.ts): as subqueries it costs a tenth of the PL/pgSQL call, and the statements
 * under the rules are prepared, so their text is planned once. The list of a principal's patients
 * stays a function (visible_patients, computed once per statement).
 */
export const statements = ['DROP FUNCTION patient_visible(text, text[], text[], text, boolean)'];
