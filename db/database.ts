/**
 * The storage seam both runtimes plug into: a drizzle database plus `atomic`, which runs a list
 * of prepared statements as one unit — one IMMEDIATE transaction on better-sqlite3, one batch()
 * on D1. D1 has no interactive transactions, so every write path is built first (reads, pure
 * decisions) and then executed as such a list; guards live in SQL so a lost race aborts it whole.
 */
import type { BatchItem } from "drizzle-orm/batch";
import type { BaseSQLiteDatabase } from "drizzle-orm/sqlite-core";
import type * as schema from "./schema.ts";

export type Schema = typeof schema;

// Both drivers share drizzle's SQLite query builder; only the result mode differs, and every
// caller awaits, which works for both.
export type Db = BaseSQLiteDatabase<"sync" | "async", unknown, Schema>;

export type Statement = BatchItem<"sqlite">;

export interface Database {
  readonly db: Db;
  readonly driver: "better-sqlite3" | "d1";
  /** Runs every statement or none. Throws the first failure after rolling everything back. */
  atomic(statements: Statement[]): Promise<void>;
}
