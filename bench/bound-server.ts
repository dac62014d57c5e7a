/**
 * The ceiling for any durable JSON write on this machine: Hono parses the body and (unless
 * MODE=json) inserts one row with one commit, as synchronous=FULL or NORMAL; MODE=group inserts
 * with synchronous=FULL but commits the rows of one event-loop turn together (group commit), and
 * answers each request after its commit.
 */
import { serve } from "@hono/node-server";
import Database from "better-sqlite3";
import { Hono } from "hono";

const mode = process.env.MODE ?? "full";
const db = new Database(process.env.DATABASE_PATH!);
db.pragma("journal_mode = WAL");
db.pragma(`synchronous = ${mode === "normal" ? "NORMAL" : "FULL"}`);
db.exec("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, body TEXT)");
const insert = db.prepare("INSERT INTO t (body) VALUES (?)");
const insertAll = db.transaction((bodies: string[]) => bodies.forEach((body) => insert.run(body)));

let waiting: Array<{ body: string; done: () => void }> = [];
function groupCommitted(body: string): Promise<void> {
  return new Promise((done) => {
    if (waiting.length === 0) setImmediate(commitWaiting);
    waiting.push({ body, done });
  });
}
function commitWaiting() {
  const group = waiting;
  waiting = [];
  insertAll(group.map((w) => w.body));
  for (const w of group) w.done();
}

const app = new Hono().post("/", async (c) => {
  const body = await c.req.json();
  if (mode === "group") await groupCommitted(JSON.stringify(body));
  else if (mode !== "json") insert.run(JSON.stringify(body));
  return c.json({ ok: true }, 201);
});
serve({ fetch: app.fetch, hostname: "127.0.0.1", port: Number(process.env.PORT) }, () => console.log("ready"));
