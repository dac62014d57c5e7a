/**
 * The ceiling for any durable JSON write on this machine: Hono parses the body and (unless
 * MODE=json) inserts one row with one commit, as synchronous=FULL or NORMAL.
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
const app = new Hono().post("/", async (c) => {
  const body = await c.req.json();
  if (mode !== "json") insert.run(JSON.stringify(body));
  return c.json({ ok: true }, 201);
});
serve({ fetch: app.fetch, hostname: "127.0.0.1", port: Number(process.env.PORT) }, () => console.log("ready"));
