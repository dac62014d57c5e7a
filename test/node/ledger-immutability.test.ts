/** Ledger rows never change: the triggers refuse UPDATE and DELETE, and abort the whole unit. */
import { eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { ledgerEntries, ledgerTransactions, lotMovements, members } from "../../db/schema.ts";
import { createTestApp } from "../helpers/app.ts";
import { expectLedgerBalanced, expectStatus, givenCard, givenMember, givenPartner, purchase, scannedCard } from "../helpers/factories.ts";

/** The messages of a failure and its causes (drizzle wraps the driver's error). */
async function failureOf(run: Promise<unknown>): Promise<string> {
  try {
    await run;
  } catch (error) {
    const messages: string[] = [];
    for (let e: unknown = error; e instanceof Error; e = e.cause) messages.push(e.message);
    return messages.join(" <- ");
  }
  throw new Error("expected the unit to fail, but it committed");
}

async function withMovements() {
  const t = await createTestApp();
  const member = await givenMember(t);
  const card = await givenCard(t, member.id);
  const partner = await givenPartner(t);
  await expectStatus(await purchase(t, partner, card, { amountMinor: 50_000 }), 201);
  await expectStatus(await purchase(t, partner, await scannedCard(t, card), { amountMinor: 10_000, redeemPoints: 100 }), 201);
  return { t, member };
}

describe("the ledger on better-sqlite3", () => {
  it.each([
    ["ledger_entries", sql`UPDATE ledger_entries SET points = points + 1`],
    ["ledger_entries", sql`DELETE FROM ledger_entries`],
    ["ledger_transactions", sql`UPDATE ledger_transactions SET description = 'rewritten'`],
    ["ledger_transactions", sql`DELETE FROM ledger_transactions`],
    ["lot_movements", sql`UPDATE lot_movements SET points = 0`],
    ["lot_movements", sql`DELETE FROM lot_movements`],
  ])("refuses to change %s (%#)", async (_table, statement) => {
    const { t } = await withMovements();
    expect(await failureOf(t.database.atomic([statement]))).toMatch(/ledger_immutable/);
    await expectLedgerBalanced(t);
  });

  it("aborts the whole unit when one statement tries to rewrite history", async () => {
    const { t, member } = await withMovements();
    const { db } = t.database;
    const failure = await failureOf(
      t.database.atomic([
        db.update(members).set({ name: "changed" }).where(eq(members.id, member.id)),
        db.delete(ledgerEntries).where(eq(ledgerEntries.account, `member:${member.id}`)),
      ]),
    );
    expect(failure).toMatch(/ledger_immutable/);
    const [row] = await db.select().from(members).where(eq(members.id, member.id));
    expect(row!.name).toBe("김민준");
    expect((await db.select().from(ledgerTransactions)).length).toBe(2);
    expect((await db.select().from(lotMovements)).length).toBe(1);
  });
});
