/**
 * `atomic(statements)` on D1 is one batch(): D1 runs it as one implicit transaction, so a
 * statement that violates a CHECK or a UNIQUE rolls back everything before it in the list.
 * The write paths rely on this instead of interactive transactions, which D1 does not have.
 */
import { env } from "cloudflare:workers";
import { count, eq, inArray } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { openD1 } from "../../db/d1.ts";
import type { Database } from "../../db/database.ts";
import { auditLog, cards, memberBalances, members } from "../../db/schema.ts";
import { unique, uniqueEmail } from "./client.ts";

let database: Database;

beforeAll(() => {
  database = openD1(env.DB);
  expect(database.driver).toBe("d1");
});

const now = () => Date.now();

function memberRow(overrides: Partial<typeof members.$inferInsert> = {}): typeof members.$inferInsert {
  const t = now();
  return { id: `mem_${unique()}`, name: "Atomic Test", email: uniqueEmail("atomic"), createdAt: t, updatedAt: t, ...overrides };
}

/** A 16-digit number no other test uses (cards.number is UNIQUE; the Luhn digit does not matter to SQL). */
function cardNumber(): string {
  return `99${String(Math.floor(Math.random() * 1e14)).padStart(14, "0")}`;
}

function cardRow(memberId: string, overrides: Partial<typeof cards.$inferInsert> = {}): typeof cards.$inferInsert {
  const t = now();
  return { id: `card_${unique()}`, memberId, number: cardNumber(), status: "active", issuedAt: t, statusChangedAt: t, ...overrides };
}

async function membersWithIds(ids: string[]): Promise<number> {
  const [row] = await database.db.select({ n: count() }).from(members).where(inArray(members.id, ids));
  return row?.n ?? -1;
}

async function totals() {
  const { db } = database;
  const [m] = await db.select({ n: count() }).from(members);
  const [b] = await db.select({ n: count() }).from(memberBalances);
  const [c] = await db.select({ n: count() }).from(cards);
  const [a] = await db.select({ n: count() }).from(auditLog);
  return { members: m?.n, balances: b?.n, cards: c?.n, audit: a?.n };
}

/**
 * Runs the list and returns String(error) of what it threw (or fails the test if it committed).
 * The top-level text matters: services map a lost race to a 409 by looking for "UNIQUE" in it.
 * (A single drizzle query on D1 would throw a DrizzleQueryError whose text is only the SQL, with
 * the D1 message in `cause`; a batch throws D1's own error.)
 */
async function failureOf(run: Promise<unknown>): Promise<string> {
  try {
    await run;
  } catch (error) {
    return String(error);
  }
  throw new Error("expected the atomic list to fail, but it committed");
}

