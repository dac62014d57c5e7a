/** better-sqlite3 adapter (Node only: imported by src/node.ts, the CLI and Node tests). */
import BetterSqlite3 from "better-sqlite3";
import { is, SQL } from "drizzle-orm";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import { fileURLToPath } from "node:url";
import type { Database, Db, Statement } from "./database.ts";
import * as schema from "./schema.ts";

export const migrationsFolder = fileURLToPath(new URL("./migrations", import.meta.url));

export interface SqliteDatabase extends Database {
  readonly sqlite: BetterSqlite3.Database;
  close(): void;
}

/**
 * Opens (or creates) a database file with the settings the ledger relies on: WAL so readers never
 * block the writer, synchronous=FULL so an acknowledged write survives power loss, a busy timeout
 * so several processes can share the file, and foreign keys enforced as on D1.
 */
export function openSqlite(path: string): SqliteDatabase {
  const sqlite = new BetterSqlite3(path);
  if (path !== ":memory:") sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("synchronous = FULL");
  sqlite.pragma("busy_timeout = 5000");
  sqlite.pragma("foreign_keys = ON");
  const db = drizzle(sqlite, { schema }) as unknown as Db;
  return {
    db,
    sqlite,
    driver: "better-sqlite3",
    async atomic(statements: Statement[]) {
      const runAll = sqlite.transaction(() =>
        // On the sync driver every drizzle query, and db.run(sql), executes synchronously.
        statements.map((statement) =>
          is(statement, SQL)
            ? (db.run(statement) as unknown as { changes: number }).changes
            : (statement as unknown as { run(): { changes: number } }).run().changes,
        ),
      );
      return runAll.immediate();
    },
    close: () => sqlite.close(),
  };
}

/** Applies db/migrations (drizzle-kit's output, the same files wrangler applies to D1). */
export function migrateSqlite(database: SqliteDatabase): void {
  migrate(drizzle(database.sqlite), { migrationsFolder });
}
