/**
 * createTestApp(): the real app on a fresh in-memory SQLite database with the real migrations,
 * a clock the test moves, logs captured for assertions, and a known admin token.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { migrateSqlite, openSqlite, type SqliteDatabase } from "../../db/sqlite.ts";
import { createApp } from "../../src/app.ts";
import { parseConfig } from "../../src/config.ts";
import { createDeps, type Deps } from "../../src/deps.ts";

export const ADMIN_TOKEN = "test-admin-token-0123456789abcdef";
export const T0 = Date.parse("2026-03-02T09:00:00Z");

export interface TestApp {
  app: ReturnType<typeof createApp>;
  deps: Deps;
  database: SqliteDatabase;
  logs: string[];
  clock: { now: number; advance(ms: number): void };
  /** app.request with JSON in and out, and a bearer token. */
  call(method: string, path: string, opts?: { token?: string | null; body?: unknown; headers?: Record<string, string> }): Promise<Response>;
}

export async function createTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const database = openSqlite(":memory:");
  migrateSqlite(database);
  const clock = {
    now: T0,
    advance(ms: number) {
      clock.now += ms;
    },
  };
  const logs: string[] = [];
  const config = parseConfig({ ADMIN_TOKEN, LOG_LEVEL: "debug", ...env });
  const now = () => clock.now;
  const deps = createDeps({ config, database, clock: now, logWriter: (line) => logs.push(line) });
  await deps.keys.ensure();
  const app = createApp(deps);
  return { app, deps, database, logs, clock, call: callerOf(app, deps) };
}

/** app.request with JSON in and out, and a bearer token (the admin's unless given; none when null). */
function callerOf(app: TestApp["app"], deps: Deps): TestApp["call"] {
  return (method, path, opts = {}) => {
    const headers: Record<string, string> = { ...opts.headers };
    const token = opts.token === undefined ? ADMIN_TOKEN : opts.token;
    if (token) headers.authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (opts.body !== undefined) {
      headers["content-type"] ??= "application/json";
      body = typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
    }
    // What runs after the response (a sign-in code's delivery) has run when the call resolves.
    return Promise.resolve(app.request(path, { method, headers, body })).then(async (res) => {
      await deps.background.idle();
      return res;
    });
  };
}

/**
 * The app as the Node server opens its database (src/node.ts): a file in a temporary folder,
 * written through the writer thread, which runs the point movements; both threads keep real time.
 * close() stops the thread and removes the folder.
 */
export async function createServerTestApp(): Promise<TestApp & { moved: string[]; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "dangol-app-"));
  const path = join(dir, "dangol.db");
  const config = parseConfig({ ADMIN_TOKEN, LOG_LEVEL: "silent", DATABASE_PATH: path });
  const migrated = openSqlite(path);
  migrateSqlite(migrated);
  await migrated.close();
  const database = openSqlite(path, { writerThread: true, writerTasks: { module: new URL("../../src/writer-tasks.ts", import.meta.url), context: { config } } });
  // The movements posted to the writer thread, by name, as the server posts them (src/node.ts).
  const moved: string[] = [];
  const writer = { run: (name: string, args: unknown) => (moved.push(name), database.runTask!(name, args)) };
  const deps = createDeps({ config, database, writer });
  await deps.keys.ensure();
  const app = createApp(deps);
  return {
    app,
    deps,
    database,
    moved,
    logs: [],
    clock: { now: Date.now(), advance: () => {} },
    call: callerOf(app, deps),
    close: async () => {
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