describe("atomic() on D1", () => {
  it("commits every statement of a valid list", async () => {
    const { db } = database;
    const before = await totals();
    const a = memberRow();
    const b = memberRow();
    const t = now();
    const card = cardRow(a.id!);
    const changes = await database.atomic([
      db.insert(members).values(a),
      db.insert(memberBalances).values({ memberId: a.id!, available: 120, updatedAt: t }),
      db.insert(members).values(b),
      db.insert(memberBalances).values({ memberId: b.id!, updatedAt: t }),
      db.insert(cards).values(card),
      db.update(memberBalances).set({ available: 100 }).where(eq(memberBalances.memberId, a.id!)),
    ]);
    expect(changes).toEqual([1, 1, 1, 1, 1, 1]);
    expect(await membersWithIds([a.id!, b.id!])).toBe(2);
    const [balance] = await db.select().from(memberBalances).where(eq(memberBalances.memberId, a.id!));
    expect(balance).toMatchObject({ available: 100, pending: 0 });
    const [stored] = await db.select().from(cards).where(eq(cards.number, card.number));
    expect(stored?.memberId).toBe(a.id);
    const after = await totals();
    expect(after).toEqual({ ...before, members: before.members! + 2, balances: before.balances! + 2, cards: before.cards! + 1 });
  });

  it("an empty list is a no-op", async () => {
    const before = await totals();
    await database.atomic([]);
    expect(await totals()).toEqual(before);
  });

  it("a CHECK violation (available = -1) late in the list rolls back the earlier inserts", async () => {
    const { db } = database;
    const before = await totals();
    const a = memberRow();
    const b = memberRow();
    const t = now();
    const failure = await failureOf(
      database.atomic([
        db.insert(members).values(a),
        db.insert(memberBalances).values({ memberId: a.id!, updatedAt: t }),
        db.insert(members).values(b),
        db.insert(cards).values(cardRow(a.id!)),
        db.insert(memberBalances).values({ memberId: b.id!, available: -1, updatedAt: t }),
      ]),
    );
    expect(failure).toMatch(/CHECK constraint failed/);
    expect(await membersWithIds([a.id!, b.id!])).toBe(0);
    expect(await totals()).toEqual(before);
  });

  it("a CHECK violation in an UPDATE (an overdraft) rolls back the earlier writes", async () => {
    const { db } = database;
    const a = memberRow();
    const t = now();
    await database.atomic([db.insert(members).values(a), db.insert(memberBalances).values({ memberId: a.id!, available: 50, updatedAt: t })]);
    const before = await totals();
    const other = memberRow();
    const failure = await failureOf(
      database.atomic([
        db.insert(members).values(other),
        db.update(memberBalances).set({ available: 10 }).where(eq(memberBalances.memberId, a.id!)),
        db.update(memberBalances).set({ available: -5 }).where(eq(memberBalances.memberId, a.id!)),
      ]),
    );
    expect(failure).toMatch(/CHECK constraint failed/);
    const [balance] = await db.select().from(memberBalances).where(eq(memberBalances.memberId, a.id!));
    expect(balance?.available).toBe(50);
    expect(await membersWithIds([other.id!])).toBe(0);
    expect(await totals()).toEqual(before);
  });

  it("a UNIQUE violation (duplicate members.email) late in the list rolls back the earlier inserts", async () => {
    const { db } = database;
    const existing = memberRow();
    await database.atomic([db.insert(members).values(existing)]);
    const before = await totals();
    const a = memberRow();
    const clash = memberRow({ email: existing.email });
    const t = now();
    const failure = await failureOf(
      database.atomic([
        db.insert(members).values(a),
        db.insert(memberBalances).values({ memberId: a.id!, updatedAt: t }),
        db.insert(cards).values(cardRow(a.id!)),
        db.insert(members).values(clash),
      ]),
    );
    // The services turn this into member_exists by looking for "UNIQUE" in the error text.
    expect(failure).toMatch(/UNIQUE constraint failed: members\.email/);
    expect(await membersWithIds([a.id!, clash.id!])).toBe(0);
    expect(await membersWithIds([existing.id!])).toBe(1);
    expect(await totals()).toEqual(before);
  });

  it("a UNIQUE violation (duplicate cards.number) late in the list rolls back the earlier inserts", async () => {
    const { db } = database;
    const owner = memberRow();
    const taken = cardRow(owner.id!);
    await database.atomic([db.insert(members).values(owner), db.insert(cards).values(taken)]);
    const before = await totals();
    const a = memberRow();
    const t = now();
    const failure = await failureOf(
      database.atomic([
        db.insert(members).values(a),
        db.insert(memberBalances).values({ memberId: a.id!, updatedAt: t }),
        db.insert(cards).values(cardRow(a.id!, { number: taken.number })),
      ]),
    );
    expect(failure).toMatch(/UNIQUE constraint failed: cards\.number/);
    expect(await membersWithIds([a.id!])).toBe(0);
    expect(await totals()).toEqual(before);
  });

  it("a FOREIGN KEY violation (D1 enforces them) rolls back the earlier inserts", async () => {
    const { db } = database;
    const before = await totals();
    const a = memberRow();
    const failure = await failureOf(
      database.atomic([
        db.insert(members).values(a),
        db.insert(memberBalances).values({ memberId: a.id!, updatedAt: now() }),
        db.insert(cards).values(cardRow(`mem_missing_${unique()}`)),
      ]),
    );
    expect(failure).toMatch(/FOREIGN KEY constraint failed/);
    expect(await membersWithIds([a.id!])).toBe(0);
    expect(await totals()).toEqual(before);
  });

  it("the partial unique index (one active card per member) rolls back the whole list", async () => {
    const { db } = database;
    const owner = memberRow();
    await database.atomic([db.insert(members).values(owner), db.insert(cards).values(cardRow(owner.id!))]);
    const before = await totals();
    const blocked = cardRow(owner.id!, { status: "blocked" });
    const failure = await failureOf(
      database.atomic([db.insert(cards).values(blocked), db.insert(cards).values(cardRow(owner.id!))]),
    );
    expect(failure).toMatch(/UNIQUE constraint failed: cards\.member_id/);
    const [row] = await db.select({ n: count() }).from(cards).where(eq(cards.id, blocked.id!));
    expect(row?.n).toBe(0);
    expect(await totals()).toEqual(before);
  });
});
