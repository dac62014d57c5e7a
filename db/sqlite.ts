/** better-sqlite3 adapter (Node only: imported by src/node.ts, the CLI and Node tests). */
import BetterSqlite3 from "better-sqlite3";
import { is, SQL } from "drizzle-orm";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import { SQLiteSyncDialect } from "drizzle-orm/sqlite-core";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { isRendered, renderStatement, type Database, type Db, type Statement } from "./database.ts";
import { createCommitQueue } from "./group-commit.ts";
import * as schema from "./schema.ts";
import type { SentStatement, WriterReply, WriterRequest } from "./writer-protocol.ts";

export const migrationsFolder = fileURLToPath(new URL("./migrations", import.meta.url));

const STATEMENT_CACHE_SIZE = 512;

export interface SqliteDatabase extends Database {
  readonly sqlite: BetterSqlite3.Database;
  /**
   * Runs a named operation on the writer thread, beside the connection that commits it (see
   * OpenOptions.writerTasks). Only a database opened with a writer thread and its tasks has it.
   */
  runTask?(name: string, args: unknown): Promise<unknown>;
  /** Commits what is queued, then closes the file (and the writer thread, if any). */
  close(): Promise<void>;
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

/**
 * A connection with the settings the ledger relies on: WAL so readers never block the writer,
 * synchronous=FULL so an acknowledged write survives power loss, a busy timeout so several
 * processes (and the writer thread) can share the file, and foreign keys enforced as on D1.
 */
function connect(path: string): BetterSqlite3.Database {
  const sqlite = new BetterSqlite3(path);
  if (path !== ":memory:") sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("synchronous = FULL");
  sqlite.pragma("busy_timeout = 10000");
  sqlite.pragma("foreign_keys = ON");
  cacheStatements(sqlite);
  return sqlite;
}

export interface OpenOptions {
  /**
   * Write through a worker thread that owns a second connection: executing the statements and
   * the commit's fsync then no longer hold up the event loop, which keeps serving requests and
   * reading meanwhile (WAL lets readers run beside the writer). For the server; a database in
   * memory cannot be shared with a thread, and short-lived tools gain nothing.
   */
  writerThread?: boolean;
  /**
   * Operations the writer thread runs itself (Database.runTask): a module exporting
   * `startWriterTasks` (see db/writer-protocol.ts), and what it is started with.
   */
  writerTasks?: { module: URL; context: unknown };
}

/** Opens (or creates) a database file; writes are group-committed (see db/group-commit.ts). */
export function openSqlite(path: string, options: OpenOptions = {}): SqliteDatabase {
  const sqlite = connect(path);
  const db = drizzle(sqlite, { schema }) as unknown as Db;
  if (options.writerThread && path !== ":memory:") return withWriterThread(path, sqlite, db, options.writerTasks);

  // On the sync driver every drizzle query, and db.run(sql), executes synchronously.
  const execute = (statement: Statement) => {
    if (isRendered(statement)) return sqlite.prepare(statement.sql).run(...statement.params).changes;
    return is(statement, SQL) ? (db.run(statement) as unknown as { changes: number }).changes : (statement as unknown as { run(): { changes: number } }).run().changes;
  };
  const queue = createCommitQueue(sqlite, execute);
  return {
    db,
    sqlite,
    driver: "better-sqlite3",
    atomic: (statements) => queue.enqueue(statements),
    close: async () => {
      queue.flush();
      sqlite.close();
    },
  };
}

const dialect = new SQLiteSyncDialect();

/** A failure as the writer thread reported it, rebuilt so isConstraintViolation() reads it. */
function rebuiltError(reported: { name: string; message: string; code?: string }) {
  return Object.assign(new Error(reported.message), { name: reported.name, ...(reported.code && { code: reported.code }) });
}

/** Statement texts the writer thread keeps by number; past this, texts go with their units. */
const MAX_NUMBERED_TEXTS = 10_000;

function withWriterThread(path: string, sqlite: BetterSqlite3.Database, db: Db, tasks: OpenOptions["writerTasks"]): SqliteDatabase {
  // The writer is TypeScript like the rest. Loader hooks are per thread, so the thread registers
  // tsx itself (as `npm start` does for the main one) before importing it.
  const entry = JSON.stringify(new URL("./sqlite-writer.ts", import.meta.url).href);
  const tsx = JSON.stringify(import.meta.resolve("tsx/esm/api"));
  const boot = `import(${tsx}).then((tsx) => { tsx.register(); return import(${entry}); })`;
  const writer = new Worker(boot, { eval: true, workerData: { path, tasks: tasks && { module: tasks.module.href, context: tasks.context } } });
  const waiting = new Map<number, { resolve(result: unknown): void; reject(error: unknown): void }>();
  let nextId = 0;
  let failure: Error | null = null;
  const failAll = (error: Error) => {
    failure = error;
    for (const unit of waiting.values()) unit.reject(error);
    waiting.clear();
  };
  writer.on("message", (reply: WriterReply) => {
    const unit = waiting.get(reply.id);
    waiting.delete(reply.id);
    if (waiting.size === 0) writer.unref();
    if ("error" in reply) unit?.reject(rebuiltError(reply.error));
    else unit?.resolve(reply.result);
  });
  writer.on("error", (error) => failAll(error));
  writer.on("exit", () => failAll(failure ?? new Error("The database writer thread has stopped.")));
  // Idle, the thread must not keep the process alive; while a write is pending, it does.
  writer.unref();

  // Units and tasks go over in one message per turn of the event loop, each statement text once
  // (up to a bound, for texts that vary): posting every text with every unit was a fourteenth of
  // a purchase's CPU.
  const textNumbers = new Map<string, number>();
  let outgoing: Extract<WriterRequest, { units: unknown }> | null = null;
  const post = () => {
    if (!outgoing) return;
    writer.postMessage(outgoing);
    outgoing = null;
  };
  const queued = () => {
    if (!outgoing) {
      outgoing = { units: [], tasks: [], texts: [] };
      setImmediate(post);
    }
    return outgoing;
  };
  const send = (add: (request: Extract<WriterRequest, { units: unknown }>, id: number) => void): Promise<unknown> => {
    if (failure) return Promise.reject(failure);
    const id = nextId++;
    add(queued(), id);
    return new Promise((resolve, reject) => {
      if (waiting.size === 0) writer.ref();
      waiting.set(id, { resolve, reject });
    });
  };
  const sendable = (statement: Statement, texts: Array<[number, string]>): SentStatement => {
    const { sql: text, params } = renderStatement(dialect, statement);
    let number = textNumbers.get(text);
    if (number === undefined) {
      if (textNumbers.size >= MAX_NUMBERED_TEXTS) return { text, params };
      textNumbers.set(text, (number = textNumbers.size));
      texts.push([number, text]);
    }
    return { text: number, params };
  };
  return {
    db,
    sqlite,
    driver: "better-sqlite3",
    atomic: (statements) => send((request, id) => request.units.push({ id, statements: statements.map((statement) => sendable(statement, request.texts)) })) as Promise<number[]>,
    // A task is posted at once, not at the end of the turn: it is enough work for the writer to
    // start on while this thread goes on with the turn's other requests.
    ...(tasks && {
      runTask: (name: string, args: unknown) =>
        send((request, id) => {
          request.tasks.push({ id, name, args });
          post();
        }),
    }),
    close: async () => {
      const exited = new Promise((resolve) => writer.once("exit", resolve));
      post();
      writer.postMessage({ close: true } satisfies WriterRequest);
      await exited;
      sqlite.close();
    },
  };
}

/** Applies db/migrations (drizzle-kit's output, the same files wrangler applies to D1). */
export function migrateSqlite(database: SqliteDatabase): void {
  migrate(drizzle(database.sqlite), { migrationsFolder });
}
