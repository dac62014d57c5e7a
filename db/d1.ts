/** D1 adapter (Workers). Web-standard only: runs in workerd. */
import { is, SQL } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { drizzle } from "drizzle-orm/d1";
import type { Database, Db, Statement } from "./database.ts";
import * as schema from "./schema.ts";

/** The part of the D1 binding drizzle needs; typed loosely so Node type-checks without workers-types. */
type D1Binding = Parameters<typeof drizzle>[0];

export function openD1(binding: D1Binding): Database {
  const d1 = drizzle(binding, { schema });
  return {
    db: d1 as unknown as Db,
    driver: "d1",
    async atomic(statements: Statement[]) {
      if (statements.length === 0) return [];
      // D1 runs a batch as one implicit transaction: a failing statement rolls back all of it.
      const items = statements.map((statement) => (is(statement, SQL) ? d1.run(statement) : statement));
      const results = (await d1.batch(items as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]])) as unknown[];
      return results.map((result) => (result as { meta?: { changes?: number } }).meta?.changes ?? 0);
    },
  };
}
