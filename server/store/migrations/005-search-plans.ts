/**
 * Indexes and statistics that search plans need, found with EXPLAIN on 300,000 resources.
 *
 * - `resource_live`: the live resources of a type in row id order, which is the default page
 *   order: a page of a common match (`CarePlan?status=active`) is then a merge of two index-only
 *   scans that stops after `_count` rows, instead of a join over every match and a sort.
 * - `sp_token_match` replaces `sp_token_code`: with `rid` right after the code, the rows of one
 *   code come in row id order for that merge; `system` is included for index-only matching.
 * - `resource_live_updated`: `_lastUpdated` searches and their counts from the index alone.
 * - Numbers and quantities are matched on their [low, high] range (see sql.ts), which the
 *   indexes on `value` did not serve: indexes on low and high replace them, as for dates.
 * - Extended statistics: type, param and code are strongly correlated (`param = 'status'` only on
 *   some types); without them the planner estimates a few dozen rows for thousands and picks
 *   nested loops over every match.
 */
export const statements = [
  `CREATE INDEX resource_live ON resource (type, rid) WHERE NOT deleted`,
  `CREATE INDEX resource_live_updated ON resource (type, last_updated) WHERE NOT deleted`,
  `DROP INDEX sp_token_code`,
  `CREATE INDEX sp_token_match ON sp_token (type, param, code, rid) INCLUDE (system)`,
  ...['number', 'quantity'].flatMap((t) => [
    `DROP INDEX sp_${t}_value`,
    `CREATE INDEX sp_${t}_low ON sp_${t} (type, param, low)`,
    `CREATE INDEX sp_${t}_high ON sp_${t} (type, param, high)`,
  ]),
  `CREATE STATISTICS sp_token_stats (mcv, dependencies) ON type, param, code FROM sp_token`,
  `CREATE STATISTICS sp_reference_stats (mcv, dependencies) ON type, param, target_type FROM sp_reference`,
  `CREATE STATISTICS sp_quantity_stats (mcv, dependencies) ON type, param, code FROM sp_quantity`,
  ...['string', 'date', 'number', 'uri', 'text'].map((t) => `CREATE STATISTICS sp_${t}_stats (dependencies) ON type, param FROM sp_${t}`),
];
