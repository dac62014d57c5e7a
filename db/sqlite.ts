/** better-sqlite3 adapter (Node only: imported by src/node.ts, the CLI and Node tests). */
import BetterSqlite3 from "better-sqlite3";
import { is, SQL } from "drizzle-orm";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import { fileURLToPath } from "node:url";
import type { Database, Db, Statement } from "./database.ts";
import * as schema from "./schema.ts";

export const migrationsFolder = fileURLToPath(new URL("./migrations", import.meta.url));

/** At most this many units share one commit, so a burst never makes one request wait long. */
const MAX_UNITS_PER_COMMIT = 256;
const STATEMENT_CACHE_SIZE = 512;

export interface SqliteDatabase extends Database {
  readonly sqlite: BetterSqlite3.Database;
  close(): void;
}

/**
 * drizzle prepares every query afresh; compiling SQL was the largest single cost of a purchase.
 * Statements are reused by their text (least recently used dropped first). Reuse is safe because
 * better-sqlite3 runs each to completion synchronously; raw mode is reset for each new caller.
 */
function cacheStatements(sqlite: BetterSqlite3.Database) {
  const prepare = sqlite.prepare.bind(sqlite);
  const cache = new Map<string, BetterSqlite3.Statement>();
  sqlite.prepare = ((source: string) => {
    let statement = cache.get(source);
    if (statement) {
      cache.delete(source);
    } else {
      statement = prepare(source);
      if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
    }
    cache.set(source, statement);
    if (statement.reader) statement.raw(false);
    return statement;
  }) as typeof sqlite.prepare;
}

interface PendingUnit {
  statements: Statement[];
  resolve(changes: number[]): void;
  reject(error: unknown): void;
}

/**
 * Opens (or creates) a database file with the settings the ledger relies on: WAL so readers never
 * block the writer, synchronous=FULL so an acknowledged write survives power loss, a busy timeout
 * so several processes can share the file, and foreign keys enforced as on D1.
 *
 * Writes use group commit: the units that arrive while the event loop is busy are written in one
 * IMMEDIATE transaction, each inside its own savepoint (a failing unit rolls back alone), and
 * become durable with one fsync. A unit's promise settles only after that commit.
 */
export function openSqlite(path: string): SqliteDatabase {
  const sqlite = new BetterSqlite3(path);
  if (path !== ":memory:") sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("synchronous = FULL");
  sqlite.pragma("busy_timeout = 10000");
  sqlite.pragma("foreign_keys = ON");
  cacheStatements(sqlite);
  const db = drizzle(sqlite, { schema }) as unknown as Db;

  // On the sync driver every drizzle query, and db.run(sql), executes synchronously.
  const execute = (statement: Statement) =>
    is(statement, SQL) ? (db.run(statement) as unknown as { changes: number }).changes : (statement as unknown as { run(): { changes: number } }).run().changes;

  const queue: PendingUnit[] = [];
  let scheduled = false;

  function commitQueued() {
    scheduled = false;
    const units = queue.splice(0, MAX_UNITS_PER_COMMIT);
    if (queue.length) schedule();
    const outcomes: Array<{ changes: number[] } | { error: unknown }> = [];
    try {
      sqlite.exec("BEGIN IMMEDIATE");
      for (const unit of units) {
        sqlite.exec("SAVEPOINT unit");
        try {
          outcomes.push({ changes: unit.statements.map(execute) });
          sqlite.exec("RELEASE unit");
        } catch (error) {
          sqlite.exec("ROLLBACK TO unit");
          sqlite.exec("RELEASE unit");
          outcomes.push({ error });
        }
      }
      sqlite.exec("COMMIT");
    } catch (error) {
      // BEGIN or COMMIT failed (e.g. the disk): nothing of this group is acknowledged.
      if (sqlite.inTransaction) sqlite.exec("ROLLBACK");
      for (const unit of units) unit.reject(error);
      return;
    }
    units.forEach((unit, i) => {
      const outcome = outcomes[i]!;
      if ("error" in outcome) unit.reject(outcome.error);
      else unit.resolve(outcome.changes);
    });
  }

  function schedule() {
    if (scheduled) return;
    scheduled = true;
    setImmediate(commitQueued);
  }

  return {
    db,
    sqlite,
    driver: "better-sqlite3",
    atomic(statements: Statement[]) {
      return new Promise<number[]>((resolve, reject) => {
        queue.push({ statements, resolve, reject });
        schedule();
      });
    },
    close: () => {
      if (queue.length) commitQueued();
      sqlite.close();
    },
  };
}

/** Applies db/migrations (drizzle-kit's output, the same files wrangler applies to D1). */
export function migrateSqlite(database: SqliteDatabase): void {
  migrate(drizzle(database.sqlite), { migrationsFolder });
}
