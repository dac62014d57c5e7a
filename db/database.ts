/**
 * The storage seam both runtimes plug into: a drizzle database plus `atomic`, which runs a list
 * of prepared statements as one unit — one IMMEDIATE transaction on better-sqlite3, one batch()
 * on D1. D1 has no interactive transactions, so every write path is built first (reads, pure
 * decisions) and then executed as such a list; guards live in SQL so a lost race aborts it whole.
 */
import type { BatchItem } from "drizzle-orm/batch";
import { is, SQL } from "drizzle-orm";
import type { BaseSQLiteDatabase, SQLiteDialect } from "drizzle-orm/sqlite-core";
import type * as schema from "./schema.ts";

export type Schema = typeof schema;

// Both drivers share drizzle's SQLite query builder; only the result mode differs, and every
// caller awaits, which works for both.
export type Db = BaseSQLiteDatabase<"sync" | "async", unknown, Schema>;

/**
 * A query builder, or raw SQL for set-based steps the builder cannot express (e.g. drawing points
 * from lots earliest-expiry first, computed from the rows as they are when the unit runs).
 */
export type Statement = BatchItem<"sqlite"> | SQL | RenderedStatement;

export interface Database {
  readonly db: Db;
  readonly driver: "better-sqlite3" | "d1";
  /**
   * Runs every statement or none. Throws the first failure after rolling everything back.
   * Resolves to the rows each statement changed, so a conditional UPDATE can tell it lost a race.
   */
  atomic(statements: Statement[]): Promise<number[]>;
}

/** A statement as SQL text and driver values, ready for a binding or another thread. */
export interface RenderedStatement {
  sql: string;
  params: unknown[];
}

/**
 * SQL text with its parameters, as written. For bulk writes (a recompute writing a million scores)
 * where building each row through drizzle would cost more than the write itself.
 */
export function isRendered(statement: Statement): statement is RenderedStatement {
  return typeof (statement as { sql?: unknown }).sql === "string";
}

const textOfSite = new WeakMap<TemplateStringsArray, string>();

/** What SQLite binds: both drivers take these as they are. */
export type SqlValue = string | number | bigint | null;

/**
 * A statement written as SQL text, rendered as it is built: `rendered\`UPDATE t SET a = ${a}
 * WHERE id = ${id}\`` binds each value as a parameter, and splices a nested rendered statement in
 * with its parameters. Tables and columns are named in the text. It is for the statements every
 * purchase runs: drizzle's `sql` renders its chunks again on each execution, which was a tenth of a
 * purchase's CPU; here a call site's text is joined once.
 */
export function rendered(strings: TemplateStringsArray, ...values: Array<SqlValue | RenderedStatement>): RenderedStatement {
  if (!values.some((value) => value !== null && typeof value === "object")) {
    let text = textOfSite.get(strings);
    if (text === undefined) textOfSite.set(strings, (text = strings.join("?")));
    return { sql: text, params: values };
  }
  let text = strings[0]!;
  const params: unknown[] = [];
  values.forEach((value, i) => {
    if (value !== null && typeof value === "object") {
      if (!isRendered(value)) throw new TypeError("rendered`…` takes values and rendered statements, not drizzle SQL or columns");
      text += value.sql;
      params.push(...value.params);
    } else {
      text += "?";
      params.push(value);
    }
    text += strings[i + 1]!;
  });
  return { sql: text, params };
}

export function renderStatement(dialect: SQLiteDialect, statement: Statement): RenderedStatement {
  if (isRendered(statement)) return statement;
  return is(statement, SQL) ? dialect.sqlToQuery(statement) : (statement as unknown as { toSQL(): RenderedStatement }).toSQL();
}

/** The messages of an error and its causes (drizzle wraps driver errors; D1 prefixes its own). */
function messagesOf(error: unknown): string[] {
  const out: string[] = [];
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) out.push(e.message);
  return out;
}

/** True when a write failed on a SQL guard of that kind, whichever driver reported it. */
export function isConstraintViolation(error: unknown, kind: "UNIQUE" | "CHECK" | "FOREIGN KEY", detail?: string): boolean {
  return messagesOf(error).some((m) => m.includes(`${kind} constraint failed`) && (!detail || m.includes(detail)));
}

const preparedByDb = new WeakMap<Db, Map<string, unknown>>();

/**
 * A query prepared once per database and reused. drizzle generates a query's SQL on every run,
 * about 40 µs for a select (measured on this project); a purchase runs a dozen of them, so the
 * hot paths prepare theirs with sql.placeholder() parameters instead.
 */
export function prepared<T>(db: Db, name: string, build: (db: Db) => T): T {
  let cache = preparedByDb.get(db);
  if (!cache) preparedByDb.set(db, (cache = new Map()));
  let query = cache.get(name) as T | undefined;
  if (query === undefined) cache.set(name, (query = build(db)));
  return query;
}
