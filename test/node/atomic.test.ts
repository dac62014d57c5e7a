/** database.atomic(): a list of statements commits whole or not at all (better-sqlite3 side). */
import { count, eq, sql } from "drizzle-orm";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isConstraintViolation } from "../../db/database.ts";
import { openSqlite, migrateSqlite, type SqliteDatabase } from "../../db/sqlite.ts";
import { cards, memberBalances, members } from "../../db/schema.ts";
import { T0 } from "../helpers/app.ts";

const opened: Array<{ database: SqliteDatabase; dir?: string }> = [];
afterEach(async () => {
  for (const { database, dir } of opened.splice(0)) {
    await database.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
});

// The server writes through a writer thread; tests and tools write in-process. Both must behave alike.
const modes = {
  "in process": () => ({ database: openSqlite(":memory:") }),
  "through the writer thread": () => {
    const dir = mkdtempSync(join(tmpdir(), "dangol-writer-"));
    return { database: openSqlite(join(dir, "writer.db"), { writerThread: true }), dir };
  },
};
let open: () => { database: SqliteDatabase; dir?: string } = modes["in process"];

function freshDatabase() {
  const handle = open();
  opened.push(handle);
  migrateSqlite(handle.database);
  return handle.database;
}

const member = (id: string, email: string) => ({ id, name: "테스트", email, createdAt: T0, updatedAt: T0 });

async function countMembers(database: ReturnType<typeof freshDatabase>) {
  const [row] = await database.db.select({ n: count() }).from(members);
  return row!.n;
}

describe.each(Object.keys(modes) as Array<keyof typeof modes>)("atomic units on better-sqlite3, %s", (mode) => {
  beforeEach(() => {
    open = modes[mode];
  });

  it("commits every statement of a valid list", async () => {
    const database = freshDatabase();
    const { db } = database;
    await database.atomic([
      db.insert(members).values(member("mem_a", "a@example.com")),
      db.insert(memberBalances).values({ memberId: "mem_a", available: 10, updatedAt: T0 }),
      db.insert(cards).values({ id: "crd_a", memberId: "mem_a", number: "9410000000000018", status: "active", issuedAt: T0, statusChangedAt: T0 }),
    ]);
    expect(await countMembers(database)).toBe(1);
    const [balance] = await db.select().from(memberBalances).where(eq(memberBalances.memberId, "mem_a"));
    expect(balance!.available).toBe(10);
  });

  it("rolls back the whole list when a later statement breaks a CHECK", async () => {
    const database = freshDatabase();
    const { db } = database;
    await expect(
      database.atomic([
        db.insert(members).values(member("mem_b", "b@example.com")),
        db.insert(memberBalances).values({ memberId: "mem_b", available: -1, updatedAt: T0 }),
      ]),
    ).rejects.toThrow(/CHECK constraint failed/);
    expect(await countMembers(database)).toBe(0);
  });

  it("rolls back the whole list when a later statement breaks a UNIQUE", async () => {
    const database = freshDatabase();
    const { db } = database;
    await database.atomic([db.insert(members).values(member("mem_c", "c@example.com"))]);
    await expect(
      database.atomic([
        db.insert(members).values(member("mem_d", "d@example.com")),
        db.update(members).set({ name: "changed" }).where(eq(members.id, "mem_c")),
        db.insert(members).values(member("mem_e", "c@example.com")),
      ]),
    ).rejects.toThrow(/UNIQUE constraint failed/);
    expect(await countMembers(database)).toBe(1);
    const [c] = await db.select().from(members).where(eq(members.id, "mem_c"));
    expect(c!.name).toBe("테스트");
  });

  it("lets a guard in SQL decide a race: one active card per member", async () => {
    const database = freshDatabase();
    const { db } = database;
    await database.atomic([db.insert(members).values(member("mem_f", "f@example.com"))]);
    const card = (id: string, number: string) => db.insert(cards).values({ id, memberId: "mem_f", number, status: "active", issuedAt: T0, statusChangedAt: T0 });
    const results = await Promise.allSettled([database.atomic([card("crd_1", "9410000000000026")]), database.atomic([card("crd_2", "9410000000000034")])]);
    expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
    const lost = results.find((r) => r.status === "rejected")!;
    // Services tell a lost race from a fault by the constraint named in the failure.
    expect(isConstraintViolation(lost.reason, "UNIQUE", "cards.member_id")).toBe(true);
    const [row] = await db.select({ n: count() }).from(cards);
    expect(row!.n).toBe(1);
  });

  it("commits what was queued before the database is closed, and reports the rows each statement changed", async () => {
    const handle = open();
    migrateSqlite(handle.database);
    const { db } = handle.database;
    const writes = Array.from({ length: 50 }, (_, i) => handle.database.atomic([db.insert(members).values(member(`mem_q${i}`, `q${i}@example.com`))]));
    const renamed = handle.database.atomic([db.update(members).set({ name: "바뀜" }).where(eq(members.name, "테스트"))]);
    await handle.database.close();
    expect(await Promise.all(writes)).toEqual(Array.from({ length: 50 }, () => [1]));
    expect(await renamed).toEqual([50]);
    if (handle.dir) {
      const again = openSqlite(join(handle.dir, "writer.db"));
      opened.push({ database: again, dir: handle.dir });
      expect(await countMembers(again)).toBe(50);
    }
  });

  it("settles each of many units sent at once on its own, past the 10,000 statement texts the writer keeps", async () => {
    const database = freshDatabase();
    const { db } = database;
    await database.atomic([db.insert(members).values(member("mem_a", "a@example.com")), db.insert(memberBalances).values({ memberId: "mem_a", available: 0, updatedAt: T0 })]);
    // 201 units of 50 statements, every statement's text different (10,050 texts); unit 100 overdraws.
    const add = (points: number, k: number) => sql.raw(`UPDATE member_balances SET available = available + ${points} WHERE member_id = 'mem_a' AND ${k} >= 0`);
    const units = Array.from({ length: 201 }, (_, u) =>
      database.atomic(Array.from({ length: 50 }, (_, s) => add(u === 100 && s === 49 ? -1_000_000 : 1, u * 50 + s))),
    );
    const outcomes = await Promise.allSettled(units);
    expect(outcomes.filter((o) => o.status === "rejected")).toHaveLength(1);
    expect(outcomes[100]!.status).toBe("rejected");
    expect(isConstraintViolation((outcomes[100] as PromiseRejectedResult).reason, "CHECK")).toBe(true);
    expect(outcomes.filter((o) => o.status === "fulfilled").every((o) => (o as PromiseFulfilledResult<number[]>).value.every((changes) => changes === 1))).toBe(true);
    const [balance] = await db.select().from(memberBalances).where(eq(memberBalances.memberId, "mem_a"));
    expect(balance!.available).toBe(200 * 50);
  });

  it("opens files with the durability settings the ledger relies on", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dangol-atomic-"));
    const database = openSqlite(join(dir, "pragmas.db"));
    try {
      expect(database.sqlite.pragma("journal_mode", { simple: true })).toBe("wal");
      expect(database.sqlite.pragma("synchronous", { simple: true })).toBe(2); // FULL
      expect(database.sqlite.pragma("foreign_keys", { simple: true })).toBe(1);
      expect(database.sqlite.pragma("busy_timeout", { simple: true })).toBeGreaterThan(0);
    } finally {
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
