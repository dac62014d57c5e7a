/** D1 adapter (Workers). Web-standard only: runs in workerd. */
import { drizzle } from "drizzle-orm/d1";
import { SQLiteAsyncDialect } from "drizzle-orm/sqlite-core";
import { renderStatement, type Database, type Db, type Statement } from "./database.ts";
import * as schema from "./schema.ts";

/** The part of the D1 binding drizzle needs; typed loosely so Node type-checks without workers-types. */
type D1Binding = Parameters<typeof drizzle>[0];

/** The two calls `atomic` makes on the binding itself. */
interface D1Batcher {
  prepare(query: string): { bind(...values: unknown[]): unknown };
  batch(statements: unknown[]): Promise<Array<{ meta?: { changes?: number } }>>;
}

const dialect = new SQLiteAsyncDialect();

export function openD1(binding: D1Binding): Database {
  const d1 = drizzle(binding, { schema });
  const raw = binding as unknown as D1Batcher;
  return {
    db: d1 as unknown as Db,
    driver: "d1",
    async atomic(statements: Statement[]) {
      if (statements.length === 0) return [];
      // D1 runs a batch as one implicit transaction: a failing statement rolls back all of it.
      // The batch is built on the binding, not with drizzle's batch(): drizzle's D1 batch binds
      // parameters through a prepared query's `stmt`, which db.run(sql`…`) items lack, so any raw
      // SQL statement with a parameter failed there ("Cannot read properties of undefined").
      const prepared = statements.map((statement) => {
        const query = renderStatement(dialect, statement);
        return raw.prepare(query.sql).bind(...query.params);
      });
      const results = await raw.batch(prepared);
      return results.map((result) => result.meta?.changes ?? 0);
    },
  };
}
