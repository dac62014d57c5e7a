/** Whether the database answers: the one query behind GET /health. */
import { sql } from "drizzle-orm";
import type { Deps } from "../../deps.ts";

/** Runs `select 1`; throws when the database does not answer. */
export async function pingDatabase(deps: Pick<Deps, "database">): Promise<void> {
  await deps.database.db.run(sql`select 1`);
}
