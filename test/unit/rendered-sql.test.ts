/**
 * `rendered` writes the statements every purchase runs: the text must bind each value as a
 * parameter (never splice it into the SQL), and nested statements must keep their parameters in order.
 */
import Database from "better-sqlite3";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { rendered, type RenderedStatement } from "../../db/database.ts";

describe("rendered`…`", () => {
  it("binds every value as a parameter, so quotes and SQL in values stay data", () => {
    const name = "O'Brien'); DROP TABLE t; --";
    const statement = rendered`INSERT INTO t (id, name, note) VALUES (${1}, ${name}, ${null})`;
    expect(statement).toEqual({ sql: "INSERT INTO t (id, name, note) VALUES (?, ?, ?)", params: [1, name, null] });
    const db = new Database(":memory:");
    db.exec("CREATE TABLE t (id INTEGER, name TEXT, note TEXT)");
    db.prepare(statement.sql).run(...statement.params);
    expect(db.prepare("SELECT * FROM t").all()).toEqual([{ id: 1, name, note: null }]);
  });

  it("splices nested statements with their parameters in order", () => {
    const inner = rendered`(SELECT x FROM u WHERE a = ${"a"} AND b = ${2})`;
    const outer = rendered`UPDATE t SET v = ${inner} + ${3} WHERE id = ${"id"}`;
    expect(outer).toEqual({ sql: "UPDATE t SET v = (SELECT x FROM u WHERE a = ? AND b = ?) + ? WHERE id = ?", params: ["a", 2, 3, "id"] });
  });

  it("keeps one text per call site, with each call's own values", () => {
    const at = (id: number): RenderedStatement => rendered`SELECT ${id}`;
    const [a, b] = [at(1), at(2)];
    expect(a.sql).toBe(b.sql);
    expect([a.params, b.params]).toEqual([[1], [2]]);
  });

  it("refuses drizzle SQL, which it cannot render", () => {
    expect(() => rendered`SELECT ${sql`1` as unknown as RenderedStatement}`).toThrow(TypeError);
  });
});
