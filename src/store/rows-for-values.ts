/** Reads rows for a long list of values in one statement, whatever D1's limit on bound parameters. */
import { sql, type SQL } from "drizzle-orm";
import type { Deps } from "../deps.ts";

/**
 * Rows of `query` for a set of values passed as one JSON parameter (D1 binds at most 100 per
 * statement): `query` receives `(SELECT value FROM json_each(?))` to use after IN.
 */
export async function rowsForValues<Row>(deps: Deps, values: Iterable<string>, query: (list: SQL) => SQL): Promise<Row[]> {
  const list = [...new Set(values)];
  if (list.length === 0) return [];
  return (await deps.database.db.all(query(sql`(SELECT value FROM json_each(${JSON.stringify(list)}))`))) as Row[];
}
